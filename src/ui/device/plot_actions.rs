//! Plotting from the device page: the "📈" button and the right-click menu of a point or meter
//! row, which send the row's series to the Plots tab (`UiCommand::PlotSeries`), and the rule
//! for which points can be plotted at all (numbers, not text).

use crate::engine::series::SeriesKey;
use crate::protocol::model::{PointDef, PointKind, ValueType};
use crate::protocol::payload::PointV;
use crate::ui::{UiCommand, ViewContext};

/// `UiCommand::PlotSeries`'s plot index for "a new plot" (any index past the last plot).
pub const NEW_PLOT: usize = usize::MAX;

/// The icon of the plot button; its hover and accessible text say what it does.
pub const PLOT_ICON: &str = "📈";

/// True when the point is a number a plot can draw: by its model when there is one (integers,
/// floats, bools, enums whose keys are numbers; not text), else by the value last reported.
pub fn plottable(def: Option<&PointDef>, latest: Option<&PointV>) -> bool {
    match def {
        Some(def) if def.kind == PointKind::Text => false,
        Some(def) => match def.spec.value_type {
            ValueType::Int | ValueType::Float | ValueType::Bool => true,
            // Enum values go on the wire as their key: a plot draws them only when keys are numbers.
            ValueType::Enum => def.spec.enum_labels.as_ref().is_some_and(|labels| labels.0.keys().all(|k| numeric_key(k))),
            ValueType::String | ValueType::Struct | ValueType::Array => false,
        },
        None => latest.is_some_and(|v| v.as_f64().is_some()),
    }
}

/// An enum key a plot can stand on its Y axis: a finite number, or `true` / `false`.
fn numeric_key(key: &str) -> bool {
    matches!(key, "true" | "false") || key.parse::<f64>().is_ok_and(f64::is_finite)
}

/// The command that adds `key` to the plot last used (`new_plot`: to a new plot).
pub fn plot_command(key: SeriesKey, new_plot: bool) -> UiCommand {
    UiCommand::PlotSeries { key, plot: new_plot.then_some(NEW_PLOT) }
}

/// The small plot button of a row: adds its series to the plot last used.
pub fn plot_button_ui(ui: &mut egui::Ui, ctx: &ViewContext, key: &SeriesKey, commands: &mut Vec<UiCommand>) {
    let response = ui.small_button(PLOT_ICON).on_hover_text(ctx.tr("Add to plot"));
    if response.clicked() {
        commands.push(plot_command(key.clone(), false));
    }
    plot_menu(&response, ctx, key, commands);
}

/// The right-click menu of a row's widget: "Add to plot" and "Add to new plot".
pub fn plot_menu(response: &egui::Response, ctx: &ViewContext, key: &SeriesKey, commands: &mut Vec<UiCommand>) {
    response.context_menu(|ui| {
        if ui.button(ctx.tr("Add to plot")).clicked() {
            commands.push(plot_command(key.clone(), false));
            ui.close();
        }
        if ui.button(ctx.tr("Add to new plot")).clicked() {
            commands.push(plot_command(key.clone(), true));
            ui.close();
        }
    });
}

/// "Plot all of <sub>": every plottable point of a sub-device, in a new plot of their own.
pub fn plot_all_commands(keys: impl IntoIterator<Item = SeriesKey>) -> Vec<UiCommand> {
    // The first opens a new plot, which is then the plot last used for the others.
    keys.into_iter().enumerate().map(|(i, key)| plot_command(key, i == 0)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::model::ModelSet;

    #[test]
    fn numbers_are_plottable_and_text_is_not() {
        let models = ModelSet::builtin();
        let meter = models.get("PK-METER-3P").map(|d| d.model());
        let ua = meter.and_then(|m| m.point("Ua"));
        assert!(ua.is_some());
        assert!(plottable(ua, None), "an analog float");
        let gateway = models.get("PK-GW-01").map(|d| d.model());
        assert!(plottable(gateway.and_then(|m| m.point("link4g")), None), "a digital point with numeric states");
        let mut text = ua.cloned().expect("the meter model has Ua");
        text.kind = PointKind::Text;
        text.spec.value_type = ValueType::String;
        assert!(!plottable(Some(&text), Some(&PointV::Number(1.0))), "the model says text");
        // Without a model, the value decides.
        assert!(plottable(None, Some(&PointV::Number(2.5))));
        assert!(plottable(None, Some(&PointV::Bool(true))));
        assert!(!plottable(None, Some(&PointV::Text("fault".into()))));
        assert!(!plottable(None, None));
    }

    #[test]
    fn plot_all_opens_one_new_plot_for_the_sub_device() {
        let keys = ["Ua", "Ub"].map(|pid| SeriesKey::point("PK", "D", "m1", pid));
        let sent: Vec<_> = plot_all_commands(keys.clone())
            .into_iter()
            .map(|c| match c {
                UiCommand::PlotSeries { key, plot } => (key, plot),
                other => panic!("not a plot command: {other:?}"),
            })
            .collect();
        assert_eq!(sent, vec![(keys[0].clone(), Some(NEW_PLOT)), (keys[1].clone(), None)]);
    }
}
