//! Checks of `subProducts` across files: each names a loaded model, never the model itself, and
//! following them never leads back to where they started (a gateway that carries itself, or A
//! carrying B carrying A, would send anything that walks the tree round for ever).

use std::collections::{HashMap, VecDeque};

use super::document::ModelDocument;
use super::error::{FileErrors, ModelError};
use super::error::push_index;

/// Every `subProducts` entry must name a product key among `docs`, not the model's own, and
/// must not lead back to the model through other models' `subProducts`. Errors name the file
/// and `$.subProducts[i]`, at most [`MAX_ERRORS_PER_FILE`](super::MAX_ERRORS_PER_FILE) per file.
pub fn check_sub_products(docs: &[ModelDocument]) -> Vec<ModelError> {
    // The first model of each key stands for it (a repeated key is reported elsewhere).
    let mut index: HashMap<&str, usize> = HashMap::new();
    for (i, doc) in docs.iter().enumerate() {
        index.entry(doc.product_key()).or_insert(i);
    }
    // Who carries whom, in both directions, by index.
    let mut carried_by: Vec<Vec<usize>> = vec![Vec::new(); docs.len()];
    for (i, doc) in docs.iter().enumerate() {
        for pk in &doc.model().sub_products {
            if let Some(&j) = index.get(pk.as_str())
                && j != i
            {
                carried_by[j].push(i);
            }
        }
    }
    let mut out = Vec::new();
    for (i, doc) in docs.iter().enumerate() {
        let own = doc.product_key();
        let target = index.get(own).copied().unwrap_or(i);
        let next = hops_towards(&carried_by, target);
        let mut errors = FileErrors::new(doc.source_name());
        for (n, pk) in doc.model().sub_products.iter().enumerate() {
            let at = push_index("$.subProducts", n);
            if pk == own {
                errors.push(at, format!("{pk:?} is this model's own product key: a product cannot carry itself"));
                continue;
            }
            let Some(&j) = index.get(pk.as_str()) else {
                errors.push(at, format!("no model with product key {pk:?} is loaded"));
                continue;
            };
            if next[j].is_none() {
                continue;
            }
            if errors.full() {
                errors.count();
                continue;
            }
            let mut chain = vec![own, pk.as_str()];
            let mut at_node = j;
            while let Some(hop) = next[at_node] {
                chain.push(docs[hop].product_key());
                if hop == target {
                    break;
                }
                at_node = hop;
            }
            errors.push(at, format!("{pk:?} leads back to this model ({}): sub-products must not form a cycle", chain.join(" → ")));
        }
        out.extend(errors.finish());
    }
    out
}

/// For each model, the next model on a shortest way from it to `target` through `subProducts`
/// (None: no way), found by walking `carried_by` back from `target`.
fn hops_towards(carried_by: &[Vec<usize>], target: usize) -> Vec<Option<usize>> {
    let mut next = vec![None; carried_by.len()];
    let mut queue = VecDeque::from([target]);
    while let Some(node) = queue.pop_front() {
        for &carrier in &carried_by[node] {
            if next[carrier].is_none() && carrier != target {
                next[carrier] = Some(node);
                queue.push_back(carrier);
            }
        }
    }
    next
}
