//! Status-bar notices and alarm descriptions follow the UI language (issue 11): a notice of the
//! engine and one of the window read in Chinese once 中文 is chosen, also those already shown;
//! an alarm the gateway describes with the model's English name reads as the model's Chinese.

mod device_bench;

use std::time::{Duration, Instant};

use cems_workbench::engine::{Engine, EngineConfig, RequestSpec};
use cems_workbench::protocol::model::{Lang, ModelSet};
use cems_workbench::transport::mqtt::MqttConfig;
use cems_workbench::transport::{LinkConfig, Message};
use cems_workbench::ui::UiCommand;
use cems_workbench::ui::app::{Startup, WorkbenchApp};
use cems_workbench::ui::settings::Settings;
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use serde_json::json;

fn run_until(harness: &mut Harness<'static, WorkbenchApp>, what: &str, done: impl Fn(&Harness<'static, WorkbenchApp>) -> bool) {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        harness.run_steps(2);
        if done(harness) {
            harness.run_steps(2);
            return;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn notices_already_shown_switch_to_chinese_with_the_window() {
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().worker_threads(1).build().expect("runtime");
    let mut harness = {
        let _entered = rt.enter();
        let (engine, events) = Engine::spawn_with(EngineConfig::default(), || {}).expect("engine");
        let settings = Settings { lang: Lang::En, start_broker: false, start_demo: false, ..Settings::default() };
        Harness::builder().with_size(egui::vec2(1600.0, 800.0)).build_eframe(move |cc| {
            WorkbenchApp::new(&cc.egui_ctx, engine, events, ModelSet::builtin(), settings, Startup::default())
        })
    };
    // A read-only session (a live site): nothing gets out, and the engine says so.
    let config = LinkConfig::Mqtt(MqttConfig::new("mqtt://127.0.0.1:1", "wb-lang"));
    harness.state_mut().apply(vec![UiCommand::Connect { config, label: "site".into(), profile: None, read_only: true }]);
    let session = *harness.state().sessions().keys().next().expect("the session is listed");
    let topic = "cems/v1/PK01/GW-A/down/info/get";
    harness.state_mut().apply(vec![UiCommand::Publish { session, message: Message::new(topic, b"{}".to_vec(), 1, false) }]);
    let engine_en = format!("not sent: {topic}: session {session} is read-only");
    run_until(&mut harness, "the engine's notice", |h| h.query_by_label(&engine_en).is_some());

    // A request refused the same way: the window's own notice, around the engine's reason.
    harness.state_mut().apply(vec![UiCommand::Request(RequestSpec::new(session, "PK01", "GW-A", "info", "get", json!({})))]);
    let window_en = format!("PK01/GW-A info/get: session {session} is read-only: nothing is sent");
    run_until(&mut harness, "the request's notice", |h| h.query_by_label(&window_en).is_some());

    harness.state_mut().apply(vec![UiCommand::SetLanguage(Lang::Zh)]);
    harness.run_steps(3);
    let window_zh = format!("PK01/GW-A info/get：会话 {session} 为只读：不发送任何内容");
    harness.get_by_label(&window_zh);
    assert!(harness.query_by_label(&window_en).is_none());
    // The older notice, in the status bar's hover list, reads in Chinese too.
    let texts: Vec<String> = harness.state().notices().map(|n| n.text_in(Lang::Zh)).collect();
    assert!(texts.contains(&format!("未发送：{topic}：会话 {session} 为只读")), "{texts:?}");
    harness.get_by_label(&window_zh).hover();
    harness.run_steps(40);
    harness.get_by_label(&format!("未发送：{topic}：会话 {session} 为只读"));
    drop(harness);
    drop(rt);
}

#[test]
fn an_alarm_described_by_its_english_name_reads_in_chinese() {
    let (mut harness, bench) = device_bench::start("GW-LANG", |_| {});
    harness.state_mut().lang = Lang::Zh;
    let key = bench.key();
    device_bench::run_until(&mut harness, "the gateway online", |h| h.state().engine.state.gateways().get(&key).is_some_and(|g| g.online == Some(true)));
    // Ua of meter-1 past its upper threshold for a minute: the simulator raises overVoltage
    // with the model's English name as its `desc`.
    let forced = bench.sim.with_state(|s| {
        let now = s.now_ms();
        let dev = s.devices.iter_mut().find(|d| d.sub == "meter-1")?;
        Some(dev.points.iter_mut().find(|p| p.pid == "Ua")?.force_excursion(true, now, 60_000))
    });
    assert_eq!(forced, Some(true));
    device_bench::run_until(&mut harness, "overVoltage active", |h| {
        h.state().engine.state.gateways().get(&key).is_some_and(|g| g.alarms.values().any(|a| a.alarm_type == "overVoltage"))
    });
    let sent = harness.state().engine.state.gateways().get(&key).and_then(|g| g.alarms.values().find(|a| a.alarm_type == "overVoltage").and_then(|a| a.desc.clone()));
    assert_eq!(sent.as_deref(), Some("Over-voltage"), "the gateway describes it in English");
    // The overview's type and description columns: both in Chinese.
    assert!(harness.query_all_by_label("过压").count() >= 2, "the type and its description read 过压");
    assert!(harness.query_by_label("Over-voltage").is_none());
}
