//! HTTPS for `serve` and `run`: the certificate chain and private key named by
//! `server.tls_cert`/`server.tls_key` (PEM), loaded at start into a rustls acceptor, so
//! agents and browsers reach the API without a terminating proxy.

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tokio_rustls::TlsAcceptor;

/// Where the PEM files are.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TlsFiles {
    /// The server's certificate, then any intermediates.
    pub cert: PathBuf,
    /// Its private key (PKCS#8, PKCS#1 or SEC1).
    pub key: PathBuf,
}

/// Why the files cannot serve HTTPS; each says which file and what to do.
#[derive(Debug, thiserror::Error)]
#[error("server.tls_cert/tls_key: {0}")]
pub struct TlsError(String);

impl TlsFiles {
    /// Reads and checks both files: the key must belong to the certificate.
    pub fn acceptor(&self) -> Result<TlsAcceptor, TlsError> {
        let certs = read_certs(&self.cert)?;
        let key = PrivateKeyDer::from_pem_file(&self.key).map_err(|e| {
            TlsError(format!(
                "no private key could be read from {}: {e}. Give the PEM file of the certificate's key",
                self.key.display()
            ))
        })?;
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| TlsError(e.to_string()))?
            .with_no_client_auth()
            .with_single_cert(certs, key)
            .map_err(|e| {
                TlsError(format!(
                    "{} and {} do not make a usable pair: {e}",
                    self.cert.display(),
                    self.key.display()
                ))
            })?;
        Ok(TlsAcceptor::from(Arc::new(config)))
    }
}

fn read_certs(path: &Path) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let unreadable = |e: &dyn std::fmt::Display| {
        TlsError(format!(
            "cannot read the certificate chain {}: {e}",
            path.display()
        ))
    };
    let certs = CertificateDer::pem_file_iter(path)
        .map_err(|e| unreadable(&e))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| unreadable(&e))?;
    if certs.is_empty() {
        return Err(TlsError(format!(
            "{} holds no PEM certificate (-----BEGIN CERTIFICATE-----)",
            path.display()
        )));
    }
    Ok(certs)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refusal(files: &TlsFiles) -> String {
        match files.acceptor() {
            Ok(_) => panic!("{files:?} was taken"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn missing_or_wrong_files_say_which_and_why() {
        let dir = tempfile::tempdir().unwrap();
        let junk = dir.path().join("junk.pem");
        std::fs::write(&junk, "not a certificate").unwrap();
        let files = TlsFiles {
            cert: dir.path().join("absent.pem"),
            key: junk.clone(),
        };
        let e = refusal(&files);
        assert!(e.contains("absent.pem"), "{e}");
        let files = TlsFiles {
            cert: junk.clone(),
            key: junk,
        };
        let e = refusal(&files);
        assert!(e.contains("holds no PEM certificate"), "{e}");
    }
}
