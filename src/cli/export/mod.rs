//! `export`: a time range of series as CSV (the one series writer: `time,epoch_ms`, then one
//! column per series headed `PK/DEV/SUB/PID name [unit]`), from the point history or from a
//! recording; or a recording's time range as a smaller MCAP. One JSON line:
//! `{"out","rows","series","from","to","fromMs","toMs","missing"}`. Exit 2 for usage, 1 when the
//! source cannot be read or the file not written.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Args;
use serde_json::json;

use crate::config::models::ModelArgs;
use crate::engine::Gateways;
use crate::engine::history::{HistoryDb, HistoryError, HistorySource};
use crate::engine::series::{Series, SeriesKey, iso_utc_ms, write_csv};
use crate::protocol::model::ModelSet;
use crate::protocol::time::parse_time;

use super::NoteLang;
use super::history_db::db_path;
use super::plot::series_header;
use super::session::{EXIT_USAGE, models_for_command};

mod labels;
mod recording;

#[derive(Debug, Clone, Args)]
pub struct ExportArgs {
    /// Start of the range: epoch ms or ISO 8601 (`2026-12-04T10:00:00Z`, `…+08:00`).
    #[arg(long, value_name = "T")]
    pub from: String,
    /// End of the range (included).
    #[arg(long, value_name = "T")]
    pub to: String,
    /// Series to export as PK/DEV/SUB/PID (a meter register in place of PID); all in the
    /// range when left out. Repeatable.
    #[arg(long = "series", value_name = "PK/DEV/SUB/PID", num_args = 1..)]
    pub series: Vec<String>,
    /// The point history database [default: history.db in the data folder].
    #[arg(long, value_name = "PATH", conflicts_with = "recording")]
    pub db: Option<PathBuf>,
    /// Export from this recording instead of the point history.
    #[arg(long, value_name = "FILE.mcap")]
    pub recording: Option<PathBuf>,
    /// FILE.csv, or FILE.mcap (with --recording: its messages logged in the range).
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
    #[command(flatten)]
    pub models: ModelArgs,
    /// The language of the names in the headers.
    #[arg(long, value_enum, default_value_t = NoteLang::En)]
    pub lang: NoteLang,
}

/// What the output file is, by its extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum OutKind {
    Csv,
    Mcap,
}

fn out_kind(out: &Path) -> Option<OutKind> {
    match out.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase).as_deref() {
        Some("csv") => Some(OutKind::Csv),
        Some("mcap") => Some(OutKind::Mcap),
        _ => None,
    }
}

/// The checked arguments: range, wanted series labels, output kind.
struct Checked {
    from_ms: i64,
    to_ms: i64,
    wanted: BTreeSet<String>,
    kind: OutKind,
}

fn check(args: &ExportArgs) -> Result<Checked, String> {
    let from_ms = parse_time(&args.from).map_err(|e| format!("--from {e}"))?;
    let to_ms = parse_time(&args.to).map_err(|e| format!("--to {e}"))?;
    if from_ms > to_ms {
        return Err(format!("--from {} is after --to {}", iso_utc_ms(from_ms), iso_utc_ms(to_ms)));
    }
    let mut wanted = BTreeSet::new();
    for label in &args.series {
        labels::check_label(label)?;
        wanted.insert(label.clone());
    }
    let kind = out_kind(&args.out).ok_or_else(|| format!("--out {}: expected FILE.csv or FILE.mcap", args.out.display()))?;
    if kind == OutKind::Mcap && args.recording.is_none() {
        return Err("--out FILE.mcap cuts a recording: give --recording FILE.mcap".to_owned());
    }
    Ok(Checked { from_ms, to_ms, wanted, kind })
}

pub fn run(args: &ExportArgs) -> ExitCode {
    let checked = match check(args) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(EXIT_USAGE);
        }
    };
    if checked.kind == OutKind::Mcap
        && let Some(input) = &args.recording
    {
        return recording::cut_to(input, &args.out, checked.from_ms, checked.to_ms);
    }
    let collected = match &args.recording {
        Some(input) => recording::collect(input, &checked.wanted),
        None => {
            let path = match db_path(args.db.as_deref()) {
                Ok(p) => p,
                Err(code) => return code,
            };
            from_history(&path, &checked.wanted, checked.from_ms, checked.to_ms).map_err(|e| e.to_string())
        }
    };
    let collected = match collected {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    let models = models_for_command(&args.models).set;
    write_out(args, &checked, collected, &models)
}

/// Series gathered for the CSV, with the gateway table that names their models.
pub(super) struct Collected {
    pub columns: Vec<(SeriesKey, Series)>,
    pub gateways: Gateways,
}

/// A series holding every given sample (no retention, no cap).
pub(super) fn unbounded_series() -> Series {
    Series::new(i64::MAX, usize::MAX)
}

fn from_history(path: &Path, wanted: &BTreeSet<String>, from_ms: i64, to_ms: i64) -> Result<Collected, HistoryError> {
    let db = HistoryDb::open_read_only(path)?;
    let mut columns = Vec::new();
    for info in db.series()? {
        let overlaps = info.first_ms.is_some_and(|f| f <= to_ms) && info.last_ms.is_some_and(|l| l >= from_ms);
        if !overlaps || !(wanted.is_empty() || wanted.contains(&info.key.label())) {
            continue;
        }
        let rows = db.range(&info.key, from_ms, to_ms)?;
        let (history, live): (Vec<_>, Vec<_>) = rows.into_iter().partition(|r| r.3 == HistorySource::History);
        let mut series = unbounded_series();
        series.insert_batch(live.into_iter().map(|(t, v, q, _)| (t, v, q)).collect(), false);
        series.insert_batch(history.into_iter().map(|(t, v, q, _)| (t, v, q)).collect(), true);
        if !series.is_empty() {
            columns.push((info.key, series));
        }
    }
    let gateways = labels::gateways_naming(columns.iter().map(|(k, _)| k));
    Ok(Collected { columns, gateways })
}

fn write_out(args: &ExportArgs, checked: &Checked, collected: Collected, models: &ModelSet) -> ExitCode {
    let lang = args.lang.lang();
    let headed: Vec<(String, &Series)> =
        collected.columns.iter().map(|(key, series)| (series_header(key, &collected.gateways, models, lang), series)).collect();
    let found: BTreeSet<String> = collected.columns.iter().map(|(k, _)| k.label()).collect();
    let missing: Vec<&String> = checked.wanted.iter().filter(|w| !found.contains(*w)).collect();
    for label in &missing {
        eprintln!("warning: {label}: no samples in the range");
    }
    let mut text = Vec::new();
    let rows = match write_csv(&mut text, &headed, checked.from_ms, checked.to_ms) {
        Ok(rows) => rows,
        Err(e) => {
            eprintln!("error: cannot build the CSV: {e}");
            return ExitCode::FAILURE;
        }
    };
    if let Err(e) = crate::disk::write_atomic(&args.out, &text) {
        eprintln!("error: cannot write {}: {e}", args.out.display());
        return ExitCode::FAILURE;
    }
    let line = json!({
        "out": args.out.display().to_string(),
        "rows": rows,
        "series": headed.len(),
        "from": iso_utc_ms(checked.from_ms),
        "to": iso_utc_ms(checked.to_ms),
        "fromMs": checked.from_ms,
        "toMs": checked.to_ms,
        "missing": missing,
    });
    println!("{line}");
    ExitCode::SUCCESS
}
