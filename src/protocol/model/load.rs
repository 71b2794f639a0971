//! The file-system edge of the model module: reading one file or a folder of `*.json` files.

use std::path::{Path, PathBuf};

use super::document::{ModelDocument, ModelSet, check_duplicate_product_keys, check_sub_products};
use super::ModelError;

fn io_error(file: &str, message: String) -> Vec<ModelError> {
    vec![ModelError { file: file.to_owned(), path: "$".into(), message }]
}

impl ModelDocument {
    /// Reads and parses the model file at `path`; its display form is the source name.
    pub fn load_file(path: impl AsRef<Path>) -> Result<ModelDocument, Vec<ModelError>> {
        let path = path.as_ref();
        let name = path.display().to_string();
        let bytes = std::fs::read(path).map_err(|e| io_error(&name, format!("cannot read: {e}")))?;
        let text = String::from_utf8(bytes)
            .map_err(|e| io_error(&name, format!("not UTF-8 text (bad byte at offset {})", e.utf8_error().valid_up_to())))?;
        ModelDocument::parse(&name, &text)
    }
}

impl ModelSet {
    /// Loads every `*.json` file of folder `path` (sorted by name); bad files are left out and
    /// reported, as are repeated product keys and `subProducts` that no loaded model defines.
    pub fn load_dir(path: impl AsRef<Path>) -> (ModelSet, Vec<ModelError>) {
        let dir = path.as_ref();
        let mut set = ModelSet::new();
        let entries = match std::fs::read_dir(dir) {
            Ok(entries) => entries,
            Err(e) => return (set, io_error(&dir.display().to_string(), format!("cannot read folder: {e}"))),
        };
        let mut files: Vec<PathBuf> = entries
            .filter_map(Result::ok)
            .map(|entry| entry.path())
            .filter(|p| p.is_file() && p.extension().is_some_and(|x| x.eq_ignore_ascii_case("json")))
            .collect();
        files.sort();

        let mut errors = Vec::new();
        let mut docs = Vec::new();
        for file in files {
            match ModelDocument::load_file(&file) {
                Ok(doc) => docs.push(doc),
                Err(errs) => errors.extend(errs),
            }
        }
        let duplicates = check_duplicate_product_keys(&docs);
        for doc in docs {
            // The first file defining a product key wins; later ones were reported above.
            if set.get(doc.product_key()).is_none() {
                set.insert(doc);
            }
        }
        errors.extend(duplicates);
        errors.extend(check_sub_products(set.documents()));
        (set, errors)
    }
}
