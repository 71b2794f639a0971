//! Texts of a model: the display language, texts in Chinese and/or English, enum value labels.

use std::fmt;

use indexmap::IndexMap;
use serde::de::{self, MapAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;

/// Display language of model texts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Lang {
    /// Chinese (`zh`), the language a plain string is read as.
    #[default]
    Zh,
    /// English (`en`).
    En,
}

/// Text in Chinese and/or English; on disk a plain string (= `zh`) or `{"zh": …, "en": …}`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LocalizedText {
    /// Chinese text.
    pub zh: Option<String>,
    /// English text.
    pub en: Option<String>,
}

impl LocalizedText {
    /// Text with both languages given.
    pub fn new(zh: impl Into<String>, en: impl Into<String>) -> Self {
        Self { zh: Some(zh.into()), en: Some(en.into()) }
    }

    /// The text in `lang`, else in the other language, else "".
    pub fn get(&self, lang: Lang) -> &str {
        let (first, second) = match lang {
            Lang::Zh => (&self.zh, &self.en),
            Lang::En => (&self.en, &self.zh),
        };
        first.as_deref().or(second.as_deref()).unwrap_or("")
    }

    /// True when neither language has text.
    pub fn is_empty(&self) -> bool {
        self.zh.as_deref().unwrap_or("").is_empty() && self.en.as_deref().unwrap_or("").is_empty()
    }
}

impl From<&str> for LocalizedText {
    fn from(zh: &str) -> Self {
        Self { zh: Some(zh.to_owned()), en: None }
    }
}

impl<'de> Deserialize<'de> for LocalizedText {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct TextVisitor;
        impl<'de> Visitor<'de> for TextVisitor {
            type Value = LocalizedText;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string or an object with zh/en keys")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(LocalizedText::from(v))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut text = LocalizedText::default();
                while let Some(key) = map.next_key::<String>()? {
                    match key.as_str() {
                        "zh" => text.zh = Some(map.next_value()?),
                        "en" => text.en = Some(map.next_value()?),
                        other => return Err(de::Error::unknown_field(other, &["zh", "en"])),
                    }
                }
                Ok(text)
            }
        }
        deserializer.deserialize_any(TextVisitor)
    }
}

impl Serialize for LocalizedText {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let len = usize::from(self.zh.is_some()) + usize::from(self.en.is_some());
        let mut map = serializer.serialize_map(Some(len))?;
        if let Some(zh) = &self.zh {
            map.serialize_entry("zh", zh)?;
        }
        if let Some(en) = &self.en {
            map.serialize_entry("en", en)?;
        }
        map.end()
    }
}

/// Labels of the values an item can take (`enum`): value key → text, in file order.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EnumLabels(pub IndexMap<String, LocalizedText>);

impl EnumLabels {
    /// Label of the value written as `key`.
    pub fn get(&self, key: &str) -> Option<&LocalizedText> {
        self.0.get(key)
    }

    /// (key, label) pairs in file order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &LocalizedText)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v))
    }

    /// Number of values.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// True when no value is listed.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Label of a wire value: numbers and bools are looked up by their integer key ("1", "0").
    pub fn label_of(&self, value: &Value, lang: Lang) -> Option<&str> {
        value_keys(value).into_iter().find_map(|k| self.get(&k)).map(|t| t.get(lang))
    }
}

/// Keys a wire value may be listed under, most specific first.
fn value_keys(value: &Value) -> Vec<String> {
    match value {
        Value::String(s) => vec![s.clone()],
        Value::Bool(b) => vec![b.to_string(), u8::from(*b).to_string()],
        Value::Number(n) => {
            if n.is_i64() || n.is_u64() {
                vec![n.to_string()]
            } else {
                match n.as_f64() {
                    // 1.0 from a float-typed sender still means state "1".
                    Some(f) if crate::protocol::json_num::is_whole(f) => vec![format!("{}", f as i64), n.to_string()],
                    _ => vec![n.to_string()],
                }
            }
        }
        _ => Vec::new(),
    }
}

impl<'de> Deserialize<'de> for EnumLabels {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct LabelsVisitor;
        impl<'de> Visitor<'de> for LabelsVisitor {
            type Value = EnumLabels;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an object of value → label")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut labels = IndexMap::new();
                while let Some((key, text)) = map.next_entry::<String, LocalizedText>()? {
                    labels.insert(key, text);
                }
                Ok(EnumLabels(labels))
            }
        }
        deserializer.deserialize_map(LabelsVisitor)
    }
}

impl Serialize for EnumLabels {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (k, v) in &self.0 {
            map.serialize_entry(k, v)?;
        }
        map.end()
    }
}
