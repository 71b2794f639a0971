//! Point tables through the real binary: `model new`, `model import` of CSV (UTF-8, BOM, GBK)
//! and XLSX fixtures with good and bad rows, `model export` and its import back, exit codes.
//! The fixtures are written by tests/fixtures/point_tables/make_fixtures.py (XLSX by hand).

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{Value, json};

const BIN: &str = env!("CARGO_BIN_EXE_cems-workbench");

fn run(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(BIN).args(args).output().expect("binary runs");
    (out.status.code().unwrap_or(-1), String::from_utf8_lossy(&out.stdout).into_owned(), String::from_utf8_lossy(&out.stderr).into_owned())
}

fn fixture(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/point_tables").join(name).display().to_string()
}

/// A fresh model from the meter template in `dir`.
fn new_model(dir: &Path, name: &str) -> PathBuf {
    let path = dir.join(name);
    let (code, _, err) = run(&["model", "new", "--template", "meter", "--out", &path.display().to_string()]);
    assert_eq!(code, 0, "{err}");
    path
}

fn read_json(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).expect("model reads")).expect("model is JSON")
}

/// Runs `model import TABLE --into MODEL --json …`; (exit code, the JSON report).
fn import(table: &str, model: &Path, extra: &[&str]) -> (i32, Value) {
    let into = model.display().to_string();
    let mut args = vec!["model", "import", table, "--into", into.as_str(), "--json"];
    args.extend_from_slice(extra);
    let (code, out, err) = run(&args);
    assert!(!err.contains("panicked"), "{err}");
    let report = serde_json::from_str(out.trim()).unwrap_or_else(|e| panic!("{e}: {out:?} {err:?}"));
    (code, report)
}

fn entry<'a>(model: &'a Value, section: &str, id: &str) -> &'a Value {
    model[section].as_array().and_then(|items| items.iter().find(|i| i["id"] == id)).unwrap_or_else(|| panic!("no {section} {id}"))
}

fn validates(model: &Path) {
    let (code, out, err) = run(&["model", "validate", &model.display().to_string()]);
    assert_eq!(code, 0, "{out}{err}");
}

#[test]
fn model_new_refuses_to_overwrite_and_unknown_templates() {
    let dir = tempfile::tempdir().unwrap();
    let path = new_model(dir.path(), "m.json");
    validates(&path);
    let out = path.display().to_string();
    let (code, _, err) = run(&["model", "new", "--template", "meter", "--out", &out]);
    assert_eq!(code, 2);
    assert!(err.contains("--force"), "{err}");
    assert_eq!(run(&["model", "new", "--template", "pcs", "--out", &out, "--force"]).0, 0);
    assert_eq!(read_json(&path)["category"], "pcs");
    let (code, _, err) = run(&["model", "new", "--template", "toaster", "--out", &dir.path().join("t.json").display().to_string()]);
    assert_eq!(code, 2);
    assert!(err.contains("gateway, meter, pcs, bms, pv"), "{err}");
}

#[test]
fn csv_in_utf8_bom_and_gbk_imports() {
    let dir = tempfile::tempdir().unwrap();

    let model = new_model(dir.path(), "utf8.json");
    let (code, report) = import(&fixture("utf8.csv"), &model, &[]);
    assert_eq!(code, 0, "{report}");
    assert_eq!((report["encoding"].as_str(), report["written"].as_bool()), (Some("UTF-8"), Some(true)));
    let m = read_json(&model);
    assert_eq!(entry(&m, "points", "Ua")["name"], json!({"zh": "A相电压", "en": "Phase A voltage"}));
    assert_eq!(entry(&m, "points", "Ua")["period"], 5);
    assert_eq!(entry(&m, "points", "Sw")["name"]["zh"], "开关, 主");
    assert_eq!(entry(&m, "points", "Sw")["kind"], "digital");
    validates(&model);

    let model = new_model(dir.path(), "bom.json");
    let (code, report) = import(&fixture("bom.csv"), &model, &[]);
    assert_eq!(code, 0, "{report}");
    assert_eq!(report["encoding"], "UTF-8 with BOM");
    let m = read_json(&model);
    assert_eq!((&entry(&m, "points", "Udc")["min"], &entry(&m, "points", "Udc")["max"]), (&json!(0), &json!(1000)));
    assert_eq!(entry(&m, "points", "Pset")["writable"], true);
    assert_eq!(entry(&m, "points", "Pset")["min"], -100);
    assert_eq!(entry(&m, "points", "Brk")["kind"], "digital");
    assert_eq!(entry(&m, "points", "Brk")["writable"], true);
    assert!(entry(&m, "points", "Run")["enum"].is_object(), "a digital point gets state labels");
    validates(&model);

    let model = new_model(dir.path(), "gbk.json");
    let (code, report) = import(&fixture("gbk.csv"), &model, &[]);
    assert_eq!(code, 0, "{report}");
    assert_eq!(report["encoding"], "GB18030");
    assert_eq!(report["mapping"]["序号"], Value::Null, "序号 is not imported");
    assert_eq!(report["mapping"]["单位（Unit）"], "unit");
    let m = read_json(&model);
    assert_eq!(entry(&m, "points", "Ub")["name"]["zh"], "B相电压");
    assert_eq!(entry(&m, "points", "Ub")["x-modbus"], json!({"address": 40002, "function": 3, "scale": 0.1, "dataType": "uint16"}));
    assert_eq!(entry(&m, "points", "EpImp")["kind"], "accumulator");
    assert_eq!(report["accepted"][0]["replaced"], true, "Ua was in the template");
    validates(&model);
}

#[test]
fn xlsx_with_titles_merged_headers_text_numbers_and_sheets() {
    let dir = tempfile::tempdir().unwrap();
    let model = new_model(dir.path(), "m.json");
    let before = std::fs::read_to_string(&model).unwrap();
    let (code, report) = import(&fixture("titled.xlsx"), &model, &[]);
    assert_eq!(code, 0, "{report}");
    assert_eq!(report["headerRow"], 4, "title and the upper header row skipped: {report}");
    assert_eq!(report["sheet"], "遥测");
    let rows: Vec<i64> = report["accepted"].as_array().unwrap().iter().map(|a| a["row"].as_i64().unwrap()).collect();
    assert_eq!(rows, [5, 6, 8], "row numbers as in the sheet, empty rows skipped");
    let m = read_json(&model);
    let idc = entry(&m, "points", "Idc");
    assert_eq!((&idc["kind"], &idc["min"], &idc["max"]), (&json!("analog"), &json!(-200), &json!(200)), "type merged down, full-width digits");
    assert_eq!(entry(&m, "points", "Udc")["max"], 1000);
    assert_eq!(entry(&m, "points", "Temp")["x-modbus"]["register"], 30003);
    // The template's text is kept: the import adds to it.
    let after = std::fs::read_to_string(&model).unwrap();
    let head = before.find("\"points\"").unwrap();
    assert_eq!(after[..head], before[..head]);

    let (code, report) = import(&fixture("titled.xlsx"), &model, &["--sheet", "电度", "--section", "meters"]);
    assert_eq!(code, 0, "{report}");
    assert_eq!(entry(&read_json(&model), "meters", "EDis")["period"], 900);
    validates(&model);

    let (code, _, err) = run(&["model", "import", &fixture("titled.xlsx"), "--into", &model.display().to_string(), "--sheet", "nope"]);
    assert_eq!(code, 1);
    assert!(err.contains("no sheet named \"nope\"") && err.contains("电度"), "{err}");
}

#[test]
fn english_xlsx_and_column_overrides() {
    let dir = tempfile::tempdir().unwrap();
    let model = new_model(dir.path(), "m.json");
    let (code, report) = import(&fixture("english.xlsx"), &model, &[]);
    assert_eq!(code, 0, "{report}");
    let m = read_json(&model);
    let freq = entry(&m, "points", "Freq");
    assert_eq!(freq["name"], json!({"zh": "频率", "en": "Frequency"}));
    assert_eq!((&freq["min"], &freq["max"]), (&json!(45), &json!(55)));
    assert_eq!(freq["x-modbus"], json!({"address": 40010, "scale": 0.01}));
    assert_eq!(entry(&m, "points", "Reset")["writable"], true);

    // Column H (Max) read as the period instead, by letter; the Scale column by its header.
    let (code, report) = import(&fixture("english.xlsx"), &model, &["--map", "H=period", "--map", "Scale=ignore"]);
    assert_eq!(code, 0, "{report}");
    let m = read_json(&model);
    let freq = entry(&m, "points", "Freq");
    assert_eq!((&freq["period"], &freq["max"], &freq["x-modbus"]), (&json!(55), &Value::Null, &json!({"address": 40010})));

    for bad in ["Nope=min", "A=colour", "A"] {
        let (code, _, err) = run(&["model", "import", &fixture("english.xlsx"), "--into", &model.display().to_string(), "--map", bad]);
        assert_eq!(code, 2, "{bad}: {err}");
        assert!(err.contains("--map"), "{err}");
    }
    let (code, _, err) = run(&["model", "import", &fixture("english.xlsx"), "--into", &model.display().to_string(), "--header-row", "99"]);
    assert_eq!(code, 2, "{err}");
}

#[test]
fn bad_rows_are_listed_and_nothing_is_written_unless_skipped() {
    let dir = tempfile::tempdir().unwrap();
    let model = new_model(dir.path(), "m.json");
    let before = std::fs::read(&model).unwrap();
    let (code, report) = import(&fixture("bad_rows.csv"), &model, &[]);
    assert_eq!(code, 1);
    assert_eq!(report["written"], false);
    assert_eq!(std::fs::read(&model).unwrap(), before, "nothing written");
    let rejected: Vec<(i64, String)> = report["rejected"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["row"].as_i64().unwrap(), r["reason"].as_str().unwrap().to_owned()))
        .collect();
    let reasons: Vec<(i64, &str)> = rejected.iter().map(|(row, reason)| (*row, reason.split(' ').next().unwrap_or(""))).collect();
    assert_eq!(reasons, [(3, "duplicate"), (4, "id"), (5, "min"), (6, "unknown"), (7, "min")], "{rejected:?}");
    assert!(rejected[2].1.contains("> max"), "{rejected:?}");
    assert!(rejected[4].1.contains("not a number"), "{rejected:?}");

    // The text form names rows, ids and reasons too.
    let (code, out, _) = run(&["model", "import", &fixture("bad_rows.csv"), "--into", &model.display().to_string()]);
    assert_eq!(code, 1);
    assert!(out.contains("rejected row 4: U-b: id") && out.contains("nothing written"), "{out}");

    let (code, report) = import(&fixture("bad_rows.csv"), &model, &["--skip-bad"]);
    assert_eq!(code, 0, "{report}");
    assert_eq!(report["written"], true);
    let m = read_json(&model);
    assert_eq!(entry(&m, "points", "Uf")["max"], 10);
    assert_eq!(entry(&m, "points", "Ua")["name"]["zh"], "A相电压", "the first Ua wins, the repeat is rejected");
    validates(&model);
}

#[test]
fn files_that_are_not_tables_get_a_message() {
    let dir = tempfile::tempdir().unwrap();
    let model = new_model(dir.path(), "m.json");
    for (name, words) in [("random.xlsx", "not a spreadsheet"), ("page.xls", "HTML")] {
        let (code, out, err) = run(&["model", "import", &fixture(name), "--into", &model.display().to_string()]);
        assert_eq!(code, 1, "{name}: {out}{err}");
        assert!(err.contains(words) && !err.contains("panicked"), "{name}: {err}");
    }
    let (code, _, err) = run(&["model", "import", &dir.path().join("missing.csv").display().to_string(), "--into", &model.display().to_string()]);
    assert_eq!(code, 1);
    assert!(err.contains("missing.csv"), "{err}");
}

#[test]
fn export_then_import_gives_the_same_entries() {
    let dir = tempfile::tempdir().unwrap();
    let source = new_model(dir.path(), "source.json");
    assert_eq!(import(&fixture("gbk.csv"), &source, &[]).0, 0);
    assert_eq!(import(&fixture("bom.csv"), &source, &[]).0, 0);
    assert_eq!(import(&fixture("titled.xlsx"), &source, &["--sheet", "电度", "--section", "meters"]).0, 0);
    let original = read_json(&source);
    for (ext, section) in [("csv", "points"), ("xlsx", "points"), ("xlsx", "meters"), ("csv", "meters")] {
        let table = dir.path().join(format!("{section}.{ext}")).display().to_string();
        let (code, out, err) = run(&["model", "export", &source.display().to_string(), "--out", &table, "--section", section]);
        assert_eq!(code, 0, "{out}{err}");
        if ext == "csv" {
            assert!(std::fs::read(&table).unwrap().starts_with(b"\xEF\xBB\xBF"), "CSV with a BOM for Excel");
        }
        // Into an empty section of a fresh model, so the result is the table's entries alone.
        let target = dir.path().join(format!("target-{section}-{ext}.json"));
        let mut fresh = read_json(&new_model(dir.path(), &format!("fresh-{section}-{ext}.json")));
        fresh[section] = json!([]);
        std::fs::write(&target, serde_json::to_string_pretty(&fresh).unwrap()).unwrap();
        let (code, report) = import(&table, &target, &["--section", section]);
        assert_eq!(code, 0, "{ext} {section}: {report}");
        assert_eq!(read_json(&target)[section], original[section], "{ext} {section}");
    }
    let (code, _, err) = run(&["model", "export", &source.display().to_string(), "--out", &dir.path().join("x.ods").display().to_string()]);
    assert_eq!(code, 1);
    assert!(err.contains(".csv or .xlsx"), "{err}");
}

#[test]
fn fifty_thousand_rows_import() {
    let dir = tempfile::tempdir().unwrap();
    let mut model = read_json(&new_model(dir.path(), "big-source.json"));
    let points: Vec<Value> = (0..50_000)
        .map(|i| {
            json!({"id": format!("P{i}"), "name": {"zh": format!("测点{i}"), "en": format!("Point {i}")}, "kind": "analog",
                   "type": "float", "unit": "V", "min": 0, "max": 1000 + i, "x-modbus": {"address": 40001 + i}})
        })
        .collect();
    model["points"] = Value::Array(points);
    let source = dir.path().join("big.json");
    std::fs::write(&source, serde_json::to_string_pretty(&model).unwrap()).unwrap();
    let table = dir.path().join("big.xlsx").display().to_string();
    let (code, out, err) = run(&["model", "export", &source.display().to_string(), "--out", &table]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("wrote 50000 points"), "{out}");

    let target = new_model(dir.path(), "target.json");
    let template_points = read_json(&target)["points"].as_array().map_or(0, Vec::len);
    let (code, report) = import(&table, &target, &[]);
    assert_eq!(code, 0, "{}", report["errors"]);
    assert_eq!(report["accepted"].as_array().map(Vec::len), Some(50_000));
    let imported = read_json(&target);
    let imported_points = imported["points"].as_array().unwrap();
    assert_eq!(imported_points.len(), 50_000 + template_points, "the template's points stay");
    assert_eq!(entry(&imported, "points", "P49999"), &model["points"][49_999]);
}
