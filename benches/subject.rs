//! Subject-cleaning benchmark (figures printed, not asserted): the time to clean 0.5, 1 and
//! 2 MB of reply prefixes and case tags, and to cut a reply's quoted history of that size.
//! Linear means twice the input takes about twice the time (×2.0 per line); the quadratic
//! code this replaced took 6.5 s for 1 MB of prefixes and 23 s for 2 MB.
//! Run with `cargo bench --bench subject`.

use std::hint::black_box;
use std::time::Instant;

use supportd::domain::CaseTag;
use supportd::threading::{clean_subject, new_text};

fn main() {
    let tag = CaseTag::default();
    let shapes: [(&str, &str); 3] =
        [("Re: prefixes", "Re: "), ("mixed prefixes and tags", "AW: [Case #000123] Fwd: İ "), ("no spaces", "x")];
    for (name, unit) in shapes {
        let mut last = None;
        for mb in [0.5f64, 1.0, 2.0, 4.0] {
            let subject = unit.repeat((mb * 1024.0 * 1024.0) as usize / unit.len());
            let secs = best_of_three(|| {
                black_box(clean_subject(black_box(&subject), &tag));
            });
            let ratio = last.map(|l: f64| format!(", ×{:.1} for twice the input", secs / l)).unwrap_or_default();
            println!("subject cleaning, {name}, {mb} MB: {:.1} ms{ratio}", secs * 1000.0);
            last = Some(secs);
        }
    }
    // Quote cutting of a long quote that ends in one unquoted line (quadratic before).
    let mut last = None;
    for mb in [0.5f64, 1.0, 2.0] {
        let body = format!("{}signature\n", "> quoted line\n".repeat((mb * 1024.0 * 1024.0) as usize / 14));
        let secs = best_of_three(|| {
            black_box(new_text(black_box(&body), None));
        });
        let ratio = last.map(|l: f64| format!(", ×{:.1} for twice the input", secs / l)).unwrap_or_default();
        println!("quote cutting, {mb} MB of quoted lines: {:.1} ms{ratio}", secs * 1000.0);
        last = Some(secs);
    }
}

/// The fastest of three runs, in seconds: the machine's other work only ever adds time.
fn best_of_three(mut work: impl FnMut()) -> f64 {
    (0..3)
        .map(|_| {
            let started = Instant::now();
            work();
            started.elapsed().as_secs_f64()
        })
        .fold(f64::INFINITY, f64::min)
}
