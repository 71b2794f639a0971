//! The editor document: undo folding, raw text in and out of sync, paths to fields.

use super::*;

const TEXT: &str = "{\n  \"modelVersion\": \"1.0\",\n  \"productKey\": \"PK1\",\n  \"kind\": \"device\",\n  \"name\": \"表\"\n}\n";

fn doc() -> EditorDoc {
    EditorDoc::opened(Path::new("m.json"), TEXT.to_owned())
}

#[test]
fn a_fresh_file_is_clean_and_saves_its_own_bytes() {
    let d = doc();
    assert!(!d.is_dirty());
    assert!(d.errors().is_empty(), "{:?}", d.errors());
    assert_eq!(d.text_to_save(), TEXT);
}

#[test]
fn typing_in_one_field_is_one_undo_step_and_redo_brings_it_back() {
    let mut d = doc();
    for pk in ["PK1x", "PK1xy"] {
        d.form_value()["productKey"] = Value::String(pk.into());
        d.form_edited(&FormEdit { changed: true, field: Some("$.productKey".into()) });
    }
    assert!(d.is_dirty());
    assert!(d.raw_text().contains("\"PK1xy\""), "{}", d.raw_text());
    d.undo();
    assert_eq!(d.product_key(), Some("PK1"));
    assert!(!d.is_dirty());
    d.redo();
    assert_eq!(d.product_key(), Some("PK1xy"));
}

#[test]
fn broken_raw_text_keeps_the_last_value_and_says_where() {
    let mut d = doc();
    d.raw_edited("{\"modelVersion\": ".into());
    assert_eq!(d.product_key(), Some("PK1"));
    assert!(d.raw_error().is_some_and(|e| e.starts_with("line 1")), "{:?}", d.raw_error());
    d.raw_edited(TEXT.replace("PK1", "PK2"));
    assert_eq!(d.product_key(), Some("PK2"));
    assert!(d.raw_error().is_none());
    d.undo();
    assert_eq!(d.product_key(), Some("PK1"));
}

#[test]
fn an_error_path_leads_to_its_section_and_text() {
    let mut d = doc();
    d.raw_edited(TEXT.replace("\"device\"", "\"robot\""));
    let path = d.errors().first().map(|e| e.path.clone()).unwrap_or_default();
    assert_eq!(path, "$.kind");
    d.go_to(&path);
    assert_eq!(d.section, Section::Identity);
    let range = d.raw_focus.clone().unwrap_or(0..0);
    assert_eq!(&d.raw_text()[range], "\"robot\"");
}
