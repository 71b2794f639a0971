//! Lines of text that fit a width. A line breaks at a space, after the punctuation that joins
//! the parts of a topic or a payload (`/ , ; & } ]`), between any two Chinese characters
//! (except before closing punctuation), and anywhere in a word longer than the line.

use super::fonts::{Fonts, Glyph};

/// A colour, 0–1 per channel.
pub type Rgb = (f32, f32, f32);

pub fn rgb([r, g, b]: [u8; 3]) -> Rgb {
    (f32::from(r) / 255.0, f32::from(g) / 255.0, f32::from(b) / 255.0)
}

/// Line height over font size.
pub const LEADING: f32 = 1.3;

/// One line, ready to draw.
#[derive(Debug, Clone, PartialEq)]
pub struct Line {
    pub glyphs: Vec<Glyph>,
    /// Its width, pt.
    pub width: f32,
    pub size: f32,
    pub color: Rgb,
    /// From the left edge of its box, pt.
    pub indent: f32,
}

impl Line {
    pub fn height(&self) -> f32 {
        self.size * LEADING
    }
}

/// How a paragraph is set.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Style {
    pub size: f32,
    pub color: Rgb,
    pub bold: bool,
}

/// Sets `text` in `style` into lines at most `width` wide.
pub fn paragraph(fonts: &Fonts, text: &str, style: Style, width: f32) -> Vec<Line> {
    lines(&fonts.shape(text, style.bold), style, width, width, 0.0)
}

/// Sets glyphs into lines: the first at most `first_width` wide, the others `rest_width` wide
/// and indented by `hang`.
pub fn lines(glyphs: &[Glyph], style: Style, first_width: f32, rest_width: f32, hang: f32) -> Vec<Line> {
    wrap(glyphs, style.size, first_width, rest_width)
        .into_iter()
        .enumerate()
        .map(|(i, (glyphs, width))| Line { glyphs, width, size: style.size, color: style.color, indent: if i == 0 { 0.0 } else { hang } })
        .collect()
}

fn is_cjk(c: char) -> bool {
    matches!(c as u32, 0x2E80..=0x9FFF | 0xAC00..=0xD7AF | 0xF900..=0xFAFF | 0xFE30..=0xFE4F | 0xFF00..=0xFFEF | 0x20000..=0x3FFFF)
}

/// Closing punctuation stays with what it closes.
fn no_break_before(c: char) -> bool {
    "，。、；：？！）》」』】〕〉…％·,.;:!?)]}%".contains(c)
}

fn no_break_after(c: char) -> bool {
    "（《「『【〔〈([{".contains(c)
}

fn can_break_between(before: char, after: char) -> bool {
    if after == ' ' || no_break_before(after) || no_break_after(before) {
        return false;
    }
    before == ' ' || "/,;&}]".contains(before) || is_cjk(before) || is_cjk(after)
}

/// The widest run of glyphs with no break opportunity inside, pt: how narrow a column can get
/// before its words are cut.
pub fn longest_unbreakable(glyphs: &[Glyph], size: f32) -> f32 {
    let (mut longest, mut run) = (0.0_f32, 0.0_f32);
    for (i, g) in glyphs.iter().enumerate() {
        run += g.width(size);
        longest = longest.max(run);
        let breaks = g.ch == '\n' || glyphs.get(i + 1).is_some_and(|next| can_break_between(g.ch, next.ch));
        if breaks {
            run = 0.0;
        }
    }
    longest
}

/// The width of the widest hard line, pt.
pub fn natural_width(glyphs: &[Glyph], size: f32) -> f32 {
    glyphs.split(|g| g.ch == '\n').map(|line| line.iter().map(|g| g.width(size)).sum::<f32>()).fold(0.0, f32::max)
}

/// The glyphs of a line without its trailing spaces, and its width.
fn finish(glyphs: &[Glyph], size: f32) -> (Vec<Glyph>, f32) {
    let end = glyphs.iter().rposition(|g| g.ch != ' ').map_or(0, |i| i + 1);
    let kept = &glyphs[..end];
    (kept.to_vec(), kept.iter().map(|g| g.width(size)).sum())
}

/// Greedy line breaking; returns each line's glyphs and width in pt.
fn wrap(glyphs: &[Glyph], size: f32, first_width: f32, rest_width: f32) -> Vec<(Vec<Glyph>, f32)> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut width = 0.0;
    let mut last_break: Option<usize> = None;
    let mut i = 0;
    while i < glyphs.len() {
        let g = glyphs[i];
        if g.ch == '\n' {
            out.push(finish(&glyphs[start..i], size));
            start = i + 1;
            width = 0.0;
            last_break = None;
            i += 1;
            continue;
        }
        let max = if out.is_empty() { first_width } else { rest_width };
        let w = g.width(size);
        if width + w > max && i > start && g.ch != ' ' {
            // Every break pushes a line and moves `start` forward, so this ends.
            let cut = last_break.filter(|b| *b > start).unwrap_or(i);
            out.push(finish(&glyphs[start..cut], size));
            start = cut;
            while start < i && glyphs[start].ch == ' ' {
                start += 1;
            }
            last_break = None;
            width = glyphs[start..i].iter().map(|g| g.width(size)).sum();
            continue;
        }
        width += w;
        if let Some(next) = glyphs.get(i + 1)
            && can_break_between(g.ch, next.ch)
        {
            last_break = Some(i + 1);
        }
        i += 1;
    }
    if start < glyphs.len() || out.is_empty() {
        out.push(finish(&glyphs[start.min(glyphs.len())..], size));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text_of(lines: &[Line]) -> Vec<String> {
        lines.iter().map(|l| l.glyphs.iter().map(|g| g.ch).collect()).collect()
    }

    const STYLE: Style = Style { size: 10.0, color: (0.0, 0.0, 0.0), bold: false };

    #[test]
    fn latin_breaks_at_spaces_and_lines_fit() {
        let fonts = Fonts::load().unwrap();
        let lines = paragraph(&fonts, "the quick brown fox jumps over the lazy dog", STYLE, 60.0);
        assert!(lines.len() > 2, "{:?}", text_of(&lines));
        assert!(lines.iter().all(|l| l.width <= 60.0), "{:?}", lines.iter().map(|l| l.width).collect::<Vec<_>>());
        assert!(text_of(&lines).iter().all(|l| !l.starts_with(' ') && !l.ends_with(' ')));
        assert_eq!(text_of(&lines).join(" "), "the quick brown fox jumps over the lazy dog");
    }

    #[test]
    fn chinese_breaks_between_any_two_characters_but_not_before_closing_punctuation() {
        let fonts = Fonts::load().unwrap();
        let text = "网关已连接到代理服务器，然后读取网关的保留状态消息。";
        let lines = paragraph(&fonts, text, STYLE, 45.0);
        assert!(lines.len() >= 4, "{:?}", text_of(&lines));
        assert!(lines.iter().all(|l| l.width <= 45.0));
        assert_eq!(text_of(&lines).concat(), text);
        assert!(text_of(&lines).iter().all(|l| !l.starts_with('，') && !l.starts_with('。')), "{:?}", text_of(&lines));
    }

    #[test]
    fn a_word_longer_than_the_line_breaks_anywhere_and_hard_breaks_hold() {
        let fonts = Fonts::load().unwrap();
        let word = "x".repeat(200);
        let lines = paragraph(&fonts, &format!("{word}\nnext"), STYLE, 50.0);
        assert!(lines.iter().all(|l| l.width <= 50.0));
        let texts = text_of(&lines);
        assert_eq!(texts.last().map(String::as_str), Some("next"));
        assert_eq!(texts[..texts.len() - 1].concat(), word);
        // Nothing at all still makes one (empty) line, so a cell keeps its height.
        assert_eq!(paragraph(&fonts, "", STYLE, 50.0).len(), 1);
    }
}
