//! The fonts shipped inside the binary, once, for every face that draws text: the window
//! (`ui::fonts`) and the PDF report (`conformance::report::pdf`). Sources and licences:
//! `assets/fonts/README.md`.

/// Chinese: GB2312, CJK punctuation, full-width forms and every character of the UI, the models,
/// the conformance catalogue and the report (Droid Sans Fallback subset, Apache-2.0).
pub const CJK_SUBSET: &[u8] = include_bytes!("../assets/fonts/cjk-subset.ttf");
/// Latin-1 and beyond, Greek, punctuation, arrows, maths, shapes (● ▲ ▼), symbols (⚙ ☀) and
/// dingbats (✓ ✕), U+00A0 and up (DejaVu Sans subset, Bitstream Vera licence).
pub const SYMBOLS_SUBSET: &[u8] = include_bytes!("../assets/fonts/symbols-subset.ttf");
