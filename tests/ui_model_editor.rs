//! The model editor in the whole window under egui_kittest: `--edit` opens a file; a point is
//! added, broken, found through the problem list, fixed, undone and redone; the save shows its
//! diff and keeps the file's formatting; closing with unsaved changes asks first; "Simulate"
//! brings a gateway online that reports the new point, and a save restarts it with the next one.

use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use cems_workbench::engine::{Engine, EngineConfig};
use cems_workbench::protocol::model::{Lang, ModelSet};
use cems_workbench::ui::app::{Startup, Tab, WorkbenchApp};
use cems_workbench::ui::file_dialog::turn_dialogs_off;
use cems_workbench::ui::local::{LocalPlan, start_local};
use cems_workbench::ui::model_editor::simulate::{CARRIER_PK, SIM_DEV};
use cems_workbench::ui::repaint::RepaintSignal;
use cems_workbench::ui::settings::Settings;
use egui::accesskit::Role;
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use serde_json::Value;

/// A small device model written the way people write by hand: 4-space indent, one-line items.
const MODEL: &str = r#"{
    "modelVersion": "1.0",
    "productKey": "PK-EDIT-T",
    "kind": "device",
    "category": "meter",
    "name": {"zh": "测试表", "en": "Test meter"},
    "points": [
        {"id": "Ua", "name": {"zh": "A相电压", "en": "Phase A voltage"}, "kind": "analog", "type": "float", "unit": "V", "min": 0, "max": 300.0}
    ],
    "x-vendor": {"sheet": "v3"}
}
"#;

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread().enable_all().worker_threads(2).build().expect("test runtime")
}

fn model_file(dir: &Path) -> PathBuf {
    let path = dir.join("test-meter.json");
    std::fs::write(&path, MODEL).expect("write the model");
    path
}

/// The window opened with `gui --edit FILE`, with the embedded broker (no demo) when `local`.
fn app(rt: &tokio::runtime::Runtime, lang: Lang, edit: Option<PathBuf>, local: bool) -> Harness<'static, WorkbenchApp> {
    turn_dialogs_off(true);
    let _entered = rt.enter();
    let repaint = RepaintSignal::default();
    let notify = repaint.clone();
    let (engine, events) = Engine::spawn_with(EngineConfig::default(), move || notify.request()).expect("engine");
    let models = ModelSet::builtin();
    let plan = LocalPlan { listen: SocketAddr::from((Ipv4Addr::LOCALHOST, 0)), demo: false, devices_file: None, tls_dir: None };
    let local = local.then(|| start_local(rt.handle(), plan, models.clone(), repaint.clone()));
    let settings = Settings { lang, plot_layout: Some(Default::default()), ..Settings::default() };
    Harness::builder().with_size(egui::vec2(1600.0, 1000.0)).build_eframe(move |cc| {
        repaint.set(&cc.egui_ctx);
        let startup = Startup { local, edit, ..Startup::default() };
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

fn doc_value(h: &Harness<'static, WorkbenchApp>) -> Value {
    h.state().editor().active_doc().map(|d| d.value().clone()).unwrap_or(Value::Null)
}

fn point_ids(h: &Harness<'static, WorkbenchApp>) -> Vec<String> {
    doc_value(h)["points"].as_array().map(|a| a.iter().filter_map(|p| p["id"].as_str().map(str::to_owned)).collect()).unwrap_or_default()
}

fn click_last(h: &mut Harness<'static, WorkbenchApp>, role: Role, label: &str) {
    h.query_all_by_role_and_label(role, label).last().unwrap_or_else(|| panic!("no {label:?}")).click();
    h.run_steps(3);
}

fn open_points(h: &mut Harness<'static, WorkbenchApp>, path: &Path) {
    run_until(h, Duration::from_secs(10), "the file opened", |h| h.state().editor().active_doc().is_some_and(|d| d.path.as_deref() == Some(path)));
    assert_eq!(*h.state().active_tab(), Tab::Models);
    h.get_by_label("Points").click();
    h.run_steps(3);
}

/// Adds a point with the form's "Add" button; the new point's id.
fn add_point(h: &mut Harness<'static, WorkbenchApp>) -> String {
    let before = point_ids(h).len();
    click_last(h, Role::Button, "➕ Add");
    let ids = point_ids(h);
    assert_eq!(ids.len(), before + 1, "one point more: {ids:?}");
    ids.last().cloned().unwrap_or_default()
}

fn save_and_confirm(h: &mut Harness<'static, WorkbenchApp>, path: &Path) -> String {
    let before = std::fs::read_to_string(path).unwrap_or_default();
    h.get_all_by_role_and_label(Role::Button, "Save").next().expect("Save").click();
    h.run_steps(3);
    assert!(h.query_by_label("Save changes?").is_some(), "the diff is shown before saving");
    click_last(h, Role::Button, "Save");
    run_until(h, Duration::from_secs(10), "the file written", |h| h.state().editor().active_doc().is_some_and(|d| !d.is_dirty()));
    let after = std::fs::read_to_string(path).expect("saved file");
    assert_ne!(before, after);
    after
}

#[test]
fn a_point_is_added_broken_found_fixed_undone_and_saved_keeping_the_file_layout() {
    let rt = runtime();
    let dir = tempfile::tempdir().expect("dir");
    let path = model_file(dir.path());
    let mut h = app(&rt, Lang::En, Some(path.clone()), false);
    open_points(&mut h, &path);
    assert!(h.query_by_label_contains("No problems").is_some());

    let id = add_point(&mut h);
    assert!(h.state().editor().active_doc().is_some_and(|d| d.is_dirty() && d.raw_text().contains(&format!("\"{id}\""))), "the raw JSON follows");

    // Break the new point's minimum: the problem is listed with its path.
    let mins: Vec<_> = h.query_all_by_role_and_label(Role::TextInput, "Min").collect();
    assert_eq!(mins.len(), 2, "a Min per point row");
    mins[1].set_text_value_accesskit("abc");
    drop(mins);
    h.run_steps(3);
    assert_eq!(doc_value(&h)["points"][1]["min"], "abc");
    assert!(h.query_all_by_label_contains("$.points[1].min").next().is_some(), "the problem names its JSON path");
    h.get_all_by_label_contains("$.points[1].min").next().expect("problem row").click();
    h.run_steps(3);
    assert_eq!(h.state().editor().active_doc().map(|d| d.section), Some(cems_workbench::ui::model_editor::forms::Section::Points));

    // Fix it: no problem left.
    h.query_all_by_role_and_label(Role::TextInput, "Min").nth(1).expect("min").set_text_value_accesskit("5");
    h.run_steps(3);
    assert_eq!(doc_value(&h)["points"][1]["min"], 5);
    assert!(h.query_by_label_contains("No problems").is_some());

    // Typing in one field is one step: undo takes the min away, then the point.
    click_last(&mut h, Role::Button, "↶ Undo");
    assert_eq!(point_ids(&h).len(), 2);
    assert!(doc_value(&h)["points"][1].get("min").is_none());
    click_last(&mut h, Role::Button, "↶ Undo");
    assert_eq!(point_ids(&h), ["Ua"]);
    assert!(h.state().editor().active_doc().is_some_and(|d| !d.is_dirty()), "back to the file as opened");
    click_last(&mut h, Role::Button, "↷ Redo");
    click_last(&mut h, Role::Button, "↷ Redo");
    assert_eq!(doc_value(&h)["points"][1]["min"], 5);

    let saved = save_and_confirm(&mut h, &path);
    let value: Value = serde_json::from_str(&saved).expect("saved JSON");
    assert_eq!(value, doc_value(&h));
    // What was not edited keeps its bytes: the 4-space header, the one-line point, `300.0`, x-vendor.
    let old_lines: Vec<&str> = MODEL.lines().collect();
    let new_lines: Vec<&str> = saved.lines().collect();
    assert_eq!(new_lines[..7], old_lines[..7]);
    assert!(new_lines.iter().any(|l| l.trim_start().starts_with("{\"id\": \"Ua\"") && l.contains("\"max\": 300.0}")), "{saved}");
    assert!(new_lines.iter().any(|l| l.starts_with("        {\"id\": \"") && l.contains(&id)), "the new point on one line like its sibling:\n{saved}");
    assert_eq!(new_lines.last(), Some(&"}"));
    assert!(saved.contains("\"x-vendor\": {\"sheet\": \"v3\"}"));
    assert!(h.state().settings().recent_models.first().is_some_and(|p| Path::new(p) == path), "saved files are recent");
}

#[test]
fn closing_a_tab_with_unsaved_changes_asks_first() {
    let rt = runtime();
    let dir = tempfile::tempdir().expect("dir");
    let path = model_file(dir.path());
    let mut h = app(&rt, Lang::En, Some(path.clone()), false);
    open_points(&mut h, &path);
    add_point(&mut h);
    h.get_by_label("Close test-meter.json").click();
    h.run_steps(3);
    assert!(h.query_by_label("Unsaved changes").is_some());
    click_last(&mut h, Role::Button, "Keep editing");
    assert_eq!(h.state().editor().docs().count(), 1);
    assert_eq!(h.state().editor().unsaved(), ["test-meter.json"]);
    // Closing the window asks too (eframe's close request lands in may_quit).
    assert!(!h.state_mut().editor_mut().may_quit());
    h.run_steps(3);
    assert!(h.query_by_label("These models have changes that are not saved:").is_some());
    click_last(&mut h, Role::Button, "Keep editing");
    assert_eq!(h.state().editor().docs().count(), 1);

    h.get_by_label("Close test-meter.json").click();
    h.run_steps(3);
    click_last(&mut h, Role::Button, "Close without saving");
    assert_eq!(h.state().editor().docs().count(), 0);
    assert_eq!(std::fs::read_to_string(&path).unwrap_or_default(), MODEL, "nothing written");

    // A template opens as a new, unsaved model that validates.
    h.state_mut().editor_mut().new_from_template("meter");
    h.run_steps(3);
    let doc = h.state().editor().active_doc().expect("template");
    assert!(doc.path.is_none() && doc.is_dirty() && doc.errors().is_empty(), "{:?}", doc.errors());
}

/// The point ids the engine has seen reported by the simulated carrier's sub-device.
fn reported_points(h: &Harness<'static, WorkbenchApp>) -> Vec<String> {
    let gateways = h.state().engine().state.gateways();
    let key = cems_workbench::engine::GatewayKey { pk: CARRIER_PK.into(), dev: SIM_DEV.into() };
    gateways.get(&key).map(|g| g.subs.values().flat_map(|s| s.points.keys().cloned()).collect()).unwrap_or_default()
}

#[test]
fn simulate_this_model_reports_the_new_point_and_a_save_restarts_it() {
    let rt = runtime();
    let dir = tempfile::tempdir().expect("dir");
    let path = model_file(dir.path());
    let mut h = app(&rt, Lang::En, Some(path.clone()), true);
    run_until(&mut h, Duration::from_secs(20), "the embedded broker", |h| h.state().broker_addr().is_some() && !h.state().sessions().is_empty());
    open_points(&mut h, &path);
    let first = add_point(&mut h);
    save_and_confirm(&mut h, &path);

    click_last(&mut h, Role::Button, "▶ Simulate");
    let key = cems_workbench::engine::GatewayKey { pk: CARRIER_PK.into(), dev: SIM_DEV.into() };
    assert!(h.state().device_pages().iter().any(|p| *p.key() == key), "its device page opens");
    run_until(&mut h, Duration::from_secs(40), "the simulated gateway reporting the new point", |h| reported_points(h).contains(&first));

    // Edit, save: the simulator restarts with the new model.
    h.get_by_label("Model editor").click();
    h.run_steps(3);
    let second = add_point(&mut h);
    save_and_confirm(&mut h, &path);
    run_until(&mut h, Duration::from_secs(40), "the restarted simulator reporting the next point", |h| reported_points(h).contains(&second));
    // The window decodes with the edited model: the device page names the point.
    let models = h.state().models();
    assert!(models.get("PK-EDIT-T").is_some_and(|m| m.model().point(&second).is_some()));
}

#[test]
fn the_editor_speaks_chinese() {
    let rt = runtime();
    let mut h = app(&rt, Lang::Zh, None, false);
    h.run_steps(3);
    h.get_by_label("模型编辑器").click();
    h.run_steps(3);
    assert!(h.query_by_label("新建模型").is_some());
    h.state_mut().editor_mut().new_from_template("pcs");
    h.run_steps(3);
    assert!(h.query_by_label("原始 JSON").is_some());
    assert!(h.query_by_label_contains("没有问题").is_some(), "a template is valid");
}

#[test]
fn a_section_exports_as_a_point_table() {
    let rt = runtime();
    let dir = tempfile::tempdir().expect("dir");
    let path = model_file(dir.path());
    let table = dir.path().join("points.csv");
    let mut h = app(&rt, Lang::En, Some(path.clone()), false);
    open_points(&mut h, &path);
    h.get_by_label("Export table…").click();
    h.run_steps(3);
    let field = h.get_by_role_and_label(Role::TextInput, "Export table to (.csv or .xlsx)");
    field.set_text_value_accesskit(&table.display().to_string());
    h.run_steps(2);
    click_last(&mut h, Role::Button, "Export");
    let said = format!("Exported the table to {}", table.display());
    run_until(&mut h, Duration::from_secs(10), "the table written", |h| h.query_by_label(&said).is_some());
    let text = std::fs::read_to_string(&table).expect("the table");
    assert!(text.lines().count() == 2 && text.contains("Ua") && text.contains("A相电压"), "{text}");
}
