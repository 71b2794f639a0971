//! The fonts shipped inside the binary, once, for every face that draws text: the window
//! (`ui::fonts`) and the PDF report (`conformance::report::pdf`). Statics, not consts: a const's
//! bytes are copied into each place that uses it. Sources and licences:
//! `assets/fonts/README.md`.

/// Chinese: GB2312, CJK punctuation, full-width forms and every character of the UI, the models,
/// the conformance catalogue and the report (Droid Sans Fallback subset, Apache-2.0).
pub static CJK_SUBSET: &[u8] = include_bytes!("../assets/fonts/cjk-subset.ttf");
/// Latin-1 and beyond, Greek, punctuation, arrows, maths, shapes (● ▲ ▼), symbols (⚙ ☀) and
/// dingbats (✓ ✕), U+00A0 and up (DejaVu Sans subset, Bitstream Vera licence).
pub static SYMBOLS_SUBSET: &[u8] = include_bytes!("../assets/fonts/symbols-subset.ttf");
