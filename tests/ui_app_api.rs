//! The App API in the window (issue 17) under egui_kittest: the whole window on a real engine
//! that sees a simulated gateway over the embedded broker, serving the App API from its own
//! state on a free loopback port with the fixture's apps file; the tab calls it (the signed
//! headers and the answer's rows shown), a wrong secret shows code 1005, the probe runs with
//! every check passing; a taken port, a non-loopback address and a bad apps file are said, not
//! served; the Settings switch starts and stops the server.

mod app_api_support;

use std::time::{Duration, Instant};

use cems_workbench::api::Site;
use cems_workbench::api::catalog::site_view;
use cems_workbench::engine::{Engine, EngineConfig};
use cems_workbench::protocol::app_api::{Family, Interface, Shape};
use cems_workbench::protocol::model::{Lang, ModelSet};
use cems_workbench::sim::{self, SimConfig, SimHandle};
use cems_workbench::transport::LinkConfig;
use cems_workbench::transport::broker::{BrokerConfig, EmbeddedBroker};
use cems_workbench::transport::mqtt::MqttConfig;
use cems_workbench::ui::app::{Startup, Tab, WorkbenchApp};
use cems_workbench::ui::settings::Settings;
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;

const PK: &str = "PK-GW-01";
const DEV: &str = "GW-API";

/// What must outlive the frames; the runtime last.
struct Bench {
    _sim: Option<SimHandle>,
    _broker: EmbeddedBroker,
    _files: tempfile::TempDir,
    _rt: tokio::runtime::Runtime,
}

fn start(listen: &str, with_sim: bool, serve: bool) -> (Harness<'static, WorkbenchApp>, Bench) {
    start_with_apps(listen, with_sim, serve, &app_api_support::apps_json().to_string())
}

fn start_with_apps(listen: &str, with_sim: bool, serve: bool, apps_text: &str) -> (Harness<'static, WorkbenchApp>, Bench) {
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().worker_threads(2).build().expect("test runtime");
    let broker = rt.block_on(EmbeddedBroker::start(BrokerConfig::ephemeral())).expect("embedded broker");
    let url = broker.url();
    let files = tempfile::tempdir().expect("temp dir");
    let apps = files.path().join("api-apps.json");
    std::fs::write(&apps, apps_text).expect("apps file");
    let _entered = rt.enter();
    let (engine, events) = Engine::spawn_with(EngineConfig::default(), || {}).expect("engine");
    let sim = with_sim.then(|| {
        let mut config = SimConfig::new(ModelSet::builtin(), PK, DEV, LinkConfig::Mqtt(MqttConfig::new(url.clone(), "x")), files.path().to_path_buf());
        config.report_period_ms = Some(200);
        sim::spawn(config).expect("simulator")
    });
    let settings = Settings {
        lang: Lang::En,
        start_broker: false,
        start_demo: false,
        api_serve: serve,
        api_listen: listen.to_owned(),
        api_apps_file: apps.display().to_string(),
        history_path: files.path().join("history.db").display().to_string(),
        ..Settings::default()
    };
    let link = Some((LinkConfig::Mqtt(MqttConfig::new(url, "wb-ui-app-api")), "lab".to_owned()));
    let harness = Harness::builder()
        .with_size(egui::vec2(1400.0, 3000.0))
        .build_eframe(move |cc| WorkbenchApp::new(&cc.egui_ctx, engine, events, ModelSet::builtin(), settings, Startup { link, ..Startup::default() }));
    drop(_entered);
    (harness, Bench { _sim: sim, _broker: broker, _files: files, _rt: rt })
}

/// Runs frames, letting the engine and the server work in between, until `done` holds.
fn run_until(harness: &mut Harness<'static, WorkbenchApp>, what: &str, seconds: u64, mut done: impl FnMut(&mut Harness<'static, WorkbenchApp>) -> bool) {
    let deadline = Instant::now() + Duration::from_secs(seconds);
    loop {
        harness.run_steps(2);
        if done(harness) {
            harness.run_steps(2);
            return;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(30));
    }
}

fn shows_containing(harness: &Harness<'static, WorkbenchApp>, wanted: &str) -> bool {
    harness.query_all_by_label_contains(wanted).next().is_some()
}

fn click(harness: &mut Harness<'static, WorkbenchApp>, label: &str) {
    harness.query_all_by_label(label).next().unwrap_or_else(|| panic!("no {label:?} shown")).click();
    harness.run_steps(2);
}

fn type_into(harness: &mut Harness<'static, WorkbenchApp>, label: &str, text: &str) {
    let field = harness.get_by_label(label);
    field.focus();
    field.type_text(text);
    harness.run_steps(2);
}

/// Waits for the call in flight to be answered.
fn answered(harness: &mut Harness<'static, WorkbenchApp>) {
    run_until(harness, "the answer", 15, |h| !h.state().app_api().busy() && h.state().app_api().last().is_some());
}

#[test]
fn the_tab_calls_the_windows_own_server_and_probes_it() {
    let (mut harness, _bench) = start("127.0.0.1:0", true, true);
    run_until(&mut harness, "the server to listen", 10, |h| h.state().app_api().serving.url().is_some());
    let url = harness.state().app_api().serving.url().map(str::to_owned).unwrap_or_default();
    assert!(url.starts_with("http://127.0.0.1:") && url.ends_with("/api") && !url.contains(":0/"), "{url}");
    // The simulated gateway's points, as the window's own server will list them.
    run_until(&mut harness, "the gateway's points", 15, |h| {
        let app = h.state();
        site_view(&app.engine().state, app.models(), &Site::default_site()).points.iter().any(|p| p.point.point_id.starts_with(&format!("{PK}.{DEV}")) && !p.latest.is_empty())
    });

    click(&mut harness, "App API");
    assert_eq!(harness.state().active_tab(), &Tab::AppApi);
    assert!(shows_containing(&harness, &format!("App API serving on {url}")), "no serving line");
    type_into(&mut harness, "App id", app_api_support::APP);
    type_into(&mut harness, "Secret", app_api_support::SECRET);
    assert!(!shows_containing(&harness, app_api_support::SECRET), "the secret is shown in clear");

    // 7.1 on the window's own server: the site's fields as rows, and the signed headers.
    click(&mut harness, "Send");
    answered(&mut harness);
    let exchange = match harness.state().app_api().last() {
        Some(Ok(exchange)) => exchange.clone(),
        other => panic!("no exchange: {other:?}"),
    };
    assert_eq!((exchange.reply.status, exchange.path.as_str()), (200, "/api/cems/GetCemsStaticData"));
    assert!(shows_containing(&harness, "code 0"), "no success line");
    assert!(harness.query_all_by_label("cemsId").count() >= 2, "no cemsId row");
    assert!(harness.query_all_by_label("site-1").next().is_some() && harness.query_all_by_label("Bench 3").next().is_some(), "the site's rows are missing");
    click(&mut harness, "Request");
    assert!(harness.query_all_by_label("X-Cems-Signature").next().is_some(), "no signature header");
    assert!(harness.query_all_by_label(&exchange.headers.signature).next().is_some(), "the signature's value is not shown");
    assert!(harness.query_all_by_label(&exchange.headers.nonce).next().is_some(), "the nonce is not shown");

    // 7.2: the points as rows, the simulated gateway among them.
    harness.state_mut().app_api_mut().form.interface = Interface { family: Family::Static, shape: Shape::CemsFull };
    harness.run_steps(2);
    click(&mut harness, "Send");
    answered(&mut harness);
    assert!(harness.query_all_by_label("pointId").next().is_some(), "no pointId column");
    assert!(harness.query_all_by_label(&format!("{PK}.{DEV}")).next().is_some(), "the gateway's point row is missing");

    // A wrong secret: the server's code is shown.
    harness.state_mut().app_api_mut().form.secret = "not-the-secret".to_owned();
    click(&mut harness, "Send");
    answered(&mut harness);
    assert!(shows_containing(&harness, "HTTP 401") && shows_containing(&harness, "code 1005"), "the signature error is not shown");

    // The probe on our own server: every check passes.
    harness.state_mut().app_api_mut().form.secret = app_api_support::SECRET.to_owned();
    click(&mut harness, "Run probe");
    run_until(&mut harness, "the probe's report", 60, |h| h.state().app_api().report().is_some() && !h.state().app_api().busy());
    let report = match harness.state().app_api().report() {
        Some(Ok(report)) => report.clone(),
        other => panic!("no report: {other:?}"),
    };
    let failed: Vec<String> = report.failed().map(|c| format!("{} {}: {}", c.interface, c.aspect, c.problems.join("; "))).collect();
    assert!(failed.is_empty(), "failed checks:\n{}", failed.join("\n"));
    assert!(report.checks.len() > 24, "{} checks", report.checks.len());
    assert!(shows_containing(&harness, &format!("{} checks, 0 failed", report.checks.len())), "no summary");
    assert!(harness.query_all_by_label("GetCemsFullDynamicData").next().is_some(), "no interface row");
    assert!(harness.query_all_by_label("pass").count() >= report.checks.len(), "not every check reads pass");

    // Switched off: the port is let go.
    harness.state_mut().apply(vec![cems_workbench::ui::UiCommand::ServeAppApi(false)]);
    harness.run_steps(2);
    assert!(harness.state().app_api().serving.url().is_none());
    let addr = url.trim_start_matches("http://").trim_end_matches("/api").to_owned();
    run_until(&mut harness, "the port to be free", 5, |_| std::net::TcpListener::bind(&addr).is_ok());
}

#[test]
fn a_taken_port_a_network_address_and_a_bad_apps_file_are_said() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("a port");
    let addr = taken.local_addr().expect("its address").to_string();
    let (mut harness, _bench) = start(&addr, false, true);
    run_until(&mut harness, "the bind to fail", 10, |h| h.state().app_api().serving.error().is_some());
    let error = harness.state().app_api().serving.error().unwrap_or_default().to_owned();
    assert!(error.contains(&format!("cannot listen on {addr}")), "{error}");
    click(&mut harness, "App API");
    assert!(shows_containing(&harness, "The App API is not served: cannot listen on"), "the error is not shown");

    drop(harness);
    let (mut harness2, _bench2) = start("0.0.0.0:8686", false, true);
    run_until(&mut harness2, "the refusal", 5, |h| h.state().app_api().serving.error().is_some());
    let error = harness2.state().app_api().serving.error().unwrap_or_default().to_owned();
    assert!(error.contains("not a loopback address"), "{error}");
    drop(harness2);

    let (mut harness3, _bench3) = start_with_apps("127.0.0.1:0", false, true, r#"{"apps": [{"appId": "a b", "secret": "s"}]}"#);
    run_until(&mut harness3, "the apps file refused", 5, |h| h.state().app_api().serving.error().is_some());
    let error = harness3.state().app_api().serving.error().unwrap_or_default().to_owned();
    assert!(error.contains("apps file") && error.contains("appId \"a b\""), "{error}");
}

#[test]
fn the_settings_switch_starts_and_stops_serving() {
    let (mut harness, _bench) = start("127.0.0.1:0", false, false);
    harness.run_steps(2);
    assert!(harness.state().app_api().serving.url().is_none() && harness.state().app_api().serving.error().is_none());
    click(&mut harness, "Settings");
    assert!(shows_containing(&harness, "The App API is not served from this window."));
    click(&mut harness, "Serve the App API from this window");
    run_until(&mut harness, "the server to listen", 10, |h| h.state().app_api().serving.url().is_some());
    assert!(harness.state().settings().api_serve, "the switch is not kept in the settings");
    let url = harness.state().app_api().serving.url().map(str::to_owned).unwrap_or_default();
    assert!(shows_containing(&harness, &format!("App API serving on {url}")), "the popup does not say where it serves");
    click(&mut harness, "Serve the App API from this window");
    assert!(!harness.state().settings().api_serve);
    assert!(harness.state().app_api().serving.url().is_none(), "still serving");
    assert!(shows_containing(&harness, "The App API is not served from this window."));
}

#[test]
fn sites_are_edited_in_the_settings_and_served() {
    let (mut harness, _bench) = start("127.0.0.1:0", true, false);
    run_until(&mut harness, "the gateway", 15, |h| h.state().engine().state.gateways().iter().any(|g| g.key.dev == DEV));
    click(&mut harness, "Settings");
    click(&mut harness, "Sites (0)");
    assert!(shows_containing(&harness, "those of the apps file are served"));
    click(&mut harness, "Add site");
    assert_eq!(harness.state().settings().api_sites.len(), 1);
    type_into(&mut harness, "Name", "Plant 东区");
    type_into(&mut harness, "Timezone", "+09:00");
    click(&mut harness, &format!("{PK}/{DEV}"));
    click(&mut harness, "Serve the App API from this window");
    run_until(&mut harness, "the server to listen", 10, |h| h.state().app_api().serving.url().is_some());
    let sites = harness.state().app_api().serving.running().map(|r| r.sites.clone()).unwrap_or_default();
    assert_eq!(sites.len(), 1, "{sites:?}");
    assert_eq!((sites[0].cems_id.as_str(), sites[0].name.as_str()), ("site-1", "Plant 东区"));
    assert_eq!(sites[0].gateways.as_deref(), Some(&[format!("{PK}/{DEV}")][..]));
    assert!(sites[0].holds(PK, DEV) && !sites[0].holds(PK, "OTHER"));
    assert_eq!(sites[0].timezone.to_string(), "+09:00");

    // A wrong timezone is said when the server restarts, and nothing is served.
    type_into(&mut harness, "Timezone", "x");
    click(&mut harness, "Restart the App API with these settings");
    run_until(&mut harness, "the refusal", 5, |h| h.state().app_api().serving.error().is_some());
    let error = harness.state().app_api().serving.error().unwrap_or_default().to_owned();
    assert!(error.contains("timezone") && error.contains("+09:00x"), "{error}");
}

#[test]
fn an_https_server_takes_a_ca_file() {
    let (mut harness, bench) = start("127.0.0.1:0", false, false);
    click(&mut harness, "App API");
    assert!(harness.query_all_by_label("CA certificate").next().is_none(), "a CA field for plain HTTP");
    type_into(&mut harness, "URL", "https://127.0.0.1:1/api");
    let missing = bench._files.path().join("no-such-ca.pem");
    type_into(&mut harness, "CA certificate", &missing.display().to_string());
    type_into(&mut harness, "App id", app_api_support::APP);
    type_into(&mut harness, "Secret", app_api_support::SECRET);
    click(&mut harness, "Send");
    let error = match harness.state().app_api().last() {
        Some(Err(error)) => error.clone(),
        other => panic!("the CA file was not used: {other:?}"),
    };
    assert!(error.contains("cannot read CA file") && error.contains("no-such-ca.pem"), "{error}");
    assert!(shows_containing(&harness, "no-such-ca.pem"));
}
