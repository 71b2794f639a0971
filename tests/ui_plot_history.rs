//! The plots scroll back into the point history (SQLite): samples stored for a time older than
//! what the series holds in memory are drawn when the plot shows that time (paused there, or
//! dragged back to it), counted in the tab's line, and nothing is drawn there without a history.

use std::net::{Ipv4Addr, SocketAddr};
use std::path::Path;
use std::time::{Duration, Instant};

use cems_workbench::engine::history::{HistoryBatch, HistoryDb, HistoryOptions, HistorySource, HistoryWriter, SeriesSamples};
use cems_workbench::engine::series::{Layout, SeriesKey};
use cems_workbench::engine::{Engine, EngineCommand, EngineConfig};
use cems_workbench::protocol::model::{Lang, ModelSet};
use cems_workbench::protocol::time::now_ms;
use cems_workbench::ui::UiCommand;
use cems_workbench::ui::app::{Startup, WorkbenchApp};
use cems_workbench::ui::local::{DEMO_DEV, DEMO_PK, LocalPlan, start_local};
use cems_workbench::ui::repaint::RepaintSignal;
use cems_workbench::ui::settings::Settings;
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;

const MIN: i64 = 60_000;

type App = Harness<'static, WorkbenchApp>;

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread().enable_all().worker_threads(2).build().expect("test runtime")
}

/// The window on a fresh engine, English, no plots yet, no history of its own; with the embedded
/// broker and the demo gateway when `local`.
fn app(rt: &tokio::runtime::Runtime, local: bool) -> App {
    let _entered = rt.enter();
    let repaint = RepaintSignal::default();
    let notify = repaint.clone();
    let (engine, events) = Engine::spawn_with(EngineConfig::default(), move || notify.request()).expect("engine");
    let models = ModelSet::builtin();
    let plan = LocalPlan { listen: SocketAddr::from((Ipv4Addr::LOCALHOST, 0)), demo: true, devices_file: None, tls_dir: None };
    let local = local.then(|| start_local(rt.handle(), plan, models.clone(), repaint.clone()));
    let settings = Settings { lang: Lang::En, plot_layout: Some(Layout::default()), keep_history: false, ..Settings::default() };
    Harness::builder().with_size(egui::vec2(1400.0, 900.0)).build_eframe(move |cc| {
        repaint.set(&cc.egui_ctx);
        let startup = Startup { local, show_plots: true, ..Startup::default() };
        WorkbenchApp::new(&cc.egui_ctx, engine, events, models, settings, startup)
    })
}

fn run_until(harness: &mut App, timeout: Duration, what: &str, done: impl Fn(&App) -> bool) {
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

/// Frames for a while, so a read that was going to land has landed.
fn settle(harness: &mut App) {
    for _ in 0..20 {
        harness.run_steps(2);
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A history file at `path` holding one sample a second of `key` over [from_ms, to_ms).
fn stored_history(path: &Path, key: &SeriesKey, from_ms: i64, to_ms: i64) -> HistoryDb {
    let mut db = HistoryDb::open(path, HistoryOptions::default()).expect("history db");
    let samples = (from_ms..to_ms).step_by(1_000).map(|t| (t, 230.0 + ((t / 1_000) % 5) as f64, 0)).collect();
    let batch = HistoryBatch { series: vec![SeriesSamples { key: key.clone(), source: HistorySource::Report, samples }], ..HistoryBatch::default() };
    db.write(&[batch]).expect("samples written");
    db
}

fn attach(harness: &App, db: HistoryDb) {
    let writer = HistoryWriter::spawn(db).expect("history writer");
    harness.state().engine().send(EngineCommand::AttachHistory(Box::new(writer))).expect("engine running");
}

/// (runs, points) drawn last frame for `key` in the first plot.
fn drawn(harness: &App, key: &SeriesKey) -> (usize, usize) {
    let panel = &harness.state().plots().panels()[0];
    panel.stats().series.iter().find(|(k, _, _)| k == key).map_or((0, 0), |(_, runs, points)| (*runs, *points))
}

fn from_history(harness: &App) -> u64 {
    harness.state().plots().panels()[0].stats().from_history
}

fn ua() -> SeriesKey {
    SeriesKey::point(DEMO_PK, DEMO_DEV, "meter-1", "Ua")
}

/// The demo's live Ua in memory; `with_history`: a history holding Ua for 30…20 min ago. The
/// plot is paused on 35…15 min ago, before anything in memory.
fn paused_before_the_memory(with_history: bool) -> (tokio::runtime::Runtime, App, tempfile::TempDir) {
    let rt = runtime();
    let dir = tempfile::tempdir().expect("temp dir");
    let mut harness = app(&rt, true);
    let now = now_ms();
    if with_history {
        attach(&harness, stored_history(&dir.path().join("history.db"), &ua(), now - 30 * MIN, now - 20 * MIN));
    }
    harness.state_mut().apply(vec![UiCommand::PlotSeries { key: ua(), plot: None }]);
    run_until(&mut harness, Duration::from_secs(30), "live Ua in memory and drawn", |h| drawn(h, &ua()).0 > 0);
    assert_eq!(from_history(&harness), 0, "a 5 min window following live data is all in memory");
    harness.state_mut().plots_mut().panels_mut()[0].pause_on(now - 35 * MIN, now - 15 * MIN);
    harness.run_steps(2);
    assert!(!harness.state().plots().panels()[0].follows());
    (rt, harness, dir)
}

#[test]
fn stored_samples_older_than_the_memory_are_drawn_when_the_plot_shows_their_time() {
    let (_rt, mut harness, _dir) = paused_before_the_memory(true);
    run_until(&mut harness, Duration::from_secs(20), "the stored Ua drawn", |h| drawn(h, &ua()).0 > 0);
    let (runs, points) = drawn(&harness, &ua());
    // Beside the live sample just after the range (off screen, as without a history), one run:
    // ten minutes at a sample a second have no gap.
    assert_eq!(runs, 2);
    let width_px = 1400.0 * harness.ctx.pixels_per_point();
    assert!(points > 100 && (points as f32) <= 2.0 * width_px + 4.0, "{points} points: min and max per column at most");
    // Every stored sample of the range, each once.
    assert_eq!(from_history(&harness), 600);
    assert!(harness.query_by_label_contains("+ 600 from history").is_some(), "the tab's count line says it");

    // Following the last hour: the history fills in before the memory, the memory draws the rest;
    // the live samples the engine writes into the same file are not drawn twice.
    harness.state_mut().plots_mut().panels_mut()[0].reset_view();
    harness.get_by_label("Time window").click();
    harness.run_steps(2);
    harness.get_by_label("1 h").click();
    run_until(&mut harness, Duration::from_secs(20), "an hour drawn from history and memory", |h| {
        h.state().plots().panels()[0].follows() && drawn(h, &ua()).0 >= 2 && from_history(h) == 600
    });
    assert!(harness.state().plots().panels()[0].stats().in_range > 0, "live samples in memory too");
    assert!(harness.state().plots().backfill().problem().is_none());
}

#[test]
fn without_a_history_nothing_is_drawn_before_the_memory() {
    let (_rt, mut harness, _dir) = paused_before_the_memory(false);
    settle(&mut harness);
    let panel = &harness.state().plots().panels()[0];
    assert_eq!(drawn(&harness, &ua()), (1, 1), "only the live sample just after the range (off screen)");
    assert!(!panel.stats().history_wanted, "no history to ask");
    assert_eq!(panel.stats().from_history, 0);
    assert_eq!(harness.state().plots().backfill().in_flight(), 0);
    assert!(harness.query_by_label_contains("from history").is_none());
}

/// Drags the first plot's chart from its left edge `dx` points to the right (back in time).
fn drag_chart(harness: &mut App, dx: f32) {
    // The chart's place, as egui_plot keeps it (the panel's id, its first chart).
    let id = egui::Id::NULL.with(("plot_panel", 1u64)).with(("chart", 0usize));
    let frame = *egui_plot::PlotMemory::load(&harness.ctx, id).expect("the chart drawn").transform().frame();
    assert!(frame.width() > dx + 40.0, "a chart {frame:?} wide enough to drag {dx} points");
    let start = frame.left_center() + egui::vec2(20.0, 0.0);
    harness.hover_at(start);
    harness.run_steps(1);
    harness.drag_at(start);
    harness.run_steps(1);
    for i in 1..=10 {
        harness.hover_at(start + egui::vec2(dx * i as f32 / 10.0, 0.0));
        harness.run_steps(1);
    }
    harness.drop_at(start + egui::vec2(dx, 0.0));
    harness.run_steps(2);
}

#[test]
fn dragging_a_chart_back_past_the_memory_shows_the_stored_samples() {
    let rt = runtime();
    let dir = tempfile::tempdir().expect("temp dir");
    let mut harness = app(&rt, false);
    // No gateway: memory holds nothing of this series, the history 20…6 min ago.
    let key = SeriesKey::point("PK-OLD", "GW-OLD", "meter-1", "Ua");
    let now = now_ms();
    attach(&harness, stored_history(&dir.path().join("history.db"), &key, now - 20 * MIN, now - 6 * MIN));
    harness.state_mut().apply(vec![UiCommand::PlotSeries { key: key.clone(), plot: None }]);
    run_until(&mut harness, Duration::from_secs(10), "the history attached", |h| h.state().plots().panels()[0].stats().history_wanted);
    settle(&mut harness);
    assert_eq!(drawn(&harness, &key), (0, 0), "nothing stored in the last 5 min");
    assert!(harness.state().plots().panels()[0].follows());

    // 900 points of a 5 min chart about 1000 wide: some 4½ min back, past 6 min ago.
    drag_chart(&mut harness, 900.0);
    let panel = &harness.state().plots().panels()[0];
    assert!(!panel.follows(), "a pan pauses the plot");
    let (from, _) = panel.visible_range().expect("a range drawn");
    assert!(from < now - 6 * MIN, "dragged back to {} s ago", (now - from) / 1_000);
    run_until(&mut harness, Duration::from_secs(20), "the stored samples drawn", |h| drawn(h, &key).0 > 0 && from_history(h) > 0);
    // The view keeps still while paused: the read is not repeated every frame.
    settle(&mut harness);
    assert_eq!(harness.state().plots().backfill().in_flight(), 0);
}
