//! A CEMS payload's points (`data.points`) and meter readings (`data.readings`) matched by
//! sub-device and id between two messages, so the diff says `meter-1/Ua` changed rather than
//! `points[0].v`, and a reordered or longer list is not a cascade of index shifts. A list where an
//! item has no key, or a key repeats (a history batch holds many samples of one point), is left
//! to the index-by-index comparison.

use std::collections::HashMap;
use std::hash::Hash;

use serde_json::{Map, Value};


/// A point or a meter reading of a CEMS payload, as the contract keys it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ItemRef {
    pub kind: ItemKind,
    /// The sub-device (`meter-1`); `None` when the item names none.
    pub sub: Option<String>,
    /// Point id (`Ua`) or meter id (`EpImp`).
    pub id: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ItemKind {
    Point,
    Meter,
}

impl ItemRef {
    /// `meter-1/Ua`, or `Ua` without a sub-device.
    pub fn name(&self) -> String {
        match &self.sub {
            Some(sub) => format!("{sub}/{}", self.id),
            None => self.id.clone(),
        }
    }
}

/// One difference of two JSON values, at a path such as `data.id` (`$` is the root).
#[derive(Debug, Clone, PartialEq)]
pub enum Change {
    Added { path: String, new: Value },
    Removed { path: String, old: Value },
    Changed { path: String, old: Value, new: Value },
    /// A CEMS point or meter reading matched by sub-device and id in both payloads, so a
    /// reordered or longer list is not shown as index shifts. `field`: `None` for the value,
    /// else the point's other field (`q`, `ts`); `old`/`new` absent when only one side has it.
    Item { item: ItemRef, field: Option<String>, old: Option<Value>, new: Option<Value> },
}

/// Diffs `a` and `b` at `path` by item keys when they are a CEMS item list that can be keyed;
/// false (nothing pushed) otherwise.
pub fn keyed_diff(path: &str, a: &[Value], b: &[Value], out: &mut Vec<Change>) -> bool {
    match path {
        "data.points" => points(a, b, out),
        "data.readings" => readings(a, b, out),
        _ => false,
    }
}

type Key = (Option<String>, String);

/// The items of `list` with their keys, in order, and a lookup by key; `None` when an item has no
/// key or a key repeats.
#[allow(clippy::type_complexity)]
fn keyed<K: Eq + Hash + Clone>(list: &[Value], key: impl Fn(&Value) -> Option<K>) -> Option<(Vec<(K, &Value)>, HashMap<K, &Value>)> {
    let mut order = Vec::with_capacity(list.len());
    let mut lookup = HashMap::with_capacity(list.len());
    for item in list {
        let k = key(item)?;
        if lookup.insert(k.clone(), item).is_some() {
            return None;
        }
        order.push((k, item));
    }
    Some((order, lookup))
}

/// An optional string field: absent is `Some(None)`, present but not a string is `None`.
fn optional_str(object: &Map<String, Value>, key: &str) -> Option<Option<String>> {
    match object.get(key) {
        None => Some(None),
        Some(value) => Some(Some(value.as_str()?.to_owned())),
    }
}

fn point_key(point: &Value) -> Option<Key> {
    let object = point.as_object()?;
    let pid = object.get("pid")?.as_str()?.to_owned();
    Some((optional_str(object, "sub")?, pid))
}

fn reading_key(reading: &Value) -> Option<Option<String>> {
    let object = reading.as_object()?;
    object.get("values")?.as_object()?;
    optional_str(object, "sub")
}

fn points(a: &[Value], b: &[Value], out: &mut Vec<Change>) -> bool {
    let (Some((order_a, _)), Some((order_b, lookup_b))) = (keyed(a, point_key), keyed(b, point_key)) else { return false };
    let item = |(sub, id): &Key| ItemRef { kind: ItemKind::Point, sub: sub.clone(), id: id.clone() };
    // A point without `v` is shown whole.
    let value = |point: &Value| Some(point.get("v").unwrap_or(point).clone());
    let mut in_a = std::collections::HashSet::new();
    for (key, pa) in &order_a {
        in_a.insert(key.clone());
        match lookup_b.get(key) {
            Some(pb) => point_fields(item(key), pa, pb, out),
            None => out.push(Change::Item { item: item(key), field: None, old: value(pa), new: None }),
        }
    }
    for (key, pb) in order_b.iter().filter(|(key, _)| !in_a.contains(key)) {
        out.push(Change::Item { item: item(key), field: None, old: None, new: value(pb) });
    }
    true
}

/// The fields of one point that differ; `v` is the value (`field: None`).
fn point_fields(item: ItemRef, a: &Value, b: &Value, out: &mut Vec<Change>) {
    let (Some(a), Some(b)) = (a.as_object(), b.as_object()) else { return };
    let field = |key: &str| (key != "v").then(|| key.to_owned());
    for (key, va) in a.iter().filter(|(k, _)| !matches!(k.as_str(), "sub" | "pid")) {
        match b.get(key) {
            Some(vb) if vb == va => {}
            vb => out.push(Change::Item { item: item.clone(), field: field(key), old: Some(va.clone()), new: vb.cloned() }),
        }
    }
    for (key, vb) in b.iter().filter(|(k, _)| !a.contains_key(*k)) {
        out.push(Change::Item { item: item.clone(), field: field(key), old: None, new: Some(vb.clone()) });
    }
}

fn readings(a: &[Value], b: &[Value], out: &mut Vec<Change>) -> bool {
    let (Some((order_a, _)), Some((order_b, lookup_b))) = (keyed(a, reading_key), keyed(b, reading_key)) else { return false };
    let empty = Map::new();
    let values = |reading: &Value| reading.get("values").and_then(Value::as_object).unwrap_or(&empty).clone();
    let mut in_a = std::collections::HashSet::new();
    for (sub, ra) in &order_a {
        in_a.insert(sub.clone());
        let rb = lookup_b.get(sub).copied();
        meter_values(sub, &values(ra), &rb.map(values).unwrap_or_default(), out);
        let Some(rb) = rb else { continue };
        // The reading's own fields (its `ts`), by path.
        let path = format!("data.readings[{}]", sub.as_deref().unwrap_or_default());
        let (Some(oa), Some(ob)) = (ra.as_object(), rb.as_object()) else { continue };
        for (key, va) in oa.iter().filter(|(k, _)| !matches!(k.as_str(), "sub" | "values")) {
            let path = format!("{path}.{key}");
            match ob.get(key) {
                Some(vb) if vb == va => {}
                Some(vb) => out.push(Change::Changed { path, old: va.clone(), new: vb.clone() }),
                None => out.push(Change::Removed { path, old: va.clone() }),
            }
        }
        for (key, vb) in ob.iter().filter(|(k, _)| !oa.contains_key(*k)) {
            out.push(Change::Added { path: format!("{path}.{key}"), new: vb.clone() });
        }
    }
    for (sub, rb) in order_b.iter().filter(|(sub, _)| !in_a.contains(sub)) {
        meter_values(sub, &Map::new(), &values(rb), out);
    }
    true
}

fn meter_values(sub: &Option<String>, a: &Map<String, Value>, b: &Map<String, Value>, out: &mut Vec<Change>) {
    let item = |id: &str| ItemRef { kind: ItemKind::Meter, sub: sub.clone(), id: id.to_owned() };
    for (id, va) in a {
        match b.get(id) {
            Some(vb) if vb == va => {}
            vb => out.push(Change::Item { item: item(id), field: None, old: Some(va.clone()), new: vb.cloned() }),
        }
    }
    for (id, vb) in b.iter().filter(|(id, _)| !a.contains_key(*id)) {
        out.push(Change::Item { item: item(id), field: None, old: None, new: Some(vb.clone()) });
    }
}

#[cfg(test)]
mod tests {
    use super::super::diff::json_diff;
    use super::*;
    use serde_json::json;

    fn point(sub: &str, pid: &str) -> ItemRef {
        ItemRef { kind: ItemKind::Point, sub: Some(sub.into()), id: pid.into() }
    }

    fn envelope(data: Value) -> Value {
        json!({"id": "1", "data": data})
    }

    #[test]
    fn points_are_matched_by_sub_device_and_id() {
        let a = envelope(json!({"points": [
            {"sub": "meter-1", "pid": "Ua", "v": 230.1, "q": 0},
            {"sub": "meter-1", "pid": "Ub", "v": 229.0, "q": 0},
            {"sub": "meter-2", "pid": "Ua", "v": 1, "q": 0}]}));
        // Reordered, one changed, one quality worse, one gone, one new.
        let b = envelope(json!({"points": [
            {"sub": "meter-2", "pid": "Ua", "v": 1, "q": 2},
            {"sub": "meter-1", "pid": "Ua", "v": 230.4, "q": 0},
            {"pid": "cpuLoad", "v": 12}]}));
        assert_eq!(
            json_diff(&a, &b, true),
            vec![
                Change::Item { item: point("meter-1", "Ua"), field: None, old: Some(json!(230.1)), new: Some(json!(230.4)) },
                Change::Item { item: point("meter-1", "Ub"), field: None, old: Some(json!(229.0)), new: None },
                Change::Item { item: point("meter-2", "Ua"), field: Some("q".into()), old: Some(json!(0)), new: Some(json!(2)) },
                Change::Item {
                    item: ItemRef { kind: ItemKind::Point, sub: None, id: "cpuLoad".into() },
                    field: None,
                    old: None,
                    new: Some(json!(12))
                },
            ]
        );
        assert_eq!(point("meter-1", "Ua").name(), "meter-1/Ua");
        let mut reordered = a.clone();
        if let Some(points) = reordered.pointer_mut("/data/points").and_then(Value::as_array_mut) {
            points.reverse();
        }
        assert!(json_diff(&a, &reordered, true).is_empty(), "order alone is no change");
        assert!(!json_diff(&a, &reordered, false).is_empty(), "by index it is");
    }

    #[test]
    fn lists_that_cannot_be_keyed_are_compared_by_index() {
        // A history batch: the same point sampled twice.
        let a = envelope(json!({"points": [{"sub": "m", "pid": "Ua", "v": 1}, {"sub": "m", "pid": "Ua", "v": 2}]}));
        let b = envelope(json!({"points": [{"sub": "m", "pid": "Ua", "v": 1}, {"sub": "m", "pid": "Ua", "v": 3}]}));
        assert!(matches!(&json_diff(&a, &b, true)[..], [Change::Changed { path, .. }] if path == "data.points[1].v"));
        let odd = envelope(json!({"points": [{"sub": 7, "pid": "Ua", "v": 1}]}));
        let odd_b = envelope(json!({"points": [{"sub": 7, "pid": "Ua", "v": 2}]}));
        assert!(matches!(&json_diff(&odd, &odd_b, true)[..], [Change::Changed { path, .. }] if path == "data.points[0].v"));
        // Only the envelope's own `data.points` is keyed.
        let nested = json!({"x": {"points": [{"pid": "Ua", "v": 1}]}});
        let nested_b = json!({"x": {"points": [{"pid": "Ua", "v": 2}]}});
        assert!(matches!(&json_diff(&nested, &nested_b, true)[..], [Change::Changed { path, .. }] if path == "x.points[0].v"));
    }

    #[test]
    fn meter_readings_are_matched_by_sub_device_and_meter_id() {
        let a = envelope(json!({"readings": [{"sub": "meter-1", "ts": 1, "values": {"EpImp": 12.5, "EqImp": 3}}]}));
        let b = envelope(json!({"readings": [
            {"sub": "meter-2", "ts": 2, "values": {"EpImp": 1}},
            {"sub": "meter-1", "ts": 2, "values": {"EpImp": 12.6, "EqImp": 3}}]}));
        let meter = |sub: &str, id: &str| ItemRef { kind: ItemKind::Meter, sub: Some(sub.into()), id: id.into() };
        assert_eq!(
            json_diff(&a, &b, true),
            vec![
                Change::Item { item: meter("meter-1", "EpImp"), field: None, old: Some(json!(12.5)), new: Some(json!(12.6)) },
                Change::Changed { path: "data.readings[meter-1].ts".into(), old: json!(1), new: json!(2) },
                Change::Item { item: meter("meter-2", "EpImp"), field: None, old: None, new: Some(json!(1)) },
            ]
        );
    }
}
