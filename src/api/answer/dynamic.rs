//! §8: the latest value of each (point, parameter) in scope; a parameter never reported is
//! left out. Each value was serialised when the view was built; a page joins them, walking the
//! points in order and each point's values by parameterId (its map's order) without copying.

use super::super::catalog::{PointEntry, SiteView};
use super::{Data, scope};
use crate::protocol::app_api::model::Page;
use crate::protocol::app_api::request::RequestError;
use crate::protocol::app_api::{ApiCode, ApiRequest, Interface};

pub fn answer<'v>(view: &'v SiteView, interface: Interface, request: &ApiRequest) -> Result<(Data<'v>, Option<Page>), RequestError> {
    let points = scope::points(view, interface.shape, request)?;
    let mut ids: Option<Vec<&str>> = None;
    if let Some(wanted) = &request.parameter_ids {
        if let Some(unknown) = wanted.iter().find(|id| !points.iter().any(|p| p.parameter(id).is_some())) {
            return Err(RequestError::new(ApiCode::UnknownParameter, format!("unknown parameterId {unknown}")));
        }
        let mut sorted: Vec<&str> = wanted.iter().map(String::as_str).collect();
        sorted.sort_unstable();
        ids = Some(sorted);
    }
    let ids = ids.as_deref();
    if !interface.paged() {
        let mut items = Vec::new();
        for entry in &points {
            visit(entry, ids, &mut |json| items.push(json));
        }
        return Ok((Data::List { key: "values", items }, None));
    }
    let total: u64 = match ids {
        None => points.iter().map(|e| e.latest.len() as u64).sum(),
        Some(_) => {
            let mut n = 0u64;
            for entry in &points {
                visit(entry, ids, &mut |_| n += 1);
            }
            n
        }
    };
    let range = request.paging.range(total);
    let (mut skip, mut left) = (range.start, range.end - range.start);
    let mut items = Vec::with_capacity(left as usize);
    for entry in &points {
        if left == 0 {
            break;
        }
        // Whole points before the page are skipped without visiting their values.
        if ids.is_none() && skip >= entry.latest.len() as u64 {
            skip -= entry.latest.len() as u64;
            continue;
        }
        visit(entry, ids, &mut |json| {
            if skip > 0 {
                skip -= 1;
            } else if left > 0 {
                items.push(json);
                left -= 1;
            }
        });
    }
    Ok((Data::List { key: "values", items }, Some(request.paging.page(total))))
}

/// Each serialised latest value of `entry`, of `ids` (sorted) or of every parameter, in
/// parameterId order.
fn visit<'v>(entry: &'v PointEntry, ids: Option<&[&str]>, each: &mut dyn FnMut(&'v str)) {
    match ids {
        Some(ids) => {
            for id in ids {
                if let Some(latest) = entry.latest.get(*id) {
                    each(&latest.json);
                }
            }
        }
        None => {
            for latest in entry.latest.values() {
                each(&latest.json);
            }
        }
    }
}
