//! `api bench`: what the application-side API costs, as ratios from one run (issue 17).
//!
//! - `dynamicRatio`: every page of `GetCemsFullDynamicData` over 1,000 points × 20 parameters,
//!   answered and serialised in-process, ÷ serialising the same 20,000 values once (target < 2);
//!   `liveRatio` the same with one of the 50 gateways reporting before every page, as on a live
//!   broker (a changed gateway's points are built again, the others' reused).
//! - `statisticRatio`: `GetPointStatisticData` (hourly avg) of one month of 5-second samples ÷ a
//!   plain SQL scan of the same rows.
//! - `requestsPerSecond`: `GetPointDynamicData` calls served over loopback HTTP/2 by a load
//!   generator (bounded in count and time) from an app with `rateLimit` 0 (target ≥ 2,000).

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::api::{ApiClient, ApiConfig, ApiData, ApiServer, ApiService, Call, FixedSource, HttpVersion, ListenOptions, RawRequest};
use crate::engine::history::{HistoryBatch, HistoryDb, HistoryOptions, HistorySource, SeriesSamples};
use crate::engine::series::SeriesKey;
use crate::engine::{GatewayKey, Gateways};
use crate::protocol::app_api::{Interface, SignedHeaders, interface_path, model::DynamicData, time::format_time, TzOffset};
use crate::protocol::model::ModelSet;
use crate::protocol::payload::decode;
use crate::protocol::time::now_ms;

const GATEWAYS: usize = 50;
/// The gateway itself and 19 devices behind it: 20 points per gateway, 1,000 in all.
const SUBS: usize = 19;
const PARAMETERS: usize = 20;
const APP: &str = "bench";
const SECRET: &str = "bench-secret";

fn table(ts: i64) -> Result<Gateways, String> {
    let mut g = Gateways::new();
    for i in 0..GATEWAYS {
        let key = GatewayKey { pk: "PK-BENCH".into(), dev: format!("GW-{i:03}") };
        let apply = |g: &mut Gateways, class: &str, action: &str, data: Value| -> Result<(), String> {
            let payload = decode(class, action, false, &data).typed.map_err(|e| format!("{class}/{action}: {e:?}"))?;
            g.apply(&key, payload, ts);
            Ok(())
        };
        apply(&mut g, "status", "", json!({"online": true}))?;
        let subs = std::iter::once(key.dev.clone()).chain((0..SUBS).map(|s| format!("dev-{s:02}")));
        let points: Vec<Value> = subs.flat_map(|sub| (0..PARAMETERS).map(move |p| json!({"sub": sub, "pid": format!("p{p:02}"), "v": p as f64 * 1.5, "q": 0, "ts": ts}))).collect();
        apply(&mut g, "point", "report", json!({ "points": points }))?;
    }
    Ok(g)
}

fn service(history: Option<std::path::PathBuf>) -> Result<Arc<ApiService>, String> {
    Ok(service_on(history)?.0)
}

/// The service and its gateway table, which the caller may change between calls.
fn service_on(history: Option<std::path::PathBuf>) -> Result<(Arc<ApiService>, Arc<FixedSource>), String> {
    let source = Arc::new(FixedSource { gateways: std::sync::RwLock::new(table(now_ms())?), history });
    let data = Arc::new(ApiData::new(Box::new(source.clone()), ModelSet::builtin(), None));
    let config = ApiConfig::parse(&json!({"apps": [{"appId": APP, "secret": SECRET, "cems": ["site-1"], "rateLimit": 0}]}).to_string()).map_err(|e| format!("{e:#}"))?;
    Ok((Arc::new(ApiService::new(data, config)), source))
}

/// One gateway reports a new value of its own point: what a live broker does between two calls.
fn one_gateway_reports(source: &FixedSource, gateway: usize, ts: i64) -> Result<(), String> {
    let key = GatewayKey { pk: "PK-BENCH".into(), dev: format!("GW-{gateway:03}") };
    let data = json!({"points": [{"sub": key.dev, "pid": "p00", "v": ts as f64, "q": 0, "ts": ts}]});
    let payload = decode("point", "report", false, &data).typed.map_err(|e| format!("point/report: {e:?}"))?;
    source.gateways.write().unwrap_or_else(|e| e.into_inner()).apply(&key, payload, ts);
    Ok(())
}

fn signed_call(service: &ApiService, interface: Interface, body: &Value, nonce: u64) -> Result<Vec<u8>, String> {
    let path = interface_path(&service.base, interface);
    let bytes = body.to_string().into_bytes();
    let signed = SignedHeaders::new(APP, SECRET, &path, &bytes, now_ms(), &format!("b-{nonce}"));
    let mut headers = axum::http::HeaderMap::new();
    for (name, value) in signed.pairs() {
        let name = axum::http::HeaderName::from_bytes(name.as_bytes()).map_err(|e| e.to_string())?;
        headers.insert(name, axum::http::HeaderValue::from_str(value).map_err(|e| e.to_string())?);
    }
    let answer = service.answer(&Call { method: "POST", path: &path, headers: &headers, body: &bytes, now_ms: now_ms() });
    if answer.status != 200 {
        return Err(format!("{interface}: {}", String::from_utf8_lossy(&answer.bytes)));
    }
    Ok(answer.bytes)
}

/// The best of `runs` timings of `work`.
fn best(runs: usize, mut work: impl FnMut() -> Result<(), String>) -> Result<Duration, String> {
    let mut best = Duration::MAX;
    for _ in 0..runs {
        let started = Instant::now();
        work()?;
        best = best.min(started.elapsed());
    }
    Ok(best)
}

fn dynamic_ratio() -> Result<Value, String> {
    let (service, source) = service_on(None)?;
    let interface = Interface::from_name("GetCemsFullDynamicData").ok_or("no interface")?;
    let pages = (GATEWAYS * (SUBS + 1) * PARAMETERS).div_ceil(1000);
    let mut nonce = 0u64;
    // The first call builds the site's view (what any call costs after the table changed); the
    // runs measure what later calls cost while it has not.
    let started = Instant::now();
    signed_call(&service, interface, &json!({"cemsId": "site-1", "pageSize": 1000}), u64::MAX)?;
    let first = started.elapsed();
    let served = best(5, || {
        for page in 1..=pages {
            nonce += 1;
            signed_call(&service, interface, &json!({"cemsId": "site-1", "pageSize": 1000, "pageNo": page}), nonce)?;
        }
        Ok(())
    })?;
    // Live: before every page one gateway reports (round robin), as on a busy broker; only the
    // calls are timed.
    let mut live = Duration::MAX;
    for run in 0..5 {
        let mut spent = Duration::ZERO;
        for page in 1..=pages {
            one_gateway_reports(&source, (run * pages + page) % GATEWAYS, now_ms())?;
            nonce += 1;
            let started = Instant::now();
            signed_call(&service, interface, &json!({"cemsId": "site-1", "pageSize": 1000, "pageNo": page}), nonce)?;
            spent += started.elapsed();
        }
        live = live.min(spent);
    }
    let tz = TzOffset::default();
    let values: Vec<DynamicData> = (0..GATEWAYS * (SUBS + 1) * PARAMETERS)
        .map(|i| DynamicData { point_id: format!("PK-BENCH.GW-{:03}.dev-{:02}", i / 400, i / 20 % 20), parameter_id: format!("p{:02}", i % 20), value: json!(i as f64 * 1.5), quality: 0, time: format_time(now_ms(), tz) })
        .collect();
    let serialised = best(5, || serde_json::to_vec(&values).map(drop).map_err(|e| e.to_string()))?;
    Ok(json!({ "values": values.len(), "pages": pages, "firstCallMs": first.as_secs_f64() * 1e3, "servedMs": served.as_secs_f64() * 1e3, "serialiseMs": serialised.as_secs_f64() * 1e3, "dynamicRatio": served.as_secs_f64() / serialised.as_secs_f64(), "liveServedMs": live.as_secs_f64() * 1e3, "liveRatio": live.as_secs_f64() / serialised.as_secs_f64() }))
}

fn statistic_ratio(dir: &std::path::Path) -> Result<Value, String> {
    let path = dir.join("bench-history.db");
    let key = SeriesKey::point("PK-BENCH", "GW-000", "dev-00", "p00");
    let from = crate::protocol::time::parse_time("2026-11-01T00:00:00+08:00")?;
    let month = 30 * 86_400_000;
    {
        let mut db = HistoryDb::open(&path, HistoryOptions { max_age_ms: i64::MAX / 4, ..HistoryOptions::default() }).map_err(|e| e.to_string())?;
        let samples: Vec<(i64, f64, u8)> = (0..month / 5000).map(|i| (from + i * 5000, (i % 1000) as f64, 0)).collect();
        for chunk in samples.chunks(50_000) {
            let batch = HistoryBatch { series: vec![SeriesSamples { key: key.clone(), source: HistorySource::Report, samples: chunk.to_vec() }], ..Default::default() };
            db.write(&[batch]).map_err(|e| e.to_string())?;
        }
    }
    let service = service(Some(path.clone()))?;
    let interface = Interface::from_name("GetPointStatisticData").ok_or("no interface")?;
    let body = json!({"cemsId": "site-1", "items": [{"pointId": "PK-BENCH.GW-000.dev-00", "parameterId": "p00", "stat": "avg"}],
        "from": format_time(from, TzOffset::default()), "to": format_time(from + month, TzOffset::default()), "period": "hour"});
    let mut nonce = 1u64 << 40;
    let served = best(3, || {
        nonce += 1;
        signed_call(&service, interface, &body, nonce).map(drop)
    })?;
    let db = HistoryDb::open_read_only(&path).map_err(|e| e.to_string())?;
    let mut rows = 0;
    let scanned = best(3, || {
        rows = db.samples_in(&key, from, from + month, 0, u64::MAX).map_err(|e| e.to_string())?.len();
        Ok(())
    })?;
    Ok(json!({ "samples": rows, "statisticMs": served.as_secs_f64() * 1e3, "scanMs": scanned.as_secs_f64() * 1e3, "statisticRatio": served.as_secs_f64() / scanned.as_secs_f64() }))
}

/// `connections` HTTP/2 connections with `streams` requests in flight each, until `count`
/// answers or `limit` has passed.
async fn load(count: u64, limit: Duration, connections: usize, streams: usize) -> Result<Value, String> {
    let service = service(None)?;
    let server = ApiServer::bind(&ListenOptions { listen: ([127, 0, 0, 1], 0).into(), tls: None, plain_http: false }).await.map_err(|e| format!("{e:#}"))?;
    let url = format!("http://{}/api", server.local_addr);
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(server.serve(service, async move {
        let _ = stopped.await;
    }));
    let client = ApiClient::new(&url, APP, SECRET, HttpVersion::Http2, None).map_err(|e| format!("{e:#}"))?;
    let interface = Interface::from_name("GetPointDynamicData").ok_or("no interface")?;
    let path = interface_path("/api", interface);
    let body = serde_json::to_vec(&json!({"cemsId": "site-1", "pointIds": ["PK-BENCH.GW-007.dev-03"], "parameterIds": (0..PARAMETERS).map(|p| format!("p{p:02}")).collect::<Vec<_>>()})).map_err(|e| e.to_string())?;
    let sent = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let failed = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let started = Instant::now();
    let deadline = tokio::time::Instant::now() + limit;
    let mut tasks = Vec::new();
    for _ in 0..connections {
        let connection = client.connect_h2().await.map_err(|e| format!("{e:#}"))?;
        for _ in 0..streams {
            let (mut connection, client, path, body, sent, failed) = (connection.clone(), client.clone(), path.clone(), body.clone(), sent.clone(), failed.clone());
            tasks.push(tokio::spawn(async move {
                while sent.fetch_add(1, std::sync::atomic::Ordering::Relaxed) < count && tokio::time::Instant::now() < deadline {
                    let headers = client.sign(&path, &body);
                    let raw = RawRequest { method: "POST".into(), path: path.clone(), headers: headers.pairs().iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect(), body: body.clone() };
                    if !matches!(connection.send(&raw).await, Ok((200, _))) {
                        failed.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    }
                }
            }));
        }
    }
    for task in tasks {
        let _ = task.await;
    }
    let elapsed = started.elapsed();
    let _ = stop.send(());
    let answered = sent.load(std::sync::atomic::Ordering::Relaxed).min(count);
    let failed = failed.load(std::sync::atomic::Ordering::Relaxed);
    Ok(json!({ "requests": answered, "failed": failed, "seconds": elapsed.as_secs_f64(), "connections": connections, "streams": streams,
        "requestsPerSecond": answered.saturating_sub(failed) as f64 / elapsed.as_secs_f64() }))
}

/// Runs the three measurements and returns their JSON.
pub fn run(rt: &tokio::runtime::Runtime, requests: u64, seconds: Duration) -> Result<Value, String> {
    let dir = tempfile_dir()?;
    let dynamic = dynamic_ratio()?;
    let statistic = statistic_ratio(&dir);
    let _ = std::fs::remove_dir_all(&dir);
    let load = rt.block_on(load(requests, seconds, 4, 16))?;
    Ok(json!({ "dynamic": dynamic, "statistic": statistic?, "load": load }))
}

fn tempfile_dir() -> Result<std::path::PathBuf, String> {
    let dir = std::env::temp_dir().join(format!("cems-api-bench-{}-{:x}", std::process::id(), rand::random::<u32>()));
    std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    Ok(dir)
}
