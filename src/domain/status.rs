use super::named_enum;

#[derive(sea_orm::DeriveValueType)]
#[sea_orm(value_type = "String")]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Status {
    New,
    Open,
    /// Waiting on the customer: the resolution clock is paused.
    Pending,
    Resolved,
    Closed,
}

named_enum!(Status, "a status", {
    New => "new",
    Open => "open",
    Pending => "pending",
    Resolved => "resolved",
    Closed => "closed",
});
