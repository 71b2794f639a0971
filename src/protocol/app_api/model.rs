//! The basic information model (§5): what the answers carry. Field names are the contract's.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::protocol::model::{Category as ModelCategory, LocalizedText};

/// A name in both languages, `{zh, en}`; a missing language is filled from the other.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Name {
    pub zh: String,
    pub en: String,
}

impl Name {
    pub fn same(text: &str) -> Name {
        Name { zh: text.to_owned(), en: text.to_owned() }
    }

    pub fn of(text: &LocalizedText, fallback: &str) -> Name {
        let zh = text.zh.clone().or_else(|| text.en.clone()).unwrap_or_else(|| fallback.to_owned());
        let en = text.en.clone().or_else(|| text.zh.clone()).unwrap_or_else(|| fallback.to_owned());
        Name { zh, en }
    }
}

/// The names of the standard categories (product-model.md); a vendor's `x-…` is named by its id.
pub fn category_name(category: &ModelCategory) -> Name {
    let (zh, en) = match category {
        ModelCategory::Gateway => ("网关", "Gateway"),
        ModelCategory::Meter => ("电表", "Meter"),
        ModelCategory::Pcs => ("储能变流器", "Power conversion system"),
        ModelCategory::Bms => ("电池管理系统", "Battery management system"),
        ModelCategory::Pv => ("光伏逆变器", "PV inverter"),
        ModelCategory::Charger => ("充电桩", "Charger"),
        ModelCategory::Hvac => ("暖通空调", "HVAC"),
        ModelCategory::Lighting => ("照明", "Lighting"),
        ModelCategory::Load => ("负荷", "Load"),
        ModelCategory::Other => ("其他", "Other"),
        ModelCategory::Vendor(id) => return Name::same(id),
    };
    Name { zh: zh.to_owned(), en: en.to_owned() }
}

/// A parameter's kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ParameterKind {
    Analog,
    Digital,
    Accumulator,
    Text,
    Meter,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SimpleCategory {
    pub category_id: String,
    pub name: Name,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Category {
    pub category_id: String,
    pub name: Name,
    pub point_count: u64,
    /// The union over its points.
    pub parameters: Vec<Parameter>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DataCount {
    pub point_count: u64,
    pub online_point_count: u64,
    pub parameter_count: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Cems {
    pub cems_id: String,
    pub name: Name,
    pub address: String,
    /// `±HH:MM`.
    pub timezone: String,
    pub categories: Vec<SimpleCategory>,
    pub data_count: DataCount,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Parameter {
    pub parameter_id: String,
    pub name: Name,
    pub unit: String,
    pub kind: ParameterKind,
    /// The model's value type (`float`, `int`, `bool`, `enum`, `string`, …).
    #[serde(rename = "type")]
    pub value_type: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SimplePoint {
    pub point_id: String,
    pub name: Name,
    pub category_id: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Point {
    pub point_id: String,
    pub name: Name,
    pub category_id: String,
    pub pk: String,
    pub dev: String,
    pub sub: String,
    pub product_key: String,
    pub vendor: Name,
    pub model: String,
    pub online: bool,
    pub parameters: Vec<Parameter>,
}

impl Point {
    pub fn simple(&self) -> SimplePoint {
        SimplePoint { point_id: self.point_id.clone(), name: self.name.clone(), category_id: self.category_id.clone() }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Sample {
    pub time: String,
    pub value: Value,
    pub quality: u8,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DynamicData {
    pub point_id: String,
    pub parameter_id: String,
    pub value: Value,
    pub quality: u8,
    pub time: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HistoricData {
    pub point_id: String,
    pub parameter_id: String,
    pub values: Vec<Sample>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SimpleStatisticPoint {
    pub point_id: String,
    pub parameter_id: String,
    pub stat: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StatisticValue {
    pub start: String,
    pub value: f64,
    pub count: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StatisticData {
    pub point_id: String,
    pub parameter_id: String,
    pub stat: String,
    pub period: String,
    pub values: Vec<StatisticValue>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Page {
    pub page_no: u64,
    pub page_size: u64,
    pub total: u64,
}
