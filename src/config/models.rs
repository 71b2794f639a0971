//! Where product models come from: the examples compiled into the binary, the user's models
//! folder, and folders named with `--models DIR` or in the window's settings. The only code that
//! reads model files; `protocol::model` parses and checks text.
//!
//! Later sources win: a model in the user's folder replaces the bundled example of the same
//! product key, and one in a `--models` folder replaces both. Bad files are left out and each
//! fault is reported with its file and JSON path; nothing here fails as a whole.

use std::path::{Path, PathBuf};

use crate::protocol::model::{ModelDocument, ModelError, ModelSet, check_duplicate_product_keys, check_sub_products};

/// Largest model file read: the biggest real product has a few thousand points (about 2 MB);
/// a larger file is refused before it is read, not parsed into gigabytes.
pub const MAX_MODEL_FILE_BYTES: u64 = 16 * 1024 * 1024;

/// `--models DIR`, shared by every command that decodes or acts.
#[derive(Debug, Clone, Default, PartialEq, Eq, clap::Args)]
pub struct ModelArgs {
    /// A folder of product model files (*.json), read after the bundled examples and the user's
    /// models folder; a product key defined again replaces the earlier model. Repeatable.
    #[arg(long = "models", value_name = "DIR")]
    pub dirs: Vec<PathBuf>,
}

/// The models of a run, with what went wrong reading them.
#[derive(Debug, Clone, Default)]
pub struct LoadedModels {
    pub set: ModelSet,
    /// Faults of files that were left out, repeated keys, dangling `subProducts`.
    pub problems: Vec<ModelError>,
    /// Each folder read, with the number of models taken from it.
    pub folders: Vec<(PathBuf, usize)>,
}

impl LoadedModels {
    /// The problems, one per line, for a CLI's stderr.
    pub fn problem_lines(&self) -> Vec<String> {
        self.problems.iter().map(ToString::to_string).collect()
    }
}

/// `<data dir>/models` of `ProjectDirs::from("org", "cems", "cems-workbench")`: on Windows
/// `%APPDATA%\cems\cems-workbench\data\models`, on Linux `~/.local/share/cems-workbench/models`.
pub fn user_models_dir() -> Option<PathBuf> {
    directories::ProjectDirs::from("org", "cems", "cems-workbench").map(|d| d.data_dir().join("models"))
}

/// The bundled examples, then `user_dir` when it exists (a missing user folder is normal), then
/// each of `dirs` (a missing one is a problem).
pub fn load_models(dirs: &[PathBuf], user_dir: Option<&Path>) -> LoadedModels {
    let mut loaded = LoadedModels { set: ModelSet::builtin(), ..LoadedModels::default() };
    if let Some(dir) = user_dir.filter(|d| d.is_dir()) {
        add_folder(&mut loaded, dir);
    }
    for dir in dirs {
        add_folder(&mut loaded, dir);
    }
    loaded.problems.extend(check_sub_products(loaded.set.documents()));
    loaded
}

/// The models for a command: `args`' folders over the bundled examples and the user's folder.
pub fn load_for_command(args: &ModelArgs) -> LoadedModels {
    load_models(&args.dirs, user_models_dir().as_deref())
}

fn add_folder(loaded: &mut LoadedModels, dir: &Path) {
    let (docs, problems) = read_model_dir(dir);
    loaded.problems.extend(problems);
    loaded.folders.push((dir.to_path_buf(), docs.len()));
    for doc in docs {
        loaded.set.insert(doc);
    }
}

fn io_error(file: &str, message: String) -> Vec<ModelError> {
    vec![ModelError { file: file.to_owned(), path: "$".into(), message }]
}

/// Reads and parses the model file at `path`; its display form is the source name.
pub fn read_model_file(path: impl AsRef<Path>) -> Result<ModelDocument, Vec<ModelError>> {
    let path = path.as_ref();
    let name = path.display().to_string();
    let size = std::fs::metadata(path).map_err(|e| io_error(&name, format!("cannot read: {e}")))?.len();
    if size > MAX_MODEL_FILE_BYTES {
        return Err(io_error(&name, format!("{size} bytes: a model file is at most {MAX_MODEL_FILE_BYTES} bytes (16 MiB)")));
    }
    let bytes = std::fs::read(path).map_err(|e| io_error(&name, format!("cannot read: {e}")))?;
    let text = String::from_utf8(bytes)
        .map_err(|e| io_error(&name, format!("not UTF-8 text (bad byte at offset {})", e.utf8_error().valid_up_to())))?;
    ModelDocument::parse(&name, &text)
}

/// Every `*.json` file of folder `dir`, sorted by name; bad files are left out and reported, as
/// is a product key a later file of the folder defines again (the first one is kept).
pub fn read_model_dir(dir: impl AsRef<Path>) -> (Vec<ModelDocument>, Vec<ModelError>) {
    let dir = dir.as_ref();
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) => return (Vec::new(), io_error(&dir.display().to_string(), format!("cannot read folder: {e}"))),
    };
    let mut files: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|p| p.is_file() && p.extension().is_some_and(|x| x.eq_ignore_ascii_case("json")))
        .collect();
    files.sort();

    let mut errors = Vec::new();
    let mut docs: Vec<ModelDocument> = Vec::new();
    for file in files {
        match read_model_file(&file) {
            Ok(doc) => docs.push(doc),
            // A metric map of the energy-storage page may share the folder: not a model.
            Err(_) if is_metric_map_file(&file) => {}
            Err(errs) => errors.extend(errs),
        }
    }
    errors.extend(check_duplicate_product_keys(&docs));
    let mut kept: Vec<ModelDocument> = Vec::new();
    for doc in docs {
        if !kept.iter().any(|k| k.product_key() == doc.product_key()) {
            kept.push(doc);
        }
    }
    (kept, errors)
}

fn is_metric_map_file(path: &Path) -> bool {
    let value = std::fs::read(path).ok().and_then(|bytes| serde_json::from_slice::<serde_json::Value>(&bytes).ok());
    value.is_some_and(|v| crate::protocol::storage::metric_map::MetricMap::looks_like(&v))
}

/// A folder as a set, with its problems (duplicates and `subProducts` no file of it defines).
pub fn read_model_set(dir: impl AsRef<Path>) -> (ModelSet, Vec<ModelError>) {
    let (docs, mut errors) = read_model_dir(dir);
    let mut set = ModelSet::new();
    for doc in docs {
        set.insert(doc);
    }
    errors.extend(check_sub_products(set.documents()));
    (set, errors)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn example(name: &str) -> String {
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("product-models").join(name)).unwrap()
    }

    fn write(dir: &Path, name: &str, text: &str) {
        std::fs::write(dir.join(name), text).unwrap();
    }

    const METER_V2: &str = r#"{"modelVersion":"1.0","productKey":"PK-METER-3P","kind":"device","category":"meter","name":{"zh":"新电表","en":"Meter v2"}}"#;

    #[test]
    fn examples_on_disk_match_the_compiled_in_ones_and_load_as_a_set() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("product-models");
        let (set, errors) = read_model_set(&dir);
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(set.len(), 3);
        for doc in set.iter() {
            let builtin = ModelSet::builtin();
            assert_eq!(builtin.get(doc.product_key()).unwrap().original_text(), doc.original_text());
        }
    }

    #[test]
    fn files_and_folders() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("missing.json");
        let errors = read_model_file(&missing).unwrap_err();
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].file, missing.display().to_string());

        std::fs::write(dir.path().join("gw.json"), example("energy-gateway.json")).unwrap();
        std::fs::write(dir.path().join("gw-copy.json"), example("energy-gateway.json")).unwrap();
        std::fs::write(dir.path().join("broken.json"), "{").unwrap();
        std::fs::write(dir.path().join("binary.json"), [0xff, 0xfe, 0x00]).unwrap();
        std::fs::write(dir.path().join("notes.txt"), "not a model").unwrap();
        let (set, errors) = read_model_set(dir.path());
        assert_eq!(set.len(), 1);
        let lines: Vec<String> = errors.iter().map(ToString::to_string).collect();
        assert_eq!(lines.len(), 5, "{lines:#?}");
        assert!(lines[0].contains("binary.json: $: not UTF-8"), "{lines:#?}");
        assert!(lines[1].contains("broken.json: $: malformed JSON at line 1"), "{lines:#?}");
        assert!(lines[2].contains("gw.json: $.productKey: product key \"PK-GW-01\" is already defined by"), "{lines:#?}");
        assert!(lines[3].ends_with("$.subProducts[0]: no model with product key \"PK-METER-3P\" is loaded"), "{lines:#?}");
        assert!(lines[4].contains("$.subProducts[1]"), "{lines:#?}");

        let (_, errors) = read_model_set(dir.path().join("nope"));
        assert_eq!(errors.len(), 1);
    }

    #[test]
    fn later_folders_replace_bundled_models_and_bad_files_are_reported() {
        let user = tempfile::tempdir().unwrap();
        let extra = tempfile::tempdir().unwrap();
        write(user.path(), "meter.json", METER_V2);
        write(extra.path(), "broken.json", "{\"modelVersion\":");
        write(extra.path(), "vendor.json", r#"{"modelVersion":"1.0","productKey":"PK-X","kind":"device","category":"x-heat-pump","name":"热泵"}"#);
        write(extra.path(), "notes.txt", "not a model");
        let loaded = load_models(&[extra.path().to_path_buf()], Some(user.path()));
        assert_eq!(loaded.set.get("PK-METER-3P").unwrap().model().name.get(crate::protocol::model::Lang::En), "Meter v2");
        assert!(loaded.set.get("PK-X").is_some());
        assert!(loaded.set.get("PK-GW-01").is_some(), "bundled examples stay");
        assert_eq!(loaded.problems.len(), 1, "{:?}", loaded.problems);
        assert!(loaded.problems[0].file.ends_with("broken.json"));
        assert_eq!(loaded.folders.iter().map(|(_, n)| *n).collect::<Vec<_>>(), vec![1, 1]);
    }

    #[test]
    fn a_missing_user_folder_is_normal_but_a_missing_models_folder_is_not() {
        let gone = std::env::temp_dir().join("cems-workbench-no-such-models-folder");
        let loaded = load_models(&[], Some(&gone));
        assert!(loaded.problems.is_empty());
        assert_eq!(loaded.set.len(), ModelSet::builtin().len());
        let loaded = load_models(std::slice::from_ref(&gone), None);
        assert_eq!(loaded.problems.len(), 1);
        assert!(loaded.problems[0].message.contains("cannot read folder"), "{}", loaded.problems[0]);
    }

    #[test]
    fn a_file_over_the_size_limit_is_refused_unread() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("huge.json");
        let file = std::fs::File::create(&path).unwrap();
        file.set_len(MAX_MODEL_FILE_BYTES + 1).unwrap();
        let errors = read_model_file(&path).unwrap_err();
        assert!(errors[0].message.contains("at most"), "{}", errors[0]);
    }

    #[test]
    fn a_folder_keeps_the_first_of_a_repeated_key() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "a.json", METER_V2);
        write(dir.path(), "b.json", &METER_V2.replace("Meter v2", "Meter v3"));
        let (set, errors) = read_model_set(dir.path());
        assert_eq!(set.len(), 1);
        assert_eq!(set.get("PK-METER-3P").unwrap().model().name.get(crate::protocol::model::Lang::En), "Meter v2");
        assert_eq!(errors.len(), 1);
    }
}
