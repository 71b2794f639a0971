//! Point-table unit tests: header words, type words, rows to entries, apply, and the XLSX writer
//! read back by calamine.

use serde_json::{Value, json};

use super::text::{half_width, parse_range};
use super::xlsx_writer::{Cell, write_xlsx};
use super::*;

fn row(number: usize, cells: &[&str]) -> TableRow {
    TableRow { number, cells: cells.iter().map(|c| (*c).to_owned()).collect() }
}

fn strings(cells: &[&str]) -> Vec<String> {
    cells.iter().map(|c| (*c).to_owned()).collect()
}

#[test]
fn point_table_header_words_in_chinese_english_and_full_width() {
    let header = strings(&["序号", "点号", "名称", "英文名", "单位(Unit)", "最小值（min）", "上限", "量程", "读写", "类型", "数据类型", "寄存器地址", "系数", "功能码", "备用"]);
    let got: Vec<String> = guess_mapping(&header).iter().map(ColumnField::name).collect();
    assert_eq!(
        got,
        ["ignore", "id", "name", "name.en", "unit", "min", "max", "range", "access", "type", "x-modbus.dataType", "x-modbus.address", "x-modbus.scale", "x-modbus.function", "ignore"]
    );
    assert_eq!(guess_field("English name"), Some(ColumnField::NameEn));
    assert_eq!(guess_field("x-modbus.dataType"), Some(ColumnField::Modbus("dataType".into())));
    assert_eq!(half_width("（Ａ）：１２\u{3000}"), "(A):12 ");
    assert_eq!(parse_range("0~500"), Some((0.0, 500.0)));
    assert_eq!(parse_range("-40-85"), Some((-40.0, 85.0)));
    assert_eq!(parse_range("０～５００"), Some((0.0, 500.0)));
    assert_eq!(parse_range("abc"), None);
    assert_eq!(parse_column_ref("C", &strings(&["a", "b"])), Some(2));
    assert_eq!(parse_column_ref("名称", &strings(&["id", "名称"])), Some(1));
    assert_eq!(column_letter(27), "AB");
}

#[test]
fn point_table_header_row_skips_titles() {
    let rows = vec![row(1, &["某某PCS点表", "某某PCS点表"]), row(3, &["点号", "名称", "单位"]), row(4, &["Ua", "电压", "V"])];
    assert_eq!(find_header_row(&rows), 1);
}

#[test]
fn point_table_rows_become_entries_or_reasons() {
    let rows = vec![
        row(1, &["点号", "名称", "类型", "单位", "最小值", "最大值", "地址"]),
        row(2, &["Ua", "A相电压", "遥测", "V", "０", " 500 ", "40001"]),
        row(3, &["Brk", "开关", "遥控", "", "", "", "0x10"]),
        row(4, &["Ua", "重复", "遥测", "", "", "", ""]),
        row(5, &["bad-id", "坏", "遥测", "", "", "", ""]),
        row(6, &["M", "倒", "遥测", "", "9", "1", ""]),
        row(7, &["T", "未知", "widget", "", "", "", ""]),
        row(8, &["N", "数", "遥测", "", "abc", "", ""]),
        row(9, &["", "无号", "遥测", "", "", "", ""]),
    ];
    let mapping = guess_mapping(&rows[0].cells);
    let model = json!({"points": [{"id": "Brk", "name": "旧", "kind": "digital", "type": "int", "enum": {"0": "开", "1": "关"}}]});
    let plan = plan_import(&rows, 0, &mapping, Section::Points, &model);
    assert_eq!(plan.accepted.len(), 2);
    assert_eq!(
        plan.accepted[0].entry,
        json!({"id": "Ua", "name": {"zh": "A相电压"}, "kind": "analog", "type": "float", "unit": "V", "min": 0, "max": 500, "x-modbus": {"address": 40001}})
    );
    let keys: Vec<&String> = plan.accepted[0].entry.as_object().map(|m| m.keys().collect()).unwrap_or_default();
    assert_eq!(keys, ["id", "name", "kind", "type", "unit", "min", "max", "x-modbus"]);
    assert_eq!(plan.replaced, ["Brk"]);
    let reasons: Vec<(usize, &str)> = plan.rejected.iter().map(|r| (r.row, r.reason.as_str())).collect();
    assert_eq!(reasons.len(), 6, "{reasons:?}");
    assert!(reasons[0].1.starts_with("duplicate id") && reasons[0].0 == 4);
    assert!(reasons[1].1.contains("is not 1 to 64"));
    assert!(reasons[2].1.starts_with("min 9 > max 1"));
    assert!(reasons[3].1.starts_with("unknown type"));
    assert!(reasons[4].1.contains("is not a number"));
    assert_eq!(reasons[5], (9, "no id"));

    let applied = apply_plan(&model, &plan);
    let points = applied["points"].as_array().cloned().unwrap_or_default();
    assert_eq!(points.len(), 2);
    assert_eq!(points[0]["id"], "Brk");
    assert_eq!(points[0]["writable"], true);
    assert_eq!(points[0]["enum"], json!({"0": "开", "1": "关"}), "labels of the replaced point are kept");
    assert_eq!(points[1]["id"], "Ua");
}

#[test]
fn point_table_meters_and_properties_take_their_own_keys() {
    let rows = vec![row(1, &["id", "name", "type", "unit", "access", "period"]), row(2, &["E", "电能", "电度", "kWh", "", "900"]), row(3, &["P", "功率", "遥调", "kW", "", ""])];
    let mapping = guess_mapping(&rows[0].cells);
    let meters = plan_import(&rows[..2], 0, &mapping, Section::Meters, &json!({}));
    assert_eq!(meters.accepted[0].entry, json!({"id": "E", "name": {"zh": "电能"}, "type": "float", "unit": "kWh", "period": 900}));
    let props = plan_import(&rows, 0, &mapping, Section::Properties, &json!({}));
    assert_eq!(props.accepted[1].entry, json!({"id": "P", "name": {"zh": "功率"}, "type": "float", "unit": "kW", "access": "rw"}));
    let applied = apply_plan(&json!({"productKey": "x"}), &props);
    assert_eq!(applied["properties"].as_array().map(Vec::len), Some(2));
}

#[test]
fn point_table_xlsx_writer_reads_back() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("t.xlsx");
    let rows = vec![vec![Cell::Text("点号 & <id>".into()), Cell::Text("min".into())], vec![Cell::Text("Ua".into()), Cell::Number(0.5)], vec![Cell::Text("Ub".into()), Cell::Number(12.0)]];
    std::fs::write(&path, write_xlsx("points", &rows).expect("xlsx")).expect("write");
    let table = read_table(&path, None, &|_| {}).expect("reads");
    assert_eq!(table.sheets, ["points"]);
    assert_eq!(table.rows[0].cells, ["点号 & <id>", "min"]);
    assert_eq!(table.rows[1].cells, ["Ua", "0.5"]);
    assert_eq!(table.rows[2].cells, ["Ub", "12"]);
    assert!(matches!(read_table(&path, Some("nope"), &|_| {}), Err(TableError::NoSuchSheet { .. })));
}

#[test]
fn point_table_not_a_spreadsheet_is_an_error() {
    let dir = tempfile::tempdir().expect("temp dir");
    for (name, bytes) in [("a.xlsx", &b"PK\x03\x04garbage garbage"[..]), ("b.xls", b"<html><body><table></table></body></html>"), ("c.csv", b"\x00\x01\x02\xff")] {
        let path = dir.path().join(name);
        std::fs::write(&path, bytes).expect("write");
        let err = read_table(&path, None, &|_| {}).map(|_| ()).expect_err(name);
        assert!(matches!(err, TableError::NotATable { .. }), "{name}: {err}");
    }
}

#[test]
fn point_table_export_reimports_the_same_entries() {
    let dir = tempfile::tempdir().expect("temp dir");
    let model: Value = json!({"points": [
        {"id": "Ua", "name": {"zh": "电压, A", "en": "Voltage \"A\""}, "kind": "analog", "type": "float", "unit": "V", "min": 0, "max": 500.5, "period": 5, "x-modbus": {"address": 1, "dataType": "uint16"}},
        {"id": "Sw", "name": {"zh": "开关"}, "kind": "digital", "type": "int", "enum": {"0": {"zh": "分"}, "1": {"zh": "合"}}, "writable": true}
    ]});
    for ext in ["csv", "xlsx"] {
        let path = dir.path().join(format!("out.{ext}"));
        assert_eq!(export_table(&model, Section::Points, &path).expect("export"), 2);
        let table = read_table(&path, None, &|_| {}).expect("read");
        let header = find_header_row(&table.rows);
        let mapping = guess_mapping(&table.rows[header].cells);
        let plan = plan_import(&table.rows, header, &mapping, Section::Points, &json!({}));
        assert!(plan.rejected.is_empty(), "{ext}: {:?}", plan.rejected);
        let entries: Vec<Value> = plan.accepted.into_iter().map(|a| a.entry).collect();
        assert_eq!(Value::Array(entries), model["points"], "{ext}");
    }
}
