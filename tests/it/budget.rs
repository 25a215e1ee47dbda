//! The support budget: time logged at the standard and the consultancy rate draws it down,
//! a top-up adds to it, `report budget` shows hours and money, and crossing a `[budget]
//! warn_at` threshold mails the CRM and each agent once, never again on a restart, until a
//! top-up re-arms it. Acme bought 40 h; rates 100 and 150 EUR (the shipped daemon.toml).
use crate::support::{Backend, Sandbox, csv_rows};

fn log(sandbox: &Sandbox, now: &str, time: &str, rate: &str) {
    let args = [
        "cases",
        "log",
        "1",
        "--channel",
        "phone",
        "--as",
        "alice",
        "--text",
        "Work",
        "--minutes",
        time,
        "--rate",
        rate,
    ];
    sandbox.run_at(now, &args);
}

/// The budget mails written so far: (recipient, subject) of each, in order.
fn budget_mails(sandbox: &Sandbox) -> Vec<(String, String)> {
    let mut mails = Vec::new();
    for name in sandbox.files_in("var/outbox") {
        let raw = std::fs::read_to_string(sandbox.path(&format!("var/outbox/{name}"))).unwrap();
        if !raw.contains("Message-ID: <supportd.budget.") {
            continue;
        }
        let header =
            |h: &str| raw.lines().find_map(|l| l.strip_prefix(&format!("{h}: "))).unwrap_or_default().to_owned();
        mails.push((header("To"), header("Subject")));
    }
    mails
}

/// `run --once`: the scheduler's tick (with the budget alerts) and the outbox.
fn tick(sandbox: &Sandbox, now: &str) -> Vec<(String, String)> {
    let before = budget_mails(sandbox).len();
    sandbox.run_at(now, &["run", "--once"]);
    budget_mails(sandbox).split_off(before)
}

async fn the_budget_draws_down_alerts_once_per_threshold_and_reports(backend: Backend) {
    let sandbox = Sandbox::new(backend).await;
    let open = [
        "cases",
        "open",
        "--channel",
        "phone",
        "--company",
        "acme",
        "--contact",
        "jane@acme.example",
        "--summary",
        "Migration",
        "--as",
        "alice",
    ];
    sandbox.run_at("2026-11-02T09:00:00Z", &open);
    log(&sandbox, "2026-11-02T10:00:00Z", "14h", "standard");
    log(&sandbox, "2026-11-03T10:00:00Z", "14h", "standard");
    assert_eq!(tick(&sandbox, "2026-11-03T11:00:00Z"), [], "28 of 40 h used: 30% left, no threshold reached");

    // 2 consultancy hours draw 3 standard hours: 9 h left, 22.5%.
    log(&sandbox, "2026-11-04T10:00:00Z", "2h", "consultancy");
    let mails = tick(&sandbox, "2026-11-04T11:00:00Z");
    let to: Vec<&str> = mails.iter().map(|(to, _)| to.as_str()).collect();
    assert_eq!(to.len(), 2, "{mails:?}");
    assert!(
        to.iter().any(|t| t.contains("carol@example.com")) && to.iter().any(|t| t.contains("alice@example.com")),
        "{to:?}"
    );
    assert!(
        mails
            .iter()
            .all(|(_, s)| s.starts_with("Support budget of Acme Corporation: 9 h left") && s.ends_with("below 25%")),
        "{mails:?}"
    );
    assert_eq!(tick(&sandbox, "2026-11-04T12:00:00Z"), [], "once: a restart sends nothing again");

    // 5 more hours: 4 h left, exactly 10%.
    log(&sandbox, "2026-11-05T10:00:00Z", "5h", "standard");
    let mails = tick(&sandbox, "2026-11-05T11:00:00Z");
    assert_eq!(mails.len(), 2, "{mails:?}");
    assert!(mails.iter().all(|(_, s)| s.ends_with("below 10%")), "{mails:?}");
    assert_eq!(tick(&sandbox, "2026-11-05T12:00:00Z"), []);

    // A top-up of 20 h: 24 of 60 h left (40%); it re-arms the thresholds.
    let added = sandbox.run_at("2026-12-01T09:00:00Z", &["budget", "add", "acme", "20", "--note", "December top-up"]);
    assert_eq!(added.trim(), "added 20 h to acme: 24 of 60 h left (40%)");
    assert_eq!(tick(&sandbox, "2026-12-01T09:30:00Z"), []);
    log(&sandbox, "2026-12-01T10:00:00Z", "10h", "standard");
    let mails = tick(&sandbox, "2026-12-01T11:00:00Z");
    assert_eq!(mails.len(), 2, "14 of 60 h left crosses 25% again: {mails:?}");

    // Hours and money: 43 standard hours at 100 and 2 consultancy hours at 150.
    let all = csv_rows(
        &sandbox.run_at("2026-12-02T12:00:00Z", &["report", "budget", "--format", "csv", "--company", "acme"]),
    );
    assert_eq!(all.len(), 1);
    let acme = &all[0];
    let expect = [
        ("Company", "Acme Corporation"),
        ("Currency", "EUR"),
        ("Purchased (h)", "60.00"),
        ("Used (h)", "46.00"),
        ("Remaining (h)", "14.00"),
        ("Remaining %", "23.3"),
        ("Used in Period (h)", "46.00"),
        ("Cost in Period", "4600.00"),
        ("Remaining at Standard Rate", "1400.00"),
    ];
    for (column, value) in expect {
        assert_eq!(acme[column], value, "{column}");
    }
    let november = ["report", "budget", "--format", "csv", "--from", "2026-11-01", "--to", "2026-11-30"];
    let november = csv_rows(&sandbox.run_at("2026-12-02T12:00:00Z", &november));
    let acme = november.iter().find(|r| r["Company"] == "Acme Corporation").unwrap();
    assert_eq!((acme["Used in Period (h)"].as_str(), acme["Cost in Period"].as_str()), ("36.00", "3600.00"));
    assert_eq!(acme["Remaining (h)"], "14.00", "what is left is as of now");

    let sheet = ["report", "budget", "--timesheet", "--format", "csv", "--from", "2026-11-04", "--to", "2026-11-05"];
    let sheet = csv_rows(&sandbox.run_at("2026-12-02T12:00:00Z", &sheet));
    assert_eq!(sheet.len(), 2, "{sheet:?}");
    let first: Vec<&str> =
        ["Date", "Company", "Case Number", "Agent", "Kind", "Minutes", "Standard Hours", "Currency", "Cost"]
            .iter()
            .map(|c| sheet[0][*c].as_str())
            .collect();
    assert_eq!(
        first,
        [
            "2026-11-04 10:00 +00:00",
            "Acme Corporation",
            "000001",
            "Alice Smith",
            "consultancy",
            "120",
            "3.00",
            "EUR",
            "300.00"
        ]
    );
    assert_eq!((sheet[1]["Kind"].as_str(), sheet[1]["Cost"].as_str()), ("standard", "500.00"));

    // Agents see what is left wherever they handle the company's case.
    let shown = sandbox.run_at("2026-12-02T12:00:00Z", &["cases", "show", "1"]);
    assert!(shown.contains("\nSupport budget: 14 of 60 h left (23%)\n"), "{shown}");
    // Alice takes the chat herself: she is not told of her own call, Bob is.
    sandbox.edit_config(|c| {
        c.replace("notify = \"none\"", "notify = \"each\"")
            .replace("[[agent]]\n", "[[agent]]\nname = \"Bob Jones\"\nemail = \"bob@example.com\"\n\n[[agent]]\n")
    });
    let second = [
        "cases",
        "open",
        "--channel",
        "chat",
        "--company",
        "acme",
        "--contact",
        "jane@acme.example",
        "--summary",
        "Another",
        "--as",
        "alice",
    ];
    sandbox.run_at("2026-12-02T12:00:00Z", &second);
    sandbox.run_at("2026-12-02T12:00:00Z", &["run", "--once"]);
    let notified: Vec<String> = sandbox
        .files_in("var/outbox")
        .iter()
        .map(|n| std::fs::read_to_string(sandbox.path(&format!("var/outbox/{n}"))).unwrap())
        .filter(|m| m.contains("Message-ID: <supportd.000002.notify."))
        .collect();
    assert_eq!(notified.len(), 1);
    assert!(notified[0].contains("To: \"Bob Jones\" <bob@example.com>"), "{}", notified[0]);
    assert!(notified[0].contains("Budget:   14 of 60 h left (23%)"), "{}", notified[0]);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_budget_draws_down_alerts_once_per_threshold_and_reports_on_sqlite() {
    the_budget_draws_down_alerts_once_per_threshold_and_reports(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_budget_draws_down_alerts_once_per_threshold_and_reports_on_postgres() {
    the_budget_draws_down_alerts_once_per_threshold_and_reports(Backend::Postgres).await;
}

/// 42 of 40 h used: the one mail (about the lowest threshold, 0%) says the budget is
/// overdrawn, never "before the budget runs out".
#[tokio::test(flavor = "multi_thread")]
async fn an_overdrawn_budget_is_called_overdrawn() {
    let sandbox = Sandbox::new(Backend::Sqlite).await;
    let open = ["cases", "open", "--channel", "phone", "--company", "acme", "--contact", "jane@acme.example"];
    sandbox.run_at("2026-11-02T09:00:00Z", &[&open[..], &["--summary", "Migration", "--as", "alice"]].concat());
    log(&sandbox, "2026-11-02T10:00:00Z", "21h", "standard");
    log(&sandbox, "2026-11-03T10:00:00Z", "21h", "standard");
    let mails = tick(&sandbox, "2026-11-03T11:00:00Z");
    assert_eq!(mails.len(), 2, "the CRM and Alice: {mails:?}");
    let parsed: Vec<_> = sandbox
        .files_in("var/outbox")
        .iter()
        .map(|n| std::fs::read(sandbox.path(&format!("var/outbox/{n}"))).unwrap())
        .filter(|m| String::from_utf8_lossy(m).contains("Message-ID: <supportd.budget."))
        .map(|m| supportd::mail::parse(&m).unwrap())
        .collect();
    for m in &parsed {
        assert_eq!(m.subject, "Support budget of Acme Corporation overdrawn by 2 h (42 of 40 h used)");
    }
    // Each copy says what a reply to it does: Alice's goes to the CRM, the CRM's to the desk.
    let to = |who: &str| parsed.iter().find(|m| m.to.iter().any(|p| p.address.as_str() == who)).unwrap();
    let (alice, carol) = (to("alice@example.com"), to("carol@example.com"));
    let reply_to = |m: &supportd::mail::ParsedMessage| m.header("reply-to").unwrap_or_default().to_owned();
    assert!(reply_to(alice).contains("carol@example.com"), "{}", reply_to(alice));
    assert!(reply_to(carol).contains("support+"), "her token: {}", reply_to(carol));
    let text = |m: &supportd::mail::ParsedMessage| crate::agent_mail::normalise(&m.text_body).replace('\n', " ");
    assert!(text(alice).contains("A reply to this email goes to Carol CRM, the Client Relationship Manager."));
    assert!(text(carol).contains("A reply to this email reaches the support team as a note"), "{}", text(carol));
    let mail = &parsed[0];
    let text = crate::agent_mail::normalise(&mail.text_body).replace('\n', " ");
    assert!(text.contains("is overdrawn: 2 h more than was bought has been used"), "{text}");
    assert!(text.contains("about a top-up now"), "{text}");
    assert!(!text.contains("runs out"), "{text}");
    assert!(mail.html_body.as_deref().unwrap_or_default().contains("is overdrawn"));
}

/// The budget mail as the SMTP receiver gets it: the CRM's copy is addressed to her and
/// greets her by her configured name (`crm_name`); an agent's greets no one by her name.
#[tokio::test(flavor = "multi_thread")]
async fn the_crms_budget_mail_greets_her_by_name() {
    let smtp = crate::support::TestSmtp::start();
    let sandbox = Sandbox::new(Backend::Sqlite).await;
    sandbox.set_outbound(&smtp.outbound_toml());
    let open = ["cases", "open", "--channel", "phone", "--company", "acme", "--contact", "jane@acme.example"];
    sandbox.run_at("2026-11-02T09:00:00Z", &[&open[..], &["--summary", "Migration", "--as", "alice"]].concat());
    log(&sandbox, "2026-11-02T10:00:00Z", "16h", "standard");
    log(&sandbox, "2026-11-03T10:00:00Z", "15h", "standard");
    sandbox.run_at("2026-11-03T11:00:00Z", &["run", "--once"]);
    let budget = |to: &str| -> Vec<(String, supportd::mail::ParsedMessage)> {
        let mails = smtp.delivered_to(to).into_iter().filter(|m| m.contains("Message-ID: <supportd.budget."));
        mails.map(|m| (m.clone(), supportd::mail::parse(m.as_bytes()).unwrap())).collect()
    };
    let (carol, alice) = (budget("carol@example.com"), budget("alice@example.com"));
    assert_eq!((carol.len(), alice.len()), (1, 1), "one mail each (9 of 40 h left, below 25%)");
    let to = crate::support::smtp::header(&carol[0].0, "To");
    assert_eq!(to.as_deref(), Some("\"Carol CRM\" <carol@example.com>"));
    let text = |m: &supportd::mail::ParsedMessage| crate::agent_mail::normalise(&m.text_body);
    assert!(text(&carol[0].1).starts_with("Hello Carol CRM,\n\n"), "{}", text(&carol[0].1));
    assert!(carol[0].1.html_body.as_deref().unwrap_or_default().contains("<p>Hello Carol CRM,</p>"));
    assert!(text(&alice[0].1).starts_with("Hello,\n\n"), "{}", text(&alice[0].1));
}
