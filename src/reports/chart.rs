//! The SLA-attainment chart of a company's report, a PNG that has to make sense when a CRM
//! forwards it alone: a title with the company and month; on the left, per severity S1–S4, the
//! share of first responses (blue) and resolutions (green) within target; on the right, the
//! share of first responses within target in each of the last six months, named; a 0–100%
//! scale on both and a legend. A share with nothing to count (no case, or no target decided:
//! an exempt Bug or Request has no resolution target) is a low hatched strip on the baseline
//! with its words above, never a bar: 0% is a stub in the bar's colour labelled "0%".
//!
//! Drawn with `plotters` (bitmap backend, text through `ab_glyph` from an embedded DejaVu Sans,
//! so no system font is needed) into an RGB buffer that the `png` crate encodes, which keeps
//! the `image` crate and its codecs out of the build.

use chrono::{Months, NaiveDate};
use plotters::backend::BitMapBackend;
use plotters::coord::Shift;
use plotters::drawing::DrawingAreaErrorKind;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

/// Bars as shares from 0 to 100; `None` when no case was there to count.
pub struct Chart {
    /// The company the report is for, named in the title.
    pub company: String,
    /// Any day of the report's month (the last of the trend).
    pub month: NaiveDate,
    /// Per severity S1..S4: (responses, resolutions).
    pub by_severity: [(Option<f64>, Option<f64>); 4],
    /// The months up to `month`, oldest first: responses within target.
    pub trend: Vec<Option<f64>>,
}

#[derive(Debug, thiserror::Error)]
pub enum ChartError {
    /// Kept as words: plotters' error is generic over the backend and borrows nothing worth keeping.
    #[error("drawing the chart: {0}")]
    Draw(String),
    #[error("encoding the chart: {0}")]
    Encode(#[from] png::EncodingError),
}

impl<E: std::error::Error + Send + Sync> From<DrawingAreaErrorKind<E>> for ChartError {
    fn from(e: DrawingAreaErrorKind<E>) -> Self {
        ChartError::Draw(e.to_string())
    }
}

const W: u32 = 800;
const H: u32 = 440;
const FONT: &str = "sans-serif";
const TEXT: RGBColor = RGBColor(33, 33, 33);
const GRID: RGBColor = RGBColor(225, 225, 225);
const AXIS: RGBColor = RGBColor(90, 90, 90);
const NO_CASE: RGBColor = RGBColor(150, 150, 150);
const RESPONSE: RGBColor = RGBColor(46, 110, 200);
const RESOLUTION: RGBColor = RGBColor(40, 160, 90);
/// The plot's 100% and 0% lines, in pixels from the top.
const TOP: i32 = 90;
const BASE: i32 = 330;
/// Left and right ends of the two panels' plotting areas.
const SEVERITY_X: (i32, i32) = (70, 380);
const TREND_X: (i32, i32) = (480, 780);
const LEGEND_Y: i32 = 396;

fn register_font() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let bytes: &'static [u8] = include_bytes!("../../assets/fonts/DejaVuSans.ttf");
        plotters::style::register_font(FONT, FontStyle::Normal, bytes)
            .unwrap_or_else(|_| panic!("the embedded DejaVu Sans is a valid font"));
    });
}

type Area<'a> = DrawingArea<BitMapBackend<'a>, Shift>;
type Drawn = Result<(), ChartError>;

fn text(size: u32, color: RGBColor, h: HPos, v: VPos) -> TextStyle<'static> {
    (FONT, size).into_font().color(&color).pos(Pos::new(h, v))
}

impl Chart {
    /// The PNG's width and height in pixels, which the HTML mail gives its `<img>`.
    pub const SIZE: (u32, u32) = (W, H);

    pub fn png(&self) -> Result<Vec<u8>, ChartError> {
        register_font();
        let mut pixels = vec![255u8; (W * H * 3) as usize];
        {
            let root = BitMapBackend::with_buffer(&mut pixels, (W, H)).into_drawing_area();
            self.draw(&root)?;
            root.present()?;
        }
        let mut out = Vec::new();
        let mut encoder = png::Encoder::new(&mut out, W, H);
        encoder.set_color(png::ColorType::Rgb);
        encoder.set_depth(png::BitDepth::Eight);
        encoder.write_header()?.write_image_data(&pixels)?;
        Ok(out)
    }

    fn draw(&self, root: &Area) -> Drawn {
        let month = self.month.format("%B %Y");
        let title = format!("SLA targets met — {}, {month}", self.company);
        root.draw_text(&title, &text(22, TEXT, HPos::Left, VPos::Top), (20, 14))?;
        let sub = text(15, TEXT, HPos::Left, VPos::Top);
        root.draw_text(&format!("By severity, {month}"), &sub, (SEVERITY_X.0, 56))?;
        root.draw_text(&format!("First responses, {}", self.months_span()), &sub, (TREND_X.0, 56))?;
        scale(root, SEVERITY_X)?;
        scale(root, TREND_X)?;
        self.severities(root)?;
        self.trend(root)?;
        legend(root)
    }

    fn severities(&self, root: &Area) -> Drawn {
        let group = (SEVERITY_X.1 - SEVERITY_X.0) / 4;
        let bar = 32;
        for (i, (response, resolution)) in self.by_severity.iter().enumerate() {
            let x = SEVERITY_X.0 + i as i32 * group + (group - 2 * bar) / 2;
            if response.is_none() && resolution.is_none() {
                no_case(root, x, 2 * bar, "no case")?;
            } else {
                share_bar(root, x, bar, *response, RESPONSE, "n/a")?;
                share_bar(root, x + bar, bar, *resolution, RESOLUTION, "n/a")?;
            }
            let centre = x + bar;
            let label = format!("S{}", i + 1);
            root.draw_text(&label, &text(16, TEXT, HPos::Center, VPos::Top), (centre, BASE + 8))?;
        }
        Ok(())
    }

    fn trend(&self, root: &Area) -> Drawn {
        let slot = (TREND_X.1 - TREND_X.0) / self.trend.len().max(1) as i32;
        let bar = slot * 3 / 5;
        for (i, share) in self.trend.iter().enumerate() {
            let x = TREND_X.0 + i as i32 * slot + (slot - bar) / 2;
            share_bar(root, x, bar, *share, RESPONSE, "no case")?;
            let name = self.month_of(i).format("%b").to_string();
            root.draw_text(&name, &text(15, TEXT, HPos::Center, VPos::Top), (x + bar / 2, BASE + 8))?;
        }
        Ok(())
    }

    /// The month of the trend's `i`-th bar (the last is the report's).
    fn month_of(&self, i: usize) -> NaiveDate {
        let back = (self.trend.len().saturating_sub(i + 1)) as u32;
        self.month.checked_sub_months(Months::new(back)).unwrap_or(self.month)
    }

    /// "Jun–Nov 2026", or "Aug 2026 – Jan 2027" across a new year.
    fn months_span(&self) -> String {
        let (first, last) = (self.month_of(0), self.month);
        if first.format("%Y").to_string() == last.format("%Y").to_string() {
            format!("{}–{}", first.format("%b"), last.format("%b %Y"))
        } else {
            format!("{} – {}", first.format("%b %Y"), last.format("%b %Y"))
        }
    }
}

fn y_of(share: f64) -> i32 {
    BASE - ((BASE - TOP) as f64 * share.clamp(0.0, 100.0) / 100.0).round() as i32
}

/// Grid lines and percent labels every 25%, and the baseline.
fn scale(root: &Area, (left, right): (i32, i32)) -> Drawn {
    for pct in [0, 25, 50, 75, 100] {
        let y = y_of(pct as f64);
        let line = if pct == 0 { AXIS } else { GRID };
        root.draw(&PathElement::new(vec![(left, y), (right, y)], line.stroke_width(if pct == 0 { 2 } else { 1 })))?;
        root.draw_text(&format!("{pct}%"), &text(13, TEXT, HPos::Right, VPos::Center), (left - 6, y))?;
    }
    Ok(())
}

/// A bar standing on the baseline with its share written above; 0% is a stub of the bar's
/// colour, so that "decided, none met" is not mistaken for "nothing to decide".
fn share_bar(root: &Area, x: i32, width: i32, share: Option<f64>, color: RGBColor, missing: &str) -> Drawn {
    let Some(share) = share else { return no_case(root, x, width, missing) };
    let top = y_of(share).min(BASE - 4);
    root.draw(&Rectangle::new([(x + 2, top), (x + width - 2, BASE)], color.filled()))?;
    let label = format!("{share:.0}%");
    root.draw_text(&label, &text(12, TEXT, HPos::Center, VPos::Bottom), (x + width / 2, top - 3))?;
    Ok(())
}

/// How tall the "nothing to count" strip is: low enough that it cannot be read as a share
/// (6 px is 2.5% of the scale, and it has no fill).
const NO_CASE_HEIGHT: i32 = 6;

/// A low hatched strip on the baseline with `words` above it: nothing was there to count.
fn no_case(root: &Area, x: i32, width: i32, words: &str) -> Drawn {
    let (left, right, top) = (x + 2, x + width - 2, BASE - NO_CASE_HEIGHT);
    hatched(root, (left, top), (right, BASE))?;
    root.draw_text(words, &text(12, TEXT, HPos::Center, VPos::Bottom), ((left + right) / 2, top - 3))?;
    Ok(())
}

/// An outlined box crossed by "/" lines 7 px apart, each cut to the box by hand (plotters
/// clamps, rather than clips, what falls outside a sub-area).
fn hatched(root: &Area, (left, top): (i32, i32), (right, bottom): (i32, i32)) -> Drawn {
    let (w, h) = (right - left, bottom - top);
    for c in (7..w + h).step_by(7) {
        let (x0, x1) = ((c - h).max(0), c.min(w));
        let line = vec![(left + x0, bottom - (c - x0)), (left + x1, bottom - (c - x1))];
        root.draw(&PathElement::new(line, NO_CASE.stroke_width(1)))?;
    }
    root.draw(&Rectangle::new([(left, top), (right, bottom)], NO_CASE.stroke_width(1)))?;
    Ok(())
}

fn legend(root: &Area) -> Drawn {
    let keys = [
        (Some(RESPONSE), "First responses within target"),
        (Some(RESOLUTION), "Resolutions within target"),
        (None, "No case, or no target (n/a)"),
    ];
    let mut x = 20;
    let style = text(14, TEXT, HPos::Left, VPos::Center);
    for (color, words) in keys {
        match color {
            Some(c) => root.draw(&Rectangle::new([(x, LEGEND_Y - 7), (x + 14, LEGEND_Y + 7)], c.filled()))?,
            None => hatched(root, (x, LEGEND_Y - 7), (x + 14, LEGEND_Y + 7))?,
        }
        root.draw_text(words, &style, (x + 20, LEGEND_Y))?;
        let (w, _) = root.estimate_text_size(words, &style)?;
        x += 20 + w as i32 + 24;
    }
    let note = "Shares of cases whose target was met, in business hours of the support calendar. \
                n/a: no case, no target (Bug, Request), or none decided yet.";
    root.draw_text(note, &text(12, AXIS, HPos::Left, VPos::Center), (20, LEGEND_Y + 26))?;
    Ok(())
}

#[cfg(test)]
#[path = "chart_tests.rs"]
mod tests;
