//! `cems-workbench sim`: runs a simulated gateway that serves a product model, or with `--ess` an
//! energy-storage station (contract §11), until Ctrl-C.
//! Exit 0 after Ctrl-C, 2 for bad arguments or models, 3 for a link that cannot be opened.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Args;

use crate::config::link_args::LinkArgs;
use crate::config::models::{ModelArgs, load_for_command, read_model_dir, read_model_file};
use super::session::{EXIT_LINK, EXIT_USAGE, runtime};
use crate::protocol::ids::{IdKind, check_id};
use crate::protocol::model::{ModelDocument, ModelKind, ModelSet};
use crate::sim::{self, Outage, SimConfig};
use crate::transport::{LinkConfig, LinkState};
use ess::EssArgs;

pub mod ess;

#[derive(Debug, Clone, Args)]
pub struct SimArgs {
    /// Gateway product model file (its subProducts are looked up in the same folder, then among
    /// the known models), or the product key of a known model such as PK-GW-01.
    #[arg(long, required_unless_present = "ess")]
    pub model: Option<PathBuf>,
    #[command(flatten)]
    pub models: ModelArgs,
    /// Device id of the simulated gateway, e.g. GW-0001.
    #[arg(long, required_unless_present = "ess")]
    pub dev: Option<String>,
    #[command(flatten)]
    pub link: LinkArgs,
    /// Device secret: the MQTT username and password are signed with it (contract §6).
    #[arg(long)]
    pub secret: Option<String>,
    /// Go offline this many seconds after start (needs --outage-for).
    #[arg(long, value_name = "SECS", requires = "outage_for")]
    pub outage_at: Option<f64>,
    /// Stay offline this many seconds, storing reports to resend as history.
    #[arg(long, value_name = "SECS", requires = "outage_at")]
    pub outage_for: Option<f64>,
    /// The gateway's file folder [default: a folder under the system temp dir].
    #[arg(long, value_name = "DIR")]
    pub files_dir: Option<PathBuf>,
    /// Report every point this often instead of the model's periods, ms.
    #[arg(long, value_name = "MS")]
    pub period_ms: Option<u64>,
    /// Seed of the value generator: the same seed gives the same values.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Run the gateway's clock this many ms from ours (its `ts` and `time/get` answers).
    #[arg(long, value_name = "MS", default_value_t = 0, allow_negative_numbers = true)]
    pub clock_skew_ms: i64,
    /// Break the contract on purpose, to prove a checker catches it (wrong-reply-topic[=CLASS/ACTION],
    /// no-dedup, slow-reply[=CLASS/ACTION][:MS], bad-checksum-code, no-will,
    /// wrong-code-unknown-action, garbage-reply[=CLASS/ACTION], double-reply[=CLASS/ACTION]). Repeatable.
    #[arg(long = "fault", value_name = "FAULT", value_parser = crate::sim::SimFault::parse)]
    pub fault: Vec<crate::sim::SimFault>,
    #[command(flatten)]
    pub ess: EssArgs,
}

fn usage(message: impl std::fmt::Display) -> ExitCode {
    eprintln!("error: {message}");
    ExitCode::from(EXIT_USAGE)
}

pub fn run(args: SimArgs) -> ExitCode {
    if args.ess.enabled {
        return ess::run_station(&args);
    }
    if let Some(option) = args.ess.first_given() {
        return usage(format!("{option} is an option of the energy-storage station: add --ess"));
    }
    // clap requires both unless --ess.
    let (Some(model), Some(dev)) = (args.model.as_deref(), args.dev.as_deref()) else {
        return usage("--model and --dev are required (or --ess for an energy-storage station)");
    };
    let known = load_for_command(&args.models);
    for line in known.problem_lines() {
        eprintln!("warning: {line}");
    }
    let (models, pk) = match load_models(model, &known.set) {
        Ok(loaded) => loaded,
        Err(message) => return usage(message),
    };
    if let Err(e) = check_id(IdKind::Device, dev) {
        return usage(format!("--dev: {e}"));
    }
    let outage = match (args.outage_at, args.outage_for) {
        (Some(at), Some(dur)) if at.is_finite() && dur.is_finite() && at >= 0.0 && dur > 0.0 => Some(Outage { at_secs: at, for_secs: dur }),
        (None, None) => None,
        _ => return usage("--outage-at and --outage-for take seconds: at ≥ 0, for > 0"),
    };
    if args.period_ms == Some(0) {
        return usage("--period-ms must be positive");
    }
    let link = match args.link.to_link_config(&format!("{pk}.{dev}")) {
        Ok(link) => link,
        Err(e) => return usage(format!("{e:#}")),
    };
    if let LinkConfig::Serial(serial) = &link
        && !Path::new(&serial.path).exists()
    {
        eprintln!("error: serial port {}: no such device", serial.path);
        return ExitCode::from(EXIT_LINK);
    }
    let files_dir = args.files_dir.clone().unwrap_or_else(|| std::env::temp_dir().join(format!("cems-sim-{dev}")));
    let config = SimConfig {
        secret: args.secret.clone(),
        report_period_ms: args.period_ms,
        outage,
        seed: args.seed,
        clock_skew_ms: args.clock_skew_ms,
        faults: args.fault.clone(),
        ..SimConfig::new(models, pk.clone(), dev.to_owned(), link, files_dir)
    };
    let rt = match runtime() {
        Ok(rt) => rt,
        Err(code) => return code,
    };
    rt.block_on(serve(config))
}

/// Runs the simulator until Ctrl-C or until its link ends by itself.
async fn serve(config: SimConfig) -> ExitCode {
    let (pk, dev, dir) = (config.pk.clone(), config.dev.clone(), config.files_dir.clone());
    let handle = match sim::spawn(config) {
        Ok(handle) => handle,
        Err(e) => return usage(e),
    };
    let subs: Vec<String> = handle.snapshot().subs.into_iter().map(|(sub, sub_pk)| format!("{sub} ({sub_pk})")).collect();
    let mut status = handle.link_status();
    let label = status.borrow().label.clone();
    eprintln!("sim {pk}/{dev}: sub-devices {}; files in {}; connecting to {label}", if subs.is_empty() { "none".into() } else { subs.join(", ") }, dir.display());
    let mut announced = 0;
    let mut last_down = String::new();
    loop {
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {
                handle.stop().await;
                return ExitCode::SUCCESS;
            }
            changed = status.changed() => {
                let now = status.borrow_and_update().clone();
                if changed.is_err() || now.ended {
                    let why = if last_down.is_empty() { "the link ended".to_owned() } else { last_down };
                    eprintln!("error: {}: {why}", now.label);
                    handle.stop().await;
                    return ExitCode::from(EXIT_LINK);
                }
                if now.connects > announced && now.state == LinkState::Up {
                    announced = now.connects;
                    last_down.clear();
                    println!("online: {pk}/{dev} on {} (connect #{})", now.label, now.connects);
                }
                if let LinkState::Down { reason } = &now.state
                    && *reason != last_down
                {
                    eprintln!("{}: {reason}", now.label);
                    last_down.clone_from(reason);
                }
            }
        }
    }
}

/// The gateway model named by `model` (a file, or the product key of a known model) with its
/// sub-models: from the file's folder first, then from `known` (`--models`, the user's models
/// folder, the bundled examples).
fn load_models(model: &Path, known: &ModelSet) -> Result<(ModelSet, String), String> {
    let is_file = model.is_file();
    let doc = if is_file {
        read_model_file(model).map_err(|errors| errors.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n"))?
    } else if let Some(doc) = model.to_str().and_then(|key| known.get(key)) {
        doc.clone()
    } else {
        let keys: Vec<&str> = known.iter().map(ModelDocument::product_key).collect();
        return Err(format!("--model {}: no such file, nor the product key of a known model ({})", model.display(), keys.join(", ")));
    };
    if doc.model().kind != ModelKind::Gateway {
        return Err(format!("{}: a {} model; the simulator serves a gateway model", doc.source_name(), doc.model().kind.as_str()));
    }
    let folder = match model.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    // Other files of the folder may be broken; only the sub-products named matter here.
    let beside = if is_file { read_model_dir(&folder).0 } else { Vec::new() };
    let mut set = ModelSet::new();
    for sub_pk in &doc.model().sub_products {
        if set.get(sub_pk).is_some() || sub_pk == doc.product_key() {
            continue;
        }
        if let Some(sub) = beside.iter().find(|d| d.product_key() == sub_pk) {
            set.insert(sub.clone());
        } else if let Some(sub) = known.get(sub_pk) {
            if is_file {
                eprintln!("note: no model of {sub_pk} in {}; using {}", folder.display(), sub.source_name());
            }
            set.insert(sub.clone());
        } else {
            return Err(format!("{}: subProduct {sub_pk:?} has no model in {} nor among the known models (--models DIR adds a folder)", doc.source_name(), folder.display()));
        }
    }
    let pk = doc.product_key().to_owned();
    set.insert(doc);
    Ok((set, pk))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn models_load_from_files_or_builtin_keys() {
        let known = ModelSet::builtin();
        let (set, pk) = load_models(Path::new("PK-GW-01"), &known).unwrap();
        assert_eq!(pk, "PK-GW-01");
        assert_eq!(set.len(), 3);
        let file = Path::new(env!("CARGO_MANIFEST_DIR")).join("product-models/energy-gateway.json");
        let (set, pk) = load_models(&file, &known).unwrap();
        assert_eq!((pk.as_str(), set.len()), ("PK-GW-01", 3));
        assert!(load_models(Path::new("PK-METER-3P"), &known).unwrap_err().contains("gateway model"));
        assert!(load_models(Path::new("/nonexistent/x.json"), &known).unwrap_err().contains("no such file"));
    }
}

