//! Rows to entries: each data row becomes a point, meter or property, or is rejected with its reason.

use std::collections::HashMap;

use serde_json::{Map, Value};

use super::header::ColumnField;
use super::text::{half_width, json_number, parse_number, parse_range};
use super::{Section, TableRow};

/// A row that became an entry.
#[derive(Debug, Clone, PartialEq)]
pub struct AcceptedRow {
    /// 1-based row number in the file.
    pub row: usize,
    pub id: String,
    pub entry: Value,
}

/// A row that did not, and why.
#[derive(Debug, Clone, PartialEq)]
pub struct RejectedRow {
    pub row: usize,
    pub id: Option<String>,
    pub reason: String,
}

/// What an import would do to a section.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ImportPlan {
    pub section: Section,
    pub accepted: Vec<AcceptedRow>,
    pub rejected: Vec<RejectedRow>,
    /// Ids already in the section, replaced in place.
    pub replaced: Vec<String>,
}

/// Turns the rows below `rows[header_index]` into entries of `section` of `model`, by `mapping`
/// (one field per column; missing columns are ignored).
pub fn plan_import(rows: &[TableRow], header_index: usize, mapping: &[ColumnField], section: Section, model: &Value) -> ImportPlan {
    let existing: std::collections::HashSet<&str> = model
        .get(section.key())
        .and_then(Value::as_array)
        .map(|items| items.iter().filter_map(|i| i.get("id").and_then(Value::as_str)).collect())
        .unwrap_or_default();
    let mut plan = ImportPlan { section, ..ImportPlan::default() };
    let mut seen: HashMap<String, usize> = HashMap::new();
    for row in rows.iter().skip(header_index + 1) {
        let cells = Cells { row, mapping };
        let id = cells.get(&ColumnField::Id).map(str::to_owned);
        let result = match &id {
            None => Err("no id".to_owned()),
            Some(id) => match seen.get(id) {
                Some(first) => Err(format!("duplicate id {id:?} (first at row {first})")),
                None => entry(&cells, id, section),
            },
        };
        match (result, id) {
            (Ok(entry), Some(id)) => {
                seen.insert(id.clone(), row.number);
                if existing.contains(id.as_str()) {
                    plan.replaced.push(id.clone());
                }
                plan.accepted.push(AcceptedRow { row: row.number, id, entry });
            }
            (Err(reason), id) => plan.rejected.push(RejectedRow { row: row.number, id, reason }),
            (Ok(_), None) => {}
        }
    }
    plan
}

/// A row's cells by field.
struct Cells<'a> {
    row: &'a TableRow,
    mapping: &'a [ColumnField],
}

impl Cells<'_> {
    /// The first non-empty cell mapped to `field`.
    fn get(&self, field: &ColumnField) -> Option<&str> {
        self.mapping
            .iter()
            .enumerate()
            .filter(|(_, f)| *f == field)
            .find_map(|(i, _)| self.row.cells.get(i).map(|c| c.trim()).filter(|c| !c.is_empty()))
    }

    /// A number cell: None when empty, an error naming the field when it does not parse.
    fn number(&self, field: &ColumnField, what: &str) -> Result<Option<f64>, String> {
        match self.get(field) {
            None => Ok(None),
            Some(text) => parse_number(text).map(Some).ok_or_else(|| format!("{what} {text:?} is not a number")),
        }
    }

    /// The `x-modbus` object: numbers where the cell is one, text otherwise.
    fn modbus(&self) -> Option<Value> {
        let mut out = Map::new();
        for (i, field) in self.mapping.iter().enumerate() {
            if let ColumnField::Modbus(key) = field
                && let Some(text) = self.row.cells.get(i).map(|c| c.trim()).filter(|c| !c.is_empty())
                && !out.contains_key(key)
            {
                let value = parse_number(text).map_or_else(|| Value::String(text.to_owned()), json_number);
                out.insert(key.clone(), value);
            }
        }
        (!out.is_empty()).then_some(Value::Object(out))
    }
}

/// What a type word says: the point kind, the value type, and whether it is written to.
#[derive(Debug, Clone, Copy, PartialEq)]
struct TypeWord {
    kind: Option<&'static str>,
    ty: Option<&'static str>,
    writable: bool,
}

fn type_word(text: &str) -> Option<TypeWord> {
    let word = half_width(text).trim().to_lowercase();
    let w = |kind, ty, writable| Some(TypeWord { kind, ty, writable });
    match word.as_str() {
        "遥测" | "yc" | "ai" | "模拟量" | "analog" => w(Some("analog"), Some("float"), false),
        "遥信" | "yx" | "di" | "开关量" | "数字量" | "状态量" | "digital" => w(Some("digital"), Some("int"), false),
        "遥控" | "yk" | "do" => w(Some("digital"), Some("int"), true),
        "遥调" | "yt" | "ao" | "设定" | "设定值" => w(Some("analog"), Some("float"), true),
        "电度" | "累计" | "电度量" | "累计量" | "电能" | "accumulator" => w(Some("accumulator"), Some("float"), false),
        "text" | "文本" => w(Some("text"), Some("string"), false),
        "float" | "real" | "double" | "float32" | "float64" | "浮点" | "浮点数" | "浮点型" => w(None, Some("float"), false),
        "int" | "integer" | "int16" | "int32" | "uint16" | "uint32" | "整数" | "整型" => w(None, Some("int"), false),
        "bool" | "boolean" | "布尔" | "布尔型" => w(Some("digital"), Some("bool"), false),
        "string" | "字符串" => w(Some("text"), Some("string"), false),
        "enum" | "枚举" => w(Some("digital"), Some("enum"), false),
        _ => None,
    }
}

/// "rw"/"读写" → Some(true), "ro"/"只读" → Some(false), with the schema's spelling.
fn access_word(text: &str) -> Option<&'static str> {
    match half_width(text).trim().to_lowercase().as_str() {
        "rw" | "r/w" | "读写" | "可读写" | "可写" | "是" | "yes" | "y" | "true" | "1" => Some("rw"),
        "ro" | "r" | "读" | "只读" | "否" | "no" | "n" | "false" | "0" => Some("ro"),
        "wo" | "w" | "写" | "只写" => Some("wo"),
        _ => None,
    }
}

/// The labels a digital point gets when the table has none (the schema wants its states listed).
fn default_states() -> Value {
    serde_json::json!({"0": {"zh": "分"}, "1": {"zh": "合"}})
}

/// One row as an entry of `section`, keys in the order the example models use.
fn entry(cells: &Cells<'_>, id: &str, section: Section) -> Result<Value, String> {
    if id.is_empty() || id.len() > 64 || !id.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return Err(format!("id {id:?} is not 1 to 64 of A-Z a-z 0-9 _"));
    }
    let mut e = Map::new();
    e.insert("id".into(), Value::String(id.to_owned()));
    let mut name = Map::new();
    if let Some(zh) = cells.get(&ColumnField::Name) {
        name.insert("zh".into(), Value::String(zh.to_owned()));
    }
    if let Some(en) = cells.get(&ColumnField::NameEn) {
        name.insert("en".into(), Value::String(en.to_owned()));
    }
    if name.is_empty() {
        return Err("no name".into());
    }
    e.insert("name".into(), Value::Object(name));
    if let Some(text) = cells.get(&ColumnField::Description) {
        e.insert("description".into(), serde_json::json!({ "zh": text }));
    }

    let from_type = match cells.get(&ColumnField::Type) {
        Some(text) => Some(type_word(text).ok_or_else(|| format!("unknown type {text:?}"))?),
        None => None,
    };
    let from_kind = match cells.get(&ColumnField::Kind) {
        Some(text) => Some(type_word(text).filter(|w| w.kind.is_some()).ok_or_else(|| format!("unknown kind {text:?}"))?),
        None => None,
    };
    let kind = from_kind.and_then(|w| w.kind).or(from_type.and_then(|w| w.kind)).unwrap_or("analog");
    let ty = from_type.and_then(|w| w.ty).or(from_kind.and_then(|w| w.ty)).unwrap_or("float");
    let word_writes = from_type.is_some_and(|w| w.writable) || from_kind.is_some_and(|w| w.writable);
    let access = match cells.get(&ColumnField::Access) {
        Some(text) => Some(access_word(text).ok_or_else(|| format!("unknown access {text:?}"))?),
        None => None,
    };

    let (mut min, mut max) = (cells.number(&ColumnField::Min, "min")?, cells.number(&ColumnField::Max, "max")?);
    if let Some(text) = cells.get(&ColumnField::Range) {
        let (lo, hi) = parse_range(text).ok_or_else(|| format!("range {text:?} is not like 0~500"))?;
        min = min.or(Some(lo));
        max = max.or(Some(hi));
    }
    if let (Some(lo), Some(hi)) = (min, max)
        && lo > hi
    {
        return Err(format!("min {lo} > max {hi}"));
    }
    let step = cells.number(&ColumnField::Step, "step")?;
    let period = cells.number(&ColumnField::Period, "period")?;
    let numeric = matches!(ty, "int" | "float");

    if section == Section::Points {
        e.insert("kind".into(), Value::String(kind.into()));
    }
    if section == Section::Meters && !numeric {
        return Err(format!("a meter is int or float, not {ty}"));
    }
    e.insert("type".into(), Value::String(ty.into()));
    if let Some(unit) = cells.get(&ColumnField::Unit) {
        e.insert("unit".into(), Value::String(unit.to_owned()));
    }
    if section != Section::Meters && numeric {
        for (key, n) in [("min", min), ("max", max), ("step", step)] {
            if let Some(n) = n {
                e.insert(key.into(), json_number(n));
            }
        }
    }
    if section != Section::Properties
        && let Some(p) = period
    {
        e.insert("period".into(), json_number(p));
    }
    let needs_states = ty == "enum" || (section == Section::Points && kind == "digital");
    if needs_states {
        e.insert("enum".into(), default_states());
    }
    match section {
        Section::Points => {
            if word_writes || matches!(access, Some("rw" | "wo")) {
                e.insert("writable".into(), Value::Bool(true));
            }
        }
        Section::Properties => {
            let access = access.unwrap_or(if word_writes { "rw" } else { "ro" });
            e.insert("access".into(), Value::String(access.into()));
        }
        Section::Meters => {}
    }
    if let Some(modbus) = cells.modbus() {
        e.insert("x-modbus".into(), modbus);
    }
    Ok(Value::Object(e))
}
