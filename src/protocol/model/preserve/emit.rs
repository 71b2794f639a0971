//! Writes a new value over the scanned original: equal parts copied, changed containers in the
//! original's layout, new parts in the style of their siblings.

use std::collections::HashMap;

use serde_json::{Map, Value};

use super::scan::{Container, Item, Kind, Member, Node};

/// Lists and objects with more entries than this are matched through a hash map.
const LINEAR_LOOKUP: usize = 16;

/// How a container is spelled on one line: `{"id": "Ua", "kind": "analog"}`.
#[derive(Debug, Clone)]
pub(super) struct OneLine {
    /// After `{` and before `}` (`""` or `" "`).
    pub object_pad: (String, String),
    /// After `[` and before `]`.
    pub array_pad: (String, String),
    /// After a comma.
    pub sep: String,
    /// Between a key and its value.
    pub colon: String,
}

impl Default for OneLine {
    fn default() -> Self {
        OneLine { object_pad: Default::default(), array_pad: Default::default(), sep: " ".into(), colon: ": ".into() }
    }
}

/// Where a fresh value goes: the indentation of its line, or one-line style.
#[derive(Debug, Clone)]
pub(super) enum Place {
    Lines { indent: String },
    OneLine(OneLine),
}

pub(super) struct Writer<'a> {
    pub text: &'a str,
    pub out: String,
    /// Indentation step of the file.
    pub unit: String,
    /// `\n` or `\r\n`, as the file uses.
    pub newline: &'static str,
}

impl Writer<'_> {
    fn copy(&mut self, range: &std::ops::Range<usize>) {
        self.out.push_str(&self.text[range.clone()]);
    }

    /// `new` where the original had `old` (its node and value), placed at `place`.
    pub fn value(&mut self, new: &Value, old: Option<(&Node, &Value)>, place: &Place) {
        let Some((node, old_value)) = old else {
            return self.fresh(new, place);
        };
        if same(old_value, new) {
            return self.copy(&node.span);
        }
        match (&node.kind, new, old_value) {
            (Kind::Object(c), Value::Object(new_map), Value::Object(old_map))
                if !c.entries.is_empty() && c.entries.len() == old_map.len() =>
            {
                self.object(node, c, new_map, old_map, place)
            }
            (Kind::Array(c), Value::Array(new_items), Value::Array(old_items))
                if !c.entries.is_empty() && c.entries.len() == old_items.len() =>
            {
                self.array(node, c, new_items, old_items, place)
            }
            _ => self.fresh(new, place),
        }
    }

    fn object(&mut self, node: &Node, c: &Container<Member>, new: &Map<String, Value>, old: &Map<String, Value>, place: &Place) {
        if new.is_empty() {
            return self.out.push_str("{}");
        }
        let layout = self.layout(node, c.entries.iter().map(|m| &m.lead), place);
        let by_key: Option<HashMap<&str, usize>> = (c.entries.len() > LINEAR_LOOKUP)
            .then(|| c.entries.iter().enumerate().map(|(i, m)| (m.key.as_str(), i)).rev().collect());
        let find = |key: &str| match &by_key {
            Some(map) => map.get(key).copied(),
            None => c.entries.iter().position(|m| m.key == key),
        };
        let colon = self.text[c.entries[0].colon.clone()].to_owned();
        self.out.push('{');
        for (i, (key, value)) in new.iter().enumerate() {
            if i > 0 {
                self.out.push(',');
            }
            match find(key) {
                Some(j) => {
                    let member = &c.entries[j];
                    let lead = layout.lead(self.text, i, j, &member.lead);
                    self.out.push_str(&lead);
                    self.copy(&member.key_span);
                    self.copy(&member.colon);
                    let child = layout.child_place(&lead, None);
                    self.value(value, old.get(key).map(|v| (&member.value, v)), &child);
                }
                None => {
                    let lead = layout.new_lead(i);
                    self.out.push_str(&lead);
                    self.out.push_str(&json_string(key));
                    self.out.push_str(&colon);
                    let child = layout.child_place(&lead, None);
                    self.fresh(value, &child);
                }
            }
        }
        self.copy(&c.close);
        self.out.push('}');
    }

    fn array(&mut self, node: &Node, c: &Container<Item>, new: &[Value], old: &[Value], place: &Place) {
        if new.is_empty() {
            return self.out.push_str("[]");
        }
        let layout = self.layout(node, c.entries.iter().map(|m| &m.lead), place);
        let id_of = |v: &Value| v.get("id").and_then(Value::as_str).map(str::to_owned);
        let mut by_id: HashMap<String, usize> = HashMap::new();
        for (i, item) in old.iter().enumerate().rev() {
            if let Some(id) = id_of(item) {
                by_id.insert(id, i);
            }
        }
        // New items borrow the style of a one-line sibling container, if the list has such.
        let sibling_style = one_line_sibling(self.text, c);
        self.out.push('[');
        for (i, value) in new.iter().enumerate() {
            if i > 0 {
                self.out.push(',');
            }
            let j = match id_of(value) {
                Some(id) => by_id.get(&id).copied(),
                None => (i < old.len()).then_some(i),
            };
            match j {
                Some(j) => {
                    let item: &Item = &c.entries[j];
                    let lead = layout.lead(self.text, i, j, &item.lead);
                    self.out.push_str(&lead);
                    let child = layout.child_place(&lead, sibling_style.as_ref());
                    self.value(value, Some((&item.value, &old[j])), &child);
                }
                None => {
                    let lead = layout.new_lead(i);
                    self.out.push_str(&lead);
                    let child = layout.child_place(&lead, sibling_style.as_ref());
                    self.fresh(value, &child);
                }
            }
        }
        self.copy(&c.close);
        self.out.push(']');
    }

    /// The whitespace pattern of an original container with at least one entry.
    fn layout<'r>(&self, node: &Node, mut leads: impl Iterator<Item = &'r std::ops::Range<usize>>, place: &Place) -> Layout {
        let first = leads.next().map(|r| self.text[r.clone()].to_owned()).unwrap_or_default();
        let other = leads.next().map(|r| self.text[r.clone()].to_owned());
        let one_line = !self.text[node.span.clone()].contains('\n');
        let style = match (one_line, place) {
            (true, Place::OneLine(style)) => Some(style.clone()),
            (true, Place::Lines { .. }) => Some(one_line_style(self.text, node)),
            (false, _) => None,
        };
        Layout { first, other, style }
    }

    /// `value` written anew at `place`.
    pub fn fresh(&mut self, value: &Value, place: &Place) {
        match place {
            Place::OneLine(style) => self.one_line(value, style),
            Place::Lines { indent } => self.pretty(value, indent),
        }
    }

    fn one_line(&mut self, value: &Value, style: &OneLine) {
        match value {
            Value::Object(map) if !map.is_empty() => {
                self.out.push('{');
                self.out.push_str(&style.object_pad.0);
                for (i, (key, v)) in map.iter().enumerate() {
                    if i > 0 {
                        self.out.push(',');
                        self.out.push_str(&style.sep);
                    }
                    self.out.push_str(&json_string(key));
                    self.out.push_str(&style.colon);
                    self.one_line(v, style);
                }
                self.out.push_str(&style.object_pad.1);
                self.out.push('}');
            }
            Value::Array(items) if !items.is_empty() => {
                self.out.push('[');
                self.out.push_str(&style.array_pad.0);
                for (i, v) in items.iter().enumerate() {
                    if i > 0 {
                        self.out.push(',');
                        self.out.push_str(&style.sep);
                    }
                    self.one_line(v, style);
                }
                self.out.push_str(&style.array_pad.1);
                self.out.push(']');
            }
            scalar => self.out.push_str(&scalar_text(scalar)),
        }
    }

    fn pretty(&mut self, value: &Value, indent: &str) {
        let inner = format!("{indent}{}", self.unit);
        match value {
            Value::Object(map) if !map.is_empty() => {
                self.out.push('{');
                for (i, (key, v)) in map.iter().enumerate() {
                    self.out.push_str(if i > 0 { "," } else { "" });
                    self.out.push_str(self.newline);
                    self.out.push_str(&inner);
                    self.out.push_str(&json_string(key));
                    self.out.push_str(": ");
                    self.pretty(v, &inner);
                }
                self.out.push_str(self.newline);
                self.out.push_str(indent);
                self.out.push('}');
            }
            Value::Array(items) if !items.is_empty() => {
                self.out.push('[');
                for (i, v) in items.iter().enumerate() {
                    self.out.push_str(if i > 0 { "," } else { "" });
                    self.out.push_str(self.newline);
                    self.out.push_str(&inner);
                    self.pretty(v, &inner);
                }
                self.out.push_str(self.newline);
                self.out.push_str(indent);
                self.out.push(']');
            }
            scalar => self.out.push_str(&scalar_text(scalar)),
        }
    }
}

/// Whitespace before entries of one changed container.
struct Layout {
    /// Before the first entry (after the bracket).
    first: String,
    /// Before a later entry (after its comma), when the original had two or more.
    other: Option<String>,
    /// Set when the container is on one line.
    style: Option<OneLine>,
}

impl Layout {
    /// Lead of original entry `j` now at position `i`: its own, unless it moved to or from the
    /// first position, whose lead differs on one line (`{"a"` vs `, "b"`).
    fn lead(&self, text: &str, i: usize, j: usize, own: &std::ops::Range<usize>) -> String {
        if (i == 0) == (j == 0) { text[own.clone()].to_owned() } else { self.new_lead(i) }
    }

    /// Lead of an entry with no original at position `i`.
    fn new_lead(&self, i: usize) -> String {
        if i == 0 {
            return self.first.clone();
        }
        match (&self.other, &self.style) {
            (Some(other), _) => other.clone(),
            (None, Some(style)) => style.sep.clone(),
            (None, None) => self.first.clone(),
        }
    }

    /// Where a child whose line starts with `lead` goes.
    fn child_place(&self, lead: &str, sibling_style: Option<&OneLine>) -> Place {
        match (&self.style, sibling_style) {
            (Some(style), _) => Place::OneLine(style.clone()),
            (None, Some(style)) => Place::OneLine(style.clone()),
            (None, None) => {
                let indent = lead.rsplit('\n').next().unwrap_or("");
                let indent: String = indent.chars().filter(|c| *c == ' ' || *c == '\t').collect();
                Place::Lines { indent }
            }
        }
    }
}

/// The one-line style of the first one-line container item of a list on several lines.
fn one_line_sibling(text: &str, c: &Container<Item>) -> Option<OneLine> {
    let list_span = c.entries.first()?.lead.start..c.close.end;
    if !text[list_span].contains('\n') {
        return None;
    }
    let item = c.entries.iter().find(|it| !matches!(it.value.kind, Kind::Scalar))?;
    (!text[item.value.span.clone()].contains('\n')).then(|| one_line_style(text, &item.value))
}

/// Separators of a container written on one line, defaults where it has too few entries.
fn one_line_style(text: &str, node: &Node) -> OneLine {
    let mut style = OneLine::default();
    let at = |r: &std::ops::Range<usize>| text[r.clone()].to_owned();
    match &node.kind {
        Kind::Object(c) => {
            if let Some(first) = c.entries.first() {
                style.object_pad = (at(&first.lead), at(&c.close));
                style.colon = at(&first.colon);
            }
            if let Some(second) = c.entries.get(1) {
                style.sep = at(&second.lead);
            }
            // Nested objects and lists spelled the same way inside.
            for m in &c.entries {
                if let Kind::Array(inner) = &m.value.kind
                    && let Some(first) = inner.entries.first()
                {
                    style.array_pad = (at(&first.lead), at(&inner.close));
                    break;
                }
            }
        }
        Kind::Array(c) => {
            if let Some(first) = c.entries.first() {
                style.array_pad = (at(&first.lead), at(&c.close));
            }
            if let Some(second) = c.entries.get(1) {
                style.sep = at(&second.lead);
            }
        }
        Kind::Scalar => {}
    }
    style
}

/// Equal as JSON values, and a number equal in value to the file's keeps the file's spelling
/// (60 for 60.0); integers are compared exactly, past the precision of a float.
pub(super) fn same(old: &Value, new: &Value) -> bool {
    match (old, new) {
        (Value::Number(a), Value::Number(b)) => {
            if a.is_f64() || b.is_f64() {
                a.as_f64() == b.as_f64()
            } else {
                a == b
            }
        }
        (Value::Object(a), Value::Object(b)) => {
            a.len() == b.len() && a.iter().zip(b.iter()).all(|((ka, va), (kb, vb))| ka == kb && same(va, vb))
        }
        (Value::Array(a), Value::Array(b)) => a.len() == b.len() && a.iter().zip(b).all(|(x, y)| same(x, y)),
        (a, b) => a == b,
    }
}

fn json_string(s: &str) -> String {
    scalar_text(&Value::String(s.to_owned()))
}

/// Compact text of a value (scalars; serialising a Value cannot fail).
fn scalar_text(value: &Value) -> String {
    serde_json::to_string(value).unwrap_or_default()
}
