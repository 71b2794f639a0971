#![no_main]
//! `cargo +nightly fuzz run frame`: see `checks::frame` for the input layout and the invariants.

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| cems_workbench_fuzz::checks::frame(data));
