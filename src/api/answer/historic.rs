//! §9 and §10: samples of a range from the point history, paged by sample; statistics by
//! period computed by SQL (`HistoryDb::statistic`), paged by period on 10.1–10.3.

use serde_json::{Value, json};

use super::super::catalog::{PointEntry, SiteView};
use super::{ApiData, internal, scope};
use crate::protocol::app_api::model::{HistoricData, Page, Parameter, Sample, StatisticData, StatisticValue};
use crate::protocol::app_api::request::RequestError;
use crate::protocol::app_api::time::format_time;
use crate::protocol::app_api::{ApiCode, ApiRequest, Interface, Period, Shape, Stat};

fn range_of(request: &ApiRequest) -> Result<(i64, i64), RequestError> {
    request.range.ok_or_else(|| RequestError::new(ApiCode::BadParameter, "from and to are missing"))
}

pub fn historic(data: &ApiData, view: &SiteView, interface: Interface, request: &ApiRequest) -> Result<(Value, Option<Page>), RequestError> {
    let (from, to) = range_of(request)?;
    let points = scope::points(view, interface.shape, request)?;
    let pairs = scope::pairs(&points, request.parameter_ids.as_deref())?;
    let keys: Vec<_> = pairs.iter().map(|(entry, parameter)| entry.series_key(parameter)).collect();
    let counts = data.with_history(|db| keys.iter().map(|k| db.count_in(k, from, to)).collect::<Result<Vec<u64>, _>>()).map_err(internal)?;
    let counts = counts.unwrap_or_else(|| vec![0; keys.len()]);
    let total: u64 = counts.iter().sum();
    let page = request.paging.range(total);
    // Walk the series in order, taking the part of each that falls on this page.
    let mut wanted = Vec::new();
    let mut at = 0u64;
    for (i, &count) in counts.iter().enumerate() {
        let (start, end) = (at.max(page.start), (at + count).min(page.end));
        if start < end {
            wanted.push((i, start - at, end - start));
        }
        at += count;
    }
    let tz = view.site.timezone;
    let series = data
        .with_history(|db| {
            wanted
                .iter()
                .map(|&(i, offset, limit)| {
                    let rows = db.samples_in(&keys[i], from, to, offset, limit)?;
                    let values = rows
                        .into_iter()
                        .map(|(ts, value, quality)| Sample { time: format_time(ts, tz), value: value.and_then(serde_json::Number::from_f64).map_or(Value::Null, Value::Number), quality })
                        .collect();
                    let (entry, parameter) = pairs[i];
                    Ok(HistoricData { point_id: entry.point.point_id.clone(), parameter_id: parameter.parameter_id.clone(), values })
                })
                .collect::<Result<Vec<_>, _>>()
        })
        .map_err(internal)?
        .unwrap_or_default();
    Ok((json!({ "series": series }), Some(request.paging.page(total))))
}

pub fn statistic(data: &ApiData, view: &SiteView, interface: Interface, request: &ApiRequest) -> Result<(Value, Option<Page>), RequestError> {
    let (from, to) = range_of(request)?;
    let period = request.period.unwrap_or(Period::Day);
    let wanted: Vec<(&PointEntry, &Parameter, Stat)> = if interface.shape == Shape::Point {
        items(view, request)?
    } else {
        let points = scope::points(view, interface.shape, request)?;
        let stat = request.stat.unwrap_or(Stat::Avg);
        scope::pairs(&points, request.parameter_ids.as_deref())?.into_iter().map(|(e, p)| (e, p, stat)).collect()
    };
    let tz = view.site.timezone;
    let rows = data
        .with_history(|db| wanted.iter().map(|(e, p, stat)| db.statistic(&e.series_key(p), from, to, period, *stat, tz)).collect::<Result<Vec<_>, _>>())
        .map_err(internal)?
        .unwrap_or_else(|| vec![Vec::new(); wanted.len()]);
    let to_value = |r: &crate::engine::history::StatRow| StatisticValue { start: format_time(r.start_ms, tz), value: r.value, count: r.count };
    let series_of = |(e, p, stat): &(&PointEntry, &Parameter, Stat), values: Vec<StatisticValue>| StatisticData {
        point_id: e.point.point_id.clone(),
        parameter_id: p.parameter_id.clone(),
        stat: stat.as_str().to_owned(),
        period: period.as_str().to_owned(),
        values,
    };
    if !interface.paged() {
        let series: Vec<StatisticData> = wanted.iter().zip(&rows).map(|(w, r)| series_of(w, r.iter().map(to_value).collect())).collect();
        return Ok((json!({ "series": series }), None));
    }
    let total: u64 = rows.iter().map(|r| r.len() as u64).sum();
    let page = request.paging.range(total);
    let mut series = Vec::new();
    let mut at = 0u64;
    for (w, r) in wanted.iter().zip(&rows) {
        let count = r.len() as u64;
        let (start, end) = (at.max(page.start), (at + count).min(page.end));
        if start < end {
            series.push(series_of(w, r[(start - at) as usize..(end - at) as usize].iter().map(to_value).collect()));
        }
        at += count;
    }
    Ok((json!({ "series": series }), Some(request.paging.page(total))))
}

/// 10.4's items, each point and parameter looked up (2004, 2007).
fn items<'v>(view: &'v SiteView, request: &ApiRequest) -> Result<Vec<(&'v PointEntry, &'v Parameter, Stat)>, RequestError> {
    request
        .items
        .iter()
        .map(|item| {
            let entry = view.point(&item.point_id).ok_or_else(|| RequestError::new(ApiCode::UnknownPoint, format!("unknown pointId {}", item.point_id)))?;
            let parameter = entry
                .parameter(&item.parameter_id)
                .ok_or_else(|| RequestError::new(ApiCode::UnknownParameter, format!("unknown parameterId {}", item.parameter_id)))?;
            Ok((entry, parameter, item.stat))
        })
        .collect()
}
