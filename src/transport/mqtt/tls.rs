//! TLS for `mqtts://` links: rustls settings from the link's CA file, client certificate and
//! `insecure` flag.

use std::path::Path;
use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};
use tracing::{debug, warn};

use crate::transport::link::TransportError;
use crate::transport::pem::{read_certs, read_key};

/// What a link's TLS is built from (the TLS fields of its `MqttConfig`).
pub(super) struct TlsFiles<'a> {
    pub ca_file: Option<&'a Path>,
    pub client_cert: Option<&'a Path>,
    pub client_key: Option<&'a Path>,
    pub insecure: bool,
}

/// rustls settings for `mqtts://`: our own ring provider (none is installed process-wide),
/// the CA file or the system roots, an optional client certificate.
pub(super) fn tls_config(config: &TlsFiles<'_>, url: &str) -> Result<ClientConfig, TransportError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| TransportError::Tls(format!("no usable protocol version: {e}")))?;
    let builder = if config.insecure {
        warn!(url = %url, "TLS certificate checks are off (insecure): any server certificate is accepted");
        builder.dangerous().with_custom_certificate_verifier(Arc::new(AcceptAnyServerCert { provider }))
    } else {
        let mut roots = RootCertStore::empty();
        match config.ca_file {
            Some(path) => {
                let (added, _) = roots.add_parsable_certificates(read_certs(path, "CA file")?);
                if added == 0 {
                    return Err(TransportError::Tls(format!("no usable certificate in CA file {}", path.display())));
                }
            }
            None => {
                let native = rustls_native_certs::load_native_certs();
                for error in &native.errors {
                    debug!("skipping a system root certificate: {error}");
                }
                roots.add_parsable_certificates(native.certs);
                if roots.is_empty() {
                    return Err(TransportError::Tls("no system root certificates found; set a CA file".into()));
                }
            }
        }
        builder.with_root_certificates(roots)
    };
    match (config.client_cert, config.client_key) {
        (Some(cert), Some(key)) => {
            let certs = read_certs(cert, "client certificate")?;
            let key = read_key(key, "client key")?;
            builder
                .with_client_auth_cert(certs, key)
                .map_err(|e| TransportError::Tls(format!("client certificate {}: {e}", cert.display())))
        }
        (None, None) => Ok(builder.with_no_client_auth()),
        (Some(cert), None) => {
            Err(TransportError::Tls(format!("client certificate {} given without a client key", cert.display())))
        }
        (None, Some(key)) => {
            Err(TransportError::Tls(format!("client key {} given without a client certificate", key.display())))
        }
    }
}

/// `insecure`: accepts any server certificate (self-signed lab brokers) but still checks that
/// the server holds the certificate's key, so the session is encrypted to someone.
#[derive(Debug)]
struct AcceptAnyServerCert {
    provider: Arc<CryptoProvider>,
}

impl ServerCertVerifier for AcceptAnyServerCert {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.provider.signature_verification_algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.provider.signature_verification_algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider.signature_verification_algorithms.supported_schemes()
    }
}
