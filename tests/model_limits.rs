//! `model validate` against hostile model files (issue 9, item 7): a file with hundreds of
//! thousands of faults prints a thousand of them and one line for the rest, and sub-products that
//! lead back to their own model are errors naming the file and `$.subProducts[i]`.

use std::process::Command;
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_cems-workbench");

fn validate(files: &[&std::path::Path]) -> (i32, String) {
    let out = Command::new(BIN).args(["model", "validate"]).args(files).output().expect("binary runs");
    (out.status.code().unwrap_or(-1), String::from_utf8_lossy(&out.stdout).into_owned())
}

#[test]
fn a_model_with_200000_bad_points_prints_at_most_1001_lines() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("huge.json");
    let mut text = String::from(r#"{"modelVersion":"1.0","productKey":"PK-HUGE","kind":"device","name":"huge","points":["#);
    for i in 0..200_000 {
        if i > 0 {
            text.push(',');
        }
        // No name, kind or type: three faults each.
        text.push_str(&format!(r#"{{"id":"p{i}","min":2,"max":1}}"#));
    }
    text.push_str("]}");
    std::fs::write(&file, text).unwrap();

    let started = Instant::now();
    let (code, out) = validate(&[&file]);
    let took = started.elapsed();
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(code, 1);
    assert!(lines.len() <= 1_001, "{} lines", lines.len());
    assert_eq!(lines.len(), 1_001, "1,000 errors and one line for the rest");
    let name = file.display().to_string();
    assert!(lines.iter().all(|l| l.starts_with(&name)), "{:?}", &lines[..2]);
    assert!(lines[0].starts_with(&format!("{name}: $.points[0]")), "{}", lines[0]);
    assert_eq!(lines[1_000], format!("{name}: $: … and more errors not listed"));
    assert!(took < Duration::from_secs(20), "took {took:?}");
}

/// The example gateway with product key `pk` carrying `subs`, written to `dir/file`.
fn gateway(dir: &std::path::Path, file: &str, pk: &str, subs: &[&str]) -> std::path::PathBuf {
    let mut model: serde_json::Value = serde_json::from_str(&std::fs::read_to_string("product-models/energy-gateway.json").unwrap()).unwrap();
    model["productKey"] = serde_json::json!(pk);
    model["subProducts"] = serde_json::json!(subs);
    let path = dir.join(file);
    std::fs::write(&path, serde_json::to_string_pretty(&model).unwrap()).unwrap();
    path
}

#[test]
fn sub_products_that_lead_back_are_errors() {
    let dir = tempfile::tempdir().unwrap();
    // Itself, beside a real sub-product.
    let own = gateway(dir.path(), "own.json", "PK-OWN", &["PK-METER-3P", "PK-OWN"]);
    let (code, out) = validate(&[&own]);
    assert_eq!(code, 1, "{out}");
    assert_eq!(out.trim(), format!("{}: $.subProducts[1]: \"PK-OWN\" is this model's own product key: a product cannot carry itself", own.display()));

    // A carries B, B carries A: an error on each file.
    let a = gateway(dir.path(), "a.json", "PK-A", &["PK-METER-3P", "PK-B"]);
    let b = gateway(dir.path(), "b.json", "PK-B", &["PK-A"]);
    let (code, out) = validate(&[&a, &b]);
    assert_eq!(code, 1, "{out}");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(
        lines,
        [
            format!("{}: $.subProducts[1]: \"PK-B\" leads back to this model (PK-A → PK-B → PK-A): sub-products must not form a cycle", a.display()),
            format!("{}: $.subProducts[0]: \"PK-A\" leads back to this model (PK-B → PK-A → PK-B): sub-products must not form a cycle", b.display()),
        ]
    );
    // B alone names a model that is not loaded; with a chain that ends, both are clean.
    let c = gateway(dir.path(), "c.json", "PK-C", &["PK-METER-3P"]);
    let d = gateway(dir.path(), "d.json", "PK-D", &["PK-C", "PK-PCS-100"]);
    let (code, out) = validate(&[&c, &d]);
    assert_eq!(code, 0, "{out}");
}
