//! The application-side API answered from a known gateway table and point history, without
//! HTTP: every interface's shape and values, paging, statistics across the +08:00 day and month
//! boundary, and every return code the server gives.

mod app_api_support;

use app_api_support::*;
use axum::http::HeaderMap;
use cems_workbench::api::Call;
use cems_workbench::protocol::app_api::{SignedHeaders, sign::SignInput, sign::sign};
use cems_workbench::protocol::time::now_ms;
use serde_json::{Value, json};

fn ok(answer: &cems_workbench::api::Answer) -> Value {
    assert_eq!((answer.status, code(answer)), (200, 0), "{}", answer.json());
    answer.json()["data"].clone()
}

const RANGE_FROM: &str = "2024-04-30T23:00:00.000+08:00";
const RANGE_TO: &str = "2024-05-01T02:00:00.000+08:00";

#[test]
fn static_data_describes_the_site_its_categories_and_points() {
    let dir = tempfile::tempdir().unwrap();
    let s = service(dir.path());
    let a = call(&s, "GetCemsStaticData", json!({"cemsId": "site-1"}));
    let cems = &ok(&a)["cems"];
    assert_eq!(cems["cemsId"], "site-1");
    assert_eq!(cems["name"], json!({"zh": "Lab", "en": "Lab"}));
    assert_eq!(cems["address"], "Bench 3");
    assert_eq!(cems["timezone"], "+08:00");
    assert_eq!(cems["dataCount"]["pointCount"], 5);
    assert_eq!(cems["dataCount"]["onlinePointCount"], 3);
    let categories: Vec<&str> = cems["categories"].as_array().unwrap().iter().map(|c| c["categoryId"].as_str().unwrap()).collect();
    assert_eq!(categories, ["gateway", "meter", "pcs", "other"]);
    assert!(a.json().get("page").is_none(), "7.1 is not paged");

    let full = call(&s, "GetCemsFullStaticData", json!({"cemsId": "site-1", "pageSize": 2, "pageNo": 2}));
    let data = ok(&full);
    assert_eq!(full.json()["page"], json!({"pageNo": 2, "pageSize": 2, "total": 5}));
    let ids: Vec<&str> = data["points"].as_array().unwrap().iter().map(|p| p["pointId"].as_str().unwrap()).collect();
    assert_eq!(ids, ["PK-GW-01.gw1.pcs-1", "PK-X.gw.2"]);
    let pcs = &data["points"][0];
    assert_eq!((pcs["categoryId"].as_str(), pcs["productKey"].as_str(), pcs["sub"].as_str(), pcs["online"].as_bool()), (Some("pcs"), Some("PK-PCS-100"), Some("pcs-1"), Some(true)));
    let soc = pcs["parameters"].as_array().unwrap().iter().find(|p| p["parameterId"] == "SOC").unwrap();
    assert_eq!((soc["kind"].as_str(), soc["unit"].as_str()), (Some("analog"), Some("%")));
    assert!(pcs["parameters"].as_array().unwrap().iter().any(|p| p["parameterId"] == "EChg" && p["kind"] == "meter"));
    // An unmodelled gateway: category gateway, no parameters of its own.
    assert_eq!(data["points"][1]["categoryId"], "gateway");
    assert_eq!(data["categories"].as_array().unwrap().len(), 4);

    let meters = call(&s, "GetCemsSpecCategoryStaticData", json!({"cemsId": "site-1", "categoryId": "meter"}));
    let data = ok(&meters);
    assert_eq!(data["categories"][0]["pointCount"], 1);
    assert_eq!(data["points"][0]["pointId"], "PK-GW-01.gw1.meter-1");
    assert_eq!(meters.json()["page"]["total"], 1);

    // Ids are looked up, never split: a dev and a sub holding dots.
    let simple = call(&s, "GetPointStaticData", json!({"cemsId": "site-1", "pointIds": ["PK-X.gw.2.s.1", "PK-GW-01.gw1"]}));
    assert_eq!(
        ok(&simple)["points"],
        json!([
            {"pointId": "PK-GW-01.gw1", "name": {"zh": "能源网关", "en": "Energy gateway"}, "categoryId": "gateway"},
            {"pointId": "PK-X.gw.2.s.1", "name": {"zh": "PK-X.gw.2.s.1", "en": "PK-X.gw.2.s.1"}, "categoryId": "other"}
        ])
    );
    let unmodelled = call(&s, "GetPointFullStaticData", json!({"cemsId": "site-1", "pointIds": ["PK-X.gw.2.s.1"]}));
    let params = &ok(&unmodelled)["points"][0]["parameters"];
    assert_eq!(params[0], json!({"parameterId": "flag", "name": {"zh": "flag", "en": "flag"}, "unit": "", "kind": "digital", "type": "bool"}));
    assert_eq!(params[1]["kind"], "analog");
    let of_category = call(&s, "GetPointSpecCategoryStaticData", json!({"cemsId": "site-1", "pointIds": ["PK-GW-01.gw1.meter-1", "PK-GW-01.gw1.pcs-1"], "categoryId": "pcs"}));
    let points = ok(&of_category)["points"].as_array().unwrap().clone();
    assert_eq!(points.len(), 1);
    assert_eq!(points[0]["pointId"], "PK-GW-01.gw1.pcs-1");
}

#[test]
fn dynamic_data_gives_the_latest_values_in_stable_order() {
    let dir = tempfile::tempdir().unwrap();
    let s = service(dir.path());
    let p = call(&s, "GetCemsDynamicData", json!({"cemsId": "site-1", "parameterIds": ["P"]}));
    assert_eq!(
        ok(&p)["values"],
        json!([
            {"pointId": "PK-GW-01.gw1.meter-1", "parameterId": "P", "value": 3.5, "quality": 0, "time": "2026-12-02T13:45:00.000+08:00"},
            {"pointId": "PK-GW-01.gw1.pcs-1", "parameterId": "P", "value": -20.0, "quality": 0, "time": "2026-12-02T13:45:00.000+08:00"}
        ])
    );
    let full = call(&s, "GetCemsFullDynamicData", json!({"cemsId": "site-1", "pageSize": 3}));
    let pairs: Vec<(String, String)> = ok(&full)["values"].as_array().unwrap().iter().map(|v| (v["pointId"].as_str().unwrap().to_owned(), v["parameterId"].as_str().unwrap().to_owned())).collect();
    assert_eq!(full.json()["page"]["total"], 8);
    assert_eq!(pairs, [("PK-GW-01.gw1".into(), "cpuLoad".into()), ("PK-GW-01.gw1.meter-1".into(), "EpImp".into()), ("PK-GW-01.gw1.meter-1".into(), "P".into())]);
    let past = call(&s, "GetCemsFullDynamicData", json!({"cemsId": "site-1", "pageNo": 9}));
    assert_eq!(ok(&past)["values"], json!([]), "a page past the end is empty, not an error");

    let pcs = call(&s, "GetCemsSpecCategoryDynamicData", json!({"cemsId": "site-1", "categoryId": "pcs", "parameterIds": ["P"]}));
    assert_eq!(ok(&pcs)["values"].as_array().unwrap().len(), 1);
    let point = call(&s, "GetPointDynamicData", json!({"cemsId": "site-1", "pointIds": ["PK-GW-01.gw1.meter-1"], "parameterIds": ["Ua", "EpImp"]}));
    let values = &ok(&point)["values"];
    assert_eq!((values[0]["parameterId"].as_str(), values[0]["value"].as_f64()), (Some("EpImp"), Some(1000.5)));
    assert_eq!((values[1]["parameterId"].as_str(), values[1]["quality"].as_u64()), (Some("Ua"), Some(2)));
    let point_full = call(&s, "GetPointFullDynamicData", json!({"cemsId": "site-1", "pointIds": ["PK-X.gw.2.s.1"]}));
    assert_eq!(ok(&point_full)["values"][0]["value"], json!(true));
    let spec = call(&s, "GetPointSpecCategoryDynamicData", json!({"cemsId": "site-1", "pointIds": ["PK-GW-01.gw1.meter-1", "PK-GW-01.gw1.pcs-1"], "categoryId": "meter"}));
    assert!(ok(&spec)["values"].as_array().unwrap().iter().all(|v| v["pointId"] == "PK-GW-01.gw1.meter-1"));
}

#[test]
fn historic_data_pages_by_sample_in_point_parameter_time_order() {
    let dir = tempfile::tempdir().unwrap();
    let s = service(dir.path());
    let page = |n: u64| {
        let a = call(&s, "GetPointHistoricData", json!({"cemsId": "site-1", "pointIds": ["PK-GW-01.gw1.meter-1"], "parameterIds": ["P", "EpImp"], "from": RANGE_FROM, "to": RANGE_TO, "pageSize": 4, "pageNo": n}));
        let data = ok(&a).clone();
        assert_eq!(a.json()["page"]["total"], 11, "6 energy samples (one invalid) and 5 power samples in the range");
        data["series"].as_array().unwrap().iter().map(|s| (s["parameterId"].as_str().unwrap().to_owned(), s["values"].as_array().unwrap().len())).collect::<Vec<_>>()
    };
    assert_eq!(page(1), [("EpImp".to_owned(), 4)]);
    assert_eq!(page(2), [("EpImp".to_owned(), 2), ("P".to_owned(), 2)]);
    assert_eq!(page(3), [("P".to_owned(), 3)]);
    assert_eq!(page(4), Vec::<(String, usize)>::new());
    let first = call(&s, "GetPointFullHistoricData", json!({"cemsId": "site-1", "pointIds": ["PK-GW-01.gw1.meter-1"], "from": RANGE_FROM, "to": RANGE_TO}));
    let energy = &ok(&first)["series"][0];
    assert_eq!(energy["values"][0], json!({"time": "2024-04-30T23:00:00.000+08:00", "value": 110.0, "quality": 0}));
    assert_eq!(energy["values"][4]["quality"], 1);
    // `to` is exclusive; the same call in another site's timezone writes other offsets.
    let utc = call(&s, "GetCemsHistoricData", json!({"cemsId": "site-utc", "parameterIds": ["P"], "from": "2024-04-30T15:00:00Z", "to": "2024-04-30T17:00:00Z"}));
    let values = ok(&utc)["series"][0]["values"].as_array().unwrap().clone();
    assert_eq!(values.len(), 4);
    assert_eq!(values[0]["time"], "2024-04-30T15:00:00.000+00:00");
    for name in ["GetCemsFullHistoricData", "GetCemsSpecCategoryHistoricData", "GetPointSpecCategoryHistoricData"] {
        let body = json!({"cemsId": "site-1", "categoryId": "meter", "pointIds": ["PK-GW-01.gw1.meter-1"], "from": RANGE_FROM, "to": RANGE_TO});
        assert_eq!(call(&s, name, body).json()["page"]["total"], 11, "{name}");
    }
}

fn stat_values(s: &cems_workbench::api::ApiService, cems: &str, period: &str, stat: &str, parameter: &str) -> Vec<(String, f64, u64)> {
    let a = call(s, "GetPointStatisticData", json!({"cemsId": cems, "items": [{"pointId": "PK-GW-01.gw1.meter-1", "parameterId": parameter, "stat": stat}], "from": RANGE_FROM, "to": RANGE_TO, "period": period}));
    let series = &ok(&a)["series"][0];
    assert_eq!((series["stat"].as_str(), series["period"].as_str()), (Some(stat), Some(period)));
    series["values"].as_array().unwrap().iter().map(|v| (v["start"].as_str().unwrap().to_owned(), v["value"].as_f64().unwrap(), v["count"].as_u64().unwrap())).collect()
}

#[test]
fn statistics_by_hour_day_and_month_across_the_timezone_boundary() {
    let dir = tempfile::tempdir().unwrap();
    let s = service(dir.path());
    let v = |start: &str, value: f64, count: u64| (start.to_owned(), value, count);
    // delta: from the sample before the range (100), a reset (130 → 5) counted as no energy, the
    // invalid sample (9999, quality 1) left out.
    assert_eq!(stat_values(&s, "site-1", "day", "delta", "EpImp"), [v("2024-04-30T00:00:00.000+08:00", 25.0, 2), v("2024-05-01T00:00:00.000+08:00", 20.0, 3)]);
    assert_eq!(stat_values(&s, "site-1", "month", "delta", "EpImp"), [v("2024-04-01T00:00:00.000+08:00", 25.0, 2), v("2024-05-01T00:00:00.000+08:00", 20.0, 3)]);
    assert_eq!(
        stat_values(&s, "site-1", "hour", "delta", "EpImp"),
        [v("2024-04-30T23:00:00.000+08:00", 25.0, 2), v("2024-05-01T00:00:00.000+08:00", 5.0, 2), v("2024-05-01T01:00:00.000+08:00", 15.0, 1)]
    );
    assert_eq!(stat_values(&s, "site-1", "day", "avg", "P"), [v("2024-04-30T00:00:00.000+08:00", 1.5, 2), v("2024-05-01T00:00:00.000+08:00", 4.0, 3)]);
    assert_eq!(stat_values(&s, "site-1", "day", "min", "P"), [v("2024-04-30T00:00:00.000+08:00", 1.0, 2), v("2024-05-01T00:00:00.000+08:00", 3.0, 3)]);
    assert_eq!(stat_values(&s, "site-1", "day", "max", "P"), [v("2024-04-30T00:00:00.000+08:00", 2.0, 2), v("2024-05-01T00:00:00.000+08:00", 5.0, 3)]);
    assert_eq!(stat_values(&s, "site-1", "month", "sum", "P"), [v("2024-04-01T00:00:00.000+08:00", 3.0, 2), v("2024-05-01T00:00:00.000+08:00", 12.0, 3)]);
    // At +00:00 the same samples fall in one day and one month.
    assert_eq!(stat_values(&s, "site-utc", "day", "sum", "P"), [v("2024-04-30T00:00:00.000+00:00", 15.0, 5)]);
    assert_eq!(stat_values(&s, "site-utc", "month", "delta", "EpImp"), [v("2024-04-01T00:00:00.000+00:00", 45.0, 5)]);

    let paged = call(&s, "GetCemsStatisticData", json!({"cemsId": "site-1", "parameterIds": ["EpImp", "P"], "from": RANGE_FROM, "to": RANGE_TO, "period": "hour", "stat": "max", "pageSize": 2, "pageNo": 2}));
    let data = ok(&paged);
    assert_eq!(paged.json()["page"], json!({"pageNo": 2, "pageSize": 2, "total": 6}), "3 hours × 2 parameters");
    let series: Vec<(&str, usize)> = data["series"].as_array().unwrap().iter().map(|s| (s["parameterId"].as_str().unwrap(), s["values"].as_array().unwrap().len())).collect();
    assert_eq!(series, [("EpImp", 1), ("P", 1)]);
    for name in ["GetCemsFullStatisticData", "GetCemsSpecCategoryStatisticData", "GetPointFullStatisticData", "GetPointSpecCategoryStatisticData"] {
        let body = json!({"cemsId": "site-1", "categoryId": "meter", "pointIds": ["PK-GW-01.gw1.meter-1"], "from": RANGE_FROM, "to": RANGE_TO, "period": "day", "stat": "avg"});
        let a = call(&s, name, body);
        let series = ok(&a)["series"].as_array().unwrap().clone();
        assert!(series.iter().any(|s| s["parameterId"] == "P" && s["values"][0]["value"] == 1.5), "{name}: {}", a.json());
    }
}

fn raw(s: &cems_workbench::api::ApiService, path: &str, headers: &HeaderMap, body: &[u8]) -> (u16, i64) {
    let a = s.answer(&Call { method: "POST", path, headers, body, now_ms: now_ms() });
    (a.status, code(&a))
}

#[test]
fn every_return_code_is_given_with_its_status() {
    let dir = tempfile::tempdir().unwrap();
    let s = service(dir.path());
    let path = "/api/cems/GetCemsStaticData";
    let body = br#"{"cemsId":"site-1"}"#;
    let signed = |ts: i64, nonce: &str| SignedHeaders::new(APP, SECRET, path, body, ts, nonce);
    let fresh = signed(now_ms(), &fresh_nonce());

    let mut missing = header_map(&fresh);
    missing.remove("x-cems-nonce");
    assert_eq!(raw(&s, path, &missing, body), (401, 1001));
    let mut unknown = header_map(&fresh);
    unknown.insert("x-cems-appid", "nobody".parse().unwrap());
    assert_eq!(raw(&s, path, &unknown, body), (401, 1002));
    assert_eq!(raw(&s, path, &header_map(&signed(now_ms() - 301_000, &fresh_nonce())), body), (401, 1003));
    let mut bad = header_map(&fresh);
    bad.insert("x-cems-signature", "00".repeat(32).parse().unwrap());
    assert_eq!(raw(&s, path, &bad, body), (401, 1005));
    // A nonce is recorded only once its signature verified: the bad one above did not spend it.
    assert_eq!(raw(&s, path, &header_map(&fresh), body), (200, 0));
    assert_eq!(raw(&s, path, &header_map(&fresh), body), (401, 1004));
    let mut version = header_map(&signed(now_ms(), &fresh_nonce()));
    version.insert("x-cems-version", "2.0".parse().unwrap());
    assert_eq!(raw(&s, path, &version, body), (400, 2002));
    let array = b"[1]";
    let h = SignedHeaders::new(APP, SECRET, path, array, now_ms(), &fresh_nonce());
    assert_eq!(raw(&s, path, &header_map(&h), array), (400, 2001));

    let cases: &[(&str, Value, u16, i64)] = &[
        ("GetCemsStaticData", json!({"cemsId": "site-2"}), 403, 1006),
        ("GetCemsStaticData", json!({"cemsId": "site-9"}), 400, 2003),
        ("GetCemsStaticData", json!({}), 400, 2002),
        ("GetPointStaticData", json!({"cemsId": "site-1", "pointIds": ["PK-GW-01.gw1.nope"]}), 400, 2004),
        ("GetCemsSpecCategoryStaticData", json!({"cemsId": "site-1", "categoryId": "nope"}), 400, 2005),
        ("GetCemsHistoricData", json!({"cemsId": "site-1", "parameterIds": ["P"], "from": RANGE_TO, "to": RANGE_FROM}), 400, 2006),
        ("GetCemsHistoricData", json!({"cemsId": "site-1", "parameterIds": ["P"], "from": "2024-01-01T00:00:00Z", "to": "2024-02-02T00:00:00Z"}), 400, 2006),
        ("GetCemsDynamicData", json!({"cemsId": "site-1", "parameterIds": ["nope"]}), 400, 2007),
        ("GetCemsFullDynamicData", json!({"cemsId": "site-1", "pageSize": 1001}), 400, 2002),
        ("GetNothing", json!({"cemsId": "site-1"}), 404, 2008),
    ];
    for (name, body, status, want) in cases {
        let a = call(&s, name, body.clone());
        assert_eq!((a.status, code(&a)), (*status, *want), "{name} {body}: {}", a.json());
        assert!(a.json()["msg"].as_str().is_some_and(|m| !m.is_empty()));
    }
    let unknown_point = call(&s, "GetPointDynamicData", json!({"cemsId": "site-1", "pointIds": ["x.y"], "parameterIds": ["P"]}));
    assert!(unknown_point.json()["msg"].as_str().unwrap().contains("x.y"), "the msg names the id");

    let get = s.answer(&Call { method: "GET", path, headers: &header_map(&fresh), body: b"", now_ms: now_ms() });
    assert_eq!((get.status, code(&get)), (405, 2008));
    let big = vec![b' '; 1024 * 1024 + 1];
    assert_eq!(raw(&s, path, &header_map(&fresh), &big), (413, 2002));

    // Rate limit 2 per second: the third call of one second is refused.
    let now = now_ms();
    let codes: Vec<i64> = (0..3)
        .map(|_| {
            let h = SignedHeaders::new("slow", "slow-secret", path, body, now, &fresh_nonce());
            s.answer(&Call { method: "POST", path, headers: &header_map(&h), body, now_ms: now }).json()["code"].as_i64().unwrap()
        })
        .collect();
    assert_eq!(codes, [0, 0, 3001]);
}

#[test]
fn an_unreadable_history_is_an_internal_error() {
    let dir = tempfile::tempdir().unwrap();
    let junk = dir.path().join("junk.db");
    std::fs::write(&junk, b"this is not a database, it is a note").unwrap();
    let source = cems_workbench::api::FixedSource { gateways: std::sync::RwLock::new(gateways()), history: Some(junk) };
    let data = std::sync::Arc::new(cems_workbench::api::ApiData::new(Box::new(source), cems_workbench::protocol::model::ModelSet::builtin(), None));
    let config = cems_workbench::api::ApiConfig::parse(&apps_json().to_string()).unwrap();
    let s = cems_workbench::api::ApiService::new(data, config);
    let a = call(&s, "GetCemsHistoricData", json!({"cemsId": "site-1", "parameterIds": ["P"], "from": RANGE_FROM, "to": RANGE_TO}));
    assert_eq!((a.status, code(&a)), (500, 5000), "{}", a.json());
}

#[test]
fn the_signature_vector_of_the_contract() {
    let input = SignInput { method: "POST", path: "/api/cems/GetCemsStaticData", app_id: "app01", timestamp: "1700000000000", nonce: "n-0001", body: br#"{"cemsId":"site-1"}"# };
    assert_eq!(sign("s3cr3t-app", &input), "3489c09a3f8c95afe6547cb82450bc3f62bbdc153696111400e79602d5dab5b4");
}

#[test]
fn a_changed_table_is_served_at_once() {
    let source = std::sync::Arc::new(cems_workbench::api::FixedSource { gateways: std::sync::RwLock::new(gateways()), history: None });
    let data = std::sync::Arc::new(cems_workbench::api::ApiData::new(Box::new(source.clone()), cems_workbench::protocol::model::ModelSet::builtin(), None));
    let s = cems_workbench::api::ApiService::new(data, cems_workbench::api::ApiConfig::parse(&apps_json().to_string()).unwrap());
    let body = json!({"cemsId": "site-1", "pointIds": ["PK-GW-01.gw1.pcs-1"], "parameterIds": ["SOC"]});
    assert_eq!(ok(&call(&s, "GetPointDynamicData", body.clone()))["values"][0]["value"].as_f64(), Some(55.0));
    let key = cems_workbench::engine::GatewayKey { pk: "PK-GW-01".into(), dev: "gw1".into() };
    let later = json!({"points": [{"sub": "pcs-1", "pid": "SOC", "v": 56, "q": 0, "ts": t("2026-12-02T05:46:00Z")}]});
    let payload = cems_workbench::protocol::payload::decode("point", "report", false, &later).typed.unwrap();
    // Applied in the same millisecond as nothing else: the view must still see the new sample.
    source.gateways.write().unwrap().apply(&key, payload, 1);
    let again = ok(&call(&s, "GetPointDynamicData", body));
    assert_eq!((again["values"][0]["value"].as_f64(), again["values"][0]["time"].as_str()), (Some(56.0), Some("2026-12-02T13:46:00.000+08:00")));
}
