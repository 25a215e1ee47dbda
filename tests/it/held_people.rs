//! A person's held mail is not forgotten (through Dovecot and the SMTP receiver): the agents
//! get one digest an hour at most listing who wrote, `held show` prints the text, and
//! `held release --to-case` adds it to the case it belongs to.

use crate::agent_mail::Desk;

const MEMBERS_ONLY: &str = "members = [\"customer1@acme.example\"]";

fn members_only(c: String) -> String {
    let c = c.replace("who_may_open = \"anyone\"", "who_may_open = \"members\"");
    let example = "# members = [\"jane@acme.example\", \"*@it.acme.example\"]";
    assert!(c.contains(example), "daemon.toml shows the members key");
    c.replace(example, MEMBERS_ONLY)
}

fn from_sam(id: &str, subject: &str, body: &str) -> Vec<u8> {
    format!(
        "From: \"Sam\" <sam@acme.example>\r\nTo: support@example.com\r\nSubject: {subject}\r\n\
         Message-ID: <{id}@acme.example>\r\nDate: Mon, 23 Nov 2026 10:00:00 +0000\r\nMIME-Version: 1.0\r\n\
         Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain; charset=utf-8\r\n\
         Content-Transfer-Encoding: quoted-printable\r\n\r\n{body}\r\n--b\r\n\
         Content-Type: text/csv; name=\"export.csv\"\r\nContent-Disposition: attachment; filename=\"export.csv\"\r\n\r\n\
         a,b\r\n1,2\r\n--b--\r\n"
    )
    .into_bytes()
}

fn held(desk: &Desk) -> Vec<serde_json::Value> {
    let out = desk.sandbox.run(&["held", "list", "--format", "json"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

fn run_ok(desk: &Desk, args: &[&str]) -> String {
    let out = desk.sandbox.run(args);
    assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

/// A member's colleague writes about the member's case without its tag: held. The agent
/// reads the body with `held show` and adds it to the case; no second case opens, and the
/// colleague's next reply on the case joins it without being held.
#[tokio::test(flavor = "multi_thread")]
async fn held_show_prints_the_body_and_release_to_case_adds_it_to_that_case() {
    let desk = Desk::start(members_only).await;
    let tag = desk.customer_writes(1, "Exports fail").await;
    let number = tag.trim_start_matches("[Case #").trim_end_matches(']').to_owned();
    let before = desk.case(&tag)["messages"].as_array().unwrap().len();
    desk.server.append(&[from_sam("sam-1", "Exports, more detail", "The export stops at row 10=C2=A0000.")]).await;
    desk.run();
    let rows = held(&desk);
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(rows[0]["kind"], "not_member");
    let id = rows[0]["id"].to_string();

    let shown = run_ok(&desk, &["held", "show", &id]);
    assert!(shown.contains("Subject: Exports, more detail"), "{shown}");
    assert!(shown.contains("The export stops at row 10\u{a0}000."), "decoded body: {shown}");
    assert!(shown.contains("export.csv (text/csv"), "attachments listed: {shown}");

    let unknown = desk.sandbox.run(&["held", "release", &id, "--to-case", "999999"]);
    assert_eq!(unknown.status.code(), Some(64), "an unknown case is a usage error");
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("no case 999999"));
    assert_eq!(held(&desk).len(), 1, "still held");

    let out = run_ok(&desk, &["held", "release", &id, "--to-case", &number]);
    assert!(out.contains(&number), "{out}");
    assert!(held(&desk).is_empty(), "no longer held");
    assert_eq!(desk.sandbox.cases().len(), 1, "no new case");
    let case = desk.case(&tag);
    let messages = case["messages"].as_array().unwrap();
    assert_eq!(messages.len(), before + 1, "{case}");
    assert!(messages.iter().any(|m| m.to_string().contains("sam@acme.example")), "{case}");

    // Sam is remembered on the case: his reply with the tag joins it, not the held list.
    desk.server.append(&[from_sam("sam-2", &format!("Re: {tag} Exports fail"), "Any news?")]).await;
    desk.run();
    assert!(held(&desk).is_empty(), "{:?}", held(&desk));
    assert_eq!(desk.case(&tag)["messages"].as_array().unwrap().len(), before + 2);
}

/// `--to-case` makes no one a party of another company's case by accident: a stranger's mail
/// to Acme's case is refused until the agent vouches for them (`--make-party`), and then only
/// the sender joins, never the Cc's of their message; a robot's mail joins and makes no one a
/// party. The agent is told who receives the case's mail, and the next relay goes to them only.
#[tokio::test(flavor = "multi_thread")]
async fn release_to_case_adds_only_a_vouched_sender_never_their_ccs_or_a_robot() {
    let desk = Desk::start(members_only).await;
    let tag = desk.customer_writes(1, "Exports fail").await;
    let number = tag.trim_start_matches("[Case #").trim_end_matches(']').to_owned();
    let mail = |id: &str, from: &str, subject: &str, extra: &str| {
        format!(
            "From: {from}\r\nTo: support@example.com\r\nCc: X <x@evil.example>\r\nSubject: {subject}\r\n\
             Message-ID: <{id}@globex.example>\r\nDate: Mon, 07 Dec 2026 09:00:00 +0000\r\n{extra}\
             Content-Type: text/plain\r\n\r\nAbout the exports.\r\n"
        )
        .into_bytes()
    };
    desk.server
        .append(&[
            mail("bob-1", "Bob <bob@globex.example>", "Exports", "X-Note: \x1b]0;owned\x07\x1b[2J\r\n"),
            mail("ooo-1", "noreply@robots.example", "Automatic reply", "Auto-Submitted: auto-replied\r\n"),
        ])
        .await;
    desk.run();
    let rows = held(&desk);
    let id_of = |kind: &str| rows.iter().find(|r| r["kind"] == kind).unwrap()["id"].to_string();
    let (bob, robot) = (id_of("not_member"), id_of("auto_reply"));

    // `held show` prints the header section with no escape sequence reaching the terminal.
    let shown = run_ok(&desk, &["held", "show", &bob]);
    assert!(shown.contains("X-Note: ?]0;owned??[2J"), "{shown}");
    assert!(!shown.contains('\x1b') && !shown.contains('\x07') && !shown.contains('\r'), "{shown:?}");

    let refused = desk.sandbox.run(&["held", "release", &bob, "--to-case", &number]);
    assert_eq!(refused.status.code(), Some(64), "a refusal is a usage error");
    let err = String::from_utf8_lossy(&refused.stderr);
    assert!(err.contains("bob@globex.example is not of Acme Corporation"), "{err}");
    assert!(err.contains("--make-party"), "{err}");
    assert_eq!(held(&desk).len(), 2, "still held");

    // The robot's mail joins the case; it makes no one a party, its Cc's neither.
    let out = run_ok(&desk, &["held", "release", &robot, "--to-case", &number]);
    let goes_to = |out: &str| out.lines().find(|l| l.contains("mail goes to")).unwrap_or_default().to_owned();
    assert!(goes_to(&out).ends_with("customer1@acme.example, boss@acme.example"), "{out}");

    let out = run_ok(&desk, &["held", "release", &bob, "--to-case", &number, "--make-party"]);
    let to = goes_to(&out);
    assert!(to.ends_with("customer1@acme.example, boss@acme.example, bob@globex.example"), "{out}");
    assert!(!to.contains("evil") && !to.contains("robots"), "{out}");
    assert_eq!(desk.sandbox.cases().len(), 1, "no new case");

    // The next relay on the case goes to the contact, Cc the remembered people and Bob only.
    desk.agent_replies(&tag, "We are on it.").await;
    let relays: Vec<String> = desk
        .sent_to("customer1@acme.example")
        .into_iter()
        .filter(|(_, m)| m.text_body.contains("We are on it."))
        .map(|(raw, _)| raw)
        .collect();
    assert_eq!(relays.len(), 1, "{relays:?}");
    let cc = crate::support::smtp::header(&relays[0], "Cc").unwrap_or_default();
    assert!(cc.contains("bob@globex.example") && cc.contains("boss@acme.example"), "{cc}");
    assert!(!cc.contains("evil") && !cc.contains("robots"), "{cc}");
    let all: Vec<String> = desk.smtp.messages();
    assert!(!all.iter().any(|m| m.contains("x@evil.example") && m.contains("We are on it.")), "nothing to x@evil");
}

/// Releasing a person's held mail is done once: of four releases at the same moment, one
/// opens the case and the others are told it was already released.
#[tokio::test(flavor = "multi_thread")]
async fn releases_at_once_open_one_case() {
    let desk = Desk::start(members_only).await;
    desk.server.append(&[from_sam("sam-1", "Exports fail", "Hello.")]).await;
    desk.run();
    let id = held(&desk)[0]["id"].as_i64().unwrap();
    let config = supportd::config::Config::load(&desk.sandbox.path("daemon.toml")).unwrap();
    let templates = supportd::templates::Templates::load(&config.templates_dir).unwrap();
    let app = supportd::app::open_desk(config, templates).await.unwrap();
    let release = || supportd::ingest::held::release(&app, id, Default::default());
    let results = futures::future::join_all((0..4).map(|_| release())).await;
    assert_eq!(results.iter().filter(|r| r.is_ok()).count(), 1, "one release: {results:?}");
    for r in results.iter().filter_map(|r| r.as_ref().err()) {
        assert!(r.to_string().contains("already released"), "{r}");
    }
    assert_eq!(desk.sandbox.cases().len(), 1, "one case");
}

fn run_at(desk: &Desk, now: &str) {
    let out = desk.sandbox.cmd(&["run", "--once"]).env("SUPPORTD_NOW", now).output().unwrap();
    assert!(out.status.success(), "run --once at {now}: {}", String::from_utf8_lossy(&out.stderr));
}

/// Every digest the SMTP receiver got, raw.
fn digests(desk: &Desk) -> Vec<String> {
    let is_digest =
        |m: &String| crate::support::smtp::header(m, "Subject").is_some_and(|s| s.starts_with("Held mail to review"));
    desk.smtp.messages().into_iter().filter(is_digest).collect()
}

fn text_of(raw: &str) -> String {
    supportd::mail::parse(raw.as_bytes()).unwrap().text_body
}

/// A non-member's mail (and not the auto-reply held beside it) is listed in one digest to
/// each agent, with the commands to act on it and no display name; a second held mail
/// within the hour waits for the next hour's digest, which lists only it.
#[tokio::test(flavor = "multi_thread")]
async fn a_non_members_mail_makes_one_digest_an_hour_to_the_agents() {
    let desk = Desk::start(|c| members_only(c) + "\n[[agent]]\nname = \"Bob\"\nemail = \"bob@example.com\"\n").await;
    let mail = |id: &str, from: &str, subject: &str, extra: &str| {
        format!(
            "From: {from}\r\nTo: support@example.com\r\nSubject: {subject}\r\nMessage-ID: <{id}@acme.example>\r\n\
             Date: Mon, 07 Dec 2026 09:00:00 +0000\r\n{extra}Content-Type: text/plain\r\n\r\nHello.\r\n"
        )
        .into_bytes()
    };
    let sam = "\"Sam (CEO) URGENT wire money\" <sam@acme.example>";
    desk.server
        .append(&[
            mail("sam-1", sam, "Exports fail\r\n\tagain", ""),
            mail("ooo-1", "Bot <bot@acme.example>", "Automatic reply", "Auto-Submitted: auto-replied\r\n"),
        ])
        .await;
    run_at(&desk, "2026-12-07T10:00:00Z");
    let first = digests(&desk);
    let agents: Vec<String> = first.iter().map(|m| crate::support::smtp::header(m, "To").unwrap()).collect();
    assert_eq!(first.len(), 2, "one mail to each active agent: {agents:?}");
    assert!(agents.iter().any(|t| t.contains("alice@example.com")), "{agents:?}");
    assert!(agents.iter().any(|t| t.contains("bob@example.com")), "{agents:?}");
    let alice = first.iter().find(|m| crate::support::smtp::header(m, "To").unwrap().contains("alice")).unwrap();
    let reply_to = crate::support::smtp::header(alice, "Reply-To").unwrap();
    assert_eq!(reply_to, "support@example.com", "replying does nothing, so no agent's token");
    let id = held(&desk).iter().find(|r| r["kind"] == "not_member").unwrap()["id"].to_string();
    let text = text_of(alice);
    for said in [
        "sam@acme.example",
        "Exports fail again",
        &format!("supportd held show {id}"),
        &format!("Open a case:  supportd held release {id}"),
        &format!("supportd held release {id} --to-case NNNNNN"),
        &format!("supportd held discard {id}"),
        "Replying to this mail does nothing",
    ] {
        assert!(text.contains(said), "{said} in {text}");
    }
    assert!(!text.contains("URGENT") && !text.contains("CEO"), "no display name: {text}");
    assert!(!text.contains("bot@acme.example") && !text.contains("Automatic reply"), "no automated mail: {text}");

    // Within the hour: held, but no digest.
    desk.server.append(&[mail("sam-2", sam, "Imports fail too", "")]).await;
    run_at(&desk, "2026-12-07T10:30:00Z");
    assert_eq!(held(&desk).len(), 3);
    assert_eq!(digests(&desk).len(), 2, "at most one digest an hour");
    run_at(&desk, "2026-12-07T10:59:00Z");
    assert_eq!(digests(&desk).len(), 2, "still within the hour");

    // The hour has passed: the next digest lists the new message only.
    run_at(&desk, "2026-12-07T11:00:00Z");
    let all = digests(&desk);
    assert_eq!(all.len(), 4, "one more to each agent");
    let newest: Vec<String> = all[2..].iter().map(|m| text_of(m)).collect();
    for text in &newest {
        assert!(text.contains("Imports fail too"), "{text}");
        assert!(!text.contains("Exports fail"), "listed once only: {text}");
    }
    run_at(&desk, "2026-12-07T13:00:00Z");
    assert_eq!(digests(&desk).len(), 4, "nothing new held: no digest");
}

/// With `[agents] held_notify`, the digest goes to those addresses in one mail, not to the
/// agents.
#[tokio::test(flavor = "multi_thread")]
async fn held_notify_receives_the_digest_instead_of_the_agents() {
    let desk = Desk::start(|c| {
        let line = "# held_notify = [\"support-lead@example.com\"]";
        assert!(c.contains(line), "daemon.toml shows the key");
        members_only(c).replace(line, "held_notify = [\"lead@example.com\", \"ops@example.com\"]")
    })
    .await;
    desk.server.append(&[from_sam("sam-1", "Exports fail", "Hello.")]).await;
    run_at(&desk, "2026-12-07T10:00:00Z");
    let sent = digests(&desk);
    assert_eq!(sent.len(), 1, "{sent:?}");
    let to = crate::support::smtp::header(&sent[0], "To").unwrap();
    assert!(to.contains("lead@example.com") && to.contains("ops@example.com"), "{to}");
    assert!(!to.contains("alice"), "{to}");
    assert!(text_of(&sent[0]).contains("Exports fail"));
}

/// Several instances on one PostgreSQL database tick at once: one digest goes out, one mail
/// per agent, and the ledger holds one digest.
#[tokio::test(flavor = "multi_thread")]
async fn instances_ticking_together_send_one_digest() {
    use std::process::Stdio;

    use crate::support::{Backend, Sandbox};
    let sandbox = Sandbox::as_shipped(Backend::Postgres).await;
    sandbox.edit_config(|c| members_only(c) + "\n[[agent]]\nname = \"Bob\"\nemail = \"bob@example.com\"\n");
    let (out, written) = sandbox.pipe_ingest(&from_sam("sam-1", "Exports fail", "Hello."));
    assert!(out.status.success() && written.is_ok(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(sandbox.count("SELECT COUNT(*) FROM held_mail WHERE kind = 'not_member'").await, 1);
    let mut runs: Vec<std::process::Child> = (0..4)
        .map(|_| {
            sandbox
                .cmd(&["run", "--once"])
                .env("SUPPORTD_NOW", "2026-12-07T10:00:00Z")
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap()
        })
        .collect();
    for run in &mut runs {
        assert!(run.wait().unwrap().success());
    }
    assert_eq!(sandbox.count("SELECT COUNT(*) FROM outbox WHERE kind = 'held_digest'").await, 2, "Alice and Bob once");
    assert_eq!(sandbox.count("SELECT COUNT(*) FROM held_digests").await, 1);
    assert_eq!(sandbox.count("SELECT COUNT(*) FROM held_digest_items").await, 1);
}
