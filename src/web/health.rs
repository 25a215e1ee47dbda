//! `/healthz`: the process answers.

pub async fn healthz() -> &'static str {
    "ok\n"
}
