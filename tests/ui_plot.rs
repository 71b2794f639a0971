//! The Plots tab in the whole window under egui_kittest: series added by command and removed by
//! the UI, a live demo series drawn (decimated to the chart's width), a layout saved to a typed
//! path and opened again, `--layout` with a bad file, the time window, and the Chinese UI.

use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use cems_workbench::engine::series::{Layout, SeriesKey};
use cems_workbench::engine::{Engine, EngineConfig};
use cems_workbench::protocol::model::{Lang, ModelSet};
use cems_workbench::ui::UiCommand;
use cems_workbench::ui::app::{Startup, Tab, WorkbenchApp};
use cems_workbench::ui::file_dialog::turn_dialogs_off;
use cems_workbench::ui::local::{DEMO_DEV, DEMO_PK, LocalPlan, start_local};
use cems_workbench::ui::repaint::RepaintSignal;
use cems_workbench::ui::settings::Settings;
use egui::accesskit::Role;
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread().enable_all().worker_threads(2).build().expect("test runtime")
}

/// The window on a fresh engine (with the embedded broker and the demo gateway when `local`),
/// starting from `settings` and `layout_file`.
fn app(rt: &tokio::runtime::Runtime, settings: Settings, local: bool, layout_file: Option<PathBuf>) -> Harness<'static, WorkbenchApp> {
    turn_dialogs_off(true);
    let _entered = rt.enter();
    let repaint = RepaintSignal::default();
    let notify = repaint.clone();
    let (engine, events) = Engine::spawn_with(EngineConfig::default(), move || notify.request()).expect("engine");
    let models = ModelSet::builtin();
    let plan = LocalPlan { listen: SocketAddr::from((Ipv4Addr::LOCALHOST, 0)), demo: true, devices_file: None, tls_dir: None };
    let local = local.then(|| start_local(rt.handle(), plan, models.clone(), repaint.clone()));
    Harness::builder().with_size(egui::vec2(1400.0, 900.0)).build_eframe(move |cc| {
        repaint.set(&cc.egui_ctx);
        let startup = Startup { local, layout: layout_file, show_plots: true, ..Startup::default() };
        WorkbenchApp::new(&cc.egui_ctx, engine, events, models, settings, startup)
    })
}

fn run_until(harness: &mut Harness<'static, WorkbenchApp>, timeout: Duration, what: &str, done: impl Fn(&Harness<'static, WorkbenchApp>) -> bool) {
    let deadline = Instant::now() + timeout;
    loop {
        harness.run_steps(2);
        if done(harness) {
            return;
        }
        assert!(Instant::now() < deadline, "timed out after {timeout:?} waiting for {what}");
        std::thread::sleep(Duration::from_millis(30));
    }
}

/// English, and no plots yet.
fn empty_plots() -> Settings {
    Settings { lang: Lang::En, plot_layout: Some(Layout::default()), ..Settings::default() }
}

fn ua() -> SeriesKey {
    SeriesKey::point(DEMO_PK, DEMO_DEV, "meter-1", "Ua")
}

fn type_into(harness: &mut Harness<'static, WorkbenchApp>, label: &str, text: &str) {
    let field = harness.get_by_role_and_label(Role::TextInput, label);
    field.set_text_value_accesskit("");
    harness.run_steps(2);
    let field = harness.get_by_role_and_label(Role::TextInput, label);
    field.focus();
    field.type_text(text);
    harness.run_steps(2);
}

#[test]
fn a_series_is_added_by_command_and_removed_by_its_button() {
    let rt = runtime();
    let mut harness = app(&rt, empty_plots(), false, None);
    harness.run_steps(2);
    assert!(harness.state().plots().panels().is_empty());
    harness.state_mut().apply(vec![UiCommand::PlotSeries { key: ua(), plot: None }]);
    harness.run_steps(3);
    assert_eq!(*harness.state().active_tab(), Tab::Plots);
    let panels = harness.state().plots().panels();
    assert_eq!(panels.len(), 1);
    assert_eq!(panels[0].series, vec![ua()]);
    // The model names it; the layout in the settings follows.
    assert!(harness.query_all_by_label_contains("Phase A voltage [V]").next().is_some());
    let saved = harness.state().settings().plot_layout.clone().expect("persisted");
    assert_eq!(saved.plots[0].series, vec![ua()]);

    // The same series again stays once; "new plot" makes a second panel.
    harness.state_mut().apply(vec![UiCommand::PlotSeries { key: ua(), plot: None }, UiCommand::PlotSeries { key: ua(), plot: Some(usize::MAX) }]);
    harness.run_steps(2);
    assert_eq!(harness.state().plots().panels().len(), 2);
    assert_eq!(harness.state().plots().panels()[0].series.len(), 1);

    harness.get_all_by_label("Remove meter-1 · Phase A voltage [V]").next().expect("the × of the series").click();
    harness.run_steps(3);
    assert!(harness.state().plots().panels()[0].series.is_empty());
    assert!(harness.state().settings().plot_layout.as_ref().is_some_and(|l| l.plots[0].series.is_empty()));
    harness.get_all_by_label("Close plot").next().expect("close").click();
    harness.run_steps(2);
    assert_eq!(harness.state().plots().panels().len(), 1);

    // A path series the engine cannot follow (a filter) is refused with a notice.
    harness.state_mut().apply(vec![UiCommand::PlotSeries { key: SeriesKey::path("a/+/b", "/x"), plot: None }]);
    assert!(harness.state().notices().any(|n| n.text_in(Lang::En).contains("Cannot plot")));
}

#[test]
fn the_demo_layout_draws_live_series_decimated_to_the_chart_width() {
    let rt = runtime();
    let settings = Settings { lang: Lang::En, ..Settings::default() };
    let mut harness = app(&rt, settings, true, None);
    // No saved layout: the demo's plots.
    assert!(harness.state().plots().panels().len() >= 2);
    run_until(&mut harness, Duration::from_secs(30), "the demo's voltages drawn", |h| {
        let panel = &h.state().plots().panels()[0];
        panel.stats().series.iter().any(|(key, runs, points)| *key == ua() && *runs > 0 && *points > 0)
    });
    let panel = &harness.state().plots().panels()[0];
    assert!(panel.follows());
    let width_px = 1400.0 * harness.ctx.pixels_per_point();
    for (key, _, points) in &panel.stats().series {
        assert!((*points as f32) <= 4.0 * width_px + 4.0, "{key}: {points} points for a {width_px} px chart");
    }
    harness.get_all_by_label("⏸ Pause").next().expect("pause").click();
    harness.run_steps(2);
    assert!(!harness.state().plots().panels()[0].follows());
    harness.get_all_by_label("▶ Follow").next().expect("follow").click();
    harness.run_steps(2);
    assert!(harness.state().plots().panels()[0].follows());
}

#[test]
fn the_window_choice_sets_the_time_range() {
    let rt = runtime();
    let mut harness = app(&rt, empty_plots(), false, None);
    harness.state_mut().apply(vec![UiCommand::PlotSeries { key: ua(), plot: None }]);
    harness.run_steps(3);
    let span = |h: &Harness<'static, WorkbenchApp>| h.state().plots().panels()[0].visible_range().map(|(a, b)| b - a);
    assert_eq!(span(&harness), Some(300_000));
    harness.get_by_label("Time window").click();
    harness.run_steps(2);
    harness.get_by_label("1 h").click();
    harness.run_steps(3);
    assert_eq!(span(&harness), Some(3_600_000));
    assert!(harness.state().settings().plot_layout.as_ref().is_some_and(|l| l.plots[0].window.span_ms() == Some(3_600_000)));
}

#[test]
fn a_layout_saved_to_a_typed_path_opens_again() {
    let rt = runtime();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("my-layout.json");
    let mut harness = app(&rt, empty_plots(), false, None);
    harness.state_mut().apply(vec![UiCommand::PlotSeries { key: ua(), plot: None }]);
    harness.run_steps(2);

    harness.get_by_label("Save layout…").click();
    harness.run_steps(2);
    type_into(&mut harness, "Save layout to", &path.display().to_string());
    harness.get_by_role_and_label(Role::Button, "Save").click();
    run_until(&mut harness, Duration::from_secs(10), "the layout written", |_| path.is_file());
    let written = Layout::load(&path).expect("a layout file");
    assert_eq!(written.plots[0].series, vec![ua()]);

    harness.get_by_label("Remove meter-1 · Phase A voltage [V]").click();
    harness.run_steps(2);
    assert!(harness.state().plots().panels()[0].series.is_empty());

    harness.get_by_label("Open layout…").click();
    harness.run_steps(2);
    type_into(&mut harness, "Open layout from", &path.display().to_string());
    harness.get_by_role_and_label(Role::Button, "Open").click();
    run_until(&mut harness, Duration::from_secs(10), "the layout opened", |h| h.state().plots().panels().first().is_some_and(|p| p.series == vec![ua()]));

    // A file that is not a layout: said in the row, the plots stay.
    std::fs::write(&path, "not json").unwrap();
    harness.get_by_label("Open layout…").click();
    harness.run_steps(2);
    type_into(&mut harness, "Open layout from", &path.display().to_string());
    harness.get_by_role_and_label(Role::Button, "Open").click();
    run_until(&mut harness, Duration::from_secs(10), "the error said", |h| h.query_by_label_contains("my-layout.json").is_some() && h.query_by_label_contains("JSON").is_some());
    assert_eq!(harness.state().plots().panels()[0].series, vec![ua()]);
}

#[test]
fn a_bad_layout_file_on_the_command_line_gives_a_notice() {
    let rt = runtime();
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("broken.json");
    std::fs::write(&bad, "{ \"version\": 99, \"plots\": [] }").unwrap();
    let mut harness = app(&rt, empty_plots(), false, Some(bad));
    harness.run_steps(2);
    assert!(harness.state().notices().any(|n| n.text_in(Lang::En).contains("--layout") && n.text_in(Lang::En).contains("broken.json")), "a notice names the file");
    // Also said beside the layout buttons, where a later notice cannot hide it.
    assert!(harness.query_all_by_label_contains("broken.json").count() >= 2, "the status bar and the Plots tab name the file");
    let missing = dir.path().join("missing.json");
    let mut harness = app(&rt, empty_plots(), false, Some(missing));
    harness.run_steps(2);
    assert!(harness.state().notices().any(|n| n.text_in(Lang::En).contains("missing.json")));

    let good = dir.path().join("good.json");
    let layout = cems_workbench::ui::plot::demo_layout();
    layout.save(&good).unwrap();
    let harness = app(&rt, empty_plots(), false, Some(good));
    assert_eq!(harness.state().plots().layout(), layout);
}

#[test]
fn the_plots_tab_speaks_chinese() {
    let rt = runtime();
    let settings = Settings { lang: Lang::Zh, plot_layout: Some(Layout::default()), ..Settings::default() };
    let mut harness = app(&rt, settings, false, None);
    harness.state_mut().apply(vec![UiCommand::PlotSeries { key: ua(), plot: None }]);
    harness.run_steps(3);
    harness.get_by_label("曲线");
    harness.get_by_label("+ 新建曲线图");
    harness.get_by_label("保存布局…");
    harness.get_by_label("导出 CSV…");
    harness.get_by_label("时间窗口");
    harness.get_by_label("⏸ 暂停");
    assert!(harness.query_all_by_label_contains("A相电压 [V]").next().is_some());
    assert!(harness.query_by_label("+ New plot").is_none());
}

#[test]
fn the_visible_range_exports_as_csv_to_a_typed_path() {
    let rt = runtime();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("voltages.csv");
    let settings = Settings { lang: Lang::En, ..Settings::default() };
    let mut harness = app(&rt, settings, true, None);
    run_until(&mut harness, Duration::from_secs(30), "the demo's voltages drawn", |h| {
        h.state().plots().panels()[0].stats().series.iter().any(|(key, runs, _)| *key == ua() && *runs > 0)
    });
    harness.get_all_by_label("Export CSV…").next().expect("the first plot's export").click();
    harness.run_steps(2);
    type_into(&mut harness, "Export CSV to", &path.display().to_string());
    harness.get_by_role_and_label(Role::Button, "Export").click();
    run_until(&mut harness, Duration::from_secs(10), "the CSV written", |h| h.query_by_label_contains("rows to").is_some());
    let text = std::fs::read_to_string(&path).expect("the CSV file");
    let header = text.lines().next().unwrap_or_default();
    assert!(header.starts_with("time,epoch_ms,PK-GW-01/GW-DEMO-01/meter-1/Ua Phase A voltage [V],"), "{header}");
    assert!(text.lines().count() > 1, "rows under the header");

    // A folder that does not exist: said next to the button, no file, no panic.
    let bad = dir.path().join("no-such-folder").join("x.csv");
    harness.get_all_by_label("Export CSV…").next().expect("export").click();
    harness.run_steps(2);
    type_into(&mut harness, "Export CSV to", &bad.display().to_string());
    harness.get_by_role_and_label(Role::Button, "Export").click();
    run_until(&mut harness, Duration::from_secs(10), "the error said", |h| h.query_by_label_contains("no-such-folder").is_some());
    assert!(!bad.exists());
}

/// The screenshot a PNG export asked for in the last frame, if it did.
fn screenshot_request(harness: &Harness<'static, WorkbenchApp>) -> Option<egui::ScreenshotCallback> {
    harness.output().viewport_output.values().flat_map(|v| v.commands.iter()).find_map(|c| match c {
        egui::ViewportCommand::Screenshot(callback) => Some(callback.clone()),
        _ => None,
    })
}

#[test]
fn a_plot_panel_saves_as_a_png_cropped_to_the_panel() {
    let rt = runtime();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("plot.png");
    let mut harness = app(&rt, empty_plots(), false, None);
    harness.state_mut().apply(vec![UiCommand::PlotSeries { key: ua(), plot: None }]);
    harness.run_steps(3);
    harness.get_all_by_label("Save PNG…").next().expect("the plot's PNG button").click();
    harness.run_steps(2);
    type_into(&mut harness, "Save PNG to", &path.display().to_string());
    harness.get_by_role_and_label(Role::Button, "Save").click();
    // Without a renderer the harness cannot take the screenshot: the test answers it with a
    // window-sized picture, as eframe would, and the panel's part of it is written.
    let mut request = None;
    for _ in 0..5 {
        harness.step();
        request = screenshot_request(&harness);
        if request.is_some() {
            break;
        }
    }
    let callback = request.expect("the export asks egui for a screenshot");
    let (w, h) = (1400, 900);
    let mut image = egui::ColorImage::filled([w, h], egui::Color32::from_rgb(10, 20, 30));
    image.pixels[0] = egui::Color32::RED;
    callback.complete(std::sync::Arc::new(image));
    let said = format!("Saved {}", path.display());
    run_until(&mut harness, Duration::from_secs(10), "the PNG written", |h| h.query_by_label(&said).is_some());
    let file = std::fs::File::open(&path).expect("the PNG file");
    let mut reader = png::Decoder::new(std::io::BufReader::new(file)).read_info().expect("a PNG");
    let info = reader.info();
    let (pw, ph) = (info.width as usize, info.height as usize);
    assert!(pw > 100 && ph > 100 && (pw < w || ph < h), "cropped to the panel: {pw}×{ph}");
    let mut pixels = vec![0; reader.output_buffer_size().expect("size")];
    reader.next_frame(&mut pixels).expect("pixels");
    assert_eq!(&pixels[..4], &[10, 20, 30, 255], "the panel's pixels, not the window's corner");
}
