//! §7: the site, its categories and its points.

use serde_json::{Value, json};

use super::super::catalog::SiteView;
use super::scope;
use crate::protocol::app_api::model::{Category, Name, Page, category_name};
use crate::protocol::app_api::request::RequestError;
use crate::protocol::app_api::{ApiRequest, Interface, Shape};
use crate::protocol::model::Category as ModelCategory;

pub fn answer(view: &SiteView, interface: Interface, request: &ApiRequest) -> Result<(Value, Option<Page>), RequestError> {
    let points = scope::points(view, interface.shape, request)?;
    Ok(match interface.shape {
        Shape::Cems => (json!({ "cems": view.cems() }), None),
        Shape::CemsFull | Shape::CemsSpecCategory => {
            let total = points.len() as u64;
            let page: Vec<_> = request.paging.slice(points).into_iter().map(|p| &p.point).collect();
            let categories = match &request.category_id {
                None => view.categories(),
                Some(id) => vec![view.categories().into_iter().find(|c| c.category_id == *id).unwrap_or_else(|| empty_category(id))],
            };
            (json!({ "cems": view.cems(), "categories": categories, "points": page }), Some(request.paging.page(total)))
        }
        Shape::Point => (json!({ "points": points.iter().map(|p| p.point.simple()).collect::<Vec<_>>() }), None),
        Shape::PointFull | Shape::PointSpecCategory => (json!({ "points": points.iter().map(|p| &p.point).collect::<Vec<_>>() }), None),
    })
}

/// A category the site knows of but has no point of.
fn empty_category(id: &str) -> Category {
    let name = id.parse::<ModelCategory>().map(|c| category_name(&c)).unwrap_or_else(|_| Name::same(id));
    Category { category_id: id.to_owned(), name, point_count: 0, parameters: Vec::new() }
}
