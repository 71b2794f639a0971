//! The document laid out on A4 pages: a cursor moves down the page, a block that does not fit
//! goes to the next one, and every page gets a footer with its number once the count is known.

use super::fonts::{Fonts, Glyph};
use super::table::{self, TableSpec};
use super::text::{self, Line, Rgb, Style};
use crate::conformance::report::doc::{self, Block, Document};

/// A4, pt.
pub const PAGE_WIDTH: f32 = 595.276;
pub const PAGE_HEIGHT: f32 = 841.89;
pub const MARGIN_X: f32 = 42.0;
const MARGIN_TOP: f32 = 46.0;
/// Where the body ends; the footer sits below.
const BODY_BOTTOM: f32 = PAGE_HEIGHT - 52.0;
const FOOTER_BASELINE: f32 = PAGE_HEIGHT - 28.0;
pub const CONTENT_WIDTH: f32 = PAGE_WIDTH - 2.0 * MARGIN_X;

pub const BLACK: Rgb = (0.13, 0.13, 0.13);
pub const GREY: Rgb = (0.4, 0.4, 0.4);
pub const WHITE: Rgb = (1.0, 1.0, 1.0);
/// The banner's and the incomplete mark's: a failure's colour.
pub const RED: Rgb = (0xb0 as f32 / 255.0, 0.0, 0x20 as f32 / 255.0);
pub const BODY_SIZE: f32 = 8.5;

/// What is drawn on a page, in PDF coordinates (origin bottom left).
#[derive(Debug, Clone, PartialEq)]
pub enum Op {
    /// `y` is the baseline.
    Text { x: f32, y: f32, size: f32, color: Rgb, glyphs: Vec<Glyph> },
    Rect { x: f32, y: f32, width: f32, height: f32, fill: Option<Rgb>, stroke: Option<Rgb> },
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Page {
    pub ops: Vec<Op>,
}

/// The cursor over the pages; `y` counts down from the top of the page.
pub struct Flow<'a> {
    pub fonts: &'a Fonts,
    pub pages: Vec<Page>,
    pub y: f32,
}

impl<'a> Flow<'a> {
    fn new(fonts: &'a Fonts) -> Flow<'a> {
        Flow { fonts, pages: vec![Page::default()], y: MARGIN_TOP }
    }

    /// Height left on this page.
    pub fn room(&self) -> f32 {
        BODY_BOTTOM - self.y
    }

    /// The body height of an empty page.
    pub fn page_room() -> f32 {
        BODY_BOTTOM - MARGIN_TOP
    }

    pub fn at_top(&self) -> bool {
        self.y <= MARGIN_TOP
    }

    pub fn new_page(&mut self) {
        self.pages.push(Page::default());
        self.y = MARGIN_TOP;
    }

    /// Moves to a new page unless `height` fits on this one.
    pub fn keep(&mut self, height: f32) {
        if height > self.room() && !self.at_top() {
            self.new_page();
        }
    }

    fn push(&mut self, op: Op) {
        if let Some(page) = self.pages.last_mut() {
            page.ops.push(op);
        }
    }

    /// Draws `line` with its top at `top` (from the page's top) and its box's left edge at `x`.
    pub fn line_at(&mut self, x: f32, top: f32, line: &Line) {
        if line.glyphs.is_empty() {
            return;
        }
        // The baseline sits so that ascenders and descenders both clear the line box.
        let baseline = top + line.size * 0.98;
        self.push(Op::Text { x: x + line.indent, y: PAGE_HEIGHT - baseline, size: line.size, color: line.color, glyphs: line.glyphs.clone() });
    }

    /// A rectangle with its top left at (`x`, `top`).
    pub fn rect(&mut self, x: f32, top: f32, width: f32, height: f32, fill: Option<Rgb>, stroke: Option<Rgb>) {
        self.push(Op::Rect { x, y: PAGE_HEIGHT - top - height, width, height, fill, stroke });
    }

    /// Lines down the page from the cursor, each moved to a new page when it does not fit.
    fn lines(&mut self, x: f32, lines: &[Line]) {
        for line in lines {
            self.keep(line.height());
            let top = self.y;
            self.line_at(x, top, line);
            self.y += line.height();
        }
    }
}

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
