//! The whole workbench window under egui_kittest, without a display: the embedded broker on a
//! free port, the demo gateway, the language and theme switches, and the status bar.

use std::net::{Ipv4Addr, SocketAddr};
use std::time::{Duration, Instant};

use cems_workbench::engine::store::StoreLimits;
use cems_workbench::engine::{Engine, EngineConfig, GatewayKey};
use cems_workbench::protocol::model::{Lang, ModelSet};
use cems_workbench::transport::LinkState;
use cems_workbench::ui::{ThemeChoice, UiCommand};
use cems_workbench::ui::app::{Startup, Tab, WorkbenchApp};
use cems_workbench::ui::local::{DEMO_DEV, DEMO_PK, LocalPlan, start_local};
use cems_workbench::ui::repaint::RepaintSignal;
use cems_workbench::ui::settings::Settings;
use egui_kittest::Harness;
use egui::accesskit::Role;
use egui_kittest::kittest::{NodeT, Queryable};

/// A runtime for the engine, the broker and the sim; frames run on the test's thread.
fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread().enable_all().worker_threads(2).build().expect("test runtime")
}

/// The app on a fresh engine, with the embedded broker on a free port and the demo gateway when
/// `local`, as `launch::run` builds it.
fn app(rt: &tokio::runtime::Runtime, settings: Settings, local: bool, limits: StoreLimits) -> Harness<'static, WorkbenchApp> {
    let _entered = rt.enter();
    let repaint = RepaintSignal::default();
    let notify = repaint.clone();
    let config = EngineConfig { store_limits: limits, ..EngineConfig::default() };
    let (engine, events) = Engine::spawn_with(config, move || notify.request()).expect("engine");
    let models = ModelSet::builtin();
    let plan = LocalPlan { listen: SocketAddr::from((Ipv4Addr::LOCALHOST, 0)), demo: true, devices_file: None, tls_dir: None };
    let local = local.then(|| start_local(rt.handle(), plan, models.clone(), repaint.clone()));
    Harness::builder().with_size(egui::vec2(1280.0, 800.0)).build_eframe(move |cc| {
        repaint.set(&cc.egui_ctx);
        WorkbenchApp::new(&cc.egui_ctx, engine, events, models, settings, Startup { link: None, local, ..Startup::default() })
    })
}

/// Runs frames, letting the engine and the sim work in between, until `done` holds.
fn run_until(harness: &mut Harness<'static, WorkbenchApp>, timeout: Duration, what: &str, done: impl Fn(&Harness<'static, WorkbenchApp>) -> bool) {
    let deadline = Instant::now() + timeout;
    loop {
        harness.run_steps(2);
        if done(harness) {
            return;
        }
        assert!(Instant::now() < deadline, "timed out after {timeout:?} waiting for {what}");
        std::thread::sleep(Duration::from_millis(30));
    }
}

/// What a node shows: a label's text is its value in AccessKit, a widget's is its label.
fn text(node: &egui_kittest::Node<'_>) -> Option<String> {
    let node = node.accesskit_node();
    if node.role() == egui::accesskit::Role::Label { node.value() } else { node.label() }
}

fn english() -> Settings {
    Settings { lang: Lang::En, ..Settings::default() }
}

#[test]
fn the_demo_gateway_comes_online_on_the_embedded_broker() {
    let rt = runtime();
    let mut harness = app(&rt, english(), true, StoreLimits::default());
    run_until(&mut harness, Duration::from_secs(15), "the link to the embedded broker", |h| {
        h.state().sessions().values().any(|s| s.state == LinkState::Up)
    });
    let addr = harness.state().broker_addr().expect("the broker listens");
    harness.run_steps(2);
    harness.get_by_label(&format!("● mqtt://{addr}: connected"));

    let key = GatewayKey { pk: DEMO_PK.into(), dev: DEMO_DEV.into() };
    run_until(&mut harness, Duration::from_secs(15), "the demo gateway online", |h| {
        let online = h.state().engine().state.gateways().get(&key).is_some_and(|g| g.online == Some(true));
        // Shown by the gateways list in the left column (the topic tree names it too).
        let left = h.state().settings().left_panel_width;
        let in_left = |n: &egui_kittest::Node<'_>| n.rect().max.x <= left + 1.0;
        let listed = h.query_all_by_label_contains(DEMO_DEV).any(|n| in_left(&n));
        let shown_online = h.query_all_by_label_contains("online").any(|n| in_left(&n) && !text(&n).is_some_and(|t| t.contains("offline")));
        online && listed && shown_online
    });
    harness.check_accessibility();
}

#[test]
fn the_language_switches_to_chinese_and_back() {
    let rt = runtime();
    let mut harness = app(&rt, english(), false, StoreLimits::default());
    harness.run_steps(2);
    harness.get_by_label("Settings");
    harness.get_by_label("中文").click();
    harness.run_steps(2);
    assert_eq!(harness.state().settings().lang, Lang::Zh);
    harness.get_by_label("设置");
    harness.get_by_label("主题");
    assert!(harness.query_by_label("Settings").is_none());
    // The English button keeps its own name in either language.
    harness.get_by_label("English").click();
    harness.run_steps(2);
    harness.get_by_label("Settings");
    assert_eq!(harness.state().settings().lang, Lang::En);
}

#[test]
fn the_theme_switches_between_dark_and_light() {
    let rt = runtime();
    let mut harness = app(&rt, english(), false, StoreLimits::default());
    harness.run_steps(2);
    assert_eq!(harness.ctx.theme(), egui::Theme::Dark);
    harness.get_by_label("Light").click();
    harness.run_steps(2);
    assert_eq!(harness.state().settings().theme, ThemeChoice::Light);
    assert_eq!(harness.ctx.theme(), egui::Theme::Light);
    harness.get_by_label("Dark").click();
    harness.run_steps(2);
    assert_eq!(harness.ctx.theme(), egui::Theme::Dark);
}

#[test]
fn the_settings_popup_holds_the_start_up_switches() {
    let rt = runtime();
    let mut harness = app(&rt, english(), false, StoreLimits::default());
    harness.run_steps(2);
    harness.get_by_label("Settings").click();
    harness.run_steps(2);
    harness.get_by_label("Start the demo gateway").click();
    harness.run_steps(2);
    assert!(!harness.state().settings().start_demo);
    assert!(harness.state().settings().start_broker);
    harness.get_by_label("Start the embedded broker").click();
    harness.run_steps(2);
    assert!(!harness.state().settings().start_broker);
}

/// With tiny store caps the demo's first messages are already dropped and truncated, and the
/// status bar says so.
#[test]
fn the_status_bar_shows_what_the_store_dropped() {
    let rt = runtime();
    let limits = StoreLimits { per_topic_count: 1, per_topic_bytes: 64, total_bytes: 4 * 1024, max_payload_bytes: 32 };
    let mut harness = app(&rt, english(), true, limits);
    harness.run_steps(2);
    let count = |h: &Harness<'static, WorkbenchApp>, prefix: &str| -> u64 {
        h.query_by_label_contains(prefix)
            .and_then(|n| text(&n))
            .and_then(|l| l.trim_start_matches(prefix).trim().parse().ok())
            .unwrap_or(0)
    };
    run_until(&mut harness, Duration::from_secs(20), "evictions and truncations in the status bar", |h| {
        count(h, "Evicted:") > 0 && count(h, "Truncated:") > 0
    });
    let stats = harness.state().engine().state.store().stats();
    assert!(count(&harness, "Evicted:") <= stats.evicted);
    assert!(count(&harness, "Truncated:") <= stats.truncated);
    // Clearing the store is a command the app applies.
    let received = stats.received;
    harness.state_mut().apply(vec![UiCommand::ClearStore]);
    run_until(&mut harness, Duration::from_secs(5), "the store cleared", |h| h.state().engine().state.store().stats().received < received);
}

/// Choosing a gateway opens its device tab with a page of its own; the tab's × drops the page,
/// so opening it again starts afresh (the sub-tab chosen before is gone with it).
#[test]
fn a_device_tab_has_its_own_page_and_closing_it_drops_the_page() {
    let rt = runtime();
    let mut harness = app(&rt, english(), true, StoreLimits::default());
    let key = GatewayKey { pk: DEMO_PK.into(), dev: DEMO_DEV.into() };
    let row = format!("{DEMO_PK}/{DEMO_DEV}");
    run_until(&mut harness, Duration::from_secs(15), "the demo gateway in the gateways list", |h| {
        h.state().engine().state.gateways().get(&key).is_some() && h.query_by_role_and_label(Role::Button, &row).is_some()
    });
    assert!(harness.state().device_pages().is_empty());

    harness.get_by_role_and_label(Role::Button, &row).click();
    harness.run_steps(2);
    let pages: Vec<_> = harness.state().device_pages().iter().map(|p| p.key().clone()).collect();
    assert_eq!(pages, vec![key.clone()]);
    assert_eq!(harness.state().active_tab(), &Tab::Device(key.clone()));
    let first = harness.state().device_pages()[0].tab_ids()[0];
    assert_eq!(harness.state().device_pages()[0].active_tab_id(), first);
    // Choosing it again shows the same page, not a second one.
    harness.get_by_role_and_label(Role::Button, &row).click();
    harness.run_steps(2);
    assert_eq!(harness.state().device_pages().len(), 1);

    // Some view state on the page: another sub-tab.
    harness.get_by_label("Logs").click();
    harness.run_steps(2);
    assert_eq!(harness.state().device_pages()[0].active_tab_id(), "logs");

    // The × beside the tab's name, in the central tab bar.
    let tab = harness.get_by_role_and_label(Role::Button, DEMO_DEV).rect();
    let close = harness
        .query_all_by_label("×")
        .find(|n| n.rect().min.x >= tab.max.x - 1.0 && n.rect().center().y > tab.min.y && n.rect().center().y < tab.max.y)
        .expect("a close button beside the device tab");
    close.click();
    harness.run_steps(2);
    assert!(harness.state().device_pages().is_empty(), "closing the tab drops its page");
    assert_eq!(harness.state().active_tab(), &Tab::Topics);
    assert!(harness.query_by_role_and_label(Role::Button, DEMO_DEV).is_none(), "the tab is gone");

    harness.get_by_role_and_label(Role::Button, &row).click();
    harness.run_steps(2);
    assert_eq!(harness.state().device_pages().len(), 1);
    assert_eq!(harness.state().device_pages()[0].active_tab_id(), first, "a new page, not the old one");
}

/// With a devices file and TLS, the window logs in as a master made up for the run and the demo
/// gateway signs in with a made-up secret, both over TLS trusting the kept certificate; a
/// restart with the settings' (open, plain) choice closes the old session and opens one on the
/// new broker.
#[test]
fn the_window_and_the_demo_get_into_a_locked_tls_broker_and_a_restart_applies_the_settings() {
    let rt = runtime();
    let dir = tempfile::tempdir().unwrap();
    let devices = dir.path().join("devices.json");
    std::fs::write(&devices, r#"{"devices": [{"pk": "PK-OTHER", "dev": "GW-9", "secret": "s"}]}"#).unwrap();
    let _entered = rt.enter();
    let repaint = RepaintSignal::default();
    let notify = repaint.clone();
    let (engine, events) = Engine::spawn_with(EngineConfig::default(), move || notify.request()).expect("engine");
    let models = ModelSet::builtin();
    let plan = LocalPlan {
        listen: SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
        demo: true,
        devices_file: Some(devices),
        tls_dir: Some(dir.path().join("tls")),
    };
    let local = Some(start_local(rt.handle(), plan, models.clone(), repaint.clone()));
    let mut harness = Harness::builder().with_size(egui::vec2(1280.0, 800.0)).build_eframe(move |cc| {
        repaint.set(&cc.egui_ctx);
        WorkbenchApp::new(&cc.egui_ctx, engine, events, models, english(), Startup { link: None, local, ..Startup::default() })
    });
    let key = GatewayKey { pk: DEMO_PK.into(), dev: DEMO_DEV.into() };
    run_until(&mut harness, Duration::from_secs(20), "window and demo inside the locked TLS broker", |h| {
        let up = h.state().sessions().values().any(|s| s.state == LinkState::Up && s.target.starts_with("mqtts://"));
        up && h.state().engine().state.gateways().get(&key).is_some_and(|g| g.online == Some(true))
    });
    assert!(dir.path().join("tls").join("broker-cert.pem").is_file(), "the certificate is kept");
    let first = harness.state().broker_addr().expect("listening");

    harness.state_mut().apply(vec![UiCommand::RestartLocal]);
    run_until(&mut harness, Duration::from_secs(20), "one plain session on the restarted broker", |h| {
        let sessions: Vec<_> = h.state().sessions().values().collect();
        sessions.len() == 1 && sessions[0].state == LinkState::Up && sessions[0].target.starts_with("mqtt://")
    });
    assert!(harness.state().broker_addr().is_some(), "a broker listens after the restart (was {first})");
    assert!(harness.state().notices().any(|n| n.text.contains("Restarting the embedded broker")), "the restart is told");
}
