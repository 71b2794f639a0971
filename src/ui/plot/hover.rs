//! The hover readout: at the pointer's time, each series' nearest sample with its time, value,
//! unit, quality and source (live or history), beside the pointer.

use egui::{Id, PopupAnchor, RichText, Ui};

use super::draw::{NearSample, series_color};
use super::meta::SeriesMeta;
use crate::ui::ViewContext;
use crate::ui::format::{format_local_ms, format_number, format_time_of_day};
use crate::ui::widgets::fill;

/// A sample's value as the readout says it: an enum point's label with its value.
pub fn value_text(meta: &SeriesMeta, value: f64) -> String {
    if !value.is_finite() {
        return value.to_string();
    }
    let number = format_number(value);
    match meta.label_of(value) {
        Some(label) => format!("{label} ({number})"),
        None if meta.unit.is_empty() => number,
        None => format!("{number} {}", meta.unit),
    }
}

/// `good`, or the contract's quality code.
pub fn quality_text(view: &ViewContext, quality: u8) -> String {
    if quality == 0 { view.tr("good").to_owned() } else { fill(view.tr("quality {q}"), &[("q", &quality.to_string())]) }
}

/// The readout beside the pointer, over every series that has a sample in range.
pub fn readout_ui(ui: &Ui, view: &ViewContext, id: Id, t_ms: i64, near: &[(usize, &SeriesMeta, NearSample)], with_gateway: bool) {
    let tooltip = egui::Tooltip::always_open(ui.ctx().clone(), ui.layer_id(), id.with("readout"), PopupAnchor::Pointer);
    tooltip.gap(14.0).show(|ui| {
        ui.strong(format_local_ms(t_ms));
        egui::Grid::new(id.with("readout_grid")).num_columns(4).spacing([10.0, 2.0]).show(ui, |ui| {
            for (i, meta, sample) in near {
                ui.label(RichText::new(meta.legend(with_gateway)).color(series_color(*i)));
                ui.label(RichText::new(value_text(meta, sample.value)).strong());
                let source = if sample.history { view.tr("history") } else { view.tr("live") };
                ui.weak(format!("{} · {source}", quality_text(view, sample.quality)));
                ui.weak(format_time_of_day(sample.t_ms));
                ui.end_row();
            }
        });
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::series::SeriesKey;

    #[test]
    fn values_read_with_their_unit_or_label() {
        let key = SeriesKey::Point { pk: "P".into(), dev: "D".into(), sub: "s".into(), pid: "x".into() };
        let mut meta = SeriesMeta { unit: "V".into(), ..SeriesMeta::bare(&key) };
        assert_eq!(value_text(&meta, 230.5), "230.5 V");
        meta.labels = vec![(1.0, "running".into())];
        assert_eq!(value_text(&meta, 1.0), "running (1)");
    }
}
