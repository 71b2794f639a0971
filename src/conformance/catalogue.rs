//! The catalogue of test cases, as data (`assets/conformance/cems-v1.json`, compiled in; a user
//! file may replace it): what each case checks, against which clause, and how it is run.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use crate::protocol::model::Lang;

/// The built-in catalogue's text.
pub const BUILTIN: &str = include_str!("../../assets/conformance/cems-v1.json");

/// A text in English and Chinese.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CaseText {
    pub en: String,
    pub zh: String,
}

/// A [`CaseText`] from two format strings, one per language, with inline captured arguments
/// and named ones evaluated once for both: `why!("{what}: code {code}", "{what}：代码 {code}",
/// code = reply.code)`. Both texts must be written: there is deliberately no conversion from a
/// lone English string.
macro_rules! why {
    ($en:literal, $zh:literal $(, $name:ident = $value:expr)* $(,)?) => {{
        $(let $name = &$value;)*
        $crate::conformance::catalogue::CaseText { en: format!($en), zh: format!($zh) }
    }};
}
pub(crate) use why;

impl CaseText {
    pub fn get(&self, lang: Lang) -> &str {
        match lang {
            Lang::En => &self.en,
            Lang::Zh => &self.zh,
        }
    }
}

/// One test case as the catalogue describes it; its code is found by `id` (`cases::code_for`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct CaseDef {
    /// `TC-{clause}-{nn}`.
    pub id: String,
    /// The contract's clause (`6.4`).
    pub clause: String,
    pub title: CaseText,
    /// A Failed mandatory case fails the run.
    pub mandatory: bool,
    /// Changes the gateway (firmware, clock, setpoint, property, file, log level): run only when
    /// changes are allowed.
    pub changes: bool,
    /// Publishes something; a read-only session runs only the cases that do not.
    pub sends: bool,
    /// A step a person does (prompted; skipped as Inconclusive in a non-interactive run).
    pub manual: Option<CaseText>,
    pub preconditions: Vec<CaseText>,
    pub steps: Vec<CaseText>,
    pub expected: CaseText,
    /// The case's whole budget; past it the case is Failed (it had its replies' timeouts inside).
    #[serde(rename = "timeoutS")]
    pub timeout_s: f64,
}

/// The whole file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Catalogue {
    /// Its name (`cems-v1`).
    pub catalogue: String,
    pub version: String,
    /// What it was written from.
    pub contract: String,
    pub cases: Vec<CaseDef>,
}

/// Why a catalogue cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum CatalogueError {
    #[error("cannot read conformance catalogue {path}: {source}")]
    Read { path: String, source: std::io::Error },
    #[error("conformance catalogue {name}: {source}")]
    Parse { name: String, source: serde_json::Error },
    #[error("conformance catalogue {name}: {problems}")]
    Invalid { name: String, problems: String },
}

impl Catalogue {
    /// Parses and checks: unique ids of the `TC-{clause}-{nn}` form, a positive timeout, texts in
    /// both languages, and code for every case (`has_code`: the cases' table is above this file).
    pub fn parse_with(name: &str, text: &str, has_code: impl Fn(&str) -> bool) -> Result<Catalogue, CatalogueError> {
        let catalogue: Catalogue = serde_json::from_str(text).map_err(|source| CatalogueError::Parse { name: name.to_owned(), source })?;
        let problems = catalogue.problems(has_code);
        if problems.is_empty() {
            Ok(catalogue)
        } else {
            Err(CatalogueError::Invalid { name: name.to_owned(), problems: problems.join("; ") })
        }
    }

    fn problems(&self, has_code: impl Fn(&str) -> bool) -> Vec<String> {
        let mut problems = Vec::new();
        let mut seen = BTreeSet::new();
        for case in &self.cases {
            if !seen.insert(case.id.as_str()) {
                problems.push(format!("{}: the id is used twice", case.id));
            }
            let prefix = format!("TC-{}-", case.clause);
            let number_ok = case.id.strip_prefix(&prefix).is_some_and(|n| n.len() == 2 && n.bytes().all(|b| b.is_ascii_digit()));
            if !number_ok {
                problems.push(format!("{}: expected an id of the form {prefix}NN", case.id));
            }
            if !(case.timeout_s.is_finite() && case.timeout_s > 0.0 && case.timeout_s <= 3600.0) {
                problems.push(format!("{}: timeoutS {} is not between 0 and 3600 s", case.id, case.timeout_s));
            }
            let texts = [Some(&case.title), Some(&case.expected), case.manual.as_ref()].into_iter().flatten().chain(&case.steps).chain(&case.preconditions);
            if texts.into_iter().any(|t| t.en.trim().is_empty() || t.zh.trim().is_empty()) {
                problems.push(format!("{}: a text lacks its English or Chinese", case.id));
            }
            if !has_code(&case.id) {
                problems.push(format!("{}: no test code has this id", case.id));
            }
        }
        if self.cases.is_empty() {
            problems.push("no cases".to_owned());
        }
        problems
    }

    /// The cases a filter selects: comma-separated ids, id prefixes or clauses (`TC-6.4-01`,
    /// `TC-6.7`, `6.9`); every case without a filter.
    pub fn select(&self, filter: Option<&str>) -> Vec<&CaseDef> {
        let terms: Vec<&str> = filter.map(|f| f.split(',').map(str::trim).filter(|t| !t.is_empty()).collect()).unwrap_or_default();
        self.cases
            .iter()
            .filter(|c| terms.is_empty() || terms.iter().any(|t| c.id == *t || c.clause == *t || c.id.starts_with(&format!("{t}-")) || c.id.starts_with(&format!("TC-{t}-"))))
            .collect()
    }

    pub fn get(&self, id: &str) -> Option<&CaseDef> {
        self.cases.iter().find(|c| c.id == id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_catalogues_are_refused_with_reasons() {
        let one = |id: &str, extra: &str| {
            format!(
                r#"{{"catalogue":"x","version":"1","contract":"c","cases":[{{"id":"{id}","clause":"4.2","title":{{"en":"a","zh":"甲"}},"mandatory":true,"changes":false,"sends":true,"manual":null,"preconditions":[],"steps":[],"expected":{{"en":"a","zh":"甲"}},"timeoutS":5{extra}}}]}}"#
            )
        };
        let parse = |text: &str| Catalogue::parse_with("t", text, |id| id != "TC-4.2-99");
        assert!(parse(&one("TC-4.2-01", "")).is_ok());
        let unknown_field = parse(&one("TC-4.2-01", r#","colour":"red""#)).unwrap_err().to_string();
        assert!(unknown_field.contains("colour"), "{unknown_field}");
        let bad_id = parse(&one("TC-4.3-01", "")).unwrap_err().to_string();
        assert!(bad_id.contains("TC-4.2-NN"), "{bad_id}");
        let no_code = parse(&one("TC-4.2-99", "")).unwrap_err().to_string();
        assert!(no_code.contains("no test code"), "{no_code}");
    }
}
