//! The request signature of §3: lowercase hex HMAC-SHA256, keyed by the app's secret, over
//! method, path, appId, timestamp, nonce and the body's SHA-256, joined by `\n`.

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

use crate::protocol::digest::sha256_hex;

type HmacSha256 = Hmac<Sha256>;

/// The lowercase hex SHA-256 of the exact body bytes.
pub fn body_sha256_hex(body: &[u8]) -> String {
    sha256_hex(body)
}

/// What a signature covers.
#[derive(Debug, Clone, Copy)]
pub struct SignInput<'a> {
    pub method: &'a str,
    /// Without host or query.
    pub path: &'a str,
    pub app_id: &'a str,
    /// As sent in `X-Cems-Timestamp`, verbatim.
    pub timestamp: &'a str,
    pub nonce: &'a str,
    pub body: &'a [u8],
}

/// The string to sign.
pub fn string_to_sign(input: &SignInput<'_>) -> String {
    let SignInput { method, path, app_id, timestamp, nonce, body } = *input;
    format!("{method}\n{path}\n{app_id}\n{timestamp}\n{nonce}\n{}", body_sha256_hex(body))
}

/// HMAC takes a key of any length, so this is always `Some`; the `Option` keeps it panic-free.
fn mac(secret: &str, input: &SignInput<'_>) -> Option<HmacSha256> {
    let mut mac = HmacSha256::new_from_slice(secret.as_bytes()).ok()?;
    mac.update(string_to_sign(input).as_bytes());
    Some(mac)
}

/// The signature (lowercase hex) of a request.
pub fn sign(secret: &str, input: &SignInput<'_>) -> String {
    mac(secret, input).map(|m| hex::encode(m.finalize().into_bytes())).unwrap_or_default()
}

/// True when `signature` (hex, either case) is that of the request; compared in constant time.
pub fn verify(secret: &str, input: &SignInput<'_>, signature: &str) -> bool {
    let Ok(tag) = hex::decode(signature) else { return false };
    mac(secret, input).is_some_and(|m| m.verify_slice(&tag).is_ok())
}

/// The headers of one signed request, as a client sends them (and `api sign` prints them).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct SignedHeaders {
    #[serde(rename = "Content-Type")]
    pub content_type: String,
    #[serde(rename = "X-Cems-Version")]
    pub version: String,
    #[serde(rename = "X-Cems-AppId")]
    pub app_id: String,
    #[serde(rename = "X-Cems-Timestamp")]
    pub timestamp: String,
    #[serde(rename = "X-Cems-Nonce")]
    pub nonce: String,
    #[serde(rename = "X-Cems-Signature")]
    pub signature: String,
}

impl SignedHeaders {
    /// Signs a POST of `body` to `path` at `timestamp_ms` with `nonce`.
    pub fn new(app_id: &str, secret: &str, path: &str, body: &[u8], timestamp_ms: i64, nonce: &str) -> SignedHeaders {
        let timestamp = timestamp_ms.to_string();
        let input = SignInput { method: "POST", path, app_id, timestamp: &timestamp, nonce, body };
        let signature = sign(secret, &input);
        SignedHeaders {
            content_type: super::headers::CONTENT_TYPE_JSON.to_owned(),
            version: super::VERSION.to_owned(),
            app_id: app_id.to_owned(),
            timestamp,
            nonce: nonce.to_owned(),
            signature,
        }
    }

    /// (name, value) pairs in the contract's order.
    pub fn pairs(&self) -> [(&'static str, &str); 6] {
        [
            ("Content-Type", &self.content_type),
            ("X-Cems-Version", &self.version),
            ("X-Cems-AppId", &self.app_id),
            ("X-Cems-Timestamp", &self.timestamp),
            ("X-Cems-Nonce", &self.nonce),
            ("X-Cems-Signature", &self.signature),
        ]
    }
}
