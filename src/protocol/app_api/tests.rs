use serde_json::json;

use super::*;
use crate::protocol::app_api::request::cems_id_of;
use crate::protocol::app_api::time::{format_time, is_answer_time, month_start, next_period, parse_request_time, period_start};

#[test]
fn the_contract_signature_vector() {
    let body = br#"{"cemsId":"site-1"}"#;
    assert_eq!(body_sha256_hex(body), "548700114937b02b190928f41a5ca679474e3f8728900484b64c91a848f2e64e");
    let input = SignInput { method: "POST", path: "/api/cems/GetCemsStaticData", app_id: "app01", timestamp: "1700000000000", nonce: "n-0001", body };
    let signature = sign("s3cr3t-app", &input);
    assert_eq!(signature, "3489c09a3f8c95afe6547cb82450bc3f62bbdc153696111400e79602d5dab5b4");
    assert!(verify("s3cr3t-app", &input, &signature));
    assert!(verify("s3cr3t-app", &input, &signature.to_uppercase()));
    assert!(!verify("other", &input, &signature));
    assert!(!verify("s3cr3t-app", &SignInput { nonce: "n-0002", ..input }, &signature));
    let headers = SignedHeaders::new("app01", "s3cr3t-app", "/api/cems/GetCemsStaticData", body, 1_700_000_000_000, "n-0001");
    assert_eq!(headers.signature, signature);
    assert_eq!(headers.version, "1.0");
}

#[test]
fn codes_and_statuses_follow_the_table() {
    let status = |n| ApiCode::from_number(n).map(ApiCode::http_status);
    assert_eq!(status(0), Some(200));
    assert_eq!(status(1004), Some(401));
    assert_eq!(status(1006), Some(403));
    assert_eq!(status(2007), Some(400));
    assert_eq!(status(2008), Some(404));
    assert_eq!(status(3001), Some(429));
    assert_eq!(status(5000), Some(500));
    assert_eq!(ApiCode::from_number(1234), None);
}

#[test]
fn twenty_four_interfaces_named_as_the_contract() {
    let all = Interface::all();
    assert_eq!(all.len(), 24);
    let names: Vec<String> = all.iter().map(|i| i.name()).collect();
    assert_eq!(names[0], "GetCemsStaticData");
    assert_eq!(names[8], "GetCemsSpecCategoryDynamicData");
    assert_eq!(names[21], "GetPointStatisticData");
    assert_eq!(Interface::from_name("GetPointFullHistoricData").map(|i| i.section()), Some("9.5".to_owned()));
    let paged: Vec<String> = all.iter().filter(|i| i.paged()).map(|i| i.section()).collect();
    assert_eq!(paged, ["7.2", "7.3", "8.1", "8.2", "8.3", "9.1", "9.2", "9.3", "9.4", "9.5", "9.6", "10.1", "10.2", "10.3"]);
}

#[test]
fn times_are_written_in_the_site_offset_and_read_in_any() {
    let tz = TzOffset::parse("+08:00").unwrap_or_default();
    assert_eq!(format_time(1_700_000_000_000, tz), "2023-11-15T06:13:20.000+08:00");
    assert_eq!(format_time(0, TzOffset::parse("-05:30").unwrap_or_default()), "1969-12-31T18:30:00.000-05:30");
    assert!(is_answer_time("2026-12-02T13:45:00.000+08:00"));
    assert!(!is_answer_time("2026-12-02T13:45:00Z"));
    assert!(!is_answer_time("2026-12-02 13:45:00.000+08:00"));
    assert_eq!(parse_request_time("2023-11-15T06:13:20.000+08:00"), Some(1_700_000_000_000));
    assert_eq!(parse_request_time("2023-11-14T22:13:20Z"), Some(1_700_000_000_000));
    assert_eq!(parse_request_time("2023-11-14T22:13:20"), None);
    assert_eq!(parse_request_time("1700000000000"), None);
    assert_eq!(TzOffset(-330).to_string(), "-05:30");
    assert_eq!(TzOffset::parse("+15:00"), None);
}

#[test]
fn periods_align_to_the_site_timezone() {
    let tz = TzOffset::default();
    let t = parse_request_time("2024-04-30T23:30:00.000+08:00").unwrap_or_default();
    let day = period_start(t, Period::Day, tz);
    assert_eq!(format_time(day, tz), "2024-04-30T00:00:00.000+08:00");
    let month = period_start(t, Period::Month, tz);
    assert_eq!(format_time(month, tz), "2024-04-01T00:00:00.000+08:00");
    assert_eq!(format_time(next_period(month, Period::Month, tz), tz), "2024-05-01T00:00:00.000+08:00");
    assert_eq!(month_start("2024-04", tz), Some(month));
    let odd = TzOffset(330);
    assert_eq!(format_time(period_start(t, Period::Hour, odd), odd), "2024-04-30T21:00:00.000+05:30");
}

#[test]
fn requests_are_checked_field_by_field() {
    let parse = |name: &str, body: serde_json::Value| {
        let interface = Interface::from_name(name).unwrap_or(Interface { family: Family::Static, shape: Shape::Cems });
        ApiRequest::parse(interface, body.as_object().unwrap_or(&Default::default()))
    };
    let ok = parse("GetCemsDynamicData", json!({"cemsId":"site-1","parameterIds":["P","P"],"pageSize":5, "x-vendor": 1}));
    assert_eq!(ok.as_ref().map(|r| (r.parameter_ids.clone(), r.paging.page_size)), Ok((Some(vec!["P".to_owned()]), 5)));
    let code = |r: Result<ApiRequest, RequestError>| r.map_err(|e| e.code.number()).err();
    assert_eq!(code(parse("GetCemsDynamicData", json!({"cemsId":"site-1"}))), Some(2002));
    assert_eq!(code(parse("GetCemsFullDynamicData", json!({"pageSize":1001}))), Some(2002));
    assert_eq!(code(parse("GetCemsFullHistoricData", json!({"pageSize":10000,"from":"2024-01-01T00:00:00Z","to":"2024-01-02T00:00:00Z"}))), None);
    assert_eq!(code(parse("GetCemsFullHistoricData", json!({"from":"2024-01-02T00:00:00Z","to":"2024-01-01T00:00:00Z"}))), Some(2006));
    assert_eq!(code(parse("GetCemsFullHistoricData", json!({"from":"2024-01-01T00:00:00Z","to":"2024-03-01T00:00:00Z"}))), Some(2006));
    assert_eq!(code(parse("GetCemsFullStatisticData", json!({"from":"2024-01-01T00:00:00Z","to":"2024-03-01T00:00:00Z","period":"day","stat":"avg"}))), None);
    assert_eq!(code(parse("GetCemsFullStatisticData", json!({"from":"2024-01-01T00:00:00Z","to":"2024-03-01T00:00:00Z","period":"week","stat":"avg"}))), Some(2002));
    let items = parse("GetPointStatisticData", json!({"items":[{"pointId":"a.b","parameterId":"P","stat":"max"}],"from":"2024-01-01T00:00:00Z","to":"2024-01-02T00:00:00Z","period":"hour"}));
    assert_eq!(items.map(|r| r.items.len()), Ok(1));
    assert_eq!(code(parse("GetPointStaticData", json!({"pointIds":[]}))), Some(2002));
    assert_eq!(cems_id_of(json!({"cemsId": 3}).as_object().unwrap_or(&Default::default())).map_err(|e| e.code), Err(ApiCode::BadParameter));
}

#[test]
fn pages_slice_and_end_empty() {
    let paging = Paging { page_no: 2, page_size: 3 };
    assert_eq!(paging.slice((0..8).collect::<Vec<_>>()), vec![3, 4, 5]);
    assert_eq!(Paging { page_no: 4, page_size: 3 }.slice((0..8).collect::<Vec<_>>()), Vec::<i32>::new());
    assert_eq!(paging.page(8), model::Page { page_no: 2, page_size: 3, total: 8 });
}
