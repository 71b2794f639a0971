//! TLS on the embedded broker's public side: rustls server settings from a certificate chain
//! and its key, and the handshake of each accepted connection (done in the connection's own
//! task, under a deadline, so a client that never finishes it holds only its own slot).

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use rustls::ServerConfig;
use tokio::net::TcpStream;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::server::TlsStream;
use tracing::warn;

use crate::transport::link::TransportError;
use crate::transport::pem::{read_certs, read_key};

/// How long a client has to finish its TLS handshake.
const HANDSHAKE_WAIT: Duration = Duration::from_secs(10);

/// rustls server settings (our own ring provider: none is installed process-wide) from PEM
/// files; the error names the file that is wrong.
pub fn server_config(cert_file: &Path, key_file: &Path) -> Result<Arc<ServerConfig>, TransportError> {
    let certs = read_certs(cert_file, "broker certificate")?;
    let key = read_key(key_file, "broker key")?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| TransportError::Tls(format!("no usable protocol version: {e}")))?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| TransportError::Tls(format!("broker certificate {} with key {}: {e}", cert_file.display(), key_file.display())))?;
    Ok(Arc::new(config))
}

/// The handshakes of one broker, and how many failed (logged once, then every 1000th: a port
/// scanner or a client without our CA must not flood the log).
pub struct TlsDoor {
    acceptor: TlsAcceptor,
    failed: AtomicU64,
}

impl std::fmt::Debug for TlsDoor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlsDoor").field("failed", &self.failed.load(Ordering::Relaxed)).finish()
    }
}

impl TlsDoor {
    pub fn new(config: Arc<ServerConfig>) -> TlsDoor {
        TlsDoor { acceptor: TlsAcceptor::from(config), failed: AtomicU64::new(0) }
    }

    /// The client's stream once its handshake is done; None (logged) when it failed or took too long.
    pub async fn accept(&self, client: TcpStream, peer: SocketAddr) -> Option<TlsStream<TcpStream>> {
        let why = match tokio::time::timeout(HANDSHAKE_WAIT, self.acceptor.accept(client)).await {
            Ok(Ok(stream)) => return Some(stream),
            Ok(Err(e)) => e.to_string(),
            Err(_) => format!("no handshake within {} s", HANDSHAKE_WAIT.as_secs()),
        };
        let failed = self.failed.fetch_add(1, Ordering::Relaxed) + 1;
        if failed % 1000 == 1 {
            warn!("embedded broker: TLS handshake with {peer} failed: {why} ({failed} failed so far; a client must trust the broker's certificate, e.g. --ca)");
        }
        None
    }
}
