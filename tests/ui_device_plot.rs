//! Plotting from the device page under egui_kittest, fed by a real engine and the simulated
//! energy gateway: a point's 📈 button and right-click menu, "Plot all of <sub>", a meter
//! register's button, and the Meters tab's chart of a queried period (and its message for an
//! empty period).

mod device_bench;

use cems_workbench::engine::GatewayKey;
use cems_workbench::engine::series::SeriesKey;
use cems_workbench::protocol::model::Lang;
use cems_workbench::ui::UiCommand;
use cems_workbench::ui::device::DeviceView;
use cems_workbench::ui::device::plot_actions::{NEW_PLOT, PLOT_ICON};
use device_bench::{Bench, PK, State, has_text, open_tab, run_until, serve_until};
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;

fn key(dev: &str) -> GatewayKey {
    GatewayKey { pk: PK.into(), dev: dev.into() }
}

/// The plot commands pushed since the last call, taken (other commands dropped).
fn take_plots(harness: &mut Harness<'static, State>) -> Vec<(SeriesKey, Option<usize>)> {
    std::mem::take(&mut harness.state_mut().commands)
        .into_iter()
        .filter_map(|c| match c {
            UiCommand::PlotSeries { key, plot } => Some((key, plot)),
            _ => None,
        })
        .collect()
}

fn point(dev: &str, sub: &str, pid: &str) -> SeriesKey {
    SeriesKey::point(PK, dev, sub, pid)
}

/// The gateway online with readings from its meter.
fn start_with_meters(dev: &str, setup: impl FnOnce(&mut cems_workbench::sim::SimConfig)) -> (Harness<'static, State>, Bench) {
    let (mut harness, bench) = device_bench::start(dev, setup);
    let k = key(dev);
    run_until(&mut harness, "points and meter readings reported", |h| {
        h.state().engine.state.gateways().get(&k).is_some_and(|g| g.subs.get("meter-1").is_some_and(|s| !s.meters.is_empty() && s.points.contains_key("Ua")))
    });
    (harness, bench)
}

#[test]
fn a_point_row_plots_its_series_by_button_menu_and_plot_all() {
    const DEV: &str = "GW-DPLOT-P";
    let (mut harness, _bench) = start_with_meters(DEV, |_| {});
    open_tab(&mut harness, &key(DEV), "Points");
    harness.state_mut().commands.clear();

    // The first row's button: the first point of the first sub-device shown.
    let first = {
        let state = harness.state();
        let gateways = state.engine.state.gateways();
        let page = DeviceView::of(gateways.get(&key(DEV)).expect("record"), &state.models, Lang::En);
        let sub = page.subs.first().expect("a sub-device");
        point(DEV, &sub.id, &sub.points.first().expect("a point").pid)
    };
    let buttons: Vec<_> = harness.query_all_by_label(PLOT_ICON).collect();
    assert!(buttons.len() > 10, "every numeric point has a plot button: {}", buttons.len());
    buttons[0].click();
    harness.run();
    assert_eq!(take_plots(&mut harness), vec![(first, None)], "added to the plot last used");

    // The row's right-click menu: to the plot last used, or to a new one.
    harness.get_by_label("Phase A voltage").click_secondary();
    harness.run();
    assert!(has_text(&harness, "Add to plot"), "the menu offers the plot last used");
    harness.get_by_label("Add to new plot").click();
    harness.run();
    assert_eq!(take_plots(&mut harness), vec![(point(DEV, "meter-1", "Ua"), Some(NEW_PLOT))]);
    assert!(harness.query_by_label("Add to new plot").is_none(), "the menu closed");

    // Every numeric point of the meter, the first opening a new plot.
    harness.get_by_label("Plot all of meter-1").click();
    harness.run();
    let all = take_plots(&mut harness);
    assert!(all.len() >= 16, "the meter's points: {}", all.len());
    assert_eq!(all[0], (point(DEV, "meter-1", "Ua"), Some(NEW_PLOT)));
    assert!(all[1..].iter().all(|(k, plot)| plot.is_none() && matches!(k, SeriesKey::Point { sub, .. } if sub == "meter-1")), "{all:?}");
}

#[test]
fn the_meters_tab_plots_a_register_and_charts_the_consumption_of_a_period() {
    const DEV: &str = "GW-DPLOT-M";
    let (mut harness, bench) = start_with_meters(DEV, |_| {});
    open_tab(&mut harness, &key(DEV), "Meters");
    harness.state_mut().commands.clear();

    // A register of the latest readings, by its menu.
    harness.get_by_label("Active energy import").click_secondary();
    harness.run();
    harness.get_by_label("Add to plot").click();
    harness.run();
    let sent = take_plots(&mut harness);
    assert_eq!(sent.len(), 1);
    assert!(matches!(&sent[0], (SeriesKey::Meter { pk, dev, register, .. }, None) if pk == PK && dev == DEV && register == "EpImp"), "{sent:?}");

    // A few more freezes (every 200 ms here), then the last hour's readings as a chart.
    let k = key(DEV);
    let first_freeze = harness.state().engine.state.gateways().get(&k).and_then(|g| g.subs.get("meter-1").and_then(|s| s.meters.get("EpImp").map(|m| m.0)));
    run_until(&mut harness, "later freezes", |h| {
        h.state().engine.state.gateways().get(&k).and_then(|g| g.subs.get("meter-1").and_then(|s| s.meters.get("EpImp").map(|m| m.0))).zip(first_freeze).is_some_and(|(now, then)| now >= then + 600)
    });
    harness.get_by_label("Query readings").click();
    serve_until(&mut harness, &bench, "the chart of the period", |h| has_text(h, " intervals of "));
    assert!(has_text(&harness, "Consumption per interval [kWh]"));
    assert!(has_text(&harness, "Consumption per interval [kvarh]"), "another unit, another chart");
    assert!(has_text(&harness, " charts"));
    assert!(!has_text(&harness, "No reading in this period"));

    // The table is one click away and the chart comes back.
    harness.get_by_label("Table").click();
    harness.run();
    assert!(!has_text(&harness, "Consumption per interval"));
    assert_eq!(harness.query_all_by_label("Freeze time").count(), 2, "the latest readings' and the period's tables");
    harness.get_by_label("Chart").click();
    harness.run();
    assert!(has_text(&harness, "Consumption per interval [kWh]"));
}

#[test]
fn an_empty_period_says_so_instead_of_an_empty_chart() {
    const DEV: &str = "GW-DPLOT-E";
    // The gateway's clock runs two days behind: its freezes are none of our last hour.
    let (mut harness, bench) = start_with_meters(DEV, |sim| sim.clock_skew_ms = -2 * 86_400_000);
    open_tab(&mut harness, &key(DEV), "Meters");
    harness.state_mut().commands.clear();
    harness.get_by_label("Query readings").click();
    serve_until(&mut harness, &bench, "the reply", |h| h.query_by_label("0 readings").is_some());
    assert!(has_text(&harness, "No reading in this period: nothing to chart."));
    assert!(!has_text(&harness, "Consumption per interval"));

    // In Chinese too.
    harness.state_mut().lang = Lang::Zh;
    harness.run();
    assert!(has_text(&harness, "该时段没有读数"));
}
