//! The probe (`api probe`): calls every interface of another master's API and checks each answer
//! against the contract (envelope, fields and types, time formats, paging, scope and order),
//! then the error paths (`errors.rs`). Each check is (interface, aspect) with its problems, so a
//! report says exactly what is wrong where.

mod compare;
mod errors;
mod flow;
pub mod shapes;

pub use compare::Observed;

use serde::Serialize;

use super::client::ApiClient;
use crate::protocol::app_api::Interface;

/// What to probe.
#[derive(Debug, Clone)]
pub struct ProbeOptions {
    pub cems_id: String,
    /// The historic and statistic range, [from, to) epoch ms.
    pub from_ms: i64,
    pub to_ms: i64,
    /// What this workbench sees of the same gateways over MQTT, to compare the dynamic values
    /// with; `None`: not compared.
    pub observed: Option<Observed>,
}

/// One verdict.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Check {
    /// `7.1` … `10.6`, or `errors`.
    pub section: String,
    /// The interface, or the error path's name.
    pub interface: String,
    /// `answer`, `fields`, `paging`, `scope`, `order`, or the expected code for an error path.
    pub aspect: String,
    pub ok: bool,
    pub problems: Vec<String>,
}

/// Every check of one run.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ProbeReport {
    pub url: String,
    #[serde(rename = "cemsId")]
    pub cems_id: String,
    pub checks: Vec<Check>,
}

impl ProbeReport {
    /// Adds `problems` to the check (section, interface, aspect), creating it.
    pub fn record(&mut self, section: &str, interface: &str, aspect: &str, problems: Vec<String>) {
        match self.checks.iter_mut().find(|c| c.interface == interface && c.aspect == aspect) {
            Some(check) => {
                check.ok &= problems.is_empty();
                check.problems.extend(problems);
            }
            None => self.checks.push(Check {
                section: section.to_owned(),
                interface: interface.to_owned(),
                aspect: aspect.to_owned(),
                ok: problems.is_empty(),
                problems,
            }),
        }
    }

    pub fn record_for(&mut self, interface: Interface, aspect: &str, problems: Vec<String>) {
        self.record(&interface.section(), &interface.name(), aspect, problems);
    }

    pub fn failed(&self) -> impl Iterator<Item = &Check> {
        self.checks.iter().filter(|c| !c.ok)
    }

    /// A table, one line per check, for a terminal.
    pub fn table(&self) -> String {
        let width = self.checks.iter().map(|c| c.interface.len()).max().unwrap_or(9).max(9);
        let mut out = format!("{:<7} {:<width$} {:<18} verdict\n", "section", "interface", "check");
        for c in &self.checks {
            let verdict = if c.ok { "ok".to_owned() } else { format!("FAIL: {}", c.problems.join("; ")) };
            out.push_str(&format!("{:<7} {:<width$} {:<18} {verdict}\n", c.section, c.interface, c.aspect));
        }
        let failed = self.failed().count();
        out.push_str(&format!("{} checks, {} failed\n", self.checks.len(), failed));
        out
    }
}

/// Runs every check against the server `client` calls.
pub async fn probe(client: &ApiClient, options: &ProbeOptions) -> ProbeReport {
    let mut report = ProbeReport { url: client.url.to_string(), cems_id: options.cems_id.clone(), checks: Vec::new() };
    let found = flow::interfaces(client, options, &mut report).await;
    if let Some(observed) = &options.observed {
        compare::compare(client, &options.cems_id, observed, &mut report).await;
    }
    errors::error_paths(client, options, found.as_ref(), &mut report).await;
    report
}
