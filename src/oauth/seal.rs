//! Tokens sealed at rest: AES-256-GCM with a key from `[oauth] key_file` or `key_env`, a
//! fresh random nonce per value, and the account and field as associated data, so that a
//! sealed value copied into another row or column does not open. Written as
//! `v1:` + base64(nonce ‖ ciphertext ‖ tag).

use std::path::{Path, PathBuf};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use ring::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use ring::rand::{SecureRandom, SystemRandom};

const PREFIX: &str = "v1:";

#[derive(Debug, thiserror::Error)]
pub enum SealError {
    #[error("cannot read the OAuth2 key file {}: {source}", path.display())]
    Read { path: PathBuf, source: std::io::Error },
    #[error("cannot write the OAuth2 key file {}: {source}", path.display())]
    Write { path: PathBuf, source: std::io::Error },
    #[error("the OAuth2 key must be 32 bytes in base64 (make one with: head -c 32 /dev/urandom | base64), {0}")]
    BadKey(String),
    #[error(
        "a stored token does not open with this key (the key changed, or the row was altered): run supportd oauth \
         login again"
    )]
    Open,
    #[error("the system's random source failed")]
    Random,
}

/// The key tokens are sealed with. Never printed.
#[derive(Clone)]
pub struct Key([u8; 32]);

impl std::fmt::Debug for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Key(***)")
    }
}

impl Key {
    /// The key from its base64 text (a key file's content, or `key_env`'s value).
    pub fn parse(text: &str) -> Result<Key, SealError> {
        let bytes = STANDARD.decode(text.trim()).map_err(|e| SealError::BadKey(format!("not base64: {e}")))?;
        let key: [u8; 32] =
            bytes.try_into().map_err(|b: Vec<u8>| SealError::BadKey(format!("got {} bytes", b.len())))?;
        Ok(Key(key))
    }

    pub fn read(path: &Path) -> Result<Key, SealError> {
        let text = std::fs::read_to_string(path).map_err(|source| SealError::Read { path: path.into(), source })?;
        Key::parse(&text)
    }

    /// The key in `path`, made (random, mode 600) when there is none yet: the embedded
    /// default's, so that tokens are sealed without any setup. `true` when it was made now.
    pub fn read_or_make(path: &Path) -> Result<(Key, bool), SealError> {
        if path.exists() {
            return Ok((Key::read(path)?, false));
        }
        let mut key = [0u8; 32];
        SystemRandom::new().fill(&mut key).map_err(|_| SealError::Random)?;
        match write_private(path, &STANDARD.encode(key)) {
            Ok(()) => Ok((Key(key), true)),
            // Another process made it first: theirs is the key.
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok((Key::read(path)?, false)),
            Err(source) => Err(SealError::Write { path: path.into(), source }),
        }
    }

    /// `value` sealed for `account`'s `field`.
    pub fn seal(&self, account: &str, field: &str, value: &str) -> Result<String, SealError> {
        let mut nonce = [0u8; NONCE_LEN];
        SystemRandom::new().fill(&mut nonce).map_err(|_| SealError::Random)?;
        let mut data = value.as_bytes().to_vec();
        self.aead()
            .seal_in_place_append_tag(Nonce::assume_unique_for_key(nonce), aad(account, field), &mut data)
            .map_err(|_| SealError::Random)?;
        let mut out = nonce.to_vec();
        out.extend_from_slice(&data);
        Ok(format!("{PREFIX}{}", STANDARD.encode(out)))
    }

    /// What `seal` sealed for this `account` and `field`; `Open` for anything else.
    pub fn open(&self, account: &str, field: &str, sealed: &str) -> Result<String, SealError> {
        let bytes = sealed.strip_prefix(PREFIX).and_then(|b| STANDARD.decode(b).ok()).ok_or(SealError::Open)?;
        if bytes.len() < NONCE_LEN {
            return Err(SealError::Open);
        }
        let (nonce, data) = bytes.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| SealError::Open)?;
        let mut data = data.to_vec();
        let plain = self.aead().open_in_place(nonce, aad(account, field), &mut data).map_err(|_| SealError::Open)?;
        String::from_utf8(plain.to_vec()).map_err(|_| SealError::Open)
    }

    fn aead(&self) -> LessSafeKey {
        LessSafeKey::new(UnboundKey::new(&AES_256_GCM, &self.0).expect("a 32-byte key is an AES-256 key"))
    }
}

/// The key `[oauth]` names: a file, an environment variable, or the embedded default's file,
/// made on first use.
pub fn load_key(source: &crate::config::KeySource) -> Result<Key, SealError> {
    use crate::config::KeySource;
    match source {
        KeySource::File(path) => Key::read(path),
        KeySource::Env(var) => Key::parse(&std::env::var(var).unwrap_or_default()),
        KeySource::Made(path) => {
            let (key, made) = Key::read_or_make(path)?;
            if made {
                tracing::warn!(path = %path.display(), "made the key that seals OAuth2 tokens: back it up with the database");
            }
            Ok(key)
        }
    }
}

fn aad(account: &str, field: &str) -> Aad<Vec<u8>> {
    Aad::from(format!("supportd oauth2 {account} {field}").into_bytes())
}

/// Writes a new file only its owner can read, whole or not at all: written beside it, synced,
/// then linked into place, which fails (`AlreadyExists`) rather than replace one.
fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let temporary = dir.join(format!(".oauth-key.{}.tmp", std::process::id()));
    let mut file = std::fs::OpenOptions::new().write(true).create(true).truncate(true).mode(0o600).open(&temporary)?;
    file.write_all(text.as_bytes())?;
    file.sync_all()?;
    let linked = std::fs::hard_link(&temporary, path);
    let _ = std::fs::remove_file(&temporary);
    linked
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(byte: u8) -> Key {
        Key([byte; 32])
    }

    #[test]
    fn a_sealed_token_opens_only_with_its_key_account_and_field() {
        let k = key(7);
        let sealed = k.seal("mailbox:support", "refresh", "1.AQEAx-secret-refresh").unwrap();
        assert!(sealed.starts_with("v1:") && !sealed.contains("secret-refresh"), "{sealed}");
        assert_eq!(k.open("mailbox:support", "refresh", &sealed).unwrap(), "1.AQEAx-secret-refresh");
        assert_ne!(sealed, k.seal("mailbox:support", "refresh", "1.AQEAx-secret-refresh").unwrap(), "a fresh nonce");
        assert!(matches!(key(8).open("mailbox:support", "refresh", &sealed), Err(SealError::Open)), "another key");
        assert!(k.open("outbound", "refresh", &sealed).is_err(), "another account's row");
        assert!(k.open("mailbox:support", "access", &sealed).is_err(), "another column");
        let mut tampered = sealed.clone().into_bytes();
        let last = tampered.len() - 3;
        tampered[last] = if tampered[last] == b'A' { b'B' } else { b'A' };
        assert!(k.open("mailbox:support", "refresh", &String::from_utf8(tampered).unwrap()).is_err(), "altered");
        assert!(k.open("mailbox:support", "refresh", "plain text").is_err());
    }

    #[test]
    fn a_key_is_32_bytes_of_base64_and_one_is_made_private_when_missing() {
        assert!(Key::parse(&STANDARD.encode([1u8; 32])).is_ok());
        assert!(Key::parse(&STANDARD.encode([1u8; 16])).unwrap_err().to_string().contains("got 16 bytes"));
        assert!(Key::parse("not base64!").is_err());
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("var/oauth.key");
        let (made, new) = Key::read_or_make(&path).unwrap();
        assert!(new);
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        let (again, new) = Key::read_or_make(&path).unwrap();
        assert!(!new, "kept, never replaced");
        let sealed = made.seal("a", "b", "c").unwrap();
        assert_eq!(again.open("a", "b", &sealed).unwrap(), "c");
    }
}
