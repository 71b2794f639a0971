//! Link options shared by every command that opens a link: `--broker URL` or `--serial PATH`
//! with their settings.

use std::path::PathBuf;

use anyhow::{Context, bail};
use clap::Args;

use crate::transport::LinkConfig;
use crate::transport::mqtt::MqttConfig;
use crate::transport::serial::{Parity, SerialConfig, SerialSettings};

/// The default broker when neither `--broker` nor `--serial` is given.
pub const DEFAULT_BROKER: &str = "mqtt://127.0.0.1:1883";

#[derive(Debug, Clone, Default, Args)]
pub struct LinkArgs {
    /// Broker URL: mqtt://host[:port] or mqtts://host[:port] [default: mqtt://127.0.0.1:1883]
    #[arg(long, conflicts_with = "serial")]
    pub broker: Option<String>,
    /// Serial port of the gateway's maintenance port, e.g. /dev/ttyUSB0.
    #[arg(long)]
    pub serial: Option<String>,
    /// MQTT username.
    #[arg(long)]
    pub user: Option<String>,
    /// MQTT password.
    #[arg(long)]
    pub password: Option<String>,
    /// MQTT client id [default: chosen per command].
    #[arg(long)]
    pub client_id: Option<String>,
    /// CA certificate (PEM) for mqtts; the system roots otherwise.
    #[arg(long)]
    pub ca: Option<PathBuf>,
    /// Client certificate (PEM) for mqtts.
    #[arg(long)]
    pub cert: Option<PathBuf>,
    /// Client key (PEM) for mqtts.
    #[arg(long)]
    pub key: Option<PathBuf>,
    /// Accept any server certificate (INSECURE: for lab brokers with self-made certificates).
    #[arg(long)]
    pub insecure: bool,
    /// Serial baud rate.
    #[arg(long, default_value_t = 115_200)]
    pub baud: u32,
    /// Serial parity: none, odd or even.
    #[arg(long, default_value = "none")]
    pub parity: String,
    /// Serial data bits (5-8).
    #[arg(long, default_value_t = 8)]
    pub data_bits: u8,
    /// Serial stop bits (1 or 2).
    #[arg(long, default_value_t = 1)]
    pub stop_bits: u8,
}

impl LinkArgs {
    /// The link these options describe; `default_client_id` is used unless `--client-id` is given.
    pub fn to_link_config(&self, default_client_id: &str) -> anyhow::Result<LinkConfig> {
        if let Some(path) = &self.serial {
            let parity = match self.parity.parse::<Parity>() {
                Ok(p) if Parity::SERIAL_LINE.contains(&p) => p,
                _ => bail!("--parity {:?}: expected none, odd or even", self.parity),
            };
            if !(5..=8).contains(&self.data_bits) {
                bail!("--data-bits {}: expected 5 to 8", self.data_bits);
            }
            if !(1..=2).contains(&self.stop_bits) {
                bail!("--stop-bits {}: expected 1 or 2", self.stop_bits);
            }
            let settings = SerialSettings { baud: self.baud, data_bits: self.data_bits, parity, stop_bits: self.stop_bits };
            let mut config = SerialConfig::path(path.clone());
            config.settings = settings;
            return Ok(LinkConfig::Serial(config));
        }
        let url = self.broker.clone().unwrap_or_else(|| DEFAULT_BROKER.to_owned());
        crate::transport::mqtt::parse_broker_url(&url).with_context(|| format!("--broker {url}"))?;
        let mut config = MqttConfig::new(url, self.client_id.clone().unwrap_or_else(|| default_client_id.to_owned()));
        config.username = self.user.clone();
        config.password = self.password.clone();
        config.ca_file = self.ca.clone();
        config.client_cert = self.cert.clone();
        config.client_key = self.key.clone();
        config.insecure = self.insecure;
        if self.cert.is_some() != self.key.is_some() {
            bail!("--cert and --key go together");
        }
        Ok(LinkConfig::Mqtt(config))
    }
}
