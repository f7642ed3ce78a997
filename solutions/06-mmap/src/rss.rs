//! Measuring resident memory from `/proc` (Linux).
//!
//! [`mapping_rss`] is part of task 3; [`page_size`] and [`process_rss`] are
//! given.

use crate::error::MmapError;

/// The size of a memory page in bytes (4096 on x86-64 Linux).
pub fn page_size() -> usize {
    // SAFETY: sysconf only reads a configuration value.
    let size = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    usize::try_from(size)
        .ok()
        .filter(|&s| s > 0)
        .unwrap_or(4096)
}

// ANCHOR: process_rss
/// This process's resident memory, from `/proc/self/status`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProcessRss {
    /// `VmRSS`: every resident page of the process, in bytes.
    pub vm_rss: u64,
    /// `RssFile`: the resident pages that belong to mapped files, in bytes
    /// (`None` on kernels older than 4.5, which do not report it).
    pub rss_file: Option<u64>,
}

/// Reads [`ProcessRss`] from `/proc/self/status`.
///
/// These are totals for the whole process: every thread's allocations and
/// every mapping count. To measure one mapping, use [`mapping_rss`].
pub fn process_rss() -> Result<ProcessRss, MmapError> {
    let status = std::fs::read_to_string("/proc/self/status")?;
    // A line looks like `VmRSS:      1234 kB`.
    let field = |name: &str| {
        status.lines().find_map(|line| {
            let value = line.strip_prefix(name)?.strip_prefix(':')?;
            let kib: u64 = value.trim().strip_suffix("kB")?.trim().parse().ok()?;
            Some(kib * 1024)
        })
    };
    let vm_rss = field("VmRSS").ok_or_else(|| {
        std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            "/proc/self/status has no VmRSS line",
        )
    })?;
    Ok(ProcessRss {
        vm_rss,
        rss_file: field("RssFile"),
    })
}
// ANCHOR_END: process_rss

/// The resident bytes (the `Rss:` field) of the mapping that starts at
/// address `start`, found in the text of `/proc/self/smaps`; `None` if no
/// mapping starts there.
pub fn mapping_rss(smaps: &str, start: usize) -> Option<u64> {
    let mut in_mapping = false;
    for line in smaps.lines() {
        if let Some(range_start) = mapping_start(line) {
            in_mapping = range_start == start;
        } else if in_mapping && let Some(value) = line.strip_prefix("Rss:") {
            let kib: u64 = value.trim().strip_suffix("kB")?.trim().parse().ok()?;
            return Some(kib * 1024);
        }
    }
    None
}

/// The start address of a mapping's header line (`7f00-7f80 rw-s ...`), or
/// `None` for a field line (`Rss:   4 kB`).
fn mapping_start(line: &str) -> Option<usize> {
    let range = line.split_whitespace().next()?;
    let (start, end) = range.split_once('-')?;
    let start = usize::from_str_radix(start, 16).ok()?;
    usize::from_str_radix(end, 16).ok()?;
    Some(start)
}
