//! The 24 interfaces called in turn, with the site's own points and parameters (from 7.2)
//! filling the requests, and each answer checked.

use serde_json::{Map, Value, json};

use super::shapes::{self, Problems};
use super::{ProbeOptions, ProbeReport};
use crate::api::client::ApiClient;
use crate::protocol::app_api::time::format_time;
use crate::protocol::app_api::{Family, Interface, Shape, TzOffset};
use crate::protocol::time::parse_time;

/// What the static data showed, for the requests that need ids.
#[derive(Debug, Clone)]
pub struct Found {
    pub point_id: String,
    pub category: String,
    pub parameter: Option<String>,
    pub tz: TzOffset,
}

/// A point of the site as 7.2 listed it.
struct Listed {
    id: String,
    category: String,
    parameters: Vec<String>,
}

fn interface(family: Family, shape: Shape) -> Interface {
    Interface { family, shape }
}

/// Calls `i` and records its `answer` check; the answer object when it is a well-formed success.
async fn call(client: &ApiClient, report: &mut ProbeReport, i: Interface, body: &Value) -> Option<Map<String, Value>> {
    let mut p = Problems::default();
    let answer = match client.call(i, body).await {
        Err(e) => {
            p.push("call", format!("{e:#}"));
            None
        }
        Ok(exchange) => match exchange.reply.json() {
            None => {
                p.push("answer", format!("HTTP {}: not JSON", exchange.reply.status));
                None
            }
            Some(json) => {
                let ok = match shapes::envelope(&mut p, &json) {
                    Some((0, _, _)) if exchange.reply.status == 200 => true,
                    Some((code, o, _)) => {
                        p.push("answer", format!("HTTP {} code {code}: {}", exchange.reply.status, o.get("msg").and_then(Value::as_str).unwrap_or("")));
                        false
                    }
                    None => false,
                };
                if ok { json.as_object().cloned() } else { None }
            }
        },
    };
    let ok = p.is_empty();
    report.record_for(i, "answer", p.0);
    answer.filter(|_| ok)
}

fn data(answer: &Map<String, Value>) -> &Map<String, Value> {
    static EMPTY: std::sync::OnceLock<Map<String, Value>> = std::sync::OnceLock::new();
    answer.get("data").and_then(Value::as_object).unwrap_or_else(|| EMPTY.get_or_init(Map::new))
}

/// The answer's items that paging counts: points, values, or every series' values.
fn counted(i: Interface, data: &Map<String, Value>) -> u64 {
    let list = data.get(i.list_key()).and_then(Value::as_array);
    match i.family {
        Family::Static | Family::Dynamic => list.map_or(0, |l| l.len() as u64),
        Family::Historic | Family::Statistic => {
            list.map_or(0, |l| l.iter().map(|s| s.get("values").and_then(Value::as_array).map_or(0, |v| v.len() as u64)).sum())
        }
    }
}

/// `page` present exactly on paged interfaces, echoing the request, bounding the list.
fn check_paging(report: &mut ProbeReport, i: Interface, answer: &Map<String, Value>, no: u64, size: u64) -> Option<u64> {
    let mut p = Problems::default();
    let mut total = None;
    if i.paged() {
        if let Some((page_no, page_size, t)) = shapes::page(&mut p, answer) {
            if page_no != no || page_size != size {
                p.push(".page", format!("asked pageNo {no} pageSize {size}, answered {page_no} and {page_size}"));
            }
            let n = counted(i, data(answer));
            if n > size {
                p.push(".page", format!("{n} items on a page of {size}"));
            }
            if no == 1 && n < size && n != t {
                p.push(".page.total", format!("{t}, but the only page holds {n}"));
            }
            total = Some(t);
        }
    } else if answer.contains_key("page") {
        p.push(".page", "present on an interface that is not paged");
    }
    report.record_for(i, "paging", p.0);
    total
}

/// (pointId, parameterId) of each listed item, in answer order, and whether it is sorted.
fn check_order(report: &mut ProbeReport, i: Interface, data: &Map<String, Value>) {
    let mut p = Problems::default();
    let list = data.get(i.list_key()).and_then(Value::as_array).cloned().unwrap_or_default();
    let key = |v: &Value| (v.get("pointId").and_then(Value::as_str).unwrap_or("").to_owned(), v.get("parameterId").and_then(Value::as_str).unwrap_or("").to_owned());
    for pair in list.windows(2) {
        if key(&pair[0]) > key(&pair[1]) {
            p.push(&format!("data.{}", i.list_key()), format!("{:?} listed before {:?}: not ordered by pointId, parameterId", key(&pair[0]), key(&pair[1])));
        }
    }
    if i.family == Family::Historic || i.family == Family::Statistic {
        let field = if i.family == Family::Historic { "time" } else { "start" };
        for series in &list {
            let times: Vec<i64> = series.get("values").and_then(Value::as_array).map_or(Vec::new(), |v| v.iter().filter_map(|s| s.get(field)?.as_str().and_then(|t| parse_time(t).ok())).collect());
            if times.windows(2).any(|w| w[0] >= w[1]) {
                p.push(&format!("data.series {:?}", key(series)), format!("{field}s not strictly ascending"));
            }
        }
    }
    report.record_for(i, "order", p.0);
}

fn check_fields(report: &mut ProbeReport, i: Interface, data: &Map<String, Value>) {
    let mut p = Problems::default();
    match i.family {
        Family::Static => {
            if matches!(i.shape, Shape::Cems | Shape::CemsFull | Shape::CemsSpecCategory)
                && let Some(cems) = shapes::object(&mut p, data, "data", "cems")
            {
                shapes::cems(&mut p, cems, "data.cems");
            }
            if matches!(i.shape, Shape::CemsFull | Shape::CemsSpecCategory) {
                shapes::list(&mut p, data, "data", "categories", shapes::category);
            }
            match i.shape {
                Shape::Cems => {}
                Shape::Point => {
                    shapes::list(&mut p, data, "data", "points", shapes::simple_point);
                }
                _ => {
                    shapes::list(&mut p, data, "data", "points", shapes::point);
                }
            }
        }
        Family::Dynamic => {
            shapes::list(&mut p, data, "data", "values", shapes::dynamic);
        }
        Family::Historic => {
            shapes::list(&mut p, data, "data", "series", shapes::historic);
        }
        Family::Statistic => {
            shapes::list(&mut p, data, "data", "series", shapes::statistic);
        }
    }
    report.record_for(i, "fields", p.0);
}

/// Every item is one asked for: the points, the category, the parameters.
fn check_scope(report: &mut ProbeReport, i: Interface, data: &Map<String, Value>, points: Option<&[String]>, category_points: Option<&[String]>, parameters: Option<&[String]>) {
    let mut p = Problems::default();
    let list = data.get(i.list_key()).and_then(Value::as_array).cloned().unwrap_or_default();
    for item in &list {
        let point = item.get("pointId").and_then(Value::as_str).unwrap_or("");
        if points.is_some_and(|ids| !ids.iter().any(|id| id == point)) {
            p.push(&format!("data.{}", i.list_key()), format!("pointId {point} was not asked for"));
        }
        if category_points.is_some_and(|ids| !ids.iter().any(|id| id == point)) {
            p.push(&format!("data.{}", i.list_key()), format!("pointId {point} is not of the category asked"));
        }
        if let Some(ids) = parameters
            && let Some(parameter) = item.get("parameterId").and_then(Value::as_str)
            && !ids.iter().any(|id| id == parameter)
        {
            p.push(&format!("data.{}", i.list_key()), format!("parameterId {parameter} was not asked for"));
        }
    }
    report.record_for(i, "scope", p.0);
}

/// Calls every interface; what the static data showed, for the error paths.
pub async fn interfaces(client: &ApiClient, options: &ProbeOptions, report: &mut ProbeReport) -> Option<Found> {
    let cems = options.cems_id.as_str();
    // 7.1: the site, and its timezone for the times we send.
    let i = interface(Family::Static, Shape::Cems);
    let answer = call(client, report, i, &json!({ "cemsId": cems })).await?;
    check_fields(report, i, data(&answer));
    check_paging(report, i, &answer, 1, 0);
    let tz = data(&answer).get("cems").and_then(|c| c.get("timezone")).and_then(Value::as_str).and_then(TzOffset::parse).unwrap_or_default();

    // 7.2, every page: the points.
    let i = interface(Family::Static, Shape::CemsFull);
    let mut listed: Vec<Listed> = Vec::new();
    let size = 100;
    for page_no in 1..=100u64 {
        let Some(answer) = call(client, report, i, &json!({ "cemsId": cems, "pageNo": page_no, "pageSize": size })).await else { break };
        check_fields(report, i, data(&answer));
        let total = check_paging(report, i, &answer, page_no, size).unwrap_or(0);
        for point in data(&answer).get("points").and_then(Value::as_array).into_iter().flatten() {
            let text = |k: &str| point.get(k).and_then(Value::as_str).unwrap_or("").to_owned();
            let parameters = point.get("parameters").and_then(Value::as_array).map_or(Vec::new(), |ps| ps.iter().filter_map(|p| p.get("parameterId")?.as_str().map(str::to_owned)).collect());
            listed.push(Listed { id: text("pointId"), category: text("categoryId"), parameters });
        }
        if page_no * size >= total {
            // One page past the end: an empty list, not an error.
            if let Some(past) = call(client, report, i, &json!({ "cemsId": cems, "pageNo": page_no + 1, "pageSize": size })).await
                && counted(i, data(&past)) != 0
            {
                report.record_for(i, "paging", vec![format!("page {} past the end is not empty", page_no + 1)]);
            }
            break;
        }
    }
    let Some(first) = listed.iter().find(|p| !p.parameters.is_empty()).or(listed.first()) else {
        report.record("7.2", &i.name(), "points", vec!["the site has no points: the point interfaces were not checked".to_owned()]);
        return None;
    };
    let found = Found { point_id: first.id.clone(), category: first.category.clone(), parameter: first.parameters.first().cloned(), tz };
    let of_category: Vec<String> = listed.iter().filter(|p| p.category == found.category).map(|p| p.id.clone()).collect();
    let point_ids = vec![found.point_id.clone()];
    let parameter_ids: Vec<String> = found.parameter.iter().cloned().collect();
    let range = (format_time(options.from_ms, tz), format_time(options.to_ms, tz));

    for family in [Family::Static, Family::Dynamic, Family::Historic, Family::Statistic] {
        for shape in [Shape::Cems, Shape::CemsFull, Shape::CemsSpecCategory, Shape::Point, Shape::PointFull, Shape::PointSpecCategory] {
            let i = interface(family, shape);
            if family == Family::Static && matches!(shape, Shape::Cems | Shape::CemsFull) {
                continue;
            }
            // Dynamic-family shapes taking parameterIds need one the point has.
            let needs_parameter = family != Family::Static && matches!(shape, Shape::Cems | Shape::Point);
            if needs_parameter && parameter_ids.is_empty() {
                report.record_for(i, "answer", vec!["no point of the site has a parameter: not checked".to_owned()]);
                continue;
            }
            let mut body = json!({ "cemsId": cems });
            let mut points = None;
            let mut category_points = None;
            let mut parameters = None;
            if matches!(shape, Shape::Point | Shape::PointFull | Shape::PointSpecCategory) {
                if family == Family::Statistic && shape == Shape::Point {
                    body["items"] = json!([{ "pointId": found.point_id, "parameterId": parameter_ids.first(), "stat": "avg" }]);
                } else {
                    body["pointIds"] = json!(point_ids);
                }
                points = Some(point_ids.as_slice());
            }
            if matches!(shape, Shape::CemsSpecCategory | Shape::PointSpecCategory) {
                body["categoryId"] = json!(found.category);
                category_points = Some(of_category.as_slice());
            }
            if needs_parameter {
                if !(family == Family::Statistic && shape == Shape::Point) {
                    body["parameterIds"] = json!(parameter_ids);
                }
                parameters = Some(parameter_ids.as_slice());
            }
            if matches!(family, Family::Historic | Family::Statistic) {
                body["from"] = json!(range.0);
                body["to"] = json!(range.1);
            }
            if family == Family::Statistic {
                body["period"] = json!("hour");
                if shape != Shape::Point {
                    body["stat"] = json!("avg");
                }
            }
            let size = if family == Family::Historic { 1000 } else { 100 };
            if i.paged() {
                body["pageSize"] = json!(size);
            }
            let Some(answer) = call(client, report, i, &body).await else { continue };
            let d = data(&answer);
            check_fields(report, i, d);
            check_paging(report, i, &answer, 1, size);
            if family != Family::Static {
                check_order(report, i, d);
            }
            if family == Family::Static && shape == Shape::CemsSpecCategory {
                let names: Vec<&str> = d.get("categories").and_then(Value::as_array).into_iter().flatten().filter_map(|c| c.get("categoryId")?.as_str()).collect();
                if names != [found.category.as_str()] {
                    report.record_for(i, "scope", vec![format!("data.categories: expected only {}, found {names:?}", found.category)]);
                }
            }
            check_scope(report, i, d, points, category_points, parameters);
        }
    }
    Some(found)
}
