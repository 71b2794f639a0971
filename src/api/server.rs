//! The HTTP face of the API: axum over tokio, HTTP/1.1 and HTTP/2 on one port (h2 over TLS by
//! ALPN, h2c with prior knowledge on plain TCP: hyper's auto connection builder tells them apart
//! by the connection preface). Loopback by default; any other address needs TLS unless plain
//! HTTP is asked for by name.

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::{Context, bail};
use axum::Router;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use http_body_util::BodyExt;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;

use super::answer::{Answer, ApiService, Call};
use crate::protocol::app_api::{ApiCode, MAX_BODY_BYTES, headers};
use crate::protocol::time::now_ms;

/// How long a client has to finish its TLS handshake.
const HANDSHAKE_WAIT: std::time::Duration = std::time::Duration::from_secs(10);

/// How the server listens.
#[derive(Debug, Clone)]
pub struct ListenOptions {
    pub listen: SocketAddr,
    /// Certificate and key: HTTPS (and h2 by ALPN).
    pub tls: Option<Arc<rustls::ServerConfig>>,
    /// Plain HTTP on a non-loopback address, asked for by name (`--plain-http`).
    pub plain_http: bool,
}

impl ListenOptions {
    /// Plain HTTP off loopback only when asked for by name.
    pub fn check(&self) -> anyhow::Result<()> {
        if !self.listen.ip().is_loopback() && self.tls.is_none() && !self.plain_http {
            bail!("--listen {}: not a loopback address, so TLS is required (--tls-cert and --tls-key), or --plain-http to serve plain HTTP there", self.listen);
        }
        Ok(())
    }
}

/// A bound server, not yet serving.
pub struct ApiServer {
    listener: TcpListener,
    tls: Option<tokio_rustls::TlsAcceptor>,
    pub local_addr: SocketAddr,
}

/// The TLS setup of `cert`/`key` (PEM) with ALPN `h2` and `http/1.1`.
pub fn tls_config(cert: &std::path::Path, key: &std::path::Path) -> anyhow::Result<Arc<rustls::ServerConfig>> {
    let config = crate::transport::broker::tls_server_config(cert, key).map_err(|e| anyhow::anyhow!("{e}"))?;
    let mut config = (*config).clone();
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

impl ApiServer {
    /// Binds the address; refuses plain HTTP off loopback unless asked by name.
    pub async fn bind(options: &ListenOptions) -> anyhow::Result<ApiServer> {
        options.check()?;
        let listener = TcpListener::bind(options.listen).await.with_context(|| format!("cannot listen on {}", options.listen))?;
        let local_addr = listener.local_addr().with_context(|| format!("listening on {}", options.listen))?;
        let tls = options.tls.clone().map(tokio_rustls::TlsAcceptor::from);
        Ok(ApiServer { listener, tls, local_addr })
    }

    pub fn scheme(&self) -> &'static str {
        if self.tls.is_some() { "https" } else { "http" }
    }

    /// Serves until `shutdown` resolves; each connection on its own task.
    pub async fn serve(self, service: Arc<ApiService>, shutdown: impl Future<Output = ()>) {
        let router = router(service);
        tokio::pin!(shutdown);
        loop {
            let (stream, peer) = tokio::select! {
                _ = &mut shutdown => return,
                accepted = self.listener.accept() => match accepted {
                    Ok(pair) => pair,
                    Err(e) => {
                        tracing::warn!("app API: accept failed: {e}");
                        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                        continue;
                    }
                },
            };
            let _ = stream.set_nodelay(true);
            let hyper_service = TowerToHyperService::new(router.clone());
            let tls = self.tls.clone();
            tokio::spawn(async move {
                let builder = auto::Builder::new(TokioExecutor::new());
                let served = match tls {
                    // A client that never finishes its handshake holds only this task, and not forever.
                    Some(acceptor) => match tokio::time::timeout(HANDSHAKE_WAIT, acceptor.accept(stream)).await {
                        Ok(Ok(tls_stream)) => builder.serve_connection(TokioIo::new(tls_stream), hyper_service).await,
                        Ok(Err(e)) => {
                            tracing::debug!(%peer, "app API: TLS handshake failed: {e}");
                            return;
                        }
                        Err(_) => return,
                    },
                    None => builder.serve_connection(TokioIo::new(stream), hyper_service).await,
                };
                if let Err(e) = served {
                    tracing::debug!(%peer, "app API connection: {e}");
                }
            });
        }
    }
}

/// Every path goes to one handler: it answers 2008 for an unknown interface or method itself,
/// with the contract's body.
pub fn router(service: Arc<ApiService>) -> Router {
    Router::new().fallback(handle).with_state(service)
}

async fn handle(State(service): State<Arc<ApiService>>, method: Method, uri: Uri, map: HeaderMap, body: Body) -> Response {
    let path = uri.path().to_owned();
    if method != Method::POST {
        return respond(Answer::with_status(ApiCode::STATUS_METHOD_NOT_ALLOWED, ApiCode::UnknownInterface, "only POST is served"));
    }
    if let Err(e) = service.interface_of(&path) {
        return respond(Answer::error(&e));
    }
    let too_large = || respond(Answer::with_status(ApiCode::STATUS_BODY_TOO_LARGE, ApiCode::BadParameter, "the body is larger than 1 MiB"));
    // Refused before reading when the length is announced, and cut off at the limit otherwise.
    let announced = map.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<u64>().ok());
    if announced.is_some_and(|n| n > MAX_BODY_BYTES as u64) {
        return too_large();
    }
    let bytes = match http_body_util::Limited::new(body, MAX_BODY_BYTES).collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(e) if e.downcast_ref::<http_body_util::LengthLimitError>().is_some() => return too_large(),
        Err(e) => return respond(Answer::with_status(400, ApiCode::BadParameter, &format!("cannot read the body: {e}"))),
    };
    let answered = tokio::task::spawn_blocking(move || {
        let call = Call { method: "POST", path: &path, headers: &map, body: &bytes, now_ms: now_ms() };
        service.answer(&call)
    })
    .await;
    match answered {
        Ok(answer) => respond(answer),
        Err(e) => respond(Answer::with_status(500, ApiCode::Internal, &format!("the request's worker failed: {e}"))),
    }
}

fn respond(answer: Answer) -> Response {
    let status = StatusCode::from_u16(answer.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut response = (status, answer.bytes).into_response();
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(headers::CONTENT_TYPE_JSON));
    response
}
