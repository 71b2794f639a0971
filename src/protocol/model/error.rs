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
