//! The PDF's fonts. Each character takes the first font that has it: Helvetica (one of the PDF
//! base-14 fonts every reader has, so not embedded) for printable ASCII, the shipped Droid Sans
//! Fallback subset for Chinese, the shipped DejaVu subset for symbols (→ ✔ ℃ ³ µ —). The two
//! shipped fonts have no ASCII; a character none of them has prints as "?" (never a box).

use anyhow::{Context as _, anyhow};

use crate::fonts::{CJK_SUBSET, SYMBOLS_SUBSET};

/// Printed for a character no font has.
pub const REPLACEMENT: char = '?';

/// Which font a glyph is drawn with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum FontSlot {
    Helvetica,
    HelveticaBold,
    Cjk,
    Symbols,
}

impl FontSlot {
    /// The resource name in the page's font dictionary.
    pub fn resource(self) -> &'static [u8] {
        match self {
            FontSlot::Helvetica => b"F1",
            FontSlot::HelveticaBold => b"F2",
            FontSlot::Cjk => b"F3",
            FontSlot::Symbols => b"F4",
        }
    }
}

/// One positioned character.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Glyph {
    pub slot: FontSlot,
    /// The byte (Helvetica, WinAnsi) or the glyph id in the original font (embedded fonts).
    pub id: u16,
    /// What it stands for (ToUnicode, line breaking); `\n` for a hard break.
    pub ch: char,
    /// Advance, 1/1000 em.
    pub advance: f32,
    /// Bold: Helvetica-Bold, or the embedded outline stroked as well as filled.
    pub bold: bool,
}

impl Glyph {
    pub fn width(&self, size: f32) -> f32 {
        self.advance * size / 1000.0
    }

    fn hard_break() -> Glyph {
        Glyph { slot: FontSlot::Helvetica, id: 0, ch: '\n', advance: 0.0, bold: false }
    }
}

/// An embedded TrueType font, parsed once per render (parsing only reads the tables).
pub struct Embedded {
    /// Its PostScript name.
    pub name: &'static str,
    pub data: &'static [u8],
    pub face: ttf_parser::Face<'static>,
}

impl Embedded {
    fn load(name: &'static str, data: &'static [u8]) -> anyhow::Result<Embedded> {
        let face = ttf_parser::Face::parse(data, 0).with_context(|| format!("the built-in font {name} cannot be read"))?;
        Ok(Embedded { name, data, face })
    }

    /// Font units to 1/1000 em.
    pub fn scale(&self, units: f32) -> f32 {
        units * 1000.0 / f32::from(self.face.units_per_em().max(1))
    }

    pub fn advance(&self, id: u16) -> f32 {
        self.scale(f32::from(self.face.glyph_hor_advance(ttf_parser::GlyphId(id)).unwrap_or(0)))
    }

    fn glyph_of(&self, c: char) -> Option<u16> {
        self.face.glyph_index(c).map(|g| g.0).filter(|g| *g != 0)
    }
}

/// The fonts a report is set in.
pub struct Fonts {
    pub cjk: Embedded,
    pub symbols: Embedded,
}

impl Fonts {
    pub fn load() -> anyhow::Result<Fonts> {
        Ok(Fonts { cjk: Embedded::load("DroidSansFallback", CJK_SUBSET)?, symbols: Embedded::load("DejaVuSans", SYMBOLS_SUBSET)? })
    }

    pub fn embedded(&self, slot: FontSlot) -> Option<&Embedded> {
        match slot {
            FontSlot::Cjk => Some(&self.cjk),
            FontSlot::Symbols => Some(&self.symbols),
            FontSlot::Helvetica | FontSlot::HelveticaBold => None,
        }
    }

    /// The glyph for `c`, if some font has it.
    pub fn find(&self, c: char, bold: bool) -> Option<Glyph> {
        if let Some(advance) = helvetica_width(c, bold) {
            let slot = if bold { FontSlot::HelveticaBold } else { FontSlot::Helvetica };
            return Some(Glyph { slot, id: c as u16, ch: c, advance, bold });
        }
        for (slot, font) in [(FontSlot::Cjk, &self.cjk), (FontSlot::Symbols, &self.symbols)] {
            if let Some(id) = font.glyph_of(c) {
                return Some(Glyph { slot, id, ch: c, advance: font.advance(id), bold });
            }
        }
        None
    }

    /// The glyphs of `text`: tabs and odd spaces as spaces, other control characters and
    /// characters no font has as [`REPLACEMENT`], line feeds kept as hard breaks.
    pub fn shape(&self, text: &str, bold: bool) -> Vec<Glyph> {
        let mut glyphs = Vec::with_capacity(text.len());
        for c in text.chars() {
            let c = match c {
                '\n' => {
                    glyphs.push(Glyph::hard_break());
                    continue;
                }
                '\r' => continue,
                '\t' | '\u{a0}' | '\u{2000}'..='\u{200a}' | '\u{202f}' => ' ',
                c if c.is_control() => REPLACEMENT,
                c => c,
            };
            let glyph = self.find(c, bold).or_else(|| self.find(REPLACEMENT, bold));
            glyphs.extend(glyph);
        }
        glyphs
    }
}

/// Helvetica's and Helvetica-Bold's advances (Adobe's AFM, 1/1000 em) for U+0020–007E.
const HELVETICA: [u16; 95] = [
    278, 278, 355, 556, 556, 889, 667, 191, 333, 333, 389, 584, 278, 333, 278, 278, 556, 556, 556, 556, 556, 556, 556, 556, 556, 556, 278, 278, 584, 584, 584, 556, 1015, 667, 667, 722, 722, 667, 611, 778, 722, 278, 500, 667, 556, 833, 722, 778, 667, 778, 722,
    667, 611, 722, 667, 944, 667, 667, 611, 278, 278, 278, 469, 556, 333, 556, 556, 500, 556, 556, 278, 556, 556, 222, 222, 500, 222, 833, 556, 556, 556, 556, 333, 500, 278, 556, 500, 722, 500, 500, 500, 334, 260, 334, 584,
];
const HELVETICA_BOLD: [u16; 95] = [
    278, 333, 474, 556, 556, 889, 722, 238, 333, 333, 389, 584, 278, 333, 278, 278, 556, 556, 556, 556, 556, 556, 556, 556, 556, 556, 333, 333, 584, 584, 584, 611, 975, 722, 722, 722, 722, 667, 611, 778, 722, 278, 556, 722, 611, 833, 722, 778, 667, 778, 722,
    667, 611, 722, 667, 944, 667, 667, 611, 333, 278, 333, 584, 556, 333, 556, 611, 556, 611, 556, 333, 611, 611, 278, 278, 556, 278, 889, 611, 611, 611, 611, 389, 556, 333, 611, 556, 778, 556, 556, 500, 389, 280, 389, 584,
];

fn helvetica_width(c: char, bold: bool) -> Option<f32> {
    let index = (c as u32).checked_sub(0x20).filter(|i| *i < 95)? as usize;
    let table = if bold { &HELVETICA_BOLD } else { &HELVETICA };
    table.get(index).map(|w| f32::from(*w))
}

/// The characters of `text` no font has (they would print as [`REPLACEMENT`]).
pub fn uncovered(fonts: &Fonts, text: &str) -> Vec<char> {
    let mut missing: Vec<char> = text.chars().filter(|c| !c.is_control() && fonts.find(*c, false).is_none()).collect();
    missing.sort_unstable();
    missing.dedup();
    missing
}

/// The error for a font that cannot be subset.
pub fn subset_error(name: &str, e: impl std::fmt::Debug) -> anyhow::Error {
    anyhow!("the built-in font {name} cannot be subset: {e:?}")
}
