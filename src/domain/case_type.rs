use super::named_enum;

#[derive(sea_orm::DeriveValueType)]
#[sea_orm(value_type = "String")]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CaseType {
    Query,
    Request,
    Bug,
    SiteRefresh,
}

named_enum!(CaseType, "a case type", {
    Query => "Query",
    Request => "Request",
    Bug => "Bug",
    SiteRefresh => "Site refresh",
});
