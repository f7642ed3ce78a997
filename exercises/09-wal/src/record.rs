//! Task 1: the on-disk record format.

use crate::error::{Defect, WalError};

// ANCHOR: layout
/// Size of a record's header: CRC (4) + LSN (8) + length (4).
///
/// Every record is laid out like this, all integers little-endian:
///
/// ```text
/// offset  size  field
///      0     4  crc      CRC-32 (crc32fast) of bytes 4 .. 16 + len, u32
///      4     8  lsn      log sequence number, u64
///     12     4  len      payload length in bytes, u32
///     16   len  payload  the caller's bytes, unchanged
/// ```
///
/// The CRC covers the LSN and the length as well as the payload, so a
/// damaged length or LSN is caught too.
pub const HEADER_LEN: usize = 16;

/// The largest payload a record may carry: 1 MiB.
pub const MAX_PAYLOAD_LEN: usize = 1 << 20;
// ANCHOR_END: layout

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

// ANCHOR: task1
/// The 16-byte header of the record (`lsn`, `payload`), CRC included.
///
/// - Bytes 4..12 are `lsn` and bytes 12..16 are `payload.len()` as a `u32`,
///   both little-endian ([`u64::to_le_bytes`]).
/// - Bytes 0..4 are the CRC-32 of header bytes 4..16 followed by the
///   payload: feed both to one [`crc32fast::Hasher`].
/// - A payload over [`MAX_PAYLOAD_LEN`] is [`WalError::PayloadTooLarge`].
pub fn encode_header(lsn: u64, payload: &[u8]) -> Result<[u8; HEADER_LEN], WalError> {
    todo!(
        "task 1: check the length, fill bytes 4..16, then put the CRC of header[4..] + payload in 0..4"
    )
}

/// Appends the encoded record (`lsn`, `payload`) to `out`: its header, then
/// the payload. A refused payload leaves `out` unchanged.
pub fn encode_into(lsn: u64, payload: &[u8], out: &mut Vec<u8>) -> Result<(), WalError> {
    todo!("task 1: encode_header, then extend `out` with the header and the payload")
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
/// Check in this order:
/// 1. fewer than [`HEADER_LEN`] bytes: [`Decoded::Incomplete`];
/// 2. a length field over [`MAX_PAYLOAD_LEN`]: [`Defect::TooLong`], even
///    though the payload could not have arrived yet;
/// 3. fewer bytes than the header announces: [`Decoded::Incomplete`];
/// 4. a CRC that does not match: [`Defect::Checksum`] with the stored and
///    the computed value;
/// 5. otherwise, the record.
///
/// `decode` does not judge the LSN; that is the reader's job (task 3).
pub fn decode(buf: &[u8]) -> Decoded<'_> {
    todo!("task 1: split off the header, read the three fields, check the length, then the CRC")
}
// ANCHOR_END: task1
