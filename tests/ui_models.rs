//! Product models in the window: a folder typed in the settings popup is read on a thread, its
//! models decode at once, and a broken file is listed as a problem instead of stopping anything.

use std::time::{Duration, Instant};

use cems_workbench::engine::{Engine, EngineConfig};
use cems_workbench::protocol::model::{Lang, ModelSet};
use cems_workbench::ui::UiCommand;
use cems_workbench::ui::app::{Startup, WorkbenchApp};
use cems_workbench::ui::repaint::RepaintSignal;
use cems_workbench::ui::settings::Settings;
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;

fn app(rt: &tokio::runtime::Runtime, settings: Settings) -> Harness<'static, WorkbenchApp> {
    let _entered = rt.enter();
    let repaint = RepaintSignal::default();
    let notify = repaint.clone();
    let (engine, events) = Engine::spawn_with(EngineConfig::default(), move || notify.request()).expect("engine");
    Harness::builder().with_size(egui::vec2(1280.0, 800.0)).build_eframe(move |cc| {
        repaint.set(&cc.egui_ctx);
        WorkbenchApp::new(&cc.egui_ctx, engine, events, ModelSet::builtin(), settings, Startup::default())
    })
}

#[test]
fn a_models_folder_from_the_settings_is_loaded_and_its_problems_shown() {
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().worker_threads(1).build().expect("runtime");
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("heat-pump.json"),
        r#"{"modelVersion":"1.0","productKey":"PK-HP-9","kind":"device","category":"x-heat-pump","name":{"zh":"热泵","en":"Heat pump"}}"#,
    )
    .unwrap();
    std::fs::write(dir.path().join("broken.json"), "{\"modelVersion\":").unwrap();
    let settings = Settings { lang: Lang::En, models_dir: dir.path().display().to_string(), ..Settings::default() };
    let mut harness = app(&rt, settings);
    harness.run_steps(2);
    assert!(harness.state().models().get("PK-HP-9").is_none(), "given ModelSet::builtin() at start");

    harness.state_mut().apply(vec![UiCommand::ReloadModels]);
    let deadline = Instant::now() + Duration::from_secs(10);
    while harness.state().models().get("PK-HP-9").is_none() {
        assert!(Instant::now() < deadline, "the reload did not finish");
        harness.run_steps(1);
        std::thread::sleep(Duration::from_millis(10));
    }
    let source = harness.state().model_source();
    assert_eq!(source.problems.len(), 1, "{:?}", source.problems);
    assert!(source.problems[0].contains("broken.json"), "{}", source.problems[0]);
    assert!(harness.state().models().get("PK-GW-01").is_some(), "the bundled examples stay");
    assert!(harness.state().notices().any(|n| n.text.contains("product models loaded")));

    // The popup says what was read and what was wrong.
    harness.get_by_label("Settings").click();
    harness.run_steps(3);
    harness.get_by_label("Product models");
    harness.get_by_label("Problems (1):");
    let folder_line = format!("1 from {}", dir.path().display());
    harness.get_by_label(&folder_line);
}
