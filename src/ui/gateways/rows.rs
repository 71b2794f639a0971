//! What the gateways list shows, computed from the engine's records without egui: rows,
//! filtering, sorting, and a gateway's online state.

use crate::engine::GatewayKey;
use crate::engine::gateways::GatewayRecord;
use crate::protocol::model::Lang;
use crate::protocol::payload::ModuleVersion;
use crate::ui::i18n::tr;

/// A gateway's state from its retained `status`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Online {
    Online,
    Offline(Option<String>),
    /// No `status` seen yet.
    Unknown,
}

impl Online {
    pub fn of(record: &GatewayRecord) -> Online {
        match record.online {
            Some(true) => Online::Online,
            Some(false) => Online::Offline(record.status_reason.clone()),
            None => Online::Unknown,
        }
    }

    /// "online", "offline (lost)", "unknown".
    pub fn text(&self, lang: Lang) -> String {
        match self {
            Online::Online => tr(lang, "online").to_owned(),
            Online::Offline(Some(reason)) => format!("{} ({reason})", tr(lang, "offline")),
            Online::Offline(None) => tr(lang, "offline").to_owned(),
            Online::Unknown => tr(lang, "unknown").to_owned(),
        }
    }
}

/// One line of the gateways list.
#[derive(Debug, Clone, PartialEq)]
pub struct GatewayRow {
    pub key: GatewayKey,
    pub online: Online,
    pub vendor: String,
    pub model: String,
    pub fw_version: String,
    pub versions: Vec<ModuleVersion>,
    pub last_seen_ms: i64,
    /// Sub-device ids (the gateway's own id excluded).
    pub subs: Vec<String>,
    pub alarms: usize,
    /// The session it was last heard on (a replay's gateway is marked as such).
    pub session: u32,
}

impl GatewayRow {
    pub fn of(record: &GatewayRecord) -> GatewayRow {
        let info = record.info.as_ref();
        GatewayRow {
            key: record.key.clone(),
            online: Online::of(record),
            vendor: info.map(|i| i.vendor.clone()).unwrap_or_default(),
            model: info.map(|i| i.model.clone()).unwrap_or_default(),
            fw_version: info.map(|i| i.fw_version.clone()).unwrap_or_default(),
            versions: record.versions.clone(),
            last_seen_ms: record.last_seen_ms,
            subs: record.subs.keys().filter(|s| **s != record.key.dev).cloned().collect(),
            alarms: record.alarms.len(),
            session: record.session,
        }
    }

    /// Case-insensitive match of `filter` in pk/dev, vendor, model or firmware version.
    pub fn matches(&self, filter: &str) -> bool {
        let filter = filter.trim().to_lowercase();
        if filter.is_empty() {
            return true;
        }
        [self.key.to_string(), self.vendor.clone(), self.model.clone(), self.fw_version.clone()]
            .iter()
            .any(|field| field.to_lowercase().contains(&filter))
    }
}

/// The column the list is sorted by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SortBy {
    #[default]
    Key,
    LastSeen,
}

/// Sorts by `by` (ties by key, so the order is stable from frame to frame).
pub fn sort_rows(rows: &mut [GatewayRow], by: SortBy, descending: bool) {
    rows.sort_by(|a, b| {
        let order = match by {
            SortBy::Key => a.key.cmp(&b.key),
            SortBy::LastSeen => a.last_seen_ms.cmp(&b.last_seen_ms).then_with(|| a.key.cmp(&b.key)),
        };
        if descending { order.reverse() } else { order }
    });
}


#[cfg(test)]
mod tests {
    use super::*;

    fn key(pk: &str, dev: &str) -> GatewayKey {
        GatewayKey { pk: pk.into(), dev: dev.into() }
    }

    fn row(pk: &str, dev: &str, seen: i64, vendor: &str) -> GatewayRow {
        GatewayRow {
            key: key(pk, dev),
            online: Online::Unknown,
            vendor: vendor.into(),
            model: "EG-2000".into(),
            fw_version: "1.0.0".into(),
            versions: vec![],
            last_seen_ms: seen,
            subs: vec![],
            alarms: 0,
            session: 1,
        }
    }

    #[test]
    fn rows_filter_and_sort() {
        let mut rows = vec![row("PK2", "B", 30, "Acme"), row("PK1", "A", 10, "Example"), row("PK1", "C", 20, "Acme")];
        sort_rows(&mut rows, SortBy::Key, false);
        assert_eq!(rows.iter().map(|r| r.key.dev.as_str()).collect::<String>(), "ACB");
        sort_rows(&mut rows, SortBy::LastSeen, true);
        assert_eq!(rows.iter().map(|r| r.key.dev.as_str()).collect::<String>(), "BCA");
        assert!(rows[0].matches("pk2/b"));
        assert!(rows[0].matches(" acme "));
        assert!(rows[0].matches(""));
        assert!(!rows[0].matches("example"));
        assert!(rows[0].matches("eg-2"));
    }

    #[test]
    fn online_texts() {
        assert_eq!(Online::Offline(Some("lost".into())).text(Lang::En), "offline (lost)");
        assert_eq!(Online::Online.text(Lang::Zh), "在线");
    }
}
