//! `#report` by email, through Dovecot and the SMTP receiver: Acme's CRM replies to mail the
//! desk sent her (its Reply-To carries Acme's token) with `#report 2026-11` and receives
//! Acme's November report with the cases as CSV; a stranger, the same CRM asking for another
//! company, and a request without the token get nothing, and each is held with its reason.

use std::sync::atomic::{AtomicUsize, Ordering};

use super::Desk;
use crate::support::smtp::header;

fn request(from: &str, to: &str, body: &str) -> Vec<u8> {
    static SEQ: AtomicUsize = AtomicUsize::new(0);
    format!(
        "From: {from}\r\nTo: {to}\r\nSubject: Re: Support report\r\nMessage-ID: <request-{}@example.com>\r\n\
         Date: Wed, 02 Dec 2026 09:00:00 +0000\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{body}\r\n",
        SEQ.fetch_add(1, Ordering::Relaxed)
    )
    .into_bytes()
}

/// The reports the SMTP receiver got for `to`: (subject, the cases CSV's case numbers).
fn reports_to(desk: &Desk, to: &str) -> Vec<(String, Vec<String>)> {
    desk.sent_to(to)
        .into_iter()
        .filter(|(raw, _)| header(raw, "Subject").is_some_and(|s| s.starts_with("Support report for")))
        .map(|(raw, parsed)| {
            let csv =
                parsed.attachments.iter().find(|a| a.filename.as_deref().is_some_and(|n| n.starts_with("cases-")));
            let csv = csv.expect("the cases attached").data.clone();
            let mut reader = csv::Reader::from_reader(csv.as_slice());
            let numbers = reader.records().map(|r| r.unwrap()[2].to_owned()).collect();
            (header(&raw, "Subject").unwrap(), numbers)
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn the_crm_gets_their_report_by_asking_and_no_one_else_does() {
    // No monthly reports here: only what is asked for.
    let desk = Desk::start(|c| {
        c.replace("monthly_report = \"0 0 8 1 * *\"", "monthly_report = \"off\"").replace(
            "[budget]\n",
            "[[company]]\nname = \"Globex\"\nslug = \"globex\"\ndomains = [\"globex.example\"]\ncrm_name = \"Dave\"\ncrm_email = \"dave@example.com\"\n\n[budget]\n",
        )
    })
    .await;
    let open = |company: &str, contact: &str, at_: &str| {
        let args = [
            "cases",
            "open",
            "--channel",
            "phone",
            "--company",
            company,
            "--contact",
            contact,
            "--summary",
            "Help",
            "--received-at",
            at_,
            "--as",
            "alice",
        ];
        desk.sandbox.run_at(at_, &args);
    };
    open("acme", "jane@acme.example", "2026-11-03T10:00:00Z");
    open("globex", "bob@globex.example", "2026-11-04T10:00:00Z");
    open("acme", "jane@acme.example", "2026-11-05T10:00:00Z");
    // The desk has mailed Carol before (October's report); its Reply-To carries Acme's token.
    desk.sandbox.run_at("2026-12-01T12:00:00Z", &["report", "send", "acme", "--month", "2026-10"]);
    desk.run();
    let (raw, _) = desk
        .sent_to("carol@example.com")
        .into_iter()
        .find(|(raw, _)| header(raw, "Subject").is_some_and(|s| s.contains("October 2026")))
        .expect("October's report to Carol");
    let reply_to = header(&raw, "Reply-To").unwrap();
    assert!(reply_to.starts_with("support+") && reply_to.ends_with("@example.com"), "{reply_to}");

    let asked = request("Carol CRM <carol@example.com>", &reply_to, "#report 2026-11\r\n\r\nThanks, Carol");
    desk.server.append(std::slice::from_ref(&asked)).await;
    desk.run();
    let got = reports_to(&desk, "carol@example.com");
    assert_eq!(got.len(), 2, "October's, then the one she asked for");
    assert_eq!(got[1].0, "Support report for Acme Corporation, November 2026");
    assert_eq!(got[1].1, ["000001", "000003"], "Acme's November cases only");
    // The same request delivered again is answered once.
    desk.server.append(&[asked]).await;
    desk.run();
    assert_eq!(reports_to(&desk, "carol@example.com").len(), 2, "not twice for one request");
    // A customer's mail that merely starts with the word is an ordinary request for help.
    let jane = request("Jane <jane@acme.example>", "support@example.com", "#report is broken on the dashboard");
    desk.server.append(&[jane]).await;
    desk.run();
    assert_eq!(desk.sandbox.cases().len(), 4, "Jane's mail opened a case");

    // A stranger; Carol asking for Globex; Dave (Globex's CRM) writing without his token.
    desk.server.append(&[request("Mallory <mallory@evil.example>", "support@example.com", "#report 2026-11")]).await;
    desk.server.append(&[request("Carol CRM <carol@example.com>", &reply_to, "#report globex 2026-11")]).await;
    desk.server.append(&[request("Dave <dave@example.com>", "support@example.com", "#report 2026-11")]).await;
    desk.run();
    assert!(desk.sent_to("mallory@evil.example").is_empty(), "nothing to a stranger");
    assert_eq!(reports_to(&desk, "carol@example.com").len(), 2, "not Globex's to Carol");
    assert!(reports_to(&desk, "dave@example.com").is_empty(), "not without the token");
    let out = desk.sandbox.run(&["held", "list", "--format", "json"]);
    let held: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let refused: Vec<(&str, &str)> = held
        .as_array()
        .unwrap()
        .iter()
        .filter(|h| h["kind"] == "report_request")
        .map(|h| (h["from"].as_str().unwrap(), h["reason"].as_str().unwrap()))
        .collect();
    assert_eq!(refused.len(), 3, "{held:#}");
    assert!(refused[0].1.contains("is no company's CRM"), "{refused:?}");
    assert!(refused[1].1.contains("may not have the report of \"globex\""), "{refused:?}");
    assert!(
        refused[2].1.contains("could not be verified: it was not sent to the sender's personal address"),
        "{refused:?}"
    );
    assert_eq!(desk.sandbox.cases().len(), 4, "a request opens no case");
}

/// How-to replies to `to` received so far.
fn howtos_to(desk: &Desk, to: &str) -> Vec<supportd::mail::ParsedMessage> {
    desk.sent_to(to).into_iter().filter(|(raw, _)| raw.contains(".report-howto.")).map(|(_, m)| m).collect()
}

/// Carol writes `#report 2026-11` to the support address itself, as the README once said:
/// it cannot be verified, so it is held and she is told, once that day, how to ask; a
/// stranger is told nothing. `held release` of her request sends the report and opens no
/// case. Her reply to the report (at her personal address) is a note for the agents: no case,
/// no acknowledgement.
#[tokio::test(flavor = "multi_thread")]
async fn an_unverified_crm_is_told_how_to_ask_and_her_reply_to_a_report_is_a_note() {
    let desk = Desk::start(|c| c.replace("monthly_report = \"0 0 8 1 * *\"", "monthly_report = \"off\"")).await;
    let fresh = request("Carol CRM <carol@example.com>", "support@example.com", "#report 2026-11\r\n\r\nCarol");
    desk.server.append(&[fresh]).await;
    desk.run();
    let howtos = howtos_to(&desk, "carol@example.com");
    assert_eq!(howtos.len(), 1, "one how-to");
    assert_eq!(howtos[0].subject, "How to ask for the support report of Acme Corporation");
    let text = howtos[0].text_body.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(text.contains("could not verify that it comes from you, so no report was sent"), "{text}");
    assert!(text.contains("reply to this email with your request as the first line: #report 2026-11"), "{text}");
    assert!(reports_to(&desk, "carol@example.com").is_empty(), "no report without verification");

    // The same day: a second request is held without a second how-to; a stranger hears nothing.
    let again = request("Carol CRM <carol@example.com>", "support@example.com", "#report 2026-10");
    let mallory = request("Mallory <mallory@evil.example>", "support@example.com", "#report 2026-11");
    desk.server.append(&[again, mallory]).await;
    desk.run();
    assert_eq!(howtos_to(&desk, "carol@example.com").len(), 1, "at most one a day");
    assert!(desk.sent_to("mallory@evil.example").is_empty(), "no backscatter to a stranger");
    let out = desk.sandbox.run(&["held", "list", "--format", "json"]);
    let held: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let carols: Vec<i64> = held
        .as_array()
        .unwrap()
        .iter()
        .filter(|h| h["kind"] == "report_request" && h["from"] == "carol@example.com")
        .map(|h| h["id"].as_i64().unwrap())
        .collect();
    assert_eq!(carols.len(), 2, "{held:#}");
    // A stranger's request is never released into a report: the report goes to CRMs only.
    let mallorys = held.as_array().unwrap().iter().find(|h| h["from"] == "mallory@evil.example").unwrap();
    let out = desk.sandbox.run(&["held", "release", &mallorys["id"].to_string()]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("mallory@evil.example is no company's CRM"), "{err}");

    // An agent vouches for the first: the report goes to Carol; no case, no acknowledgement.
    let out = desk.sandbox.run(&["held", "release", &carols[0].to_string()]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        format!("held #{} released: the 2026-11 report of acme queued to carol@example.com", carols[0])
    );
    desk.run();
    assert!(desk.sent_to("mallory@evil.example").is_empty(), "nothing to the stranger");
    let got = reports_to(&desk, "carol@example.com");
    assert_eq!(got.len(), 1, "the report was sent");
    assert_eq!(got[0].0, "Support report for Acme Corporation, November 2026");
    assert!(desk.sandbox.cases().is_empty(), "no case opened");
    let to_carol = desk.sent_to("carol@example.com").len();

    // Carol answers the report at her personal address.
    let (raw, _) = desk
        .sent_to("carol@example.com")
        .into_iter()
        .find(|(raw, _)| header(raw, "Subject").is_some_and(|s| s.starts_with("Support report for")))
        .unwrap();
    let (reply_to, id) = (header(&raw, "Reply-To").unwrap(), header(&raw, "Message-ID").unwrap());
    assert!(reply_to.starts_with("support+"), "{reply_to}");
    let reply = format!(
        "From: Carol CRM <carol@example.com>\r\nTo: {reply_to}\r\nSubject: Re: Support report for Acme Corporation, \
         November 2026\r\nMessage-ID: <carol-reply@example.com>\r\nIn-Reply-To: {id}\r\nReferences: {id}\r\n\
         Date: Mon, 07 Dec 2026 09:00:00 +0000\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n\
         Thanks! Can we talk about the S2 breaches on Monday?\r\n\r\nCarol\r\n"
    );
    desk.server.append(&[reply.into_bytes()]).await;
    desk.run();
    assert!(desk.sandbox.cases().is_empty(), "a reply to a report opens no case");
    assert_eq!(desk.sent_to("carol@example.com").len(), to_carol, "and is not acknowledged");
    let notes: Vec<_> =
        desk.sent_to("alice@example.com").into_iter().filter(|(raw, _)| raw.contains(".crm-reply.")).collect();
    assert_eq!(notes.len(), 1, "the agents get the note");
    let (raw, note) = &notes[0];
    assert_eq!(
        note.subject,
        "Note from Carol CRM (Acme Corporation): Re: Support report for Acme Corporation, November 2026"
    );
    assert_eq!(header(raw, "Reply-To").as_deref(), Some("carol@example.com"), "answering it answers Carol");
    let text = super::normalise(&note.text_body).replace('\n', " ");
    assert!(text.contains("replied to the desk's support report"), "{text}");
    assert!(text.contains("Thanks! Can we talk about the S2 breaches on Monday?"), "{text}");
}

/// The how-to goes to Carol's configured address and nowhere else, so only she reads it: its
/// Reply-To is her personal address, and the easiest way to ask is to reply to it. She does,
/// with `#report 2026-12` above the quoted how-to, and December's report comes back.
#[tokio::test(flavor = "multi_thread")]
async fn the_crm_replies_to_the_howto_with_her_request_and_receives_the_report() {
    let desk = Desk::start(|c| c.replace("monthly_report = \"0 0 8 1 * *\"", "monthly_report = \"off\"")).await;
    // Anyone may write a display name: the how-to greets her by the name configured for her.
    let fresh = request(
        "Win a prize at evil.example <Carol@Example.com>",
        "support@example.com",
        "#report 2026-12\r\n\r\nCarol",
    );
    desk.server.append(&[fresh]).await;
    desk.run();
    let (raw, howto) = desk
        .sent_to("carol@example.com")
        .into_iter()
        .find(|(raw, _)| raw.contains(".report-howto."))
        .expect("the how-to");
    let to = header(&raw, "To").unwrap();
    assert!(to.contains("<carol@example.com>"), "her address as configured: {to}");
    assert!(!raw.contains("evil.example"), "no word of the forged display name: {raw}");
    assert!(howto.text_body.starts_with("Hello Carol CRM,"), "{}", howto.text_body);
    let reply_to = header(&raw, "Reply-To").unwrap();
    assert!(reply_to.starts_with("support+") && reply_to.ends_with("@example.com"), "her personal address: {reply_to}");
    let text = howto.text_body.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        text.contains(
            "To ask so that it can be verified, reply to this email with your request as the first line: \
             #report 2026-12 The reply address of this email is your personal one: a request sent to it is \
             verified, and the report comes back to you by email."
        ),
        "{text}"
    );
    assert!(!text.contains("DKIM"), "only the token is checked: {text}");
    assert!(reports_to(&desk, "carol@example.com").is_empty());

    let id = header(&raw, "Message-ID").unwrap();
    let quoted: String = howto.text_body.lines().map(|l| format!("> {l}\r\n")).collect();
    let reply = format!(
        "From: Carol CRM <carol@example.com>\r\nTo: {reply_to}\r\nSubject: Re: {}\r\n\
         Message-ID: <carol-asks-again@example.com>\r\nIn-Reply-To: {id}\r\nReferences: {id}\r\n\
         Date: Mon, 07 Dec 2026 09:30:00 +0000\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n\
         #report 2026-12\r\n\r\nOn Mon, 7 Dec 2026, Support <support@example.com> wrote:\r\n{quoted}",
        howto.subject
    );
    desk.server.append(&[reply.into_bytes()]).await;
    desk.run();
    let got = reports_to(&desk, "carol@example.com");
    assert_eq!(got.len(), 1, "the report she asked for");
    assert_eq!(got[0].0, "Support report for Acme Corporation, December 2026");
    assert!(desk.sandbox.cases().is_empty(), "no case");
    let out = desk.sandbox.run(&["held", "list", "--format", "json"]);
    let held: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(held.as_array().unwrap().len(), 1, "only her first request is held: {held:#}");
}

/// A held `#report` request is released once: of four releases at the same moment, one sends
/// the report and the others are told it was already released; so is a later one. Releasing sends the
/// report, so the options that shape a case are refused, and the digest says what releasing
/// it does.
#[tokio::test(flavor = "multi_thread")]
async fn a_held_request_is_released_once_and_options_for_a_case_are_refused() {
    let desk = Desk::start(|c| c.replace("monthly_report = \"0 0 8 1 * *\"", "monthly_report = \"off\"")).await;
    let tag = desk.customer_writes(1, "Exports fail").await;
    let number = tag.trim_start_matches("[Case #").trim_end_matches(']').to_owned();
    // The display name is the sender's to write: the report goes to her by her configured name.
    let fresh = request("Win a prize <carol@example.com>", "support@example.com", "#report 2026-11\r\n\r\nCarol");
    desk.server.append(&[fresh]).await;
    desk.run();
    desk.run();
    let out = desk.sandbox.run(&["held", "list", "--format", "json"]);
    let held: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let id = held.as_array().unwrap().iter().find(|h| h["kind"] == "report_request").unwrap()["id"].to_string();

    let digest = desk
        .sent_to("alice@example.com")
        .into_iter()
        .find(|(raw, _)| header(raw, "Subject").is_some_and(|s| s.starts_with("Held mail to review")))
        .map(|(_, m)| m.text_body)
        .expect("the digest");
    assert!(digest.contains(&format!("Send the report:  supportd held release {id}")), "{digest}");
    assert!(!digest.contains("--to-case") && !digest.contains("Open a case"), "{digest}");

    for option in [&["--to-case", number.as_str()][..], &["--company", "acme"], &["--add-member"]] {
        let out = desk.sandbox.run(&[&["held", "release", id.as_str()][..], option].concat());
        assert_eq!(out.status.code(), Some(64), "{option:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains(&format!("is a #report request: releasing it sends the report, so {}", option[0])),
            "{err}"
        );
    }
    assert!(reports_to(&desk, "carol@example.com").is_empty(), "nothing sent by a refused release");

    // Four releases at once, in one process so that they truly overlap: each reads the message
    // as held before any has settled it.
    let config = supportd::config::Config::load(&desk.sandbox.path("daemon.toml")).unwrap();
    let templates = supportd::templates::Templates::load(&config.templates_dir).unwrap();
    let app = supportd::app::open_desk(config, templates).await.unwrap();
    let held_id: i64 = id.parse().unwrap();
    let release = || supportd::ingest::held::release(&app, held_id, Default::default());
    let results = futures::future::join_all((0..4).map(|_| release())).await;
    assert_eq!(results.iter().filter(|r| r.is_ok()).count(), 1, "one release: {results:?}");
    for r in results.iter().filter_map(|r| r.as_ref().err()) {
        assert!(r.to_string().contains("was already released"), "{r}");
    }
    desk.run();
    assert_eq!(reports_to(&desk, "carol@example.com").len(), 1, "one report");
    let (raw, _) =
        desk.sent_to("carol@example.com").into_iter().find(|(raw, _)| raw.contains("Support report for")).unwrap();
    assert_eq!(header(&raw, "To").as_deref(), Some("\"Carol CRM\" <carol@example.com>"));
    let again = desk.sandbox.run(&["held", "release", &id]);
    assert_eq!(again.status.code(), Some(64));
    desk.run();
    assert_eq!(reports_to(&desk, "carol@example.com").len(), 1, "still one report");
}
