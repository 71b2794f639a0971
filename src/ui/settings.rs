//! What the workbench remembers between runs, kept in eframe's storage (the window's size and
//! position are persisted by eframe itself, see `NativeOptions::persist_window`).

use serde::{Deserialize, Serialize};

use super::ThemeChoice;
use crate::engine::series::Layout;
use crate::protocol::model::Lang;

/// The key under which [`Settings`] live in eframe's storage.
pub const STORAGE_KEY: &str = "cems-workbench/settings";

/// User settings. Language and theme apply at once; `start_broker` and `start_demo` at the next
/// start. Missing fields (an older file) take their defaults.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Settings {
    #[serde(with = "lang_code")]
    pub lang: Lang,
    pub theme: ThemeChoice,
    /// Start the embedded MQTT broker on 127.0.0.1 (unless a link is given on the command line).
    pub start_broker: bool,
    /// Start the demo gateway on the embedded broker.
    pub start_demo: bool,
    /// Width of the left panel (connections and gateways), points.
    pub left_panel_width: f32,
    /// Whether the publish panel at the bottom is open, and its height in points.
    pub publish_open: bool,
    pub publish_height: f32,
    /// A folder of product models read after the bundled ones and the user's models folder;
    /// empty for none.
    pub models_dir: String,
    /// The embedded broker admits only the devices and masters of this file; empty: open on
    /// loopback.
    pub broker_devices_file: String,
    /// The embedded broker speaks TLS with a self-signed certificate kept in the config folder.
    pub broker_tls: bool,
    /// The Plots tab's plots and their series; None until the first change (the demo layout is
    /// shown then).
    pub plot_layout: Option<Layout>,
    /// Model files opened or saved in the editor, newest first.
    pub recent_models: Vec<String>,
    /// Where recordings go; empty: `<data dir>/recordings`.
    pub recordings_dir: String,
    /// A recording continues in a new file past this size (MiB); 0: one file.
    pub recording_max_mb: f64,
    /// Keep a point history (SQLite) of the live links.
    pub keep_history: bool,
    /// Its file; empty: `<data dir>/history.db`.
    pub history_path: String,
    /// Samples older than this many days go.
    pub history_days: u32,
    /// Past this size the oldest samples go.
    pub history_max_gib: f64,
    /// The Stations tab's metric map file; `None`: the shipped map.
    pub ess_metric_map: Option<std::path::PathBuf>,
    /// Serve the App API (GB/T 35031.5) from this window's engine, from the next start too.
    pub api_serve: bool,
    /// Where it listens; anything but loopback is refused (no TLS in the window).
    pub api_listen: String,
    /// Its apps file; empty: `<data dir>/api-apps.json`.
    pub api_apps_file: String,
    /// The sites it serves; empty: the apps file's, else `site-1` with every gateway.
    pub api_sites: Vec<crate::api::apps::SiteEntry>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            lang: Lang::En,
            theme: ThemeChoice::Dark,
            start_broker: true,
            start_demo: true,
            left_panel_width: 340.0,
            publish_open: false,
            publish_height: 220.0,
            models_dir: String::new(),
            broker_devices_file: String::new(),
            broker_tls: false,
            plot_layout: None,
            recent_models: Vec::new(),
            recordings_dir: String::new(),
            recording_max_mb: 0.0,
            keep_history: true,
            history_path: String::new(),
            history_days: 30,
            history_max_gib: 2.0,
            ess_metric_map: None,
            api_serve: false,
            api_listen: "127.0.0.1:8686".to_owned(),
            api_apps_file: String::new(),
            api_sites: Vec::new(),
        }
    }
}

impl Settings {
    /// The stored settings, or the defaults on a first run (language from the system locale).
    pub fn load(storage: Option<&dyn eframe::Storage>) -> Settings {
        storage.and_then(|s| eframe::get_value(s, STORAGE_KEY)).unwrap_or_else(Settings::first_run)
    }

    pub fn save(&self, storage: &mut dyn eframe::Storage) {
        eframe::set_value(storage, STORAGE_KEY, self);
    }

    /// Defaults, with Chinese when the system locale says so (`LC_ALL`, `LC_MESSAGES`, `LANG`).
    pub fn first_run() -> Settings {
        let locale = ["LC_ALL", "LC_MESSAGES", "LANG"].iter().find_map(|k| std::env::var(k).ok().filter(|v| !v.is_empty()));
        let lang = match locale {
            Some(l) if l.to_ascii_lowercase().starts_with("zh") => Lang::Zh,
            _ => Lang::En,
        };
        Settings { lang, ..Settings::default() }
    }
}

/// `Lang` as "zh" / "en": the protocol type carries no serde of its own.
mod lang_code {
    use serde::{Deserialize, Deserializer, Serializer};

    use crate::protocol::model::Lang;

    pub fn serialize<S: Serializer>(lang: &Lang, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(match lang {
            Lang::Zh => "zh",
            Lang::En => "en",
        })
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Lang, D::Error> {
        // An unknown code falls back to English rather than losing every other setting.
        Ok(match String::deserialize(d)?.as_str() {
            "zh" => Lang::Zh,
            _ => Lang::En,
        })
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    #[derive(Default)]
    struct MemoryStorage(HashMap<String, String>);

    impl eframe::Storage for MemoryStorage {
        fn get_string(&self, key: &str) -> Option<String> {
            self.0.get(key).cloned()
        }
        fn set_string(&mut self, key: &str, value: String) {
            self.0.insert(key.to_owned(), value);
        }
        fn remove_string(&mut self, key: &str) {
            self.0.remove(key);
        }
        fn flush(&mut self) {}
    }

    #[test]
    fn settings_round_trip_through_storage() {
        let mut storage = MemoryStorage::default();
        let layout = crate::ui::plot::demo_layout();
        assert!(!layout.plots.is_empty());
        let settings = Settings { lang: Lang::Zh, theme: ThemeChoice::Light, start_demo: false, left_panel_width: 420.0, plot_layout: Some(layout), ..Settings::default() };
        settings.save(&mut storage);
        assert_eq!(Settings::load(Some(&storage)), settings);
    }

    #[test]
    fn an_older_file_keeps_what_it_has() {
        let mut storage = MemoryStorage::default();
        eframe::Storage::set_string(&mut storage, STORAGE_KEY, "(lang: \"zh\", start_broker: false)".into());
        let loaded = Settings::load(Some(&storage));
        assert_eq!(loaded.lang, Lang::Zh);
        assert!(!loaded.start_broker);
        assert!(loaded.start_demo);
    }
}
