//! A request's parameters (§2, §6), read from its JSON object and checked: each fault is the
//! contract's code with a message naming the field.

use serde_json::{Map, Value};

use super::codes::ApiCode;
use super::interface::{Family, Interface, Shape};
use super::time::{Period, parse_request_time};

/// Most ids in `pointIds`, `items` and `parameterIds`.
pub const MAX_POINT_IDS: usize = 100;
pub const MAX_PARAMETER_IDS: usize = 50;
pub const DEFAULT_PAGE_SIZE: u64 = 100;
/// Longest range of a historic request (31 days) and of a statistic one (366 days).
pub const MAX_HISTORIC_RANGE_MS: i64 = 31 * 86_400_000;
pub const MAX_STATISTIC_RANGE_MS: i64 = 366 * 86_400_000;

/// A refused request: its code and a message naming what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestError {
    pub code: ApiCode,
    pub msg: String,
}

impl RequestError {
    pub fn new(code: ApiCode, msg: impl Into<String>) -> Self {
        RequestError { code, msg: msg.into() }
    }

    fn param(msg: impl Into<String>) -> Self {
        RequestError::new(ApiCode::BadParameter, msg)
    }
}

impl std::fmt::Display for RequestError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code.number(), self.msg)
    }
}

/// `pageNo` (from 1) and `pageSize`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Paging {
    pub page_no: u64,
    pub page_size: u64,
}

impl Default for Paging {
    fn default() -> Self {
        Paging { page_no: 1, page_size: DEFAULT_PAGE_SIZE }
    }
}

impl Paging {
    /// The index range of this page in a list of `total` items (empty past the end).
    pub fn range(self, total: u64) -> std::ops::Range<u64> {
        let start = (self.page_no - 1).saturating_mul(self.page_size).min(total);
        let end = start.saturating_add(self.page_size).min(total);
        start..end
    }

    pub fn page(self, total: u64) -> super::model::Page {
        super::model::Page { page_no: self.page_no, page_size: self.page_size, total }
    }

    /// This page of `items`.
    pub fn slice<T>(self, items: Vec<T>) -> Vec<T> {
        let range = self.range(items.len() as u64);
        items.into_iter().skip(range.start as usize).take((range.end - range.start) as usize).collect()
    }
}

/// A statistic: mean, extremes, sum, or the energy used (`delta`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Stat {
    Avg,
    Min,
    Max,
    Sum,
    Delta,
}

impl Stat {
    pub const ALL: [Stat; 5] = [Stat::Avg, Stat::Min, Stat::Max, Stat::Sum, Stat::Delta];

    pub fn as_str(self) -> &'static str {
        match self {
            Stat::Avg => "avg",
            Stat::Min => "min",
            Stat::Max => "max",
            Stat::Sum => "sum",
            Stat::Delta => "delta",
        }
    }

    pub fn parse(text: &str) -> Option<Stat> {
        Stat::ALL.into_iter().find(|s| s.as_str() == text)
    }
}

/// One item of `GetPointStatisticData` (10.4).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatItem {
    pub point_id: String,
    pub parameter_id: String,
    pub stat: Stat,
}

/// A request's parameters besides `cemsId`, as its interface takes them.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ApiRequest {
    pub paging: Paging,
    /// Empty when the interface takes none.
    pub point_ids: Vec<String>,
    /// `None`: every parameter (the interface takes none, or an optional one was left out).
    pub parameter_ids: Option<Vec<String>>,
    pub category_id: Option<String>,
    /// [from, to) in epoch ms, for historic and statistic requests.
    pub range: Option<(i64, i64)>,
    pub period: Option<Period>,
    pub stat: Option<Stat>,
    /// 10.4 only.
    pub items: Vec<StatItem>,
}

/// `cemsId`, a non-empty string.
pub fn cems_id_of(body: &Map<String, Value>) -> Result<String, RequestError> {
    match body.get("cemsId") {
        None => Err(RequestError::param("cemsId is missing")),
        Some(Value::String(s)) if !s.is_empty() => Ok(s.clone()),
        Some(_) => Err(RequestError::param("cemsId must be a non-empty string")),
    }
}

impl ApiRequest {
    /// Reads what `interface` takes from `body`; unknown fields are ignored (5.6).
    pub fn parse(interface: Interface, body: &Map<String, Value>) -> Result<ApiRequest, RequestError> {
        let mut request = ApiRequest::default();
        if interface.paged() {
            request.paging = paging(body, interface.max_page_size())?;
        }
        let is_items = interface.family == Family::Statistic && interface.shape == Shape::Point;
        let takes_points = matches!(interface.shape, Shape::Point | Shape::PointFull | Shape::PointSpecCategory) && !is_items;
        if takes_points {
            request.point_ids = id_list(body, "pointIds", MAX_POINT_IDS)?;
        }
        if matches!(interface.shape, Shape::CemsSpecCategory | Shape::PointSpecCategory) {
            request.category_id = Some(string(body, "categoryId")?);
        }
        if interface.family != Family::Static && !is_items {
            request.parameter_ids = match interface.shape {
                Shape::Cems | Shape::Point => Some(id_list(body, "parameterIds", MAX_PARAMETER_IDS)?),
                Shape::CemsSpecCategory if body.contains_key("parameterIds") => Some(id_list(body, "parameterIds", MAX_PARAMETER_IDS)?),
                _ => None,
            };
        }
        if matches!(interface.family, Family::Historic | Family::Statistic) {
            request.range = Some(range(body, interface.family)?);
        }
        if interface.family == Family::Statistic {
            let period = string(body, "period")?;
            request.period = Some(Period::parse(&period).ok_or_else(|| RequestError::param(format!("period {period:?}: expected hour, day or month")))?);
            if is_items {
                request.items = items(body)?;
            } else {
                request.stat = Some(stat(&string(body, "stat")?, "stat")?);
            }
        }
        Ok(request)
    }
}

fn string(body: &Map<String, Value>, field: &str) -> Result<String, RequestError> {
    match body.get(field) {
        None => Err(RequestError::param(format!("{field} is missing"))),
        Some(Value::String(s)) if !s.is_empty() => Ok(s.clone()),
        Some(_) => Err(RequestError::param(format!("{field} must be a non-empty string"))),
    }
}

fn stat(text: &str, field: &str) -> Result<Stat, RequestError> {
    Stat::parse(text).ok_or_else(|| RequestError::param(format!("{field} {text:?}: expected avg, min, max, sum or delta")))
}

/// An array of 1..=max non-empty strings, without repeats (a repeat is kept once).
fn id_list(body: &Map<String, Value>, field: &str, max: usize) -> Result<Vec<String>, RequestError> {
    let Some(value) = body.get(field) else { return Err(RequestError::param(format!("{field} is missing"))) };
    let Some(array) = value.as_array() else { return Err(RequestError::param(format!("{field} must be an array of strings"))) };
    if array.is_empty() || array.len() > max {
        return Err(RequestError::param(format!("{field} must hold 1 to {max} ids, not {}", array.len())));
    }
    let mut ids: Vec<String> = Vec::with_capacity(array.len());
    for (i, v) in array.iter().enumerate() {
        match v.as_str() {
            Some(s) if !s.is_empty() => {
                if !ids.iter().any(|id| id == s) {
                    ids.push(s.to_owned());
                }
            }
            _ => return Err(RequestError::param(format!("{field}[{i}] must be a non-empty string"))),
        }
    }
    Ok(ids)
}

fn paging(body: &Map<String, Value>, max_size: u64) -> Result<Paging, RequestError> {
    let number = |field: &str, default: u64, max: u64| -> Result<u64, RequestError> {
        match body.get(field) {
            None => Ok(default),
            Some(v) => match v.as_u64() {
                Some(n) if (1..=max).contains(&n) => Ok(n),
                _ => Err(RequestError::param(format!("{field} must be an integer from 1 to {max}"))),
            },
        }
    };
    Ok(Paging { page_no: number("pageNo", 1, u64::from(u32::MAX))?, page_size: number("pageSize", DEFAULT_PAGE_SIZE.min(max_size), max_size)? })
}

fn range(body: &Map<String, Value>, family: Family) -> Result<(i64, i64), RequestError> {
    let time = |field: &str| -> Result<i64, RequestError> {
        let text = string(body, field)?;
        parse_request_time(&text)
            .ok_or_else(|| RequestError::param(format!("{field} {text:?}: expected ISO 8601 with an offset, e.g. 2026-12-02T13:45:00.000+08:00")))
    };
    let (from, to) = (time("from")?, time("to")?);
    let longest = if family == Family::Historic { MAX_HISTORIC_RANGE_MS } else { MAX_STATISTIC_RANGE_MS };
    if from >= to {
        return Err(RequestError::new(ApiCode::BadTimeRange, "from must be before to"));
    }
    if to - from > longest {
        return Err(RequestError::new(ApiCode::BadTimeRange, format!("the range is longer than {} days", longest / 86_400_000)));
    }
    Ok((from, to))
}

fn items(body: &Map<String, Value>) -> Result<Vec<StatItem>, RequestError> {
    let Some(array) = body.get("items").and_then(Value::as_array) else {
        return Err(RequestError::param("items is missing or not an array"));
    };
    if array.is_empty() || array.len() > MAX_POINT_IDS {
        return Err(RequestError::param(format!("items must hold 1 to {MAX_POINT_IDS} entries, not {}", array.len())));
    }
    array
        .iter()
        .enumerate()
        .map(|(i, item)| {
            let Some(object) = item.as_object() else { return Err(RequestError::param(format!("items[{i}] must be an object"))) };
            let field = |name: &str| string(object, name).map_err(|e| RequestError::param(format!("items[{i}].{}", e.msg)));
            Ok(StatItem { point_id: field("pointId")?, parameter_id: field("parameterId")?, stat: stat(&field("stat")?, &format!("items[{i}].stat"))? })
        })
        .collect()
}
