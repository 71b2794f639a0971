//! Chinese texts of the forms built from product models: commands, properties, ports.

pub const ZH: &[(&str, &str)] = &[
    // forms
    ("(no item type in the model)", "（模型未定义元素类型）"),
    ("Add item", "添加一项"),
    ("Remove", "移除"),
    ("No parameters.", "无参数。"),
    ("Not valid JSON: {error}", "不是有效的 JSON：{error}"),
    ("Params (JSON)", "参数（JSON）"),
    ("Pending: waiting for the reply…", "等待应答…"),
    ("Unchecked: no product model describes this, the params are sent as typed.", "未校验：没有产品模型描述它，参数按输入原样发送。"),
    // commands
    ("Commands", "命令"),
    ("Send", "发送"),
    ("Sub-device (optional)", "子设备（可选）"),
    ("Command", "命令名"),
    ("Type the command's name.", "请输入命令名。"),
    ("Pick a sub-device first.", "请先选择子设备。"),
    ("No sub-device of this product has been seen.", "尚未发现该产品的子设备。"),
    ("The model of this gateway defines no command.", "该网关的模型未定义命令。"),
    ("Other command (unchecked)", "其他命令（未校验）"),
    ("Send unchecked", "不校验发送"),
    ("No product model describes this gateway: commands are sent unchecked.", "没有产品模型描述该网关：命令不经校验发送。"),
    // properties
    ("Get all", "读取全部"),
    ("Set", "设置"),
    ("Key", "键"),
    ("Access", "读写"),
    ("New value", "新值"),
    ("Nothing changed.", "没有修改。"),
    ("Discard changes", "放弃修改"),
];
