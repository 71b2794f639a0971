//! The embedded broker's own TLS certificate: made on first use (rcgen, self-signed) and kept
//! in the config folder, so a client trusts it once (`--ca broker-cert.pem`) and keeps trusting
//! it across runs. The key is written private (0600 on Unix); the names the certificate covers
//! sit beside it, so a broker asked to listen on a new address makes a new certificate that
//! covers the old names as well.

use std::collections::BTreeSet;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

use anyhow::Context;

use crate::disk::{write_atomic, write_atomic_private};

pub const CERT_FILE: &str = "broker-cert.pem";
pub const KEY_FILE: &str = "broker-key.pem";
/// One name per line: what the certificate in `CERT_FILE` covers.
pub const NAMES_FILE: &str = "broker-cert-names.txt";

/// Where the broker's certificate and key are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BrokerTlsFiles {
    pub cert: PathBuf,
    pub key: PathBuf,
    /// Made by this call (false: the kept one was good).
    pub made: bool,
    /// The names and addresses the certificate covers.
    pub names: Vec<String>,
}

/// The names a broker listening on `listen` must cover: loopback always, and the address itself
/// when it is one (a wildcard address has no name of its own).
pub fn names_for(listen: IpAddr) -> BTreeSet<String> {
    let mut names: BTreeSet<String> = ["localhost", "127.0.0.1", "::1"].into_iter().map(String::from).collect();
    if !listen.is_unspecified() {
        names.insert(listen.to_string());
    }
    names
}

/// The kept certificate in `dir` when it covers every name `listen` needs; a new self-signed one
/// otherwise (covering the old names too, so clients that use them keep working once they trust it).
pub fn ensure_self_signed(dir: &Path, listen: IpAddr) -> anyhow::Result<BrokerTlsFiles> {
    let (cert, key, names_path) = (dir.join(CERT_FILE), dir.join(KEY_FILE), dir.join(NAMES_FILE));
    let needed = names_for(listen);
    let kept: BTreeSet<String> = match std::fs::read_to_string(&names_path) {
        Ok(text) => text.lines().map(str::trim).filter(|l| !l.is_empty()).map(String::from).collect(),
        Err(_) => BTreeSet::new(),
    };
    if cert.is_file() && key.is_file() && needed.is_subset(&kept) {
        return Ok(BrokerTlsFiles { cert, key, made: false, names: kept.into_iter().collect() });
    }
    let names: Vec<String> = needed.union(&kept).cloned().collect();
    let (cert_pem, key_pem) = self_signed(&names)?;
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    // The key first and private: a certificate without its key would be useless, the reverse harmless.
    write_atomic_private(&key, key_pem.as_bytes()).with_context(|| format!("cannot write the broker key {}", key.display()))?;
    write_atomic(&cert, cert_pem.as_bytes()).with_context(|| format!("cannot write the broker certificate {}", cert.display()))?;
    write_atomic(&names_path, (names.join("\n") + "\n").as_bytes()).with_context(|| format!("cannot write {}", names_path.display()))?;
    Ok(BrokerTlsFiles { cert, key, made: true, names })
}

/// A self-signed certificate for `names` (DNS names, or IP addresses as IP SANs), and its key,
/// both PEM.
fn self_signed(names: &[String]) -> anyhow::Result<(String, String)> {
    let mut params = rcgen::CertificateParams::new(names.to_vec()).context("certificate names")?;
    params.distinguished_name.push(rcgen::DnType::CommonName, "cems-workbench embedded broker");
    let key = rcgen::KeyPair::generate().context("cannot make a key pair")?;
    let cert = params.self_signed(&key).context("cannot sign the certificate")?;
    Ok((cert.pem(), key.serialize_pem()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn made_once_kept_after_and_remade_with_the_union_for_a_new_address() {
        let dir = tempfile::tempdir().unwrap();
        let first = ensure_self_signed(dir.path(), "127.0.0.1".parse().unwrap()).unwrap();
        assert!(first.made);
        assert_eq!(first.names, ["127.0.0.1", "::1", "localhost"]);
        let pem = std::fs::read_to_string(&first.cert).unwrap();
        assert!(pem.starts_with("-----BEGIN CERTIFICATE-----"), "{pem}");
        let again = ensure_self_signed(dir.path(), "0.0.0.0".parse().unwrap()).unwrap();
        assert!(!again.made, "a wildcard address needs nothing new");
        assert_eq!(std::fs::read_to_string(&again.cert).unwrap(), pem, "kept as it was");
        let wider = ensure_self_signed(dir.path(), "192.168.7.2".parse().unwrap()).unwrap();
        assert!(wider.made);
        assert_eq!(wider.names, ["127.0.0.1", "192.168.7.2", "::1", "localhost"]);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&wider.key).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600, "the key is private");
        }
    }
}
