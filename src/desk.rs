//! What every part of a running supportd shares: configuration, database, templates, clock.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use sea_orm::DatabaseConnection;

use crate::config::Config;
use crate::templates::Templates;

/// The source of "now", injected so SLA tests never sleep.
pub trait Clock: Send + Sync {
    fn now(&self) -> DateTime<Utc>;
}

pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// A clock stopped at one instant: `SUPPORTD_NOW=2026-11-20T10:00:00Z supportd run --once`
/// replays intake and a scheduler tick as of that time (tests, and working out what an alert
/// would have said).
pub struct FixedClock(pub DateTime<Utc>);

impl Clock for FixedClock {
    fn now(&self) -> DateTime<Utc> {
        self.0
    }
}

/// The clock named by `SUPPORTD_NOW`, or the system's.
pub fn clock_from_env() -> Result<Arc<dyn Clock>, String> {
    match std::env::var("SUPPORTD_NOW") {
        Err(_) => Ok(Arc::new(SystemClock)),
        Ok(text) => DateTime::parse_from_rfc3339(&text)
            .map(|t| Arc::new(FixedClock(t.with_timezone(&Utc))) as Arc<dyn Clock>)
            .map_err(|e| format!("SUPPORTD_NOW={text:?}: {e} (expected e.g. 2026-11-20T10:00:00Z)")),
    }
}

#[derive(Clone)]
pub struct Desk {
    pub config: Arc<Config>,
    pub db: DatabaseConnection,
    pub templates: Arc<Templates>,
    pub clock: Arc<dyn Clock>,
    /// Company ids by slug, synced from `[[company]]` at start-up.
    pub company_ids: Arc<HashMap<String, i64>>,
}

impl Desk {
    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }
}
