//! `broker`: the embedded MQTT broker on its own, for other tools and gateways to join.

use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::process::ExitCode;

use crate::config::broker_tls;
use crate::config::profiles::ProfileStore;
use crate::transport::broker::{BrokerConfig, Devices, EmbeddedBroker, tls_server_config};

use super::session::{EXIT_LINK, EXIT_USAGE, runtime};

/// The broker's own port for plain MQTT and for TLS (IANA's 1883 and 8883).
const MQTT_PORT: u16 = 1883;
const MQTTS_PORT: u16 = 8883;

#[derive(Debug, clap::Args)]
pub struct BrokerArgs {
    /// Address to listen on (default 127.0.0.1:1883, or :8883 with TLS); port 0 picks a free port.
    #[arg(long)]
    listen: Option<SocketAddr>,
    /// JSON file of who may connect: {"devices": [{"pk","dev","secret"}], "masters": [{"user","password"}]}.
    /// Devices sign per contract §6 and may touch only their own up/# and down/#; without it
    /// anyone may connect and publish anything.
    #[arg(long)]
    devices: Option<PathBuf>,
    /// Speak TLS (mqtts://) with a self-signed certificate made on first use and kept in the
    /// config folder; its path is printed, for clients' --ca.
    #[arg(long)]
    tls: bool,
    /// TLS with this certificate chain (PEM) instead of the self-signed one; needs --tls-key.
    #[arg(long, requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// The private key (PEM) of --tls-cert.
    #[arg(long, requires = "tls_cert")]
    tls_key: Option<PathBuf>,
}

impl BrokerArgs {
    fn wants_tls(&self) -> bool {
        self.tls || self.tls_cert.is_some()
    }

    fn listen(&self) -> SocketAddr {
        let port = if self.wants_tls() { MQTTS_PORT } else { MQTT_PORT };
        self.listen.unwrap_or(SocketAddr::from((Ipv4Addr::LOCALHOST, port)))
    }
}

/// The certificate and key to serve: given ones, or the kept self-signed one (made when missing).
fn tls_files(args: &BrokerArgs, listen: SocketAddr) -> Result<(PathBuf, PathBuf), String> {
    if let (Some(cert), Some(key)) = (&args.tls_cert, &args.tls_key) {
        return Ok((cert.clone(), key.clone()));
    }
    let dir = ProfileStore::default_dir().ok_or("no config folder to keep the broker's certificate in; give --tls-cert and --tls-key")?;
    let files = broker_tls::ensure_self_signed(&dir, listen.ip()).map_err(|e| format!("{e:#}"))?;
    let state = if files.made { "made" } else { "kept" };
    eprintln!("TLS certificate ({state}, self-signed for {}): {}", files.names.join(", "), files.cert.display());
    if listen.ip().is_unspecified() {
        eprintln!("note: the certificate names no address of this machine; clients elsewhere connect by one of those names, or listen on a specific address");
    }
    Ok((files.cert, files.key))
}

pub fn run(args: &BrokerArgs) -> ExitCode {
    let listen = args.listen();
    // Read before anything listens: a broken devices file must not leave an open broker behind.
    let devices = match args.devices.as_deref().map(Devices::load).transpose() {
        Ok(devices) => devices,
        Err(e) => {
            eprintln!("error: devices file {e}");
            return ExitCode::from(EXIT_USAGE);
        }
    };
    let tls = if args.wants_tls() {
        let loaded = tls_files(args, listen).and_then(|(cert, key)| tls_server_config(&cert, &key).map_err(|e| e.to_string()));
        match loaded {
            Ok(config) => Some(config),
            Err(e) => {
                eprintln!("error: {e}");
                return ExitCode::from(EXIT_USAGE);
            }
        }
    } else {
        None
    };
    let rt = match runtime() {
        Ok(rt) => rt,
        Err(code) => return code,
    };
    rt.block_on(async move {
        let config = BrokerConfig { listen, devices, tls, ..BrokerConfig::default() };
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
                if !addr.ip().is_loopback() && devices.master_count() > 0 && config.tls.is_none() {
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
        if config.tls.is_some() {
            eprintln!("clients connect to {} (TLS)", broker.url());
        }
        if let Err(e) = tokio::signal::ctrl_c().await {
            eprintln!("error: cannot wait for Ctrl-C: {e}");
        }
        broker.stop().await;
        ExitCode::SUCCESS
    })
}
