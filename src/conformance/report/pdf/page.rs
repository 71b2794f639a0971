//! The page and the cursor that fills it: A4 geometry, the colours and sizes every part shares,
//! what is drawn (`Op`), and `Flow`, which moves down the page and on to the next.

use super::fonts::{Fonts, Glyph};
use super::text::{Line, Rgb};

/// A4, pt.
pub const PAGE_WIDTH: f32 = 595.276;
pub const PAGE_HEIGHT: f32 = 841.89;
pub const MARGIN_X: f32 = 42.0;
const MARGIN_TOP: f32 = 46.0;
/// Where the body ends; the footer sits below.
const BODY_BOTTOM: f32 = PAGE_HEIGHT - 52.0;
pub const FOOTER_BASELINE: f32 = PAGE_HEIGHT - 28.0;
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
    pub fn new(fonts: &'a Fonts) -> Flow<'a> {
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
    pub fn lines(&mut self, x: f32, lines: &[Line]) {
        for line in lines {
            self.keep(line.height());
            let top = self.y;
            self.line_at(x, top, line);
            self.y += line.height();
        }
    }
}
