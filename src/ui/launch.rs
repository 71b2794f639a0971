//! Opens the workbench window: a tokio runtime for the app's life, the engine, the local
//! services ([`super::local`]: the embedded broker and a demo gateway) or the link given on the
//! command line.

use std::process::ExitCode;
use std::time::Duration;

use clap::Args;

use super::app::{Startup, WorkbenchApp};
use super::local::{LocalPlan, client_id, start_local};
use super::model_source::ModelSource;
use super::repaint::RepaintSignal;
use super::settings::Settings;
use crate::config::link_args::LinkArgs;
use crate::config::models::{ModelArgs, load_models, user_models_dir};
use crate::engine::{Engine, EngineConfig};
use crate::transport::LinkConfig;

/// The application id: eframe's storage folder and the window class.
pub const APP_ID: &str = "cems-workbench";
/// Exit codes: 2 for bad arguments, 4 when the window cannot open (no display, no OpenGL).
const EXIT_USAGE: u8 = 2;
const EXIT_WINDOW: u8 = 4;

/// Options of `cems-workbench gui` (also accepted with no subcommand).
#[derive(Debug, Clone, Default, Args)]
pub struct GuiArgs {
    /// Start without the embedded broker and the demo gateway.
    #[arg(long)]
    pub no_demo: bool,
    #[command(flatten)]
    pub link: LinkArgs,
    #[command(flatten)]
    pub models: ModelArgs,
    /// Open with the plots of this layout file (as "Save layout…" writes it).
    #[arg(long, value_name = "FILE")]
    pub layout: Option<std::path::PathBuf>,
    /// Open the model editor on this product model file.
    #[arg(long, value_name = "FILE")]
    pub edit: Option<std::path::PathBuf>,
}

impl GuiArgs {
    /// Whether a link was given on the command line.
    pub fn has_link(&self) -> bool {
        self.link.broker.is_some() || self.link.serial.is_some()
    }
}

/// What the arguments and settings ask for; `None` for nothing local. A link on the command
/// line replaces the local broker, and the demo gateway needs the broker.
pub fn local_plan(args: &GuiArgs, settings: &Settings) -> Option<LocalPlan> {
    if args.no_demo || args.has_link() || !settings.start_broker {
        return None;
    }
    Some(LocalPlan::of(settings, settings.start_demo))
}

/// The link given on the command line, with its label.
fn command_line_link(args: &GuiArgs) -> anyhow::Result<Option<(LinkConfig, String)>> {
    if !args.has_link() {
        return Ok(None);
    }
    let config = args.link.to_link_config(&client_id())?;
    let label = config.target();
    Ok(Some((config, label)))
}

/// What starts with the window and reports later: completing the window's own recordings that
/// a crash cut short, and opening the point history.
fn start_background(engine: &crate::engine::EngineHandle, settings: &Settings) -> Vec<std::sync::mpsc::Receiver<Vec<crate::engine::notice::NoticeText>>> {
    let recordings = crate::ui::recording::recordings_folder(settings).filter(|d| d.is_dir()).map(crate::ui::recording::recover_at_start);
    recordings.into_iter().chain(crate::ui::history::open_at_start(engine.clone(), settings)).collect()
}

/// Runs the window until it is closed.
pub fn run(args: GuiArgs) -> ExitCode {
    let link = match command_line_link(&args) {
        Ok(link) => link,
        Err(e) => {
            eprintln!("error: {e:#}");
            return ExitCode::from(EXIT_USAGE);
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().thread_name("cems-engine").build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    // The engine, the broker and the sim spawn on the current runtime: keep it entered.
    let _entered = runtime.enter();
    let repaint = RepaintSignal::default();
    let notify = repaint.clone();
    let (engine, events) = match Engine::spawn_with(EngineConfig::default(), move || notify.request()) {
        Ok(engine) => engine,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    let handle = runtime.handle().clone();
    let options = eframe::NativeOptions {
        viewport: egui::ViewportBuilder::default()
            .with_title("CEMS Workbench")
            .with_app_id(APP_ID)
            .with_inner_size([1280.0, 800.0])
            .with_min_inner_size([800.0, 500.0]),
        renderer: eframe::Renderer::Glow,
        persist_window: true,
        // Our own CJK subset covers what we show; the same rendering on every machine.
        system_font_fallback: false,
        ..eframe::NativeOptions::default()
    };
    let shutdown = engine.clone();
    let result = eframe::run_native(
        APP_ID,
        options,
        Box::new(move |cc| {
            repaint.set(&cc.egui_ctx);
            let settings = Settings::load(cc.storage);
            // Before the first frame: a handful of small files; later reloads run on a thread.
            let dirs = ModelSource::folders_to_read(&settings.models_dir, &args.models.dirs);
            let loaded = load_models(&dirs, user_models_dir().as_deref());
            let local = local_plan(&args, &settings).map(|plan| start_local(&handle, plan, loaded.set.clone(), repaint.clone()));
            // A first start shows the demo's live chart at once; so does a layout asked for.
            let show_plots = args.layout.is_some() || (settings.plot_layout.is_none() && local.is_some());
            let startup = Startup {
                link,
                local,
                models: ModelSource::from_loaded(&loaded),
                model_dirs: args.models.dirs.clone(),
                layout: args.layout.clone(),
                show_plots: show_plots && args.edit.is_none(),
                edit: args.edit.clone(),
                background: start_background(&engine, &settings),
            };
            Ok(Box::new(WorkbenchApp::new(&cc.egui_ctx, engine, events, loaded.set, settings, startup)))
        }),
    );
    shutdown.shutdown();
    // Links, the sim and rumqttd's relay get a moment to say goodbye, not more.
    drop(_entered);
    runtime.shutdown_timeout(Duration::from_secs(1));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: cannot open the workbench window: {e}");
            eprintln!("(a display is needed: set DISPLAY or WAYLAND_DISPLAY; the command-line tools work without one, see --help)");
            ExitCode::from(EXIT_WINDOW)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ui::local::DEFAULT_LISTEN;

    #[test]
    fn a_link_or_no_demo_means_nothing_local() {
        let settings = Settings::default();
        let plain = GuiArgs::default();
        assert_eq!(local_plan(&plain, &settings), Some(LocalPlan { listen: DEFAULT_LISTEN, demo: true, devices_file: None, tls_dir: None }));
        let no_demo = GuiArgs { no_demo: true, ..GuiArgs::default() };
        assert_eq!(local_plan(&no_demo, &settings), None);
        let mut with_link = GuiArgs::default();
        with_link.link.broker = Some("mqtt://10.0.0.2".into());
        assert_eq!(local_plan(&with_link, &settings), None);
        let broker_only = Settings { start_demo: false, ..Settings::default() };
        assert_eq!(local_plan(&plain, &broker_only), Some(LocalPlan { listen: DEFAULT_LISTEN, demo: false, devices_file: None, tls_dir: None }));
        let nothing = Settings { start_broker: false, ..Settings::default() };
        assert_eq!(local_plan(&plain, &nothing), None);
    }
}
