//! `api sign`, `api serve` and `api probe` as a user runs them: the real binary, a real broker,
//! a simulated gateway, exit codes; and HTTPS with h2 chosen by ALPN.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use cems_workbench::api::{ApiClient, HttpVersion};
use cems_workbench::protocol::app_api::{Family, Interface, Shape};
use serde_json::{Value, json};

const BIN: &str = env!("CARGO_BIN_EXE_cems-workbench");

fn run(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(BIN).args(args).output().expect("binary runs");
    (out.status.code().unwrap_or(-1), String::from_utf8_lossy(&out.stdout).into_owned(), String::from_utf8_lossy(&out.stderr).into_owned())
}

/// A child killed when the test ends, pass or fail.
struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `args` and returns it with its first stdout line.
fn spawn_line(args: &[&str]) -> (Killed, String) {
    let mut child = Command::new(BIN).args(args).stdout(Stdio::piped()).stderr(Stdio::null()).spawn().expect("binary starts");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    (Killed(child), line.trim().to_owned())
}

#[test]
fn api_sign_prints_the_contract_vector() {
    let (code, out, err) = run(&["api", "sign", "--app", "app01", "--secret", "s3cr3t-app", "--path", "/api/cems/GetCemsStaticData", "--body", r#"{"cemsId":"site-1"}"#, "--ts", "1700000000000", "--nonce", "n-0001"]);
    assert_eq!(code, 0, "{err}");
    let headers: Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(headers["X-Cems-Signature"], "3489c09a3f8c95afe6547cb82450bc3f62bbdc153696111400e79602d5dab5b4");
    assert_eq!((headers["X-Cems-Version"].as_str(), headers["X-Cems-Timestamp"].as_str()), (Some("1.0"), Some("1700000000000")));
}

#[test]
fn api_serve_refuses_plain_http_off_loopback() {
    let (code, _, err) = run(&["api", "serve", "--listen", "0.0.0.0:0"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("TLS is required"), "{err}");
}

#[test]
fn serve_from_a_simulated_gateway_and_probe_it() {
    let dir = tempfile::tempdir().unwrap();
    let (_broker, line) = spawn_line(&["broker", "--listen", "127.0.0.1:0"]);
    let broker = format!("mqtt://{}", line.strip_prefix("listening on ").unwrap_or_else(|| panic!("{line}")));
    let files = dir.path().join("files");
    let (_sim, online) = spawn_line(&["sim", "--model", "product-models/energy-gateway.json", "--dev", "GW-API", "--broker", &broker, "--period-ms", "300", "--files-dir", files.to_str().unwrap()]);
    assert!(online.starts_with("online: PK-GW-01/GW-API"), "{online}");
    let apps = dir.path().join("apps.json");
    std::fs::write(&apps, json!({"apps": [{"appId": "app01", "secret": "s3cr3t-app", "cems": ["site-1"], "rateLimit": 0}]}).to_string()).unwrap();
    let db = dir.path().join("history.db");
    let (_serve, listening) = spawn_line(&["api", "serve", "--listen", "127.0.0.1:0", "--apps", apps.to_str().unwrap(), "--db", db.to_str().unwrap(), "--broker", &broker]);
    let url = listening.strip_prefix("api listening on ").unwrap_or_else(|| panic!("{listening}")).to_owned();
    assert!(url.starts_with("http://127.0.0.1:") && url.ends_with("/api"), "{url}");

    // Wait until the gateway, its sub-devices and some values are in.
    let rt = tokio::runtime::Runtime::new().unwrap();
    let client = ApiClient::new(&url, "app01", "s3cr3t-app", HttpVersion::Http2, None).unwrap();
    let full = Interface { family: Family::Dynamic, shape: Shape::CemsFull };
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let answer = rt.block_on(client.call(full, &json!({"cemsId": "site-1"}))).ok().and_then(|e| e.reply.json());
        let values = answer.as_ref().and_then(|a| a["page"]["total"].as_u64()).unwrap_or(0);
        if values >= 10 {
            let first = &answer.as_ref().unwrap()["data"]["values"][0];
            assert!(first["pointId"].as_str().unwrap().starts_with("PK-GW-01.GW-API"), "{first}");
            break;
        }
        assert!(Instant::now() < deadline, "no values served within 20 s: {answer:?}");
        std::thread::sleep(Duration::from_millis(200));
    }

    let report = dir.path().join("probe.json");
    let (code, _, table) = run(&["api", "probe", &url, "--app", "app01", "--secret", "s3cr3t-app", "--cems", "site-1", "--json", report.to_str().unwrap()]);
    assert_eq!(code, 0, "{table}");
    let report: Value = serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    assert_eq!(report["passed"], true);
    assert!(table.contains("GetPointSpecCategoryStatisticData") && table.contains("0 failed"), "{table}");

    // Compared with what a session of its own sees of the same gateway over MQTT.
    let (code, out, table) = run(&["api", "probe", &url, "--app", "app01", "--secret", "s3cr3t-app", "--cems", "site-1", "--broker", &broker, "--mqtt-wait", "1"]);
    assert_eq!(code, 0, "{table}");
    let report: Value = serde_json::from_str(out.trim()).unwrap();
    let mqtt = report["checks"].as_array().unwrap().iter().find(|c| c["aspect"] == "mqtt").cloned().unwrap_or_default();
    assert_eq!(mqtt["ok"], true, "{mqtt}");

    // A wrong secret: every call is refused, and the probe says so with exit 1.
    let (code, out, table) = run(&["api", "probe", &url, "--app", "app01", "--secret", "wrong", "--cems", "site-1", "--http1"]);
    assert_eq!(code, 1, "{table}");
    let report: Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(report["passed"], false);
    assert!(table.contains("code 1005"), "{table}");
}

#[tokio::test]
async fn https_offers_h2_by_alpn_and_http1_on_request() {
    let dir = tempfile::tempdir().unwrap();
    let tls = cems_workbench::config::broker_tls::ensure_self_signed(dir.path(), "127.0.0.1".parse().unwrap()).unwrap();
    let config = cems_workbench::api::tls_config(&tls.cert, &tls.key).unwrap();
    let listen = cems_workbench::api::ListenOptions { listen: "127.0.0.1:0".parse().unwrap(), tls: Some(config), plain_http: false };
    let server = cems_workbench::api::ApiServer::bind(&listen).await.unwrap();
    assert_eq!(server.scheme(), "https");
    let url = format!("https://127.0.0.1:{}/api", server.local_addr.port());
    let apps = cems_workbench::api::ApiConfig::parse(r#"{"apps":[{"appId":"app01","secret":"s","cems":["site-1"]}]}"#).unwrap();
    let source = cems_workbench::api::FixedSource::default();
    let data = std::sync::Arc::new(cems_workbench::api::ApiData::new(Box::new(source), cems_workbench::protocol::model::ModelSet::builtin(), None));
    let service = std::sync::Arc::new(cems_workbench::api::ApiService::new(data, apps));
    tokio::spawn(server.serve(service, std::future::pending()));
    let cems = Interface { family: Family::Static, shape: Shape::Cems };
    for (version, wire) in [(HttpVersion::Http2, "HTTP/2.0"), (HttpVersion::Http1, "HTTP/1.1")] {
        let client = ApiClient::new(&url, "app01", "s", version, Some(&tls.cert)).unwrap();
        let exchange = client.call(cems, &json!({"cemsId": "site-1"})).await.unwrap();
        assert_eq!((exchange.reply.status, exchange.reply.version.as_str()), (200, wire));
        assert_eq!(exchange.reply.json().unwrap()["data"]["cems"]["dataCount"]["pointCount"], 0);
    }
    // Without the certificate's CA the client refuses the server.
    let stranger = ApiClient::new(&url, "app01", "s", HttpVersion::Http2, None);
    if let Ok(client) = stranger {
        assert!(client.call(cems, &json!({"cemsId": "site-1"})).await.is_err());
    }
}
