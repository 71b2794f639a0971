//! The app API over HTTP: HTTP/1.1 and HTTP/2 (h2c with prior knowledge) both answered on one
//! port, a body over 1 MiB refused by its announced length, plain HTTP refused off loopback, and
//! the probe: passing against our own server, failing against a test double (a dropped field, a
//! misnamed code) on exactly those checks.

mod app_api_support;

use std::collections::BTreeSet;
use std::sync::Arc;

use app_api_support::*;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, Method, Uri};
use axum::response::{IntoResponse, Response};
use cems_workbench::api::probe::{ProbeOptions, probe};
use cems_workbench::api::{ApiClient, ApiServer, ApiService, Call, HttpVersion, ListenOptions, RawRequest};
use cems_workbench::protocol::app_api::{Family, Interface, Shape};
use cems_workbench::protocol::time::now_ms;
use http_body_util::BodyExt;
use serde_json::{Value, json};

async fn start(service: Arc<ApiService>) -> (String, tokio::sync::oneshot::Sender<()>) {
    let server = ApiServer::bind(&ListenOptions { listen: "127.0.0.1:0".parse().unwrap(), tls: None, plain_http: false }).await.unwrap();
    let url = format!("http://{}/api", server.local_addr);
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(server.serve(service, async move {
        let _ = stopped.await;
    }));
    (url, stop)
}

fn options() -> ProbeOptions {
    ProbeOptions { cems_id: "site-1".into(), from_ms: t("2024-04-30T23:00:00+08:00"), to_ms: t("2024-05-01T02:00:00+08:00"), observed: None }
}

#[tokio::test]
async fn http1_and_http2_are_both_answered() {
    let dir = tempfile::tempdir().unwrap();
    let (url, _stop) = start(service(dir.path())).await;
    let static_data = Interface { family: Family::Static, shape: Shape::Cems };
    for (version, wire) in [(HttpVersion::Http1, "HTTP/1.1"), (HttpVersion::Http2, "HTTP/2.0")] {
        let client = ApiClient::new(&url, APP, SECRET, version, None).unwrap();
        let exchange = client.call(static_data, &json!({"cemsId": "site-1"})).await.unwrap();
        assert_eq!((exchange.reply.status, exchange.reply.version.as_str()), (200, wire));
        let answer = exchange.reply.json().unwrap();
        assert_eq!(answer["code"], 0, "{answer}");
        assert_eq!(answer["data"]["cems"]["cemsId"], "site-1");
    }
}

#[tokio::test]
async fn a_body_over_1_mib_is_refused_by_its_length() {
    let dir = tempfile::tempdir().unwrap();
    let (url, _stop) = start(service(dir.path())).await;
    let client = ApiClient::new(&url, APP, SECRET, HttpVersion::Http1, None).unwrap();
    let big = vec![b' '; 1024 * 1024 + 1];
    let path = "/api/cems/GetCemsStaticData";
    let headers = client.sign(path, &big);
    let raw = RawRequest { method: "POST".into(), path: path.into(), headers: headers.pairs().iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect(), body: big };
    let reply = client.send(&raw).await.unwrap();
    assert_eq!((reply.status, reply.json().unwrap()["code"].as_i64()), (413, Some(2002)));
}

#[tokio::test]
async fn plain_http_off_loopback_needs_asking_by_name() {
    let refused = ApiServer::bind(&ListenOptions { listen: "0.0.0.0:0".parse().unwrap(), tls: None, plain_http: false }).await;
    assert!(refused.err().unwrap().to_string().contains("TLS is required"));
    assert!(ApiServer::bind(&ListenOptions { listen: "0.0.0.0:0".parse().unwrap(), tls: None, plain_http: true }).await.is_ok());
}

#[tokio::test]
async fn the_probe_passes_against_our_own_server() {
    let dir = tempfile::tempdir().unwrap();
    let (url, _stop) = start(service(dir.path())).await;
    for version in [HttpVersion::Http1, HttpVersion::Http2] {
        let client = ApiClient::new(&url, APP, SECRET, version, None).unwrap();
        let report = probe(&client, &options()).await;
        assert_eq!(report.failed().count(), 0, "{}", report.table());
        let interfaces: BTreeSet<&str> = report.checks.iter().filter(|c| c.section != "errors").map(|c| c.interface.as_str()).collect();
        assert_eq!(interfaces.len(), 24, "every interface called");
        assert!(report.checks.iter().filter(|c| c.section == "errors").count() >= 15);
    }
}

/// Our server with two faults: `dataCount` dropped from every `cems`, and 1005 answered as 1009.
async fn wrong(State(service): State<Arc<ApiService>>, method: Method, uri: Uri, headers: HeaderMap, body: Body) -> Response {
    let bytes = body.collect().await.unwrap().to_bytes();
    let answer = service.answer(&Call { method: method.as_str(), path: uri.path(), headers: &headers, body: &bytes, now_ms: now_ms() });
    let mut json = answer.json();
    if let Some(cems) = json.pointer_mut("/data/cems").and_then(Value::as_object_mut) {
        cems.remove("dataCount");
    }
    if json["code"] == 1005 {
        json["code"] = json!(1009);
    }
    (axum::http::StatusCode::from_u16(answer.status).unwrap(), json.to_string()).into_response()
}

#[tokio::test]
async fn the_probe_fails_a_wrong_server_on_exactly_its_faults() {
    let dir = tempfile::tempdir().unwrap();
    let router = axum::Router::new().fallback(wrong).with_state(service(dir.path()));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/api", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await });
    let client = ApiClient::new(&url, APP, SECRET, HttpVersion::Http1, None).unwrap();
    let report = probe(&client, &options()).await;
    let failed: BTreeSet<(String, String)> = report.failed().map(|c| (c.interface.clone(), c.aspect.clone())).collect();
    let expected: BTreeSet<(String, String)> = [
        ("GetCemsStaticData", "fields"),
        ("GetCemsFullStaticData", "fields"),
        ("GetCemsSpecCategoryStaticData", "fields"),
        ("bad signature", "1005"),
    ]
    .iter()
    .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
    .collect();
    assert_eq!(failed, expected, "{}", report.table());
    let fields = report.checks.iter().find(|c| c.interface == "GetCemsStaticData" && c.aspect == "fields").unwrap();
    assert_eq!(fields.problems, ["data.cems.dataCount: expected an object, missing"]);
}

fn observed(gateways: cems_workbench::engine::Gateways) -> cems_workbench::api::probe::Observed {
    let source = cems_workbench::api::FixedSource { gateways: std::sync::RwLock::new(gateways), history: None };
    cems_workbench::api::probe::Observed { source: Arc::new(source), models: Arc::new(cems_workbench::protocol::model::ModelSet::builtin()), tolerance_ms: 60_000 }
}

#[tokio::test]
async fn the_probe_compares_dynamic_values_with_what_mqtt_showed() {
    let dir = tempfile::tempdir().unwrap();
    let (url, _stop) = start(service(dir.path())).await;
    let client = ApiClient::new(&url, APP, SECRET, HttpVersion::Http2, None).unwrap();
    let same = probe(&client, &ProbeOptions { observed: Some(observed(gateways())), ..options() }).await;
    assert_eq!(same.failed().count(), 0, "{}", same.table());
    assert!(same.checks.iter().any(|c| c.aspect == "mqtt" && c.ok));

    // Seen over MQTT: meter-1's P at the same time with another value, pcs-1's P 2 minutes later.
    let mut seen = gateways_with_meter_power(4.0);
    let key = cems_workbench::engine::GatewayKey { pk: "PK-GW-01".into(), dev: "gw1".into() };
    let ts = t("2026-12-02T05:45:00Z");
    let data = json!({"points": [{"sub": "pcs-1", "pid": "P", "v": -21.0, "q": 0, "ts": ts + 120_000}]});
    let payload = cems_workbench::protocol::payload::decode("point", "report", false, &data).typed.unwrap();
    seen.apply(&key, payload, now_ms());
    let differs = probe(&client, &ProbeOptions { observed: Some(observed(seen)), ..options() }).await;
    let failed: Vec<(&str, &str)> = differs.failed().map(|c| (c.interface.as_str(), c.aspect.as_str())).collect();
    assert_eq!(failed, [("GetCemsFullDynamicData", "mqtt")], "{}", differs.table());
    let problems = &differs.failed().next().unwrap().problems;
    assert_eq!(problems.len(), 2, "{problems:?}");
    assert!(problems[0].contains("PK-GW-01.gw1.meter-1 P: served 3.5, MQTT showed 4.0"), "{problems:?}");
    assert!(problems[1].contains("PK-GW-01.gw1.pcs-1 P: served time is 120 s"), "{problems:?}");
}
