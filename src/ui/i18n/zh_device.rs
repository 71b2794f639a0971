//! Chinese texts of the device page's tabs added since the first catalogue (logs).

pub const ZH: &[(&str, &str)] = &[
    ("Logs", "日志"),
    ("Last 15 min", "最近 15 分钟"),
    ("Last hour", "最近 1 小时"),
    ("Last 24 h", "最近 24 小时"),
    ("Last 7 days", "最近 7 天"),
    ("Fetch logs", "获取日志"),
    ("Ask the gateway for log/get", "向网关发送 log/get"),
    ("Gateway log level", "网关日志级别"),
    ("Upload as log/report", "以 log/report 上报"),
    ("Apply", "应用"),
    ("Send log/config to the gateway", "向网关发送 log/config"),
    ("Show", "显示"),
    ("Filter: module or message", "筛选：模块或内容"),
    ("Filter log entries", "筛选日志"),
    ("{shown} of {matched} matching, {total} entries kept", "显示 {shown} / 匹配 {matched}，共保留 {total} 条"),
    ("No log entry yet: the gateway sends them as log/report, or use Fetch logs.", "尚无日志：网关以 log/report 上报，或点击“获取日志”。"),
    ("Message", "内容"),
];
