//! The command-line face of the workbench: one file per subcommand, each printing JSON or text
//! and returning an exit code. Nothing here touches egui; `main.rs` parses the command line and
//! hands a [`Command`] to [`run`].

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Subcommand;

pub mod alarms;
pub mod api;
pub mod auth;
pub mod bench;
pub mod bench_history;
pub mod bench_plot;
pub mod broker;
pub mod call;
pub mod check;
pub mod ess;
pub mod export;
pub mod file;
pub mod gateways;
pub mod history;
pub mod history_db;
pub mod logs;
pub mod model;
pub mod model_table;
pub mod ota;
pub mod plot;
pub mod session;
pub mod sim;
pub mod points;
pub mod record;
pub mod replay;
pub mod time;
pub mod watch;

use crate::config::link_args::LinkArgs;
use crate::config::models::ModelArgs;
use crate::protocol::model::Lang;

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check and read product model files.
    #[command(subcommand)]
    Model(ModelCommand),
    /// Device connection credentials (contract §6).
    #[command(subcommand)]
    Auth(AuthCommand),
    /// Run the embedded MQTT broker until stopped.
    Broker(broker::BrokerArgs),
    /// Print every message, one JSON object per line: {"topic","qos","retain","ts","payload"}, and
    /// "notes" {JSON pointer: text} where the product models name what a CEMS message carries.
    Watch {
        #[command(flatten)]
        link: LinkArgs,
        #[command(flatten)]
        models: ModelArgs,
        /// Language of the notes' words (model names are shown in both when they have both).
        #[arg(long, value_enum, default_value_t = NoteLang::En)]
        lang: NoteLang,
        /// MQTT topic filter, at QoS 1 [default: # unless --sub is given].
        #[arg(long)]
        filter: Option<String>,
        /// Subscribe to FILTER at QOS (0 or 1; 1 when left out). Repeatable. A filter that
        /// itself ends in `:<digits>` needs the QoS written out (`a/b:7:1`).
        #[arg(long = "sub", value_name = "FILTER[:QOS]", value_parser = watch::parse_subscription)]
        sub: Vec<crate::transport::Subscription>,
        /// Stop after N messages.
        #[arg(long)]
        count: Option<u64>,
    },
    /// Send one request to a gateway and print {"code","name","msg","data","latencyMs"}, and
    /// "notes" {JSON pointer: text} on the reply's data (names, units, failed items).
    /// Exit 0 for code 0, 1 for another code, 2 for a usage error, 3 for a timeout or no link.
    Call {
        /// PK/DEV
        target: String,
        /// CLASS/ACTION, e.g. info/get or ota/version/get
        class_action: String,
        /// The request's data object [default: {}].
        data: Option<String>,
        #[command(flatten)]
        link: LinkArgs,
        /// Seconds to wait for the link and for the reply.
        #[arg(long, default_value_t = 10.0)]
        timeout: f64,
        #[command(flatten)]
        models: ModelArgs,
        /// Language of the notes' words.
        #[arg(long, value_enum, default_value_t = NoteLang::En)]
        lang: NoteLang,
    },
    /// Upgrade a gateway's module with an image; ends with one JSON line. Exit 0 only when the
    /// gateway reports done, 1 refused or failed, 2 usage, 3 link or silent gateway.
    Ota(ota::OtaArgs),
    /// Run the conformance catalogue against a gateway: one line per case and a summary, an
    /// HTML commissioning report with --report. Exit 0 when no mandatory case failed, 1 otherwise.
    Check(Box<check::CheckArgs>),
    /// Send, fetch and list files of a gateway's folder.
    #[command(subcommand)]
    File(file::FileCommand),
    /// Run a simulated gateway serving a product model (and its subProducts) until stopped.
    Sim(Box<sim::SimArgs>),
    /// The gateway's clock offset (gateway − ours) and round trip, the median of N `time/get`
    /// exchanges: {"offsetMs","roundTripMs","samples"}; `--set` sets it to our time first.
    Time(time::TimeArgs),
    /// A gateway's monitoring points read now (`point/get`) with names, units, labels and quality
    /// from the models: {"points":[...]}; `--watch` then prints a line per point report.
    Points(points::PointsArgs),
    /// The gateway's alarms as a JSON array, raise and clear paired, each with "ack": us, other,
    /// sent, none or unknown (`alarm/get`, then listens --listen-secs for acknowledgements).
    Alarms(alarms::AlarmsArgs),
    /// Recall a period with `history/get`: {"recallId","expected","batches","new","duplicates",
    /// "complete"}; the batches are acknowledged as the master would.
    History(history::HistoryArgs),
    /// The gateway's log entries, one JSON line each: `log/get` of a period, or --follow.
    Logs(logs::LogsArgs),
    /// Collect a layout's series (points, meter registers, JSON paths) for --seconds and write
    /// them as CSV (`time,epoch_ms,PK/DEV/SUB/PID name [unit]…`); prints {"file","rows","columns",
    /// "samples","missing"}.
    Plot(plot::PlotArgs),
    /// Measure the workbench itself: `bench store` fills a message store and prints its cost;
    /// `bench plot` times one plot frame against copying its samples.
    #[command(subcommand)]
    Bench(bench::BenchCommand),
    /// Record a session's messages to an MCAP file until Ctrl-C or --duration; prints
    /// {"file","messages","bytes"}. `--recover FILE` completes a cut recording. Exit 3 for no link.
    Record(record::RecordArgs),
    /// Play an MCAP recording as a read-only session: a JSON line per message (`ts` the recorded
    /// time), then {"file","messages","first","last","damage"}; `--to-broker URL` republishes it
    /// with its timing. Exit 1 for an unreadable or damaged file, 3 for no broker.
    Replay(replay::ReplayArgs),
    /// The point history database: `history-db stats` prints its rows, size, oldest and newest.
    #[command(subcommand, name = "history-db")]
    HistoryDb(history_db::HistoryDbCommand),
    /// Export a time range of series as CSV from the point history or a recording (--recording),
    /// or a recording's range as MCAP; prints {"out","rows","series","from","to"}.
    Export(export::ExportArgs),
    /// Energy-storage stations (contract §11): `ess call`, `ess watch`, `ess stations`.
    #[command(subcommand)]
    Ess(ess::EssCommand),
    /// The application-side API (GB/T 35031.5): `api serve`, `api sign`, `api probe`.
    #[command(subcommand)]
    Api(api::ApiCommand),
    /// List the gateways seen: online state, info, versions, and "subs" with each sub-device's
    /// product key, model and category (one JSON object per line).
    Gateways {
        #[command(flatten)]
        link: LinkArgs,
        #[command(flatten)]
        models: ModelArgs,
        /// Seconds to listen before printing.
        #[arg(long, default_value_t = 3.0)]
        wait: f64,
    },
}

/// `--lang`: the language of the words in `notes`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum NoteLang {
    En,
    Zh,
}

impl NoteLang {
    pub fn lang(self) -> Lang {
        match self {
            NoteLang::En => Lang::En,
            NoteLang::Zh => Lang::Zh,
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum ModelCommand {
    /// Validate model files against the schema and the semantic rules; exit 1 on any error.
    Validate {
        #[arg(required = true)]
        files: Vec<PathBuf>,
        #[command(flatten)]
        models: ModelArgs,
    },
    /// Print a readable summary of a model file and where its sub-products' models come from.
    Show {
        file: PathBuf,
        #[command(flatten)]
        models: ModelArgs,
    },
    /// Write a new model from a template (gateway, meter, pcs, bms, pv); exit 2 for an unknown
    /// template or an existing file without --force.
    New {
        #[arg(long)]
        template: String,
        #[arg(long)]
        out: PathBuf,
        /// Overwrite an existing file.
        #[arg(long)]
        force: bool,
    },
    /// Import a point table (CSV or XLSX) into a model's points, meters or properties; prints the
    /// accepted and rejected rows. Exit 1 on any rejection (nothing written) unless --skip-bad.
    Import(model_table::ImportArgs),
    /// Write a model's section as a point table (.csv or .xlsx by the extension).
    Export {
        file: PathBuf,
        #[arg(long)]
        out: PathBuf,
        #[arg(long, value_enum, default_value_t = crate::config::point_table::Section::Points)]
        section: crate::config::point_table::Section,
    },
}

#[derive(Debug, Subcommand)]
pub enum AuthCommand {
    /// Print {"clientId","username","password"} for a gateway's broker account.
    Sign {
        #[arg(long)]
        pk: String,
        #[arg(long)]
        dev: String,
        /// The device secret.
        #[arg(long)]
        secret: String,
        /// Timestamp in epoch ms (default: now).
        #[arg(long)]
        ts: Option<u64>,
    },
}

/// Runs one command of the command-line face; returns its exit code.
pub fn run(command: Command) -> ExitCode {
    match command {
        Command::Model(ModelCommand::Validate { files, models }) => model::validate(&files, &models),
        Command::Model(ModelCommand::Show { file, models }) => model::show(&file, &models),
        Command::Model(ModelCommand::New { template, out, force }) => model_table::new_model(&template, &out, force),
        Command::Model(ModelCommand::Import(args)) => model_table::import(&args),
        Command::Model(ModelCommand::Export { file, out, section }) => model_table::export(&file, &out, section),
        Command::Auth(AuthCommand::Sign { pk, dev, secret, ts }) => auth::sign(&pk, &dev, &secret, ts),
        Command::Broker(args) => broker::run(&args),
        Command::Watch { link, models, lang, filter, sub, count } => watch::run(&link, filter, sub, count, &models, lang.lang()),
        Command::Call { target, class_action, data, link, timeout, models, lang } => {
            call::run(&target, &class_action, data.as_deref(), &link, timeout, &models, lang.lang())
        }
        Command::Gateways { link, models, wait } => gateways::run(&link, wait, &models),
        Command::Ota(args) => ota::run(&args),
        Command::Check(args) => check::run_check(&args),
        Command::File(command) => file::run(&command),
        Command::Sim(args) => sim::run(*args),
        Command::Time(args) => time::run(&args),
        Command::Points(args) => points::run(&args),
        Command::Alarms(args) => alarms::run(&args),
        Command::History(args) => history::run(&args),
        Command::Logs(args) => logs::run(&args),
        Command::Plot(args) => plot::run(&args),
        Command::Bench(command) => bench::run(&command),
        Command::Record(args) => record::run(&args),
        Command::Replay(args) => replay::run(&args),
        Command::HistoryDb(command) => history_db::run(&command),
        Command::Export(args) => export::run(&args),
        Command::Api(command) => api::run(&command),
        Command::Ess(command) => ess::run(&command),
    }
}

/// Logs go to stderr (stdout carries JSON); `RUST_LOG` overrides the default level. The embedded
/// broker's own chatter is kept to errors, and its harmless stale-connection line to a count.
pub fn init_logging() {
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::util::SubscriberInitExt;
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn,rumqttd=error,rumqttc=error"));
    // A second init keeps the first subscriber.
    let _ = tracing_subscriber::registry()
        .with(crate::transport::broker::noise::BrokerNoise)
        .with(tracing_subscriber::fmt::layer().with_writer(std::io::stderr))
        .with(filter)
        .try_init();
}
