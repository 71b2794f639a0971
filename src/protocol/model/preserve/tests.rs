//! Tests of the format-keeping writer and of `locate`.

use proptest::prelude::*;
use serde_json::{Value, json};

use super::emit::same;
use super::{PreservingWriter, locate, write_preserving};
use crate::protocol::model::ModelDocument;

const EXAMPLES: &[(&str, &str)] = &[
    ("energy-gateway.json", include_str!("../../../../product-models/energy-gateway.json")),
    ("power-meter-3p.json", include_str!("../../../../product-models/power-meter-3p.json")),
    ("pcs-100.json", include_str!("../../../../product-models/pcs-100.json")),
];

fn parse(text: &str) -> Value {
    serde_json::from_str(text.strip_prefix('\u{feff}').unwrap_or(text)).unwrap()
}

/// Lines of `a` and `b` that differ, as (line number, old, new); both must have as many lines.
fn changed_lines<'t>(a: &'t str, b: &'t str) -> Vec<(usize, &'t str, &'t str)> {
    let (la, lb): (Vec<&str>, Vec<&str>) = (a.split('\n').collect(), b.split('\n').collect());
    assert_eq!(la.len(), lb.len(), "line count changed:\n{b}");
    la.iter().zip(&lb).enumerate().filter(|(_, (x, y))| x != y).map(|(i, (x, y))| (i + 1, *x, *y)).collect()
}

/// Every model file in `product-models/` and `assets/templates/`, read from disk so a new one is
/// covered too.
fn model_files() -> Vec<(String, String)> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    for dir in ["product-models", "assets/templates"] {
        for entry in std::fs::read_dir(root.join(dir)).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "json") {
                files.push((path.display().to_string(), std::fs::read_to_string(&path).unwrap()));
            }
        }
    }
    assert!(files.len() >= EXAMPLES.len() + 5, "{files:?}");
    files
}

#[test]
fn every_model_file_round_trips_byte_for_byte() {
    for (name, text) in model_files() {
        assert_eq!(write_preserving(&text, &parse(&text)), text, "{name} through write_preserving");
        let mut doc = ModelDocument::parse(&name, &text).unwrap();
        let model = doc.model().clone();
        doc.replace_model(&model).unwrap();
        assert!(doc.is_edited());
        assert_eq!(doc.to_text(), text, "{name} through replace_model");
    }
}

#[test]
fn editing_one_max_changes_one_line() {
    let text = EXAMPLES[1].1;
    let mut doc = ModelDocument::parse("m.json", text).unwrap();
    let mut model = doc.model().clone();
    model.points[3].spec.max = Some(120.5);
    doc.replace_model(&model).unwrap();
    let out = doc.to_text();
    let changed = changed_lines(text, &out);
    assert_eq!(changed.len(), 1, "{changed:?}");
    assert_eq!(changed[0].1.trim(), "\"max\": 100,");
    assert_eq!(changed[0].2, changed[0].1.replace("100", "120.5"));
    assert_eq!(parse(&out), *doc.value());
}

const ONE_LINE_ITEMS: &str = "{\n    \"points\": [\n        {\"id\": \"Ua\", \"kind\": \"analog\", \"max\": 500},\n        {\"id\": \"Ub\", \"kind\": \"analog\", \"max\": 500}\n    ],\n    \"tags\": [\"a\",\"b\"]\n}\n";

#[test]
fn a_new_item_of_a_one_line_list_is_one_line_like_its_siblings() {
    let mut v = parse(ONE_LINE_ITEMS);
    v["points"].as_array_mut().unwrap().push(json!({"id": "Uc", "kind": "analog", "range": [0, 1], "name": {"zh": "C"}}));
    let out = write_preserving(ONE_LINE_ITEMS, &v);
    let expected = ONE_LINE_ITEMS.replace(
        "\"max\": 500}\n    ]",
        "\"max\": 500},\n        {\"id\": \"Uc\", \"kind\": \"analog\", \"range\": [0, 1], \"name\": {\"zh\": \"C\"}}\n    ]",
    );
    assert_eq!(out, expected);
    assert_eq!(parse(&out), v);
}

#[test]
fn a_changed_one_line_item_stays_one_line_in_its_spacing() {
    let mut v = parse(ONE_LINE_ITEMS);
    v["points"][0]["max"] = json!(450);
    v["points"][0]["unit"] = json!("V");
    v["tags"].as_array_mut().unwrap().push(json!("c"));
    let out = write_preserving(ONE_LINE_ITEMS, &v);
    let expected = ONE_LINE_ITEMS
        .replace("\"max\": 500},", "\"max\": 450, \"unit\": \"V\"},")
        .replace("[\"a\",\"b\"]", "[\"a\",\"b\",\"c\"]");
    assert_eq!(out, expected);
}

#[test]
fn removing_items_removes_their_lines_and_commas() {
    let text = EXAMPLES[0].1;
    for remove in [0, 3, 5] {
        let mut v = parse(text);
        let removed = v["points"].as_array_mut().unwrap().remove(remove);
        let out = write_preserving(text, &v);
        assert_eq!(parse(&out), v, "removing point {remove}");
        let lines_of = |s: &str| s.lines().count();
        let item_lines = lines_of(&serde_json::to_string_pretty(&removed).unwrap());
        assert_eq!(lines_of(text) - lines_of(&out), item_lines, "removing point {remove}");
        assert!(!out.contains(",\n  ]") && !out.contains("[,"), "removing point {remove}");
    }
    // A one-line list item, last of its list, and the first of another.
    let mut v = parse(ONE_LINE_ITEMS);
    v["points"].as_array_mut().unwrap().pop();
    v["tags"].as_array_mut().unwrap().remove(0);
    let out = write_preserving(ONE_LINE_ITEMS, &v);
    assert_eq!(out, "{\n    \"points\": [\n        {\"id\": \"Ua\", \"kind\": \"analog\", \"max\": 500}\n    ],\n    \"tags\": [\"b\"]\n}\n");
}

#[test]
fn new_members_and_items_take_the_indentation_of_their_siblings() {
    let text = EXAMPLES[2].1;
    let mut v = parse(text);
    v["points"][0]["alarm"] = json!({"hi": 900, "deadband": 5});
    v["meters"].as_array_mut().unwrap().push(json!({"id": "E", "name": {"zh": "电能"}, "type": "float"}));
    let out = write_preserving(text, &v);
    assert_eq!(parse(&out), v);
    assert!(out.contains("      \"period\": 5,\n      \"alarm\": {\n        \"hi\": 900,\n        \"deadband\": 5\n      }\n    },"), "{out}");
    assert!(out.contains("    },\n    {\n      \"id\": \"E\",\n      \"name\": {\n        \"zh\": \"电能\"\n      },\n      \"type\": \"float\"\n    }\n  ],"), "{out}");
    // Four-space files get four-space additions.
    let four = "{\n    \"a\": 1\n}";
    assert_eq!(write_preserving(four, &json!({"a": 1, "b": {"c": [2]}})), "{\n    \"a\": 1,\n    \"b\": {\n        \"c\": [\n            2\n        ]\n    }\n}");
}

#[test]
fn items_are_matched_by_id_so_a_reorder_keeps_each_item_text() {
    let text = EXAMPLES[1].1;
    let mut v = parse(text);
    let meters = v["meters"].as_array_mut().unwrap();
    meters.swap(0, 3);
    let out = write_preserving(text, &v);
    assert_eq!(parse(&out), v);
    assert_eq!(out.len(), text.len());
}

#[test]
fn a_preserving_writer_writes_what_write_preserving_does() {
    let text = EXAMPLES[0].1;
    let writer = PreservingWriter::new(text);
    assert_eq!(writer.original(), text);
    let mut v = parse(text);
    assert_eq!(writer.write(&v), text);
    v["ports"][1]["params"]["baud"] = json!(19200);
    assert_eq!(writer.write(&v), write_preserving(text, &v));
    assert_eq!(changed_lines(text, &writer.write(&v)).len(), 1);
    assert_eq!(PreservingWriter::new("nope").write(&json!([])), "[]\n");
}

#[test]
fn crlf_bom_and_missing_final_newline_are_kept() {
    let crlf = format!("\u{feff}{}", EXAMPLES[0].1.replace('\n', "\r\n"));
    assert_eq!(write_preserving(&crlf, &parse(&crlf)), crlf);
    let mut v = parse(&crlf);
    v["points"][0]["max"] = json!(99);
    v["points"][0]["x-modbus"] = json!({"address": 40001});
    let out = write_preserving(&crlf, &v);
    assert!(out.starts_with('\u{feff}') && out.ends_with("}\r\n"));
    assert!(!out.replace("\r\n", "").contains('\n'), "no bare LF");
    assert!(out.contains("\"x-modbus\": {\r\n        \"address\": 40001\r\n      }\r\n"), "{out}");
    assert_eq!(parse(&out), v);

    let bare = "{\"a\": 1}";
    assert_eq!(write_preserving(bare, &json!({"a": 2})), "{\"a\": 2}");
}

#[test]
fn numbers_keep_their_spelling_when_equal_in_value() {
    let text = "{\"a\": 60, \"b\": 1.50, \"c\": 1e3, \"d\": 9007199254740993}";
    let new = json!({"a": 60.0, "b": 1.5, "c": 1000, "d": 9007199254740992_u64});
    assert_eq!(write_preserving(text, &new), "{\"a\": 60, \"b\": 1.50, \"c\": 1e3, \"d\": 9007199254740992}");
}

#[test]
fn bad_or_too_deep_input_falls_back_to_pretty_json() {
    let v = json!({"a": [1]});
    assert_eq!(write_preserving("{not json", &v), "{\n  \"a\": [\n    1\n  ]\n}\n");
    let deep = format!("{}1{}", "[".repeat(100_000), "]".repeat(100_000));
    assert_eq!(write_preserving(&deep, &v), "{\n  \"a\": [\n    1\n  ]\n}\n");
    assert_eq!(locate(&deep, "$[0]"), None);
    // Deep but within the limit: still preserved.
    let ok = format!("{}1{}", "[".repeat(100), "]".repeat(100));
    assert_eq!(write_preserving(&ok, &parse(&ok)), ok);
}

#[test]
fn a_ten_megabyte_model_is_written_and_timed() {
    let mut v = parse(EXAMPLES[1].1);
    let template = v["points"][0].clone();
    let points = v["points"].as_array_mut().unwrap();
    let mut i = 0;
    while points.len() < 40_000 {
        let mut p = template.clone();
        p["id"] = json!(format!("p{i}"));
        points.push(p);
        i += 1;
    }
    let text = serde_json::to_string_pretty(&v).unwrap() + "\n";
    assert!(text.len() > 10_000_000, "{}", text.len());
    let started = std::time::Instant::now();
    assert_eq!(write_preserving(&text, &v), text);
    let same = started.elapsed();
    v["points"][20_000]["max"] = json!(1);
    let started = std::time::Instant::now();
    let out = write_preserving(&text, &v);
    let edited = started.elapsed();
    assert_eq!(changed_lines(&text, &out).len(), 1);
    let started = std::time::Instant::now();
    let writer = PreservingWriter::new(&text);
    let scanned = started.elapsed();
    let started = std::time::Instant::now();
    assert_eq!(writer.write(&v), out);
    let cached = started.elapsed();
    let started = std::time::Instant::now();
    let _ = serde_json::to_string_pretty(&v).unwrap();
    let pretty = started.elapsed();
    println!(
        "{} MB: write_preserving unchanged {same:?}, one edit {edited:?}; PreservingWriter scan {scanned:?} + one edit {cached:?}; to_string_pretty {pretty:?}",
        text.len() / 1_000_000
    );
}

#[test]
fn example_timing_against_to_string_pretty() {
    let text = EXAMPLES[1].1;
    let mut v = parse(text);
    v["points"][2]["max"] = json!(1);
    let rounds = 200;
    let started = std::time::Instant::now();
    for _ in 0..rounds {
        std::hint::black_box(write_preserving(text, &v));
    }
    let ours = started.elapsed() / rounds;
    let started = std::time::Instant::now();
    for _ in 0..rounds {
        std::hint::black_box(serde_json::to_string_pretty(&v).unwrap());
    }
    let pretty = started.elapsed() / rounds;
    println!("power-meter-3p.json ({} bytes): write_preserving {ours:?}, to_string_pretty {pretty:?}", text.len());
}

#[test]
fn locate_finds_values_and_the_deepest_existing_ancestor() {
    let text = EXAMPLES[0].1;
    let at = |path: &str| locate(text, path).map(|r| &text[r]);
    assert_eq!(at("$"), Some(text.trim_end()));
    assert_eq!(at("$.productKey"), Some("\"PK-GW-01\""));
    assert_eq!(at("$.points[3].min"), Some("0"));
    assert_eq!(at("$.commands[1].output[0].type"), Some("\"int\""));
    assert_eq!(at("$.points[4].enum[\"1\"].en"), Some("\"Up\""));
    assert_eq!(at("$[\"x-vendor-notes\"].author").map(|s| s.starts_with("\"示例能源")), Some(true));
    assert_eq!(at("$.x-vendor-notes.todo[0]").map(|s| s.starts_with("\"COM2")), Some(true));
    // Past what exists: the deepest value that does.
    assert_eq!(at("$.points[3].colour"), at("$.points[3]"));
    assert_eq!(at("$.points[99].min"), at("$.points"));
    assert_eq!(at("$.productKey.x"), Some("\"PK-GW-01\""));
    assert_eq!(locate("{oops", "$"), None);
    assert_eq!(locate(text, "points"), None);
    let odd = "{\"a b\": {\"q\\\"k\": [true]}}";
    assert_eq!(locate(odd, "$[\"a b\"][\"q\\\"k\"][0]").map(|r| &odd[r]), Some("true"));
    let mut v = parse(odd);
    v["a b"]["q\"k"][0] = json!(false);
    assert_eq!(write_preserving(odd, &v), odd.replace("true", "false"), "escaped keys keep their spelling");
    let bom = "\u{feff}{\"a\": [1, {\"b\": 2}]}";
    assert_eq!(locate(bom, "$.a[1].b").map(|r| &bom[r]), Some("2"));
}

/// A random edit of a model value: change, add or remove something somewhere.
fn edit(node: &mut Value, choices: &[u32]) {
    let Some((&c, rest)) = choices.split_first() else { return };
    match node {
        Value::Object(map) if !map.is_empty() && !rest.is_empty() => {
            let i = c as usize % map.len();
            if let Some(child) = map.values_mut().nth(i) {
                edit(child, rest);
            }
        }
        Value::Array(items) if !items.is_empty() && !rest.is_empty() => {
            let i = c as usize % items.len();
            edit(&mut items[i], rest);
        }
        Value::Object(map) => match c % 3 {
            0 if !map.is_empty() => {
                let key = map.keys().nth(c as usize % map.len()).cloned().unwrap_or_default();
                map.shift_remove(&key);
            }
            1 => {
                map.insert(format!("x-k{c}"), json!({"id": format!("n{c}"), "v": [c, {"w": "s"}]}));
            }
            _ => *node = json!(c),
        },
        Value::Array(items) => match c % 3 {
            0 if !items.is_empty() => {
                items.remove(c as usize % items.len());
            }
            1 => items.insert(c as usize % (items.len() + 1), json!({"id": format!("n{c}"), "max": c})),
            _ => items.reverse(),
        },
        scalar => *scalar = if c % 2 == 0 { json!(f64::from(c) / 4.0) } else { json!(format!("s{c}\"\n")) },
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, .. ProptestConfig::default() })]

    #[test]
    fn random_edits_always_parse_back_to_the_new_value(
        example in 0..EXAMPLES.len(),
        edits in prop::collection::vec(prop::collection::vec(any::<u32>(), 1..7), 1..5),
        crlf in any::<bool>(),
    ) {
        let text = if crlf { EXAMPLES[example].1.replace('\n', "\r\n") } else { EXAMPLES[example].1.to_owned() };
        let mut v = parse(&text);
        for choices in &edits {
            edit(&mut v, choices);
        }
        let out = write_preserving(&text, &v);
        // Equal, except that a number equal in value keeps the file's spelling (2 for 2.0).
        prop_assert!(same(&parse(&out), &v), "{}", out);
        if crlf {
            prop_assert!(!out.replace("\r\n", "").contains('\n'));
        }
    }

    #[test]
    fn random_edits_of_one_line_items_parse_back(edits in prop::collection::vec(prop::collection::vec(any::<u32>(), 1..5), 1..4)) {
        let mut v = parse(ONE_LINE_ITEMS);
        for choices in &edits {
            edit(&mut v, choices);
        }
        let out = write_preserving(ONE_LINE_ITEMS, &v);
        prop_assert!(same(&parse(&out), &v), "{}", out);
    }
}
