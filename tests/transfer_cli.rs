//! `cems-workbench ota` and `file put | get | ls` as a user runs them: the real binary against
//! the embedded broker and a simulated gateway, checking the JSON line and the exit codes.

mod common;

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use cems_workbench::protocol::model::ModelSet;
use cems_workbench::sim::{self, SimConfig};
use cems_workbench::transport::LinkConfig;
use cems_workbench::transport::mqtt::MqttConfig;
use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_cems-workbench");

/// Runs the binary off the test's runtime (the broker and the sim live on it).
async fn run(args: Vec<String>) -> (i32, Value, String) {
    let out = tokio::task::spawn_blocking(move || Command::new(BIN).args(&args).output().expect("binary runs")).await.unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let lines: Vec<&str> = stdout.lines().collect();
    assert!(lines.len() <= 1, "one JSON line at most: {stdout}");
    let line = lines.first().map_or(Value::Null, |l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")));
    (out.status.code().unwrap_or(-1), line, String::from_utf8_lossy(&out.stderr).into_owned())
}

fn args(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| (*s).to_owned()).collect()
}

fn path(p: &Path) -> String {
    p.display().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn usage_errors_exit_2_before_any_link() {
    let dir = tempfile::tempdir().unwrap();
    let image = dir.path().join("fw.bin");
    std::fs::write(&image, vec![1u8; 5000]).unwrap();
    let img = path(&image);
    let dead = "mqtt://127.0.0.1:9"; // never reached: the arguments fail first
    let cases: Vec<(Vec<String>, &str)> = vec![
        (args(&["ota", "PK/GW", "--image", &img, "--module", "firmware", "--version", "2", "--chunk-size", "100", "--broker", dead]), "outside 256"),
        (args(&["ota", "PK/GW", "--image", &img, "--module", "firmware", "--version", "2", "--chunk-size", "70000", "--broker", dead]), "outside 256"),
        (args(&["ota", "PK/GW", "--image", &img, "--module", "firmware", "--version", "2", "--chunk-size", "65536", "--serial", "/dev/null"]), "serial"),
        (args(&["ota", "PK/GW", "--image", &path(&dir.path().join("none.bin")), "--module", "firmware", "--version", "2", "--broker", dead]), "none.bin"),
        (args(&["ota", "PK/GW", "--image", &img, "--module", "firmware", "--version", "2", "--sha256", &"0".repeat(64), "--broker", dead]), "published"),
        (args(&["ota", "PKGW", "--image", &img, "--module", "firmware", "--version", "2", "--broker", dead]), "PK/DEV"),
        (args(&["file", "put", "PK/GW", &img, "--name", "../x", "--broker", dead]), "plain file name"),
        (args(&["file", "put", "PK/GW", &img, "--name", "/etc/passwd", "--broker", dead]), "plain file name"),
        (args(&["file", "put", "PK/GW", &img, "--name", "a/b", "--broker", dead]), "plain file name"),
        (args(&["file", "put", "PK/GW", &img, "--name", "", "--broker", dead]), "plain file name"),
        (args(&["file", "get", "PK/GW", "../x", "--out", &path(dir.path()), "--broker", dead]), "plain file name"),
        (args(&["file", "get", "PK/GW", "/etc/passwd", "--broker", dead]), "plain file name"),
        (args(&["file", "get", "PK/GW", "a/b", "--broker", dead]), "plain file name"),
        (args(&["file", "get", "PK/GW", "", "--broker", dead]), "plain file name"),
    ];
    for (argv, expected) in cases {
        let (code, line, err) = run(argv.clone()).await;
        assert_eq!(code, 2, "{argv:?}: {err}");
        assert_eq!(line, Value::Null, "{argv:?}");
        assert!(err.contains(expected), "{argv:?}: {err}");
    }
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1, "nothing written");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn ota_and_files_through_the_binary() {
    let started = Instant::now();
    let broker = common::broker().await;
    let url = broker.url();
    let gateway_dir = tempfile::tempdir().unwrap();
    let mut config = SimConfig::new(ModelSet::builtin(), "PK-GW-01", "GW-CLI-T", LinkConfig::Mqtt(MqttConfig::new(url.clone(), "x")), gateway_dir.path().to_path_buf());
    config.report_period_ms = Some(5_000);
    let sim = sim::spawn(config).unwrap();
    common::eventually(Duration::from_secs(10), "sim online", || sim.snapshot().online).await;

    let local = tempfile::tempdir().unwrap();
    let image = local.path().join("fw-2.0.0.bin");
    let bytes: Vec<u8> = (0..300_000u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8).collect();
    std::fs::write(&image, &bytes).unwrap();
    let ota = |version: &str| args(&["ota", "PK-GW-01/GW-CLI-T", "--image", &path(&image), "--module", "firmware", "--version", version, "--chunk-size", "4096", "--broker", &url]);

    let (code, line, err) = run(ota("2.0.0")).await;
    assert_eq!(code, 0, "{err}");
    assert_eq!((line["phase"].as_str(), line["code"].as_i64(), line["deviceStep"].as_str()), (Some("done"), Some(0), Some("done")), "{line}");
    assert_eq!(line["size"], 300_000);
    assert_eq!(line["chunkSize"], 4096);
    assert!(line["bytesMoved"].as_u64().unwrap() >= 300_000);
    assert!(sim.snapshot().modules.iter().any(|m| m.module == "firmware" && m.version == "2.0.0"));

    // Already at that version: the gateway refuses, the line says why, exit 1.
    let (code, line, err) = run(ota("2.0.0")).await;
    assert_eq!(code, 1, "{err}");
    assert_eq!((line["phase"].as_str(), line["code"].as_i64(), line["name"].as_str()), (Some("refused"), Some(11), Some("same_version")), "{line}");
    assert!(err.contains("same_version"), "{err}");

    // Put, list, get back.
    let (code, line, err) = run(args(&["file", "put", "PK-GW-01/GW-CLI-T", &path(&image), "--name", "fw.bin", "--broker", &url])).await;
    assert_eq!(code, 0, "{err}");
    assert_eq!((line["phase"].as_str(), line["kind"].as_str()), (Some("done"), Some("file-download")), "{line}");
    assert_eq!(std::fs::read(gateway_dir.path().join("fw.bin")).unwrap(), bytes);

    let (code, line, err) = run(args(&["file", "ls", "PK-GW-01/GW-CLI-T", "--broker", &url])).await;
    assert_eq!(code, 0, "{err}");
    let files = line["files"].as_array().unwrap();
    assert!(files.iter().any(|f| f["name"] == "fw.bin" && f["size"] == 300_000 && f["plain"] == true), "{line}");

    let out_dir = tempfile::tempdir().unwrap();
    let (code, line, err) = run(args(&["file", "get", "PK-GW-01/GW-CLI-T", "fw.bin", "--out", &path(out_dir.path()), "--broker", &url])).await;
    assert_eq!(code, 0, "{err}");
    assert_eq!(line["phase"], "done", "{line}");
    assert_eq!(line["path"].as_str(), Some(path(&out_dir.path().join("fw.bin")).as_str()));
    assert_eq!(std::fs::read(out_dir.path().join("fw.bin")).unwrap(), bytes);

    // A file the gateway does not have: refused (code 7), exit 1, nothing written.
    let (code, line, _) = run(args(&["file", "get", "PK-GW-01/GW-CLI-T", "nothere.bin", "--out", &path(out_dir.path()), "--broker", &url])).await;
    assert_eq!((code, line["code"].as_i64()), (1, Some(7)), "{line}");
    assert!(!out_dir.path().join("nothere.bin").exists());

    // No such gateway: silent, so exit 3 after the timeout, saying what it waited for.
    let (code, line, err) = run(args(&["file", "put", "PK-GW-01/GW-NOBODY", &path(&image), "--broker", &url, "--timeout", "2"])).await;
    assert_eq!(code, 3, "{err}");
    assert_eq!(line["phase"], "timedOut", "{line}");
    assert!(err.contains("file/download"), "{err}");
    eprintln!("cli test took {:.1} s", started.elapsed().as_secs_f64());
    sim.stop().await;
}
