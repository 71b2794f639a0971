//! The checks behind the fuzz targets. They live in `checks.rs` so that `tests/fuzz_props.rs`
//! and `tests/fuzz_corpus.rs` include the very same file (`#[path]`) on stable.

pub mod checks;
