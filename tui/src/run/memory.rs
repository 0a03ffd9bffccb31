//! The process's resident memory, for the status panel.

/// Resident set size in bytes, read from `/proc/self/status` (`None` where there is none).
pub fn resident_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    parse_vm_rss(&status)
}

/// Peak resident set size in bytes (`VmHWM`), `None` where there is none.
pub fn peak_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    parse_field(&status, "VmHWM:")
}

fn parse_vm_rss(status: &str) -> Option<u64> {
    parse_field(status, "VmRSS:")
}

fn parse_field(status: &str, field: &str) -> Option<u64> {
    let line = status.lines().find(|l| l.starts_with(field))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

/// `1.2 GB`, `350 MB`.
pub fn human(bytes: u64) -> String {
    if bytes >= 1 << 30 {
        format!("{:.1} GB", bytes as f64 / (1u64 << 30) as f64)
    } else {
        format!("{} MB", bytes >> 20)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_vm_rss() {
        assert_eq!(parse_vm_rss("Name:\tx\nVmRSS:\t  2048 kB\n"), Some(2 << 20));
        assert_eq!(parse_vm_rss("Name:\tx\n"), None);
        assert_eq!(human(350 << 20), "350 MB");
        assert_eq!(human(3 << 29), "1.5 GB");
    }
}
