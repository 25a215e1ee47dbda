use sea_orm::entity::prelude::*;

/// A digest of held people's mail sent to the agents (the ledger's head): at most one an hour.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "held_digests")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    /// The digest before this one (0 for the first): unique, so that of two instances that
    /// read the same last digest only one writes the next.
    pub previous_id: i64,
    pub sent_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
