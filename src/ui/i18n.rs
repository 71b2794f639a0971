//! The UI's one catalogue of strings, in English and Chinese, switchable at runtime.
//!
//! A key is the English text itself, so code reads naturally (`ctx.tr("Connections")`) and a
//! missing translation degrades to English instead of a blank. The Chinese texts live in one
//! table per area under `i18n/` (so panels can be written side by side) and are merged into a
//! single lookup on first use. A test checks that every key used in `src/ui/` has its Chinese.

use std::collections::HashMap;
use std::sync::OnceLock;

use crate::protocol::model::Lang;

mod zh_common;
mod zh_connections;
mod zh_device;
mod zh_explorer;
mod zh_gateways;
mod zh_forms;
mod zh_points;
mod zh_alarms;
mod zh_publish;
mod zh_plot;
mod zh_editor;
mod zh_editor_forms;
mod zh_import;
mod zh_recording;
mod zh_stations;
mod zh_app_api;
mod zh_conformance;

/// All (English, Chinese) pairs, one table per area.
fn tables() -> &'static [&'static [(&'static str, &'static str)]] {
    &[
        zh_common::ZH,
        zh_connections::ZH,
        zh_device::ZH,
        zh_explorer::ZH,
        zh_gateways::ZH,
        zh_forms::ZH,
        zh_points::ZH,
        zh_alarms::ZH,
        zh_publish::ZH,
        zh_plot::ZH,
        zh_editor::ZH,
        zh_editor_forms::ZH,
        zh_import::ZH,
        zh_recording::ZH,
        zh_stations::ZH,
        zh_app_api::ZH,
        zh_conformance::ZH,
    ]
}

fn chinese() -> &'static HashMap<&'static str, &'static str> {
    static TABLE: OnceLock<HashMap<&'static str, &'static str>> = OnceLock::new();
    TABLE.get_or_init(|| tables().iter().flat_map(|t| t.iter().copied()).collect())
}

/// The text for `key` (its English) in `lang`.
pub fn tr(lang: Lang, key: &'static str) -> &'static str {
    match lang {
        Lang::En => key,
        Lang::Zh => chinese().get(key).copied().unwrap_or(key),
    }
}

/// Whether the catalogue has a Chinese text for `key`.
pub fn has_chinese(key: &str) -> bool {
    chinese().contains_key(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn english_is_the_key_and_chinese_is_looked_up() {
        assert_eq!(tr(Lang::En, "Connections"), "Connections");
        assert_eq!(tr(Lang::Zh, "Connections"), "连接");
        assert_eq!(tr(Lang::Zh, "no such key in the catalogue"), "no such key in the catalogue");
    }

    #[test]
    fn no_key_is_translated_twice_differently() {
        let mut seen: HashMap<&str, &str> = HashMap::new();
        for (en, zh) in tables().iter().flat_map(|t| t.iter()) {
            if let Some(prev) = seen.insert(en, zh) {
                assert_eq!(prev, *zh, "{en:?} has two translations");
            }
        }
    }

    /// Every `tr("…")` key written in the UI sources has a Chinese text.
    #[test]
    fn every_key_in_the_sources_is_translated() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/ui");
        let mut missing = Vec::new();
        let mut stack = vec![dir];
        while let Some(d) = stack.pop() {
            for entry in std::fs::read_dir(&d).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    stack.push(path);
                    continue;
                }
                let text = std::fs::read_to_string(&path).unwrap();
                for (i, _) in text.match_indices("tr(\"") {
                    // `push_str("…")` ends in `tr("` too: only a call named exactly `tr` counts.
                    let before = text[..i].chars().next_back();
                    if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
                        continue;
                    }
                    // Doc comments that quote the pattern are not calls.
                    let line_start = text[..i].rfind('\n').map_or(0, |n| n + 1);
                    if text[line_start..i].trim_start().starts_with("//") {
                        continue;
                    }
                    let rest = &text[i + 4..];
                    let Some(end) = rest.find('"') else { continue };
                    let key = &rest[..end];
                    if !has_chinese(key) {
                        missing.push(format!("{}: {key:?}", path.display()));
                    }
                }
            }
        }
        assert!(missing.is_empty(), "keys without Chinese:\n{}", missing.join("\n"));
    }
}
