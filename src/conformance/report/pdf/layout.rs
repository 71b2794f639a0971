//! The document laid out on A4 pages: a cursor moves down the page, a block that does not fit
//! goes to the next one, and every page gets a footer with its number once the count is known.

use super::fonts::{Fonts, Glyph};
use super::page::{BLACK, BODY_SIZE, CONTENT_WIDTH, FOOTER_BASELINE, Flow, GREY, MARGIN_X, Op, PAGE_HEIGHT, Page, RED, WHITE};
use super::table::{self, TableSpec};
use super::text::{self, Line, Style};
use crate::conformance::report::doc::{self, Block, Document};

/// The pages of `doc`, footers included.
pub fn lay_out(fonts: &Fonts, doc: &Document) -> Vec<Page> {
    let mut flow = Flow::new(fonts);
    for block in &doc.blocks {
        block_to(&mut flow, block);
    }
    let total = flow.pages.len();
    let mut pages = flow.pages;
    for (i, page) in pages.iter_mut().enumerate() {
        footer(fonts, doc, page, i + 1, total);
    }
    pages
}

fn block_to(flow: &mut Flow, block: &Block) {
    match block {
        Block::Banner(text) => {
            let style = Style { size: 11.0, color: WHITE, bold: true };
            let lines = text::paragraph(flow.fonts, text, style, CONTENT_WIDTH - 16.0);
            let height = lines.iter().map(Line::height).sum::<f32>() + 12.0;
            flow.keep(height);
            let top = flow.y;
            flow.rect(MARGIN_X, top, CONTENT_WIDTH, height, Some(RED), None);
            let mut y = top + 6.0;
            for line in &lines {
                flow.line_at(MARGIN_X + 8.0, y, line);
                y += line.height();
            }
            flow.y = top + height + 10.0;
        }
        Block::Title(text) => {
            let lines = text::paragraph(flow.fonts, text, Style { size: 17.0, color: BLACK, bold: true }, CONTENT_WIDTH);
            flow.lines(MARGIN_X, &lines);
            flow.y += 4.0;
        }
        Block::Heading(text) => {
            let lines = text::paragraph(flow.fonts, text, Style { size: 12.0, color: BLACK, bold: true }, CONTENT_WIDTH);
            // A heading stays with the start of its section.
            let height: f32 = lines.iter().map(Line::height).sum();
            flow.keep(height + 10.0 + 50.0);
            if !flow.at_top() {
                flow.y += 10.0;
            }
            flow.lines(MARGIN_X, &lines);
            flow.y += 3.0;
        }
        Block::Paragraph { lead, text } => {
            let mut glyphs = Vec::new();
            if let Some(lead) = lead {
                glyphs.extend(flow.fonts.shape(lead, true));
                glyphs.extend(flow.fonts.shape(" ", false));
            }
            glyphs.extend(flow.fonts.shape(text, false));
            let style = Style { size: BODY_SIZE + 0.5, color: BLACK, bold: false };
            let lines = text::lines(&glyphs, style, CONTENT_WIDTH, CONTENT_WIDTH, 0.0);
            flow.lines(MARGIN_X, &lines);
            flow.y += 6.0;
        }
        Block::Facts(facts) => table::draw(flow, &TableSpec::facts(facts)),
        Block::Table(t) => table::draw(flow, &TableSpec::table(t)),
        Block::List(items) => {
            let style = Style { size: BODY_SIZE, color: BLACK, bold: false };
            for item in items {
                let mut glyphs = flow.fonts.shape("•  ", false);
                let hang: f32 = glyphs.iter().map(|g| g.width(style.size)).sum();
                glyphs.extend(flow.fonts.shape(item, false));
                let lines = text::lines(&glyphs, style, CONTENT_WIDTH, CONTENT_WIDTH - hang, hang);
                flow.lines(MARGIN_X, &lines);
            }
            flow.y += 6.0;
        }
    }
}

/// The title and subject on the left, the page number on the right, and before it the
/// incomplete mark on every page of a cancelled run (pages of a record get separated).
fn footer(fonts: &Fonts, doc: &Document, page: &mut Page, number: usize, total: usize) {
    let size = 7.5;
    let y = PAGE_HEIGHT - FOOTER_BASELINE;
    let width_of = |glyphs: &[Glyph]| glyphs.iter().map(|g| g.width(size)).sum::<f32>();
    page.ops.push(Op::Rect { x: MARGIN_X, y: y + size + 3.0, width: CONTENT_WIDTH, height: 0.0, fill: None, stroke: Some(GREY) });
    let number = fonts.shape(&doc::page_of(doc.lang, number, total), false);
    let mut right = MARGIN_X + CONTENT_WIDTH - width_of(&number);
    page.ops.push(Op::Text { x: right, y, size, color: GREY, glyphs: number });
    if let Some(mark) = &doc.incomplete_mark {
        let glyphs = fonts.shape(mark, true);
        right -= width_of(&glyphs) + 12.0;
        page.ops.push(Op::Text { x: right, y, size, color: RED, glyphs });
    }
    // The left text gives way to the right one: cut, with an ellipsis.
    let mut left = fonts.shape(&format!("{} — {}", doc.title, doc.subject), false);
    let room = right - MARGIN_X - 12.0;
    if width_of(&left) > room {
        let ellipsis = fonts.shape("…", false);
        while !left.is_empty() && width_of(&left) + width_of(&ellipsis) > room {
            left.pop();
        }
        left.extend(ellipsis);
    }
    page.ops.push(Op::Text { x: MARGIN_X, y, size, color: GREY, glyphs: left });
}
