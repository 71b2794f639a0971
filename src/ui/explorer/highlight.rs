//! The search text marked where it occurs: in the tree's rows, the topic, the JSON tree and the
//! raw text. Matches the way the store's search finds topics (ignoring case), so what the tree
//! kept is what is marked.

use std::ops::Range;

use egui::text::{LayoutJob, TextFormat};
use egui::{Color32, Visuals};

/// Matches marked per text at most: a search for `"` in a 64 KiB payload stays cheap to draw.
pub const MAX_MARKS: usize = 1_000;

/// Byte ranges of `text` where `query` occurs, ignoring case, left to right and not
/// overlapping, at most [`MAX_MARKS`]. An empty query matches nothing.
pub fn match_ranges(text: &str, query: &str) -> Vec<Range<usize>> {
    let mut found = Vec::new();
    if query.is_empty() {
        return found;
    }
    if query.is_ascii() {
        // ASCII bytes never occur inside a multi-byte character: every match is on boundaries.
        let (hay, needle) = (text.as_bytes(), query.as_bytes());
        let mut at = 0;
        while at + needle.len() <= hay.len() && found.len() < MAX_MARKS {
            if hay[at..at + needle.len()].eq_ignore_ascii_case(needle) {
                found.push(at..at + needle.len());
                at += needle.len();
            } else {
                at += 1;
            }
        }
        return found;
    }
    let wanted: Vec<char> = query.chars().collect();
    let mut next_free = 0;
    for (start, _) in text.char_indices() {
        if start < next_free {
            continue;
        }
        if let Some(end) = match_at(text, start, &wanted) {
            found.push(start..end);
            next_free = end;
            if found.len() == MAX_MARKS {
                break;
            }
        }
    }
    found
}

/// The end of a match of `wanted` starting at `start`, comparing characters lowercased.
fn match_at(text: &str, start: usize, wanted: &[char]) -> Option<usize> {
    let mut chars = text[start..].char_indices();
    for want in wanted {
        let (_, have) = chars.next()?;
        if !have.to_lowercase().eq(want.to_lowercase()) {
            return None;
        }
    }
    Some(chars.next().map_or(text.len(), |(offset, _)| start + offset))
}

/// The background of a marked match, readable in both themes.
pub fn mark_color(visuals: &Visuals) -> Color32 {
    if visuals.dark_mode { Color32::from_rgb(110, 88, 0) } else { Color32::from_rgb(255, 226, 110) }
}

/// Appends `text` to `job` in `format`, the matches of `query` on the `mark` background.
pub fn append(job: &mut LayoutJob, text: &str, query: &str, format: &TextFormat, mark: Color32) {
    let mut done = 0;
    for range in match_ranges(text, query) {
        if range.start > done {
            job.append(&text[done..range.start], 0.0, format.clone());
        }
        job.append(&text[range.clone()], 0.0, TextFormat { background: mark, ..format.clone() });
        done = range.end;
    }
    if done < text.len() || text.is_empty() {
        job.append(&text[done..], 0.0, format.clone());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_ignore_case_and_do_not_overlap() {
        assert_eq!(match_ranges("cems/v1/Point/report", "POINT"), vec![8..13]);
        assert_eq!(match_ranges("aaaa", "aa"), [0..2, 2..4]);
        assert_eq!(match_ranges("aaa", "aa"), vec![0..2]);
        assert!(match_ranges("abc", "").is_empty());
        assert!(match_ranges("abc", "abcd").is_empty());
        assert_eq!(match_ranges("温度过高 温度", "温度"), [0..6, 13..19]);
        assert_eq!(match_ranges("ÄBC äbc", "äb"), [0..3, 5..8]);
        assert_eq!(match_ranges("温a", "a"), vec![3..4], "ASCII query in a Chinese text");
        assert_eq!(match_ranges(&"x".repeat(5_000), "x").len(), MAX_MARKS);
    }

    #[test]
    fn appended_text_marks_only_the_matches() {
        let mut job = LayoutJob::default();
        let mark = Color32::from_rgb(1, 2, 3);
        append(&mut job, "report  (1/2) Report", "report", &TextFormat::default(), mark);
        assert_eq!(job.text, "report  (1/2) Report");
        let marked: Vec<&str> =
            job.sections.iter().filter(|s| s.format.background == mark).map(|s| &job.text[s.byte_range.start.0..s.byte_range.end.0]).collect();
        assert_eq!(marked, ["report", "Report"]);
        assert_eq!(job.sections.len(), 3);
        let mut plain = LayoutJob::default();
        append(&mut plain, "no match", "zzz", &TextFormat::default(), mark);
        assert_eq!((plain.text.as_str(), plain.sections.len()), ("no match", 1));
    }
}
