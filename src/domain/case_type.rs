use super::named_enum;

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
