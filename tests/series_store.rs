//! The engine's series store fed by a real engine talking to the simulated demo gateway over the
//! embedded broker: point and meter series from reports and replies, history back-fill marked
//! and merged in order, path series tracked and back-filled from the topic store, retention.

mod common;

use std::time::Duration;

use cems_workbench::engine::series::{SeriesKey, SeriesStore};
use cems_workbench::engine::{GatewayKey, RequestSpec};
use cems_workbench::protocol::model::ModelSet;
use cems_workbench::protocol::time::now_ms;
use cems_workbench::sim::{self, Outage, SimConfig};
use cems_workbench::transport::LinkConfig;
use cems_workbench::transport::mqtt::MqttConfig;
use common::{engine, eventually};
use serde_json::json;

const PK: &str = "PK-GW-01";

fn sim_config(url: &str, dev: &str, files: &std::path::Path) -> SimConfig {
    let mut config = SimConfig::new(ModelSet::builtin(), PK, dev, LinkConfig::Mqtt(MqttConfig::new(url, "x")), files.to_path_buf());
    config.report_period_ms = Some(150);
    config
}

fn len_of(series: &SeriesStore, key: &SeriesKey) -> usize {
    series.get(key).map_or(0, |s| s.len())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn points_meters_replies_and_paths_become_series() {
    let broker = common::broker().await;
    let files = tempfile::tempdir().unwrap();
    let (engine, _events) = engine();
    let session = engine.connect(LinkConfig::Mqtt(MqttConfig::new(broker.url(), "wb-series")), engine.default_session_options("t")).unwrap();
    common::engine_ready(&engine, session).await;
    let sim = sim::spawn(sim_config(&broker.url(), "GW-S", files.path())).unwrap();
    let ua = SeriesKey::point(PK, "GW-S", "meter-1", "Ua");
    let live_tail = |series: &SeriesStore| series.get(&ua).is_some_and(|s| s.len() >= 3 && s.all().history.last() == Some(&false));
    eventually(Duration::from_secs(10), "Ua series from live point reports", || live_tail(&engine.state.series())).await;
    {
        let series = engine.state.series();
        let s = series.get(&ua).unwrap();
        let w = s.all();
        assert!(w.times.windows(2).all(|p| p[0] < p[1]));
        // What the simulator measured before its link came up it sends later as history (slow
        // machines: the first period or two); everything after that is live.
        assert_eq!(w.history.last(), Some(&false), "live reports are live");
        assert!(w.history.windows(2).all(|p| p[0] || !p[1]), "history only before the first live sample: {:?}", w.history);
        assert!(w.values.iter().all(|v| v.is_finite()));
        assert!(series.memory_bytes() > 0 && series.memory_bytes() <= series.limits().total_bytes);
        // Every series belongs to an announced gateway.
        assert!(series.keys().all(|k| k.gateway() == Some((PK, "GW-S"))));
    }

    // A meter/get reply feeds the register series.
    let spec = RequestSpec::new(session, PK, "GW-S", "meter", "get", json!({"from": 0, "to": now_ms() + 60_000}));
    let outcome = engine.call(spec).await.unwrap();
    let reply = outcome.result.unwrap();
    assert_eq!(reply.code, 0);
    let reading = &reply.data["readings"][0];
    let (sub, ts) = (reading["sub"].as_str().unwrap(), reading["ts"].as_i64().unwrap());
    let register = reading["values"].as_object().unwrap().keys().next().unwrap().clone();
    let meter = SeriesKey::meter(PK, "GW-S", sub, &register);
    {
        let series = engine.state.series();
        let s = series.get(&meter).unwrap_or_else(|| panic!("{meter} from the meter/get reply"));
        assert!(s.all().times.contains(&ts), "{ts} in {:?}", s.all().times);
    }

    // A path series: back-filled from what the topic store holds, then fed live.
    let topic = format!("cems/v1/{PK}/GW-S/up/point/report");
    let path = SeriesKey::path(&topic, "/data/points/0/v");
    let held = engine.state.store().find(&topic).map_or(0, |id| engine.state.store().history(id).len());
    assert!(held > 0);
    engine.track_path(&topic, "/data/points/0/v").unwrap();
    eventually(Duration::from_secs(2), "path back-filled", || len_of(&engine.state.series(), &path) >= held.min(2)).await;
    let backfilled = len_of(&engine.state.series(), &path);
    eventually(Duration::from_secs(5), "path fed live", || len_of(&engine.state.series(), &path) > backfilled).await;
    assert!(engine.state.series().is_tracked(&topic, "/data/points/0/v"));
    engine.untrack_path(&topic, "/data/points/0/v").unwrap();
    eventually(Duration::from_secs(2), "path forgotten", || engine.state.series().get(&path).is_none()).await;

    // Retention per series, by sample time.
    engine.set_retention(ua.clone(), 400).unwrap();
    eventually(Duration::from_secs(5), "Ua trimmed to 400 ms", || {
        let series = engine.state.series();
        series.get(&ua).is_some_and(|s| s.retention_ms() == 400 && s.last_ms().zip(s.first_ms()).is_some_and(|(l, f)| l - f <= 400))
    })
    .await;
    sim.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_outage_is_back_filled_as_history_in_order_once() {
    let broker = common::broker().await;
    let files = tempfile::tempdir().unwrap();
    let (engine, _events) = engine();
    engine.connect(LinkConfig::Mqtt(MqttConfig::new(broker.url(), "wb-series-o")), engine.default_session_options("t")).unwrap();
    let mut config = sim_config(&broker.url(), "GW-SO", files.path());
    config.outage = Some(Outage { at_secs: 1.0, for_secs: 2.0 });
    let sim = sim::spawn(config).unwrap();
    let key = GatewayKey { pk: PK.into(), dev: "GW-SO".into() };
    eventually(Duration::from_secs(12), "history acknowledged", || {
        let snap = sim.snapshot();
        snap.online && snap.counters.history_batches_acked >= 1 && snap.history_batches_pending == 0 && engine.state.gateways().history_stats().rows_stored > 0
    })
    .await;
    let ua = SeriesKey::point(&key.pk, &key.dev, "meter-1", "Ua");
    eventually(Duration::from_secs(5), "live samples after the outage", || {
        let series = engine.state.series();
        series.get(&ua).is_some_and(|s| s.all().history.iter().any(|h| *h) && !s.all().history.last().copied().unwrap_or(true))
    })
    .await;
    let times = engine.state.series().get(&ua).unwrap().all().times.to_vec();
    assert!(times.windows(2).all(|p| p[0] < p[1]), "ordered, each time once: {times:?}");
    let widest_gap = times.windows(2).map(|p| p[1] - p[0]).max().unwrap_or(i64::MAX);
    assert!(widest_gap < 1_000, "history filled the outage: a hole of {widest_gap} ms");
    sim.stop().await;
}
