//! The error paths: a request wrong in one way each must get exactly the contract's code and
//! HTTP status (a bad signature, a stale timestamp, a replayed nonce, unknown ids, a bad range,
//! an unknown interface, a method other than POST, a body over 1 MiB, missing headers).

use serde_json::{Value, json};

use super::flow::Found;
use super::{ProbeOptions, ProbeReport};
use crate::api::client::{ApiClient, RawRequest};
use crate::protocol::app_api::time::format_time;
use crate::protocol::app_api::{ApiCode, Family, Interface, MAX_BODY_BYTES, Shape, SignedHeaders, interface_path};
use crate::protocol::time::now_ms;

fn raw(path: &str, headers: &SignedHeaders, body: Vec<u8>) -> RawRequest {
    RawRequest { method: "POST".to_owned(), path: path.to_owned(), headers: headers.pairs().iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect(), body }
}

fn nonce() -> String {
    format!("probe-{:024x}", rand::random::<u128>() >> 32)
}

/// Sends `request`; records whether the answer carries one of `want` with its status.
async fn expect(client: &ApiClient, report: &mut ProbeReport, name: &str, request: &RawRequest, want: &[(ApiCode, u16)]) {
    let aspect = want.iter().map(|(c, _)| c.number().to_string()).collect::<Vec<_>>().join(" or ");
    let problems = match client.send(request).await {
        Err(e) => vec![format!("{e:#}")],
        Ok(reply) => {
            let json = reply.json().unwrap_or(Value::Null);
            let code = json.get("code").and_then(Value::as_i64);
            let has_msg = json.get("msg").is_some_and(Value::is_string);
            let matched = want.iter().any(|(c, status)| code == Some(c.number()) && reply.status == *status);
            let mut problems = Vec::new();
            if !matched {
                let expected: Vec<String> = want.iter().map(|(c, s)| format!("HTTP {s} code {}", c.number())).collect();
                problems.push(format!("expected {}, got HTTP {} code {}", expected.join(" or "), reply.status, code.map_or("none".to_owned(), |c| c.to_string())));
            }
            if !has_msg {
                problems.push("the answer has no msg".to_owned());
            }
            problems
        }
    };
    report.record("errors", name, &aspect, problems);
}

pub async fn error_paths(client: &ApiClient, options: &ProbeOptions, found: Option<&Found>, report: &mut ProbeReport) {
    let base = client.url.base_path.clone();
    let static_path = interface_path(&base, Interface { family: Family::Static, shape: Shape::Cems });
    let body = serde_json::to_vec(&json!({ "cemsId": options.cems_id })).unwrap_or_default();
    let app = client.app_id.clone();
    let unauthorized = |c: ApiCode| [(c, c.http_status())];

    let good = client.sign(&static_path, &body);
    let mut missing = raw(&static_path, &good, body.clone());
    missing.headers.retain(|(k, _)| k != "X-Cems-Signature");
    expect(client, report, "missing header", &missing, &unauthorized(ApiCode::MissingHeader)).await;

    let unknown_app = SignedHeaders::new("cems-probe-no-such-app", "x", &static_path, &body, now_ms(), &nonce());
    expect(client, report, "unknown appId", &raw(&static_path, &unknown_app, body.clone()), &unauthorized(ApiCode::UnknownApp)).await;

    let stale = client.sign_at(&static_path, &body, now_ms() - 301_000, &nonce());
    expect(client, report, "stale timestamp", &raw(&static_path, &stale, body.clone()), &unauthorized(ApiCode::StaleTimestamp)).await;

    let wrong = SignedHeaders::new(&app, "cems-probe-wrong-secret", &static_path, &body, now_ms(), &nonce());
    expect(client, report, "bad signature", &raw(&static_path, &wrong, body.clone()), &unauthorized(ApiCode::BadSignature)).await;

    let once = raw(&static_path, &client.sign(&static_path, &body), body.clone());
    expect(client, report, "first use of a nonce", &once, &[(ApiCode::Ok, 200)]).await;
    expect(client, report, "replayed nonce", &once, &unauthorized(ApiCode::NonceReplayed)).await;

    let mut version = raw(&static_path, &client.sign(&static_path, &body), body.clone());
    for (k, v) in &mut version.headers {
        if k == "X-Cems-Version" {
            *v = "9.9".to_owned();
        }
    }
    expect(client, report, "wrong version", &version, &[(ApiCode::BadParameter, 400)]).await;

    let array = b"[]".to_vec();
    expect(client, report, "body not an object", &raw(&static_path, &client.sign(&static_path, &array), array.clone()), &[(ApiCode::NotJsonObject, 400)]).await;

    let big = vec![b' '; MAX_BODY_BYTES + 1];
    expect(client, report, "body over 1 MiB", &raw(&static_path, &client.sign(&static_path, &big), big.clone()), &[(ApiCode::BadParameter, 413)]).await;

    let mut get = raw(&static_path, &client.sign(&static_path, &body), Vec::new());
    get.method = "GET".to_owned();
    expect(client, report, "method GET", &get, &[(ApiCode::UnknownInterface, 405)]).await;

    let nowhere = format!("{}/cems/GetNoSuchData", base.trim_end_matches('/'));
    expect(client, report, "unknown interface", &raw(&nowhere, &client.sign(&nowhere, &body), body.clone()), &[(ApiCode::UnknownInterface, 404)]).await;

    // A site this app may not read and one that does not exist look alike to it (1006 or 2003).
    let other = serde_json::to_vec(&json!({ "cemsId": "cems-probe-no-such-site" })).unwrap_or_default();
    expect(client, report, "unknown cemsId", &raw(&static_path, &client.sign(&static_path, &other), other.clone()), &[(ApiCode::SiteNotGranted, 403), (ApiCode::UnknownCems, 400)]).await;

    let signed = |i: Interface, body: Value| {
        let path = interface_path(&base, i);
        let bytes = serde_json::to_vec(&body).unwrap_or_default();
        raw(&path, &client.sign(&path, &bytes), bytes)
    };
    let cems = options.cems_id.as_str();
    let point_static = Interface { family: Family::Static, shape: Shape::Point };
    expect(client, report, "unknown pointId", &signed(point_static, json!({"cemsId": cems, "pointIds": ["cems-probe.no.such.point"]})), &[(ApiCode::UnknownPoint, 400)]).await;
    let category = Interface { family: Family::Static, shape: Shape::CemsSpecCategory };
    expect(client, report, "unknown categoryId", &signed(category, json!({"cemsId": cems, "categoryId": "no such category"})), &[(ApiCode::UnknownCategory, 400)]).await;
    let Some(found) = found else { return };
    let dynamic = Interface { family: Family::Dynamic, shape: Shape::Point };
    let unknown_parameter = json!({"cemsId": cems, "pointIds": [found.point_id], "parameterIds": ["cems-probe-no-such-parameter"]});
    expect(client, report, "unknown parameterId", &signed(dynamic, unknown_parameter), &[(ApiCode::UnknownParameter, 400)]).await;
    let historic = Interface { family: Family::Historic, shape: Shape::PointFull };
    let (from, to) = (format_time(options.to_ms, found.tz), format_time(options.from_ms, found.tz));
    let backwards = json!({"cemsId": cems, "pointIds": [found.point_id], "from": from, "to": to});
    expect(client, report, "range from after to", &signed(historic, backwards), &[(ApiCode::BadTimeRange, 400)]).await;
    let long = json!({"cemsId": cems, "pointIds": [found.point_id], "from": format_time(options.to_ms - 32 * 86_400_000, found.tz), "to": format_time(options.to_ms, found.tz)});
    expect(client, report, "range over 31 days", &signed(historic, long), &[(ApiCode::BadTimeRange, 400)]).await;
}
