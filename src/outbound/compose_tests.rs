use mail_parser::{Message, MessageParser, MimeHeaders, PartType};

use super::*;

/// The MIME tree as `type[child,child]`, so a test states the whole structure at once.
fn tree(m: &Message<'_>, part: u32) -> String {
    let p = &m.parts[part as usize];
    let ct = p.content_type().expect("every part of ours says its type");
    let kind = format!("{}/{}", ct.ctype(), ct.subtype().unwrap_or(""));
    match &p.body {
        PartType::Multipart(children) => {
            let inner: Vec<String> = children.iter().map(|&c| tree(m, c)).collect();
            format!("{kind}[{}]", inner.join(","))
        }
        _ => kind,
    }
}

fn rendered() -> Rendered {
    Rendered {
        subject: "Report".into(),
        text: "See the chart.".into(),
        html: "<p><img src=\"cid:chart.r1@example.com\"></p>".into(),
    }
}

fn file(name: &str, content_type: &str, data: &[u8]) -> Attachment {
    Attachment { filename: Some(name.into()), content_type: content_type.into(), data: data.to_vec() }
}

fn with(images: &[InlineImage<'_>], files: &[Attachment]) -> Result<Vec<u8>, ComposeError> {
    let support: EmailAddress = "support@example.com".parse().unwrap();
    let carol: EmailAddress = "carol@example.com".parse().unwrap();
    let rendered = rendered();
    let mail = Composed {
        attachments: files,
        inline_images: images,
        ..Composed::notice((None, &support), &support, vec![(None, &carol)], "r1@example.com", &rendered)
    };
    compose(&mail)
}

#[test]
fn mail_without_inline_images_keeps_its_shape() {
    let plain = with(&[], &[]).unwrap();
    let m = MessageParser::default().parse(&plain).unwrap();
    assert_eq!(tree(&m, 0), "multipart/alternative[text/plain,text/html]");
    let csv = [file("cases.csv", "text/csv", b"a,b\n")];
    let mixed = with(&[], &csv).unwrap();
    let m = MessageParser::default().parse(&mixed).unwrap();
    assert_eq!(tree(&m, 0), "multipart/mixed[multipart/alternative[text/plain,text/html],text/csv]");
}

#[test]
fn inline_images_travel_with_the_html_and_files_stay_attachments() {
    let png = file("sla-2026-11.png", "image/png", b"\x89PNG\r\n\x1a\nbytes");
    let id = content_id("chart", "r1@example.com");
    assert_eq!(id, "chart.r1@example.com");
    let raw = with(&[InlineImage { content_id: &id, file: &png }], &[file("cases.csv", "text/csv", b"a\n")]).unwrap();
    let m = MessageParser::default().parse(&raw).unwrap();
    assert_eq!(
        tree(&m, 0),
        "multipart/mixed[multipart/alternative[text/plain,multipart/related[text/html,image/png]],text/csv]"
    );
    let image = m.parts.iter().find(|p| p.content_id().is_some()).expect("a part with a Content-ID");
    assert_eq!(image.content_id(), Some("chart.r1@example.com"));
    let disposition = image.content_disposition().unwrap();
    assert_eq!((disposition.ctype(), image.attachment_name()), ("inline", Some("sla-2026-11.png")));
    assert_eq!(image.contents(), png.data.as_slice());
    assert!(String::from_utf8_lossy(&raw).contains("Content-ID: <chart.r1@example.com>\r\n"));
}

#[test]
fn a_content_id_that_could_break_the_header_is_refused() {
    let png = file("a.png", "image/png", b"x");
    for bad in ["", "a b@example.com", "a>\r\nBcc: x@example.com", "<a@example.com>"] {
        let err = with(&[InlineImage { content_id: bad, file: &png }], &[]).unwrap_err();
        assert!(matches!(err, ComposeError::ContentId(_)), "{bad:?}: {err}");
    }
}
