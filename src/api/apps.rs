//! The apps file (§3): who may call, with which secret, which sites each may read and how often;
//! and the sites served. `{"apps": [{"appId","secret","cems":[…],"rateLimit"}], "sites": [...]}`.
//! Secrets are never logged: [`App`]'s Debug leaves them out.

use std::path::Path;

use anyhow::{Context, bail};
use serde::{Deserialize, Serialize};

use crate::protocol::app_api::{DEFAULT_CEMS_ID, DEFAULT_RATE_LIMIT, TzOffset, valid_app_id};

/// `api-apps.json` in the data folder: the apps file read when none is named.
pub fn default_apps_path() -> Option<std::path::PathBuf> {
    crate::config::data_dir::data_dir().map(|d| d.join("api-apps.json"))
}

/// One platform allowed to call.
#[derive(Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct App {
    pub app_id: String,
    pub secret: String,
    /// The cemsIds it may read.
    #[serde(default)]
    pub cems: Vec<String>,
    /// Requests per second; 0 = no limit.
    #[serde(default = "default_rate")]
    pub rate_limit: u32,
}

fn default_rate() -> u32 {
    DEFAULT_RATE_LIMIT
}

impl std::fmt::Debug for App {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("App").field("app_id", &self.app_id).field("secret", &"<hidden>").field("cems", &self.cems).field("rate_limit", &self.rate_limit).finish()
    }
}

/// One site (用户端) served.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Site {
    pub cems_id: String,
    pub name: String,
    pub address: String,
    pub timezone: TzOffset,
    /// `pk/dev` of its gateways; `None`: every gateway seen.
    pub gateways: Option<Vec<String>>,
}

impl Site {
    /// `site-1`, holding every gateway, at `+08:00`.
    pub fn default_site() -> Site {
        Site { cems_id: DEFAULT_CEMS_ID.to_owned(), name: DEFAULT_CEMS_ID.to_owned(), address: String::new(), timezone: TzOffset::default(), gateways: None }
    }

    pub fn holds(&self, pk: &str, dev: &str) -> bool {
        self.gateways.as_ref().is_none_or(|list| list.iter().any(|g| g.split_once('/') == Some((pk, dev))))
    }
}

/// A site as the apps file (`sites`) or the window's settings write it, before it is checked.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SiteEntry {
    pub cems_id: String,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub address: String,
    /// `±HH:MM`; `None`: +08:00.
    #[serde(default)]
    pub timezone: Option<String>,
    /// `pk/dev` of its gateways; `None`: every gateway seen.
    #[serde(default)]
    pub gateways: Option<Vec<String>>,
}

/// Checks site entries (unique non-empty ids, a valid timezone, `pk/dev` gateways); none gives
/// `site-1` holding every gateway.
pub fn sites_from(entries: Vec<SiteEntry>) -> anyhow::Result<Vec<Site>> {
    let mut sites: Vec<Site> = Vec::new();
    for (i, entry) in entries.into_iter().enumerate() {
        let cems_id = entry.cems_id.trim().to_owned();
        let timezone = match entry.timezone.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
            None => TzOffset::default(),
            Some(text) => TzOffset::parse(text).with_context(|| format!("sites[{i}] ({cems_id}).timezone {text:?}: expected ±HH:MM"))?,
        };
        if cems_id.is_empty() || sites.iter().any(|s| s.cems_id == cems_id) {
            bail!("sites[{i}].cemsId {cems_id:?}: empty or given twice");
        }
        if let Some(bad) = entry.gateways.iter().flatten().find(|g| !g.split_once('/').is_some_and(|(pk, dev)| !pk.is_empty() && !dev.is_empty() && !dev.contains('/'))) {
            bail!("sites[{i}] ({cems_id}): gateway {bad:?} is not PK/DEV");
        }
        let name = entry.name.map(|n| n.trim().to_owned()).filter(|n| !n.is_empty()).unwrap_or_else(|| cems_id.clone());
        sites.push(Site { name, cems_id, address: entry.address, timezone, gateways: entry.gateways });
    }
    if sites.is_empty() {
        sites.push(Site::default_site());
    }
    Ok(sites)
}

#[derive(Deserialize)]
struct AppsFile {
    apps: Vec<App>,
    #[serde(default)]
    sites: Vec<SiteEntry>,
}

/// The apps and sites a server is configured with.
#[derive(Debug, Clone)]
pub struct ApiConfig {
    pub apps: Vec<App>,
    pub sites: Vec<Site>,
}

impl ApiConfig {
    /// Reads and checks an apps file.
    pub fn read(path: &Path) -> anyhow::Result<ApiConfig> {
        let text = std::fs::read_to_string(path).with_context(|| format!("cannot read apps file {}", path.display()))?;
        ApiConfig::parse(&text).with_context(|| format!("apps file {}", path.display()))
    }

    pub fn parse(text: &str) -> anyhow::Result<ApiConfig> {
        let file: AppsFile = serde_json::from_str(text).context("not an apps file ({\"apps\": [{\"appId\",\"secret\",\"cems\",\"rateLimit\"}]})")?;
        let mut apps: Vec<App> = Vec::new();
        for (i, app) in file.apps.into_iter().enumerate() {
            if !valid_app_id(&app.app_id) {
                bail!("apps[{i}].appId {:?}: expected 1 to 64 of A-Z a-z 0-9 _ -", app.app_id);
            }
            if app.secret.is_empty() {
                bail!("apps[{i}] ({}): the secret is empty", app.app_id);
            }
            if apps.iter().any(|a| a.app_id == app.app_id) {
                bail!("apps[{i}]: appId {} is given twice", app.app_id);
            }
            apps.push(app);
        }
        let sites = sites_from(file.sites)?;
        Ok(ApiConfig { apps, sites })
    }

    /// The apps file named, else `api-apps.json` in the data folder when it exists; with
    /// neither, no apps (every call is refused with 1002) and a warning saying so.
    pub fn load(path: Option<&Path>) -> anyhow::Result<(ApiConfig, Option<String>)> {
        let default = default_apps_path();
        let path = match (path, default) {
            (Some(p), _) => p.to_owned(),
            (None, Some(d)) if d.exists() => d,
            (None, d) => {
                let at = d.map_or("--apps FILE".to_owned(), |d| d.display().to_string());
                let warning = format!("no apps file ({at}): every call will be refused with 1002 unknown appId");
                return Ok((ApiConfig::parse(r#"{"apps": []}"#)?, Some(warning)));
            }
        };
        Ok((ApiConfig::read(&path)?, None))
    }

    pub fn app(&self, app_id: &str) -> Option<&App> {
        self.apps.iter().find(|a| a.app_id == app_id)
    }

    pub fn site(&self, cems_id: &str) -> Option<&Site> {
        self.sites.iter().find(|s| s.cems_id == cems_id)
    }
}
