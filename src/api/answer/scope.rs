//! Which points and parameters a request covers (§6), with 2004/2005/2007 for unknown ids.
//! Results are ordered by pointId, then parameterId: the contract's stable order.

use super::super::catalog::{PointEntry, SiteView};
use crate::protocol::app_api::model::Parameter;
use crate::protocol::app_api::request::RequestError;
use crate::protocol::app_api::{ApiCode, ApiRequest, Shape};

/// The points of the request's shape.
pub fn points<'v>(view: &'v SiteView, shape: Shape, request: &ApiRequest) -> Result<Vec<&'v PointEntry>, RequestError> {
    let mut chosen: Vec<&PointEntry> = match shape {
        Shape::Cems | Shape::CemsFull | Shape::CemsSpecCategory => view.points.iter().map(|e| &**e).collect(),
        Shape::Point | Shape::PointFull | Shape::PointSpecCategory => {
            let mut out = Vec::with_capacity(request.point_ids.len());
            for id in &request.point_ids {
                match view.point(id) {
                    Some(p) => out.push(p),
                    None => return Err(RequestError::new(ApiCode::UnknownPoint, format!("unknown pointId {id}"))),
                }
            }
            out
        }
    };
    if let Some(category) = &request.category_id {
        if !view.knows_category(category) {
            return Err(RequestError::new(ApiCode::UnknownCategory, format!("unknown categoryId {category}")));
        }
        chosen.retain(|p| p.point.category_id == *category);
    }
    chosen.sort_by(|a, b| a.point.point_id.cmp(&b.point.point_id));
    Ok(chosen)
}

/// (point, parameter) pairs: the named parameters where a point has them (2007 for one no
/// point in scope has), or every parameter.
pub fn pairs<'v>(points: &[&'v PointEntry], parameter_ids: Option<&[String]>) -> Result<Vec<(&'v PointEntry, &'v Parameter)>, RequestError> {
    if let Some(ids) = parameter_ids
        && let Some(unknown) = ids.iter().find(|id| !points.iter().any(|p| p.parameter(id).is_some()))
    {
        return Err(RequestError::new(ApiCode::UnknownParameter, format!("unknown parameterId {unknown}")));
    }
    let mut out = Vec::new();
    for entry in points {
        let mut params: Vec<&Parameter> = match parameter_ids {
            Some(ids) => ids.iter().filter_map(|id| entry.parameter(id)).collect(),
            None => entry.point.parameters.iter().collect(),
        };
        params.sort_by(|a, b| a.parameter_id.cmp(&b.parameter_id));
        out.extend(params.into_iter().map(|p| (*entry, p)));
    }
    Ok(out)
}
