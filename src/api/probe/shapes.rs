//! The information model's shapes (§5) as checks on JSON: each problem is one line naming the
//! JSON path, what was expected and what came (`data.cems.timezone: expected ±HH:MM, found 8`).

use serde_json::{Map, Value};

use crate::protocol::app_api::TzOffset;
use crate::protocol::app_api::time::is_answer_time;

/// The problems found, each with its path.
#[derive(Debug, Default)]
pub struct Problems(pub Vec<String>);

impl Problems {
    pub fn push(&mut self, at: &str, what: impl std::fmt::Display) {
        // A broken list would repeat one fault per element: a few are enough to read.
        if self.0.len() < 20 {
            self.0.push(format!("{at}: {what}"));
        }
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

fn found(v: Option<&Value>) -> String {
    match v {
        None => "missing".to_owned(),
        Some(v) => {
            let text = v.to_string();
            if text.len() > 60 { format!("found {}…", &text[..text.floor_char_boundary(60)]) } else { format!("found {text}") }
        }
    }
}

pub fn string<'v>(p: &mut Problems, o: &'v Map<String, Value>, at: &str, key: &str) -> Option<&'v str> {
    let v = o.get(key);
    match v.and_then(Value::as_str) {
        Some(s) => Some(s),
        None => {
            p.push(&format!("{at}.{key}"), format!("expected a string, {}", found(v)));
            None
        }
    }
}

fn one_of(p: &mut Problems, o: &Map<String, Value>, at: &str, key: &str, allowed: &[&str]) {
    if let Some(s) = string(p, o, at, key)
        && !allowed.contains(&s)
    {
        p.push(&format!("{at}.{key}"), format!("expected one of {}, found {s:?}", allowed.join(", ")));
    }
}

fn integer(p: &mut Problems, o: &Map<String, Value>, at: &str, key: &str) -> Option<u64> {
    let v = o.get(key);
    let n = v.and_then(Value::as_u64);
    if n.is_none() {
        p.push(&format!("{at}.{key}"), format!("expected a non-negative integer, {}", found(v)));
    }
    n
}

fn number(p: &mut Problems, o: &Map<String, Value>, at: &str, key: &str) {
    let v = o.get(key);
    if !v.is_some_and(Value::is_number) {
        p.push(&format!("{at}.{key}"), format!("expected a number, {}", found(v)));
    }
}

fn boolean(p: &mut Problems, o: &Map<String, Value>, at: &str, key: &str) {
    let v = o.get(key);
    if !v.is_some_and(Value::is_boolean) {
        p.push(&format!("{at}.{key}"), format!("expected true or false, {}", found(v)));
    }
}

fn scalar(p: &mut Problems, o: &Map<String, Value>, at: &str, key: &str) {
    let v = o.get(key);
    if !v.is_some_and(|v| v.is_number() || v.is_boolean() || v.is_string() || v.is_null()) {
        p.push(&format!("{at}.{key}"), format!("expected a number, bool, string or null, {}", found(v)));
    }
}

fn time(p: &mut Problems, o: &Map<String, Value>, at: &str, key: &str) {
    if let Some(s) = string(p, o, at, key)
        && !is_answer_time(s)
    {
        p.push(&format!("{at}.{key}"), format!("expected YYYY-MM-DDTHH:MM:SS.mmm±HH:MM, found {s:?}"));
    }
}

fn name(p: &mut Problems, o: &Map<String, Value>, at: &str, key: &str) {
    let here = format!("{at}.{key}");
    match o.get(key).and_then(Value::as_object) {
        Some(n) => {
            string(p, n, &here, "zh");
            string(p, n, &here, "en");
        }
        None => p.push(&here, format!("expected a {{zh, en}} name, {}", found(o.get(key)))),
    }
}

/// `key` as an object, or a problem.
pub fn object<'v>(p: &mut Problems, o: &'v Map<String, Value>, at: &str, key: &str) -> Option<&'v Map<String, Value>> {
    let v = o.get(key);
    let obj = v.and_then(Value::as_object);
    if obj.is_none() {
        p.push(&format!("{at}.{key}"), format!("expected an object, {}", found(v)));
    }
    obj
}

/// `key` as an array of objects, each checked by `each`; the objects.
pub fn list<'v>(p: &mut Problems, o: &'v Map<String, Value>, at: &str, key: &str, each: fn(&mut Problems, &Map<String, Value>, &str)) -> Vec<&'v Map<String, Value>> {
    let here = format!("{at}.{key}");
    let Some(array) = o.get(key).and_then(Value::as_array) else {
        p.push(&here, format!("expected an array, {}", found(o.get(key))));
        return Vec::new();
    };
    let mut out = Vec::with_capacity(array.len());
    for (i, item) in array.iter().enumerate() {
        let at = format!("{here}[{i}]");
        match item.as_object() {
            Some(obj) => {
                each(p, obj, &at);
                out.push(obj);
            }
            None => p.push(&at, format!("expected an object, {}", found(Some(item)))),
        }
    }
    out
}

pub fn simple_category(p: &mut Problems, o: &Map<String, Value>, at: &str) {
    string(p, o, at, "categoryId");
    name(p, o, at, "name");
}

pub fn cems(p: &mut Problems, o: &Map<String, Value>, at: &str) {
    string(p, o, at, "cemsId");
    name(p, o, at, "name");
    string(p, o, at, "address");
    if let Some(tz) = string(p, o, at, "timezone")
        && (tz == "Z" || TzOffset::parse(tz).is_none())
    {
        p.push(&format!("{at}.timezone"), format!("expected ±HH:MM, found {tz:?}"));
    }
    list(p, o, at, "categories", simple_category);
    if let Some(count) = object(p, o, at, "dataCount") {
        let here = format!("{at}.dataCount");
        for key in ["pointCount", "onlinePointCount", "parameterCount"] {
            integer(p, count, &here, key);
        }
    }
}

pub fn parameter(p: &mut Problems, o: &Map<String, Value>, at: &str) {
    string(p, o, at, "parameterId");
    name(p, o, at, "name");
    string(p, o, at, "unit");
    one_of(p, o, at, "kind", &["analog", "digital", "accumulator", "text", "meter"]);
    string(p, o, at, "type");
}

pub fn category(p: &mut Problems, o: &Map<String, Value>, at: &str) {
    simple_category(p, o, at);
    integer(p, o, at, "pointCount");
    list(p, o, at, "parameters", parameter);
}

pub fn simple_point(p: &mut Problems, o: &Map<String, Value>, at: &str) {
    string(p, o, at, "pointId");
    name(p, o, at, "name");
    string(p, o, at, "categoryId");
}

pub fn point(p: &mut Problems, o: &Map<String, Value>, at: &str) {
    simple_point(p, o, at);
    for key in ["pk", "dev", "sub", "productKey", "model"] {
        string(p, o, at, key);
    }
    name(p, o, at, "vendor");
    boolean(p, o, at, "online");
    list(p, o, at, "parameters", parameter);
}

pub fn dynamic(p: &mut Problems, o: &Map<String, Value>, at: &str) {
    string(p, o, at, "pointId");
    string(p, o, at, "parameterId");
    scalar(p, o, at, "value");
    integer(p, o, at, "quality");
    time(p, o, at, "time");
}

fn sample(p: &mut Problems, o: &Map<String, Value>, at: &str) {
    time(p, o, at, "time");
    scalar(p, o, at, "value");
    integer(p, o, at, "quality");
}

pub fn historic(p: &mut Problems, o: &Map<String, Value>, at: &str) {
    string(p, o, at, "pointId");
    string(p, o, at, "parameterId");
    list(p, o, at, "values", sample);
}

fn statistic_value(p: &mut Problems, o: &Map<String, Value>, at: &str) {
    time(p, o, at, "start");
    number(p, o, at, "value");
    integer(p, o, at, "count");
}

pub fn statistic(p: &mut Problems, o: &Map<String, Value>, at: &str) {
    string(p, o, at, "pointId");
    string(p, o, at, "parameterId");
    one_of(p, o, at, "stat", &["avg", "min", "max", "sum", "delta"]);
    one_of(p, o, at, "period", &["hour", "day", "month"]);
    list(p, o, at, "values", statistic_value);
}

/// `page` = `{pageNo, pageSize, total}`; (pageNo, pageSize, total) when well formed.
pub fn page(p: &mut Problems, answer: &Map<String, Value>) -> Option<(u64, u64, u64)> {
    let page = object(p, answer, "", "page")?;
    let no = integer(p, page, ".page", "pageNo");
    let size = integer(p, page, ".page", "pageSize");
    let total = integer(p, page, ".page", "total");
    Some((no?, size?, total?))
}

/// An answer's parts: (code, the whole answer object, its `data`).
pub type Envelope<'v> = (i64, &'v Map<String, Value>, &'v Map<String, Value>);

/// The envelope `{code: int, msg: string, data: object}`.
pub fn envelope<'v>(p: &mut Problems, answer: &'v Value) -> Option<Envelope<'v>> {
    let Some(o) = answer.as_object() else {
        p.push("answer", format!("expected a JSON object, {}", found(Some(answer))));
        return None;
    };
    let code = o.get("code").and_then(Value::as_i64);
    if code.is_none() {
        p.push(".code", format!("expected an integer, {}", found(o.get("code"))));
    }
    string(p, o, "", "msg");
    let data = object(p, o, "", "data")?;
    Some((code?, o, data))
}
