//! Escalations end to end with a controllable clock (SUPPORTD_NOW; no real waiting): an S2
//! case gets its 75% warning, its 15-minute warning and its breach alert, each once, with the
//! right recipients; an answered case gets none; a pending case does not breach its
//! resolution target while paused.

use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use supportd::cases::{Actor, record_response, set_status};
use supportd::domain::Status;
use supportd::storage::{begin_write, entities::case};

use crate::support::smtp::header;
use crate::support::{Backend, Sandbox, customer_mail};

/// S2 cases; an escalation address; mail "received" Thursday 19 November 2026 15:00 London.
async fn desk_with_s2_case() -> Sandbox {
    let sandbox = Sandbox::new(Backend::Sqlite).await;
    sandbox.edit_config(|c| {
        c.replace("default_severity = \"S3\"", "default_severity = \"S2\"")
            .replace("escalation_email = \"support-lead@example.com\"", "escalation_email = \"lead@example.com\"")
    });
    sandbox.deliver_at("1.eml", &customer_mail(1, "Printer offline"), "2026-11-19T15:00:00Z");
    run_at(&sandbox, "2026-11-19T15:01:00Z");
    sandbox
}

fn at(s: &str) -> DateTime<Utc> {
    s.parse().unwrap()
}

fn run_at(sandbox: &Sandbox, now: &str) {
    let out = sandbox.cmd(&["run", "--once"]).env("SUPPORTD_NOW", now).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}

/// The alerts written by the file transport: (subject, recipients' addresses).
fn alerts(sandbox: &Sandbox) -> Vec<(String, String)> {
    sandbox
        .outbox_messages()
        .iter()
        .filter(|m| header(m, "Auto-Submitted").as_deref() == Some("auto-generated"))
        .map(|m| (header(m, "Subject").unwrap(), addresses(&header(m, "To").unwrap())))
        .collect()
}

/// `"Alice Smith" <alice@example.com>, lead@example.com` -> `alice@example.com, lead@example.com`.
fn addresses(to: &str) -> String {
    let one = |a: &str| a.rsplit_once('<').map_or(a, |(_, rest)| rest.trim_end_matches('>')).trim().to_owned();
    to.split(',').map(one).collect::<Vec<_>>().join(", ")
}

/// (target, state) of case 1 from `sla status --format json` as of `now`.
fn states(sandbox: &Sandbox, now: &str) -> Vec<(String, String)> {
    let out = sandbox.cmd(&["sla", "status", "--format", "json"]).env("SUPPORTD_NOW", now).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let lines: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap();
    let sla = lines.iter().find(|l| l["number"] == "000001").map(|l| l["sla"].clone()).unwrap_or_default();
    sla.as_array()
        .map(|a| {
            a.iter().map(|t| (t["target"].as_str().unwrap().into(), t["state"].as_str().unwrap().into())).collect()
        })
        .unwrap_or_default()
}

fn pairs(v: &[(&str, &str)]) -> Vec<(String, String)> {
    v.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect()
}

async fn desk(sandbox: &Sandbox) -> supportd::desk::Desk {
    let config = supportd::config::Config::load(&sandbox.path("daemon.toml")).unwrap();
    let templates = supportd::templates::Templates::load(&config.templates_dir).unwrap();
    supportd::app::open_desk(config, templates).await.unwrap()
}

async fn case_one(desk: &supportd::desk::Desk) -> case::Model {
    case::Entity::find().filter(case::Column::Number.eq(1)).one(&desk.db).await.unwrap().unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn an_s2_case_gets_each_warning_and_its_breach_once() {
    let sandbox = desk_with_s2_case().await;
    // Respond within 4 business hours: due Friday 11:00; 75% at 10:00; 15 minutes left at 10:45.
    run_at(&sandbox, "2026-11-20T09:59:00Z");
    assert!(alerts(&sandbox).is_empty(), "nothing before 75%");
    assert_eq!(states(&sandbox, "2026-11-20T09:59:00Z"), pairs(&[("respond", "ok"), ("resolve", "ok")]));
    for now in ["2026-11-20T10:00:00Z", "2026-11-20T10:10:00Z"] {
        run_at(&sandbox, now);
    }
    assert_eq!(states(&sandbox, "2026-11-20T10:10:00Z"), pairs(&[("respond", "warned"), ("resolve", "ok")]));
    run_at(&sandbox, "2026-11-20T10:45:00Z");
    run_at(&sandbox, "2026-11-20T11:00:00Z");
    run_at(&sandbox, "2026-11-20T11:30:00Z");
    assert_eq!(states(&sandbox, "2026-11-20T11:30:00Z"), pairs(&[("respond", "breached"), ("resolve", "ok")]));
    let got = alerts(&sandbox);
    let subjects = |to: &str| -> Vec<String> { got.iter().filter(|(_, t)| t == to).map(|(s, _)| s.clone()).collect() };
    let each = [
        "[Case #000001] S2: first response due in 1 h (75% of the target used) - Printer offline",
        "[Case #000001] S2: first response due in 15 min - Printer offline",
        "[Case #000001] S2: first response target breached - Printer offline",
    ];
    // Warnings to each agent and, in a mail of its own, the company's CRM; the breach also to
    // the escalation address, in a mail of its own (an agent's copy is theirs to answer).
    assert_eq!(subjects("alice@example.com"), each);
    assert_eq!(subjects("lead@example.com"), each[2..]);
    assert_eq!(subjects("carol@example.com"), each);
    assert_eq!(got.len(), 7, "{got:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn after_downtime_one_email_names_the_most_severe_alert() {
    let sandbox = desk_with_s2_case().await;
    run_at(&sandbox, "2026-11-20T12:00:00Z");
    let subjects: Vec<String> = alerts(&sandbox).into_iter().map(|(s, _)| s).collect();
    let breach = "[Case #000001] S2: first response target breached, overdue by 1 h - Printer offline";
    assert_eq!(subjects, [breach, breach, breach], "Alice's, the escalation address's and the CRM's");
    run_at(&sandbox, "2026-11-20T12:05:00Z");
    assert_eq!(alerts(&sandbox).len(), 3, "the warnings were recorded with it, not sent later");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_answered_case_gets_no_warning() {
    let sandbox = desk_with_s2_case().await;
    let desk = desk(&sandbox).await;
    let txn = begin_write(&desk.db).await.unwrap();
    let agent = Actor::Agent("alice@example.com".parse().unwrap());
    record_response(&txn, &case_one(&desk).await, &agent, at("2026-11-19T16:00:00Z")).await.unwrap();
    txn.commit().await.unwrap();
    for now in ["2026-11-20T10:00:00Z", "2026-11-20T10:45:00Z", "2026-11-20T11:00:00Z"] {
        run_at(&sandbox, now);
    }
    assert!(alerts(&sandbox).is_empty(), "{:?}", alerts(&sandbox));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_pending_case_does_not_breach_its_resolution_target_while_paused() {
    let sandbox = desk_with_s2_case().await;
    let desk = desk(&sandbox).await;
    let agent = Actor::Agent("alice@example.com".parse().unwrap());
    // Answered at once, then waiting on the customer from Thursday 16:00.
    let txn = begin_write(&desk.db).await.unwrap();
    record_response(&txn, &case_one(&desk).await, &agent, at("2026-11-19T15:30:00Z")).await.unwrap();
    let c = case_one(&desk).await;
    txn.commit().await.unwrap();
    let txn = begin_write(&desk.db).await.unwrap();
    set_status(&txn, &desk.config, &c, Status::Pending, &agent, at("2026-11-19T16:00:00Z")).await.unwrap();
    txn.commit().await.unwrap();
    // Resolve within 2 business days: due Monday 15:00 had the clock kept running.
    run_at(&sandbox, "2026-11-24T12:00:00Z");
    assert!(alerts(&sandbox).is_empty(), "paused: {:?}", alerts(&sandbox));
    assert_eq!(states(&sandbox, "2026-11-24T12:00:00Z"), pairs(&[("respond", "met"), ("resolve", "paused")]));

    // Back to open on Tuesday 24th at 12:00.
    let txn = begin_write(&desk.db).await.unwrap();
    let reopened =
        set_status(&txn, &desk.config, &case_one(&desk).await, Status::Open, &agent, at("2026-11-24T12:00:00Z"))
            .await
            .unwrap();
    txn.commit().await.unwrap();
    // Paused Thursday 16:00 with 15 business hours left: due again 15 hours after Tuesday 12:00.
    assert_eq!(reopened.resolution_due, Some(at("2026-11-26T11:00:00Z")));
}

/// A customer who writes again after the case was resolved starts its SLA afresh from that
/// message: both targets due from then, and the warnings reckoned from then, so none is
/// sent at once for a clock that began days earlier.
#[tokio::test(flavor = "multi_thread")]
async fn a_reply_to_a_resolved_case_starts_both_targets_afresh() {
    let sandbox = desk_with_s2_case().await;
    let desk = desk(&sandbox).await;
    let agent = Actor::Agent("alice@example.com".parse().unwrap());
    let txn = begin_write(&desk.db).await.unwrap();
    record_response(&txn, &case_one(&desk).await, &agent, at("2026-11-19T15:30:00Z")).await.unwrap();
    txn.commit().await.unwrap();
    let txn = begin_write(&desk.db).await.unwrap();
    set_status(&txn, &desk.config, &case_one(&desk).await, Status::Resolved, &agent, at("2026-11-19T16:00:00Z"))
        .await
        .unwrap();
    txn.commit().await.unwrap();

    // Monday 30 November, 10:00: "it is broken again".
    let again = String::from_utf8(customer_mail(7, "Re: [Case #000001] Printer offline"))
        .unwrap()
        .replace("customer7@acme.example", "customer1@acme.example");
    sandbox.deliver_at("again.eml", again.as_bytes(), "2026-11-30T10:00:00Z");
    run_at(&sandbox, "2026-11-30T10:01:00Z");
    let c = case_one(&desk).await;
    assert_eq!(c.status, Status::Open);
    assert_eq!(c.sla_started_at, at("2026-11-30T10:00:00Z"));
    assert_eq!(c.first_response_due, Some(at("2026-11-30T14:00:00Z")), "4 business hours from the reply");
    assert_eq!(c.resolution_due, Some(at("2026-12-02T10:00:00Z")), "2 business days from the reply");
    assert!(alerts(&sandbox).is_empty(), "no warning at once: {:?}", alerts(&sandbox));
    assert_eq!(states(&sandbox, "2026-11-30T10:01:00Z"), pairs(&[("respond", "ok"), ("resolve", "ok")]));
    // 75% of the new response target: Monday 13:00.
    run_at(&sandbox, "2026-11-30T13:00:00Z");
    assert_eq!(states(&sandbox, "2026-11-30T13:00:00Z"), pairs(&[("respond", "warned"), ("resolve", "ok")]));
}

/// Two daemons ticking at the same moment on one PostgreSQL database: each alert once.
#[tokio::test(flavor = "multi_thread")]
async fn two_daemons_on_postgres_send_each_alert_once() {
    let sandbox = Sandbox::new(Backend::Postgres).await;
    sandbox.edit_config(|c| c.replace("default_severity = \"S3\"", "default_severity = \"S2\""));
    for n in 0..20 {
        sandbox.deliver_at(&format!("{n}.eml"), &customer_mail(n, &format!("Request {n}")), "2026-11-19T15:00:00Z");
    }
    run_at(&sandbox, "2026-11-19T15:01:00Z");
    for now in ["2026-11-20T10:00:00Z", "2026-11-20T10:45:00Z", "2026-11-20T11:00:00Z"] {
        let both: Vec<_> = (0..2)
            .map(|_| {
                sandbox
                    .cmd(&["run", "--once"])
                    .env("SUPPORTD_NOW", now)
                    .stderr(std::process::Stdio::null())
                    .spawn()
                    .unwrap()
            })
            .collect();
        for mut child in both {
            assert!(child.wait().unwrap().success());
        }
    }
    let rows = sandbox.outbox_rows();
    let alerts = rows.iter().filter(|r| r["kind"] == "alert").count();
    // Each warning to Alice and the CRM, the breach to the escalation address too.
    assert_eq!(alerts, 20 * (2 + 2 + 3), "three alerts per case, each once, to each recipient");
    assert_eq!(sandbox.count("SELECT COUNT(*) FROM alerts_sent").await, 20 * 3);
}

/// Raising the severity recomputes the due times from the start and is an event; the new
/// target's alerts follow.
#[tokio::test(flavor = "multi_thread")]
async fn a_severity_change_recomputes_due_times_from_the_start() {
    let sandbox = desk_with_s2_case().await;
    let desk = desk(&sandbox).await;
    let agent = Actor::Agent("alice@example.com".parse().unwrap());
    let to = supportd::cases::Classification {
        severity: supportd::domain::Severity::S1,
        case_type: supportd::domain::CaseType::Query,
        client_config: false,
    };
    let txn = begin_write(&desk.db).await.unwrap();
    let c =
        supportd::cases::reclassify(&txn, &desk.config, &case_one(&desk).await, to, &agent, at("2026-11-19T15:20:00Z"))
            .await
            .unwrap();
    txn.commit().await.unwrap();
    // S1 from Thursday 15:00: respond by 16:00, resolve within one business day (Friday 15:00).
    assert_eq!(c.first_response_due, Some(at("2026-11-19T16:00:00Z")));
    assert_eq!(c.resolution_due, Some(at("2026-11-20T15:00:00Z")));
    let out = sandbox.run(&["cases", "show", "000001", "--format", "json"]);
    let detail: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let severity_events: Vec<&serde_json::Value> =
        detail["events"].as_array().unwrap().iter().filter(|e| e["kind"] == "severity").collect();
    assert_eq!(severity_events.len(), 1);
    assert_eq!(
        (severity_events[0]["old_value"].as_str(), severity_events[0]["new_value"].as_str()),
        (Some("S2"), Some("S1"))
    );
    run_at(&sandbox, "2026-11-19T16:00:00Z");
    let subjects: Vec<String> = alerts(&sandbox).into_iter().map(|(s, _)| s).collect();
    let breach = "[Case #000001] S1: first response target breached - Printer offline";
    assert_eq!(subjects, [breach, breach, breach], "Alice's, the escalation address's and the CRM's");
}

/// Recipients per level come from the configuration.
#[tokio::test(flavor = "multi_thread")]
async fn recipients_are_configurable_per_level() {
    let sandbox = desk_with_s2_case().await;
    sandbox.edit_config(|c| {
        c.replace("warning_recipients = [\"agents\", \"crm\"]", "warning_recipients = [\"crm\"]").replace(
            "breach_recipients = [\"agents\", \"crm\", \"escalation\"]",
            "breach_recipients = [\"ops@example.com\"]",
        )
    });
    run_at(&sandbox, "2026-11-20T10:00:00Z");
    run_at(&sandbox, "2026-11-20T11:00:00Z");
    let to: Vec<String> = alerts(&sandbox).into_iter().map(|(_, to)| to).collect();
    assert_eq!(to, ["carol@example.com", "ops@example.com"]);
}
