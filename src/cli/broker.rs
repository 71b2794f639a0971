//! `broker`: the embedded MQTT broker on its own, for other tools and gateways to join.

use std::net::SocketAddr;
use std::path::Path;
use std::process::ExitCode;

use crate::transport::broker::{BrokerConfig, Devices, EmbeddedBroker};

use super::session::{EXIT_LINK, EXIT_USAGE, runtime};

pub fn run(listen: SocketAddr, devices_file: Option<&Path>) -> ExitCode {
    // Read before anything listens: a broken devices file must not leave an open broker behind.
    let devices = match devices_file.map(Devices::load).transpose() {
        Ok(devices) => devices,
        Err(e) => {
            eprintln!("error: devices file {e}");
            return ExitCode::from(EXIT_USAGE);
        }
    };
    let rt = match runtime() {
        Ok(rt) => rt,
        Err(code) => return code,
    };
    rt.block_on(async move {
        let config = BrokerConfig { listen, devices, ..BrokerConfig::default() };
        let broker = match EmbeddedBroker::start(config.clone()).await {
            Ok(b) => b,
            Err(e) => {
                eprintln!("error: {e}");
                return ExitCode::from(EXIT_LINK);
            }
        };
        let addr = broker.local_addr();
        match &config.devices {
            Some(devices) => {
                eprintln!("admitting {} from {}; anyone else is refused", devices.summary(), devices.source());
                // The signatures expire, but masters' passwords do not, and neither is encrypted.
                if !addr.ip().is_loopback() && devices.master_count() > 0 {
                    eprintln!("warning: listening on {addr} without TLS: master passwords cross the network in clear");
                }
            }
            // The broker checks no credentials: anyone who can reach it can speak for any gateway.
            None if !addr.ip().is_loopback() => {
                eprintln!("warning: listening on {addr}: reachable from other machines; devices are not authenticated")
            }
            None => {}
        }
        eprintln!("broker limits: {}", config.limits_text());
        // First line on stdout, read by scripts and tests: keep its shape.
        println!("listening on {addr}");
        if let Err(e) = tokio::signal::ctrl_c().await {
            eprintln!("error: cannot wait for Ctrl-C: {e}");
        }
        broker.stop().await;
        ExitCode::SUCCESS
    })
}
