//! PEM files for TLS: certificate chains and private keys, read with errors that name the file
//! and what it was meant to be. Shared by the MQTT client (`mqtt/tls.rs`) and the embedded
//! broker (`broker/tls.rs`).

use std::path::Path;

use rustls::pki_types::{CertificateDer, PrivateKeyDer};

use super::link::TransportError;

fn read_pem(path: &Path, what: &str) -> Result<Vec<u8>, TransportError> {
    std::fs::read(path).map_err(|e| TransportError::Tls(format!("cannot read {what} {}: {e}", path.display())))
}

/// Every certificate in the file; at least one.
pub fn read_certs(path: &Path, what: &str) -> Result<Vec<CertificateDer<'static>>, TransportError> {
    let pem = read_pem(path, what)?;
    let certs = rustls_pemfile::certs(&mut pem.as_slice())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| TransportError::Tls(format!("bad PEM in {what} {}: {e}", path.display())))?;
    if certs.is_empty() {
        return Err(TransportError::Tls(format!("no certificate in {what} {}", path.display())));
    }
    Ok(certs)
}

/// The first private key in the file (PKCS#8, PKCS#1 or SEC1).
pub fn read_key(path: &Path, what: &str) -> Result<PrivateKeyDer<'static>, TransportError> {
    let pem = read_pem(path, what)?;
    match rustls_pemfile::private_key(&mut pem.as_slice()) {
        Ok(Some(key)) => Ok(key),
        Ok(None) => Err(TransportError::Tls(format!("no private key in {what} {}", path.display()))),
        Err(e) => Err(TransportError::Tls(format!("bad PEM in {what} {}: {e}", path.display()))),
    }
}
