//! The app API tests' fixture: a gateway table with known values (a modelled gateway with a
//! meter and a PCS, and an unmodelled gateway whose ids hold dots), a point history with known
//! samples across the +08:00 day and month boundary, and signed calls.
#![allow(dead_code)]

use std::path::Path;
use std::sync::Arc;

use axum::http::{HeaderMap, HeaderName, HeaderValue};
use cems_workbench::api::{Answer, ApiConfig, ApiData, ApiService, Call, FixedSource};
use cems_workbench::engine::history::{HistoryBatch, HistoryDb, HistoryOptions, HistorySource, SeriesSamples};
use cems_workbench::engine::series::SeriesKey;
use cems_workbench::engine::{GatewayKey, Gateways};
use cems_workbench::protocol::app_api::{Interface, SignedHeaders, interface_path};
use cems_workbench::protocol::model::ModelSet;
use cems_workbench::protocol::payload::decode;
use cems_workbench::protocol::time::{now_ms, parse_time};
use serde_json::{Value, json};

pub const APP: &str = "app01";
pub const SECRET: &str = "s3cr3t-app";

pub fn apps_json() -> Value {
    json!({
        "apps": [
            {"appId": APP, "secret": SECRET, "cems": ["site-1", "site-utc", "site-9"], "rateLimit": 0},
            {"appId": "slow", "secret": "slow-secret", "cems": ["site-1"], "rateLimit": 2}
        ],
        "sites": [
            {"cemsId": "site-1", "name": "Lab", "address": "Bench 3"},
            {"cemsId": "site-utc", "timezone": "+00:00"}
        ]
    })
}

/// Epoch ms of an ISO time.
pub fn t(iso: &str) -> i64 {
    parse_time(iso).unwrap_or_else(|e| panic!("{e}"))
}

fn apply(gateways: &mut Gateways, key: &GatewayKey, class: &str, action: &str, data: Value) {
    let payload = decode(class, action, false, &data).typed.unwrap_or_else(|e| panic!("{class}/{action}: {e:?}"));
    gateways.apply(key, payload, now_ms());
}

/// The live table: values at 2026-12-02T05:45:00Z (13:45 at +08:00).
pub fn gateways() -> Gateways {
    gateways_with_meter_power(3.5)
}

/// The same table with meter-1's power at `meter_power`.
pub fn gateways_with_meter_power(meter_power: f64) -> Gateways {
    let mut g = Gateways::new();
    let gw = GatewayKey { pk: "PK-GW-01".into(), dev: "gw1".into() };
    apply(&mut g, &gw, "status", "", json!({"online": true}));
    let info = json!({"vendor": "Acme", "model": "EG-1", "serial": "S1", "hwVersion": "1", "fwVersion": "1", "swVersion": "1", "uptime": 5,
        "subs": [{"sub": "meter-1", "productKey": "PK-METER-3P"}, {"sub": "pcs-1", "productKey": "PK-PCS-100"}]});
    apply(&mut g, &gw, "info", "report", info);
    let ts = t("2026-12-02T05:45:00Z");
    apply(&mut g, &gw, "point", "report", json!({"points": [
        {"sub": "gw1", "pid": "cpuLoad", "v": 12.5, "q": 0, "ts": ts},
        {"sub": "meter-1", "pid": "P", "v": meter_power, "q": 0, "ts": ts},
        {"sub": "meter-1", "pid": "Ua", "v": 230.1, "q": 2, "ts": ts},
        {"sub": "pcs-1", "pid": "P", "v": -20.0, "q": 0, "ts": ts},
        {"sub": "pcs-1", "pid": "SOC", "v": 55, "q": 0, "ts": ts}
    ]}));
    apply(&mut g, &gw, "meter", "report", json!({"readings": [{"sub": "meter-1", "ts": ts, "values": {"EpImp": 1000.5}}]}));
    let other = GatewayKey { pk: "PK-X".into(), dev: "gw.2".into() };
    apply(&mut g, &other, "status", "", json!({"online": false}));
    apply(&mut g, &other, "point", "report", json!({"points": [
        {"sub": "s.1", "pid": "temp", "v": 21.0, "q": 0, "ts": ts},
        {"sub": "s.1", "pid": "flag", "v": true, "q": 0, "ts": ts}
    ]}));
    g
}

/// The meter-1 series of the history: EpImp with a reset and an invalid sample, P from 1 to 5.
pub fn fill_history(path: &Path) {
    let mut db = HistoryDb::open(path, HistoryOptions::default()).unwrap_or_else(|e| panic!("{e}"));
    let e = |iso: &str, v: f64, q: u8| (t(iso), v, q);
    let energy = vec![
        e("2024-04-30T14:00:00Z", 100.0, 0),
        e("2024-04-30T15:00:00Z", 110.0, 0),
        e("2024-04-30T15:30:00Z", 125.0, 0),
        e("2024-04-30T16:00:00Z", 130.0, 0),
        e("2024-04-30T16:30:00Z", 5.0, 0),
        e("2024-04-30T16:45:00Z", 9999.0, 1),
        e("2024-04-30T17:00:00Z", 20.0, 0),
    ];
    let power = vec![
        e("2024-04-30T15:00:00Z", 1.0, 0),
        e("2024-04-30T15:30:00Z", 2.0, 0),
        e("2024-04-30T16:00:00Z", 3.0, 0),
        e("2024-04-30T16:30:00Z", 4.0, 0),
        e("2024-04-30T17:00:00Z", 5.0, 0),
    ];
    let batch = HistoryBatch {
        series: vec![
            SeriesSamples { key: SeriesKey::meter("PK-GW-01", "gw1", "meter-1", "EpImp"), source: HistorySource::Report, samples: energy },
            SeriesSamples { key: SeriesKey::point("PK-GW-01", "gw1", "meter-1", "P"), source: HistorySource::Report, samples: power },
        ],
        ..Default::default()
    };
    db.write(&[batch]).unwrap_or_else(|e| panic!("{e}"));
}

/// A service over the fixture, its history in `dir`.
pub fn service(dir: &Path) -> Arc<ApiService> {
    let history = dir.join("history.db");
    fill_history(&history);
    let source = FixedSource { gateways: std::sync::RwLock::new(gateways()), history: Some(history) };
    let data = Arc::new(ApiData::new(Box::new(source), ModelSet::builtin(), None));
    let config = ApiConfig::parse(&apps_json().to_string()).unwrap_or_else(|e| panic!("{e:#}"));
    Arc::new(ApiService::new(data, config))
}

pub fn header_map(headers: &SignedHeaders) -> HeaderMap {
    let mut map = HeaderMap::new();
    for (name, value) in headers.pairs() {
        map.insert(HeaderName::from_bytes(name.as_bytes()).unwrap_or_else(|e| panic!("{e}")), HeaderValue::from_str(value).unwrap_or_else(|e| panic!("{e}")));
    }
    map
}

static NONCE: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);

pub fn fresh_nonce() -> String {
    format!("n-{}", NONCE.fetch_add(1, std::sync::atomic::Ordering::Relaxed))
}

/// Calls `name` signed as app01, now.
pub fn call(service: &ApiService, name: &str, body: Value) -> Answer {
    call_as(service, APP, SECRET, name, body)
}

pub fn call_as(service: &ApiService, app: &str, secret: &str, name: &str, body: Value) -> Answer {
    let path = match Interface::from_name(name) {
        Some(i) => interface_path("/api", i),
        None => format!("/api/cems/{name}"),
    };
    let bytes = body.to_string().into_bytes();
    let headers = header_map(&SignedHeaders::new(app, secret, &path, &bytes, now_ms(), &fresh_nonce()));
    service.answer(&Call { method: "POST", path: &path, headers: &headers, body: &bytes, now_ms: now_ms() })
}

/// The answer's code, after checking the status agrees with it.
pub fn code(answer: &Answer) -> i64 {
    answer.json()["code"].as_i64().unwrap_or(-1)
}
