//! A fault in a model file, named by file and JSON path.

/// One fault in a model file: which file, where in it (JSON path, root `$`), and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}: {path}: {message}")]
pub struct ModelError {
    /// Source name of the file (its path, or `builtin:<name>` for compiled-in models).
    pub file: String,
    /// JSON path such as `$.points[3].min`.
    pub path: String,
    /// What is wrong.
    pub message: String,
}

/// Errors listed per file at most: a file with millions of faults must not take gigabytes to
/// report them, nor print millions of lines. The rest is one line, [`more_errors`].
pub const MAX_ERRORS_PER_FILE: usize = 1_000;

/// The line that stands for the `more` errors of `file` that are not listed; None when they
/// were not all counted.
pub fn more_errors(file: &str, more: Option<usize>) -> ModelError {
    let message = match more {
        Some(n) => format!("… and {n} more errors"),
        None => NOT_COUNTED.to_owned(),
    };
    ModelError { file: file.to_owned(), path: "$".into(), message }
}

const NOT_COUNTED: &str = "… and more errors not listed";

/// The errors of one file as they are found: the first [`MAX_ERRORS_PER_FILE`] kept, the rest
/// only counted.
#[derive(Debug)]
pub(crate) struct FileErrors {
    file: String,
    list: Vec<ModelError>,
    more: usize,
    /// False once a check stopped looking: `more` is then a lower bound.
    counted: bool,
}

impl FileErrors {
    pub(crate) fn new(file: &str) -> FileErrors {
        FileErrors { file: file.to_owned(), list: Vec::new(), more: 0, counted: true }
    }

    /// There are more errors than listed, and no one will count them.
    pub(crate) fn stop_counting(&mut self) {
        self.counted = false;
    }

    /// True until [`FileErrors::stop_counting`].
    pub(crate) fn counting(&self) -> bool {
        self.counted
    }

    /// True once no more errors are listed (later ones are counted).
    pub(crate) fn full(&self) -> bool {
        self.list.len() >= MAX_ERRORS_PER_FILE
    }

    pub(crate) fn push(&mut self, path: String, message: String) {
        if self.full() {
            self.more += 1;
        } else {
            self.list.push(ModelError { file: self.file.clone(), path, message });
        }
    }

    /// Counts one error without listing it (the caller knows the list is full).
    pub(crate) fn count(&mut self) {
        self.more += 1;
    }

    /// The listed errors, and one line for the rest if any.
    pub(crate) fn finish(self) -> Vec<ModelError> {
        let mut list = self.list;
        if !self.counted {
            list.push(more_errors(&self.file, None));
        } else if self.more > 0 {
            list.push(more_errors(&self.file, Some(self.more)));
        }
        list
    }
}

/// How many errors `error` stands for: N for a line of [`more_errors`] (None: not counted),
/// else 1.
fn weight(error: &ModelError) -> Option<usize> {
    if error.path != "$" {
        return Some(1);
    }
    if error.message == NOT_COUNTED {
        return None;
    }
    let more = error.message.strip_prefix("… and ").and_then(|rest| rest.strip_suffix(" more errors")).and_then(|n| n.parse().ok());
    Some(more.unwrap_or(1))
}

/// `errors` of several checks together, still at most [`MAX_ERRORS_PER_FILE`] listed per file
/// in their order, then one [`more_errors`] line per file for all the rest.
pub fn cap_per_file(errors: Vec<ModelError>) -> Vec<ModelError> {
    let mut listed: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    // Per file: errors not listed, None once some were not counted.
    let mut more: Vec<(String, Option<usize>)> = Vec::new();
    let mut out = Vec::new();
    for error in errors {
        let n = weight(&error);
        let count = listed.entry(error.file.clone()).or_insert(0);
        let summary = error.path == "$" && error.message.starts_with("… and ");
        if !summary && *count < MAX_ERRORS_PER_FILE {
            *count += 1;
            out.push(error);
            continue;
        }
        match more.iter_mut().find(|(f, _)| *f == error.file) {
            Some((_, m)) => *m = m.zip(n).map(|(a, b)| a + b),
            None => more.push((error.file, n)),
        }
    }
    out.extend(more.into_iter().map(|(file, n)| more_errors(&file, n)));
    out
}

/// `base` + `.key`, or `["key"]` when the key is not a plain identifier.
pub fn push_key(base: &str, key: &str) -> String {
    let mut chars = key.chars();
    let plain = chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_');
    if plain {
        format!("{base}.{key}")
    } else {
        format!("{base}[{}]", serde_json::Value::String(key.to_owned()))
    }
}

/// `base` + `[index]`.
pub fn push_index(base: &str, index: usize) -> String {
    format!("{base}[{index}]")
}
