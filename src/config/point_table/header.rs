//! Which column is which field: the header row found among title rows, and a guess from the
//! header words in Chinese or English, overridable per column.

use super::TableRow;
use super::text::half_width;

/// The Modbus columns kept under an entry's `x-modbus` object.
pub const MODBUS_FIELDS: &[&str] = &["address", "register", "function", "scale", "dataType"];

/// The field a column fills.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum ColumnField {
    #[default]
    Ignore,
    Id,
    Name,
    NameEn,
    Description,
    Kind,
    Type,
    Unit,
    Min,
    Max,
    /// "0~500": both min and max.
    Range,
    Step,
    Access,
    Period,
    /// A key of the entry's `x-modbus` object.
    Modbus(String),
}

/// Header words per field (compared after half-width, lower case, spaces and brackets removed).
const WORDS: &[(&str, &[&str])] = &[
    ("ignore", &["序号", "no", "no.", "#", "index", "seq", "行号"]),
    ("id", &["id", "pid", "pointid", "点号", "标识", "标识符", "点标识", "tag", "测点标识"]),
    ("name.en", &["英文名", "英文名称", "name_en", "nameen", "englishname", "en"]),
    ("name", &["名称", "点名", "点名称", "中文名", "中文名称", "测点名称", "name", "信号名称"]),
    ("description", &["描述", "说明", "备注", "description", "remark", "note"]),
    ("kind", &["kind", "种类", "点类型", "信号类型"]),
    ("type", &["类型", "type", "值类型", "valuetype"]),
    ("unit", &["单位", "unit", "units"]),
    ("min", &["最小值", "下限", "最小", "min", "minimum"]),
    ("max", &["最大值", "上限", "最大", "max", "maximum"]),
    ("range", &["量程", "范围", "range"]),
    ("step", &["步长", "精度", "step"]),
    ("access", &["读写", "读写属性", "权限", "access", "rw", "r/w", "可写", "writable"]),
    ("period", &["周期", "上报周期", "period", "周期(s)"]),
    ("x-modbus.address", &["地址", "address", "寄存器地址", "modbus地址"]),
    ("x-modbus.register", &["寄存器", "register", "寄存器类型"]),
    ("x-modbus.function", &["功能码", "function", "functioncode", "fc"]),
    ("x-modbus.scale", &["系数", "倍率", "scale", "比例", "factor"]),
    ("x-modbus.dataType", &["数据类型", "datatype", "数据格式"]),
];

impl ColumnField {
    /// The field's spelling in `--map` and in the dialog: `id name name.en … x-modbus.address`.
    pub fn name(&self) -> String {
        match self {
            ColumnField::Ignore => "ignore".into(),
            ColumnField::Id => "id".into(),
            ColumnField::Name => "name".into(),
            ColumnField::NameEn => "name.en".into(),
            ColumnField::Description => "description".into(),
            ColumnField::Kind => "kind".into(),
            ColumnField::Type => "type".into(),
            ColumnField::Unit => "unit".into(),
            ColumnField::Min => "min".into(),
            ColumnField::Max => "max".into(),
            ColumnField::Range => "range".into(),
            ColumnField::Step => "step".into(),
            ColumnField::Access => "access".into(),
            ColumnField::Period => "period".into(),
            ColumnField::Modbus(key) => format!("x-modbus.{key}"),
        }
    }

    /// A field by its spelling (see [`ColumnField::name`]); None for an unknown one.
    pub fn parse(name: &str) -> Option<ColumnField> {
        let name = name.trim();
        if let Some(key) = name.strip_prefix("x-modbus.") {
            let valid = !key.is_empty() && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
            return valid.then(|| ColumnField::Modbus(key.to_owned()));
        }
        Some(match name.to_ascii_lowercase().as_str() {
            "ignore" | "-" | "" => ColumnField::Ignore,
            "id" => ColumnField::Id,
            "name" | "name.zh" => ColumnField::Name,
            "name.en" => ColumnField::NameEn,
            "description" => ColumnField::Description,
            "kind" => ColumnField::Kind,
            "type" => ColumnField::Type,
            "unit" => ColumnField::Unit,
            "min" => ColumnField::Min,
            "max" => ColumnField::Max,
            "range" => ColumnField::Range,
            "step" => ColumnField::Step,
            "access" | "writable" => ColumnField::Access,
            "period" => ColumnField::Period,
            _ => return None,
        })
    }

    /// Every field a column can be mapped to, for pickers.
    pub fn choices() -> Vec<ColumnField> {
        let mut all: Vec<ColumnField> = WORDS.iter().filter_map(|(name, _)| ColumnField::parse(name)).collect();
        all.retain(|f| *f != ColumnField::Ignore);
        all.insert(0, ColumnField::Ignore);
        all
    }
}

/// The header's words compared: half-width, lower case, without spaces.
fn squash(text: &str) -> String {
    half_width(text).to_lowercase().chars().filter(|c| !c.is_whitespace()).collect()
}

/// The field a header names: the whole text, then each part in or out of brackets
/// ("单位(Unit)", "最小值（min）", "[id]"), each matched exactly, then by the longest word it holds.
pub fn guess_field(header: &str) -> Option<ColumnField> {
    if header.trim().starts_with("x-modbus.") {
        return ColumnField::parse(header);
    }
    let text = squash(header);
    if text.is_empty() {
        return None;
    }
    let mut candidates = vec![text.clone()];
    candidates.extend(text.split(['(', ')', '[', ']', '{', '}', '<', '>', '【', '】', '/', ':', '：']).filter(|p| !p.is_empty()).map(str::to_owned));
    let exact = |word: &str| WORDS.iter().find(|(_, words)| words.contains(&word)).and_then(|(name, _)| ColumnField::parse(name));
    if let Some(field) = candidates.iter().find_map(|c| exact(c)) {
        return Some(field);
    }
    // "测点名称" holds "名称"; the longest word wins so "数据类型" is not "类型". Only words of
    // two or more characters (CJK) or four or more letters, so "en" or "id" inside a word do not count.
    let mut best: Option<(&str, usize)> = None;
    for (name, words) in WORDS {
        for word in *words {
            let long_enough = if word.is_ascii() { word.len() >= 4 } else { word.chars().count() >= 2 };
            if long_enough && text.contains(word) && best.is_none_or(|(_, len)| word.len() > len) {
                best = Some((name, word.len()));
            }
        }
    }
    best.and_then(|(name, _)| ColumnField::parse(name))
}

/// A field per header cell, Ignore where nothing fits.
pub fn guess_mapping(header: &[String]) -> Vec<ColumnField> {
    header.iter().map(|h| guess_field(h).unwrap_or_default()).collect()
}

/// The index in `rows` of the header: the first row where at least two cells name known fields
/// (title rows above it are skipped), or the row under it when that names as many; the first
/// row when none does.
pub fn find_header_row(rows: &[TableRow]) -> usize {
    let known = |row: &TableRow| row.cells.iter().filter(|c| guess_field(c).is_some_and(|f| f != ColumnField::Ignore)).count();
    let Some(mut at) = rows.iter().position(|row| known(row) >= 2) else { return 0 };
    // A header over two rows ("量程" merged above "最小值 | 最大值", other cells merged down):
    // with merged cells filled, the lower row names at least as many fields and is the one to use.
    while let Some(next) = rows.get(at + 1)
        && next.number == rows[at].number + 1
        && known(next) >= known(&rows[at]).max(2)
    {
        at += 1;
    }
    at
}

/// Column `index` (0-based) as its letters: 0 → A, 26 → AA.
pub fn column_letter(index: usize) -> String {
    let mut n = index + 1;
    let mut letters = Vec::new();
    while n > 0 {
        let rem = (n - 1) % 26;
        letters.push(b'A' + rem as u8);
        n = (n - 1) / 26;
    }
    letters.reverse();
    String::from_utf8(letters).unwrap_or_default()
}

/// The column a `--map` key names: a header's text first, then a column letter ("C").
pub fn parse_column_ref(key: &str, header: &[String]) -> Option<usize> {
    let key = key.trim();
    if let Some(i) = header.iter().position(|h| h == key).or_else(|| header.iter().position(|h| squash(h) == squash(key))) {
        return Some(i);
    }
    if key.is_empty() || key.len() > 3 || !key.chars().all(|c| c.is_ascii_alphabetic()) {
        return None;
    }
    let index = key.to_ascii_uppercase().bytes().fold(0usize, |n, b| n * 26 + usize::from(b - b'A' + 1)) - 1;
    Some(index)
}
