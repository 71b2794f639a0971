//! The fallback fonts. egui's default fonts have no Chinese and few symbols, and a field laptop
//! may have no Chinese system font either, so subsets of Droid Sans Fallback (Apache-2.0) and
//! DejaVu Sans (Bitstream Vera licence) and egui's own emoji/icon fonts (OFL, MIT; the
//! `default_fonts` feature leaves them out) are compiled into the binary and added after egui's
//! fonts. Sources and licences: `assets/fonts/README.md`.

use egui::epaint::text::{FontInsert, FontPriority, FontTweak, InsertFontFamily};
use egui::{FontData, FontFamily};

use crate::fonts::{CJK_SUBSET, SYMBOLS_SUBSET};
/// The icons egui code commonly uses (⏵ ⏷ 🗑 🔍 📋 …).
const NOTO_EMOJI: &[u8] = include_bytes!("../../assets/fonts/NotoEmoji-Regular.ttf");
const EMOJI_ICON: &[u8] = include_bytes!("../../assets/fonts/emoji-icon-font.ttf");

/// The names the fonts are registered under, in fallback order.
pub const CJK_FONT_NAME: &str = "cems-cjk-subset";
pub const SYMBOLS_FONT_NAME: &str = "cems-symbols-subset";
pub const NOTO_EMOJI_NAME: &str = "cems-noto-emoji";
pub const EMOJI_ICON_NAME: &str = "cems-emoji-icon-font";

/// Adds the fonts as the last fallbacks of the proportional and monospace families, so Latin
/// text keeps egui's fonts. Installing twice is harmless (egui skips a known name).
pub fn install(ctx: &egui::Context) {
    // egui's own scales for its emoji fonts, so icons sit at text size.
    let fonts = [
        (CJK_FONT_NAME, FontData::from_static(CJK_SUBSET)),
        (SYMBOLS_FONT_NAME, FontData::from_static(SYMBOLS_SUBSET)),
        (NOTO_EMOJI_NAME, FontData::from_static(NOTO_EMOJI).tweak(FontTweak { scale: 0.81, ..FontTweak::default() })),
        (EMOJI_ICON_NAME, FontData::from_static(EMOJI_ICON).tweak(FontTweak { scale: 0.90, ..FontTweak::default() })),
    ];
    for (name, data) in fonts {
        let families = [FontFamily::Proportional, FontFamily::Monospace]
            .into_iter()
            .map(|family| InsertFontFamily { family, priority: FontPriority::Lowest })
            .collect();
        ctx.add_font(FontInsert::new(name, data, families));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Fonts are built by the first pass; its texture upload is dropped (no renderer here).
    fn fonts_ready(ctx: &egui::Context) {
        let mut output = ctx.run_ui(egui::RawInput::default(), |_| {});
        output.textures_delta.clear();
    }

    /// Every non-ASCII character of the UI sources (the Chinese catalogue included) and of the
    /// product models has a glyph: otherwise rerun `assets/fonts/subset.sh`.
    #[test]
    fn the_subset_covers_the_catalogue_and_the_models() {
        let ctx = egui::Context::default();
        install(&ctx);
        fonts_ready(&ctx);
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut files = Vec::new();
        let mut dirs = vec![root.join("src/ui")];
        while let Some(dir) = dirs.pop() {
            for entry in std::fs::read_dir(&dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    dirs.push(path);
                } else if path.extension().is_some_and(|e| e == "rs") {
                    files.push(path);
                }
            }
        }
        for entry in std::fs::read_dir(root.join("product-models")).unwrap() {
            files.push(entry.unwrap().path());
        }
        let mut missing = std::collections::BTreeSet::new();
        for path in files {
            let text = std::fs::read_to_string(&path).unwrap();
            for c in text.chars().filter(|c| !c.is_ascii() && !c.is_whitespace()) {
                for family in [FontFamily::Proportional, FontFamily::Monospace] {
                    let font = egui::FontId::new(14.0, family);
                    if !ctx.fonts_mut(|f| f.has_glyph(&font, c)) {
                        missing.insert(c);
                    }
                }
            }
        }
        assert!(missing.is_empty(), "no glyph for {:?}; rerun assets/fonts/subset.sh", missing);
    }

    #[test]
    fn common_symbols_have_glyphs() {
        let ctx = egui::Context::default();
        install(&ctx);
        fonts_ready(&ctx);
        let font = egui::FontId::proportional(14.0);
        for c in "●▲▼◀▶×✓✕→←↻⚙☀“”…—·℃°±µΩ，。：（）【】《》⏴⏵⏶⏷🗑🔍📋✏".chars() {
            assert!(ctx.fonts_mut(|f| f.has_glyph(&font, c)), "no glyph for {c:?}");
        }
    }
}
