//! Issue 16, metric maps in the model editor: a map file opens in its own form (not the product
//! model's sections), a range set backwards is a problem with its path, a metric is added, and
//! the save writes a map the station page reads; "New model" offers a metric map template.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use cems_workbench::config::storage::read_metric_map;
use cems_workbench::engine::{Engine, EngineConfig};
use cems_workbench::protocol::model::{Lang, ModelSet};
use cems_workbench::ui::app::{Startup, WorkbenchApp};
use cems_workbench::ui::file_dialog::turn_dialogs_off;
use cems_workbench::ui::repaint::RepaintSignal;
use cems_workbench::ui::settings::Settings;
use egui::accesskit::Role;
use egui_kittest::Harness;
use egui_kittest::kittest::{NodeT, Queryable};

const MAP: &str = r#"{
  "name": "site-7",
  "metrics": {
    "SOC": { "en": "State of charge", "zh": "荷电状态", "unit": "%", "min": 0, "max": 100 }
  }
}
"#;

fn app(rt: &tokio::runtime::Runtime, edit: Option<PathBuf>) -> Harness<'static, WorkbenchApp> {
    turn_dialogs_off(true);
    let _entered = rt.enter();
    let repaint = RepaintSignal::default();
    let notify = repaint.clone();
    let (engine, events) = Engine::spawn_with(EngineConfig::default(), move || notify.request()).expect("engine");
    let settings = Settings { lang: Lang::En, plot_layout: Some(Default::default()), ..Settings::default() };
    Harness::builder().with_size(egui::vec2(1600.0, 1000.0)).build_eframe(move |cc| {
        repaint.set(&cc.egui_ctx);
        let startup = Startup { edit, ..Startup::default() };
        WorkbenchApp::new(&cc.egui_ctx, engine, events, ModelSet::builtin(), settings, startup)
    })
}

fn run_until(h: &mut Harness<'static, WorkbenchApp>, what: &str, done: impl Fn(&Harness<'static, WorkbenchApp>) -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        h.run_steps(2);
        if done(h) {
            return;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(30));
    }
}

fn click_last(h: &mut Harness<'static, WorkbenchApp>, role: Role, label: &str) {
    h.query_all_by_role_and_label(role, label).last().unwrap_or_else(|| panic!("no {label:?}")).click();
    h.run_steps(3);
}

fn opened(h: &mut Harness<'static, WorkbenchApp>, path: &Path) {
    run_until(h, "the map opened", |h| h.state().editor().active_doc().is_some_and(|d| d.path.as_deref() == Some(path)));
}

#[test]
fn a_metric_map_is_edited_in_its_own_form_checked_and_saved() {
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().worker_threads(2).build().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("site-7-metrics.json");
    std::fs::write(&path, MAP).unwrap();
    let mut h = app(&rt, Some(path.clone()));
    opened(&mut h, &path);
    assert!(h.state().editor().active_doc().unwrap().is_metric_map());
    assert!(h.query_by_label("Metric map (energy storage)").is_some(), "the map's own form");
    assert!(h.query_by_label("Points").is_none(), "no product-model sections");
    assert!(h.query_by_label_contains("No problems").is_some());

    // A range set backwards: a problem at the metric's path.
    h.get_by_role_and_label(Role::TextInput, "Min").set_text_value_accesskit("120");
    h.run_steps(3);
    assert!(h.query_all_by_label_contains("$.metrics.SOC").next().is_some(), "the problem names the metric");
    h.get_by_role_and_label(Role::TextInput, "Min").set_text_value_accesskit("5");
    h.run_steps(3);
    assert!(h.query_by_label_contains("No problems").is_some());

    // A metric added, named, saved: the page's reader takes the file.
    click_last(&mut h, Role::Button, "+ Add metric");
    let value = h.state().editor().active_doc().unwrap().value().clone();
    assert!(value["metrics"].get("metric_1").is_some(), "{value}");
    h.query_all_by_role_and_label(Role::TextInput, "Name (English)").last().unwrap().set_text_value_accesskit("Rack power");
    h.run_steps(3);
    h.get_all_by_role_and_label(Role::Button, "Save").next().unwrap().click();
    h.run_steps(3);
    click_last(&mut h, Role::Button, "Save");
    run_until(&mut h, "saved", |h| h.state().editor().active_doc().is_some_and(|d| !d.is_dirty()));
    let map = read_metric_map(Some(&path)).unwrap();
    assert_eq!(map.lookup("SOC").unwrap().min, Some(5.0));
    assert_eq!(map.lookup("metric_1").unwrap().en, "Rack power");
    // Import, export and simulate are a product model's.
    assert!(h.get_by_label("Import table…").accesskit_node().is_disabled());
    assert!(h.get_by_label("▶ Simulate").accesskit_node().is_disabled());

    // A new map from the template is valid as it stands.
    h.get_by_label("New model").click();
    h.run_steps(2);
    click_last(&mut h, Role::Button, "Metric map (energy storage)");
    let doc = h.state().editor().active_doc().unwrap();
    assert!(doc.is_metric_map() && doc.errors().is_empty(), "{:?}", doc.errors());
}
