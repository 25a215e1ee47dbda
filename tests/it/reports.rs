//! `supportd report cases|sla` on a seeded desk: cases by email, phone and chat for two
//! companies, resolved, pending, breached, exempt, each opened and changed at a fixed time
//! (`SUPPORTD_NOW`) through the same commands an agent uses. SQLite and PostgreSQL.

use std::collections::HashMap;

use crate::support::{Backend, Sandbox, csv_table};

/// When the reports are read: Wednesday 2 December 2026, 12:00 UTC.
const NOW: &str = "2026-12-02T12:00:00Z";

/// Opens a case by hand at `received` (the clock stands there too).
fn open(sandbox: &Sandbox, received: &str, channel: &str, company: &str, contact: &str, rest: &[&str]) {
    let mut args = vec!["cases", "open", "--channel", channel, "--company", company, "--contact", contact];
    args.extend(["--received-at", received, "--as", "alice"]);
    args.extend(rest);
    sandbox.run_at(received, &args);
}

/// The seeded desk; the comments say what each case is against its targets at `NOW`.
async fn seeded(backend: Backend) -> Sandbox {
    let sandbox = Sandbox::new(backend).await;
    sandbox.edit_config(|c| {
        c.replace(
            "[budget]\n",
            "[[company]]\nname = \"Globex\"\nslug = \"globex\"\ndomains = [\"globex.example\"]\n\n[budget]\n",
        )
    });
    // 1: S1 by phone, answered in 30 min, resolved in 1 business hour: both met.
    open(
        &sandbox,
        "2026-11-02T10:00:00Z",
        "phone",
        "acme",
        "jane@acme.example",
        &["--name", "Jane Doe", "--summary", "Checkout down", "--severity", "S1"],
    );
    sandbox.run_at(
        "2026-11-02T10:30:00Z",
        &["cases", "log", "1", "--channel", "phone", "--as", "alice", "--text", "Called back"],
    );
    sandbox.run_at(
        "2026-11-02T11:00:00Z",
        &[
            "cases",
            "update",
            "1",
            "--as",
            "alice",
            "--category",
            "Configuration",
            "--solution",
            "Cleared the cache",
            "--status",
            "resolved",
        ],
    );
    // 2: an S2 Bug by chat, never answered: response breached, resolution exempt (a Bug). Its
    // summary has a comma and quotes for CSV to quote, and a line break the summary drops.
    open(
        &sandbox,
        "2026-11-03T09:00:00Z",
        "chat",
        "globex",
        "bob@globex.example",
        &["--summary", "Export, \"quoted\"\nand two lines", "--severity", "S2", "--type", "Bug"],
    );
    // 3: S2, answered in 30 min, then pending (waiting on the customer): resolution paused.
    open(
        &sandbox,
        "2026-11-10T09:00:00Z",
        "web",
        "acme",
        "jane@acme.example",
        &["--name", "Jane Doe", "--summary", "Slow reports", "--severity", "S2"],
    );
    sandbox.run_at(
        "2026-11-10T09:30:00Z",
        &["cases", "log", "3", "--channel", "phone", "--as", "alice", "--text", "Asked for logs"],
    );
    sandbox.run_at("2026-11-10T10:00:00Z", &["cases", "update", "3", "--as", "alice", "--status", "pending"]);
    // 4: S1, answered in 30 min, resolved after 17 business hours: resolution breached (8 h).
    open(
        &sandbox,
        "2026-11-16T09:00:00Z",
        "email",
        "acme",
        "kim@acme.example",
        &["--name", "Kim", "--summary", "Login loop", "--severity", "S1"],
    );
    sandbox.run_at(
        "2026-11-16T09:30:00Z",
        &["cases", "log", "4", "--channel", "phone", "--as", "alice", "--text", "On it"],
    );
    sandbox.run_at(
        "2026-11-18T10:00:00Z",
        &["cases", "update", "4", "--as", "alice", "--solution", "Reset sessions", "--status", "resolved"],
    );
    // 5: S3 by email this morning: both targets still running.
    open(
        &sandbox,
        "2026-12-02T09:00:00Z",
        "email",
        "acme",
        "jane@acme.example",
        &["--name", "Jane Doe", "--summary", "New user", "--severity", "S3"],
    );
    sandbox
}

fn numbers(sandbox: &Sandbox, filter: &[&str]) -> Vec<String> {
    let mut args = vec!["report", "cases", "--format", "csv"];
    args.extend(filter);
    csv_table(&sandbox.run_at(NOW, &args)).1.into_iter().map(|r| r["Case Number"].clone()).collect()
}

async fn report_cases_has_the_twelve_fields_and_filters(backend: Backend) {
    let sandbox = seeded(backend).await;
    let (headers, rows) = csv_table(&sandbox.run_at(NOW, &["report", "cases", "--format", "csv"]));
    let twelve = [
        "Company Name",
        "Customer Name",
        "Case Number",
        "Summary of Issue",
        "Error Category",
        "Case Status",
        "Case Type",
        "Case Severity",
        "Case Priority",
        "Date Created",
        "Date of Last Update",
        "Solution",
    ];
    assert_eq!(headers[..12], twelve, "the terms' twelve fields, in their order");
    let extra = [
        "Channel",
        "First Response (business hours)",
        "Resolution (business hours)",
        "Response Target",
        "Resolution Target",
        "Escalations",
    ];
    assert_eq!(headers[12..], extra);
    assert_eq!(rows.len(), 5);
    let row = |n: usize| &rows[n - 1];
    let expect = |n: usize, values: &[(&str, &str)]| {
        for (column, value) in values {
            assert_eq!(row(n)[*column], *value, "case {n}, {column}");
        }
    };
    // A report of every company shows its times in one zone, the calendar's (London); Acme's
    // own report, below, in Acme's New York.
    expect(
        1,
        &[
            ("Company Name", "Acme Corporation"),
            ("Customer Name", "Jane Doe"),
            ("Case Number", "000001"),
            ("Summary of Issue", "Checkout down"),
            ("Error Category", "Configuration"),
            ("Case Status", "resolved"),
            ("Case Type", "Query"),
            ("Case Severity", "S1"),
            ("Case Priority", "normal"),
            ("Date Created", "2026-11-02 10:00 +00:00"),
            ("Date of Last Update", "2026-11-02 11:00 +00:00"),
            ("Solution", "Cleared the cache"),
            ("Channel", "phone"),
            ("First Response (business hours)", "0.50"),
            ("Resolution (business hours)", "1.00"),
            ("Response Target", "met"),
            ("Resolution Target", "met"),
        ],
    );
    expect(
        2,
        &[
            ("Company Name", "Globex"),
            ("Customer Name", "bob@globex.example"),
            ("Summary of Issue", "Export, \"quoted\" and two lines"),
            ("Error Category", ""),
            ("Case Status", "new"),
            ("Case Type", "Bug"),
            ("Case Severity", "S2"),
            ("Date Created", "2026-11-03 09:00 +00:00"),
            ("Solution", ""),
            ("Channel", "chat"),
            ("First Response (business hours)", ""),
            ("Resolution (business hours)", ""),
            ("Response Target", "breached"),
            ("Resolution Target", "exempt"),
        ],
    );
    expect(
        3,
        &[("Case Status", "pending"), ("Channel", "web"), ("Response Target", "met"), ("Resolution Target", "paused")],
    );
    expect(
        4,
        &[
            ("Customer Name", "Kim"),
            ("Solution", "Reset sessions"),
            ("Resolution (business hours)", "17.00"),
            ("Resolution Target", "breached"),
        ],
    );
    expect(
        5,
        &[("Channel", "email"), ("Response Target", "running"), ("Resolution Target", "running"), ("Solution", "")],
    );

    assert_eq!(numbers(&sandbox, &["--company", "acme"]), ["000001", "000003", "000004", "000005"]);
    assert_eq!(numbers(&sandbox, &["--company", "globex"]), ["000002"]);
    assert_eq!(numbers(&sandbox, &["--from", "2026-11-03", "--to", "2026-11-16"]), ["000002", "000003", "000004"]);
    assert_eq!(numbers(&sandbox, &["--from", "2026-12-01"]), ["000005"]);
    assert_eq!(numbers(&sandbox, &["--status", "resolved"]), ["000001", "000004"]);
    assert_eq!(numbers(&sandbox, &["--status", "new,pending"]), ["000002", "000003", "000005"]);
    assert_eq!(numbers(&sandbox, &["--channel", "chat", "--channel", "phone"]), ["000001", "000002"]);
    let unknown = sandbox.cmd(&["report", "cases", "--company", "initech"]).output().unwrap();
    assert_eq!(unknown.status.code(), Some(64), "{}", String::from_utf8_lossy(&unknown.stderr));

    // Excel's byte-order mark; JSON and HTML carry the same rows; a file is written whole.
    let excel = sandbox.run_at(NOW, &["report", "cases", "--format", "csv", "--excel"]);
    assert!(excel.starts_with('\u{feff}') && excel[3..].starts_with("Company Name,"), "{excel:.40}");
    let json: serde_json::Value =
        serde_json::from_str(&sandbox.run_at(NOW, &["report", "cases", "--format", "json"])).unwrap();
    assert_eq!(json.as_array().unwrap().len(), 5);
    assert_eq!(json[1]["customer"], "bob@globex.example");
    assert_eq!(json[0]["created"], "2026-11-02T10:00:00Z");
    let offsets = |rows: &[HashMap<String, String>], column: &str| {
        let mut o: Vec<String> = rows.iter().map(|r| r[column].rsplit(' ').next().unwrap().to_owned()).collect();
        o.dedup();
        o
    };
    for column in ["Date Created", "Date of Last Update"] {
        assert_eq!(offsets(&rows, column), ["+00:00"], "one zone in {column}: {rows:?}");
    }
    let (_, acme) = csv_table(&sandbox.run_at(NOW, &["report", "cases", "--format", "csv", "--company", "acme"]));
    assert_eq!(acme[0]["Date Created"], "2026-11-02 05:00 -05:00", "Acme's own report is in its zone");
    for column in ["Date Created", "Date of Last Update"] {
        assert_eq!(offsets(&acme, column), ["-05:00"], "{column}: {acme:?}");
    }
    assert_eq!(json[0]["first_response_hours"], 0.5);
    let html = sandbox.run_at(NOW, &["report", "cases", "--format", "html"]);
    assert!(html.contains("<td>Export, &quot;quoted&quot; and two lines</td>"), "{html}");
    let file = sandbox.path("november.csv");
    sandbox.run_at(NOW, &["report", "cases", "--format", "csv", "--output", file.to_str().unwrap()]);
    assert_eq!(csv_table(&std::fs::read_to_string(&file).unwrap()).1.len(), 5);
    let table = sandbox.run_at(NOW, &["report", "cases"]);
    assert_eq!(table.lines().count(), 6, "{table}");
}

/// Reports read cases a page of numbers at a time, several pages at once (on SQLite each page
/// as one JSON row): across page boundaries every case comes once, in number order, with
/// the same values as the case it was copied from.
async fn report_cases_reads_every_page_in_order(backend: Backend) {
    let sandbox = seeded(backend).await;
    let columns = "company_id, contact_id, mailbox, channel, summary, case_type, severity, priority, status, \
                   error_category, client_config, created_at, updated_at, sla_started_at, first_response_at, \
                   first_response_due, resolution_due, paused_since, paused_seconds, resolved_at, closed_at, solution";
    sandbox
        .sql(&format!(
            "INSERT INTO cases (number, {columns}) \
             WITH RECURSIVE n(x) AS (SELECT 6 UNION ALL SELECT x + 1 FROM n WHERE x < 4600) \
             SELECT n.x, {columns} FROM n, cases WHERE cases.number = 4"
        ))
        .await;
    let (_, rows) = csv_table(&sandbox.run_at(NOW, &["report", "cases", "--format", "csv"]));
    let numbers: Vec<u32> = rows.iter().map(|r| r["Case Number"].parse().unwrap()).collect();
    assert_eq!(numbers, (1..=4600).collect::<Vec<u32>>(), "every case once, in order");
    let without_number = |r: &HashMap<String, String>| {
        let mut r = r.clone();
        r.remove("Case Number");
        r
    };
    for n in [6, 2000, 2001, 4001, 4600] {
        assert_eq!(without_number(&rows[n - 1]), without_number(&rows[3]), "case {n} is a copy of case 4");
    }
    let globex = sandbox.run_at(NOW, &["report", "cases", "--format", "csv", "--company", "globex"]);
    assert_eq!(csv_table(&globex).1.len(), 1, "a filter applies on every page");
    let sla = sandbox.run_at(NOW, &["report", "sla", "--format", "json"]);
    let lines: Vec<serde_json::Value> = serde_json::from_str(&sla).unwrap();
    let cases: u64 = lines.iter().map(|l| l["cases"].as_u64().unwrap()).sum();
    assert_eq!(cases, 4600, "report sla counts every case of every page: {sla}");
}

#[tokio::test(flavor = "multi_thread")]
async fn report_cases_reads_every_page_in_order_on_sqlite() {
    report_cases_reads_every_page_in_order(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn report_cases_reads_every_page_in_order_on_postgres() {
    report_cases_reads_every_page_in_order(Backend::Postgres).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn report_cases_has_the_twelve_fields_and_filters_on_sqlite() {
    report_cases_has_the_twelve_fields_and_filters(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn report_cases_has_the_twelve_fields_and_filters_on_postgres() {
    report_cases_has_the_twelve_fields_and_filters(Backend::Postgres).await;
}

/// The figures, worked out by hand from the seeded cases (see `seeded`).
async fn report_sla_matches_the_figures_worked_out_by_hand(backend: Backend) {
    let sandbox = seeded(backend).await;
    let (_, rows) = csv_table(&sandbox.run_at(NOW, &["report", "sla", "--format", "csv"]));
    let line = |company: &str, severity: &str| {
        rows.iter()
            .find(|r| r["Company"] == company && r["Severity"] == severity)
            .unwrap_or_else(|| panic!("{company} {severity}: {rows:?}"))
    };
    assert_eq!(rows.len(), 4, "Acme S1, S2, S3 and Globex S2");
    let expect = |company: &str, severity: &str, values: &[(&str, &str)]| {
        for (column, value) in values {
            assert_eq!(line(company, severity)[*column], *value, "{company} {severity}, {column}");
        }
    };
    // Cases 1 and 4: both answered in 30 min; resolved in 1 h (met) and 17 h (breached).
    expect(
        "Acme Corporation",
        "S1",
        &[
            ("Cases", "2"),
            ("Responses Met", "2"),
            ("Responses Decided", "2"),
            ("Responses Met %", "100.0"),
            ("Resolutions Met", "1"),
            ("Resolutions Decided", "2"),
            ("Resolutions Met %", "50.0"),
            ("Exempt", "0"),
            ("No Target", "0"),
            ("Median First Response (h)", "0.50"),
            ("P90 First Response (h)", "0.50"),
            ("Median Resolution (h)", "1.00"),
            ("P90 Resolution (h)", "17.00"),
            ("Breaches", "1"),
        ],
    );
    // Case 3: answered; its resolution paused, so not decided.
    expect(
        "Acme Corporation",
        "S2",
        &[
            ("Cases", "1"),
            ("Responses Met %", "100.0"),
            ("Resolutions Decided", "0"),
            ("Resolutions Met %", ""),
            ("Breaches", "0"),
        ],
    );
    // Case 5: nothing decided yet.
    expect(
        "Acme Corporation",
        "S3",
        &[("Responses Decided", "0"), ("Responses Met %", ""), ("Median First Response (h)", "")],
    );
    // Case 2: the response breached; a Bug has no resolution target.
    expect(
        "Globex",
        "S2",
        &[
            ("Responses Met", "0"),
            ("Responses Decided", "1"),
            ("Responses Met %", "0.0"),
            ("Exempt", "1"),
            ("Resolutions Decided", "0"),
            ("Breaches", "1"),
        ],
    );
    let (_, acme_only) = csv_table(
        &sandbox.run_at(NOW, &["report", "sla", "--format", "csv", "--company", "acme", "--to", "2026-11-30"]),
    );
    let lines: Vec<(&str, &str)> = acme_only.iter().map(|r| (r["Company"].as_str(), r["Severity"].as_str())).collect();
    assert_eq!(lines, [("Acme Corporation", "S1"), ("Acme Corporation", "S2")]);
}

#[tokio::test(flavor = "multi_thread")]
async fn report_sla_matches_the_figures_worked_out_by_hand_on_sqlite() {
    report_sla_matches_the_figures_worked_out_by_hand(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn report_sla_matches_the_figures_worked_out_by_hand_on_postgres() {
    report_sla_matches_the_figures_worked_out_by_hand(Backend::Postgres).await;
}

/// `report escalations`: per team, the escalations that started in the period, and the
/// business hours each spent with the team (one not ended yet counts until now).
async fn report_escalations_counts_each_team_with_its_business_hours(backend: Backend) {
    let sandbox = Sandbox::new(backend).await;
    sandbox.edit_config(|c| {
        c + "\n[[team]]\nname = \"hosting\"\naddress = \"hosting@example.com\"\n\n\
             [[team]]\nname = \"engineering\"\naddress = \"engineering@example.com\"\n"
    });
    for n in 1..=3 {
        let summary = format!("Checkout down {n}");
        open(&sandbox, "2026-11-23T09:00:00Z", "phone", "acme", "jane@acme.example", &["--summary", &summary]);
    }
    let escalate = |now: &str, case: &str, team: &str| {
        sandbox.run_at(now, &["cases", "escalate", case, team, "--as", "alice", "--reason", "Disk full"]);
    };
    let deescalate = |now: &str, case: &str| sandbox.run_at(now, &["cases", "deescalate", case, "--as", "alice"]);
    // Hosting: 3.5 business hours on Monday; Tuesday 16:00 to Wednesday 10:00 is 2 h.
    escalate("2026-11-23T10:00:00Z", "1", "hosting");
    deescalate("2026-11-23T13:30:00Z", "1");
    escalate("2026-11-24T16:00:00Z", "1", "hosting");
    deescalate("2026-11-25T10:00:00Z", "1");
    // Engineering: case 2 since Monday 09:00 and not back at NOW (Wednesday 2 December,
    // 12:00): seven business days and 3 h, 59 h.
    escalate("2026-11-23T09:00:00Z", "2", "engineering");
    // Case 3 escalated the week after: left out of a period that ends on the 27th.
    escalate("2026-11-30T09:00:00Z", "3", "hosting");

    let json = sandbox
        .run_at(NOW, &["report", "escalations", "--from", "2026-11-23", "--to", "2026-11-27", "--format", "json"]);
    let lines: serde_json::Value = serde_json::from_str(&json).expect("JSON");
    let want = serde_json::json!([
        {"team": "engineering", "escalations": 1, "cases": 1, "current": 1, "ended": 0,
         "median_hours_with_team": 59.0, "p90_hours_with_team": 59.0},
        {"team": "hosting", "escalations": 2, "cases": 1, "current": 0, "ended": 2,
         "median_hours_with_team": 2.0, "p90_hours_with_team": 3.5},
    ]);
    assert_eq!(lines, want, "{json}");
    let all = sandbox.run_at(NOW, &["report", "escalations", "--format", "csv"]);
    let (headers, rows) = csv_table(&all);
    assert_eq!(
        headers,
        ["Team", "Escalations", "Cases", "Current", "Ended", "Median Hours With Team", "P90 Hours With Team"]
    );
    let hosting = rows.iter().find(|r| r["Team"] == "hosting").expect("hosting");
    assert_eq!(
        (hosting["Escalations"].as_str(), hosting["Cases"].as_str(), hosting["Current"].as_str()),
        ("3", "2", "1")
    );
    // Acme's `report cases` shows each case's escalations in Acme's zone (New York).
    let (_, cases) = csv_table(&sandbox.run_at(NOW, &["report", "cases", "--format", "csv", "--company", "acme"]));
    assert_eq!(
        cases[0]["Escalations"],
        "hosting 2026-11-23 05:00 -05:00 to 2026-11-23 08:30 -05:00 by Alice Smith; \
         hosting 2026-11-24 11:00 -05:00 to 2026-11-25 05:00 -05:00 by Alice Smith"
    );
    assert_eq!(cases[1]["Escalations"], "engineering since 2026-11-23 04:00 -05:00 by Alice Smith");
    let acme = sandbox.run_at(NOW, &["report", "escalations", "--company", "acme", "--format", "csv"]);
    assert_eq!(csv_table(&acme).1.len(), 2, "both teams' lines are Acme's: {acme}");
    let unknown = sandbox.run(&["report", "escalations", "--company", "nobody"]);
    assert_eq!(unknown.status.code(), Some(64), "{}", String::from_utf8_lossy(&unknown.stderr));
}

#[tokio::test(flavor = "multi_thread")]
async fn report_escalations_counts_each_team_with_its_business_hours_on_sqlite() {
    report_escalations_counts_each_team_with_its_business_hours(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn report_escalations_counts_each_team_with_its_business_hours_on_postgres() {
    report_escalations_counts_each_team_with_its_business_hours(Backend::Postgres).await;
}
