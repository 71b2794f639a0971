//! The dialogs that stand between the user and a loss: the diff shown before a save, and the
//! question asked before unsaved changes are thrown away.

use std::path::PathBuf;

use egui::{Color32, RichText, ScrollArea, TextStyle};

use crate::ui::ViewContext;
use crate::ui::explorer::diff::{LineOp, line_diff};
use crate::ui::widgets::fill;

/// Lines of context kept around each change.
const CONTEXT: usize = 2;

/// One line of the shown diff: `None` marks lines left out.
type ShownLine = Option<(char, String)>;

/// A save waiting for the user to look at what changes.
#[derive(Debug)]
pub struct SaveReview {
    pub doc: u64,
    pub path: PathBuf,
    pub text: String,
    /// The file's text the guard compares with before writing (None: a new file).
    pub base: Option<String>,
    lines: Vec<ShownLine>,
    added: usize,
    removed: usize,
    problems: usize,
}

/// What the user chose in a dialog.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Choice {
    Pending,
    Confirm,
    Cancel,
}

impl SaveReview {
    pub fn new(doc: u64, path: PathBuf, old: &str, text: String, base: Option<String>, problems: usize) -> SaveReview {
        let ops = line_diff(old, &text);
        let (added, removed) = ops.iter().fold((0, 0), |(a, r), op| match op {
            LineOp::Added(_) => (a + 1, r),
            LineOp::Removed(_) => (a, r + 1),
            LineOp::Same(_) => (a, r),
        });
        SaveReview { doc, path, lines: shown_lines(&ops), text, base, added, removed, problems }
    }

    /// Lines added and removed.
    #[cfg(test)]
    pub fn counts(&self) -> (usize, usize) {
        (self.added, self.removed)
    }

    pub fn ui(&self, ctx: &egui::Context, view: &ViewContext) -> Choice {
        let mut choice = Choice::Pending;
        let modal = egui::Modal::new(egui::Id::NULL.with("model_save_review")).show(ctx, |ui| {
            ui.set_max_width(760.0);
            ui.heading(view.tr("Save changes?"));
            ui.label(self.path.display().to_string());
            let counts = fill(view.tr("{added} lines added, {removed} removed"), &[("added", &self.added.to_string()), ("removed", &self.removed.to_string())]);
            ui.label(counts);
            if self.problems > 0 {
                let text = fill(view.tr("The model has {n} problems; it is saved with them."), &[("n", &self.problems.to_string())]);
                ui.colored_label(ui.visuals().warn_fg_color, text);
            }
            ui.separator();
            let (green, red) = (Color32::from_rgb(80, 180, 90), ui.visuals().error_fg_color);
            let row_height = ui.text_style_height(&TextStyle::Monospace);
            ScrollArea::both().id_salt("model_save_diff").max_height(420.0).auto_shrink([false, true]).show_rows(ui, row_height, self.lines.len(), |ui, range| {
                for line in &self.lines[range] {
                    match line {
                        Some((mark, text)) => {
                            let rich = RichText::new(format!("{mark} {text}")).monospace();
                            let rich = match mark {
                                '+' => rich.color(green),
                                '-' => rich.color(red),
                                _ => rich,
                            };
                            ui.label(rich);
                        }
                        None => {
                            ui.weak("…");
                        }
                    }
                }
            });
            if self.lines.is_empty() {
                ui.weak(view.tr("No change to the file's text."));
            }
            ui.separator();
            ui.horizontal(|ui| {
                if ui.button(view.tr("Save")).clicked() {
                    choice = Choice::Confirm;
                }
                if ui.button(view.tr("Cancel")).clicked() {
                    choice = Choice::Cancel;
                }
            });
        });
        if modal.should_close() && choice == Choice::Pending {
            choice = Choice::Cancel;
        }
        choice
    }
}

/// The changed lines with [`CONTEXT`] lines around each; `None` where lines are left out.
fn shown_lines(ops: &[LineOp]) -> Vec<ShownLine> {
    let near_change: Vec<bool> = (0..ops.len())
        .map(|i| {
            let from = i.saturating_sub(CONTEXT);
            let to = (i + CONTEXT + 1).min(ops.len());
            ops[from..to].iter().any(|op| !matches!(op, LineOp::Same(_)))
        })
        .collect();
    let mut out = Vec::new();
    let mut skipped = false;
    for (op, near) in ops.iter().zip(near_change) {
        if !near {
            skipped = true;
            continue;
        }
        if std::mem::take(&mut skipped) && !out.is_empty() {
            out.push(None);
        }
        out.push(Some(match op {
            LineOp::Same(l) => (' ', l.clone()),
            LineOp::Added(l) => ('+', l.clone()),
            LineOp::Removed(l) => ('-', l.clone()),
        }));
    }
    out
}

/// What unsaved changes would be lost by.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Loss {
    /// Closing the tab of this doc.
    CloseTab(u64),
    /// Quitting the window with these tabs unsaved.
    Quit(Vec<String>),
}

/// "Discard unsaved changes?": Confirm discards, Cancel keeps editing.
pub fn discard_ui(ctx: &egui::Context, view: &ViewContext, loss: &Loss, title: &str) -> Choice {
    let mut choice = Choice::Pending;
    let modal = egui::Modal::new(egui::Id::NULL.with("model_discard_guard")).show(ctx, |ui| {
        ui.set_max_width(520.0);
        ui.heading(view.tr("Unsaved changes"));
        match loss {
            Loss::CloseTab(_) => {
                ui.label(fill(view.tr("{name} has changes that are not saved."), &[("name", title)]));
            }
            Loss::Quit(names) => {
                ui.label(view.tr("These models have changes that are not saved:"));
                for name in names {
                    ui.label(format!("• {name}"));
                }
            }
        }
        ui.horizontal(|ui| {
            let discard = match loss {
                Loss::CloseTab(_) => view.tr("Close without saving"),
                Loss::Quit(_) => view.tr("Quit without saving"),
            };
            if ui.button(discard).clicked() {
                choice = Choice::Confirm;
            }
            if ui.button(view.tr("Keep editing")).clicked() {
                choice = Choice::Cancel;
            }
        });
    });
    if modal.should_close() && choice == Choice::Pending {
        choice = Choice::Cancel;
    }
    choice
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_changes_and_their_context_are_shown() {
        let old: String = (0..20).map(|i| format!("line {i}\n")).collect();
        let new = old.replace("line 10\n", "line ten\n");
        let review = SaveReview::new(1, PathBuf::from("m.json"), &old, new, None, 0);
        assert_eq!(review.counts(), (1, 1));
        let marks: Vec<char> = review.lines.iter().flatten().map(|(m, _)| *m).collect();
        assert_eq!(marks, vec![' ', ' ', '-', '+', ' ', ' ']);
        assert!(review.lines.first().is_some_and(Option::is_some), "no leading gap mark");
    }
}
