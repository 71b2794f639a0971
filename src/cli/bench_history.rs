//! `bench history`: what recording and the point history cost the engine, in one run.
//!
//! - Ingest: a recording of point reports replayed at `max` into a fresh engine, with both taps
//!   off and then with an MCAP recording and the SQLite history on (alternated, best of each);
//!   `ingestRatio` = messages/s on ÷ off (target ≥ 0.9). A replay is the engine's real path for
//!   messages (decode, store, gateway table, series) without a network in the figure.
//! - Inserts: samples per second through the history's writer, batched as the engine batches
//!   them (target ≥ 200,000/s).
//! - Range: one day of one series at 1 s (86,400 samples) read from the database against the
//!   same samples copied out of an in-memory series.

use std::path::Path;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use clap::Args;
use serde_json::{Value, json};

use crate::engine::history::{HistoryBatch, HistoryDb, HistoryOptions, HistorySource, HistoryWriter, SeriesSamples, bench_inserts};
use crate::engine::recording::{RecordOptions, Recorder, RecordingMeta};
use crate::engine::series::{SampleSource, SeriesKey, SeriesLimits, SeriesStore};
use crate::engine::{Engine, EngineCommand, EngineConfig};
use crate::transport::replay::{ReplayConfig, ReplaySpeed};
use crate::transport::{LinkConfig, Message};

use super::session::{EXIT_USAGE, runtime};

const INGEST_TARGET: f64 = 0.9;
const INSERT_TARGET: f64 = 200_000.0;
const GATEWAYS: usize = 10;
const DAY_SAMPLES: i64 = 86_400;
const BASE_MS: i64 = 1_767_225_600_000;

#[derive(Debug, Clone, Args)]
pub struct HistoryBenchArgs {
    /// Point reports replayed per ingest run (eight runs: off, both, each alone, twice).
    #[arg(long, default_value_t = 200_000)]
    pub messages: usize,
    /// Points per report.
    #[arg(long, default_value_t = 10)]
    pub points: usize,
    /// Samples written for the insert figure.
    #[arg(long, default_value_t = 1_000_000)]
    pub samples: usize,
    /// Print one JSON object instead of text.
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: &HistoryBenchArgs) -> ExitCode {
    if args.messages == 0 || args.points == 0 || args.samples == 0 {
        eprintln!("--messages, --points and --samples must be at least 1");
        return ExitCode::from(EXIT_USAGE);
    }
    let dir = match tempfile_dir() {
        Ok(d) => d,
        Err(e) => {
            eprintln!("error: cannot make a scratch folder: {e}");
            return ExitCode::FAILURE;
        }
    };
    let report = match measure(args, &dir) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {e}");
            let _ = std::fs::remove_dir_all(&dir);
            return ExitCode::FAILURE;
        }
    };
    let _ = std::fs::remove_dir_all(&dir);
    if args.json {
        println!("{report}");
    } else {
        print_text(&report);
    }
    ExitCode::SUCCESS
}

/// A fresh folder under the system's temp folder (no dev-dependency in the binary).
fn tempfile_dir() -> std::io::Result<std::path::PathBuf> {
    let dir = std::env::temp_dir().join(format!("cems-bench-history-{}-{}", std::process::id(), crate::protocol::time::now_ms()));
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}

fn measure(args: &HistoryBenchArgs, dir: &Path) -> Result<Value, String> {
    let recording = dir.join("workload.mcap");
    write_workload(&recording, args.messages, args.points)?;
    let rt = runtime().map_err(|_| "cannot start the async runtime".to_owned())?;
    let expected = (args.messages + GATEWAYS) as u64;
    let (mut off, mut on, mut record_only, mut history_only) = (Duration::MAX, Duration::MAX, Duration::MAX, Duration::MAX);
    let mut on_stats = json!({});
    for round in 0..2 {
        let file = |ext: &str| Some(dir.join(format!("tap-{round}.{ext}")));
        off = off.min(rt.block_on(ingest(&recording, expected, &Taps::default()))?.0);
        let (time, stats) = rt.block_on(ingest(&recording, expected, &Taps { recording: file("mcap"), history: file("db") }))?;
        if time < on {
            on = time;
            on_stats = stats;
        }
        record_only = record_only.min(rt.block_on(ingest(&recording, expected, &Taps { recording: file("r.mcap"), history: None }))?.0);
        history_only = history_only.min(rt.block_on(ingest(&recording, expected, &Taps { recording: None, history: file("h.db") }))?.0);
    }
    let ratio = |d: Duration| round3(off.as_secs_f64() / d.as_secs_f64().max(1e-9));
    let rate = |d: Duration| expected as f64 / d.as_secs_f64().max(1e-9);
    let inserts = bench_inserts(&dir.join("inserts.db"), args.samples).map_err(|e| e.to_string())?;
    let (db_ms, memory_ms, rows) = range_query(&dir.join("range.db"))?;
    Ok(json!({
        "messages": expected,
        "pointsPerMessage": args.points,
        "ingestOffPerSec": rate(off).round(),
        "ingestOnPerSec": rate(on).round(),
        "ingestRatio": ratio(on),
        "ingestRatioRecordingOnly": ratio(record_only),
        "ingestRatioHistoryOnly": ratio(history_only),
        "ingestTarget": INGEST_TARGET,
        "taps": on_stats,
        "insertsPerSec": inserts.round(),
        "insertTarget": INSERT_TARGET,
        "rangeRows": rows,
        "rangeDbMs": round3(db_ms),
        "rangeMemoryMs": round3(memory_ms),
        "rangeRatio": round3(db_ms / memory_ms.max(1e-6)),
    }))
}

fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

/// `messages` point reports of `points` points from 10 announced gateways, 10 ms apart.
fn write_workload(path: &Path, messages: usize, points: usize) -> Result<(), String> {
    let mut recorder = Recorder::create_with(path, RecordingMeta::default(), RecordOptions::default()).map_err(|e| e.to_string())?;
    let mut write = |topic: String, payload: String, ms: i64| recorder.write(&Message::new(topic, payload, 1, false), ms).map_err(|e| e.to_string());
    for g in 0..GATEWAYS {
        write(format!("cems/v1/PK-BENCH/GW-{g}/up/status"), format!(r#"{{"id":"s{g}","ts":{BASE_MS},"ver":"1.0","data":{{"online":true}}}}"#), BASE_MS)?;
    }
    let mut payload = String::new();
    for i in 0..messages {
        let ts = BASE_MS + 1 + i as i64 * 10;
        payload.clear();
        payload.push_str(&format!(r#"{{"id":"m{i}","ts":{ts},"ver":"1.0","data":{{"points":["#));
        for p in 0..points {
            if p > 0 {
                payload.push(',');
            }
            payload.push_str(&format!(r#"{{"sub":"meter-{}","pid":"P{p}","v":{}.{},"ts":{ts},"q":0}}"#, i % 4, 200 + p, i % 97));
        }
        payload.push_str("]}}");
        write(format!("cems/v1/PK-BENCH/GW-{}/up/point/report", i % GATEWAYS), payload.clone(), ts)?;
    }
    recorder.finish().map(drop).map_err(|e| e.to_string())
}

/// Where the taps of one run write; none: both off.
#[derive(Default)]
struct Taps {
    recording: Option<std::path::PathBuf>,
    history: Option<std::path::PathBuf>,
}

/// Replays the workload into a fresh engine until it has taken every message; with taps, also
/// what they kept.
async fn ingest(recording: &Path, expected: u64, taps: &Taps) -> Result<(Duration, Value), String> {
    let (engine, _events) = Engine::spawn_with(EngineConfig { discover: false, ..EngineConfig::default() }, || {}).map_err(|e| e.to_string())?;
    if let Some(history) = &taps.history {
        let db = HistoryDb::open(history, HistoryOptions::default()).map_err(|e| e.to_string())?;
        let writer = HistoryWriter::spawn(db).map_err(|e| e.to_string())?;
        engine.send(EngineCommand::AttachHistory(Box::new(writer))).map_err(|e| e.to_string())?;
    }
    if let Some(path) = &taps.recording {
        let start = EngineCommand::StartRecording { path: path.clone(), meta: RecordingMeta::default(), options: RecordOptions::default() };
        engine.send(start).map_err(|e| e.to_string())?;
    }
    while (taps.history.is_some() && engine.state.history().is_none()) || (taps.recording.is_some() && !engine.state.recording().active) {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let started = Instant::now();
    let mut options = engine.default_session_options("bench");
    options.read_only = true;
    engine.connect(LinkConfig::Replay(ReplayConfig::new(recording).with_speed(ReplaySpeed::Max)), options).map_err(|e| e.to_string())?;
    let deadline = started + Duration::from_secs(600);
    while engine.state.store().stats().received < expected {
        if Instant::now() > deadline {
            return Err(format!("the engine took {} of {expected} messages in 10 minutes", engine.state.store().stats().received));
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    let elapsed = started.elapsed();
    let stats = if taps.recording.is_none() && taps.history.is_none() {
        json!({})
    } else {
        {
            let recording = engine.state.recording();
            let history = engine.state.history().map(|(_, s)| s).unwrap_or_default();
            json!({"recorded": recording.stats.messages, "recordRefused": recording.refused, "historyOffered": history.offered, "historyRefused": history.refused, "historyLost": history.lost})
        }
    };
    engine.send(EngineCommand::StopRecording).map_err(|e| e.to_string())?;
    engine.shutdown();
    Ok((elapsed, stats))
}

/// (ms reading a day of one series from the database, ms copying it out of memory, rows).
fn range_query(path: &Path) -> Result<(f64, f64, usize), String> {
    let key = SeriesKey::point("PK-BENCH", "GW-0", "meter-0", "P0");
    let samples: Vec<(i64, f64, u8)> = (0..DAY_SAMPLES).map(|i| (BASE_MS + i * 1000, 230.0 + (i % 100) as f64 * 0.01, 0)).collect();
    let mut db = HistoryDb::open(path, HistoryOptions { max_age_ms: i64::MAX, max_bytes: u64::MAX }).map_err(|e| e.to_string())?;
    db.write(&[HistoryBatch { series: vec![SeriesSamples { key: key.clone(), source: HistorySource::Report, samples: samples.clone() }], ..HistoryBatch::default() }])
        .map_err(|e| e.to_string())?;
    let mut memory = SeriesStore::new(SeriesLimits::default());
    memory.set_retention(&key, i64::MAX / 4);
    memory.insert_batch(&key, samples, SampleSource::Live);
    let (from, to) = (BASE_MS, BASE_MS + DAY_SAMPLES * 1000);
    let best = |f: &mut dyn FnMut() -> usize| (0..3).map(|_| {
        let t = Instant::now();
        let n = f();
        (t.elapsed().as_secs_f64() * 1e3, n)
    }).fold((f64::INFINITY, 0), |a, b| if b.0 < a.0 { b } else { a });
    let (db_ms, rows) = best(&mut || db.range(&key, from, to).map_or(0, |r| r.len()));
    let (memory_ms, held) = best(&mut || {
        let Some(series) = memory.get(&key) else { return 0 };
        let w = series.window(from, to);
        let copied: Vec<(i64, f64, u8)> = w.times.iter().zip(w.values).zip(w.quality).map(|((t, v), q)| (*t, *v, *q)).collect();
        copied.len()
    });
    if rows != DAY_SAMPLES as usize || held != rows {
        return Err(format!("the day read back {rows} rows from the database and {held} from memory, not {DAY_SAMPLES}"));
    }
    Ok((db_ms, memory_ms, rows))
}

fn print_text(r: &Value) {
    println!(
        "ingest: {} messages of {} points, {} msg/s with recording and history against {} msg/s without: ratio {} (target >= {})",
        r["messages"], r["pointsPerMessage"], r["ingestOnPerSec"], r["ingestOffPerSec"], r["ingestRatio"], r["ingestTarget"]
    );
    println!("        recording alone: ratio {}, history alone: ratio {}; taps: {}", r["ingestRatioRecordingOnly"], r["ingestRatioHistoryOnly"], r["taps"]);
    println!("inserts: {} samples/s through the history writer (target >= {})", r["insertsPerSec"], r["insertTarget"]);
    println!(
        "range: a day of one series at 1 s ({} samples) in {} ms from SQLite against {} ms from memory: ratio {}",
        r["rangeRows"], r["rangeDbMs"], r["rangeMemoryMs"], r["rangeRatio"]
    );
}
