//! Which case a message belongs to: the case tag in the subject, then In-Reply-To and
//! References, else a new case.

mod lookup;
mod quote;
mod subject;

pub use lookup::{Thread, case_for_agent, resolve};
pub use quote::new_text;
pub use subject::clean_subject;
