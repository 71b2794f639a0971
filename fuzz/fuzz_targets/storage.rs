#![no_main]
//! `cargo +nightly fuzz run storage`: see `checks::storage` for the input layout and the invariants.

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| cems_workbench_fuzz::checks::storage(data));
