//! The rustls client configuration for our own TLS connections (IMAPS and IMAP STARTTLS,
//! SMTPS): trusted roots from `ca_file` when one is configured, the webpki roots otherwise.
//! It lives here, not in ingest, because outbound never imports ingest; ingest may use it.

use std::path::{Path, PathBuf};

use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;

#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("{}: {source}", path.display())]
    CaFile { path: PathBuf, source: rustls::pki_types::pem::Error },
    #[error("{}: {source}", path.display())]
    CaCertificate { path: PathBuf, source: rustls::Error },
}

pub fn client_config(ca_file: Option<&Path>) -> Result<rustls::ClientConfig, TlsError> {
    let mut roots = rustls::RootCertStore::empty();
    match ca_file {
        Some(ca) => {
            let file = |source| TlsError::CaFile { path: ca.to_owned(), source };
            for cert in CertificateDer::pem_file_iter(ca).map_err(file)? {
                let cert = cert.map_err(file)?;
                roots.add(cert).map_err(|source| TlsError::CaCertificate { path: ca.to_owned(), source })?;
            }
        }
        None => roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned()),
    }
    // Only the ring provider is compiled in, so the builder finds it without install_default().
    Ok(rustls::ClientConfig::builder().with_root_certificates(roots).with_no_client_auth())
}
