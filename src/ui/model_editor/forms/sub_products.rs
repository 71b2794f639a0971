//! Sub-products: the product keys of the devices a gateway may carry, chosen from the known
//! models or typed.

use egui::Ui;
use serde_json::{Map, Value};

use super::fields::{Form};
use super::shape::{wrong_shape_ui};
use super::table::{Column, ListSpec, table_ui, with_list};

const COLUMNS: &[Column] = &[Column { title: "Product key", width: 260.0 }];

pub(super) fn ui(ui: &mut Ui, form: &mut Form, root: &mut Map<String, Value>) {
    if root.get("kind").and_then(Value::as_str) == Some("device") {
        ui.weak(form.tr("Only a gateway lists sub-products."));
    }
    let known = form.cx.known_product_keys;
    with_list(root, "subProducts", |list, root| {
        let own = root.get("productKey").and_then(Value::as_str).unwrap_or("");
        let new_item = |items: &[Value]| {
            let listed = |k: &str| items.iter().any(|i| i.as_str() == Some(k));
            let key = known.iter().find(|k| k.as_str() != own && !listed(k)).cloned().unwrap_or_else(|| "PK-NEW".to_owned());
            Value::String(key)
        };
        let spec = ListSpec { key: "subProducts", columns: COLUMNS, new_item: &new_item };
        let options = || known.iter().filter(|k| k.as_str() != own).cloned().collect::<Vec<_>>();
        let row = |ui: &mut Ui, form: &mut Form, item: &mut Value, path: &str| {
            if !item.is_string() {
                wrong_shape_ui(ui, format!("{} {item}", form.tr("Not a product key, fix it in the raw JSON:")));
                return;
            }
            // The fields edit a key of an object: the string sits in one for the frame.
            let mut slot = Map::from_iter([("key".to_owned(), item.take())]);
            form.text_with_menu(ui, &mut slot, "key", path, form.tr("Product key"), 220.0, &options);
            *item = slot.remove("key").unwrap_or_else(|| Value::String(String::new()));
        };
        table_ui(ui, form, list, &spec, row, |_, _, _, _| {});
    });
}
