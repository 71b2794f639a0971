//! The "New connection" form as plain data: what the user typed, checked and turned into a
//! [`LinkConfig`] or a saved [`Profile`]. No egui here, so every rule has a unit test.

use std::fmt;
use std::path::PathBuf;

use crate::config::profiles::{MqttProfile, PasswordPlace, Profile, ProfileLink, SerialProfile};
use crate::transport::mqtt::{MqttConfig, parse_broker_url};
use crate::transport::serial::{Parity, SerialConfig, SerialSettings};
use crate::transport::{LinkConfig, Subscription, TransportError};

/// Baud rates offered in the serial form.
pub const COMMON_BAUDS: [u32; 11] = [1_200, 2_400, 4_800, 9_600, 19_200, 38_400, 57_600, 115_200, 230_400, 460_800, 921_600];
/// Data bits offered in the serial form.
pub const DATA_BITS: [u8; 4] = [5, 6, 7, 8];
/// Stop bits offered in the serial form.
pub const STOP_BITS: [u8; 2] = [1, 2];
/// The broker URL a new form starts with.
pub const DEFAULT_URL: &str = "mqtt://127.0.0.1:1883";

/// Which kind of link the form describes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LinkChoice {
    #[default]
    Mqtt,
    Serial,
}

/// The MQTT half of the form; path fields are text, empty for "none".
#[derive(Clone, PartialEq)]
pub struct MqttForm {
    pub url: String,
    pub client_id: String,
    pub username: String,
    pub password: String,
    pub ca_file: String,
    pub client_cert: String,
    pub client_key: String,
    pub insecure: bool,
    pub keep_alive_secs: u16,
    /// The loaded profile's own subscriptions: not edited here (each session lists and edits
    /// them), only kept so that saving an edited profile does not lose them.
    pub subscriptions: Vec<Subscription>,
}

impl fmt::Debug for MqttForm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The password stays out of logs.
        f.debug_struct("MqttForm")
            .field("url", &self.url)
            .field("client_id", &self.client_id)
            .field("username", &self.username)
            .field("password", &if self.password.is_empty() { "" } else { "***" })
            .field("ca_file", &self.ca_file)
            .field("client_cert", &self.client_cert)
            .field("client_key", &self.client_key)
            .field("insecure", &self.insecure)
            .field("keep_alive_secs", &self.keep_alive_secs)
            .field("subscriptions", &self.subscriptions)
            .finish()
    }
}

impl Default for MqttForm {
    fn default() -> Self {
        MqttForm {
            url: DEFAULT_URL.into(),
            client_id: default_client_id(),
            username: String::new(),
            password: String::new(),
            ca_file: String::new(),
            client_cert: String::new(),
            client_key: String::new(),
            insecure: false,
            keep_alive_secs: 30,
            subscriptions: Vec::new(),
        }
    }
}

/// The serial half of the form.
#[derive(Debug, Clone, PartialEq)]
pub struct SerialForm {
    pub path: String,
    pub baud: u32,
    pub data_bits: u8,
    pub parity: Parity,
    pub stop_bits: u8,
}

impl Default for SerialForm {
    fn default() -> Self {
        let settings = SerialSettings::default();
        SerialForm { path: String::new(), baud: settings.baud, data_bits: settings.data_bits, parity: settings.parity, stop_bits: settings.stop_bits }
    }
}

/// The whole form: both halves are kept while the user switches between them.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ConnectionForm {
    pub kind: LinkChoice,
    pub mqtt: MqttForm,
    pub serial: SerialForm,
    /// Open the session read-only (a live site): only the master's duties are published.
    pub read_only: bool,
}

/// What is wrong with the form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FormError {
    /// The broker URL does not parse; the text says which part is wrong.
    BadUrl(String),
    EmptyClientId,
    PasswordWithoutUser,
    CertWithoutKey,
    KeyWithoutCert,
    NoPort,
    BadDataBits(u8),
    BadStopBits(u8),
    ZeroBaud,
}

/// `cems-wb-` and six random hex digits: unique enough on one broker.
pub fn default_client_id() -> String {
    let n: u32 = rand::random();
    format!("cems-wb-{:06x}", n & 0xff_ffff)
}

/// Why `url` cannot be used, or `None` when it can.
pub fn url_problem(url: &str) -> Option<String> {
    match parse_broker_url(url) {
        Ok(_) => None,
        Err(TransportError::BadUrl { problem, .. }) => Some(problem),
        Err(other) => Some(other.to_string()),
    }
}

/// The URL asks for TLS (`mqtts://`), even while the rest of it is still being typed.
pub fn wants_tls(url: &str) -> bool {
    url.trim().get(..8).is_some_and(|scheme| scheme.eq_ignore_ascii_case("mqtts://"))
}

fn path_field(text: &str) -> Option<PathBuf> {
    let text = text.trim();
    (!text.is_empty()).then(|| PathBuf::from(text))
}

fn text_field(text: &str) -> Option<String> {
    let text = text.trim();
    (!text.is_empty()).then(|| text.to_owned())
}

fn path_text(path: Option<&PathBuf>) -> String {
    path.map(|p| p.display().to_string()).unwrap_or_default()
}

impl MqttForm {
    /// Everything but the password, checked. TLS settings count only for `mqtts://`: they are
    /// hidden otherwise.
    pub fn to_profile(&self) -> Result<MqttProfile, FormError> {
        if let Some(problem) = url_problem(&self.url) {
            return Err(FormError::BadUrl(problem));
        }
        let client_id = self.client_id.trim();
        if client_id.is_empty() {
            return Err(FormError::EmptyClientId);
        }
        let tls = wants_tls(&self.url);
        let (ca_file, client_cert, client_key) = if tls {
            (path_field(&self.ca_file), path_field(&self.client_cert), path_field(&self.client_key))
        } else {
            (None, None, None)
        };
        let username = text_field(&self.username);
        // MQTT 3.1.1 (3.1.2.9) sends no password without a user name.
        if username.is_none() && !self.password.is_empty() {
            return Err(FormError::PasswordWithoutUser);
        }
        match (&client_cert, &client_key) {
            (Some(_), None) => return Err(FormError::CertWithoutKey),
            (None, Some(_)) => return Err(FormError::KeyWithoutCert),
            _ => {}
        }
        Ok(MqttProfile {
            url: self.url.trim().to_owned(),
            client_id: client_id.to_owned(),
            username,
            password: PasswordPlace::None,
            ca_file,
            client_cert,
            client_key,
            insecure: tls && self.insecure,
            keep_alive_secs: self.keep_alive_secs,
            subscriptions: self.subscriptions.clone(),
        })
    }

    pub fn to_config(&self) -> Result<MqttConfig, FormError> {
        let profile = self.to_profile()?;
        let mut config = MqttConfig::new(profile.url, profile.client_id);
        config.username = profile.username;
        config.password = (!self.password.is_empty()).then(|| self.password.clone());
        config.ca_file = profile.ca_file;
        config.client_cert = profile.client_cert;
        config.client_key = profile.client_key;
        config.insecure = profile.insecure;
        config.keep_alive_secs = profile.keep_alive_secs;
        Ok(config)
    }

    fn from_profile(p: &MqttProfile) -> MqttForm {
        MqttForm {
            url: p.url.clone(),
            client_id: p.client_id.clone(),
            username: p.username.clone().unwrap_or_default(),
            password: String::new(),
            ca_file: path_text(p.ca_file.as_ref()),
            client_cert: path_text(p.client_cert.as_ref()),
            client_key: path_text(p.client_key.as_ref()),
            insecure: p.insecure,
            keep_alive_secs: p.keep_alive_secs,
            subscriptions: p.subscriptions.clone(),
        }
    }
}

impl SerialForm {
    pub fn to_profile(&self) -> Result<SerialProfile, FormError> {
        let path = self.path.trim();
        if path.is_empty() {
            return Err(FormError::NoPort);
        }
        if !DATA_BITS.contains(&self.data_bits) {
            return Err(FormError::BadDataBits(self.data_bits));
        }
        if !STOP_BITS.contains(&self.stop_bits) {
            return Err(FormError::BadStopBits(self.stop_bits));
        }
        if self.baud == 0 {
            return Err(FormError::ZeroBaud);
        }
        Ok(SerialProfile { path: path.to_owned(), baud: self.baud, data_bits: self.data_bits, parity: self.parity, stop_bits: self.stop_bits })
    }

    pub fn to_config(&self) -> Result<SerialConfig, FormError> {
        let p = self.to_profile()?;
        let mut config = SerialConfig::path(p.path);
        config.settings = SerialSettings { baud: p.baud, data_bits: p.data_bits, parity: p.parity, stop_bits: p.stop_bits };
        Ok(config)
    }

    fn from_profile(p: &SerialProfile) -> SerialForm {
        SerialForm { path: p.path.clone(), baud: p.baud, data_bits: p.data_bits, parity: p.parity, stop_bits: p.stop_bits }
    }
}

impl ConnectionForm {
    /// The link the form describes, if it is complete and valid.
    pub fn to_link_config(&self) -> Result<LinkConfig, FormError> {
        match self.kind {
            LinkChoice::Mqtt => self.mqtt.to_config().map(LinkConfig::Mqtt),
            LinkChoice::Serial => self.serial.to_config().map(LinkConfig::Serial),
        }
    }

    /// The first problem, if any.
    pub fn error(&self) -> Option<FormError> {
        self.to_link_config().err()
    }

    /// The broker URL or port path, as the session list shows it.
    pub fn target(&self) -> String {
        match self.kind {
            LinkChoice::Mqtt => self.mqtt.url.trim().to_owned(),
            LinkChoice::Serial => self.serial.path.trim().to_owned(),
        }
    }

    /// A profile named `name` of this form; its password place is decided by the store.
    pub fn to_profile(&self, name: &str) -> Result<Profile, FormError> {
        let link = match self.kind {
            LinkChoice::Mqtt => ProfileLink::Mqtt(self.mqtt.to_profile()?),
            LinkChoice::Serial => ProfileLink::Serial(self.serial.to_profile()?),
        };
        Ok(Profile { name: name.trim().to_owned(), link, read_only: self.read_only })
    }

    /// The form showing `profile`, with an empty password field; the other half keeps `self`'s.
    pub fn load_profile(&mut self, profile: &Profile) {
        self.read_only = profile.read_only;
        match &profile.link {
            ProfileLink::Mqtt(m) => {
                self.kind = LinkChoice::Mqtt;
                self.mqtt = MqttForm::from_profile(m);
            }
            ProfileLink::Serial(s) => {
                self.kind = LinkChoice::Serial;
                self.serial = SerialForm::from_profile(s);
            }
        }
    }

    /// The typed password (MQTT only), if any.
    pub fn password(&self) -> Option<&str> {
        match self.kind {
            LinkChoice::Mqtt if !self.mqtt.password.is_empty() => Some(&self.mqtt.password),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_valid_mqtt_form_gives_its_config() {
        let mut form = ConnectionForm::default();
        form.mqtt.url = " mqtt://10.0.0.5:1884 ".into();
        form.mqtt.client_id = "wb-1".into();
        form.mqtt.username = "engineer".into();
        form.mqtt.password = "pw".into();
        // TLS fields of a plain URL are hidden and ignored.
        form.mqtt.ca_file = "/ca.pem".into();
        form.mqtt.insecure = true;
        let LinkConfig::Mqtt(c) = form.to_link_config().unwrap() else { panic!() };
        assert_eq!(c.url, "mqtt://10.0.0.5:1884");
        assert_eq!(c.client_id, "wb-1");
        assert_eq!((c.username.as_deref(), c.password.as_deref()), (Some("engineer"), Some("pw")));
        assert_eq!((c.ca_file, c.insecure), (None, false));
        assert!(!format!("{form:?}").contains("\"pw\""));
    }

    #[test]
    fn tls_settings_count_for_mqtts() {
        let mut form = MqttForm { url: "MQTTS://broker".into(), ..MqttForm::default() };
        assert!(wants_tls(&form.url));
        form.ca_file = "/ca.pem".into();
        form.client_cert = "/c.pem".into();
        assert_eq!(form.to_config().unwrap_err(), FormError::CertWithoutKey);
        form.client_key = "/k.pem".into();
        form.insecure = true;
        let c = form.to_config().unwrap();
        assert_eq!((c.ca_file, c.client_key, c.insecure), (Some("/ca.pem".into()), Some("/k.pem".into()), true));
        assert!(wants_tls("mqtts://"));
        assert!(!wants_tls("mqtt://x"));
    }

    #[test]
    fn bad_urls_and_empty_client_ids_are_refused() {
        let form = MqttForm { url: "mqtt://host:99999".into(), ..MqttForm::default() };
        let Err(FormError::BadUrl(problem)) = form.to_config() else { panic!() };
        assert!(problem.contains("port"), "{problem}");
        assert!(url_problem("http://x").is_some());
        assert_eq!(url_problem("broker.local"), None);
        let form = MqttForm { client_id: "  ".into(), ..MqttForm::default() };
        assert_eq!(form.to_config().unwrap_err(), FormError::EmptyClientId);
        let form = MqttForm { password: "pw".into(), ..MqttForm::default() };
        assert_eq!(form.to_config().unwrap_err(), FormError::PasswordWithoutUser);
    }

    #[test]
    fn default_client_ids_differ() {
        let id = default_client_id();
        assert!(id.starts_with("cems-wb-") && id.len() == 14, "{id}");
        assert!((0..5).map(|_| default_client_id()).any(|other| other != id));
    }

    #[test]
    fn the_serial_form_checks_its_settings() {
        let mut form = ConnectionForm { kind: LinkChoice::Serial, ..ConnectionForm::default() };
        assert_eq!(form.error(), Some(FormError::NoPort));
        form.serial.path = "/dev/ttyUSB0".into();
        form.serial.data_bits = 9;
        assert_eq!(form.error(), Some(FormError::BadDataBits(9)));
        form.serial.data_bits = 7;
        form.serial.parity = Parity::Odd;
        form.serial.baud = 9600;
        let LinkConfig::Serial(c) = form.to_link_config().unwrap() else { panic!() };
        assert_eq!(c.path, "/dev/ttyUSB0");
        assert_eq!(c.settings, SerialSettings { baud: 9600, data_bits: 7, parity: Parity::Odd, stop_bits: 1 });
    }

    #[test]
    fn profiles_round_trip_through_the_form_without_the_password() {
        let mut form = ConnectionForm::default();
        form.mqtt.url = "mqtts://b:8883".into();
        form.mqtt.username = "u".into();
        form.mqtt.password = "pw".into();
        form.mqtt.ca_file = "/ca.pem".into();
        form.mqtt.subscriptions = vec![Subscription::new("plant/#", 0)];
        let profile = form.to_profile(" lab ").unwrap();
        assert_eq!(profile.subscriptions(), &[Subscription::new("plant/#", 0)]);
        assert_eq!(profile.name, "lab");
        let mut back = ConnectionForm { kind: LinkChoice::Serial, ..ConnectionForm::default() };
        back.load_profile(&profile);
        assert_eq!(back.kind, LinkChoice::Mqtt);
        assert_eq!(back.mqtt, MqttForm { password: String::new(), ..form.mqtt.clone() });
        assert_eq!(back.password(), None);
        assert_eq!(form.password(), Some("pw"));
    }
}
