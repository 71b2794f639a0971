//! A section written back out as a point table: CSV (UTF-8 with BOM, so Excel shows Chinese right)
//! or XLSX by the file's extension. The headers are ones the import recognises, so a table
//! exported and imported again gives the same entries.

use std::path::Path;

use serde_json::Value;

use super::xlsx_writer::{Cell, write_xlsx};
use super::{MODBUS_FIELDS, Section};

/// The header row and one row per entry of `section`.
pub fn export_rows(model: &Value, section: Section) -> Vec<Vec<String>> {
    cells(model, section).into_iter().map(|row| row.into_iter().map(Cell::into_text).collect()).collect()
}

/// Writes `section` of `model` to `path` (.csv or .xlsx), atomically.
pub fn export_table(model: &Value, section: Section, path: &Path) -> anyhow::Result<usize> {
    let rows = cells(model, section);
    let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("").to_ascii_lowercase();
    let data = match ext.as_str() {
        "csv" => csv_bytes(&rows),
        "xlsx" => write_xlsx(section.key(), &rows)?,
        _ => anyhow::bail!("{}: write a .csv or .xlsx file", path.display()),
    };
    crate::disk::write_atomic(path, &data).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    Ok(rows.len().saturating_sub(1))
}

/// The columns of a section: (header, how to read it from an entry).
fn columns(section: Section) -> Vec<(&'static str, &'static str)> {
    let mut out = vec![("标识(id)", "id"), ("名称(name)", "name.zh"), ("英文名(English name)", "name.en")];
    if section == Section::Points {
        out.push(("种类(kind)", "kind"));
    }
    out.extend([("类型(type)", "type"), ("单位(unit)", "unit")]);
    if section != Section::Meters {
        out.extend([("最小值(min)", "min"), ("最大值(max)", "max"), ("步长(step)", "step"), ("读写(access)", "access")]);
    }
    if section != Section::Properties {
        out.push(("周期(period)", "period"));
    }
    out
}

fn cells(model: &Value, section: Section) -> Vec<Vec<Cell>> {
    let items: &[Value] = model.get(section.key()).and_then(Value::as_array).map_or(&[], Vec::as_slice);
    // x-modbus keys: the known ones first, then any other in the order first seen.
    let mut modbus: Vec<String> = Vec::new();
    for item in items {
        if let Some(fields) = item.get("x-modbus").and_then(Value::as_object) {
            for key in fields.keys() {
                if !modbus.contains(key) {
                    modbus.push(key.clone());
                }
            }
        }
    }
    modbus.sort_by_key(|k| MODBUS_FIELDS.iter().position(|f| f == k).unwrap_or(MODBUS_FIELDS.len()));
    let columns = columns(section);
    let mut header: Vec<Cell> = columns.iter().map(|(h, _)| Cell::Text((*h).to_owned())).collect();
    header.extend(modbus.iter().map(|k| Cell::Text(format!("x-modbus.{k}"))));
    let mut rows = vec![header];
    for item in items {
        let mut row: Vec<Cell> = columns.iter().map(|(_, key)| field(item, key, section)).collect();
        row.extend(modbus.iter().map(|k| item.get("x-modbus").and_then(|m| m.get(k)).map_or(Cell::Text(String::new()), Cell::of)));
        rows.push(row);
    }
    rows
}

fn field(item: &Value, key: &str, section: Section) -> Cell {
    let empty = Cell::Text(String::new());
    match key {
        "name.zh" | "name.en" => {
            let lang = &key[5..];
            match item.get("name") {
                Some(Value::String(s)) if lang == "zh" => Cell::Text(s.clone()),
                Some(Value::Object(m)) => m.get(lang).map_or(empty, Cell::of),
                _ => empty,
            }
        }
        "access" if section == Section::Points => {
            let writable = item.get("writable").and_then(Value::as_bool).unwrap_or(false);
            Cell::Text(if writable { "rw" } else { "ro" }.to_owned())
        }
        _ => item.get(key).map_or(empty, Cell::of),
    }
}

fn csv_bytes(rows: &[Vec<Cell>]) -> Vec<u8> {
    let mut out = String::from("\u{FEFF}");
    for row in rows {
        let line: Vec<String> = row.iter().map(|c| csv_cell(&c.text())).collect();
        out.push_str(&line.join(","));
        out.push_str("\r\n");
    }
    out.into_bytes()
}

fn csv_cell(text: &str) -> String {
    if text.contains([',', '"', '\n', '\r', ';', '\t']) || text.starts_with(' ') || text.ends_with(' ') {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_owned()
    }
}
