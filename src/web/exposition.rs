//! The two formats `/metrics` speaks. `prometheus-client` writes OpenMetrics, which Prometheus
//! asks for by `Accept`; `promtool check metrics`, curl and older scrapers read the classic
//! text format (0.0.4), which has no `info` type, no `# UNIT` and no `# EOF`. The classic form
//! is derived from the OpenMetrics text, so both say the same figures.

/// The `Content-Type` of each format.
pub const OPENMETRICS: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";
pub const TEXT: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Whether the client asked for OpenMetrics (Prometheus does); anything else gets text.
pub fn wants_openmetrics(accept: Option<&str>) -> bool {
    accept.is_some_and(|a| a.split(',').any(|part| part.trim().starts_with("application/openmetrics-text")))
}

/// The classic text format of an OpenMetrics exposition. A family's samples keep their
/// names; its `# HELP` and `# TYPE` take the name the samples have in the classic format: a
/// counter's `_total` (OpenMetrics names the family without it), an `info` family's `_info`,
/// as a gauge. `# UNIT` and `# EOF` go.
pub fn classic(openmetrics: &str) -> String {
    let families: Vec<(&str, &str)> =
        openmetrics.lines().filter_map(|l| l.strip_prefix("# TYPE ")?.split_once(' ')).collect();
    let renamed = |name: &str| match families.iter().find(|(n, _)| *n == name).map(|(_, kind)| *kind) {
        Some("counter") => Some((format!("{name}_total"), "counter")),
        Some("info") => Some((format!("{name}_info"), "gauge")),
        _ => None,
    };
    let mut out = String::with_capacity(openmetrics.len());
    for line in openmetrics.lines() {
        if line == "# EOF" || line.starts_with("# UNIT ") {
            continue;
        }
        let meta = ["# TYPE ", "# HELP "].iter().find_map(|prefix| {
            let (name, tail) = line.strip_prefix(prefix)?.split_once(' ')?;
            let (classic, kind) = renamed(name)?;
            Some(format!("{prefix}{classic} {}", if *prefix == "# TYPE " { kind } else { tail }))
        });
        out.push_str(meta.as_deref().unwrap_or(line));
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn families_take_their_samples_names_and_openmetrics_markers_go() {
        let om = "# HELP supportd_build The build.\n# TYPE supportd_build info\nsupportd_build_info{version=\"0.1.0\"} 1\n\
                  # HELP supportd_sent Mail sent.\n# TYPE supportd_sent counter\n# UNIT supportd_sent mails\n\
                  supportd_sent_total 3\n# EOF\n";
        assert_eq!(
            classic(om),
            "# HELP supportd_build_info The build.\n# TYPE supportd_build_info gauge\n\
             supportd_build_info{version=\"0.1.0\"} 1\n# HELP supportd_sent_total Mail sent.\n\
             # TYPE supportd_sent_total counter\nsupportd_sent_total 3\n"
        );
    }

    #[test]
    fn prometheus_gets_openmetrics_and_everyone_else_text() {
        let prometheus = "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,\
                          text/plain;version=0.0.4;q=0.5,*/*;q=0.1";
        assert!(wants_openmetrics(Some(prometheus)));
        assert!(!wants_openmetrics(Some("text/plain;version=0.0.4")));
        assert!(!wants_openmetrics(Some("*/*")));
        assert!(!wants_openmetrics(None));
    }
}
