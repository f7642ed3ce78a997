//! Task 8: SHA-256 verification.

use std::io::{self, Read};
use std::path::Path;

use simfs::{Fs, OpenOptions};

use sha2::{Digest, Sha256};

/// `bytes` as lower-case hex, two digits per byte.
pub fn to_hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes.iter().fold(String::new(), |mut out, b| {
        let _ = write!(out, "{b:02x}");
        out
    })
}

// ANCHOR: task8
/// The SHA-256 of the file at `path` on `fs`, in lower-case hex.
///
/// Read the file in pieces (say 64 KiB at a time) into a `Sha256` hasher
/// (`Sha256::new()`, `update`, `finalize`): a downloaded file may be larger
/// than memory. [`to_hex`] turns the digest into text.
pub fn sha256_file(fs: &dyn Fs, path: &Path) -> io::Result<String> {
    let mut file = fs.open(path, OpenOptions::new().read(true))?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0; 64 * 1024];
    loop {
        let n = match file.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        hasher.update(&buf[..n]);
    }
    Ok(to_hex(&hasher.finalize()))
}
// ANCHOR_END: task8
