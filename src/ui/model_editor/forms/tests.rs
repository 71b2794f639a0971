//! The forms under egui_kittest: what a user does to a field or a row lands in the document,
//! and a document of the wrong shape or of 50,000 points is drawn without trouble.

use egui::accesskit::Role;
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use serde_json::{Value, json};

use super::{FormCtx, FormEdit, Section, section_ui};
use crate::protocol::model::{Lang, ModelError, validate_value};

struct State {
    doc: Value,
    section: Section,
    errors: Vec<ModelError>,
    focus: Option<String>,
    edits: Vec<FormEdit>,
}

fn harness(doc: Value, section: Section) -> Harness<'static, State> {
    let state = State { doc, section, errors: Vec::new(), focus: None, edits: Vec::new() };
    Harness::builder().with_size(egui::vec2(1600.0, 900.0)).with_context_setup(crate::ui::fonts::install).build_ui_state(
        |ui, s: &mut State| {
            let known = vec!["PK-METER-3P".to_owned(), "PK-PCS-100".to_owned()];
            let cx = FormCtx { lang: Lang::En, focus: s.focus.as_deref(), errors: &s.errors, known_product_keys: &known };
            let edit = section_ui(ui, s.section, &mut s.doc, &cx);
            if edit.changed {
                s.errors = validate_value(&s.doc, "test.json");
                s.edits.push(edit);
            }
        },
        state,
    )
}

fn model() -> Value {
    json!({
        "modelVersion": "1.0",
        "productKey": "PK-T",
        "kind": "device",
        "name": {"zh": "测试", "en": "Test"},
        "points": [
            {"id": "ua", "name": {"zh": "A相电压", "en": "Phase A voltage"}, "kind": "analog", "type": "float", "unit": "V", "min": 0, "max": 300}
        ],
        "commands": [{"id": "reboot", "name": {"zh": "重启", "en": "Reboot"}}],
        "x-notes": {"a": 1}
    })
}

fn click(harness: &mut Harness<'static, State>, role: Role, label: &str) {
    harness.get_by_role_and_label(role, label).click();
    harness.run_steps(2);
}

#[test]
fn sections_are_found_by_path() {
    assert_eq!(Section::of_path("$.points[3].min"), Section::Points);
    assert_eq!(Section::of_path("$.subProducts[0]"), Section::SubProducts);
    assert_eq!(Section::of_path("$.commands[0].params[1].fields[0].type"), Section::Commands);
    assert_eq!(Section::of_path("$"), Section::Identity);
    assert_eq!(Section::of_path("$.name"), Section::Identity);
    assert_eq!(Section::of_path("$[\"x-notes\"]"), Section::Identity);
    assert_eq!(Section::ALL.len(), 8);
}

#[test]
fn a_point_is_added_with_a_unique_id_and_keys_in_order() {
    let mut h = harness(model(), Section::Points);
    h.run_steps(2);
    click(&mut h, Role::Button, "➕ Add");
    let points = h.state().doc["points"].as_array().cloned().unwrap_or_default();
    assert_eq!(points.len(), 2);
    assert_eq!(points[1]["id"], "point_1");
    assert_eq!(h.state().edits.last().map(|e| e.field.clone()), Some(None), "a structural edit");
    assert!(h.state().errors.is_empty(), "a new point is valid: {:?}", h.state().errors);
    let keys: Vec<&String> = h.state().doc.as_object().map(|o| o.keys().collect()).unwrap_or_default();
    assert_eq!(keys, ["modelVersion", "productKey", "kind", "name", "points", "commands", "x-notes"]);
}

#[test]
fn a_bad_number_is_kept_as_typed_and_reported_at_its_path_then_fixed() {
    let mut h = harness(model(), Section::Points);
    h.run_steps(2);
    h.get_by_role_and_label(Role::TextInput, "Min").set_text_value_accesskit("abc");
    h.run_steps(2);
    assert_eq!(h.state().doc["points"][0]["min"], json!("abc"));
    assert!(h.state().errors.iter().any(|e| e.path == "$.points[0].min"), "{:?}", h.state().errors);
    assert_eq!(h.state().edits.last().and_then(|e| e.field.clone()).as_deref(), Some("$.points[0].min"));
    h.get_by_role_and_label(Role::TextInput, "Min").set_text_value_accesskit("-5.5");
    h.run_steps(2);
    assert_eq!(h.state().doc["points"][0]["min"], json!(-5.5));
    assert!(h.state().errors.is_empty(), "{:?}", h.state().errors);
    h.get_by_role_and_label(Role::TextInput, "Min").set_text_value_accesskit("");
    h.run_steps(2);
    assert!(h.state().doc["points"][0].get("min").is_none(), "an emptied optional field removes its key");
}

#[test]
fn rows_are_duplicated_moved_and_removed() {
    let mut h = harness(model(), Section::Points);
    h.run_steps(2);
    click(&mut h, Role::Button, "Duplicate");
    let ids = |h: &Harness<'static, State>| -> Vec<String> {
        h.state().doc["points"].as_array().map(|a| a.iter().map(|p| p["id"].as_str().unwrap_or("?").to_owned()).collect()).unwrap_or_default()
    };
    assert_eq!(ids(&h), ["ua", "ua_copy"]);
    assert_eq!(h.state().doc["points"][1]["unit"], "V", "a copy of the whole point");
    // Rows 0 and 1 each have a "Move up"; only the second is enabled.
    let ups: Vec<_> = h.query_all_by_role_and_label(Role::Button, "Move up").collect();
    assert_eq!(ups.len(), 2);
    ups[1].click();
    drop(ups);
    h.run_steps(2);
    assert_eq!(ids(&h), ["ua_copy", "ua"]);
    if let Some(n) = h.query_all_by_role_and_label(Role::Button, "Remove").next() {
        n.click();
    }
    h.run_steps(2);
    assert_eq!(ids(&h), ["ua"]);
}

#[test]
fn a_nested_command_param_is_added_at_every_level() {
    let mut h = harness(model(), Section::Commands);
    h.run_steps(2);
    // The command's row selects it; its details hold the parameter tree.
    click(&mut h, Role::Button, "0");
    let add_params: Vec<_> = h.query_all_by_role_and_label(Role::Button, "➕ Add parameter").collect();
    assert_eq!(add_params.len(), 2, "params and output");
    add_params[0].click();
    drop(add_params);
    h.run_steps(2);
    assert_eq!(h.state().doc["commands"][0]["params"][0]["id"], "param_1");
    let cmd_keys: Vec<&String> = h.state().doc["commands"][0].as_object().map(|o| o.keys().collect()).unwrap_or_default();
    assert_eq!(cmd_keys, ["id", "name", "params"]);
    // Make it a struct, then give it a field.
    h.state_mut().doc["commands"][0]["params"][0]["type"] = json!("struct");
    h.run_steps(2);
    click(&mut h, Role::Button, "➕ Add field");
    assert_eq!(h.state().doc["commands"][0]["params"][0]["fields"][0]["id"], "param_1");
    h.state_mut().doc["commands"][0]["params"][0]["fields"][0]["type"] = json!("array");
    h.run_steps(2);
    click(&mut h, Role::Button, "➕ Add item type");
    assert_eq!(h.state().doc["commands"][0]["params"][0]["fields"][0]["items"], json!({"type": "int"}));
    let errors = validate_value(&h.state().doc, "t");
    assert!(errors.is_empty(), "{errors:?}");
}

#[test]
fn wrong_shapes_are_named_not_touched() {
    for (doc, section, says) in [
        (json!([1, 2]), Section::Points, "not a JSON object"),
        (json!({"points": "many"}), Section::Points, "`points` is not a list"),
        (json!({"points": [7, {"id": "a", "alarm": 3, "enum": []}]}), Section::Points, "Not an object"),
        (json!({"commands": [{"id": "c", "params": {"x": 1}}]}), Section::Commands, "Parameters"),
        (json!({"ports": [{"id": "p", "params": 5}]}), Section::Ports, "`params` is not an object"),
        (json!({"name": 5, "category": 9, "x-a": null}), Section::Identity, "x-a"),
        (json!({"subProducts": [1, "PK-A"]}), Section::SubProducts, "Not a product key"),
    ] {
        let before = doc.clone();
        let mut h = harness(doc, section);
        h.run_steps(2);
        // Select the second row (if any), so its details are drawn too.
        if let Some(n) = h.query_all_by_role_and_label(Role::Button, "1").next() {
            n.click();
        }
        h.run_steps(2);
        assert!(h.query_all_by_label_contains(says).next().is_some(), "{section:?} of {before} says {says:?}");
        assert_eq!(h.state().doc, before, "left alone");
    }
}

#[test]
fn a_chosen_error_selects_its_row_and_outlines_the_field() {
    let mut doc = model();
    doc["points"][0]["min"] = json!("x");
    let mut h = harness(doc, Section::Points);
    h.state_mut().errors = validate_value(&h.state().doc, "t");
    h.state_mut().focus = Some("$.points[0].min".to_owned());
    h.run_steps(2);
    assert!(h.get_by_role_and_label(Role::TextInput, "Min").is_focused(), "the field at the chosen path has the focus");
    assert!(h.query_by_role_and_label(Role::TextInput, "Max length").is_some(), "the row is selected: its details show");
}

#[test]
fn identity_fields_edit_the_top_level_in_order() {
    let mut h = harness(json!({"modelVersion": "1.0", "productKey": "PK-T", "kind": "device", "name": "测试"}), Section::Identity);
    h.run_steps(2);
    h.get_by_role_and_label(Role::TextInput, "Name (English)").set_text_value_accesskit("Test");
    h.get_by_role_and_label(Role::TextInput, "Model").set_text_value_accesskit("T-1");
    h.run_steps(2);
    assert_eq!(h.state().doc["name"], json!({"zh": "测试", "en": "Test"}), "a plain name becomes both languages");
    click(&mut h, Role::ComboBox, "Category");
    click(&mut h, Role::Button, "meter");
    let keys: Vec<&String> = h.state().doc.as_object().map(|o| o.keys().collect()).unwrap_or_default();
    assert_eq!(keys, ["modelVersion", "productKey", "kind", "category", "name", "model"]);
    assert!(validate_value(&h.state().doc, "t").is_empty());
}

#[test]
fn fifty_thousand_points_draw_a_frame() {
    let points: Vec<Value> = (0..50_000).map(|i| json!({"id": format!("p{i}"), "name": {"zh": "点", "en": "P"}, "kind": "analog", "type": "float"})).collect();
    let mut doc = model();
    doc["points"] = Value::Array(points);
    let mut h = harness(doc, Section::Points);
    h.run_steps(1);
    let ids = h.query_all_by_role_and_label(Role::TextInput, "Id").count();
    assert!(ids > 0 && ids < 200, "only the visible rows are drawn: {ids}");
}

#[test]
fn a_chosen_error_far_down_a_long_table_is_scrolled_to() {
    let points: Vec<Value> = (0..5_000).map(|i| json!({"id": format!("p{i}"), "name": {"zh": "点", "en": "P"}, "kind": "analog", "type": "float"})).collect();
    let mut doc = model();
    doc["points"] = Value::Array(points);
    doc["points"][3000]["max"] = json!("high");
    let mut h = harness(doc, Section::Points);
    h.state_mut().errors = validate_value(&h.state().doc, "t");
    h.run_steps(1);
    h.state_mut().focus = Some("$.points[3000].max".to_owned());
    h.run_steps(2);
    let focused: Vec<_> = h.query_all_by_role_and_label(Role::TextInput, "Max").filter(|n| n.is_focused()).collect();
    assert_eq!(focused.len(), 1, "the field of row 3000 is drawn and focused");
    assert_eq!(focused[0].value().as_deref(), Some("high"));
}

#[test]
fn a_digital_point_gets_state_labels() {
    let mut doc = model();
    doc["points"][0] = json!({"id": "run", "name": "运行", "kind": "digital", "type": "int", "x-modbus": {"address": 7}});
    let mut h = harness(doc, Section::Points);
    h.run_steps(2);
    click(&mut h, Role::Button, "0");
    assert!(h.query_all_by_label_contains("x-modbus").next().is_some(), "x- keys are listed in the details");
    click(&mut h, Role::Button, "➕ Add value");
    click(&mut h, Role::Button, "➕ Add value");
    assert_eq!(h.state().doc["points"][0]["enum"], json!({"0": {"zh": "0", "en": "0"}, "1": {"zh": "1", "en": "1"}}));
    let keys: Vec<&String> = h.state().doc["points"][0].as_object().map(|o| o.keys().collect()).unwrap_or_default();
    assert_eq!(keys, ["id", "name", "kind", "type", "enum", "x-modbus"], "enum before the x- keys");
    let en: Vec<_> = h.query_all_by_role_and_label(Role::TextInput, "Label (English)").collect();
    en[1].set_text_value_accesskit("Running");
    drop(en);
    h.run_steps(2);
    assert_eq!(h.state().doc["points"][0]["enum"]["1"], json!({"zh": "1", "en": "Running"}));
}

#[test]
fn an_alarm_watches_a_point_chosen_from_the_model() {
    let mut doc = model();
    doc["alarms"] = json!([{"id": "ov", "name": "过压", "level": 2}]);
    let mut h = harness(doc, Section::Alarms);
    h.run_steps(2);
    click(&mut h, Role::Button, "▼");
    click(&mut h, Role::Button, "ua");
    assert_eq!(h.state().doc["alarms"][0]["pid"], "ua");
    click(&mut h, Role::ComboBox, "Level");
    click(&mut h, Role::Button, "4");
    assert_eq!(h.state().doc["alarms"][0]["level"], 4);
    assert!(validate_value(&h.state().doc, "t").is_empty());
}

#[test]
fn a_sub_product_is_offered_from_the_known_models() {
    let mut h = harness(json!({"modelVersion": "1.0", "productKey": "PK-GW", "kind": "gateway", "name": "网关"}), Section::SubProducts);
    h.run_steps(2);
    click(&mut h, Role::Button, "➕ Add");
    click(&mut h, Role::Button, "➕ Add");
    assert_eq!(h.state().doc["subProducts"], json!(["PK-METER-3P", "PK-PCS-100"]));
    assert!(validate_value(&h.state().doc, "t").is_empty());
}

#[test]
fn port_settings_edit_the_params_object() {
    let mut h = harness(json!({"modelVersion": "1.0", "productKey": "PK-GW", "kind": "gateway", "name": "网关"}), Section::Ports);
    h.run_steps(2);
    click(&mut h, Role::Button, "➕ Add");
    h.get_by_role_and_label(Role::TextInput, "Baud").set_text_value_accesskit("19200");
    h.run_steps(2);
    click(&mut h, Role::ComboBox, "Stop bits");
    click(&mut h, Role::Button, "2");
    assert_eq!(h.state().doc["ports"][0]["params"], json!({"baud": 19200, "parity": "none", "dataBits": 8, "stopBits": 2}));
    assert!(validate_value(&h.state().doc, "t").is_empty(), "{:?}", validate_value(&h.state().doc, "t"));
}
