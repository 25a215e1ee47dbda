//! The SLA-attainment chart of a company's report, a PNG drawn here and encoded by the `png`
//! crate: on the left, per severity, the share of first responses (blue) and resolutions
//! (green) within target; on the right, the share of first responses within target in each
//! of the last six months (oldest first). A grey bar is a share with nothing decided. The
//! mail's HTML names the figures; the chart shows their shape.

/// Bars as shares from 0 to 100; `None` when nothing was decided.
pub struct Chart {
    /// Per severity S1..S4: (responses, resolutions).
    pub by_severity: [(Option<f64>, Option<f64>); 4],
    /// The last six months, oldest first: responses within target.
    pub trend: Vec<Option<f64>>,
}

const W: usize = 640;
const H: usize = 320;
const MARGIN: usize = 20;
const WHITE: [u8; 3] = [255, 255, 255];
const GRID: [u8; 3] = [220, 220, 220];
const AXIS: [u8; 3] = [90, 90, 90];
const NOTHING: [u8; 3] = [200, 200, 200];
const RESPONSE: [u8; 3] = [46, 110, 200];
const RESOLUTION: [u8; 3] = [40, 160, 90];
const TREND: [u8; 3] = [120, 80, 190];

struct Canvas {
    pixels: Vec<u8>,
}

impl Canvas {
    fn new() -> Canvas {
        Canvas { pixels: WHITE.repeat(W * H) }
    }

    fn fill(&mut self, x: usize, y: usize, w: usize, h: usize, color: [u8; 3]) {
        for row in y.min(H)..(y + h).min(H) {
            for col in x.min(W)..(x + w).min(W) {
                let at = (row * W + col) * 3;
                self.pixels[at..at + 3].copy_from_slice(&color);
            }
        }
    }

    /// A bar standing on the baseline of a panel `top..bottom`, `share` percent high.
    fn bar(&mut self, x: usize, width: usize, share: Option<f64>, color: [u8; 3], (top, bottom): (usize, usize)) {
        let full = (bottom - top) as f64;
        match share {
            Some(s) => {
                let h = (full * s.clamp(0.0, 100.0) / 100.0).round() as usize;
                // A 0% bar still shows its colour: decided, and none met.
                let h = h.max(3);
                self.fill(x, bottom - h, width, h, color);
            }
            None => self.fill(x, bottom - 3, width, 3, NOTHING),
        }
    }

    /// Grid lines at 50% and 100%, and the baseline.
    fn panel(&mut self, x: usize, w: usize, (top, bottom): (usize, usize)) {
        let mid = (top + bottom) / 2;
        self.fill(x, top, w, 1, GRID);
        self.fill(x, mid, w, 1, GRID);
        self.fill(x, bottom, w, 2, AXIS);
    }
}

impl Chart {
    pub fn png(&self) -> Result<Vec<u8>, png::EncodingError> {
        let mut c = Canvas::new();
        let band = (MARGIN, H - MARGIN);
        let half = W / 2;
        c.panel(MARGIN, half - 2 * MARGIN, band);
        c.panel(half + MARGIN, half - 2 * MARGIN, band);
        let group = (half - 2 * MARGIN) / 4;
        for (i, (response, resolution)) in self.by_severity.iter().enumerate() {
            let x = MARGIN + i * group + group / 6;
            let bar = group / 3;
            c.bar(x, bar, *response, RESPONSE, band);
            c.bar(x + bar, bar, *resolution, RESOLUTION, band);
        }
        let slot = (half - 2 * MARGIN) / self.trend.len().max(1);
        for (i, share) in self.trend.iter().enumerate() {
            c.bar(half + MARGIN + i * slot + slot / 4, slot / 2, *share, TREND, band);
        }
        let mut out = Vec::new();
        let mut encoder = png::Encoder::new(&mut out, W as u32, H as u32);
        encoder.set_color(png::ColorType::Rgb);
        encoder.set_depth(png::BitDepth::Eight);
        encoder.write_header()?.write_image_data(&c.pixels)?;
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode(bytes: &[u8]) -> (png::OutputInfo, Vec<u8>) {
        let mut reader = png::Decoder::new(std::io::Cursor::new(bytes)).read_info().unwrap();
        let mut pixels = vec![0; reader.output_buffer_size().unwrap()];
        let info = reader.next_frame(&mut pixels).unwrap();
        (info, pixels)
    }

    fn count(pixels: &[u8], color: [u8; 3]) -> usize {
        pixels.chunks(3).filter(|p| *p == color).count()
    }

    #[test]
    fn bars_are_as_tall_as_their_shares() {
        let full = Chart {
            by_severity: [(Some(100.0), Some(50.0)), (None, None), (None, None), (None, None)],
            trend: vec![None; 6],
        };
        let (info, pixels) = decode(&full.png().unwrap());
        assert_eq!((info.width, info.height), (W as u32, H as u32));
        let (response, resolution) = (count(&pixels, RESPONSE), count(&pixels, RESOLUTION));
        assert!(response > 0 && resolution > 0);
        assert_eq!((response as f64 / resolution as f64).round(), 2.0, "100% is twice as tall as 50%");
        assert_eq!(count(&pixels, TREND), 0, "no month decided anything");
        let trend = Chart { by_severity: [(None, None); 4], trend: vec![Some(80.0); 6] };
        assert!(count(&decode(&trend.png().unwrap()).1, TREND) > 0);
    }
}
