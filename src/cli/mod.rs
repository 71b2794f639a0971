//! The command-line face of the workbench: one file per subcommand, each printing JSON or text
//! and returning an exit code. Nothing here touches egui.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

pub mod auth;
pub mod model;

#[derive(Debug, Parser)]
#[command(name = "cems-workbench", version, about = "Commissioning and debugging workbench for CEMS gateways (GB/T 35031)")]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check and read product model files.
    #[command(subcommand)]
    Model(ModelCommand),
    /// Device connection credentials (contract §6).
    #[command(subcommand)]
    Auth(AuthCommand),
}

#[derive(Debug, Subcommand)]
pub enum ModelCommand {
    /// Validate model files against the schema and the semantic rules; exit 1 on any error.
    Validate {
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Print a readable summary of a model file.
    Show { file: PathBuf },
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

/// Parses the command line and runs the chosen command.
pub fn run() -> ExitCode {
    init_logging();
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            // --help and --version are not errors; everything else is a usage error (exit 2).
            let _ = e.print();
            return if e.use_stderr() { ExitCode::from(2) } else { ExitCode::SUCCESS };
        }
    };
    match cli.command {
        Some(Command::Model(ModelCommand::Validate { files })) => model::validate(&files),
        Some(Command::Model(ModelCommand::Show { file })) => model::show(&file),
        Some(Command::Auth(AuthCommand::Sign { pk, dev, secret, ts })) => auth::sign(&pk, &dev, &secret, ts),
        None => {
            use clap::CommandFactory;
            // The window arrives with the GUI issue; until then say what there is.
            let _ = Cli::command().print_help();
            ExitCode::SUCCESS
        }
    }
}

/// Logs go to stderr (stdout carries JSON); `RUST_LOG` overrides the default level. The embedded
/// broker's own chatter is kept to errors.
fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn,rumqttd=error,rumqttc=error"));
    // A second init (tests) keeps the first subscriber.
    let _ = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).try_init();
}
