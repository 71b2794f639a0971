//! `api`: the application-side API (GB/T 35031.5). `api serve` answers it from its own engine
//! session and the point history; `api sign` prints a request's headers; `api probe` checks
//! another master's API against the contract (exit 1 on any failed check).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

mod bench;

use clap::{Args, Subcommand};
use serde_json::json;

use super::session::{CliSession, EXIT_LINK, EXIT_USAGE, models_for_command, runtime, seconds_arg};
use crate::api::probe::{Observed, ProbeOptions, probe};
use crate::api::{ApiClient, ApiConfig, ApiData, ApiServer, ApiService, HttpVersion, ListenOptions, tls_config};
use crate::config::data_dir::default_history_path;
use crate::config::link_args::LinkArgs;
use crate::config::models::ModelArgs;
use crate::engine::history::{HistoryDb, HistoryError, HistoryOptions, HistoryWriter};
use crate::engine::{EngineCommand, EngineConfig};
use crate::protocol::app_api::SignedHeaders;
use crate::protocol::time::{now_ms, parse_time};

#[derive(Debug, Subcommand)]
pub enum ApiCommand {
    /// Serve the API from a session on the link and the point history until Ctrl-C; prints
    /// `api listening on ADDR`.
    Serve(Box<ServeArgs>),
    /// Print the signed headers of a request as JSON (for platform developers).
    Sign(SignArgs),
    /// Call every interface of URL and check the answers and the error paths against the
    /// contract; prints a table (stderr) and the JSON report (stdout or --json). Exit 1 on any
    /// failed check.
    Probe(Box<ProbeArgs>),
    /// Measure the API: ratios of a dynamic page and an hourly statistic against serialising
    /// and scanning the same data, and requests per second over loopback HTTP/2.
    Bench {
        /// Load generator: at most this many requests…
        #[arg(long, default_value_t = 20_000)]
        requests: u64,
        /// …and at most this many seconds.
        #[arg(long, default_value_t = 10.0)]
        seconds: f64,
    },
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on; any but loopback needs --tls-cert/--tls-key or --plain-http.
    #[arg(long, default_value = "127.0.0.1:8686")]
    pub listen: SocketAddr,
    /// The apps file {"apps":[{"appId","secret","cems","rateLimit"}],"sites":[…]} [default:
    /// api-apps.json in the data folder].
    #[arg(long, value_name = "FILE")]
    pub apps: Option<PathBuf>,
    /// Certificate chain (PEM) for HTTPS.
    #[arg(long, value_name = "FILE", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// Private key (PEM) for HTTPS.
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// Serve plain HTTP on a non-loopback address (anyone on the network can read the answers).
    #[arg(long)]
    pub plain_http: bool,
    /// The point history to keep and serve [default: history.db in the data folder]; when a
    /// window already writes it, it is served read-only.
    #[arg(long, value_name = "PATH")]
    pub db: Option<PathBuf>,
    #[command(flatten)]
    pub link: LinkArgs,
    #[command(flatten)]
    pub models: ModelArgs,
}

#[derive(Debug, Args)]
pub struct SignArgs {
    #[arg(long)]
    pub app: String,
    #[arg(long)]
    pub secret: String,
    /// The request path, e.g. /api/cems/GetCemsStaticData.
    #[arg(long)]
    pub path: String,
    /// The exact body.
    #[arg(long)]
    pub body: String,
    /// Epoch ms [default: now].
    #[arg(long)]
    pub ts: Option<i64>,
    /// [default: random]
    #[arg(long)]
    pub nonce: Option<String>,
}

#[derive(Debug, Args)]
pub struct ProbeArgs {
    /// The API's base URL, e.g. http://127.0.0.1:8686/api.
    pub url: String,
    #[arg(long)]
    pub app: String,
    #[arg(long)]
    pub secret: String,
    /// The cemsId to probe.
    #[arg(long)]
    pub cems: String,
    /// Write the JSON report here instead of stdout.
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
    /// Speak HTTP/1.1 (default: HTTP/2, prior knowledge on http://, ALPN on https://).
    #[arg(long)]
    pub http1: bool,
    /// CA certificate (PEM) to check an https:// server by [default: the system roots].
    #[arg(long, value_name = "FILE")]
    pub server_ca: Option<PathBuf>,
    /// Start of the historic and statistic range [default: 24 h before --to].
    #[arg(long)]
    pub from: Option<String>,
    /// End of the range, exclusive [default: now].
    #[arg(long)]
    pub to: Option<String>,
    /// With --broker or --serial: listen this many seconds, then compare the served dynamic
    /// values with what the link showed of the same gateways.
    #[arg(long, default_value_t = 5.0)]
    pub mqtt_wait: f64,
    /// One reporting period in seconds: the most a served value's time may differ from ours.
    #[arg(long, default_value_t = 60.0)]
    pub period: f64,
    #[command(flatten)]
    pub link: LinkArgs,
    #[command(flatten)]
    pub models: ModelArgs,
}

pub fn run(command: &ApiCommand) -> ExitCode {
    match command {
        ApiCommand::Serve(args) => serve(args),
        ApiCommand::Sign(args) => sign(args),
        ApiCommand::Probe(args) => run_probe(args),
        ApiCommand::Bench { requests, seconds } => run_bench(*requests, *seconds),
    }
}

fn sign(args: &SignArgs) -> ExitCode {
    let nonce = args.nonce.clone().unwrap_or_else(|| format!("{:032x}", rand::random::<u128>()));
    let headers = SignedHeaders::new(&args.app, &args.secret, &args.path, args.body.as_bytes(), args.ts.unwrap_or_else(now_ms), &nonce);
    println!("{}", json!(headers));
    ExitCode::SUCCESS
}

fn usage(message: impl std::fmt::Display) -> ExitCode {
    eprintln!("error: {message}");
    ExitCode::from(EXIT_USAGE)
}

fn apps_config(path: Option<&Path>) -> Result<ApiConfig, ExitCode> {
    let (config, warning) = ApiConfig::load(path).map_err(|e| usage(format!("{e:#}")))?;
    if let Some(warning) = warning {
        eprintln!("warning: {warning}");
    }
    Ok(config)
}

fn serve(args: &ServeArgs) -> ExitCode {
    let config = match apps_config(args.apps.as_deref()) {
        Ok(c) => c,
        Err(code) => return code,
    };
    let tls = match (&args.tls_cert, &args.tls_key) {
        (Some(cert), Some(key)) => match tls_config(cert, key) {
            Ok(t) => Some(t),
            Err(e) => return usage(format!("{e:#}")),
        },
        _ => None,
    };
    let listen = ListenOptions { listen: args.listen, tls, plain_http: args.plain_http };
    if let Err(e) = listen.check() {
        return usage(format!("{e:#}"));
    }
    let models = models_for_command(&args.models).set;
    let rt = match runtime() {
        Ok(rt) => rt,
        Err(code) => return code,
    };
    let session = match CliSession::open(&rt, &args.link, "api", EngineConfig::default(), None) {
        Ok(s) => s,
        Err(code) => return code,
    };
    let history = args.db.clone().or_else(default_history_path);
    let read_only = history.as_deref().and_then(|path| attach_history(&session, path));
    let data = Arc::new(ApiData::new(Box::new(session.handle.state.clone()), models, read_only));
    let service = Arc::new(ApiService::new(data, config));
    rt.block_on(async move {
        let server = match ApiServer::bind(&listen).await {
            Ok(s) => s,
            Err(e) => {
                eprintln!("error: {e:#}");
                return ExitCode::from(EXIT_LINK);
            }
        };
        println!("api listening on {}://{}{}", server.scheme(), server.local_addr, service.base);
        let shutdown = async {
            if let Err(e) = tokio::signal::ctrl_c().await {
                eprintln!("error: cannot wait for Ctrl-C: {e}");
            }
        };
        server.serve(service, shutdown).await;
        session.handle.shutdown();
        ExitCode::SUCCESS
    })
}

/// Keeps the session's samples in the history at `path`; when another workbench writes it,
/// serves it read-only instead (the returned path).
fn attach_history(session: &CliSession, path: &Path) -> Option<PathBuf> {
    let opened = HistoryDb::open(path, HistoryOptions::default()).and_then(HistoryWriter::spawn);
    match opened {
        Ok(writer) => {
            if session.handle.send(EngineCommand::AttachHistory(Box::new(writer))).is_err() {
                eprintln!("warning: the engine stopped before the history was attached");
            }
            None
        }
        Err(HistoryError::InUse { .. }) => {
            eprintln!("note: {} is written by another workbench: serving it read-only", path.display());
            Some(path.to_owned())
        }
        Err(e) => {
            eprintln!("warning: {e}: historic and statistic data will be empty");
            None
        }
    }
}

fn run_probe(args: &ProbeArgs) -> ExitCode {
    let version = if args.http1 { HttpVersion::Http1 } else { HttpVersion::Http2 };
    let client = match ApiClient::new(&args.url, &args.app, &args.secret, version, args.server_ca.as_deref()) {
        Ok(c) => c,
        Err(e) => return usage(format!("{e:#}")),
    };
    let time = |flag: &str, text: &Option<String>, default: i64| -> Result<i64, ExitCode> {
        match text {
            None => Ok(default),
            Some(t) => parse_time(t).map_err(|e| usage(format!("--{flag} {e}"))),
        }
    };
    let to_ms = match time("to", &args.to, now_ms()) {
        Ok(t) => t,
        Err(code) => return code,
    };
    let from_ms = match time("from", &args.from, to_ms - 86_400_000) {
        Ok(t) => t,
        Err(code) => return code,
    };
    let rt = match runtime() {
        Ok(rt) => rt,
        Err(code) => return code,
    };
    let compare_with_link = args.link.broker.is_some() || args.link.serial.is_some();
    let mut session = None;
    let mut observed = None;
    if compare_with_link {
        let wait = match seconds_arg("--mqtt-wait", args.mqtt_wait) {
            Ok(w) => w,
            Err(e) => return usage(e),
        };
        let mut opened = match CliSession::open(&rt, &args.link, "api-probe", EngineConfig::default(), None) {
            Ok(s) => s,
            Err(code) => return code,
        };
        if let Err(code) = rt.block_on(async {
            opened.wait_up(Duration::from_secs(10)).await?;
            tokio::time::sleep(wait).await;
            Ok::<(), ExitCode>(())
        }) {
            return code;
        }
        let models = Arc::new(models_for_command(&args.models).set);
        observed = Some(Observed { source: Arc::new(opened.handle.state.clone()), models, tolerance_ms: (args.period.max(0.0) * 1000.0) as i64 });
        session = Some(opened);
    }
    let options = ProbeOptions { cems_id: args.cems.clone(), from_ms, to_ms, observed };
    let report = rt.block_on(probe(&client, &options));
    if let Some(session) = session {
        session.handle.shutdown();
    }
    eprint!("{}", report.table());
    let text = json!({ "url": report.url, "cemsId": report.cems_id, "passed": report.failed().count() == 0, "checks": report.checks }).to_string();
    match &args.json {
        Some(path) => {
            if let Err(e) = crate::disk::write_atomic(path, text.as_bytes()) {
                eprintln!("error: cannot write {}: {e}", path.display());
                return ExitCode::from(EXIT_LINK);
            }
        }
        None => println!("{text}"),
    }
    if report.failed().count() == 0 { ExitCode::SUCCESS } else { ExitCode::FAILURE }
}

fn run_bench(requests: u64, seconds: f64) -> ExitCode {
    let limit = match seconds_arg("--seconds", seconds) {
        Ok(l) => l,
        Err(e) => return usage(e),
    };
    let rt = match runtime() {
        Ok(rt) => rt,
        Err(code) => return code,
    };
    match bench::run(&rt, requests, limit) {
        Ok(result) => {
            println!("{result}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use clap::{CommandFactory, Parser};

    use super::ApiCommand;

    #[derive(Debug, Parser)]
    struct Cli {
        #[command(subcommand)]
        api: ApiCommand,
    }

    #[test]
    fn the_flags_do_not_collide_with_the_link_options() {
        Cli::command().debug_assert();
        let parsed = Cli::try_parse_from(["x", "probe", "http://h/api", "--app", "a", "--secret", "s", "--cems", "site-1", "--broker", "mqtt://b", "--ca", "ca.pem", "--server-ca", "s.pem"]);
        let Ok(Cli { api: ApiCommand::Probe(probe) }) = parsed else { panic!("{parsed:?}") };
        assert_eq!((probe.link.broker.as_deref(), probe.server_ca.as_deref()), (Some("mqtt://b"), Some(std::path::Path::new("s.pem"))));
        assert!(Cli::try_parse_from(["x", "serve", "--tls-cert", "c.pem"]).is_err(), "a certificate needs its key");
    }
}
