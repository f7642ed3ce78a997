//! Task 1: the on-disk record format.
//!
//! ```text
//! offset  size  field
//!      0     4  crc      CRC-32 of bytes 4 .. 16 + len, u32 little-endian
//!      4     8  lsn      log sequence number, u64 little-endian
//!     12     4  len      payload length in bytes, u32 little-endian
//!     16   len  payload  the caller's bytes, unchanged
//! ```

use crate::error::{Defect, WalError};

/// Size of a record's header: CRC (4) + LSN (8) + length (4).
pub const HEADER_LEN: usize = 16;

/// The largest payload a record may carry: 1 MiB.
pub const MAX_PAYLOAD_LEN: usize = 1 << 20;

/// One log record, owned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// The record's log sequence number (the first record is 1).
    pub lsn: u64,
    /// The bytes the caller appended.
    pub payload: Vec<u8>,
}

/// How many bytes a record with a payload of `payload_len` bytes occupies.
pub const fn encoded_len(payload_len: usize) -> usize {
    HEADER_LEN + payload_len
}

/// The 16-byte header of the record (`lsn`, `payload`), CRC included.
pub fn encode_header(lsn: u64, payload: &[u8]) -> Result<[u8; HEADER_LEN], WalError> {
    let len = checked_len(payload.len())?;
    let mut header = [0u8; HEADER_LEN];
    header[4..12].copy_from_slice(&lsn.to_le_bytes());
    header[12..16].copy_from_slice(&len.to_le_bytes());
    let crc = checksum(&header[4..], payload);
    header[..4].copy_from_slice(&crc.to_le_bytes());
    Ok(header)
}

/// Appends the encoded record (`lsn`, `payload`) to `out`.
pub fn encode_into(lsn: u64, payload: &[u8], out: &mut Vec<u8>) -> Result<(), WalError> {
    let header = encode_header(lsn, payload)?;
    out.reserve(encoded_len(payload.len()));
    out.extend_from_slice(&header);
    out.extend_from_slice(payload);
    Ok(())
}

/// What the bytes at the start of a buffer hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decoded<'a> {
    /// An intact record; it occupies `encoded_len(payload.len())` bytes.
    Record {
        /// The record's LSN.
        lsn: u64,
        /// The record's payload, borrowed from the buffer.
        payload: &'a [u8],
    },
    /// The buffer ends before the header, or before the payload the header
    /// announces, does.
    Incomplete,
    /// The bytes are not an intact record.
    Corrupt(Defect),
}

/// Decodes the record at the start of `buf`; bytes after it are ignored.
///
/// A length field over [`MAX_PAYLOAD_LEN`] is [`Defect::TooLong`] even when
/// the buffer is too short to hold that payload.
pub fn decode(buf: &[u8]) -> Decoded<'_> {
    let Some((header, rest)) = buf.split_first_chunk::<HEADER_LEN>() else {
        return Decoded::Incomplete;
    };
    let stored = u32::from_le_bytes(field(header, 0));
    let lsn = u64::from_le_bytes(field(header, 4));
    let len = u32::from_le_bytes(field(header, 12));
    let Some(payload_len) = usize::try_from(len).ok().filter(|&n| n <= MAX_PAYLOAD_LEN) else {
        return Decoded::Corrupt(Defect::TooLong { len });
    };
    let Some(payload) = rest.get(..payload_len) else {
        return Decoded::Incomplete;
    };
    let computed = checksum(&header[4..], payload);
    if computed != stored {
        return Decoded::Corrupt(Defect::Checksum { stored, computed });
    }
    Decoded::Record { lsn, payload }
}

/// The CRC-32 of a header's LSN and length fields followed by the payload.
fn checksum(lsn_and_len: &[u8], payload: &[u8]) -> u32 {
    let mut hasher = crc32fast::Hasher::new();
    hasher.update(lsn_and_len);
    hasher.update(payload);
    hasher.finalize()
}

/// The `N` header bytes starting at `at`.
fn field<const N: usize>(header: &[u8; HEADER_LEN], at: usize) -> [u8; N] {
    let mut bytes = [0u8; N];
    bytes.copy_from_slice(&header[at..at + N]);
    bytes
}

/// The payload length as the `u32` the header stores, if it is allowed.
fn checked_len(len: usize) -> Result<u32, WalError> {
    u32::try_from(len)
        .ok()
        .filter(|_| len <= MAX_PAYLOAD_LEN)
        .ok_or(WalError::PayloadTooLarge { len })
}
