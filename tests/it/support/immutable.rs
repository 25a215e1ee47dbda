//! Files and folders made read-only for root too, for the tests of read-only databases.

use std::path::PathBuf;
use std::process::Command;

/// Read-only files that bind root too. The tests run as root, and root ignores file modes:
/// after `chmod 0444` SQLite still writes. The immutable attribute (`chattr +i`, ext4 here)
/// stops root as well: open(O_RDWR) fails with EPERM, so SQLite falls back to a read-only
/// open and a write fails with SQLITE_READONLY, as it does for a daemon's user on a 0444
/// file; on an immutable folder it cannot create the -wal/-shm and the open fails with
/// SQLITE_CANTOPEN. Cleared on drop, so the sandbox can be removed even after a failure.
pub struct Immutable(Vec<PathBuf>);

impl Immutable {
    pub fn set(paths: &[PathBuf]) -> Immutable {
        chattr("+i", paths);
        let guard = Immutable(paths.to_vec());
        for p in paths {
            let write = if p.is_dir() {
                std::fs::File::create(p.join("probe")).map(drop)
            } else {
                std::fs::OpenOptions::new().write(true).open(p).map(drop)
            };
            assert!(write.is_err(), "{} is still writable as root: the test would prove nothing", p.display());
        }
        guard
    }
}

impl Drop for Immutable {
    fn drop(&mut self) {
        chattr("-i", &self.0);
    }
}

fn chattr(flag: &str, paths: &[PathBuf]) {
    let out = Command::new("chattr").arg(flag).args(paths).output().expect("run chattr (e2fsprogs)");
    assert!(out.status.success(), "chattr {flag}: {}", String::from_utf8_lossy(&out.stderr));
}
