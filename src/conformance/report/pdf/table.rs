//! Tables on the pages: columns sized to their content, cells wrapped, a row that does not fit
//! moved to the next page (or split there when it is taller than a page), and the header
//! repeated on every page the table runs onto. A case's messages get a full-width row under it.

use super::fonts::Fonts;
use super::page::{BLACK, BODY_SIZE, CONTENT_WIDTH, Flow, GREY, MARGIN_X};
use super::text::{self, Line, Rgb, Style};
use crate::conformance::report::doc::{Messages, Table, TableKind, Tone};

const PAD: f32 = 3.0;
const BORDER: Rgb = (0.73, 0.73, 0.73);
const HEADER_FILL: Rgb = (0.93, 0.93, 0.93);
const MESSAGES_FILL: Rgb = (0.975, 0.975, 0.975);
const MESSAGES_SIZE: f32 = 6.8;
/// How much of a payload the PDF prints; the HTML report and `--json` carry all of it.
const PAYLOAD_CHARS: usize = 480;
/// Sign-off rows are tall enough to sign in.
const SIGN_ROW_HEIGHT: f32 = 34.0;
const SIGN_COLUMNS: [f32; 4] = [0.2, 0.28, 0.32, 0.2];
/// Texts up to this wide (pt) keep to one line when the columns can afford it.
const SHORT_TEXT: f32 = 56.0;
/// A case's row is not left at a page's foot without the start of its messages.
const KEEP_WITH_MESSAGES: f32 = 30.0;

/// A row's cells (text and tone) and its messages.
type SpecRow<'a> = (Vec<(&'a str, Tone)>, Option<&'a Messages>);

/// What [`draw`] needs of a facts list or a table.
pub struct TableSpec<'a> {
    header: Option<&'a [String]>,
    rows: Vec<SpecRow<'a>>,
    /// The first column holds labels (shaded, bold).
    key_column: bool,
    kind: TableKind,
}

impl<'a> TableSpec<'a> {
    pub fn facts(facts: &'a [(String, String)]) -> TableSpec<'a> {
        let rows = facts.iter().map(|(label, value)| (vec![(label.as_str(), Tone::Plain), (value.as_str(), Tone::Plain)], None)).collect();
        TableSpec { header: None, rows, key_column: true, kind: TableKind::Data }
    }

    pub fn table(table: &'a Table) -> TableSpec<'a> {
        let rows = table.rows.iter().map(|r| (r.cells.iter().map(|c| (c.text.as_str(), c.tone)).collect(), r.messages.as_ref())).collect();
        TableSpec { header: Some(&table.header), rows, key_column: false, kind: table.kind }
    }

    fn columns(&self) -> usize {
        self.rows.iter().map(|(cells, _)| cells.len()).chain(self.header.map(<[String]>::len)).max().unwrap_or(0)
    }
}

fn tone_style(tone: Tone, bold: bool) -> Style {
    let (color, tone_bold) = tone.look().map_or((BLACK, false), |(rgb, tone_bold)| (text::rgb(rgb), tone_bold));
    Style { size: BODY_SIZE, color, bold: bold || tone_bold }
}

/// Column widths filling the content width: each column gets at least its longest word (up to a
/// limit) and the rest is shared in proportion to how much wider each would like to be.
fn column_widths(fonts: &Fonts, spec: &TableSpec) -> Vec<f32> {
    let n = spec.columns();
    if spec.kind == TableKind::SignOff && n == SIGN_COLUMNS.len() {
        return SIGN_COLUMNS.iter().map(|f| f * CONTENT_WIDTH).collect();
    }
    let mut natural = vec![0.0_f32; n];
    let mut least = vec![16.0_f32; n];
    let mut measure = |col: usize, text: &str, bold: bool| {
        let glyphs = fonts.shape(text, bold);
        natural[col] = natural[col].max(text::natural_width(&glyphs, BODY_SIZE) + 2.0 * PAD + 1.0);
        // A short text (a label, a verdict, an id) is not broken at all; a long one at its words.
        let unbroken = text::longest_unbreakable(&glyphs, BODY_SIZE).max(text::natural_width(&glyphs, BODY_SIZE).min(SHORT_TEXT));
        least[col] = least[col].max(unbroken.min(110.0) + 2.0 * PAD + 1.0);
    };
    for (col, label) in spec.header.into_iter().flatten().enumerate() {
        measure(col, label, true);
    }
    for (cells, _) in &spec.rows {
        for (col, (text, tone)) in cells.iter().enumerate() {
            measure(col, text, tone_style(*tone, spec.key_column && col == 0).bold);
        }
    }
    for (nat, min) in natural.iter_mut().zip(&least) {
        *nat = nat.max(*min);
    }
    let total: f32 = natural.iter().sum();
    if total <= CONTENT_WIDTH {
        return natural.iter().map(|w| w * CONTENT_WIDTH / total.max(1.0)).collect();
    }
    let floor: f32 = least.iter().sum();
    if floor >= CONTENT_WIDTH {
        return least.iter().map(|w| w * CONTENT_WIDTH / floor).collect();
    }
    let wish: f32 = natural.iter().zip(&least).map(|(n, l)| n - l).sum();
    natural.iter().zip(&least).map(|(n, l)| l + (CONTENT_WIDTH - floor) * (n - l) / wish.max(1.0)).collect()
}

/// One cell of a row: where it is, what it holds, its background.
struct CellBox {
    x: f32,
    width: f32,
    lines: Vec<Line>,
    fill: Option<Rgb>,
}

fn cell(fonts: &Fonts, x: f32, width: f32, text: &str, style: Style, fill: Option<Rgb>) -> CellBox {
    CellBox { x, width, lines: text::paragraph(fonts, text, style, width - 2.0 * PAD), fill }
}

/// The payload as one readable run: whitespace collapsed, cut to [`PAYLOAD_CHARS`].
fn readable(payload: &str) -> String {
    let collapsed = payload.split_whitespace().collect::<Vec<_>>().join(" ");
    match collapsed.char_indices().nth(PAYLOAD_CHARS) {
        Some((cut, _)) => format!("{}…", &collapsed[..cut]),
        None => collapsed,
    }
}

fn messages_cell(fonts: &Fonts, messages: &Messages) -> CellBox {
    let inner = CONTENT_WIDTH - 2.0 * PAD;
    let head_style = Style { size: MESSAGES_SIZE, color: GREY, bold: true };
    let mut lines = text::paragraph(fonts, &messages.summary, head_style, inner);
    for message in &messages.lines {
        let mut glyphs = fonts.shape(&message.head, true);
        glyphs.extend(fonts.shape(" ", false));
        glyphs.extend(fonts.shape(&readable(&message.body), false));
        let style = Style { size: MESSAGES_SIZE, color: BLACK, bold: false };
        lines.extend(text::lines(&glyphs, style, inner, inner - 12.0, 12.0));
    }
    CellBox { x: MARGIN_X, width: CONTENT_WIDTH, lines, fill: Some(MESSAGES_FILL) }
}

/// Lays out and draws the table at the cursor.
pub fn draw(flow: &mut Flow, spec: &TableSpec) {
    let fonts = flow.fonts;
    let widths = column_widths(fonts, spec);
    let xs: Vec<f32> = widths.iter().scan(MARGIN_X, |x, w| Some(std::mem::replace(x, *x + w))).collect();
    let header: Vec<CellBox> = spec
        .header
        .into_iter()
        .flatten()
        .enumerate()
        .map(|(col, label)| cell(fonts, xs[col], widths[col], label, Style { size: BODY_SIZE, color: BLACK, bold: true }, Some(HEADER_FILL)))
        .collect();
    let header_height = if header.is_empty() { 0.0 } else { height(&header) };
    let min_height = if spec.kind == TableKind::SignOff { SIGN_ROW_HEIGHT } else { 0.0 };
    let mut rows = spec.rows.iter().map(|(cells, messages)| {
        let boxes = (0..widths.len())
            .map(|col| {
                let (text, tone) = cells.get(col).copied().unwrap_or(("", Tone::Plain));
                let key = spec.key_column && col == 0;
                cell(fonts, xs[col], widths[col], text, tone_style(tone, key), key.then_some(HEADER_FILL))
            })
            .collect::<Vec<_>>();
        (boxes, messages.map(|m| messages_cell(fonts, m)))
    });
    let first = rows.next();
    // The header does not stay alone at the foot of a page.
    let first_height = first.as_ref().map_or(0.0, |(boxes, _)| height(boxes).max(min_height).min(40.0));
    flow.keep(header_height + first_height);
    let header_row = |flow: &mut Flow| {
        if !header.is_empty() {
            draw_segment(flow, &header, &vec![0; header.len()], None, header_height);
            flow.y += header_height;
        }
    };
    header_row(flow);
    for (boxes, messages) in first.into_iter().chain(rows) {
        let keep_with_next = messages.as_ref().map_or(0.0, |m| height(std::slice::from_ref(m)).min(KEEP_WITH_MESSAGES));
        draw_row(flow, &boxes, Fit { min_height, keep_with_next, split_freely: false }, header_height, &header_row);
        if let Some(messages) = messages {
            // The messages continue their case's row: they split wherever the page ends.
            draw_row(flow, std::slice::from_ref(&messages), Fit { min_height: 0.0, keep_with_next: 0.0, split_freely: true }, header_height, &header_row);
        }
    }
    flow.y += 8.0;
}

fn height(boxes: &[CellBox]) -> f32 {
    boxes.iter().map(|b| b.lines.iter().map(Line::height).sum::<f32>()).fold(0.0, f32::max) + 2.0 * PAD
}

/// How a row meets the foot of a page.
struct Fit {
    min_height: f32,
    /// The row starts on a new page unless this much more fits under it.
    keep_with_next: f32,
    /// Split where the page ends even when the row would fit whole on the next page.
    split_freely: bool,
}

/// Draws one row; one that does not fit goes to the next page, or is split over pages when it is
/// taller than a page (or may split freely).
fn draw_row(flow: &mut Flow, boxes: &[CellBox], fit: Fit, header_height: f32, header_row: &dyn Fn(&mut Flow)) {
    let Fit { min_height, keep_with_next, split_freely } = fit;
    let mut starts = vec![0_usize; boxes.len()];
    let fresh = |flow: &Flow| flow.room() >= Flow::page_room() - header_height - 0.5;
    let whole = height(boxes).max(min_height) + keep_with_next;
    if !split_freely && whole > flow.room() && !fresh(flow) && whole <= Flow::page_room() - header_height {
        flow.new_page();
        header_row(flow);
    }
    loop {
        let rest: f32 = boxes.iter().zip(&starts).map(|(b, s)| b.lines[*s..].iter().map(Line::height).sum::<f32>()).fold(0.0, f32::max) + 2.0 * PAD;
        let need = if starts.iter().all(|s| *s == 0) { rest.max(min_height) } else { rest };
        if need <= flow.room() {
            draw_segment(flow, boxes, &starts, None, need);
            flow.y += need;
            return;
        }
        let on_fresh_page = fresh(flow);
        if !on_fresh_page && !split_freely && need <= Flow::page_room() - header_height {
            flow.new_page();
            header_row(flow);
            continue;
        }
        // Taller than a page, or free to split: as many lines of each cell as fit here, the rest
        // on the next.
        let room = flow.room() - 2.0 * PAD;
        let counts: Vec<usize> = boxes
            .iter()
            .zip(&starts)
            .map(|(b, s)| {
                let mut used = 0.0;
                b.lines[*s..].iter().take_while(|l| {
                    used += l.height();
                    used <= room
                })
                .count()
            })
            .collect();
        if counts.iter().all(|c| *c == 0) && !on_fresh_page {
            flow.new_page();
            header_row(flow);
            continue;
        }
        // On a fresh page at least one line moves on, so this always ends.
        let counts: Vec<usize> = counts.iter().zip(boxes.iter().zip(&starts)).map(|(c, (b, s))| if on_fresh_page { (*c).max(1).min(b.lines.len() - s) } else { *c }).collect();
        let segment = flow.room();
        draw_segment(flow, boxes, &starts, Some(&counts), segment);
        for (s, c) in starts.iter_mut().zip(&counts) {
            *s += c;
        }
        flow.new_page();
        header_row(flow);
    }
}

/// The cells' boxes `height` tall at the cursor, with lines `starts[i]..` (`counts[i]` of them).
fn draw_segment(flow: &mut Flow, boxes: &[CellBox], starts: &[usize], counts: Option<&[usize]>, height: f32) {
    let top = flow.y;
    for (i, b) in boxes.iter().enumerate() {
        flow.rect(b.x, top, b.width, height, b.fill, Some(BORDER));
        let count = counts.map_or(b.lines.len(), |c| c[i]);
        let mut y = top + PAD;
        for line in b.lines.iter().skip(starts[i]).take(count) {
            flow.line_at(b.x + PAD, y, line);
            y += line.height();
        }
    }
}
