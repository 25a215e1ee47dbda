//! OAuth2 for the mailboxes and the outbound relay (Microsoft 365, Google Workspace, or any
//! provider by its endpoints): which endpoints and scopes each provider wants (`provider`),
//! the tokens sealed at rest (`seal`, `store`), the token endpoint's requests (`endpoint`),
//! and the one way a connection gets a current access token (`tokens`), which stores a
//! rotated refresh token in its own committed transaction before the new access token is used.

pub mod endpoint;
pub mod http;
pub mod pkce;
pub mod provider;
pub mod sasl;
pub mod seal;
pub mod store;
pub mod tokens;

pub use provider::{Endpoints, Grant, OAuth2Config, Provider, Use};
pub use seal::{Key, SealError, load_key};
pub use tokens::{TokenError, TokenStore, access_token, desk_token};
