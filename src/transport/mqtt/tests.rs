//! Unit tests of the MQTT link: URL parsing, the queue as the link drives it, TLS settings, error
//! wording.

use super::*;

fn url(tls: bool, host: &str, port: u16) -> BrokerUrl {
    BrokerUrl { tls, host: host.into(), port }
}

#[test]
fn parses_schemes_and_default_ports() {
    assert_eq!(parse_broker_url("mqtt://broker.local").unwrap(), url(false, "broker.local", 1883));
    assert_eq!(parse_broker_url("mqtts://broker.local").unwrap(), url(true, "broker.local", 8883));
    assert_eq!(parse_broker_url("MQTT://10.0.0.1:1884/").unwrap(), url(false, "10.0.0.1", 1884));
    assert_eq!(parse_broker_url("mqtts://h:9000").unwrap(), url(true, "h", 9000));
    assert_eq!(parse_broker_url("127.0.0.1:2883").unwrap(), url(false, "127.0.0.1", 2883));
    assert_eq!(parse_broker_url("localhost").unwrap(), url(false, "localhost", 1883));
    assert_eq!(parse_broker_url("mqtt://[::1]:1999").unwrap(), url(false, "::1", 1999));
    assert_eq!(parse_broker_url("mqtt://[::1]:1999").unwrap().to_string(), "mqtt://[::1]:1999");
}

#[test]
fn errors_name_the_wrong_part() {
    let cases = [
        ("ftp://host:21", "scheme"),
        ("http://host", "scheme"),
        ("mqtt://:1883", "empty host"),
        ("mqtt://", "empty host"),
        ("", "empty host"),
        ("mqtt://host:99999", "port"),
        ("mqtt://host:0", "port"),
        ("mqtt://host:", "port"),
        ("host:abc", "port"),
        ("mqtt://host:1883/topic", "after the host"),
        ("mqtt://user:pw@host", "credentials"),
        ("mqtt://[::1", "']'"),
        ("mqtt://bad host", "bad host"),
    ];
    for (input, expected) in cases {
        let error = parse_broker_url(input).unwrap_err().to_string();
        assert!(error.contains(expected), "{input:?}: {error}");
        assert!(error.contains(&format!("{input:?}")), "{input:?}: {error}");
    }
}

fn test_link() -> Link {
    let (_tx, rx) = mpsc::unbounded_channel();
    let (etx, _erx) = mpsc::channel(1);
    Link::new(&MqttConfig::new("mqtt://127.0.0.1:1", "t"), rx, etx, Arc::new(LinkCounters::default()))
}

#[test]
fn bulk_publishes_are_capped_oldest_first_and_essential_ones_kept() {
    use crate::transport::link::MAX_PENDING_BULK;
    let mut link = test_link();
    link.handle_command(LinkCommand::Publish(Message::new("t/ack", "first", 1, false)), false);
    for i in 0..(MAX_PENDING_BULK + 250) {
        link.handle_command(LinkCommand::PublishBulk(Message::new("t/x", i.to_string(), 0, false)), false);
    }
    link.handle_command(LinkCommand::Publish(Message::new("t/ack", "last", 1, false)), false);
    assert_eq!(link.queue.publishes(), (2, MAX_PENDING_BULK));
    assert_eq!(link.queue.bulk_dropped_since_up, 250);
    let Some(Outbound::Publish(first)) = link.queue.pop() else { panic!("no publish queued") };
    assert_eq!(first.message.payload, "first");
    let Some(Outbound::Publish(second)) = link.queue.pop() else { panic!("no publish queued") };
    assert_eq!(second.message.payload, "last");
    let Some(Outbound::Publish(bulk)) = link.queue.pop() else { panic!("no bulk publish queued") };
    assert_eq!(bulk.message.payload, "250");
}

#[test]
fn an_over_limit_publish_from_the_broker_arrives_as_a_mark() {
    let mut link = test_link();
    link.max_packet_bytes = 100;
    let fits = rumqttc::Publish::new("a/b", QoS::AtLeastOnce, vec![7u8; 100 - 2 - 3 - 2]);
    let message = link.arrived(fits);
    assert_eq!((message.payload.len(), message.skipped_bytes), (93, None));
    let over = rumqttc::Publish::new("a/b", QoS::AtLeastOnce, vec![7u8; 94]);
    let message = link.arrived(over);
    assert_eq!((message.topic.as_str(), message.payload.len(), message.skipped_bytes, message.qos), ("a/b", 0, Some(94), 1));
}

#[test]
fn bad_topics_filters_and_oversized_publishes_are_refused() {
    let mut link = test_link();
    link.max_packet_bytes = 100;
    link.handle_command(LinkCommand::Publish(Message::new("a/+", "x", 0, false)), false);
    link.handle_command(LinkCommand::Publish(Message::new("", "x", 0, false)), false);
    link.handle_command(LinkCommand::Publish(Message::new("a/b", vec![0u8; 200], 0, false)), false);
    assert!(link.queue.is_empty());
    link.handle_command(LinkCommand::Subscribe("a/#/b".into()), false);
    link.handle_command(LinkCommand::Subscribe("a/#".into()), false);
    link.handle_command(LinkCommand::Subscribe("a/#".into()), false);
    assert_eq!(link.filters, vec![Subscription::new("a/#", 1)]);
    link.handle_command(LinkCommand::Unsubscribe("a/#".into()), false);
    assert!(link.filters.is_empty());
}

#[test]
fn each_filter_keeps_its_qos_and_a_new_qos_is_sent_again() {
    let mut link = test_link();
    link.handle_command(LinkCommand::Subscribe(Subscription::new("plant/#", 0)), true);
    let Some(Outbound::Subscribe(sent)) = link.queue.pop() else { panic!("no SUBSCRIBE queued") };
    assert_eq!(sent, vec![Subscription::new("plant/#", 0)]);
    // The same filter at the same QoS is nothing new; at another QoS it is subscribed again.
    link.handle_command(LinkCommand::Subscribe(Subscription::new("plant/#", 0)), true);
    assert!(link.queue.pop().is_none());
    link.handle_command(LinkCommand::Subscribe(Subscription::new("plant/#", 1)), true);
    let Some(Outbound::Subscribe(sent)) = link.queue.pop() else { panic!("no SUBSCRIBE queued") };
    assert_eq!(sent, vec![Subscription::new("plant/#", 1)]);
    // Every ConnAck subscribes the whole list again, each filter at its own QoS.
    link.handle_command(LinkCommand::Subscribe(Subscription::new("lab/+", 0)), false);
    link.queue.reset_control(&link.filters);
    let Some(Outbound::Subscribe(again)) = link.queue.pop() else { panic!("no SUBSCRIBE after ConnAck") };
    assert_eq!(again, vec![Subscription::new("plant/#", 1), Subscription::new("lab/+", 0)]);
}

#[test]
fn tls_settings_errors_name_the_file() {
    let mut config = MqttConfig::new("mqtts://127.0.0.1", "t");
    config.ca_file = Some(PathBuf::from("/nonexistent/ca.pem"));
    let url = parse_broker_url(&config.url).unwrap();
    let error = tls::tls_config(&tls_files(&config), &url.to_string()).unwrap_err().to_string();
    assert!(error.starts_with("TLS: cannot read CA file /nonexistent/ca.pem"), "{error}");

    config.ca_file = None;
    config.insecure = true;
    config.client_cert = Some(PathBuf::from("/x/cert.pem"));
    let error = tls::tls_config(&tls_files(&config), &url.to_string()).unwrap_err().to_string();
    assert!(error.contains("without a client key"), "{error}");
    config.client_cert = None;
    assert!(tls::tls_config(&tls_files(&config), &url.to_string()).is_ok());
}

#[test]
fn refusals_read_like_sentences() {
    assert_eq!(
        refused_reason(ConnectReturnCode::NotAuthorized, "h:1"),
        "broker rejected credentials (not authorized)"
    );
    let refused = ConnectionError::Io(std::io::Error::from(std::io::ErrorKind::ConnectionRefused));
    assert_eq!(
        describe_error(&refused, &url(false, "127.0.0.1", 1883), false, 10),
        "connection refused by 127.0.0.1:1883"
    );
}
