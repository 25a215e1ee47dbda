//! The case service: the only writer of cases. Opens cases, adds messages, records events.

mod change;
mod company;
mod events;
mod fields;
mod open;
mod parties;
mod readers;
mod time;
mod view;

pub use change::{Classification, reclassify, record_response, set_status};
pub use company::company_of;
pub use events::{Actor, record_event};
pub use fields::{FieldChange, set_field};
pub use open::{
    AgentMark, Arrival, NewCase, append_message, closed_too_long, open_case, store_agent_message, store_message,
};
pub use parties::{company_for_sender, contact_for, sync_companies};
pub use readers::{Reader, Readers, readers};
pub use time::{add_time, rates};
pub use view::{CaseDetail, CaseView, EventView, MessageView, SlaLine, list_cases, show_case, sla_status};
