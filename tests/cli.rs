//! The command line as a user runs it: the real binary, real broker, real exit codes.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_cems-workbench");

fn run(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(BIN).args(args).output().expect("binary runs");
    (out.status.code().unwrap_or(-1), String::from_utf8_lossy(&out.stdout).into_owned(), String::from_utf8_lossy(&out.stderr).into_owned())
}

/// `cems-workbench broker --listen 127.0.0.1:0`, and the address it printed.
struct BrokerProcess {
    child: Child,
    url: String,
}

impl BrokerProcess {
    fn start() -> BrokerProcess {
        let mut child = Command::new(BIN)
            .args(["broker", "--listen", "127.0.0.1:0"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("broker starts");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
        let addr = line.trim().strip_prefix("listening on ").unwrap_or_else(|| panic!("unexpected first line {line:?}")).to_owned();
        assert!(addr.starts_with("127.0.0.1:") && !addr.ends_with(":0"), "{addr}");
        BrokerProcess { child, url: format!("mqtt://{addr}") }
    }
}

impl Drop for BrokerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn auth_sign_prints_the_contract_vector() {
    let (code, out, _) = run(&["auth", "sign", "--pk", "PK01", "--dev", "GW-0001", "--secret", "s3cr3t", "--ts", "1700000000000"]);
    assert_eq!(code, 0);
    assert_eq!(
        out.trim(),
        r#"{"clientId":"PK01.GW-0001","username":"PK01&GW-0001&1700000000000","password":"bac41a2ef7d2c377bf189e170d0e47eaa97e9317ae4a4fe5c36da8311e617168"}"#
    );
    let (code, _, err) = run(&["auth", "sign", "--pk", "PK/01", "--dev", "GW", "--secret", "s"]);
    assert_eq!(code, 2);
    assert!(err.contains("pk"), "{err}");
}

#[test]
fn model_validate_exit_codes() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.json");
    std::fs::write(&bad, r#"{"modelVersion":"1.0","productKey":"X","kind":"device","name":"x","colour":1}"#).unwrap();
    let (code, out, _) = run(&["model", "validate", "product-models/pcs-100.json"]);
    assert_eq!(code, 0, "{out}");
    let (code, out, _) = run(&["model", "validate", bad.to_str().unwrap()]);
    assert_eq!(code, 1);
    assert!(out.contains("bad.json: $.colour:"), "{out}");
}

#[test]
fn call_usage_errors_exit_2() {
    for args in [
        vec!["call", "PK01", "info/get"],
        vec!["call", "PK01/GW", "info"],
        vec!["call", "PK01/GW", "info/get", "{not json"],
        vec!["call", "PK01/GW", "info/get", "--broker", "http://x"],
        vec!["call"],
    ] {
        let (code, _, err) = run(&args);
        assert_eq!(code, 2, "{args:?}: {err}");
        assert!(!err.is_empty());
    }
}

#[test]
fn call_to_a_dead_broker_exits_3_within_the_timeout() {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let started = Instant::now();
    let url = format!("mqtt://127.0.0.1:{port}");
    let (code, out, err) = run(&["call", "PK01/GW", "info/get", "--broker", &url, "--timeout", "1"]);
    assert_eq!(code, 3, "{out} {err}");
    assert!(err.contains("refused"), "{err}");
    assert!(started.elapsed() < Duration::from_secs(5), "took {:?}", started.elapsed());
}

#[test]
fn call_to_a_silent_gateway_exits_3_with_the_request_id() {
    let broker = BrokerProcess::start();
    let (code, _, err) = run(&["call", "PK01/NOBODY", "info/get", "--broker", &broker.url, "--timeout", "0.5"]);
    assert_eq!(code, 3);
    assert!(err.contains("no reply within 500 ms") && err.contains("request wb-"), "{err}");
}

#[test]
fn watch_prints_json_lines() {
    let broker = BrokerProcess::start();
    let mut watch = Command::new(BIN)
        .args(["watch", "--broker", &broker.url, "--filter", "lab/#", "--count", "2"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Wait for the watcher's subscription, then publish through the library's own link.
    let mut stderr = BufReader::new(watch.stderr.take().unwrap());
    let mut line = String::new();
    stderr.read_line(&mut line).unwrap();
    assert!(line.contains(": up"), "{line}");
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        use cems_workbench::transport::{LinkConfig, LinkEvent, LinkState, Message, mqtt::MqttConfig, spawn_link};
        let (link, mut ev) = spawn_link(LinkConfig::Mqtt(MqttConfig::new(broker.url.clone(), "pub")));
        while let Some(e) = ev.recv().await {
            if e == LinkEvent::State(LinkState::Up) {
                break;
            }
        }
        // Retained: the watcher gets them whether its subscription lands before or after.
        link.publish(Message::new("lab/a", r#"{"x":1}"#, 1, true)).unwrap();
        link.publish(Message::new("lab/b", "plain text", 1, true)).unwrap();
        tokio::time::sleep(Duration::from_millis(300)).await;
    });
    let out = watch.wait_with_output().unwrap();
    assert!(out.status.success());
    let mut lines: Vec<serde_json::Value> = String::from_utf8_lossy(&out.stdout).lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    lines.sort_by_key(|l| l["topic"].as_str().unwrap_or_default().to_owned());
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0]["topic"], "lab/a");
    assert_eq!(lines[0]["payload"]["x"], 1);
    assert_eq!(lines[1]["payload"], "plain text");
    assert!(lines[1]["ts"].as_i64().unwrap() > 0);
    assert!(lines[1]["retain"].is_boolean() && lines[1]["qos"].is_u64());
}

#[test]
fn sim_call_and_gateways_end_to_end() {
    let broker = BrokerProcess::start();
    let files = tempfile::tempdir().unwrap();
    let mut sim = Command::new(BIN)
        .args(["sim", "--model", "product-models/energy-gateway.json", "--dev", "GW-CLI", "--broker", &broker.url, "--period-ms", "300"])
        .arg("--files-dir")
        .arg(files.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(sim.stdout.take().unwrap()).read_line(&mut line).unwrap();
    assert!(line.starts_with("online: PK-GW-01/GW-CLI"), "{line}");

    let (code, out, err) = run(&["call", "PK-GW-01/GW-CLI", "info/get", "--broker", &broker.url]);
    assert_eq!(code, 0, "{err}");
    let reply: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!((reply["code"].as_i64(), reply["name"].as_str()), (Some(0), Some("ok")));
    assert!(reply["data"]["vendor"].is_string() && reply["latencyMs"].as_f64().is_some());

    let (code, out, _) = run(&["call", "PK-GW-01/GW-CLI", "command/request", r#"{"cmd":"warp","params":{}}"#, "--broker", &broker.url]);
    assert_eq!(code, 1);
    let reply: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(reply["name"], "unsupported");

    // A partly failed set: the reply's code is the first failure's, each failure is noted.
    let (code, out, _) = run(&["call", "PK-GW-01/GW-CLI", "property/set", r#"{"props":{"colour":1,"ntpServer":"pool.ntp.org"}}"#, "--broker", &broker.url]);
    assert_eq!(code, 1, "{out}");
    let reply: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(reply["name"], "unsupported");
    assert_eq!(reply["notes"]["/data/failed"], "1 of 2 failed", "{reply}");
    assert!(reply["notes"]["/data/failed/0"].as_str().is_some_and(|t| t.starts_with("failed: colour — 2 unsupported: ")), "{reply}");

    let (code, out, _) = run(&["call", "PK-GW-01/GW-CLI", "property/get", "--broker", &broker.url]);
    assert_eq!(code, 0);
    let reply: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    assert!(reply["notes"]["/data/props/reportPeriod"].as_str().is_some_and(|t| t.contains(" s (上报周期 / Report period)")), "{reply}");

    let (code, out, _) = run(&["gateways", "--broker", &broker.url, "--wait", "1.5"]);
    assert_eq!(code, 0);
    let gw: serde_json::Value = out.lines().map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()).find(|g| g["dev"] == "GW-CLI").expect("gateway listed");
    assert_eq!(gw["online"], true);
    assert!(gw["versions"].as_object().is_some_and(|v| !v.is_empty()), "{gw}");
    assert!(gw["vendor"].is_string(), "{gw}");
    let meter = gw["subs"].as_array().and_then(|subs| subs.iter().find(|s| s["sub"] == "meter-1")).unwrap_or_else(|| panic!("meter-1 in subs: {gw}"));
    assert_eq!((meter["productKey"].as_str(), meter["category"].as_str()), (Some("PK-METER-3P"), Some("meter")), "{gw}");
    assert_eq!(meter["model"], "Three-phase multifunction energy meter");
    let _ = sim.kill();
    let _ = sim.wait();
}

#[test]
fn model_show_prints_the_category() {
    let (code, out, err) = run(&["model", "show", "product-models/power-meter-3p.json"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.lines().any(|l| l == "category       meter"), "{out}");
}

#[test]
fn watch_notes_name_points_by_the_models_folder() {
    // A copy of the meter's model under another file name, its phase-A voltage renamed: it
    // replaces the bundled example of the same product key.
    let models = tempfile::tempdir().unwrap();
    let meter = std::fs::read_to_string("product-models/power-meter-3p.json").unwrap();
    assert!(meter.contains("\"Phase A voltage\""));
    std::fs::write(models.path().join("lab-meter.json"), meter.replace("\"Phase A voltage\"", "\"Phase A voltage (lab copy)\"")).unwrap();

    let broker = BrokerProcess::start();
    let files = tempfile::tempdir().unwrap();
    let mut sim = Command::new(BIN)
        .args(["sim", "--model", "product-models/energy-gateway.json", "--dev", "GW-W", "--broker", &broker.url, "--period-ms", "200"])
        .arg("--files-dir")
        .arg(files.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(sim.stdout.take().unwrap()).read_line(&mut line).unwrap();
    assert!(line.starts_with("online: PK-GW-01/GW-W"), "{line}");

    let watch = Command::new(BIN)
        .args(["watch", "--broker", &broker.url, "--filter", "cems/v1/PK-GW-01/GW-W/up/point/report", "--count", "4", "--models"])
        .arg(models.path())
        .output()
        .unwrap();
    let _ = sim.kill();
    let _ = sim.wait();
    assert!(watch.status.success(), "{}", String::from_utf8_lossy(&watch.stderr));
    let lines: Vec<serde_json::Value> = String::from_utf8_lossy(&watch.stdout).lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len(), 4);
    let renamed = lines
        .iter()
        .filter_map(|l| l["notes"].as_object())
        .flat_map(|notes| notes.iter())
        .find(|(_, text)| text.as_str().is_some_and(|t| t.contains("Phase A voltage (lab copy)")));
    let (pointer, text) = renamed.unwrap_or_else(|| panic!("no renamed point in the notes: {lines:#?}"));
    assert!(pointer.starts_with("/payload/data/points/"), "{pointer}");
    assert!(text.as_str().is_some_and(|t| t.starts_with("Ua: ") && t.contains(" V (A相电压 / Phase A voltage (lab copy), quality ")), "{text}");
}

#[test]
fn alarms_history_and_logs_commands_end_to_end() {
    let (code, _, err) = run(&["history", "PK/DEV", "--from", "yesterday", "--to", "0"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("ISO 8601"), "{err}");
    let broker = BrokerProcess::start();
    let files = tempfile::tempdir().unwrap();
    let mut sim = Command::new(BIN)
        .args(["sim", "--model", "product-models/energy-gateway.json", "--dev", "GW-AH", "--broker", &broker.url, "--period-ms", "200"])
        .arg("--files-dir")
        .arg(files.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(sim.stdout.take().unwrap()).read_line(&mut line).unwrap();
    std::thread::sleep(Duration::from_millis(1_500));

    // Samples reported before this run listened are new to it; the recall ends with its total.
    let from = (std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as i64 - 600_000).to_string();
    let (code, out, err) = run(&["history", "PK-GW-01/GW-AH", "--from", &from, "--to", "2100-01-01T00:00:00Z", "--broker", &broker.url]);
    assert_eq!(code, 0, "{out} {err}");
    let h: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(h["complete"], true, "{h}");
    assert!(h["batches"].as_u64().is_some_and(|n| n > 0) && h["batches"] == h["expected"], "{h}");
    assert!(h["new"].as_u64().is_some_and(|n| n > 0), "{h}");
    assert!(h["duplicates"].is_u64() && h["recallId"].is_string(), "{h}");

    let (code, out, err) = run(&["alarms", "PK-GW-01/GW-AH", "--listen-secs", "0.5", "--broker", &broker.url]);
    assert_eq!(code, 0, "{err}");
    let alarms: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    let list = alarms.as_array().unwrap_or_else(|| panic!("a JSON array: {out}"));
    assert!(list.iter().all(|a| ["us", "other", "sent", "none", "unknown"].contains(&a["ack"].as_str().unwrap_or("?"))), "{out}");

    let (code, out, err) = run(&["logs", "PK-GW-01/GW-AH", "--from", "2000-01-01", "--broker", &broker.url]);
    assert_eq!(code, 0, "{err}");
    let entries: Vec<serde_json::Value> = out.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert!(!entries.is_empty() && entries.iter().all(|e| e["ts"].is_i64() && e["level"].is_string() && e["msg"].is_string()), "{out}");
    let (code, out, err) = run(&["logs", "PK-GW-01/GW-AH", "--follow", "--level", "debug", "--follow-secs", "1.5", "--broker", &broker.url]);
    assert_eq!(code, 0, "{err}");
    assert!(out.lines().all(|l| serde_json::from_str::<serde_json::Value>(l).is_ok()), "{out}");
    let _ = sim.kill();
    let _ = sim.wait();
}
