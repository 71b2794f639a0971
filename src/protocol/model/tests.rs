//! Tests of the model module (built only under #[cfg(test)]): examples, every kind of error with
//! its file and path, round trips.

use proptest::prelude::*;
use serde_json::{Value, json};

use super::document::builtin_sources;
use super::*;

fn example(name: &str) -> &'static str {
    builtin_sources()
        .iter()
        .find(|(n, _)| n.ends_with(name))
        .map(|(_, t)| *t)
        .unwrap_or_else(|| panic!("no example {name}"))
}

fn gateway() -> Value {
    serde_json::from_str(example("energy-gateway.json")).unwrap()
}

fn pcs() -> Value {
    serde_json::from_str(example("pcs-100.json")).unwrap()
}

/// Parses `value` as file `f.json` and returns its errors as (path, message).
fn errors_of(value: &Value) -> Vec<(String, String)> {
    let text = serde_json::to_string_pretty(value).unwrap();
    match ModelDocument::parse("f.json", &text) {
        Ok(_) => Vec::new(),
        Err(errors) => {
            assert!(errors.iter().all(|e| e.file == "f.json"), "{errors:?}");
            errors.into_iter().map(|e| (e.path, e.message)).collect()
        }
    }
}

fn paths_of(value: &Value) -> Vec<String> {
    errors_of(value).into_iter().map(|(p, _)| p).collect()
}

#[test]
fn every_example_validates_and_is_stably_formatted() {
    assert_eq!(builtin_sources().len(), 3);
    for (name, text) in builtin_sources() {
        let doc = ModelDocument::parse(name, text).unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(doc.to_text(), *text, "{name}: load → save must be byte-identical");
        let mut pretty = serde_json::to_string_pretty(doc.value()).unwrap();
        pretty.push('\n');
        assert_eq!(&pretty, text, "{name} is not in serde_json's pretty format");
        // Names everywhere in both languages.
        let m = doc.model();
        assert!(m.name.zh.is_some() && m.name.en.is_some(), "{name}");
        for p in &m.points {
            assert!(p.name.zh.is_some() && p.name.en.is_some(), "{name}: {}", p.id);
        }
    }
}

#[test]
fn builtin_examples_form_a_consistent_set() {
    let builtin = ModelSet::builtin();
    assert_eq!(builtin.len(), 3);
    assert!(check_sub_products(builtin.documents()).is_empty());
    let gw = builtin.get("PK-GW-01").unwrap().model();
    assert_eq!(gw.kind, ModelKind::Gateway);
    assert_eq!(gw.sub_products, ["PK-METER-3P", "PK-PCS-100"]);
}

#[test]
fn lookups_and_labels() {
    let set = ModelSet::builtin();
    let pcs = set.get("PK-PCS-100").unwrap().model();
    let run = pcs.point("runState").unwrap();
    assert_eq!(run.kind, PointKind::Digital);
    assert_eq!(run.enum_label(&json!(2), Lang::Zh), Some("放电"));
    assert_eq!(run.enum_label(&json!(2.0), Lang::En), Some("Discharging"));
    assert_eq!(run.enum_label(&json!("3"), Lang::Zh), Some("故障"));
    assert_eq!(run.enum_label(&json!(9), Lang::Zh), None);
    assert_eq!(pcs.point("gridSwitch").unwrap().enum_label(&json!(true), Lang::Zh), Some("合"));
    assert_eq!(pcs.point("Udc").unwrap().enum_label(&json!(1), Lang::Zh), None);
    let pset = pcs.point("Pset").unwrap();
    assert!(pset.writable);
    assert_eq!((pset.spec.min, pset.spec.max), (Some(-100.0), Some(100.0)));
    assert_eq!(pcs.point("SOC").unwrap().alarm, Some(PointAlarm { hi: Some(95.0), lo: Some(10.0), deadband: Some(1.0) }));
    assert!(pcs.command("clearFault").is_some());
    assert!(pcs.meter("EChg").is_some());
    assert_eq!(pcs.alarm("overTemperature").unwrap().pid.as_deref(), Some("cabinetTemp"));
    let schedule = pcs.command("schedule").unwrap().param("slots").unwrap();
    assert_eq!(schedule.spec.value_type, ValueType::Array);
    let item = schedule.items.as_deref().unwrap();
    assert_eq!(item.spec.value_type, ValueType::Struct);
    assert_eq!(item.fields.len(), 2);
    assert!(pcs.point("nope").is_none());

    let gw = set.get("PK-GW-01").unwrap().model();
    let report = gw.property("reportPeriod").unwrap();
    assert_eq!((report.access, report.default.clone()), (Access::Rw, Some(json!(60))));
    assert_eq!(gw.port("COM1").unwrap().params.as_ref().unwrap().baud, Some(9600));
    assert_eq!(gw.property("logLevel").unwrap().spec.enum_labels.as_ref().unwrap().len(), 4);
    let meter = set.get("PK-METER-3P").unwrap().model();
    assert_eq!(meter.point("Ua").unwrap().alarm.as_ref().unwrap().hi, Some(253.0));
    assert_eq!(meter.meters.len(), 4);
}

#[test]
fn localized_text_reads_strings_and_objects_and_falls_back() {
    let plain: LocalizedText = serde_json::from_value(json!("过压")).unwrap();
    assert_eq!(plain, LocalizedText::from("过压"));
    assert_eq!(plain.get(Lang::En), "过压");
    let en_only: LocalizedText = serde_json::from_value(json!({"en": "Over-voltage"})).unwrap();
    assert_eq!(en_only.get(Lang::Zh), "Over-voltage");
    assert_eq!(LocalizedText::default().get(Lang::Zh), "");
    let both = LocalizedText::new("过压", "Over-voltage");
    assert_eq!((both.get(Lang::Zh), both.get(Lang::En)), ("过压", "Over-voltage"));
    assert!(serde_json::from_value::<LocalizedText>(json!({"fr": "x"})).is_err());
    assert!(serde_json::from_value::<LocalizedText>(json!(5)).is_err());
}

#[test]
fn error_display_names_file_path_and_reason() {
    let e = ModelError { file: "a.json".into(), path: "$.points[3].min".into(), message: "bad".into() };
    assert_eq!(e.to_string(), "a.json: $.points[3].min: bad");
}

#[test]
fn duplicate_ids_are_reported_on_the_repeat() {
    let mut v = gateway();
    v["points"][1]["id"] = json!("cpuLoad");
    let errors = errors_of(&v);
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(errors[0].0, "$.points[1].id");
    assert!(errors[0].1.contains("duplicate id \"cpuLoad\"") && errors[0].1.contains("$.points[0]"), "{errors:?}");

    let mut v = pcs();
    v["commands"][1]["params"].as_array_mut().unwrap().push(json!({"id": "mode", "type": "int"}));
    v["commands"][3]["params"][0]["items"]["fields"][1]["id"] = json!("start");
    assert_eq!(
        paths_of(&v),
        ["$.commands[1].params[1].id", "$.commands[3].params[0].items.fields[1].id"]
    );
}

#[test]
fn min_greater_than_max_and_default_out_of_range() {
    let mut v = gateway();
    v["points"][0]["min"] = json!(200);
    v["properties"][0]["default"] = json!(5000);
    let errors = errors_of(&v);
    assert_eq!(errors.len(), 2, "{errors:?}");
    assert_eq!(errors[0].0, "$.properties[0].default");
    assert!(errors[0].1.contains("outside 1..3600"), "{errors:?}");
    assert_eq!(errors[1].0, "$.points[0].min");
    assert!(errors[1].1.contains("greater than max"), "{errors:?}");
}

#[test]
fn unknown_keys_name_their_path_but_x_keys_are_fine() {
    let mut v = gateway();
    v["points"][0]["colour"] = json!("red");
    v["colour"] = json!(1);
    v["x-anything"] = json!({"free": true});
    let mut paths = paths_of(&v);
    paths.sort();
    assert_eq!(paths, ["$.colour", "$.points[0].colour"]);
    let errors = errors_of(&v);
    assert!(errors.iter().all(|(_, m)| m.contains("unknown key")), "{errors:?}");
}

#[test]
fn wrong_type_is_reported_once() {
    let mut v = gateway();
    v["points"][0]["min"] = json!("zero");
    let errors = errors_of(&v);
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(errors[0].0, "$.points[0].min");

    let mut v = gateway();
    v["points"][4]["kind"] = json!("binary"); // was digital; enum checks must not pile up
    v["properties"][4]["type"] = json!(7);
    let mut paths = paths_of(&v);
    paths.sort();
    assert_eq!(paths, ["$.points[4].kind", "$.properties[4].type"]);
}

#[test]
fn malformed_json_gives_one_error_with_position() {
    let err = ModelDocument::parse("bad.json", "{\n  \"modelVersion\": \"1.0\",\n  oops\n}\n").unwrap_err();
    assert_eq!(err.len(), 1);
    assert_eq!((err[0].file.as_str(), err[0].path.as_str()), ("bad.json", "$"));
    assert!(err[0].message.contains("line 3, column 3"), "{}", err[0].message);
    assert!(!ModelDocument::parse("e.json", "").unwrap_err()[0].message.is_empty());
    let not_object = ModelDocument::parse("a.json", "[1, 2]").unwrap_err();
    assert_eq!(not_object[0].path, "$");
}

#[test]
fn missing_sub_product_names_file_and_index() {
    let gw = ModelDocument::parse("gw.json", example("energy-gateway.json")).unwrap();
    let meter = ModelDocument::parse("m.json", example("power-meter-3p.json")).unwrap();
    let errors = check_sub_products(&[gw, meter]);
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(errors[0].to_string(), "gw.json: $.subProducts[1]: no model with product key \"PK-PCS-100\" is loaded");
}

#[test]
fn semantic_rules() {
    // Digital point without states, and with non-integer state keys.
    let mut v = pcs();
    v["points"][5].as_object_mut().unwrap().remove("enum");
    v["points"][8]["enum"] = json!({"off": "分", "1": "合"});
    assert_eq!(paths_of(&v), ["$.points[5]", "$.points[8].enum.off"]);

    // enum-typed property without values; alarm lo not below hi.
    let mut v = gateway();
    v["properties"][4].as_object_mut().unwrap().remove("enum");
    v["points"][2]["alarm"]["lo"] = json!(90);
    let errors = errors_of(&v);
    assert_eq!(errors.iter().map(|e| e.0.as_str()).collect::<Vec<_>>(), ["$.properties[4]", "$.points[2].alarm.lo"]);

    // subProducts on a device; alarm watching an unknown point; kind/type mismatch.
    let mut v = pcs();
    v["subProducts"] = json!(["PK-X"]);
    v["alarms"][0]["pid"] = json!("nope");
    v["points"][0]["type"] = json!("string");
    v["points"][0].as_object_mut().unwrap().retain(|k, _| !matches!(k.as_str(), "min" | "max"));
    let mut paths = paths_of(&v);
    paths.sort();
    assert_eq!(paths, ["$.alarms[0].pid", "$.points[0].type", "$.subProducts"]);

    // Defaults of the wrong type or not among the enum keys.
    let mut v = gateway();
    v["properties"][4]["default"] = json!("verbose");
    v["commands"][2]["params"][0]["default"] = json!("yes");
    assert_eq!(paths_of(&v), ["$.properties[4].default", "$.commands[2].params[0].default"]);
}

#[test]
fn ids_follow_the_contract_charsets() {
    let mut v = gateway();
    v["productKey"] = json!("PK/GW");
    v["points"][0]["id"] = json!("cpu.load");
    v["subProducts"][0] = json!("PK METER");
    let errors = errors_of(&v);
    let paths: Vec<&str> = errors.iter().map(|e| e.0.as_str()).collect();
    assert!(paths.contains(&"$.productKey") && paths.contains(&"$.points[0].id") && paths.contains(&"$.subProducts[0]"), "{errors:?}");
    assert!(errors.iter().any(|e| e.1.contains("contains '.'")), "{errors:?}");

    let mut v = gateway();
    v.as_object_mut().unwrap().remove("name");
    assert_eq!(errors_of(&v), [("$".to_owned(), "missing required key \"name\"".to_owned())]);
}

#[test]
fn x_vendor_keys_survive_load_and_edit() {
    let mut doc = ModelDocument::parse("gw.json", example("energy-gateway.json")).unwrap();
    assert!(doc.model().extensions.contains_key("x-vendor-notes"));
    let mut model = doc.model().clone();
    model.name.en = Some("Energy gateway II".into());
    doc.replace_model(&model).unwrap();
    let text = doc.to_text();
    let expected = example("energy-gateway.json").replacen("\"Energy gateway\"", "\"Energy gateway II\"", 1);
    assert_eq!(text, expected);
    assert!(text.contains("\"x-vendor-notes\""));
}

#[test]
fn replacing_with_the_same_model_is_byte_identical() {
    for (name, text) in builtin_sources() {
        let mut doc = ModelDocument::parse(name, text).unwrap();
        let model = doc.model().clone();
        doc.replace_model(&model).unwrap();
        assert!(doc.is_edited());
        assert_eq!(doc.to_text(), *text, "{name}");
    }
}

#[test]
fn an_edit_reserialises_in_key_order() {
    let original = example("energy-gateway.json");
    let mut doc = ModelDocument::parse("gw.json", original).unwrap();
    doc.value_mut()["properties"][0]["default"] = json!(30);
    doc.revalidate().unwrap();
    assert_eq!(doc.model().property("reportPeriod").unwrap().default, Some(json!(30)));
    assert_eq!(doc.to_text(), original.replacen("\"default\": 60", "\"default\": 30", 1));

    // A typed edit: new item appended, a limit changed; other keys stay where they were.
    let mut model = doc.model().clone();
    model.points[0].spec.max = Some(110.0);
    model.meters.push(MeterDef {
        id: "EpImp".into(),
        name: LocalizedText::new("正向有功电能", "Active energy import"),
        description: None,
        value_type: ValueType::Float,
        unit: Some("kWh".into()),
        period: None,
        extensions: Default::default(),
    });
    doc.replace_model(&model).unwrap();
    let text = doc.to_text();
    let reparsed = ModelDocument::parse("gw.json", &text).unwrap();
    assert_eq!(reparsed.model(), doc.model());
    let keys: Vec<&String> = reparsed.value().as_object().unwrap().keys().collect();
    assert_eq!(keys.last().unwrap().as_str(), "x-vendor-notes", "{keys:?}");
    assert!(text.contains("\"max\": 110,"), "integers stay integers");
    let at = |name: &str| keys.iter().position(|k| *k == name);
    assert_eq!(at("meters"), at("points").map(|i| i + 1), "{keys:?}");
}

#[test]
fn an_invalid_edit_leaves_the_document_alone() {
    let mut doc = ModelDocument::parse("gw.json", example("energy-gateway.json")).unwrap();
    let mut model = doc.model().clone();
    model.points[0].spec.min = Some(1000.0);
    let errors = doc.replace_model(&model).unwrap_err();
    assert_eq!(errors[0].path, "$.points[0].min");
    assert!(!doc.is_edited());
    assert_eq!(doc.to_text(), example("energy-gateway.json"));

    doc.value_mut()["points"][0]["min"] = json!(1000);
    assert!(doc.revalidate().is_err());
    assert_eq!(doc.model().points[0].spec.min, Some(0.0), "typed model kept from the last valid state");
}

/// Random JSON whose object keys are mostly model keys, so deep branches get exercised.
fn model_like_json() -> impl Strategy<Value = Value> {
    let key = prop::sample::select(vec![
        "modelVersion", "productKey", "kind", "name", "zh", "en", "ports", "properties", "points", "meters",
        "commands", "alarms", "subProducts", "id", "type", "min", "max", "step", "default", "enum", "alarm", "hi",
        "lo", "params", "output", "fields", "items", "access", "level", "pid", "maxLength", "x-v", "0",
    ])
    .prop_map(str::to_owned);
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_filter("finite", |f| f.is_finite()).prop_map(Value::from),
        prop::sample::select(vec!["int", "float", "enum", "digital", "struct", "array", "gateway", "device", "1.0", "a"])
            .prop_map(Value::from),
        ".{0,8}".prop_map(Value::String),
    ];
    leaf.prop_recursive(6, 64, 6, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec((key.clone(), inner), 0..8)
                .prop_map(|kv| Value::Object(kv.into_iter().collect())),
        ]
    })
}

proptest! {
    #[test]
    fn random_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        let text = String::from_utf8_lossy(&bytes);
        let _ = ModelDocument::parse("r.json", &text);
    }

    #[test]
    fn random_json_never_panics(value in model_like_json()) {
        let text = value.to_string();
        if let Err(errors) = ModelDocument::parse("r.json", &text) {
            prop_assert!(!errors.is_empty());
            prop_assert!(errors.iter().all(|e| e.path.starts_with('$')));
        }
    }

    #[test]
    fn mutated_examples_never_panic(index in 0usize..3, pick in any::<prop::sample::Index>(), replacement in model_like_json()) {
        let mut value: Value = serde_json::from_str(builtin_sources()[index].1).unwrap();
        // Replace one randomly chosen node of a valid model.
        let mut nodes = Vec::new();
        collect_pointers(&value, String::new(), &mut nodes);
        let pointer = pick.get(&nodes).clone();
        if let Some(slot) = value.pointer_mut(&pointer) {
            *slot = replacement;
        }
        let _ = ModelDocument::parse("m.json", &value.to_string());
    }
}

fn collect_pointers(value: &Value, at: String, out: &mut Vec<String>) {
    out.push(at.clone());
    match value {
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                collect_pointers(item, format!("{at}/{i}"), out);
            }
        }
        Value::Object(map) => {
            for (k, item) in map {
                collect_pointers(item, format!("{at}/{}", k.replace('~', "~0").replace('/', "~1")), out);
            }
        }
        _ => {}
    }
}

#[test]
fn deeply_nested_values_do_not_overflow() {
    let mut item = json!({"type": "int"});
    for _ in 0..60 {
        item = json!({"type": "array", "items": item});
    }
    let mut v = pcs();
    v["commands"][0]["params"] = json!([{"id": "deep", "type": "array", "items": item}]);
    assert!(errors_of(&v).is_empty());
    // Beyond serde_json's nesting limit the parser refuses with an error, not a crash.
    let text = format!("{}{}", "[".repeat(5000), "]".repeat(5000));
    assert_eq!(ModelDocument::parse("d.json", &text).unwrap_err().len(), 1);
}

#[test]
fn category_is_checked_and_defaults_by_kind() {
    let mut p = pcs();
    assert!(errors_of(&p).is_empty());
    p["category"] = json!("x-heat-pump");
    assert!(errors_of(&p).is_empty(), "a vendor category is allowed");
    p["category"] = json!("inverter");
    let errors = errors_of(&p);
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(errors[0].0, "$.category");
    assert!(errors[0].1.contains("not one of gateway, meter"), "{}", errors[0].1);
    p.as_object_mut().unwrap().remove("category");
    let text = serde_json::to_string(&p).unwrap();
    let doc = ModelDocument::parse("f.json", &text).unwrap();
    assert_eq!(doc.model().category(), Category::Other);
    let set = ModelSet::builtin();
    assert_eq!(set.get("PK-METER-3P").unwrap().model().category(), Category::Meter);
}
