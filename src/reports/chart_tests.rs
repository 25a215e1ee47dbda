use super::*;

struct Image {
    width: usize,
    pixels: Vec<u8>,
}

impl Image {
    fn decode(bytes: &[u8]) -> Image {
        let mut reader = png::Decoder::new(std::io::Cursor::new(bytes)).read_info().unwrap();
        let mut pixels = vec![0; reader.output_buffer_size().unwrap()];
        let info = reader.next_frame(&mut pixels).unwrap();
        assert_eq!((info.width, info.height, info.color_type), (W, H, png::ColorType::Rgb));
        Image { width: info.width as usize, pixels }
    }

    fn at(&self, x: i32, y: i32) -> [u8; 3] {
        let i = (y as usize * self.width + x as usize) * 3;
        [self.pixels[i], self.pixels[i + 1], self.pixels[i + 2]]
    }

    /// Pixels in `x0..x1` × `y0..y1` that match `keep`.
    fn count(&self, (x0, x1): (i32, i32), (y0, y1): (i32, i32), keep: impl Fn([u8; 3]) -> bool) -> usize {
        (y0..y1).flat_map(|y| (x0..x1).map(move |x| (x, y))).filter(|&(x, y)| keep(self.at(x, y))).count()
    }

    /// Text-coloured pixels: dark on every channel, as anti-aliased glyph cores are.
    fn dark(&self, xs: (i32, i32), ys: (i32, i32)) -> usize {
        self.count(xs, ys, |p| p.iter().all(|&c| c < 100))
    }
}

fn is(color: RGBColor) -> impl Fn([u8; 3]) -> bool {
    move |p| p == [color.0, color.1, color.2]
}

fn chart(by_severity: [(Option<f64>, Option<f64>); 4], trend: Vec<Option<f64>>) -> Chart {
    let month = NaiveDate::from_ymd_opt(2026, 11, 1).unwrap();
    Chart { company: "Acme Ltd".into(), month, by_severity, trend }
}

#[test]
fn title_severities_scale_months_and_legend_are_written() {
    let c = chart(
        [(Some(100.0), Some(50.0)), (Some(80.0), None), (None, None), (Some(0.0), Some(0.0))],
        vec![None, Some(100.0), Some(75.0), Some(0.0), None, Some(90.0)],
    );
    let img = Image::decode(&c.png().unwrap());
    let all = (0, W as i32);
    assert!(img.count(all, (0, H as i32), |p| p != [255, 255, 255]) > 5000, "not blank");
    assert!(img.dark(all, (0, 45)) > 100, "title");
    assert!(img.dark(SEVERITY_X, (BASE + 6, BASE + 30)) > 40, "S1..S4 under their groups");
    assert!(img.dark((0, SEVERITY_X.0 - 2), (TOP - 10, BASE + 10)) > 60, "0%..100% left of the severities");
    assert!(img.dark((TREND_X.0 - 50, TREND_X.0 - 2), (TOP - 10, BASE + 10)) > 60, "and of the months");
    assert!(img.dark(TREND_X, (BASE + 6, BASE + 30)) > 60, "month names");
    assert!(img.dark(all, (LEGEND_Y - 10, LEGEND_Y + 10)) > 150, "legend");
    // Each of the four groups carries its label: dark pixels under each quarter.
    let group = (SEVERITY_X.1 - SEVERITY_X.0) / 4;
    for i in 0..4 {
        let x0 = SEVERITY_X.0 + i * group;
        assert!(img.dark((x0, x0 + group), (BASE + 6, BASE + 30)) > 10, "S{}", i + 1);
    }
}

#[test]
fn bars_are_as_tall_as_their_shares() {
    let c = chart([(Some(100.0), Some(50.0)), (None, None), (None, None), (None, None)], vec![None; 6]);
    let img = Image::decode(&c.png().unwrap());
    let plot = (TOP, BASE);
    let response = img.count(SEVERITY_X, plot, is(RESPONSE));
    let resolution = img.count(SEVERITY_X, plot, is(RESOLUTION));
    assert!(response > 0 && resolution > 0);
    assert_eq!((response as f64 / resolution as f64).round(), 2.0, "100% is twice as tall as 50%");
    assert_eq!(img.count(TREND_X, plot, is(RESPONSE)), 0, "no month had a case");
}

/// S1 decided with none met (0%), S2 with no case at all: side by side, the two groups must
/// not look alike — a stub in the bars' colours against a grey hatched outline.
#[test]
fn no_case_is_drawn_unlike_zero_percent() {
    let c = chart([(Some(0.0), Some(0.0)), (None, None), (None, None), (None, None)], vec![None; 6]);
    let img = Image::decode(&c.png().unwrap());
    let group = (SEVERITY_X.1 - SEVERITY_X.0) / 4;
    let zero = (SEVERITY_X.0, SEVERITY_X.0 + group);
    let none = (SEVERITY_X.0 + group, SEVERITY_X.0 + 2 * group);
    let plot = (TOP, BASE);
    assert!(img.count(zero, plot, is(RESPONSE)) > 0 && img.count(zero, plot, is(RESOLUTION)) > 0);
    assert!(img.dark(zero, plot) > 20, "0% written above the stubs");
    assert_eq!(img.count(none, plot, is(RESPONSE)) + img.count(none, plot, is(RESOLUTION)), 0);
    assert!(img.count(none, plot, is(NO_CASE)) > 100, "a hatched outline");
    let above_strip = (TOP, BASE - NO_CASE_HEIGHT - 1);
    assert_eq!(img.count(none, above_strip, is(NO_CASE)), 0, "a low strip on the baseline, not a bar");
    assert!(img.dark(none, plot) > 20, "\"no case\" written above it");
    let differing = (TOP..BASE)
        .flat_map(|y| (0..group).map(move |dx| (dx, y)))
        .filter(|&(dx, y)| img.at(zero.0 + dx, y) != img.at(none.0 + dx, y))
        .count();
    assert!(differing > 300, "only {differing} pixels differ");
}

#[test]
fn the_trend_names_six_months_up_to_the_reports() {
    let c = chart([(None, None); 4], vec![Some(80.0); 6]);
    let names: Vec<String> = (0..6).map(|i| c.month_of(i).format("%b").to_string()).collect();
    assert_eq!(names, ["Jun", "Jul", "Aug", "Sep", "Oct", "Nov"]);
    assert_eq!(c.months_span(), "Jun–Nov 2026");
    let across = Chart { month: NaiveDate::from_ymd_opt(2027, 2, 1).unwrap(), ..c };
    assert_eq!(across.months_span(), "Sep 2026 – Feb 2027");
}
