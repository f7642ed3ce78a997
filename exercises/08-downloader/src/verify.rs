//! Task 8: SHA-256 verification.

#[allow(unused_imports)] // you will need it
use std::io::{self, Read};
use std::path::Path;

#[allow(unused_imports)] // you will need it
use simfs::{Fs, OpenOptions};

#[allow(unused_imports)] // you will need it
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
/// Open it with `fs.open(path, OpenOptions::new().read(true))`. Read the file in pieces (say 64 KiB at a time) into a `Sha256` hasher
/// (`Sha256::new()`, `update`, `finalize`): a downloaded file may be larger
/// than memory. [`to_hex`] turns the digest into text.
pub fn sha256_file(fs: &dyn Fs, path: &Path) -> io::Result<String> {
    todo!("task 8: hash the file in pieces, without reading it all into memory")
}
// ANCHOR_END: task8
