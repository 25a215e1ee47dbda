//! The case service: the only writer of cases. Every request comes in through `intake`;
//! the rest opens cases, adds messages, records events and changes fields.

mod change;
mod choice;
mod company;
mod events;
mod fields;
pub mod intake;
mod members;
mod open;
mod parties;
mod readers;
mod sla_view;
mod standing;
mod time;
mod trail;
mod urgency;
mod view;

pub use crate::sla::Classification;
pub use change::{reclassify, record_response, set_next_alert, set_status};
pub use choice::{Choice, read_choice};
pub use company::{Companies, assign_by_route, route_of};
pub use events::{Actor, record_event};
pub use fields::{FieldChange, set_field};
pub use members::{
    Door, MemberError, Membership, StoredMember, add_member, config_member, config_membership, door, is_stored_member,
    membership_in, named_member, named_member_of, remove_member, stored_members,
};
pub use open::{
    AgentMark, Arrival, CcRule, NewCase, append_message, closed_too_long, open_case, store_agent_message,
    store_crm_note, store_message, store_team_note,
};
pub use parties::{
    NewContact, add_contacts, company_config_for, company_for_sender, contacts_by_email, party_addresses,
    settle_contact, sync_companies,
};
pub use readers::{Reader, Readers, readers};
pub use sla_view::{SlaLine, sla_lines, sla_page, sla_status};
pub use standing::{Judge, Standing};
pub use time::{add_time, rates};
pub use trail::{EventView, actor_name, named_address};
pub use urgency::{
    Cursor, LiveSections, SOON_MINUTES, Section, SectionCounts, UrgentPage, live_sections, rank, section_counts,
    urgent_page,
};
pub use view::{
    CaseDetail, CaseView, CasesPage, MessageView, SentView, Window, by_number, count_cases, list_cases,
    list_cases_page, show_case,
};
