//! The entry point: logging, the command line, and a dispatch to the window (`ui::launch`) or to
//! one command of the CLI (`cli`). Neither of the two knows the other.

use std::process::ExitCode;

use cems_workbench::{cli, ui};
use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(name = "cems-workbench", version, about = "Commissioning and debugging workbench for CEMS gateways (GB/T 35031)")]
#[command(args_conflicts_with_subcommands = true)]
struct Args {
    #[command(subcommand)]
    command: Option<Top>,
    /// With no subcommand the window opens; these are `gui`'s options.
    #[command(flatten)]
    gui: ui::launch::GuiArgs,
}

#[derive(Debug, Subcommand)]
enum Top {
    /// Open the workbench window (the default): the embedded broker and a demo gateway, or the
    /// link given with --broker or --serial.
    Gui(ui::launch::GuiArgs),
    #[command(flatten)]
    Tool(cli::Command),
}

fn main() -> ExitCode {
    cli::init_logging();
    let args = match Args::try_parse() {
        Ok(args) => args,
        Err(e) => {
            // --help and --version are not errors; everything else is a usage error (exit 2).
            let _ = e.print();
            return if e.use_stderr() { ExitCode::from(cli::session::EXIT_USAGE) } else { ExitCode::SUCCESS };
        }
    };
    match args.command {
        Some(Top::Tool(command)) => cli::run(command),
        Some(Top::Gui(gui)) => ui::launch::run(gui),
        None => ui::launch::run(args.gui),
    }
}
