//! `bench plot` and `plot` as a user runs them: the real binary, the embedded broker, the demo
//! gateway simulated.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_cems-workbench");

fn run(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(BIN).args(args).output().expect("binary runs");
    (out.status.code().unwrap_or(-1), String::from_utf8_lossy(&out.stdout).into_owned(), String::from_utf8_lossy(&out.stderr).into_owned())
}

/// A child process killed when the test ends, pass or fail.
struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `broker --listen 127.0.0.1:0` and its URL.
fn broker() -> (Killed, String) {
    let mut child = Command::new(BIN).args(["broker", "--listen", "127.0.0.1:0"]).stdout(Stdio::piped()).stderr(Stdio::null()).spawn().expect("broker starts");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let addr = line.trim().strip_prefix("listening on ").unwrap_or_else(|| panic!("unexpected first line {line:?}")).to_owned();
    (Killed(child), format!("mqtt://{addr}"))
}

#[test]
fn bench_plot_json_is_one_object_with_the_figures() {
    let (code, out, err) = run(&["bench", "plot", "--series", "2", "--samples", "20000", "--columns", "200", "--json"]);
    assert_eq!(code, 0, "{err}");
    let report: serde_json::Value = serde_json::from_str(out.trim()).unwrap_or_else(|e| panic!("{e}: {out}"));
    assert_eq!(out.trim().lines().count(), 1);
    for field in ["ratio", "target", "frameMs", "frameTargetMs", "copyMs"] {
        assert!(report[field].as_f64().is_some(), "{field} in {report}");
    }
    assert_eq!((report["series"].as_u64(), report["samples"].as_u64(), report["columns"].as_u64()), (Some(2), Some(20_000), Some(200)));
    assert_eq!(report["target"], 0.05);
    // Two series in 200 columns: bounded by 4 a column and run, plus the edges.
    assert!(report["points"].as_u64().is_some_and(|p| p > 0 && p <= 2 * (4 * 200 + 8)), "{report}");
    let (code, _, err) = run(&["bench", "plot", "--samples", "0"]);
    assert_eq!(code, 2, "{err}");
}

#[test]
fn plot_usage_errors_exit_2_with_the_file_named() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.json");
    std::fs::write(&bad, r#"{"version": 7, "plots": []}"#).unwrap();
    let csv = dir.path().join("out.csv");
    let (code, _, err) = run(&["plot", "--layout", bad.to_str().unwrap(), "--seconds", "1", "--csv", csv.to_str().unwrap(), "--broker", "mqtt://127.0.0.1:1"]);
    assert_eq!(code, 2);
    assert!(err.contains("bad.json") && err.contains("version 7"), "{err}");
    let missing = dir.path().join("missing.json");
    let (code, _, err) = run(&["plot", "--layout", missing.to_str().unwrap(), "--seconds", "1", "--csv", csv.to_str().unwrap(), "--broker", "mqtt://127.0.0.1:1"]);
    assert_eq!(code, 2);
    assert!(err.contains("missing.json"), "{err}");
    assert!(!csv.exists());
}

#[test]
fn plot_collects_the_demo_gateways_points_meters_and_a_path_into_csv() {
    let (_broker, url) = broker();
    let dir = tempfile::tempdir().unwrap();
    let mut sim = Command::new(BIN)
        .args(["sim", "--model", "product-models/energy-gateway.json", "--dev", "GW-PLOT", "--broker", &url, "--period-ms", "200"])
        .arg("--files-dir")
        .arg(dir.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(sim.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let _sim = Killed(sim);
    assert!(line.starts_with("online: PK-GW-01/GW-PLOT"), "{line}");

    let layout = dir.path().join("layout.json");
    std::fs::write(
        &layout,
        r#"{"version": 1, "plots": [
            {"title": "Volts", "window": "1m", "series": [
                {"point": {"pk": "PK-GW-01", "dev": "GW-PLOT", "sub": "meter-1", "pid": "Ua"}},
                {"point": {"pk": "PK-GW-01", "dev": "GW-PLOT", "sub": "meter-1", "pid": "Ub"}}]},
            {"title": "Raw", "window": "all", "series": [
                {"path": {"topic": "cems/v1/PK-GW-01/GW-PLOT/up/point/report", "pointer": "/data/points/0/v"}},
                {"point": {"pk": "PK-GW-01", "dev": "GW-PLOT", "sub": "meter-1", "pid": "Ua"}}]}]}"#,
    )
    .unwrap();
    let csv = dir.path().join("out.csv");
    let (code, out, err) = run(&["plot", "--layout", layout.to_str().unwrap(), "--seconds", "3", "--csv", csv.to_str().unwrap(), "--broker", &url]);
    assert_eq!(code, 0, "{err}");
    let summary: serde_json::Value = serde_json::from_str(out.trim()).unwrap_or_else(|e| panic!("{e}: {out}"));
    assert!(summary["rows"].as_u64().is_some_and(|r| r >= 3), "{summary} {err}");
    assert_eq!(summary["columns"].as_array().map(Vec::len), Some(3), "Ua once: {summary}");
    let text = std::fs::read_to_string(&csv).unwrap();
    let mut lines = text.lines();
    let header = lines.next().unwrap();
    assert!(header.starts_with("time,epoch_ms,PK-GW-01/GW-PLOT/meter-1/Ua "), "{header}");
    assert!(header.contains("[V]"), "names and units from the models: {header}");
    assert!(header.contains("cems/v1/PK-GW-01/GW-PLOT/up/point/report#/data/points/0/v"), "{header}");
    let rows: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
    assert_eq!(rows.len() as u64, summary["rows"].as_u64().unwrap());
    assert!(rows.iter().all(|r| r.len() == 5 && r[0].ends_with('Z')), "{text}");
    assert!(rows.iter().any(|r| r[2].parse::<f64>().is_ok()), "Ua values: {text}");
    assert!(rows.iter().any(|r| r[4].parse::<f64>().is_ok()), "path values: {text}");
    let times: Vec<i64> = rows.iter().map(|r| r[1].parse().unwrap()).collect();
    assert!(times.windows(2).all(|w| w[0] < w[1]), "ordered, each time once");
}
