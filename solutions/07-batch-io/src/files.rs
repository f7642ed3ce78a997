//! Given helpers: writing an output so that no half-written file ever has
//! its name, and listing a directory tree. They are complete.

use std::ffi::OsString;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// Makes every temporary name this process picks unique.
static TEMP_COUNTER: AtomicU64 = AtomicU64::new(0);

// ANCHOR: write_replacing
/// Writes `data` to `path`, replacing whatever is there, so that `path`
/// never holds a partial output: the bytes go to a temporary file in the
/// same directory, which is then renamed over `path`. On an error the
/// temporary file is removed and `path` is left as it was.
///
/// The parent directory must exist. Nothing is synced: a batch that needs
/// its outputs durable syncs once at the end (lesson 05 shows how).
pub fn write_replacing(path: &Path, data: &[u8]) -> io::Result<()> {
    let Some(name) = path.file_name() else {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "an output path must end in a file name",
        ));
    };
    let mut temp_name = OsString::from(".");
    temp_name.push(name);
    temp_name.push(format!(
        ".{}.{}.tmp",
        std::process::id(),
        TEMP_COUNTER.fetch_add(1, Ordering::Relaxed)
    ));
    let temp = path.with_file_name(temp_name);
    let written = fs::write(&temp, data).and_then(|()| fs::rename(&temp, path));
    if written.is_err() {
        // The temporary file may or may not exist; either way it must go.
        let _ = fs::remove_file(&temp);
    }
    written
}
// ANCHOR_END: write_replacing

/// Lists every regular file under `dir`, recursively, as paths relative to
/// `dir`, sorted. Symbolic links are not followed.
pub fn list_files(dir: &Path) -> io::Result<Vec<PathBuf>> {
    let mut found = Vec::new();
    let mut pending = vec![PathBuf::new()];
    while let Some(relative) = pending.pop() {
        for entry in fs::read_dir(dir.join(&relative))? {
            let entry = entry?;
            let kind = entry.file_type()?;
            let name = relative.join(entry.file_name());
            if kind.is_dir() {
                pending.push(name);
            } else if kind.is_file() {
                found.push(name);
            }
        }
    }
    found.sort();
    Ok(found)
}
