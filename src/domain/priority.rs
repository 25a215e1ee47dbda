use super::named_enum;

/// The team's own ordering of work; separate from severity, which is the customer's impact.
#[derive(sea_orm::DeriveValueType)]
#[sea_orm(value_type = "String")]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Priority {
    Low,
    Normal,
    High,
    Urgent,
}

named_enum!(Priority, "a priority", { Low => "low", Normal => "normal", High => "high", Urgent => "urgent" });
