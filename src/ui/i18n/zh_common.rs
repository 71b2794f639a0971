//! Chinese texts of the common area, keyed by their English.

pub const ZH: &[(&str, &str)] = &[
    ("Connections", "连接"),
    // Top bar and settings (app.rs).
    ("CEMS Workbench", "CEMS 调试工作台"),
    ("Settings", "设置"),
    ("Light", "浅色"),
    ("Dark", "深色"),
    ("At start", "启动时"),
    ("Start the embedded broker", "启动内置 MQTT 代理"),
    ("Start the demo gateway", "启动演示网关"),
    ("Applied at the next start.", "下次启动时生效。"),
    ("Embedded broker listening on", "内置代理监听于"),
    ("(port 1883 was taken)", "（端口 1883 已被占用）"),
    ("Embedded broker failed:", "内置代理启动失败："),
    ("Demo gateway started:", "演示网关已启动："),
    ("Demo gateway failed:", "演示网关启动失败："),
    // Central tabs and the publish panel's header.
    ("Topics", "主题"),
    ("Publish", "发布"),
    ("Close", "关闭"),
    // Status bar (status_bar.rs).
    ("No links", "无连接"),
    ("connected", "已连接"),
    ("connecting", "连接中"),
    ("attempt", "尝试"),
    ("down", "已断开"),
    ("closed", "已关闭"),
    ("connection attempts:", "连接尝试次数："),
    ("serial frames dropped:", "丢弃的串口帧："),
    ("msg/s", "条/秒"),
    ("Store", "消息存储"),
    ("topics", "个主题"),
    ("messages", "条消息"),
    ("Evicted:", "已淘汰："),
    ("Truncated:", "已截断："),
];
