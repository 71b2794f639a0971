//! Vendor extensions (`x-*` keys) on list items: accepted by the schema, carried by the typed
//! model, kept by `replace_model`; other unknown keys still refused.

use serde_json::{Value, json};

use super::*;

fn meter_model() -> Value {
    serde_json::from_str(include_str!("../../../product-models/power-meter-3p.json")).unwrap()
}

fn parse(value: &Value) -> Result<ModelDocument, Vec<ModelError>> {
    ModelDocument::parse("f.json", &serde_json::to_string_pretty(value).unwrap())
}

#[test]
fn a_point_keeps_x_modbus_beside_its_spec() {
    let mut v = meter_model();
    v["points"][0]["x-modbus"] = json!({"address": 40001, "scale": 0.1});
    let mut doc = parse(&v).unwrap();
    let point = doc.model().point("Ua").unwrap().clone();
    assert_eq!(point.extensions.get("x-modbus"), Some(&json!({"address": 40001, "scale": 0.1})));
    assert_eq!(point.extensions.len(), 1);
    // The flattened spec still took its own keys.
    assert_eq!(point.spec.value_type, ValueType::Float);
    assert_eq!((point.spec.min, point.spec.max, point.spec.unit.as_deref()), (Some(0.0), Some(500.0), Some("V")));
    assert_eq!(point.period, Some(5.0));

    let model = doc.model().clone();
    doc.replace_model(&model).unwrap();
    assert_eq!(doc.value()["points"][0]["x-modbus"]["address"], json!(40001));
    let reparsed = ModelDocument::parse("f.json", &doc.to_text()).unwrap();
    assert_eq!(reparsed.model(), doc.model());
}

#[test]
fn every_item_kind_takes_x_keys() {
    let mut v: Value = serde_json::from_str(include_str!("../../../product-models/energy-gateway.json")).unwrap();
    v["ports"][0]["x-wiring"] = json!("A/B");
    v["properties"][0]["x-modbus"] = json!({"address": 1});
    v["points"][0]["x-modbus"] = json!({"address": 2});
    v["commands"][0]["x-code"] = json!(7);
    v["commands"][0]["params"][0]["x-note"] = json!("s");
    v["commands"][1]["output"][0]["x-note"] = json!("n");
    v["alarms"][0]["x-code"] = json!(42);
    let mut m = meter_model();
    m["meters"][0]["x-modbus"] = json!({"address": 3});
    let doc = parse(&v).unwrap_or_else(|e| panic!("{e:?}"));
    let model = doc.model();
    assert_eq!(model.ports[0].extensions["x-wiring"], json!("A/B"));
    assert_eq!(model.properties[0].extensions["x-modbus"], json!({"address": 1}));
    assert_eq!(model.commands[0].extensions["x-code"], json!(7));
    assert_eq!(model.alarms[0].extensions["x-code"], json!(42));
    assert_eq!(model.commands[0].params[0].extensions["x-note"], json!("s"));
    assert_eq!(model.commands[0].params[0].spec.value_type, ValueType::Int, "the spec took its keys");
    assert!(model.points[1].extensions.is_empty(), "no extensions: an empty map");
    let meter = parse(&m).unwrap_or_else(|e| panic!("{e:?}"));
    assert_eq!(meter.model().meters[0].extensions["x-modbus"], json!({"address": 3}));

    // What the typed model carries, a typed edit keeps.
    let mut doc = doc;
    let mut edited = doc.model().clone();
    edited.name.en = Some("renamed".into());
    doc.replace_model(&edited).unwrap();
    for (pointer, expected) in [
        ("/ports/0/x-wiring", json!("A/B")),
        ("/properties/0/x-modbus/address", json!(1)),
        ("/points/0/x-modbus/address", json!(2)),
        ("/commands/0/x-code", json!(7)),
        ("/alarms/0/x-code", json!(42)),
        ("/commands/0/params/0/x-note", json!("s")),
        ("/commands/1/output/0/x-note", json!("n")),
    ] {
        assert_eq!(doc.value().pointer(pointer), Some(&expected), "{pointer}");
    }
}

#[test]
fn a_non_x_unknown_key_on_an_item_is_still_an_error_with_its_path() {
    for (list, key) in [("points", "modbus"), ("ports", "wiring"), ("alarms", "code"), ("properties", "xmodbus")] {
        let mut v: Value = serde_json::from_str(include_str!("../../../product-models/energy-gateway.json")).unwrap();
        v[list][0][key] = json!(1);
        let errors = parse(&v).unwrap_err();
        let path = format!("$.{list}[0].{key}");
        assert!(errors.iter().any(|e| e.path == path && e.message.contains("unknown key")), "{list}: {errors:?}");
    }
    let mut m = meter_model();
    m["meters"][0]["address"] = json!(1);
    let errors = parse(&m).unwrap_err();
    assert!(errors.iter().any(|e| e.path == "$.meters[0].address"), "{errors:?}");
}
