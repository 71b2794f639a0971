//! Chinese texts of alarms, history recall and logs.

pub const ZH: &[(&str, &str)] = &[
    // Alarms tab
    ("{n} new alarm(s) raised", "新产生 {n} 条告警"),
    ("Get active alarms", "读取当前告警"),
    ("Ask the gateway for alarm/get", "向网关发送 alarm/get"),
    ("Show cleared alarms", "显示已恢复的告警"),
    ("Waiting for the reply…", "等待应答…"),
    ("{active} active, {past} cleared", "{active} 条活动，{past} 条已恢复"),
    ("No alarm.", "无告警。"),
    ("Alarm", "告警"),
    ("Raised", "产生时间"),
    ("Cleared", "恢复时间"),
    ("Duration", "持续时间"),
    ("Acknowledgement", "确认"),
    ("active", "活动"),
    ("Acknowledged by us", "已由本机确认"),
    ("Acknowledged by another master", "已由其他主站确认"),
    ("Acknowledgement sent", "确认已发送"),
    ("Not acknowledged", "未确认"),
    ("Acknowledgement unknown", "确认状态未知"),
];
