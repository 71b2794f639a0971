//! The security checks of §2 and §3, in the contract's order: headers present (1001), appId
//! (1002), timestamp within ±300 s (1003), signature (1005), nonce not replayed (1004; recorded
//! only once its signature verified), then the app's rate limit (3001).

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::Mutex;

use axum::http::HeaderMap;

use super::apps::{ApiConfig, App};
use crate::protocol::app_api::request::RequestError;
use crate::protocol::app_api::sign::{SignInput, verify};
use crate::protocol::app_api::{ApiCode, MAX_NONCE_CHARS, MAX_SKEW_MS, NONCE_WINDOW_MS, headers};

/// The nonces each app used in the last 600 s.
#[derive(Debug, Default)]
struct Nonces {
    seen: HashSet<String>,
    /// (when, nonce), oldest first, to forget them in order.
    order: VecDeque<(i64, String)>,
}

impl Nonces {
    /// Records `nonce` at `now`; false when it was used within the window.
    fn record(&mut self, nonce: &str, now: i64) -> bool {
        while let Some((at, _)) = self.order.front() {
            if now - *at <= NONCE_WINDOW_MS {
                break;
            }
            if let Some((_, old)) = self.order.pop_front() {
                self.seen.remove(&old);
            }
        }
        if !self.seen.insert(nonce.to_owned()) {
            return false;
        }
        self.order.push_back((now, nonce.to_owned()));
        true
    }
}

/// Requests of one app in the current second.
#[derive(Debug, Default, Clone, Copy)]
struct Window {
    second: i64,
    count: u32,
}

/// The server's memory of nonces and request rates, per app.
#[derive(Debug, Default)]
pub struct Guard {
    nonces: Mutex<HashMap<String, Nonces>>,
    rates: Mutex<HashMap<String, Window>>,
}

fn header<'h>(map: &'h HeaderMap, name: &str) -> Option<&'h str> {
    map.get(name).and_then(|v| v.to_str().ok())
}

impl Guard {
    /// Checks a request's headers and signature; the app it is from, or the first failure.
    pub fn admit<'c>(&self, config: &'c ApiConfig, method: &str, path: &str, map: &HeaderMap, body: &[u8], now: i64) -> Result<&'c App, RequestError> {
        let required = [headers::VERSION, headers::APP_ID, headers::TIMESTAMP, headers::NONCE, headers::SIGNATURE];
        if let Some(missing) = required.iter().find(|name| header(map, name).is_none_or(str::is_empty)) {
            return Err(RequestError::new(ApiCode::MissingHeader, format!("header {missing} is missing")));
        }
        let get = |name| header(map, name).unwrap_or_default();
        let (app_id, timestamp, nonce, signature) = (get(headers::APP_ID), get(headers::TIMESTAMP), get(headers::NONCE), get(headers::SIGNATURE));
        if nonce.chars().count() > MAX_NONCE_CHARS {
            return Err(RequestError::new(ApiCode::MissingHeader, format!("header {} is longer than {MAX_NONCE_CHARS} characters", headers::NONCE)));
        }
        let Some(app) = config.app(app_id) else {
            return Err(RequestError::new(ApiCode::UnknownApp, format!("unknown appId {app_id:?}")));
        };
        let sent: Option<i64> = timestamp.bytes().all(|b| b.is_ascii_digit()).then(|| timestamp.parse().ok()).flatten();
        match sent {
            Some(ms) if (ms - now).abs() <= MAX_SKEW_MS => {}
            Some(ms) => return Err(RequestError::new(ApiCode::StaleTimestamp, format!("timestamp is {} s from the server's clock (at most 300 s)", (ms - now).abs() / 1000))),
            None => return Err(RequestError::new(ApiCode::StaleTimestamp, format!("timestamp {timestamp:?} is not epoch milliseconds"))),
        }
        let input = SignInput { method, path, app_id, timestamp, nonce, body };
        if !verify(&app.secret, &input, signature) {
            return Err(RequestError::new(ApiCode::BadSignature, "bad signature"));
        }
        let fresh = {
            let mut nonces = self.nonces.lock().unwrap_or_else(|e| e.into_inner());
            nonces.entry(app.app_id.clone()).or_default().record(nonce, now)
        };
        if !fresh {
            return Err(RequestError::new(ApiCode::NonceReplayed, "nonce already used in the last 600 s"));
        }
        if !self.within_rate(app, now) {
            return Err(RequestError::new(ApiCode::TooManyRequests, format!("more than {} requests per second", app.rate_limit)));
        }
        Ok(app)
    }

    fn within_rate(&self, app: &App, now: i64) -> bool {
        if app.rate_limit == 0 {
            return true;
        }
        let mut rates = self.rates.lock().unwrap_or_else(|e| e.into_inner());
        let window = rates.entry(app.app_id.clone()).or_default();
        let second = now.div_euclid(1000);
        if window.second != second {
            *window = Window { second, count: 0 };
        }
        window.count += 1;
        window.count <= app.rate_limit
    }
}

#[cfg(test)]
mod tests {
    use super::Nonces;

    #[test]
    fn a_nonce_is_refused_within_600_s_and_taken_again_after() {
        let mut nonces = Nonces::default();
        assert!(nonces.record("n1", 1_000));
        assert!(!nonces.record("n1", 1_000 + 600_000));
        assert!(nonces.record("n2", 1_000 + 600_000));
        assert!(nonces.record("n1", 1_000 + 600_001), "forgotten once older than the window");
        assert_eq!(nonces.seen.len(), 2);
    }
}
