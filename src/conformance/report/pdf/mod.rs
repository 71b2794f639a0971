//! The commissioning report as a PDF, in pure Rust: the [`Document`] model laid out on A4
//! pages (wrapped text, tables that break across pages with their header repeated, coloured
//! verdicts, page numbers) and written with the Chinese font embedded as a subset.

mod fonts;
mod layout;
mod page;
mod table;
mod text;
mod write;

pub use fonts::REPLACEMENT;

use super::doc::Document;
use crate::conformance::model::RunReport;
use crate::protocol::model::Lang;

/// The report of `report` in `lang`, as the bytes of a PDF file.
pub fn render(report: &RunReport, lang: Lang) -> anyhow::Result<Vec<u8>> {
    render_document(&Document::build(report, lang))
}

pub fn render_document(doc: &Document) -> anyhow::Result<Vec<u8>> {
    let fonts = fonts::Fonts::load()?;
    let pages = layout::lay_out(&fonts, doc);
    write::write(&fonts, doc, &pages)
}

/// The characters of `text` that no font of the PDF has (they print as [`REPLACEMENT`]).
pub fn uncovered(text: &str) -> anyhow::Result<Vec<char>> {
    Ok(fonts::uncovered(&fonts::Fonts::load()?, text))
}

#[cfg(test)]
mod tests;
