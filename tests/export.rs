//! `cems-workbench export` through the real binary: CSV from the point history and from a
//! recording (columns headed by the models, names with a comma and in Chinese, ISO 8601 and
//! epoch ms), a recording's range as MCAP, and usage errors.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use cems_workbench::engine::history::{HistoryBatch, HistoryDb, HistoryOptions, HistorySource, SeriesSamples};
use cems_workbench::engine::recording::{Recorder, RecordingMeta, read_messages};
use cems_workbench::engine::series::SeriesKey;
use cems_workbench::protocol::envelope::Request;
use cems_workbench::transport::Message;
use serde_json::{Value, json};

/// 2026-12-04T10:00:00Z.
const T0: i64 = 1_796_378_400_000;
const PK: &str = "PK-GW-T";
const DEV: &str = "GW-T";
const SUB: &str = "testmeter-1";

fn binary(args: &[&str], paths: &[(&str, &Path)]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_cems-workbench"));
    command.args(args);
    for (flag, path) in paths {
        command.arg(flag).arg(path);
    }
    command.output().expect("the binary runs")
}

fn json_line(out: &Output) -> Value {
    assert!(out.status.success(), "exit {:?}: {}", out.status.code(), String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).expect("one JSON line")
}

/// A meter model whose first point is named with a comma in English and in Chinese.
fn models_dir(dir: &Path) -> PathBuf {
    let template = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/templates/meter.json")).unwrap();
    let mut model: Value = serde_json::from_str(&template).unwrap();
    model["productKey"] = json!("PK-TESTMETER");
    model["points"][0]["id"] = json!("Ux1");
    model["points"][0]["name"] = json!({"en": "Voltage, phase A", "zh": "甲相电压"});
    let models = dir.join("models");
    std::fs::create_dir_all(&models).unwrap();
    std::fs::write(models.join("PK-TESTMETER.json"), serde_json::to_string_pretty(&model).unwrap()).unwrap();
    models
}

fn batch(key: SeriesKey, rows: &[(i64, f64)]) -> HistoryBatch {
    let samples = rows.iter().map(|&(t, v)| (t, v, 0)).collect();
    HistoryBatch { series: vec![SeriesSamples { key, source: HistorySource::Report, samples }], ..HistoryBatch::default() }
}

fn history(dir: &Path) -> PathBuf {
    let path = dir.join("history.db");
    let mut db = HistoryDb::open(&path, HistoryOptions::default()).unwrap();
    db.write(&[
        batch(SeriesKey::point(PK, DEV, SUB, "Ux1"), &[(T0, 230.5), (T0 + 1_000, 231.0)]),
        batch(SeriesKey::meter(PK, DEV, SUB, "EpImp"), &[(T0 + 1_000, 12.5), (T0 + 2_000, 13.0)]),
        batch(SeriesKey::point("PK-OTHER", "GW-O", "x", "y"), &[(T0 + 500, -1.0)]),
    ])
    .unwrap();
    path
}

const UX1_EN: &str = "\"PK-GW-T/GW-T/testmeter-1/Ux1 Voltage, phase A [V]\"";
const EP_EN: &str = "PK-GW-T/GW-T/testmeter-1/EpImp Active energy import [kWh]";

#[test]
fn csv_from_the_history_with_model_names_iso_and_epoch_columns() {
    let dir = tempfile::tempdir().unwrap();
    let (db, models, out) = (history(dir.path()), models_dir(dir.path()), dir.path().join("out.csv"));
    // From in ISO 8601 with an offset, to in epoch ms: both forms a user types.
    let to = (T0 + 1_500).to_string();
    let args = ["export", "--from", "2026-12-04T18:00:00+08:00", "--to", &to];
    let line = json_line(&binary(&args, &[("--db", &db), ("--models", &models), ("--out", &out)]));
    assert_eq!(line["rows"], 3);
    assert_eq!(line["series"], 3);
    assert_eq!(line["fromMs"], T0);
    assert_eq!(line["from"], "2026-12-04T10:00:00.000Z");
    assert_eq!(line["out"], out.display().to_string());
    let text = std::fs::read_to_string(&out).unwrap();
    let lines: Vec<&str> = text.split("\r\n").collect();
    assert_eq!(lines[0], format!("time,epoch_ms,{UX1_EN},PK-OTHER/GW-O/x/y,{EP_EN}"), "a name with a comma is quoted");
    assert_eq!(lines[1], format!("2026-12-04T10:00:00.000Z,{T0},230.5,,"));
    assert_eq!(lines[2], format!("2026-12-04T10:00:00.500Z,{},,-1,", T0 + 500));
    assert_eq!(lines[3], format!("2026-12-04T10:00:01.000Z,{},231,,12.5", T0 + 1_000));
    assert_eq!(lines[4], "", "T0 + 2 s is past --to");
    assert_eq!(lines.len(), 5);

    // Chinese names with --lang zh.
    let zh = dir.path().join("zh.csv");
    let args = ["export", "--from", "2026-12-04T10:00:00Z", "--to", &to, "--lang", "zh"];
    json_line(&binary(&args, &[("--db", &db), ("--models", &models), ("--out", &zh)]));
    let header = std::fs::read_to_string(&zh).unwrap().lines().next().unwrap().to_owned();
    assert!(header.contains("PK-GW-T/GW-T/testmeter-1/Ux1 甲相电压 [V]"), "{header}");
    assert!(header.contains("正向有功电能 [kWh]"), "{header}");
}

#[test]
fn named_series_only_and_the_missing_ones_said() {
    let dir = tempfile::tempdir().unwrap();
    let (db, out) = (history(dir.path()), dir.path().join("one.csv"));
    let args = ["export", "--from", "0", "--to", "2027-01-01", "--series", "PK-GW-T/GW-T/testmeter-1/EpImp", "--series", "PK-NONE/X/Y/Z"];
    let output = binary(&args, &[("--db", &db), ("--out", &out)]);
    let line = json_line(&output);
    assert_eq!(line["series"], 1);
    assert_eq!(line["rows"], 2);
    assert_eq!(line["missing"], json!(["PK-NONE/X/Y/Z"]));
    assert!(String::from_utf8_lossy(&output.stderr).contains("PK-NONE/X/Y/Z"));
    let header = std::fs::read_to_string(&out).unwrap().lines().next().unwrap().to_owned();
    assert!(header.starts_with("time,epoch_ms,PK-GW-T/GW-T/testmeter-1/EpImp"), "{header}");
}

fn report(points: Value, ts: i64) -> Vec<u8> {
    let mut request = Request::new(format!("r-{ts}"), json!({ "points": points }));
    request.ts = ts;
    request.to_bytes().unwrap()
}

/// A recording of three point reports, one info and one unrelated message.
fn recording(dir: &Path) -> PathBuf {
    let path = dir.join("session.mcap");
    let meta = RecordingMeta { link: "mqtt://127.0.0.1:1883".into(), workbench_version: "test".into(), models: Vec::new() };
    let mut recorder = Recorder::create(&path, meta).unwrap();
    let topic = format!("cems/v1/{PK}/{DEV}/up/point/report");
    for (i, v) in [230.5, 231.0, 232.0].iter().enumerate() {
        let ts = T0 + i as i64 * 1_000;
        let payload = report(json!([{"sub": SUB, "pid": "Ux1", "v": v, "q": 0, "ts": ts}]), ts);
        recorder.write(&Message::new(topic.clone(), payload, 1, false), ts + 20).unwrap();
    }
    recorder.write(&Message::new("lab/other", b"{\"x\":1}".to_vec(), 0, false), T0 + 30).unwrap();
    recorder.finish().unwrap();
    path
}

#[test]
fn csv_and_a_smaller_mcap_from_a_recording() {
    let dir = tempfile::tempdir().unwrap();
    let (rec, models) = (recording(dir.path()), models_dir(dir.path()));
    let csv = dir.path().join("rec.csv");
    let to = (T0 + 1_000).to_string();
    let args = ["export", "--from", "2026-12-04T10:00:00Z", "--to", &to];
    let line = json_line(&binary(&args, &[("--recording", &rec), ("--models", &models), ("--out", &csv)]));
    assert_eq!((line["rows"].as_u64(), line["series"].as_u64()), (Some(2), Some(1)));
    let text = std::fs::read_to_string(&csv).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines, vec![format!("time,epoch_ms,{UX1_EN}"), format!("2026-12-04T10:00:00.000Z,{T0},230.5"), format!("2026-12-04T10:00:01.000Z,{},231", T0 + 1_000)]);

    // Cut by receive time: the messages logged at T0+20 and T0+30 only.
    let cut = dir.path().join("cut.mcap");
    let to = (T0 + 500).to_string();
    let line = json_line(&binary(&["export", "--from", &T0.to_string(), "--to", &to], &[("--recording", &rec), ("--out", &cut)]));
    assert_eq!(line["messages"], 2);
    let mut topics = Vec::new();
    read_messages(&cut, |m| {
        topics.push(m.topic);
        std::ops::ControlFlow::Continue(())
    })
    .unwrap();
    assert_eq!(topics, vec![format!("cems/v1/{PK}/{DEV}/up/point/report"), "lab/other".to_owned()]);
}

#[test]
fn usage_errors_exit_2_and_a_missing_source_exits_1() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("none.db");
    let out = dir.path().join("x.csv");
    let cases: [(&[&str], &Path, i32); 5] = [
        (&["export", "--from", "yesterday", "--to", "0"], &out, 2),
        (&["export", "--from", "10", "--to", "5"], &out, 2),
        (&["export", "--from", "0", "--to", "5", "--series", "PK/DEV"], &out, 2),
        (&["export", "--from", "0", "--to", "5"], Path::new("x.parquet"), 2),
        (&["export", "--from", "0", "--to", "5"], Path::new("x.mcap"), 2),
    ];
    for (args, out, code) in cases {
        let output = binary(args, &[("--db", &db), ("--out", out)]);
        assert_eq!(output.status.code(), Some(code), "{args:?} {}: {}", out.display(), String::from_utf8_lossy(&output.stderr));
        assert!(output.stdout.is_empty());
    }
    let output = binary(&["export", "--from", "0", "--to", "5"], &[("--db", &db), ("--out", &out)]);
    assert_eq!(output.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&output.stderr).contains("no history database at"), "{}", String::from_utf8_lossy(&output.stderr));
    assert!(!out.exists());
}
