//! Each CRM's month: at `[scheduler] monthly_report` time on the 1st (SUPPORTD_NOW), each
//! company's CRM gets the report of November once, with its own cases only, the cases as
//! CSV and an SLA chart as a PNG that decodes; the next tick, or a restart, sends nothing.
//! `report send` sends one by hand. The report as it reaches the CRM through SMTP shows its
//! chart in place in the HTML and is kept as a screenshot (`monthly-report-mail.png`).

use mail_parser::{Message, MessageParser, MimeHeaders, PartType};

use crate::support::browser::{artifacts_dir, screenshot};
use crate::support::smtp::TestSmtp;
use crate::support::{Backend, Sandbox};

fn open(sandbox: &Sandbox, received: &str, company: &str, contact: &str, summary: &str) {
    let args = [
        "cases",
        "open",
        "--channel",
        "email",
        "--company",
        company,
        "--contact",
        contact,
        "--summary",
        summary,
        "--severity",
        "S2",
        "--received-at",
        received,
        "--as",
        "alice",
    ];
    sandbox.run_at(received, &args);
}

/// The report mails written so far, raw.
fn reports(sandbox: &Sandbox) -> Vec<Vec<u8>> {
    sandbox
        .files_in("var/outbox")
        .iter()
        .map(|n| std::fs::read(sandbox.path(&format!("var/outbox/{n}"))).unwrap())
        .filter(|m| String::from_utf8_lossy(m).contains("Message-ID: <supportd.report."))
        .collect()
}

/// (width, height, pixels that are not white) of a PNG.
fn decode_png(bytes: &[u8]) -> (u32, u32, usize) {
    let mut reader = png::Decoder::new(std::io::Cursor::new(bytes)).read_info().expect("a PNG");
    let mut pixels = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut pixels).expect("its pixels");
    let inked = pixels.chunks(3).filter(|p| *p != [255, 255, 255]).count();
    (info.width, info.height, inked)
}

async fn each_crm_gets_their_month_once(backend: Backend) {
    let sandbox = Sandbox::new(backend).await;
    sandbox.edit_config(|c| {
        c.replace(
            "[budget]\n",
            "[[company]]\nname = \"Globex\"\nslug = \"globex\"\ndomains = [\"globex.example\"]\ncrm_name = \"Dave\"\ncrm_email = \"dave@example.com\"\n\n[budget]\n",
        )
    });
    open(&sandbox, "2026-11-02T10:00:00Z", "acme", "jane@acme.example", "Checkout down");
    sandbox.run_at(
        "2026-11-02T10:30:00Z",
        &["cases", "log", "1", "--channel", "phone", "--as", "alice", "--text", "Called", "--minutes", "1h"],
    );
    open(&sandbox, "2026-11-10T10:00:00Z", "acme", "jane@acme.example", "Slow search");
    open(&sandbox, "2026-11-12T10:00:00Z", "globex", "bob@globex.example", "Export fails");
    open(&sandbox, "2026-10-20T10:00:00Z", "acme", "jane@acme.example", "An October case");
    sandbox.run_at("2026-11-30T17:00:00Z", &["run", "--once"]);
    assert!(reports(&sandbox).is_empty(), "nothing before the 1st");

    sandbox.run_at("2026-12-01T08:00:00Z", &["run", "--once"]);
    let mails = reports(&sandbox);
    assert_eq!(mails.len(), 2, "one per CRM");
    let parser = MessageParser::default();
    for raw in &mails {
        let m = parser.parse(raw).expect("a mail");
        let to = m.to().and_then(|a| a.first()).and_then(|a| a.address()).unwrap().to_owned();
        let (company, cases) = match to.as_str() {
            "carol@example.com" => ("Acme Corporation", vec!["000001", "000002"]),
            "dave@example.com" => ("Globex", vec!["000003"]),
            other => panic!("a report to {other}"),
        };
        assert_eq!(m.subject(), Some(format!("Support report for {company}, November 2026").as_str()));
        let text = m.body_text(0).unwrap();
        assert!(text.contains(&format!("Cases opened: {} (", cases.len())), "{text}");
        let file = |name: &str| {
            m.attachments()
                .find(|a| a.attachment_name() == Some(name))
                .unwrap_or_else(|| panic!("{name} attached to {to}"))
                .contents()
                .to_vec()
        };
        let csv = String::from_utf8(file("cases-2026-11.csv")).unwrap();
        let mut reader = csv::Reader::from_reader(csv.as_bytes());
        assert_eq!(reader.headers().unwrap().get(0), Some("Company Name"));
        let numbers: Vec<String> = reader.records().map(|r| r.unwrap()[2].to_owned()).collect();
        assert_eq!(numbers, cases, "{to} sees their own company's November only");
        let (width, height, inked) = decode_png(&file("sla-2026-11.png"));
        assert_eq!((width, height), (800, 440));
        assert!(inked > 2_000, "the chart has bars and axes: {inked} pixels");
        if company == "Acme Corporation" {
            let sheet = String::from_utf8(file("timesheet-2026-11.csv")).unwrap();
            assert_eq!(sheet.lines().count(), 2, "one time entry: {sheet}");
        }
    }
    sandbox.run_at("2026-12-01T08:01:00Z", &["run", "--once"]);
    sandbox.run_at("2026-12-02T09:00:00Z", &["run", "--once"]);
    assert_eq!(reports(&sandbox).len(), 2, "a later tick, or a restart, sends nothing again");

    let sent = sandbox
        .run_at("2026-12-02T09:00:00Z", &["report", "send", "acme", "--month", "2026-10", "--to", "lead@example.com"]);
    assert_eq!(sent.trim(), "queued the October 2026 report of acme (1 case) to lead@example.com");
    sandbox.run_at("2026-12-02T09:00:00Z", &["run", "--once"]);
    assert_eq!(reports(&sandbox).len(), 3);
}

#[tokio::test(flavor = "multi_thread")]
async fn each_crm_gets_their_month_once_on_sqlite() {
    each_crm_gets_their_month_once(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn each_crm_gets_their_month_once_on_postgres() {
    each_crm_gets_their_month_once(Backend::Postgres).await;
}

/// Pixels dark enough to be text in the rows `y0..y1` of an RGB PNG `width` wide.
fn dark_in_rows(pixels: &[u8], width: usize, (y0, y1): (usize, usize)) -> usize {
    pixels[y0 * width * 3..y1 * width * 3].chunks(3).filter(|p| p.iter().all(|&c| c < 100)).count()
}

/// The MIME tree of `m` from `part` down, as `type[child,child]`.
fn tree(m: &Message<'_>, part: u32) -> String {
    let p = &m.parts[part as usize];
    let ct = p.content_type().expect("every part says its type");
    let kind = format!("{}/{}", ct.ctype(), ct.subtype().unwrap_or(""));
    match &p.body {
        PartType::Multipart(children) => {
            format!("{kind}[{}]", children.iter().map(|&c| tree(m, c)).collect::<Vec<_>>().join(","))
        }
        _ => kind,
    }
}

/// The value of `attribute="…"` in the first `<img` of `html`.
fn img_attribute<'h>(html: &'h str, attribute: &str) -> &'h str {
    let img = &html[html.find("<img").expect("an <img> in the HTML")..];
    let img = &img[..img.find('>').expect("the <img> ends")];
    let from = img.find(&format!(" {attribute}=\"")).unwrap_or_else(|| panic!("{attribute} on {img}"));
    let value = &img[from + attribute.len() + 3..];
    &value[..value.find('"').expect("the value ends")]
}

/// The report as Carol's mailbox receives it from the SMTP server: its chart carries a title,
/// labels and a legend in its own pixels, and travels with the HTML (`multipart/related`),
/// which shows it in place by its Content-ID; the CSVs are attachments. The HTML, its `cid:`
/// pointed at the PNG beside it as a mail client resolves it, is rendered in Chromium and kept
/// as a CI artefact with the chart drawn in the page.
#[tokio::test(flavor = "multi_thread")]
async fn the_report_mail_arrives_with_a_labelled_chart_and_is_kept_as_a_screenshot() {
    let sink = TestSmtp::start();
    let sandbox = Sandbox::new(Backend::Sqlite).await;
    sandbox.set_outbound(&sink.outbound_toml());
    for (day, summary) in [("2026-11-02", "Checkout down"), ("2026-11-10", "Slow search"), ("2026-09-14", "Login loop")]
    {
        open(&sandbox, &format!("{day}T10:00:00Z"), "acme", "jane@acme.example", summary);
    }
    let answer = ["cases", "log", "1", "--channel", "phone", "--as", "alice", "--text", "Called", "--minutes", "30m"];
    sandbox.run_at("2026-11-02T10:30:00Z", &answer);
    sandbox.run_at("2026-12-01T08:00:00Z", &["run", "--once"]);

    let mails = sink.delivered_to("carol@example.com");
    let raw = mails.iter().find(|m| m.contains("Message-ID: <supportd.report.")).expect("the report reached Carol");
    let m = MessageParser::default().parse(raw.as_bytes()).expect("a mail");
    assert_eq!(
        tree(&m, 0),
        "multipart/mixed[multipart/alternative[text/plain,multipart/related[text/html,image/png]],text/csv,text/csv]"
    );
    let html = m.body_html(0).expect("an HTML part").into_owned();
    let text = m.body_text(0).expect("a text part").into_owned();
    assert!(text.contains("Cases opened: 2 (2 by email)"), "{text}");
    assert!(text.contains("(sla-2026-11.png) is shown in the HTML version of this mail"), "{text}");

    let image = m.parts.iter().find(|p| p.content_id().is_some()).expect("the chart has a Content-ID");
    let cid = image.content_id().unwrap();
    assert!(cid.starts_with("chart.supportd.report.") && cid.ends_with("@example.com"), "ours: {cid}");
    assert_eq!(img_attribute(&html, "src"), format!("cid:{cid}"), "the HTML shows the chart part");
    assert_eq!((img_attribute(&html, "width"), img_attribute(&html, "height")), ("800", "440"));
    assert!(img_attribute(&html, "alt").contains("per severity S1 to S4"), "{html}");
    assert_eq!(image.content_disposition().map(|d| d.ctype()), Some("inline"));
    assert_eq!(image.attachment_name(), Some("sla-2026-11.png"), "named for clients that list it");
    for csv in ["cases-2026-11.csv", "timesheet-2026-11.csv"] {
        let part = m.attachments().find(|a| a.attachment_name() == Some(csv)).expect(csv);
        assert!(part.content_disposition().is_some_and(|d| d.is_attachment()), "{csv} is an attachment");
    }

    let chart = image.contents().to_vec();
    let mut reader = png::Decoder::new(std::io::Cursor::new(&chart)).read_info().expect("a PNG");
    let mut pixels = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut pixels).expect("its pixels");
    let width = info.width as usize;
    assert!(dark_in_rows(&pixels, width, (0, 45)) > 100, "a title");
    assert!(dark_in_rows(&pixels, width, (335, 360)) > 100, "severities and months named");
    assert!(dark_in_rows(&pixels, width, (385, 410)) > 150, "a legend");
    let blue = |p: &[u8]| p[0].abs_diff(46) < 8 && p[1].abs_diff(110) < 8 && p[2].abs_diff(200) < 8;
    let chart_blue = pixels.chunks(3).filter(|p| blue(p)).count();
    assert!(chart_blue > 1_000, "the chart has response bars: {chart_blue} pixels");

    let dir = artifacts_dir();
    std::fs::write(dir.join("sla-2026-11.png"), &chart).unwrap();
    let shown = html.replace(&format!("cid:{cid}"), "sla-2026-11.png");
    let page = dir.join("monthly-report-mail.html");
    std::fs::write(&page, shown).unwrap();
    let shot = screenshot(&format!("file://{}", page.display()), "monthly-report-mail.png", "1000,1100");
    let bytes = std::fs::read(shot).unwrap();
    let mut reader = png::Decoder::new(std::io::Cursor::new(bytes)).read_info().unwrap();
    let mut rendered = vec![0; reader.output_buffer_size().unwrap()];
    let samples = reader.next_frame(&mut rendered).unwrap().color_type.samples();
    let page_blue = rendered.chunks(samples).filter(|p| blue(p)).count();
    assert!(page_blue * 10 > chart_blue * 9, "the chart is drawn in the page: {page_blue} of {chart_blue} bar pixels");
}
