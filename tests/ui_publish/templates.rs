//! The helper's templates, filled through the panel from a test model written here: each class
//! takes what the model names (the first command with its defaults, every property key, the
//! writable ones, the points, the first port), and none is an empty shell.

use cems_workbench::protocol::model::{ModelDocument, ModelSet};
use serde_json::json;

use super::{NOW_MS, bench_with, fill, harness, has_text, type_into};

/// A gateway whose every list has an entry the templates must pick, and one they must not.
const TEST_GATEWAY: &str = r#"{
  "modelVersion": "1.0",
  "productKey": "PK-TEST-GW",
  "kind": "gateway",
  "name": {"en": "Test gateway"},
  "ports": [
    {"id": "RS1", "type": "rs485", "params": {"baud": 19200, "parity": "even", "dataBits": 8, "stopBits": 1}, "protocol": "modbus-rtu"},
    {"id": "RS2", "type": "rs485", "params": {"baud": 9600}, "protocol": "modbus-rtu"}
  ],
  "properties": [
    {"id": "period", "name": {"en": "Period"}, "type": "int", "min": 5, "max": 600, "access": "rw", "default": 30},
    {"id": "mode", "name": {"en": "Mode"}, "type": "enum", "enum": {"auto": {"en": "Auto"}, "manual": {"en": "Manual"}}, "access": "rw"},
    {"id": "serialNo", "name": {"en": "Serial number"}, "type": "string", "access": "ro"}
  ],
  "points": [
    {"id": "temp", "name": {"en": "Temperature"}, "kind": "analog", "type": "float", "min": -40, "max": 85},
    {"id": "fanSet", "name": {"en": "Fan setpoint"}, "kind": "analog", "type": "int", "min": 10, "max": 100, "writable": true}
  ],
  "commands": [
    {"id": "calibrate", "name": {"en": "Calibrate"}, "params": [
      {"id": "channel", "type": "int", "min": 1, "max": 8},
      {"id": "window", "type": "struct", "fields": [{"id": "from", "type": "int", "default": 2}, {"id": "label", "type": "string"}]}
    ]},
    {"id": "reboot", "name": {"en": "Reboot"}}
  ]
}"#;

fn test_models() -> ModelSet {
    let mut models = ModelSet::new();
    let doc = ModelDocument::parse("test-gateway.json", TEST_GATEWAY).unwrap_or_else(|e| panic!("the test model parses: {e:?}"));
    models.insert(doc);
    models
}

#[test]
fn each_template_is_filled_from_the_gateways_model() {
    let bench = bench_with(test_models());
    let mut harness = harness(&bench);
    harness.run();
    type_into(&mut harness, "pk", "PK-TEST-GW");
    type_into(&mut harness, "dev", "GW-T");
    assert!(!has_text(&harness, "No product model for this gateway"));

    let command = fill(&mut harness, "6.1 command/request");
    assert_eq!(command, json!({"cmd": "calibrate", "params": {"channel": 1, "window": {"from": 2, "label": ""}}}), "the first command, each parameter at its default or in range");
    assert_eq!(harness.state().0.topic(), "cems/v1/PK-TEST-GW/GW-T/down/command/request");
    assert_eq!(fill(&mut harness, "6.6 property/get"), json!({"keys": ["period", "mode", "serialNo"]}), "every property key");
    assert_eq!(fill(&mut harness, "6.6 property/set"), json!({"props": {"period": 30, "mode": "auto"}}), "the writable ones, at their defaults");
    // No sub-device known: the gateway's own points, under its own id.
    assert_eq!(fill(&mut harness, "6.4 point/get"), json!({"sub": "GW-T", "pids": ["temp", "fanSet"]}));
    assert_eq!(fill(&mut harness, "6.4 point/set"), json!({"sub": "GW-T", "pid": "fanSet", "value": 10}), "the writable point, in range");
    let port = fill(&mut harness, "6.3 port/set");
    assert_eq!(port["ports"][0]["portId"], "RS1", "{port}");
    assert_eq!(port["ports"][0]["params"]["baud"], 19200, "{port}");
    assert_eq!(port["ports"].as_array().map(Vec::len), Some(1));
    assert_eq!(fill(&mut harness, "6.5 meter/get"), json!({"from": NOW_MS - 3_600_000, "to": NOW_MS}));
}

#[test]
fn without_a_model_no_template_is_an_empty_shell() {
    let bench = bench_with(test_models());
    let mut harness = harness(&bench);
    harness.run();
    type_into(&mut harness, "pk", "PK-UNKNOWN");
    type_into(&mut harness, "dev", "GW-T");
    // What needs no model: all keys, all points of the gateway.
    assert_eq!(fill(&mut harness, "6.6 property/get"), json!({}), "no `keys`: all of them, not none");
    assert!(has_text(&harness, "No product model for this gateway"));
    assert_eq!(fill(&mut harness, "6.4 point/get"), json!({"sub": "GW-T"}));
    let before = harness.state().0.payload().to_owned();
    for request in ["6.1 command/request", "6.6 property/set", "6.4 point/set", "6.3 port/set"] {
        fill(&mut harness, request);
        let class_action = request.split_once(' ').map(|(_, r)| r).unwrap_or_default();
        assert!(has_text(&harness, &format!("Nothing known of this gateway names what {class_action} needs")), "{request} is refused, said so");
        assert_eq!(harness.state().0.payload(), before, "{request}: the editor is left as it was");
    }
    // A gateway with a model: the same requests fill, and the refusal goes.
    harness.state_mut().0.set_gateway("PK-TEST-GW", "GW-T");
    harness.run();
    assert_eq!(fill(&mut harness, "6.1 command/request")["cmd"], "calibrate");
    assert!(!has_text(&harness, "Nothing known of this gateway"));
}
