//! The application-side API of a CEMS master (GB/T 35031.5, `shared/protocol/app-api.md`), pure
//! and without I/O: the calls' envelope and return codes, the request signature, the time
//! format and period alignment, the information model, the 24 interfaces and their parameters.
//! The HTTP server and the probe client (`crate::api`) are built on it.

pub mod codes;
pub mod interface;
pub mod model;
pub mod request;
pub mod sign;
pub mod time;
#[cfg(test)]
mod tests;

pub use codes::ApiCode;
pub use interface::{Family, Interface, Shape};
pub use request::{ApiRequest, Paging, RequestError, Stat};
pub use time::Period;
pub use sign::{SignInput, SignedHeaders, body_sha256_hex, sign, string_to_sign, verify};
pub use time::TzOffset;

/// The path prefix every interface is served under: `POST {base}/cems/{Interface}`.
pub const DEFAULT_BASE: &str = "/api";
/// The one version of the contract (`X-Cems-Version`).
pub const VERSION: &str = "1.0";
/// The largest request body accepted.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;
/// A timestamp further than this from the server's clock is refused (1003).
pub const MAX_SKEW_MS: i64 = 300_000;
/// A nonce seen from one app within this window is refused (1004).
pub const NONCE_WINDOW_MS: i64 = 600_000;
/// The longest nonce accepted.
pub const MAX_NONCE_CHARS: usize = 64;
/// Requests per second an app may make when its entry names no `rateLimit`.
pub const DEFAULT_RATE_LIMIT: u32 = 20;
/// The site every gateway belongs to when no sites are configured.
pub const DEFAULT_CEMS_ID: &str = "site-1";

/// The request headers of §3.
pub mod headers {
    pub const VERSION: &str = "x-cems-version";
    pub const APP_ID: &str = "x-cems-appid";
    pub const TIMESTAMP: &str = "x-cems-timestamp";
    pub const NONCE: &str = "x-cems-nonce";
    pub const SIGNATURE: &str = "x-cems-signature";
    pub const CONTENT_TYPE_JSON: &str = "application/json; charset=utf-8";
}

/// True for an app id of the contract: `[A-Za-z0-9_-]{1,64}`.
pub fn valid_app_id(id: &str) -> bool {
    (1..=64).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// The path of an interface under `base` (`/api` → `/api/cems/GetCemsStaticData`).
pub fn interface_path(base: &str, interface: Interface) -> String {
    format!("{}/cems/{}", base.trim_end_matches('/'), interface.name())
}

/// An answer's envelope: `{"code","msg","data"}` and `page` on paged interfaces.
pub fn envelope(code: ApiCode, msg: &str, data: serde_json::Value, page: Option<model::Page>) -> serde_json::Value {
    let mut answer = serde_json::json!({ "code": code.number(), "msg": msg, "data": data });
    if let (Some(page), Some(object)) = (page, answer.as_object_mut()) {
        object.insert("page".to_owned(), serde_json::json!(page));
    }
    answer
}
