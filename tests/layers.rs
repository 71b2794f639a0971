//! The layer rule of ARCHITECTURE.md: imports point down only. Every `.rs` file under `src/` is
//! read (std::fs, no parser crate), comments and string literals are blanked, and each
//! `crate::X` path (in `use` lines, `use crate::{a, b}` groups over several lines, and inline in
//! code) is checked against the arrows allowed from the file's top-level module. `main.rs` is
//! checked on its `cems_workbench::X` paths. `super::` never leaves a module, so it is not looked at.
//! Lines in `#[cfg(test)]` modules count too: tests obey the same rule.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// From → may use. A module may always use itself. Keep in step with ARCHITECTURE.md.
const LAYERS: &[(&str, &[&str])] = &[
    ("protocol", &[]),
    ("disk", &[]),
    ("fonts", &[]),
    ("transport", &["protocol"]),
    ("engine", &["protocol", "transport", "disk"]),
    ("sim", &["protocol", "transport", "disk"]),
    ("config", &["protocol", "transport", "disk"]),
    ("api", &["protocol", "transport", "engine", "config", "disk"]),
    ("conformance", &["protocol", "transport", "engine", "config", "disk", "fonts"]),
    ("ui", &["protocol", "transport", "engine", "sim", "config", "disk", "api", "conformance", "fonts"]),
    ("cli", &["protocol", "transport", "engine", "sim", "config", "disk", "api", "conformance", "fonts"]),
    // main.rs may also name items at the library's root; lib.rs declares modules and nothing else.
    ("main.rs", &["cli", "ui", "config"]),
    ("lib.rs", &[]),
];

fn allowed(layer: &str) -> Option<&'static [&'static str]> {
    LAYERS.iter().find(|(name, _)| *name == layer).map(|(_, arrows)| *arrows)
}

/// The library's modules (every entry of LAYERS except the two crate roots).
fn is_module(name: &str) -> bool {
    !name.ends_with(".rs") && allowed(name).is_some()
}

/// `src/engine/gateways/mod.rs` → `engine`, `src/disk.rs` → `disk`, `src/main.rs` → `main.rs`.
fn layer_of(rel: &Path) -> String {
    let parts: Vec<String> = rel.components().map(|c| c.as_os_str().to_string_lossy().into_owned()).collect();
    match parts.as_slice() {
        [file] if file == "main.rs" || file == "lib.rs" => file.clone(),
        [file] => file.trim_end_matches(".rs").to_owned(),
        [dir, ..] => dir.clone(),
        [] => String::new(),
    }
}

fn src_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// Every `.rs` file under `dir`, sorted, as paths relative to `dir`.
fn rust_files(dir: &Path) -> Vec<PathBuf> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<PathBuf>) {
        let entries = std::fs::read_dir(dir).unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()));
        for entry in entries {
            let path = entry.unwrap_or_else(|e| panic!("reading {}: {e}", dir.display())).path();
            if path.is_dir() {
                walk(root, &path, out);
            } else if path.extension().is_some_and(|ext| ext == "rs") {
                out.push(path.strip_prefix(root).expect("under the walked root").to_path_buf());
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out.sort();
    out
}

fn is_ident(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_'
}

/// The source with comments and string/char literals replaced by spaces; newlines are kept, so
/// byte offsets and line numbers stay those of the file.
fn strip(src: &str) -> String {
    let b = src.as_bytes();
    let mut out = b.to_vec();
    let blank = |out: &mut Vec<u8>, from: usize, to: usize| {
        for c in &mut out[from..to.min(b.len())] {
            if *c != b'\n' {
                *c = b' ';
            }
        }
    };
    let mut i = 0;
    while i < b.len() {
        let prev = if i > 0 { b[i - 1] } else { b' ' };
        if b[i..].starts_with(b"//") {
            let end = b[i..].iter().position(|&c| c == b'\n').map_or(b.len(), |p| i + p);
            blank(&mut out, i, end);
            i = end;
        } else if b[i..].starts_with(b"/*") {
            let (mut depth, mut j) = (1, i + 2);
            while j < b.len() && depth > 0 {
                if b[j..].starts_with(b"/*") {
                    depth += 1;
                    j += 2;
                } else if b[j..].starts_with(b"*/") {
                    depth -= 1;
                    j += 2;
                } else {
                    j += 1;
                }
            }
            blank(&mut out, i, j);
            i = j;
        } else if b[i] == b'r' && (!is_ident(prev) || (prev == b'b' && (i < 2 || !is_ident(b[i - 2])))) && raw_string_end(b, i).is_some() {
            let end = raw_string_end(b, i).unwrap_or(b.len());
            blank(&mut out, i, end);
            i = end;
        } else if b[i] == b'"' {
            let mut j = i + 1;
            while j < b.len() && b[j] != b'"' {
                j += if b[j] == b'\\' { 2 } else { 1 };
            }
            blank(&mut out, i, j + 1);
            i = j + 1;
        } else if b[i] == b'\'' {
            // A char literal ('x', '\n', '\u{..}', '"') or a lifetime ('a), which stays.
            if b.get(i + 1) == Some(&b'\\') {
                let end = b[(i + 3).min(b.len())..].iter().position(|&c| c == b'\'').map_or(b.len(), |p| i + 3 + p + 1);
                blank(&mut out, i, end);
                i = end;
            } else {
                let width = src[i + 1..].chars().next().map_or(1, char::len_utf8);
                if b.get(i + 1 + width) == Some(&b'\'') {
                    blank(&mut out, i, i + width + 2);
                    i += width + 2;
                } else {
                    i += 1;
                }
            }
        } else {
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Where the raw string starting with the `r` at `i` (`r"…"`, `r#"…"#`) ends, if it is one.
fn raw_string_end(b: &[u8], i: usize) -> Option<usize> {
    let hashes = b[i + 1..].iter().take_while(|&&c| c == b'#').count();
    let open = i + 1 + hashes;
    if b.get(open) != Some(&b'"') {
        return None;
    }
    let mut closing = vec![b'"'];
    closing.extend(std::iter::repeat_n(b'#', hashes));
    let body = open + 1;
    Some(b[body..].windows(closing.len()).position(|w| w == closing.as_slice()).map_or(b.len(), |p| body + p + closing.len()))
}

fn skip_ws(b: &[u8], mut i: usize) -> usize {
    while b.get(i).is_some_and(|c| c.is_ascii_whitespace()) {
        i += 1;
    }
    i
}

/// The identifier (or `*`) starting at `i`.
fn ident(b: &[u8], i: usize) -> Option<String> {
    if b.get(i) == Some(&b'*') {
        return Some("*".into());
    }
    let len = b[i.min(b.len())..].iter().take_while(|&&c| is_ident(c)).count();
    (len > 0 && !b[i].is_ascii_digit()).then(|| String::from_utf8_lossy(&b[i..i + len]).into_owned())
}

/// Every `root::X` in already-stripped code, as (line, X): `root::X…` and each item of
/// `root::{X…, Y…}` (at any line of the group; `self` is skipped).
fn crate_paths(code: &str, root: &str) -> Vec<(usize, String)> {
    let b = code.as_bytes();
    let newlines: Vec<usize> = b.iter().enumerate().filter(|(_, c)| **c == b'\n').map(|(i, _)| i).collect();
    let line_of = |at: usize| newlines.partition_point(|&nl| nl < at) + 1;
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(found) = code[from..].find(root) {
        let start = from + found;
        from = start + root.len();
        if start > 0 && (is_ident(b[start - 1]) || b[start - 1] == b'$') {
            continue;
        }
        let mut i = skip_ws(b, from);
        if !b[i..].starts_with(b"::") {
            continue;
        }
        i = skip_ws(b, i + 2);
        if b.get(i) != Some(&b'{') {
            if let Some(name) = ident(b, i) {
                out.push((line_of(i), name));
            }
            continue;
        }
        // A group: the first segment of each item at depth 1.
        i += 1;
        'items: loop {
            i = skip_ws(b, i);
            match b.get(i) {
                None | Some(b'}') => break,
                _ => {}
            }
            if let Some(name) = ident(b, i).filter(|n| n != "self") {
                out.push((line_of(i), name));
            }
            let mut depth = 0;
            while let Some(&c) = b.get(i) {
                i += 1;
                match c {
                    b'{' => depth += 1,
                    b'}' if depth == 0 => break 'items,
                    b'}' => depth -= 1,
                    b',' if depth == 0 => continue 'items,
                    _ => {}
                }
            }
            break;
        }
    }
    out
}

/// The modules of our crate that one file names: (line, module).
fn arrows_of(rel: &Path, text: &str) -> Vec<(usize, String)> {
    let root = if layer_of(rel) == "main.rs" { "cems_workbench" } else { "crate" };
    crate_paths(&strip(text), root)
}

fn read(rel: &Path) -> String {
    let path = src_dir().join(rel);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
}

fn show(rel: &Path) -> String {
    format!("src/{}", rel.to_string_lossy().replace('\\', "/"))
}

/// Every breach of the rule in `src/`, one line each.
fn violations() -> Vec<String> {
    let mut found = Vec::new();
    for rel in rust_files(&src_dir()) {
        let layer = layer_of(&rel);
        let text = read(&rel);
        let Some(arrows) = allowed(&layer) else {
            found.push(format!("{}: {layer} is not in the layer table (tests/layers.rs LAYERS and ARCHITECTURE.md)", show(&rel)));
            continue;
        };
        let allowed_text = if arrows.is_empty() { "none".to_owned() } else { arrows.join(", ") };
        if layer == "lib.rs" {
            for (n, line) in strip(&text).lines().enumerate() {
                let line = line.trim();
                let declares = line.strip_prefix("pub ").unwrap_or(line).strip_prefix("mod ").and_then(|m| m.strip_suffix(';'));
                match declares {
                    Some(module) if !is_module(module.trim()) => {
                        found.push(format!("{}:{}: lib.rs declares {}, which is not in the layer table", show(&rel), n + 1, module.trim()))
                    }
                    Some(_) => {}
                    None if line.is_empty() || line.starts_with('#') => {}
                    None => found.push(format!("{}:{}: lib.rs declares modules only, found `{line}`", show(&rel), n + 1)),
                }
            }
        }
        for (line, target) in arrows_of(&rel, &text) {
            let ok = if layer == "main.rs" {
                // Items at the library's root are fine; modules need an arrow.
                !is_module(&target) || arrows.contains(&target.as_str())
            } else {
                target == layer || (is_module(&target) && arrows.contains(&target.as_str()))
            };
            if !ok {
                let path = if layer == "main.rs" { "cems_workbench" } else { "crate" };
                found.push(format!("{}:{line}: {layer} uses {path}::{target} (allowed: {allowed_text})", show(&rel)));
            }
        }
    }
    found
}

#[test]
fn layers_point_down_only() {
    let found = violations();
    assert!(found.is_empty(), "{} breach(es) of the layer rule (ARCHITECTURE.md):\n{}", found.len(), found.join("\n"));
}

// The scanner itself: it must see real arrows, or the rule above would pass on nothing.

#[test]
fn scanner_sees_the_real_arrows() {
    let files = rust_files(&src_dir());
    for root in ["lib.rs", "main.rs", "engine/core.rs"] {
        assert!(files.contains(&PathBuf::from(root)), "src/{root} not found among {} files", files.len());
    }
    let targets = |rel: &str| -> BTreeSet<String> { arrows_of(Path::new(rel), &read(Path::new(rel))).into_iter().map(|(_, m)| m).collect() };
    assert!(targets("engine/core.rs").contains("protocol"), "src/engine/core.rs: {:?}", targets("engine/core.rs"));
    assert!(targets("engine/core.rs").contains("transport"), "src/engine/core.rs: {:?}", targets("engine/core.rs"));
    // `use cems_workbench::{cli, ui};` in main.rs: a group in real code.
    let main = targets("main.rs");
    assert!(main.contains("cli") && main.contains("ui"), "src/main.rs: {main:?}");
    let ui_uses_engine = files.iter().filter(|f| layer_of(f) == "ui").any(|f| arrows_of(f, &read(f)).iter().any(|(_, m)| m == "engine"));
    assert!(ui_uses_engine, "no ui file uses crate::engine");
}

#[test]
fn scanner_reads_a_group_over_several_lines() {
    let found = crate_paths(&strip("use crate::{\n ui::x,\n protocol::y};"), "crate");
    assert_eq!(found, vec![(2, "ui".to_owned()), (3, "protocol".to_owned())]);
    let names: BTreeSet<String> = found.into_iter().map(|(_, m)| m).collect();
    assert_eq!(names, BTreeSet::from(["ui".to_owned(), "protocol".to_owned()]));
    // Nested groups, `self`, and a path after the group.
    let nested = crate_paths(&strip("use crate::{self, engine::{a, b::{c}}, disk};\nlet x = crate::sim::run();"), "crate");
    assert_eq!(nested, vec![(1, "engine".to_owned()), (1, "disk".to_owned()), (2, "sim".to_owned())]);
}

#[test]
fn scanner_skips_comments_strings_and_lookalikes() {
    let code = r##"
// use crate::ui;
/// crate::ui in a doc comment
/* crate::ui /* nested */ crate::ui */
let s = "crate::ui::x";
let r = r#"crate::ui "quoted" crate::ui"#;
let q = '"'; let e = '\''; let t = '\\';
fn f<'a>(x: &'a str) -> &'a str { x }
let m = $crate::ui::x; let n = mycrate::ui::x; let o = crate_ui::x;
use crate::disk::write_atomic;
"##;
    assert_eq!(crate_paths(&strip(code), "crate"), vec![(10, "disk".to_owned())]);
}

#[test]
fn files_map_to_their_top_level_module() {
    assert_eq!(layer_of(Path::new("engine/gateways/record.rs")), "engine");
    assert_eq!(layer_of(Path::new("disk.rs")), "disk");
    assert_eq!(layer_of(Path::new("main.rs")), "main.rs");
    assert_eq!(layer_of(Path::new("lib.rs")), "lib.rs");
}
