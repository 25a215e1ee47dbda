//! supportd: a support desk that runs over email.
//!
//! The way of a message is the way of the modules: `ingest -> cases::intake (threading) -> outbound`;
//! all of them read mail through `mail` (the parsed message), which depends on none of them;
//! `scheduler -> sla -> cases -> outbound`. Nothing below calls back up.

pub mod agents;
pub mod app;
pub mod budget;
pub mod cases;
pub mod cli;
pub mod config;
pub mod desk;
pub mod domain;
pub mod health;
pub mod ingest;
pub mod mail;
pub mod metrics;
pub mod oauth;
pub mod outbound;
pub mod panics;
pub mod reports;
pub mod scheduler;
pub mod service;
pub mod sla;
pub mod storage;
pub mod teams;
pub mod templates;
pub mod threading;
pub mod web;
