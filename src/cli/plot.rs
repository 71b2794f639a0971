//! `plot`: collect a layout's series from a link for some seconds and write them as CSV (the
//! shared writer, headed `PK/DEV/SUB/PID name [unit]`), then print a JSON summary
//! `{"file","rows","columns","samples"}`.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use serde_json::json;

use crate::config::link_args::LinkArgs;
use crate::config::models::ModelArgs;
use crate::engine::series::{Layout, Series, SeriesKey, SeriesLimits, write_csv};
use crate::engine::{EngineConfig, Gateways, default_subscriptions};
use crate::protocol::model::matching::GatewayModels;
use crate::protocol::model::{Lang, ModelSet};

use super::NoteLang;
use super::session::{CliSession, models_for_command, EXIT_LINK, EXIT_USAGE, runtime, seconds_arg};

#[derive(Debug, Clone, Args)]
pub struct PlotArgs {
    /// The layout file (as the window saves it): its plots' series are collected.
    #[arg(long)]
    pub layout: PathBuf,
    /// Seconds to collect.
    #[arg(long, default_value_t = 10.0)]
    pub seconds: f64,
    /// Where to write the CSV.
    #[arg(long)]
    pub csv: PathBuf,
    #[command(flatten)]
    pub link: LinkArgs,
    #[command(flatten)]
    pub models: ModelArgs,
    /// The language of the names in the headers.
    #[arg(long, value_enum, default_value_t = NoteLang::En)]
    pub lang: NoteLang,
    /// Seconds to wait for the link.
    #[arg(long, default_value_t = 10.0)]
    pub timeout: f64,
}

/// `label name [unit]` of a series, from the product models (the label alone when they do not
/// know it).
pub fn series_header(key: &SeriesKey, gateways: &Gateways, models: &ModelSet, lang: Lang) -> String {
    let label = key.label();
    let (pk, dev, sub, id) = match key {
        SeriesKey::Point { pk, dev, sub, pid } => (pk, dev, sub, pid),
        SeriesKey::Meter { pk, dev, sub, register } => (pk, dev, sub, register),
        SeriesKey::Path { .. } => return label,
    };
    let record = gateways.get(&crate::engine::GatewayKey { pk: pk.clone(), dev: dev.clone() });
    let declared = record.and_then(|r| r.info.as_ref()).and_then(|i| i.subs.clone()).unwrap_or_default();
    let seen: Vec<&str> = record.and_then(|r| r.subs.get(sub)).map(|s| s.points.keys().chain(s.meters.keys()).map(String::as_str).collect()).unwrap_or_default();
    let gateway = GatewayModels::new(models, pk, &declared);
    let model = gateway.model_of(sub, dev, seen.iter().copied());
    let (name, unit) = match key {
        SeriesKey::Point { .. } => match model.and_then(|m| m.point(id)) {
            Some(def) => (def.name.get(lang).to_owned(), def.spec.unit.clone()),
            None => return label,
        },
        _ => match model.and_then(|m| m.meter(id)) {
            Some(def) => (def.name.get(lang).to_owned(), def.unit.clone()),
            None => return label,
        },
    };
    match unit {
        Some(unit) if !unit.is_empty() => format!("{label} {name} [{unit}]"),
        _ => format!("{label} {name}"),
    }
}

pub fn run(args: &PlotArgs) -> ExitCode {
    let checked = (|| {
        let layout = Layout::load(&args.layout).map_err(|e| format!("{e:#}"))?;
        let seconds = seconds_arg("--seconds", args.seconds)?;
        let timeout = seconds_arg("--timeout", args.timeout)?;
        let keys = layout.all_series();
        if keys.is_empty() {
            return Err(format!("layout {}: no series in its plots", args.layout.display()));
        }
        Ok::<_, String>((keys, seconds, timeout))
    })();
    let (keys, seconds, timeout) = match checked {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(EXIT_USAGE);
        }
    };
    let loaded = models_for_command(&args.models);
    let models = loaded.set;
    let rt = match runtime() {
        Ok(rt) => rt,
        Err(code) => return code,
    };
    // A listener: no acknowledgements for gateways not ours; asking who a gateway is (discovery)
    // ties its sub-devices to their models for the headers. Everything is kept for the run.
    let config = EngineConfig {
        master_duties: false,
        series_limits: SeriesLimits { retention_ms: i64::MAX, ..SeriesLimits::default() },
        ..EngineConfig::default()
    };
    let mut subscriptions = default_subscriptions(&config.profile, &config.storage_profile);
    for key in &keys {
        if let SeriesKey::Path { topic, .. } = key
            && !subscriptions.contains(topic)
        {
            subscriptions.push(topic.clone());
        }
    }
    let mut cli = match CliSession::open(&rt, &args.link, "plot", config, Some(subscriptions)) {
        Ok(s) => s,
        Err(code) => return code,
    };
    let collected = rt.block_on(async {
        cli.wait_up(timeout).await?;
        for key in &keys {
            if let SeriesKey::Path { topic, pointer } = key
                && cli.handle.track_path(topic, pointer).is_err()
            {
                eprintln!("error: the engine stopped");
                return Err(ExitCode::from(EXIT_LINK));
            }
        }
        // The events are not needed; draining them keeps the engine from holding them.
        let deadline = tokio::time::Instant::now() + seconds;
        while tokio::time::timeout_at(deadline, cli.events.next_batch()).await.is_ok_and(|b| b.is_some()) {}
        Ok(())
    });
    if let Err(code) = collected {
        return code;
    }
    write(args, &keys, &cli, &models)
}

fn write(args: &PlotArgs, keys: &[SeriesKey], cli: &CliSession, models: &ModelSet) -> ExitCode {
    let lang = args.lang.lang();
    let headers: Vec<String> = {
        let gateways = cli.handle.state.gateways();
        keys.iter().map(|k| series_header(k, &gateways, models, lang)).collect()
    };
    let store = cli.handle.state.series();
    let empty = Series::new(1, 1);
    let columns: Vec<(String, &Series)> = keys.iter().zip(headers).map(|(k, h)| (h, store.get(k).unwrap_or(&empty))).collect();
    let samples: usize = columns.iter().map(|(_, s)| s.len()).sum();
    let missing: Vec<String> = keys.iter().filter(|k| store.get(k).is_none()).map(SeriesKey::label).collect();
    let mut text = Vec::new();
    let rows = match write_csv(&mut text, &columns, i64::MIN, i64::MAX) {
        Ok(rows) => rows,
        Err(e) => {
            eprintln!("error: building the CSV: {e}");
            return ExitCode::FAILURE;
        }
    };
    if let Err(e) = crate::disk::write_atomic(&args.csv, &text) {
        eprintln!("error: --csv {}: {e}", args.csv.display());
        return ExitCode::from(EXIT_USAGE);
    }
    for label in &missing {
        eprintln!("warning: {label}: no samples in {} s", args.seconds);
    }
    let headers: Vec<&str> = columns.iter().map(|(h, _)| h.as_str()).collect();
    println!("{}", json!({ "file": args.csv.display().to_string(), "rows": rows, "columns": headers, "samples": samples, "missing": missing }));
    cli.handle.shutdown();
    ExitCode::SUCCESS
}
