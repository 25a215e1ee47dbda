//! Rows of a report, written as they come in one of four formats. CSV is RFC 4180 in UTF-8
//! through the `csv` crate (with `excel`, a byte-order mark first, which Excel needs to read
//! UTF-8); JSON is one array of objects; the table is for a terminal (a few columns, long
//! text cut); HTML is a table for a browser or a mail.

use std::io::Write;

use serde::Serialize;

use super::ReportError;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Csv,
    Json,
    Table,
    Html,
}

/// A column of the terminal table: which field, under what heading, how wide.
#[derive(Debug, Clone, Copy)]
pub struct Column {
    pub field: usize,
    pub heading: &'static str,
    pub width: usize,
}

pub const fn column(field: usize, heading: &'static str, width: usize) -> Column {
    Column { field, heading, width }
}

pub struct Rows<'w> {
    kind: Kind<'w>,
}

enum Kind<'w> {
    Csv(Box<csv::Writer<&'w mut (dyn Write + Send)>>),
    Json { out: &'w mut (dyn Write + Send), first: bool },
    Table { out: &'w mut (dyn Write + Send), columns: Vec<Column> },
    Html { out: &'w mut (dyn Write + Send) },
}

impl<'w> Rows<'w> {
    /// Starts the output with its headers; `table` names the columns a terminal table shows.
    pub fn start(
        format: Format,
        excel: bool,
        out: &'w mut (dyn Write + Send),
        headers: &[&str],
        table: &[Column],
    ) -> Result<Rows<'w>, ReportError> {
        let kind = match format {
            Format::Csv => {
                if excel {
                    out.write_all("\u{feff}".as_bytes())?;
                }
                let mut w = csv::Writer::from_writer(out);
                w.write_record(headers)?;
                Kind::Csv(Box::new(w))
            }
            Format::Json => {
                out.write_all(b"[")?;
                Kind::Json { out, first: true }
            }
            Format::Table => {
                let columns = table.to_vec();
                let head: Vec<(String, usize)> = columns.iter().map(|c| (c.heading.to_owned(), c.width)).collect();
                table_line(out, &head)?;
                Kind::Table { out, columns }
            }
            Format::Html => {
                out.write_all(b"<table class=\"report\">\n<thead><tr>")?;
                for h in headers {
                    write!(out, "<th>{}</th>", handlebars::html_escape(h))?;
                }
                out.write_all(b"</tr></thead>\n<tbody>\n")?;
                Kind::Html { out }
            }
        };
        Ok(Rows { kind })
    }

    /// One row: `value` for JSON, `fields` (in header order) for the rest.
    pub fn row(&mut self, value: &impl Serialize, fields: &[impl AsRef<str>]) -> Result<(), ReportError> {
        match &mut self.kind {
            Kind::Csv(w) => {
                for f in fields {
                    w.write_field(inert(f.as_ref()).as_bytes())?;
                }
                w.write_record(std::iter::empty::<&[u8]>())?;
            }
            Kind::Json { out, first } => {
                out.write_all(if *first { b"\n  " } else { b",\n  " })?;
                serde_json::to_writer(&mut **out, value).map_err(std::io::Error::other)?;
                *first = false;
            }
            Kind::Table { out, columns } => {
                let cells: Vec<(String, usize)> =
                    columns.iter().map(|c| (fields[c.field].as_ref().to_owned(), c.width)).collect();
                table_line(&mut **out, &cells)?;
            }
            Kind::Html { out } => {
                out.write_all(b"<tr>")?;
                for f in fields {
                    write!(out, "<td>{}</td>", handlebars::html_escape(f.as_ref()))?;
                }
                out.write_all(b"</tr>\n")?;
            }
        }
        Ok(())
    }

    pub fn finish(self) -> Result<(), ReportError> {
        match self.kind {
            Kind::Csv(mut w) => w.flush()?,
            Kind::Json { out, first } => out.write_all(if first { b"]\n" } else { b"\n]\n" })?,
            Kind::Table { out, .. } => out.flush()?,
            Kind::Html { out } => out.write_all(b"</tbody>\n</table>\n")?,
        }
        Ok(())
    }
}

/// A CSV cell a spreadsheet will not run as a formula: text starting with `=`, `+`, `-`, `@`
/// or a tab is prefixed with `'` (OWASP's advice against CSV injection); numbers stay numbers.
/// A number is plain decimal digits: Rust's float parser also takes `-inf`, `-NaN` and
/// `-Infinity`, which a spreadsheet reads as text starting with `-` (a formula), and `NaN` or
/// `inf` alone are no number a report writes, so they are prefixed too.
fn inert(cell: &str) -> std::borrow::Cow<'_, str> {
    let risky = match cell.chars().next() {
        Some('=' | '+' | '@' | '\t' | '\r') => true,
        Some('-') => !is_decimal(&cell[1..]),
        _ => is_non_finite(cell),
    };
    if risky { format!("'{cell}").into() } else { cell.into() }
}

/// `12`, `2.50`, `.5`: digits with at most one point, no sign, no exponent.
fn is_decimal(s: &str) -> bool {
    let (whole, fraction) = s.split_once('.').unwrap_or((s, ""));
    let digits = |part: &str| part.bytes().all(|b| b.is_ascii_digit());
    !(whole.is_empty() && fraction.is_empty()) && digits(whole) && digits(fraction)
}

/// `NaN`, `inf`, `Infinity` in any case: what a float parser reads as not finite.
fn is_non_finite(s: &str) -> bool {
    s.parse::<f64>().is_ok_and(|f| !f.is_finite())
}

/// A table line: each cell padded to its column's width, longer text cut (at a character).
fn table_line(out: &mut (dyn Write + Send), cells: &[(String, usize)]) -> std::io::Result<()> {
    let line: Vec<String> = cells
        .iter()
        .map(|(text, width)| {
            let flat = text.replace(['\n', '\r', '\t'], " ");
            let cut: String = match flat.chars().count() > *width {
                true => flat.chars().take(width.saturating_sub(1)).chain(std::iter::once('…')).collect(),
                false => flat,
            };
            format!("{cut:<width$}")
        })
        .collect();
    writeln!(out, "{}", line.join("  ").trim_end())
}

#[cfg(test)]
mod tests {
    use super::inert;

    #[test]
    fn formulas_are_made_inert_and_numbers_are_not() {
        assert_eq!(inert("=HYPERLINK(\"http://evil/\")"), "'=HYPERLINK(\"http://evil/\")");
        assert_eq!(inert("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(inert("+1+cmd"), "'+1+cmd");
        assert_eq!(inert("-2+3"), "'-2+3");
        assert_eq!(inert("-2.50"), "-2.50", "a negative number of hours left");
        assert_eq!(inert("Printer offline"), "Printer offline");
        assert_eq!(inert(""), "");
    }

    /// Rust reads each as a float; a spreadsheet reads the signed ones as formulas.
    #[test]
    fn infinities_and_nans_are_made_inert() {
        for cell in ["-inf", "-NaN", "-Infinity", "-infinity", "-nan", "NaN", "nan", "inf", "Infinity", "+inf", "+NaN"]
        {
            assert_eq!(inert(cell), format!("'{cell}"), "{cell}");
        }
        for cell in ["-1e5", "-0x10", "-", "-.", "-1.2.3", "- 1"] {
            assert_eq!(inert(cell), format!("'{cell}"), "{cell}");
        }
        for number in ["-2", "-0.5", "-.5", "-12.", "12", "0.25", "1e5", "Information"] {
            assert_eq!(inert(number), number, "{number}");
        }
    }
}
