//! The server's address as a client is given it: `http(s)://host[:port][/base]`.

use anyhow::{bail, Context};

use crate::protocol::app_api::DEFAULT_BASE;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiUrl {
    pub https: bool,
    /// Without brackets for IPv6.
    pub host: String,
    pub port: u16,
    /// `/api` when the URL names no path.
    pub base_path: String,
}

impl ApiUrl {
    pub fn parse(text: &str) -> anyhow::Result<ApiUrl> {
        let (https, rest) = if let Some(rest) = text.strip_prefix("https://") {
            (true, rest)
        } else if let Some(rest) = text.strip_prefix("http://") {
            (false, rest)
        } else {
            bail!("{text}: expected http://HOST[:PORT][/BASE] or https://…");
        };
        let (authority, path) = match rest.find('/') {
            Some(at) => (&rest[..at], &rest[at..]),
            None => (rest, ""),
        };
        let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
            let (host, after) = v6.split_once(']').with_context(|| format!("{text}: unclosed [ in the host"))?;
            (host, after.strip_prefix(':'))
        } else {
            match authority.rsplit_once(':') {
                Some((h, p)) => (h, Some(p)),
                None => (authority, None),
            }
        };
        if host.is_empty() {
            bail!("{text}: no host");
        }
        let port = match port {
            Some(p) => p.parse::<u16>().with_context(|| format!("{text}: port {p:?} is not a number from 1 to 65535"))?,
            None if https => 443,
            None => 80,
        };
        let base = path.trim_end_matches('/');
        let base_path = if base.is_empty() { DEFAULT_BASE.to_owned() } else { base.to_owned() };
        Ok(ApiUrl { https, host: host.to_owned(), port, base_path })
    }
}

impl std::fmt::Display for ApiUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let host = if self.host.contains(':') { format!("[{}]", self.host) } else { self.host.clone() };
        write!(f, "{}://{host}:{}{}", if self.https { "https" } else { "http" }, self.port, self.base_path)
    }
}
