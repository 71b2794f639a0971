//! `check`: the conformance catalogue against one gateway. One line per case on stderr as it
//! finishes (id, title, verdict, the reason of a failure) and a summary; with `--json` the whole
//! report as one JSON object on stdout; with `--report` the commissioning report as HTML, with
//! `--pdf` as PDF.
//! Exit 0 when no mandatory case Failed, 1 otherwise, 2 for a usage error, 3 for no link.

use std::path::PathBuf;
use std::sync::Arc;
use std::process::ExitCode;
use std::time::Duration;

use bytes::Bytes;
use clap::Args;

use crate::config::link_args::LinkArgs;
use crate::config::models::ModelArgs;
use crate::conformance::{CancelToken, Catalogue, FirmwareImage, ManualAnswer, ManualHandler, ManualPrompt, Progress, RunOptions, report_html, report_pdf, run};
use crate::engine::EngineConfig;

use super::NoteLang;
use super::call::split_target;
use super::session::{CliSession, EXIT_USAGE, models_for_command, runtime, seconds_arg};

#[derive(Debug, Clone, Args)]
pub struct CheckArgs {
    /// PK/DEV
    pub target: String,
    /// Cases to run: ids, id prefixes or clauses, comma-separated (TC-6.4-01,TC-6.7,6.9) [default: all].
    #[arg(long)]
    pub cases: Option<String>,
    /// Write the commissioning report (one self-contained HTML file) here.
    #[arg(long, value_name = "OUT.html")]
    pub report: Option<PathBuf>,
    /// Write the commissioning report as PDF (A4, the Chinese font embedded) here.
    #[arg(long, value_name = "OUT.pdf")]
    pub pdf: Option<PathBuf>,
    /// Run the cases that change the gateway (firmware, clock, setpoint, property, file, log level).
    #[arg(long)]
    pub allow_changes: bool,
    /// Send nothing: only the cases that listen run.
    #[arg(long)]
    pub read_only: bool,
    /// Language of the report and the lines.
    #[arg(long, value_enum, default_value_t = NoteLang::En)]
    pub lang: NoteLang,
    /// Ask for the manual steps (disconnect the gateway …) on the terminal: Enter when done,
    /// "s" then Enter to skip. Without it they are skipped as Inconclusive.
    #[arg(long)]
    pub interactive: bool,
    /// Print the whole report as JSON on stdout.
    #[arg(long)]
    pub json: bool,
    /// A catalogue file instead of the built-in one.
    #[arg(long, value_name = "FILE")]
    pub catalogue: Option<PathBuf>,
    /// A firmware image for the upgrade cases, with --module and --version.
    #[arg(long, requires_all = ["module", "version"])]
    pub firmware: Option<PathBuf>,
    #[arg(long)]
    pub module: Option<String>,
    #[arg(long)]
    pub version: Option<String>,
    /// The site's name, for the report.
    #[arg(long)]
    pub site: Option<String>,
    /// The largest clock offset accepted, ms.
    #[arg(long, default_value_t = 1000.0)]
    pub clock_limit_ms: f64,
    /// Seconds to wait for the link and for each reply.
    #[arg(long, default_value_t = 10.0)]
    pub timeout: f64,
    #[command(flatten)]
    pub link: LinkArgs,
    #[command(flatten)]
    pub models: ModelArgs,
}

/// Manual steps asked on stderr and answered on stdin (a blocking read, off the runtime).
fn terminal_prompt(lang: crate::protocol::model::Lang) -> ManualHandler {
    Arc::new(move |prompt: ManualPrompt| {
        let (tx, rx) = tokio::sync::oneshot::channel();
        eprintln!("\n>>> {}: {}\n    Enter when done, s + Enter to skip:", prompt.case_id, prompt.text.get(lang));
        tokio::task::spawn_blocking(move || {
            let mut line = String::new();
            let answer = match std::io::stdin().read_line(&mut line) {
                Ok(n) if n > 0 && !line.trim().eq_ignore_ascii_case("s") => ManualAnswer::Done,
                _ => ManualAnswer::Skipped,
            };
            let _ = tx.send(answer);
        });
        rx
    })
}

fn usage(msg: impl std::fmt::Display) -> ExitCode {
    eprintln!("error: {msg}");
    ExitCode::from(EXIT_USAGE)
}

pub fn run_check(args: &CheckArgs) -> ExitCode {
    let (pk, dev) = match split_target(&args.target, "target") {
        Ok(t) => t,
        Err(e) => return usage(e),
    };
    let timeout = match seconds_arg("--timeout", args.timeout) {
        Ok(t) => t,
        Err(e) => return usage(e),
    };
    let catalogue = match &args.catalogue {
        Some(path) => Catalogue::load(path),
        None => Catalogue::builtin(),
    };
    let catalogue = match catalogue {
        Ok(c) => c,
        Err(e) => return usage(e),
    };
    if catalogue.select(args.cases.as_deref()).is_empty() {
        return usage(format!("--cases {:?}: no case of the catalogue matches", args.cases.as_deref().unwrap_or("")));
    }
    let firmware = match (&args.firmware, &args.module, &args.version) {
        (Some(path), Some(module), Some(version)) => match std::fs::read(path) {
            Ok(image) => Some(FirmwareImage { module: module.clone(), version: version.clone(), image: Bytes::from(image) }),
            Err(e) => return usage(format!("cannot read firmware image {}: {e}", path.display())),
        },
        _ => None,
    };
    let lang = args.lang.lang();
    let loaded = models_for_command(&args.models);
    let rt = match runtime() {
        Ok(rt) => rt,
        Err(code) => return code,
    };
    let mut cli = match CliSession::open(&rt, &args.link, "check", EngineConfig::default(), None) {
        Ok(s) => s,
        Err(code) => return code,
    };
    let mut options = RunOptions::new(catalogue, loaded.set);
    options.cases = args.cases.clone();
    options.allow_changes = args.allow_changes;
    options.read_only = args.read_only;
    options.reply_timeout = timeout;
    options.clock_limit_ms = args.clock_limit_ms;
    options.firmware = firmware;
    options.serial = args.link.serial.is_some();
    options.link_label = cli.label.clone();
    options.site = args.site.clone();
    if args.interactive {
        options.interactive = Some(terminal_prompt(lang));
    }
    let report = rt.block_on(async {
        cli.wait_up(timeout).await?;
        // The gateway's retained status and its answers to discovery arrive first.
        tokio::time::sleep(Duration::from_secs(2)).await;
        let cancel = CancelToken::new();
        let ctrl_c = cancel.clone();
        tokio::spawn(async move {
            if tokio::signal::ctrl_c().await.is_ok() {
                eprintln!("cancelled: finishing the report");
                ctrl_c.cancel();
            }
        });
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        let printer = tokio::spawn(async move {
            while let Some(p) = rx.recv().await {
                if let Progress::Finished(c) = p {
                    let reason = c.verdict.reason_in(lang).map(|r| format!(": {r}")).unwrap_or_default();
                    eprintln!("{:<11} {:<13} {}{}", c.id, c.verdict.label(), c.title.get(lang), reason);
                }
            }
        });
        let report = run(&cli.handle, cli.session, (&pk, &dev), &options, &cancel, Some(tx)).await;
        let _ = printer.await;
        cli.handle.shutdown();
        Ok::<_, ExitCode>(report)
    });
    let report = match report {
        Ok(r) => r,
        Err(code) => return code,
    };
    let s = report.summary();
    eprintln!(
        "{}/{}: {} passed, {} failed ({} mandatory), {} inconclusive, {} not run{}",
        report.pk,
        report.dev,
        s.passed,
        s.failed,
        s.failed_mandatory,
        s.inconclusive,
        s.not_run,
        if report.complete { "" } else { " — INCOMPLETE (cancelled)" }
    );
    if let Some(path) = &args.report {
        let html = report_html::render(&report, lang);
        if let Err(e) = crate::disk::write_atomic(path, html.as_bytes()) {
            eprintln!("error: cannot write the report {}: {e}", path.display());
            return ExitCode::FAILURE;
        }
        eprintln!("report written to {}", path.display());
    }
    if let Some(path) = &args.pdf {
        let written = report_pdf::render(&report, lang).and_then(|pdf| crate::disk::write_atomic(path, &pdf).map_err(anyhow::Error::from));
        if let Err(e) = written {
            eprintln!("error: cannot write the PDF report {}: {e:#}", path.display());
            return ExitCode::FAILURE;
        }
        eprintln!("PDF report written to {}", path.display());
    }
    if args.json {
        match serde_json::to_string(&report) {
            Ok(line) => println!("{line}"),
            Err(e) => eprintln!("error: the report cannot be written as JSON: {e}"),
        }
    }
    if report.passed() { ExitCode::SUCCESS } else { ExitCode::FAILURE }
}
