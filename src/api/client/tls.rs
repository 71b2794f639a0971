//! TLS for `https://` servers: a CA file or the system's roots, ALPN by the HTTP version asked.

use std::path::Path;
use std::sync::Arc;

use anyhow::{Context, bail};
use rustls::{ClientConfig, RootCertStore};

use super::HttpVersion;

pub fn client_config(ca_file: Option<&Path>, version: HttpVersion) -> anyhow::Result<Arc<ClientConfig>> {
    let mut roots = RootCertStore::empty();
    match ca_file {
        Some(path) => {
            let pem = std::fs::read(path).with_context(|| format!("cannot read CA file {}", path.display()))?;
            let certs: Vec<_> = rustls_pemfile::certs(&mut pem.as_slice()).collect::<Result<_, _>>().with_context(|| format!("CA file {}", path.display()))?;
            let (added, _) = roots.add_parsable_certificates(certs);
            if added == 0 {
                bail!("no usable certificate in CA file {}", path.display());
            }
        }
        None => {
            roots.add_parsable_certificates(rustls_native_certs::load_native_certs().certs);
            if roots.is_empty() {
                bail!("no system root certificates found; give a CA file");
            }
        }
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .context("no usable TLS protocol version")?
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = match version {
        HttpVersion::Http2 => vec![b"h2".to_vec(), b"http/1.1".to_vec()],
        HttpVersion::Http1 => vec![b"http/1.1".to_vec()],
    };
    Ok(Arc::new(config))
}
