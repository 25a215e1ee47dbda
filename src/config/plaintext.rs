//! No clear-text credentials to a remote host. `security = "plain"` sends the IMAP or SMTP
//! password, and the mail, readable by anyone on the path, so it is refused unless the host is
//! this machine or the entry says `allow_plaintext = true` (accepted, with a warning). A
//! password in a file that group or others can open is warned about: the config file's
//! inline `password` as much as a `password_file`.

use std::net::IpAddr;
use std::path::Path;

use super::raw::{RawConfig, RawSecret};
use super::{Problem, Problems};

/// Where the passwords are: `config` is the file being read, which holds any inline
/// `password` but those only the environment set (`from_env`, keys such as `mailbox[0].password`).
pub struct Files<'a> {
    pub config: &'a Path,
    pub base: &'a Path,
    pub from_env: &'a [String],
}

pub fn check(p: &mut Problems, warnings: &mut Vec<Problem>, raw: &RawConfig, files: Files<'_>) {
    for (i, m) in raw.mailboxes.iter().enumerate() {
        let key = format!("mailbox[{i}]");
        if m.kind.as_deref() == Some("imap") {
            plain_to_remote(p, warnings, &key, m.security.as_deref(), m.host.as_deref(), m.allow_plaintext);
        }
        password_files(warnings, &key, &m.secret, &files);
    }
    let out = &raw.outbound;
    if out.kind.as_deref() == Some("smtp") {
        plain_to_remote(p, warnings, "outbound", out.security.as_deref(), out.host.as_deref(), out.allow_plaintext);
    }
    password_files(warnings, "outbound", &out.secret, &files);
}

fn plain_to_remote(
    p: &mut Problems,
    warnings: &mut Vec<Problem>,
    key: &str,
    security: Option<&str>,
    host: Option<&str>,
    allow: Option<bool>,
) {
    // A missing host is reported where the entry is read.
    let (Some("plain"), Some(host)) = (security, host) else { return };
    if is_loopback(host) {
        return;
    }
    if allow == Some(true) {
        warnings.push(Problem {
            key: format!("{key}.allow_plaintext"),
            message: format!("security = \"plain\" to {host}: the password and the mail cross the network unencrypted"),
        });
    } else {
        p.push(
            format!("{key}.security"),
            format!(
                "\"plain\" would send the password and the mail to {host} unencrypted: use \"tls\" or \"starttls\", \
                 or set allow_plaintext = true on this entry if the network to {host} is trusted"
            ),
        );
    }
}

/// `localhost`, 127.0.0.0/8 and ::1 (also bracketed, also as `::ffff:127.x.y.z`): traffic
/// that never leaves the machine. Any other name may resolve anywhere.
pub(super) fn is_loopback(host: &str) -> bool {
    let host = host.trim();
    if host.eq_ignore_ascii_case("localhost") || host.eq_ignore_ascii_case("localhost.") {
        return true;
    }
    let bare = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')).unwrap_or(host);
    match bare.parse::<IpAddr>() {
        Ok(IpAddr::V4(ip)) => ip.is_loopback(),
        Ok(IpAddr::V6(ip)) => ip.is_loopback() || ip.to_ipv4_mapped().is_some_and(|v4| v4.is_loopback()),
        Err(_) => false,
    }
}

fn password_files(warnings: &mut Vec<Problem>, key: &str, secret: &RawSecret, files: &Files<'_>) {
    let config = files.config;
    if let Some(file) = &secret.password_file {
        let path = files.base.join(file);
        if let Some(mode) = open_to_others(&path) {
            warnings.push(Problem {
                key: format!("{key}.password_file"),
                message: format!("{} is readable by group or others (mode {mode:03o}): chmod 600 it", path.display()),
            });
        }
    }
    let in_file = !files.from_env.iter().any(|k| *k == format!("{key}.password"));
    if secret.password.is_some()
        && in_file
        && let Some(mode) = open_to_others(config)
    {
        warnings.push(Problem {
            key: format!("{key}.password"),
            message: format!(
                "{} holds this password and is readable by group or others (mode {mode:03o}): chmod 600 it, \
                 or use password_file or password_env",
                config.display()
            ),
        });
    }
}

/// The permission bits when group or others have any (a file that cannot be read is
/// reported where it is read, if at all).
fn open_to_others(path: &Path) -> Option<u32> {
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(path).ok()?.permissions().mode() & 0o777;
    (mode & 0o077 != 0).then_some(mode)
}
