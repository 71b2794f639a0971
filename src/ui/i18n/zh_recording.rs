//! Chinese texts of recording, replay and the point history (top bar, status bar, notices).

pub const ZH: &[(&str, &str)] = &[
    ("recording saved: {file} ({messages} messages, {bytes} bytes, {files} file(s))", "录制已保存：{file}（{messages} 条消息，{bytes} 字节，{files} 个文件）"),
    ("recording to {file} stopped: {reason}; what was written before stays readable", "录制到 {file} 已停止：{reason}；此前写入的内容仍可读取"),
    ("Stop recording", "停止录制"),
    ("Recording every message to {file}", "正在将所有消息录制到 {file}"),
    ("Record every message of every link to an MCAP file (opens in Foxglove and PlotJuggler; replay it from Connections)", "将所有连接的每条消息录制到 MCAP 文件（可用 Foxglove 和 PlotJuggler 打开；在“连接”中回放）"),
    ("Record", "录制"),
    ("Recordings", "录制文件"),
    ("New file every", "每达到此大小换新文件"),
    ("(0: one file)", "（0：只用一个文件）"),
    ("REC", "录制中"),
    ("files (rotated by size)", "个文件（按大小轮换）"),
    ("messages not recorded: the disk did not keep up", "条消息未录制：磁盘写入跟不上"),
    ("recording stopped", "录制已停止"),
    ("no folder for recordings: set one in Settings", "没有录制文件夹：请在设置中指定"),
    ("cannot create the recordings folder {folder}: {error}", "无法创建录制文件夹 {folder}：{error}"),
    ("completed the recording {file} cut short: {messages} messages kept, {cut} bytes at its end dropped", "已补全中断的录制 {file}：保留 {messages} 条消息，丢弃末尾 {cut} 字节"),
    ("cannot complete the recording {file}: {error}", "无法补全录制 {file}：{error}"),
];
