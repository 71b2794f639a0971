//! Tests of the model checks against hostile files (built only under #[cfg(test)]): sub-products
//! that lead back to themselves, and files with far more faults than anyone reads.

use serde_json::{Value, json};

use super::document::builtin_sources;
use super::*;

fn example(name: &str) -> &'static str {
    builtin_sources().iter().find(|(n, _)| n.ends_with(name)).map(|(_, t)| *t).unwrap_or_else(|| panic!("no example {name}"))
}

/// The example gateway as file `file`, with product key `pk` and sub-products `subs`.
fn gateway(file: &str, pk: &str, subs: &[&str]) -> ModelDocument {
    let mut v: Value = serde_json::from_str(example("energy-gateway.json")).unwrap();
    v["productKey"] = json!(pk);
    v["subProducts"] = json!(subs);
    ModelDocument::parse(file, &serde_json::to_string(&v).unwrap()).unwrap_or_else(|e| panic!("{e:?}"))
}

fn lines(errors: &[ModelError]) -> Vec<String> {
    errors.iter().map(ToString::to_string).collect()
}

#[test]
fn a_product_that_carries_itself_is_an_error() {
    let meter = ModelDocument::parse("m.json", example("power-meter-3p.json")).unwrap();
    let errors = check_sub_products(&[gateway("a.json", "PK-A", &["PK-METER-3P", "PK-A"]), meter]);
    assert_eq!(lines(&errors), ["a.json: $.subProducts[1]: \"PK-A\" is this model's own product key: a product cannot carry itself"]);
}

#[test]
fn sub_products_forming_a_cycle_across_files_are_errors_on_each_file() {
    let a = gateway("a.json", "PK-A", &["PK-B"]);
    let b = gateway("b.json", "PK-B", &["PK-C"]);
    let c = gateway("c.json", "PK-C", &["PK-A"]);
    let errors = check_sub_products(&[a, b, c]);
    assert_eq!(
        lines(&errors),
        [
            "a.json: $.subProducts[0]: \"PK-B\" leads back to this model (PK-A → PK-B → PK-C → PK-A): sub-products must not form a cycle",
            "b.json: $.subProducts[0]: \"PK-C\" leads back to this model (PK-B → PK-C → PK-A → PK-B): sub-products must not form a cycle",
            "c.json: $.subProducts[0]: \"PK-A\" leads back to this model (PK-C → PK-A → PK-B → PK-C): sub-products must not form a cycle",
        ]
    );
    // A chain that does not come back is fine, as is a shared sub-product (a diamond).
    let ok = check_sub_products(&[gateway("a.json", "PK-A", &["PK-B", "PK-C"]), gateway("b.json", "PK-B", &["PK-C"]), gateway("c.json", "PK-C", &[])]);
    assert!(ok.is_empty(), "{ok:?}");
}

/// A device model with `n` points, each missing its name, kind and type.
fn bad_points(n: usize) -> String {
    let mut text = String::from(r#"{"modelVersion":"1.0","productKey":"PK-BIG","kind":"device","name":"big","points":["#);
    for i in 0..n {
        if i > 0 {
            text.push(',');
        }
        text.push_str(&format!(r#"{{"id":"p{i}"}}"#));
    }
    text.push_str("]}");
    text
}

#[test]
fn errors_stop_after_the_first_thousand_with_one_line_for_the_rest() {
    let started = std::time::Instant::now();
    let errors = ModelDocument::parse("big.json", &bad_points(200_000)).unwrap_err();
    assert_eq!(errors.len(), MAX_ERRORS_PER_FILE + 1, "1,000 errors and one line for the rest");
    let last = errors.last().unwrap();
    assert_eq!((last.file.as_str(), last.path.as_str()), ("big.json", "$"));
    assert_eq!(last.message, "… and more errors not listed", "checking 200,000 points to count them would cost what listing them did");
    // The first ones are the first points, in order.
    assert_eq!(errors[0].path, "$.points[0]");
    assert!(errors[..MAX_ERRORS_PER_FILE].iter().all(|e| e.path.starts_with("$.points[")), "{:?}", &errors[..3]);
    assert!(started.elapsed() < std::time::Duration::from_secs(5), "{:?}", started.elapsed());
}

#[test]
fn windows_keep_paths_and_small_files_keep_every_error() {
    // Just over a window of points, with faults in the second window and one at the root.
    let mut v: Value = serde_json::from_str(&bad_points(0)).unwrap();
    let points: Vec<Value> = (0..600).map(|i| json!({"id": format!("p{i}"), "name": "n", "kind": "analog", "type": "float"})).collect();
    v["points"] = json!(points);
    v["points"][555]["kind"] = json!("bogus");
    v["points"][599]["min"] = json!("low");
    v["colour"] = json!(1);
    let errors = ModelDocument::parse("w.json", &v.to_string()).unwrap_err();
    let paths: Vec<&str> = errors.iter().map(|e| e.path.as_str()).collect();
    assert_eq!(paths, ["$.colour", "$.points[555].kind", "$.points[599].min"], "{errors:?}");
    // Fewer faults than the cap: all of them, no summary line.
    let errors = ModelDocument::parse("s.json", &bad_points(10)).unwrap_err();
    assert!(errors.len() >= 10 && !errors.iter().any(|e| e.message.starts_with('…')), "{errors:?}");
}

#[test]
fn semantic_errors_stop_too() {
    // Schema-valid points whose min is above max: the semantic pass alone finds 5,000 faults.
    let mut v: Value = serde_json::from_str(&bad_points(0)).unwrap();
    let points: Vec<Value> = (0..5_000).map(|i| json!({"id": format!("p{i}"), "name": "n", "kind": "analog", "type": "float", "min": 2, "max": 1})).collect();
    v["points"] = json!(points);
    let errors = ModelDocument::parse("sem.json", &v.to_string()).unwrap_err();
    assert_eq!(errors.len(), MAX_ERRORS_PER_FILE + 1);
    assert_eq!(errors[0].to_string(), "sem.json: $.points[0].min: min 2 is greater than max 1");
    assert_eq!(errors.last().unwrap().message, "… and 4000 more errors");
}

#[test]
fn sub_product_errors_are_capped_per_file() {
    let subs: Vec<String> = (0..3_000).map(|i| format!("PK-X{i}")).collect();
    let refs: Vec<&str> = subs.iter().map(String::as_str).collect();
    let errors = check_sub_products(&[gateway("many.json", "PK-A", &refs)]);
    assert_eq!(errors.len(), MAX_ERRORS_PER_FILE + 1);
    assert_eq!(errors.last().unwrap().to_string(), "many.json: $: … and 2000 more errors");
}

#[test]
fn capping_several_checks_together_keeps_one_summary_per_file() {
    let err = |file: &str, i: usize| ModelError { file: file.into(), path: format!("$.x[{i}]"), message: "bad".into() };
    let mut errors: Vec<ModelError> = (0..MAX_ERRORS_PER_FILE).map(|i| err("a.json", i)).collect();
    errors.push(more_errors("a.json", Some(5)));
    errors.push(err("b.json", 0));
    errors.extend((0..3).map(|i| err("a.json", 2_000 + i)));
    let capped = cap_per_file(errors.clone());
    assert_eq!(capped.len(), MAX_ERRORS_PER_FILE + 2);
    assert_eq!(capped.last().unwrap().to_string(), "a.json: $: … and 8 more errors");
    errors.push(more_errors("a.json", None));
    assert_eq!(cap_per_file(errors).last().unwrap().message, "… and more errors not listed");
}

