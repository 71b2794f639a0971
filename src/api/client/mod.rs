//! A client of the application-side API: builds signed requests, sends them over HTTP/1.1 or
//! HTTP/2 (prior knowledge on plain TCP, ALPN over TLS) and parses the answers. The probe uses
//! it, and so can a window panel: nothing here prints.

mod tls;
mod url;

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, anyhow, bail};
use axum::http::{Request, header};
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper_util::rt::{TokioExecutor, TokioIo};
use serde_json::Value;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;

use crate::protocol::app_api::{Interface, SignedHeaders, interface_path};
use crate::protocol::time::now_ms;

pub use url::ApiUrl;


/// Which HTTP a client speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HttpVersion {
    Http1,
    /// h2c with prior knowledge on plain TCP; over TLS, h2 is offered by ALPN.
    Http2,
}

/// What came back: the HTTP status and the body (parsed when it is JSON).
#[derive(Debug, Clone, PartialEq)]
pub struct Reply {
    pub status: u16,
    /// The negotiated protocol (`HTTP/1.1`, `HTTP/2.0`).
    pub version: String,
    pub body: Vec<u8>,
    pub latency_ms: f64,
}

impl Reply {
    pub fn json(&self) -> Option<Value> {
        serde_json::from_slice(&self.body).ok()
    }
}

/// One signed call and its answer, as a panel or the probe shows it.
#[derive(Debug, Clone)]
pub struct Exchange {
    pub interface: Interface,
    pub path: String,
    pub headers: SignedHeaders,
    pub request: Value,
    pub reply: Reply,
}

/// A request to send as given (the probe's error paths: a wrong signature, an old timestamp).
#[derive(Debug, Clone, Default)]
pub struct RawRequest {
    pub method: String,
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

/// The longest wait for one answer.
const CALL_TIMEOUT: Duration = Duration::from_secs(30);

/// A client of one server as one app.
#[derive(Clone)]
pub struct ApiClient {
    pub url: ApiUrl,
    pub app_id: String,
    secret: String,
    pub version: HttpVersion,
    tls: Option<Arc<rustls::ClientConfig>>,
}

impl std::fmt::Debug for ApiClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiClient").field("url", &self.url).field("app_id", &self.app_id).field("version", &self.version).finish_non_exhaustive()
    }
}

impl ApiClient {
    /// A client of `url` (`http://127.0.0.1:8686/api`; the base path defaults to `/api`). For
    /// `https://`, `ca_file` or else the system's roots check the server's certificate.
    pub fn new(url: &str, app_id: &str, secret: &str, version: HttpVersion, ca_file: Option<&std::path::Path>) -> anyhow::Result<ApiClient> {
        let url = ApiUrl::parse(url)?;
        let tls = if url.https { Some(tls::client_config(ca_file, version)?) } else { None };
        Ok(ApiClient { url, app_id: app_id.to_owned(), secret: secret.to_owned(), version, tls })
    }

    /// The headers of a POST of `body` to `path`, signed now with a fresh nonce.
    pub fn sign(&self, path: &str, body: &[u8]) -> SignedHeaders {
        self.sign_at(path, body, now_ms(), &format!("{:032x}", rand::random::<u128>()))
    }

    /// The headers signed with a given time and nonce (`api sign`, the probe's stale request).
    pub fn sign_at(&self, path: &str, body: &[u8], timestamp_ms: i64, nonce: &str) -> SignedHeaders {
        SignedHeaders::new(&self.app_id, &self.secret, path, body, timestamp_ms, nonce)
    }

    /// Calls `interface` with `request` (its `cemsId` included).
    pub async fn call(&self, interface: Interface, request: &Value) -> anyhow::Result<Exchange> {
        let path = interface_path(&self.url.base_path, interface);
        let body = serde_json::to_vec(request).context("encoding the request")?;
        let headers = self.sign(&path, &body);
        let raw = RawRequest {
            method: "POST".to_owned(),
            path: path.clone(),
            headers: headers.pairs().iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect(),
            body,
        };
        let reply = self.send(&raw).await?;
        Ok(Exchange { interface, path, headers, request: request.clone(), reply })
    }

    /// Sends a request exactly as given, on a connection of its own.
    pub async fn send(&self, raw: &RawRequest) -> anyhow::Result<Reply> {
        let started = Instant::now();
        let reply = tokio::time::timeout(CALL_TIMEOUT, self.send_inner(raw)).await.map_err(|_| anyhow!("{}: no answer within {} s", self.url, CALL_TIMEOUT.as_secs()))??;
        Ok(Reply { latency_ms: started.elapsed().as_secs_f64() * 1000.0, ..reply })
    }

    /// One HTTP/2 connection kept open for many requests at once (a load generator, a panel
    /// polling): each `send` is one stream on it.
    pub async fn connect_h2(&self) -> anyhow::Result<H2Connection> {
        let address = format!("{}:{}", self.url.host, self.url.port);
        let tcp = TcpStream::connect(&address).await.with_context(|| format!("cannot connect to {address}"))?;
        let _ = tcp.set_nodelay(true);
        let sender = match &self.tls {
            None => h2_sender(tcp).await?,
            Some(config) => {
                let name = rustls::pki_types::ServerName::try_from(self.url.host.clone()).with_context(|| format!("{} is not a host name", self.url.host))?;
                h2_sender(tokio_rustls::TlsConnector::from(config.clone()).connect(name, tcp).await.with_context(|| format!("TLS with {address}"))?).await?
            }
        };
        Ok(H2Connection { sender, origin: format!("{}://{address}", if self.url.https { "https" } else { "http" }) })
    }

    async fn send_inner(&self, raw: &RawRequest) -> anyhow::Result<Reply> {
        let address = format!("{}:{}", self.url.host, self.url.port);
        let tcp = TcpStream::connect(&address).await.with_context(|| format!("cannot connect to {address}"))?;
        let _ = tcp.set_nodelay(true);
        match &self.tls {
            None => self.exchange(tcp, self.version, raw).await,
            Some(config) => {
                let name = rustls::pki_types::ServerName::try_from(self.url.host.clone()).with_context(|| format!("{} is not a host name", self.url.host))?;
                let stream = tokio_rustls::TlsConnector::from(config.clone()).connect(name, tcp).await.with_context(|| format!("TLS with {address}"))?;
                let h2 = stream.get_ref().1.alpn_protocol() == Some(b"h2".as_slice());
                self.exchange(stream, if h2 { HttpVersion::Http2 } else { HttpVersion::Http1 }, raw).await
            }
        }
    }

    async fn exchange<S>(&self, stream: S, version: HttpVersion, raw: &RawRequest) -> anyhow::Result<Reply>
    where
        S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    {
        let io = TokioIo::new(stream);
        let authority = format!("{}:{}", self.url.host, self.url.port);
        let mut builder = Request::builder().method(raw.method.as_str());
        builder = match version {
            // HTTP/2 takes the authority from the URI; HTTP/1.1 from the Host header.
            HttpVersion::Http2 => builder.uri(format!("{}://{authority}{}", if self.url.https { "https" } else { "http" }, raw.path)),
            HttpVersion::Http1 => builder.uri(raw.path.as_str()).header(header::HOST, authority.as_str()),
        };
        for (name, value) in &raw.headers {
            builder = builder.header(name.as_str(), value.as_str());
        }
        let request = builder.body(Full::new(Bytes::from(raw.body.clone()))).context("building the request")?;
        let response = match version {
            HttpVersion::Http1 => {
                let (mut sender, connection) = hyper::client::conn::http1::handshake(io).await.context("HTTP/1.1 handshake")?;
                tokio::spawn(connection);
                sender.send_request(request).await.context("sending the request")?
            }
            HttpVersion::Http2 => {
                let (mut sender, connection) = hyper::client::conn::http2::handshake(TokioExecutor::new(), io).await.context("HTTP/2 handshake")?;
                tokio::spawn(connection);
                sender.send_request(request).await.context("sending the request")?
            }
        };
        let status = response.status().as_u16();
        let version = format!("{:?}", response.version());
        let body = response.into_body().collect().await.context("reading the answer")?.to_bytes().to_vec();
        if body.len() > 64 * 1024 * 1024 {
            bail!("the answer is larger than 64 MiB");
        }
        Ok(Reply { status, version, body, latency_ms: 0.0 })
    }
}

async fn h2_sender<S>(stream: S) -> anyhow::Result<hyper::client::conn::http2::SendRequest<Full<Bytes>>>
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let (sender, connection) = hyper::client::conn::http2::handshake(TokioExecutor::new(), TokioIo::new(stream)).await.context("HTTP/2 handshake")?;
    tokio::spawn(connection);
    Ok(sender)
}

/// An open HTTP/2 connection; cheap to clone, each clone sends on the same connection.
#[derive(Clone)]
pub struct H2Connection {
    sender: hyper::client::conn::http2::SendRequest<Full<Bytes>>,
    origin: String,
}

impl H2Connection {
    /// Sends one request as a stream of this connection; the status and body.
    pub async fn send(&mut self, raw: &RawRequest) -> anyhow::Result<(u16, Bytes)> {
        let mut builder = Request::builder().method(raw.method.as_str()).uri(format!("{}{}", self.origin, raw.path));
        for (name, value) in &raw.headers {
            builder = builder.header(name.as_str(), value.as_str());
        }
        let request = builder.body(Full::new(Bytes::from(raw.body.clone()))).context("building the request")?;
        self.sender.ready().await.context("the connection closed")?;
        let response = self.sender.send_request(request).await.context("sending the request")?;
        let status = response.status().as_u16();
        let body = response.into_body().collect().await.context("reading the answer")?.to_bytes();
        Ok((status, body))
    }
}
