//! The serial ports present on this machine.
//!
//! `tokio_serial::available_ports()` is built without libudev here: on Linux it scans
//! `/sys/class/tty` (and panics if that folder is missing, as in some containers), listing only
//! ports with a driver behind them. So on Linux the scan runs only when that folder exists, and
//! `/dev/ttyUSB*` and `/dev/ttyACM*` are always added (a USB adapter must never be missed);
//! `/dev/ttyS*` is added only when the scan could not run, since most of those are phantoms.
//! The panel keeps a free-text path field for anything else (ptys, `COM10`, symlinks).

/// Ports present now, sorted naturally (`ttyUSB2` before `ttyUSB10`). Reads the file system:
/// call it off the UI thread.
pub fn list_ports() -> Vec<String> {
    let scanned = scan();
    let dev_names = dev_entries();
    merge_ports(scanned, dev_names)
}

#[cfg(target_os = "linux")]
fn scan() -> Option<Vec<String>> {
    if !std::path::Path::new("/sys/class/tty").is_dir() {
        return None;
    }
    tokio_serial::available_ports().ok().map(|ports| ports.into_iter().map(|p| p.port_name).collect())
}

#[cfg(not(target_os = "linux"))]
fn scan() -> Option<Vec<String>> {
    tokio_serial::available_ports().ok().map(|ports| ports.into_iter().map(|p| p.port_name).collect())
}

#[cfg(unix)]
fn dev_entries() -> Vec<String> {
    let Ok(entries) = std::fs::read_dir("/dev") else { return Vec::new() };
    entries.filter_map(|e| e.ok()).filter_map(|e| e.file_name().into_string().ok()).collect()
}

#[cfg(not(unix))]
fn dev_entries() -> Vec<String> {
    Vec::new()
}

/// The ports to offer: what the scan found (`None`: it could not run) plus the serial-looking
/// names among the entries of `/dev`.
pub fn merge_ports(scanned: Option<Vec<String>>, dev_names: Vec<String>) -> Vec<String> {
    let scan_failed = scanned.is_none();
    let mut ports = scanned.unwrap_or_default();
    for name in dev_names {
        let usb = is_numbered(&name, "ttyUSB") || is_numbered(&name, "ttyACM");
        let onboard = is_numbered(&name, "ttyS");
        if usb || (onboard && scan_failed) {
            ports.push(format!("/dev/{name}"));
        }
    }
    ports.sort_by(|a, b| natural_key(a).cmp(&natural_key(b)));
    ports.dedup();
    ports
}

/// `prefix` followed by digits only.
fn is_numbered(name: &str, prefix: &str) -> bool {
    name.strip_prefix(prefix).is_some_and(|rest| !rest.is_empty() && rest.bytes().all(|b| b.is_ascii_digit()))
}

/// Sorts `ttyUSB2` before `ttyUSB10`: the text before the trailing number, then the number.
fn natural_key(name: &str) -> (&str, u64, &str) {
    let digits = name.len() - name.bytes().rev().take_while(u8::is_ascii_digit).count();
    let number = name[digits..].parse().unwrap_or(0);
    (&name[..digits], number, name)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn usb_ports_are_always_added_and_sorted_naturally() {
        let dev = names(&["ttyUSB10", "ttyUSB2", "ttyACM0", "ttyS0", "tty1", "ttyUSBx", "null"]);
        let got = merge_ports(Some(names(&["/dev/ttyUSB2", "/dev/ttyAMA0"])), dev);
        assert_eq!(got, names(&["/dev/ttyACM0", "/dev/ttyAMA0", "/dev/ttyUSB2", "/dev/ttyUSB10"]));
    }

    #[test]
    fn without_a_scan_onboard_ports_are_listed_too() {
        let got = merge_ports(None, names(&["ttyS1", "ttyS0", "ttyUSB0", "console"]));
        assert_eq!(got, names(&["/dev/ttyS0", "/dev/ttyS1", "/dev/ttyUSB0"]));
    }

    #[test]
    fn listing_the_ports_of_this_machine_does_not_panic() {
        let ports = list_ports();
        assert!(ports.iter().all(|p| !p.is_empty()));
    }
}
