//! Forms built from the product model, for every tab that sends something: one field per value
//! spec (`field.rs` holds the state and builds the JSON, checked by the model's `value_check`;
//! `editor.rs` draws it), a raw-JSON editor marked unchecked where no model applies, the send
//! button that asks the session first, and the reply shown by the model (`reply.rs`).
//!
//! A form's use, in a tab: keep a [`ParamsForm`] (or [`RawJsonForm`]) in the tab's view state,
//! draw it with [`params_form_ui`], and when [`send_button_ui`] is clicked set `attempted` and
//! `build()` it: `Ok` is the value to send, `Err` the reasons, already shown beside the fields.

pub mod editor;
pub mod field;
pub mod reply;

pub use editor::{choice_text, field_ui, params_form_ui, raw_json_ui, send_button_ui, spec_hint};
pub use field::{FieldState, ParamsForm, RawJsonForm, Reason, Reasons, field_name, param_of_point, param_of_property};
pub use reply::{find_request, item_failure, outcome_ui, output_rows, reply_data_ui, same_value, value_text};
