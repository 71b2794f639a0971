//! Product models (`shared/protocol/product-model.md`): typed model, schema and semantic checks,
//! documents that save back byte-for-byte, and the set of models the workbench knows.
//!
//! - `types`: the typed model (`ProductModel`, `PointDef`, …) and `LocalizedText`.
//! - `validate`: the JSON Schema (`assets/schema/`) plus the rules a schema cannot say.
//! - `document`: `ModelDocument` (text + JSON value + typed model), `ModelSet`, cross-file checks.
//! - `matching`: which model describes a device behind a gateway.
//! - `preserve`: saving with the file's own formatting; JSON path → text range.
//! - `templates`: starting models for `model new` and the editor.

mod category;
pub mod describe;
mod document;
mod error;
#[cfg(test)]
mod extensions_tests;
#[cfg(test)]
mod limits_tests;
pub mod matching;
mod preserve;
mod sub_products;
pub mod templates;
#[cfg(test)]
mod tests;
mod types;
mod validate;
pub mod value_check;

pub use category::Category;
pub use error::{MAX_ERRORS_PER_FILE, ModelError, cap_per_file, more_errors, push_index, push_key};
pub use document::{ModelDocument, ModelSet, check_duplicate_product_keys};
pub use preserve::{PreservingWriter, locate, write_preserving};
pub use sub_products::check_sub_products;
pub use types::{
    Access, AlarmDef, CommandDef, EnumLabels, Lang, LocalizedText, MeterDef, ModelKind, ParamDef, PointAlarm, PointDef,
    PointKind, PortDef, ProductModel, PropertyDef, ValueSpec, ValueType,
};
pub use validate::{SCHEMA_JSON, validate_value};
