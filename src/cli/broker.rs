//! `broker`: the embedded MQTT broker on its own, for other tools and gateways to join.

use std::net::SocketAddr;
use std::process::ExitCode;

use crate::transport::broker::{BrokerConfig, EmbeddedBroker};

use super::session::{EXIT_LINK, runtime};

pub fn run(listen: SocketAddr) -> ExitCode {
    let rt = match runtime() {
        Ok(rt) => rt,
        Err(code) => return code,
    };
    rt.block_on(async move {
        let config = BrokerConfig { listen, ..BrokerConfig::default() };
        let broker = match EmbeddedBroker::start(config.clone()).await {
            Ok(b) => b,
            Err(e) => {
                eprintln!("error: {e}");
                return ExitCode::from(EXIT_LINK);
            }
        };
        let addr = broker.local_addr();
        // The broker checks no credentials: anyone who can reach it can speak for any gateway.
        if !addr.ip().is_loopback() {
            eprintln!("warning: listening on {addr}: reachable from other machines; devices are not authenticated");
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
