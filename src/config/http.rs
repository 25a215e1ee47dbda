//! `[http]`: the read-only web server (live view, case pages, JSON, `/metrics`, health).
//! On by default at 127.0.0.1:8025; `listen = ""` turns it off. Anywhere but loopback it
//! must ask for the `[http]` token (`token_env` or `token_file`): the pages show customers'
//! mail.

use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use serde::Deserialize;

use super::Problems;
use super::cidr::IpRange;
use super::raw::Unknown;
use super::secret::{Secret, Sources, resolve_from};

pub const DEFAULT_LISTEN: &str = "127.0.0.1:8025";
/// Rows a page or a JSON list shows unless asked for fewer (DECISIONS, turn 3).
pub const DEFAULT_PAGE_SIZE: u64 = 200;

/// Database connections the web server may hold at once (`web::limits::Readers`): two for
/// pages and JSON, one for `/metrics`, one for `/readyz`. The rest of `[database]
/// max_connections` is the mail's.
pub const WEB_DB_READERS: u32 = 4;
/// The most any list answers with, whatever `page_size` or a `limit` says: a page's cost is
/// bounded by this, not by the backlog.
pub const MAX_PAGE_SIZE: u64 = 1000;

#[derive(Debug, Clone)]
pub struct HttpConfig {
    /// `None`: no web server.
    pub listen: Option<SocketAddr>,
    /// Asked of every request (`Authorization: Bearer …`, or basic auth with it as the
    /// password); `None` only on loopback.
    pub token: Option<Secret>,
    /// Where people reach the pages (`https://desk.example.com/`, ending in `/`): agents'
    /// notifications and alerts link to the case page under it. `None`: no links.
    pub public_url: Option<String>,
    /// Peers whose requests come through a reverse proxy or forwarder: never local, so they
    /// need the token like any request from elsewhere.
    pub trusted_proxies: Vec<IpRange>,
    pub limits: HttpLimits,
    /// Cases per section of the live view, and rows of `/api/*` lists unless `limit` says
    /// fewer: 1 to `MAX_PAGE_SIZE`.
    pub page_size: u64,
}

/// What one client may hold of the web server, so that no number of them can take the
/// descriptors, memory or database connections the mail needs.
#[derive(Debug, Clone)]
pub struct HttpLimits {
    /// From a connection's opening, or the end of its previous response, to a whole request
    /// head: hyper 1.x restarts this timer when a kept-alive connection goes idle, so it is
    /// also how long an idle connection stays open.
    pub header_read_timeout: Duration,
    /// From a request's head to its response: a handler past it is answered 503.
    pub request_timeout: Duration,
    /// Open connections at once; a new one past it closes the oldest that waits for a request.
    pub max_connections: usize,
    /// The most a request head may take (hyper's read buffer): 431 past it.
    pub max_header_bytes: usize,
}

impl Default for HttpLimits {
    fn default() -> Self {
        HttpLimits {
            header_read_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(30),
            max_connections: 256,
            max_header_bytes: 16 * 1024,
        }
    }
}

impl HttpConfig {
    /// The case page's address for people, or "" without `public_url`.
    pub fn case_url(&self, number: crate::domain::CaseNumber) -> String {
        self.public_url.as_ref().map(|base| format!("{base}cases/{number}")).unwrap_or_default()
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct RawHttp {
    pub listen: Option<String>,
    pub token_env: Option<String>,
    pub token_file: Option<String>,
    pub public_url: Option<String>,
    pub trusted_proxies: Option<Vec<String>>,
    pub header_read_timeout: Option<String>,
    pub request_timeout: Option<String>,
    pub max_connections: Option<i64>,
    pub max_header_bytes: Option<i64>,
    pub page_size: Option<i64>,
    #[serde(flatten)]
    pub unknown: Unknown,
}

pub fn http(p: &mut Problems, raw: &RawHttp, base: &Path) -> HttpConfig {
    p.unknown_keys("http", &raw.unknown);
    let sources = Sources {
        names: ["token", "token_env", "token_file"],
        value: None,
        env: raw.token_env.as_deref(),
        file: raw.token_file.as_deref(),
    };
    let token = resolve_from(p, "http", sources, base).filter(|t| !t.expose().is_empty());
    let listen = match raw.listen.as_deref().unwrap_or(DEFAULT_LISTEN).trim() {
        "" => None,
        text => match text.parse::<SocketAddr>() {
            Ok(addr) => Some(addr),
            Err(_) => {
                p.push(
                    "http.listen",
                    format!("expected an address and port such as {DEFAULT_LISTEN}, or \"\" for none, got {text:?}"),
                );
                None
            }
        },
    };
    if let Some(addr) = listen
        && !addr.ip().is_loopback()
        && token.is_none()
    {
        p.push(
            "http.listen",
            format!(
                "{addr} is reachable from other machines: set [http] token_env or token_file, or listen on 127.0.0.1"
            ),
        );
    }
    let public_url = raw.public_url.as_deref().and_then(|u| public_url(p, u));
    let trusted_proxies = trusted_proxies(p, raw.trusted_proxies.as_deref().unwrap_or_default());
    let page_size = page_size(p, raw.page_size);
    HttpConfig { listen, token, public_url, trusted_proxies, limits: limits(p, raw), page_size }
}

fn page_size(p: &mut Problems, raw: Option<i64>) -> u64 {
    match raw {
        None => DEFAULT_PAGE_SIZE,
        Some(n) if (1..=MAX_PAGE_SIZE as i64).contains(&n) => n as u64,
        Some(n) => {
            p.push("http.page_size", format!("expected a number of rows from 1 to {MAX_PAGE_SIZE}, got {n}"));
            DEFAULT_PAGE_SIZE
        }
    }
}

fn trusted_proxies(p: &mut Problems, texts: &[String]) -> Vec<IpRange> {
    let mut ranges = Vec::new();
    for (i, text) in texts.iter().enumerate() {
        match text.parse() {
            Ok(range) => ranges.push(range),
            Err(e) => p.push(format!("http.trusted_proxies[{i}]"), format!("{e}")),
        }
    }
    ranges
}

fn limits(p: &mut Problems, raw: &RawHttp) -> HttpLimits {
    let d = HttpLimits::default();
    let interval = super::validate::interval;
    HttpLimits {
        header_read_timeout: interval(
            p,
            "http.header_read_timeout",
            raw.header_read_timeout.as_deref(),
            d.header_read_timeout,
        ),
        request_timeout: interval(p, "http.request_timeout", raw.request_timeout.as_deref(), d.request_timeout),
        // A process has 1,024 descriptors unless raised; the mail needs some of them.
        max_connections: p.in_range("http.max_connections", raw.max_connections, 1, 100_000, 256) as usize,
        // hyper's read buffer cannot be smaller than 8 KiB.
        max_header_bytes: p.in_range("http.max_header_bytes", raw.max_header_bytes, 8192, 1024 * 1024, 16 * 1024)
            as usize,
    }
}

/// An http(s) address with a host, that links can be made of: it goes into mail as it is,
/// so nothing that could break out of an attribute or a line.
fn public_url(p: &mut Problems, text: &str) -> Option<String> {
    let text = text.trim();
    if text.is_empty() {
        return None;
    }
    let rest = text.strip_prefix("https://").or_else(|| text.strip_prefix("http://"));
    let safe = |c: char| c.is_ascii_graphic() && !matches!(c, '"' | '\'' | '<' | '>' | '`' | '\\' | '?' | '#');
    match rest {
        Some(rest) if !rest.is_empty() && !rest.starts_with('/') && rest.chars().all(safe) => {
            Some(if text.ends_with('/') { text.to_owned() } else { format!("{text}/") })
        }
        _ => {
            p.push(
                "http.public_url",
                format!("expected an http:// or https:// address such as https://desk.example.com/, got {text:?}"),
            );
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(toml_text: &str) -> (Option<HttpConfig>, Vec<String>) {
        let raw: RawHttp = toml::from_str(toml_text).unwrap();
        let mut p = Problems::default();
        let config = http(&mut p, &raw, Path::new("/nonexistent"));
        let problems: Vec<String> = p.iter().map(|x| x.to_string()).collect();
        (problems.is_empty().then_some(config), problems)
    }

    #[test]
    fn loopback_by_default_off_when_empty_and_elsewhere_only_with_a_token() {
        let (config, _) = read("");
        assert_eq!(config.unwrap().listen, Some(DEFAULT_LISTEN.parse().unwrap()));
        assert_eq!(read("listen = \"\"").0.unwrap().listen, None);
        let (_, problems) = read("listen = \"0.0.0.0:8025\"");
        assert_eq!(problems.len(), 1);
        assert!(problems[0].starts_with("http.listen: 0.0.0.0:8025 is reachable from other machines"), "{problems:?}");
        // SAFETY: a variable only this test reads.
        unsafe { std::env::set_var("SUPPORTD_TEST_HTTP_TOKEN", "s3cret") };
        let (config, problems) = read("listen = \"[::]:8025\"\ntoken_env = \"SUPPORTD_TEST_HTTP_TOKEN\"");
        assert_eq!(problems, Vec::<String>::new());
        assert_eq!(config.unwrap().token.unwrap().expose(), "s3cret");
        assert_eq!(read("listen = \"localhost\"").1.len(), 1, "an address and a port");
    }

    #[test]
    fn page_size_is_200_unless_set_and_never_more_than_the_cap() {
        assert_eq!(read("").0.unwrap().page_size, 200);
        assert_eq!(read("page_size = 3").0.unwrap().page_size, 3);
        assert_eq!(read("page_size = 1000").0.unwrap().page_size, 1000);
        for bad in ["0", "-5", "1001"] {
            let (_, problems) = read(&format!("page_size = {bad}"));
            assert_eq!(problems, [format!("http.page_size: expected a number of rows from 1 to 1000, got {bad}")]);
        }
    }

    #[test]
    fn public_url_is_an_http_address_that_ends_in_a_slash() {
        let url = |text: &str| read(&format!("public_url = {text:?}"));
        assert_eq!(url("https://desk.example.com").0.unwrap().public_url.as_deref(), Some("https://desk.example.com/"));
        let config = url("http://10.0.0.5:8025/support/").0.unwrap();
        assert_eq!(config.case_url("000042".parse().unwrap()), "http://10.0.0.5:8025/support/cases/000042");
        assert_eq!(read("").0.unwrap().case_url("000042".parse().unwrap()), "", "no links without it");
        for bad in ["desk.example.com", "ftp://desk", "https://", "https:///x", "https://a\"><script>", "https://a b"] {
            let (_, problems) = url(bad);
            assert!(problems.len() == 1 && problems[0].starts_with("http.public_url: expected"), "{bad}: {problems:?}");
        }
    }

    #[test]
    fn the_limits_have_defaults_and_each_bad_value_is_named_by_its_key() {
        let limits = read("").0.unwrap().limits;
        assert_eq!(
            (limits.header_read_timeout.as_secs(), limits.request_timeout.as_secs()),
            (10, 30),
            "10 s for a head, 30 s for an answer"
        );
        assert_eq!((limits.max_connections, limits.max_header_bytes), (256, 16 * 1024));
        let set = read(
            "header_read_timeout = \"2s\"\nrequest_timeout = \"500ms\"\nmax_connections = 16\n\
                        max_header_bytes = 8192\ntrusted_proxies = [\"127.0.0.1\", \"fd00::/8\"]",
        );
        let config = set.0.unwrap();
        assert_eq!(config.limits.header_read_timeout, Duration::from_secs(2));
        assert_eq!(config.limits.request_timeout, Duration::from_millis(500));
        assert_eq!((config.limits.max_connections, config.limits.max_header_bytes), (16, 8192));
        assert_eq!(config.trusted_proxies.len(), 2);
        let (_, problems) = read(
            "header_read_timeout = \"soon\"\nmax_connections = 0\nmax_header_bytes = 100\n\
             trusted_proxies = [\"10.0.0.1\", \"proxy.local\"]",
        );
        for key in ["http.header_read_timeout: ", "http.max_connections: ", "http.max_header_bytes: "] {
            assert!(problems.iter().any(|p| p.starts_with(key)), "{key} in {problems:?}");
        }
        assert!(problems.iter().any(|p| p.starts_with("http.trusted_proxies[1]: expected an IP address")));
        assert_eq!(problems.len(), 4, "{problems:?}");
    }
}
