//! Small pieces of drawing used by several panels: state dots and their colours, link states in
//! words, template filling, and the page sections of label/value grids.

use egui::{Color32, Grid, RichText, Sense};

use super::i18n::tr;
use crate::protocol::model::Lang;
use crate::transport::LinkState;

/// Replaces each `{key}` of `template` by its value, in one pass (as notices are filled).
pub fn fill(template: &str, values: &[(&str, &str)]) -> String {
    crate::engine::notice::fill_slots(template, |name, out| match values.iter().find(|(key, _)| *key == name) {
        Some((_, value)) => {
            out.push_str(value);
            true
        }
        None => false,
    })
}

/// A small filled circle in `color`, the size of a line of text.
pub fn state_dot_ui(ui: &mut egui::Ui, color: Color32) -> egui::Response {
    let size = ui.text_style_height(&egui::TextStyle::Body);
    let (rect, response) = ui.allocate_exact_size(egui::vec2(size * 0.8, size), Sense::hover());
    ui.painter().circle_filled(rect.center(), size * 0.3, color);
    response
}

/// A green readable on the current background.
pub fn ok_color(visuals: &egui::Visuals) -> Color32 {
    if visuals.dark_mode { Color32::from_rgb(0x4c, 0xc3, 0x6f) } else { Color32::from_rgb(0x1e, 0x8a, 0x3c) }
}

/// Green when up, amber while connecting, red when down, grey when closed.
pub fn link_state_color(visuals: &egui::Visuals, state: &LinkState) -> Color32 {
    match state {
        LinkState::Up => ok_color(visuals),
        LinkState::Connecting { .. } => visuals.warn_fg_color,
        LinkState::Down { .. } => visuals.error_fg_color,
        LinkState::Closed => visuals.weak_text_color(),
    }
}

/// "Connecting (attempt 3)", "Up", "Down: refused", "Closed".
pub fn link_state_text(lang: Lang, state: &LinkState) -> String {
    let tr = |key| tr(lang, key);
    match state {
        LinkState::Connecting { attempt } => fill(tr("Connecting (attempt {n})"), &[("n", &attempt.to_string())]),
        LinkState::Up => tr("Up").to_owned(),
        LinkState::Down { reason } => fill(tr("Down: {reason}"), &[("reason", reason)]),
        LinkState::Closed => tr("Closed").to_owned(),
    }
}

/// A titled section of a page, open at first.
pub fn section_ui(ui: &mut egui::Ui, title: &str, salt: &str, add: impl FnOnce(&mut egui::Ui)) {
    egui::CollapsingHeader::new(RichText::new(title).strong()).id_salt(salt).default_open(true).show(ui, add);
}

/// A two-column grid of (label, value) pairs; empty values show as "-".
pub fn pairs_ui(ui: &mut egui::Ui, salt: &str, pairs: &[(&str, String)]) {
    Grid::new(salt).num_columns(2).spacing([16.0, 4.0]).show(ui, |ui| {
        for (label, value) in pairs {
            ui.weak(*label);
            if value.is_empty() {
                ui.weak("-");
            } else {
                ui.label(value);
            }
            ui.end_row();
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn link_states_read_as_the_user_expects() {
        assert_eq!(link_state_text(Lang::En, &LinkState::Connecting { attempt: 3 }), "Connecting (attempt 3)");
        assert_eq!(link_state_text(Lang::En, &LinkState::Down { reason: "refused".into() }), "Down: refused");
        assert_eq!(link_state_text(Lang::En, &LinkState::Up), "Up");
        assert_eq!(link_state_text(Lang::Zh, &LinkState::Closed), "已关闭");
        assert!(link_state_text(Lang::Zh, &LinkState::Connecting { attempt: 2 }).contains('2'));
    }

    #[test]
    fn templates_are_filled() {
        assert_eq!(fill("{a} and {b}, {a}", &[("a", "x"), ("b", "y")]), "x and y, x");
        // A value that holds a slot name (a file called "{n}.log") is not filled again.
        assert_eq!(fill("{path}: {n} written", &[("path", "/tmp/{n}.log"), ("n", "3")]), "/tmp/{n}.log: 3 written");
    }
}
