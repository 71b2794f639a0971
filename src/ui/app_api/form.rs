//! The call form: which server, as which app, which interface with which fields, and the
//! request body those make (the fields each interface takes, as `protocol::app_api::request`
//! reads them). Choices for ids come from the window's own gateway table and models.

use std::collections::BTreeSet;

use serde_json::{Map, Value, json};

use crate::api::Site;
use crate::api::catalog::{SiteView, site_view};
use crate::engine::SharedState;
use crate::protocol::app_api::time::format_time;
use crate::protocol::app_api::{DEFAULT_CEMS_ID, Family, Interface, Period, Shape, Stat};
use crate::protocol::model::ModelSet;

/// What the user filled in.
#[derive(Debug, Clone)]
pub struct CallForm {
    /// Empty: the window's own server while it serves.
    pub url: String,
    pub app_id: String,
    pub secret: String,
    pub http2: bool,
    /// A CA file (PEM) for an `https://` server with a private CA; empty: the system's roots.
    pub server_ca: String,
    pub interface: Interface,
    pub cems_id: String,
    pub point_ids: BTreeSet<String>,
    pub parameter_ids: BTreeSet<String>,
    pub category_id: String,
    pub from: String,
    pub to: String,
    pub period: Period,
    pub stat: Stat,
    pub page_no: u32,
    pub page_size: u32,
}

impl Default for CallForm {
    fn default() -> Self {
        let now = crate::protocol::time::now_ms();
        let tz = Default::default();
        CallForm {
            url: String::new(),
            app_id: String::new(),
            secret: String::new(),
            http2: true,
            server_ca: String::new(),
            interface: Interface { family: Family::Static, shape: Shape::Cems },
            cems_id: DEFAULT_CEMS_ID.to_owned(),
            point_ids: BTreeSet::new(),
            parameter_ids: BTreeSet::new(),
            category_id: String::new(),
            from: format_time(now - 86_400_000, tz),
            to: format_time(now, tz),
            period: Period::Hour,
            stat: Stat::Avg,
            page_no: 1,
            page_size: 100,
        }
    }
}

/// Which fields an interface takes (mirrors `ApiRequest::parse`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Takes {
    pub paging: bool,
    pub points: bool,
    pub category: bool,
    /// `Some(true)`: required; `Some(false)`: optional.
    pub parameters: Option<bool>,
    pub range: bool,
    pub period: bool,
    pub stat: bool,
    /// 10.4: `items` of point × parameter × stat.
    pub items: bool,
}

pub fn takes(i: Interface) -> Takes {
    let items = i.family == Family::Statistic && i.shape == Shape::Point;
    let parameters = if i.family == Family::Static || items {
        None
    } else {
        match i.shape {
            Shape::Cems | Shape::Point => Some(true),
            Shape::CemsSpecCategory => Some(false),
            _ => None,
        }
    };
    Takes {
        paging: i.paged(),
        points: matches!(i.shape, Shape::Point | Shape::PointFull | Shape::PointSpecCategory) && !items,
        category: matches!(i.shape, Shape::CemsSpecCategory | Shape::PointSpecCategory),
        parameters,
        range: matches!(i.family, Family::Historic | Family::Statistic),
        period: i.family == Family::Statistic,
        stat: i.family == Family::Statistic && !items,
        items,
    }
}

impl CallForm {
    /// The request body of the chosen interface from the form.
    pub fn body(&self) -> Value {
        let t = takes(self.interface);
        let mut body = Map::new();
        body.insert("cemsId".into(), json!(self.cems_id));
        if t.paging {
            body.insert("pageNo".into(), json!(self.page_no));
            body.insert("pageSize".into(), json!(self.page_size));
        }
        if t.points {
            body.insert("pointIds".into(), json!(self.point_ids));
        }
        if t.category {
            body.insert("categoryId".into(), json!(self.category_id));
        }
        match t.parameters {
            Some(true) => {
                body.insert("parameterIds".into(), json!(self.parameter_ids));
            }
            Some(false) if !self.parameter_ids.is_empty() => {
                body.insert("parameterIds".into(), json!(self.parameter_ids));
            }
            _ => {}
        }
        if t.range {
            body.insert("from".into(), json!(self.from.trim()));
            body.insert("to".into(), json!(self.to.trim()));
        }
        if t.period {
            body.insert("period".into(), json!(self.period.as_str()));
        }
        if t.stat {
            body.insert("stat".into(), json!(self.stat.as_str()));
        }
        if t.items {
            let items: Vec<Value> = self
                .point_ids
                .iter()
                .flat_map(|p| self.parameter_ids.iter().map(move |q| json!({"pointId": p, "parameterId": q, "stat": self.stat.as_str()})))
                .collect();
            body.insert("items".into(), Value::Array(items));
        }
        Value::Object(body)
    }
}

/// Ids the window can offer: its sites, and the points, parameters and categories of the chosen
/// site as the window's own server would list them.
#[derive(Debug, Clone, Default)]
pub struct Choices {
    pub sites: Vec<String>,
    /// (pointId, categoryId, parameterIds)
    pub points: Vec<(String, String, Vec<String>)>,
    pub categories: Vec<String>,
}

impl Choices {
    pub fn read(state: &SharedState, models: &ModelSet, sites: &[Site], cems_id: &str) -> Choices {
        // Not serving: the default site, as `api serve` without sites has it.
        let site = sites.iter().find(|s| s.cems_id == cems_id).or(sites.first()).cloned().unwrap_or_else(Site::default_site);
        let view: SiteView = site_view(state, models, &site);
        let ids = if sites.is_empty() { vec![site.cems_id.clone()] } else { sites.iter().map(|s| s.cems_id.clone()).collect() };
        Choices {
            sites: ids,
            points: view
                .points
                .iter()
                .map(|p| (p.point.point_id.clone(), p.point.category_id.clone(), p.point.parameters.iter().map(|q| q.parameter_id.clone()).collect()))
                .collect(),
            categories: view.categories().into_iter().map(|c| c.category_id).collect(),
        }
    }

    /// The parameters of the chosen points (of every point when none is chosen).
    pub fn parameters(&self, chosen: &BTreeSet<String>) -> BTreeSet<String> {
        self.points.iter().filter(|(id, _, _)| chosen.is_empty() || chosen.contains(id)).flat_map(|(_, _, ps)| ps.iter().cloned()).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::app_api::ApiRequest;

    /// Every body the form makes parses as its interface's request (given ids).
    #[test]
    fn every_interface_gets_a_body_it_accepts() {
        for interface in Interface::all() {
            let mut form = CallForm { interface, category_id: "meter".into(), ..CallForm::default() };
            form.point_ids.insert("PK.gw.m1".into());
            form.parameter_ids.insert("P".into());
            let body = form.body();
            let parsed = ApiRequest::parse(interface, body.as_object().expect("an object"));
            assert!(parsed.is_ok(), "{interface}: {body} → {parsed:?}");
        }
    }
}
