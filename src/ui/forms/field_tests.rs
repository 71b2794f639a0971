use serde_json::json;

use super::*;
use crate::protocol::model::ModelSet;

fn command(pk: &str, id: &str) -> Vec<ParamDef> {
    let set = ModelSet::builtin();
    set.get(pk).unwrap().model().command(id).unwrap().params.clone()
}

#[test]
fn an_int_is_parsed_checked_and_defaulted() {
    let mut form = ParamsForm::new(&command("PK-GW-01", "reboot"), None);
    assert_eq!(form.states[0], FieldState::Text("0".into()), "the default is shown");
    form.states[0] = FieldState::Text("601".into());
    let reasons = form.build().unwrap_err();
    assert_eq!(reasons["delay"].text, "delay: 601 is above the maximum 600");
    form.states[0] = FieldState::Text("1.5".into());
    assert!(form.build().unwrap_err()["delay"].text.contains("expected an integer"));
    form.states[0] = FieldState::Text("five".into());
    assert_eq!(form.build().unwrap_err()["delay"].text, "delay: \"five\" is not a number");
    form.states[0] = FieldState::Text(" 5 ".into());
    assert_eq!(Value::Object(form.build().unwrap()), json!({"delay": 5}));
    form.states[0] = FieldState::Text(String::new());
    assert_eq!(Value::Object(form.build().unwrap()), json!({"delay": 0}), "left empty, the default is sent");
}

#[test]
fn enums_bools_and_missing_strings() {
    let mut stop = ParamsForm::new(&command("PK-PCS-100", "stop"), None);
    assert_eq!(stop.states[0], FieldState::Choice(Some("normal".into())));
    stop.states[0] = FieldState::Choice(Some("emergency".into()));
    assert_eq!(Value::Object(stop.build().unwrap()), json!({"mode": "emergency"}));

    let reset = ParamsForm::new(&command("PK-GW-01", "factoryReset"), None);
    assert_eq!(Value::Object(reset.build().unwrap()), json!({"keepNetwork": true}));

    let mut clear = ParamsForm::new(&command("PK-METER-3P", "clearEnergy"), None);
    clear.states[0] = FieldState::Text("123456789".into());
    assert_eq!(clear.build().unwrap_err()["password"].text, "password: 9 characters, at most 8 allowed");
    assert!(!clear.visible_reasons().is_empty(), "a wrong value shows at once");
}

#[test]
fn a_required_field_is_missing_only_once_sending_was_tried() {
    let defs = vec![ParamDef {
        id: "n".into(),
        name: None,
        description: None,
        spec: crate::protocol::model::ValueSpec::of(ValueType::Int),
        default: None,
        fields: Vec::new(),
        items: None,
        extensions: Default::default(),
    }];
    let mut form = ParamsForm::new(&defs, None);
    assert!(form.build().unwrap_err()["n"].missing);
    assert!(form.visible_reasons().is_empty());
    form.attempted = true;
    assert_eq!(form.visible_reasons()["n"].text, "n: missing");
}

#[test]
fn arrays_of_structs_build_and_name_the_wrong_member() {
    let mut form = ParamsForm::new(&command("PK-PCS-100", "schedule"), None);
    let FieldState::Array(items) = &mut form.states[0] else { panic!("an array") };
    let item_def = form.defs[0].items.as_deref().unwrap().clone();
    items.push(FieldState::new_item(&item_def));
    let FieldState::Struct(members) = &mut items[0] else { panic!("a struct") };
    members[0] = FieldState::Text("08:00".into());
    members[1] = FieldState::Text("500".into());
    let reasons = form.build().unwrap_err();
    assert_eq!(reasons["slots[0].power"].text, "slots[0].power: 500 is above the maximum 100");
    let FieldState::Array(items) = &mut form.states[0] else { panic!() };
    let FieldState::Struct(members) = &mut items[0] else { panic!() };
    members[1] = FieldState::Text("50".into());
    assert_eq!(Value::Object(form.build().unwrap()), json!({"slots": [{"start": "08:00", "power": 50.0}]}));
}

#[test]
fn properties_and_enum_ints_take_their_keys() {
    let set = ModelSet::builtin();
    let gw = set.get("PK-GW-01").unwrap().model();
    let level = param_of_property(gw.property("logLevel").unwrap());
    let state = FieldState::new(&level, Some(&json!("warn")));
    assert_eq!(state, FieldState::Choice(Some("warn".into())));
    assert_eq!(state.build(&level, "logLevel", &mut Reasons::new()), Some(json!("warn")));

    let pcs = set.get("PK-PCS-100").unwrap().model();
    let breaker = param_of_point(pcs.point("gridSwitch").unwrap());
    let state = FieldState::new(&breaker, Some(&json!(1.0)));
    assert_eq!(state, FieldState::Choice(Some("1".into())), "1.0 is state 1");
    assert_eq!(state.build(&breaker, "v", &mut Reasons::new()), Some(json!(1)));
}

#[test]
fn raw_json_is_parsed_never_checked() {
    let mut raw = RawJsonForm::default();
    assert_eq!(raw.build().unwrap(), Map::new());
    raw.text = r#"{"anything": [1, 2]}"#.into();
    assert_eq!(Value::Object(raw.build().unwrap()), json!({"anything": [1, 2]}));
    raw.text = "{".into();
    assert!(raw.build().unwrap_err().starts_with("line 1, column 1"));
    raw.text = "[1]".into();
    assert!(raw.build().is_err());
}
