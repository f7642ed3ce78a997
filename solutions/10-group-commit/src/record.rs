//! The on-disk framing of one record, and a decoder for tests and tools.
//!
//! This file is complete; you do not need to change it.
//!
//! Every record is a 12-byte header followed by the payload, all integers
//! little-endian:
//!
//! ```text
//! offset 0        8          12
//!        +--------+----------+--------------------+
//!        | lsn    | len      | payload (len bytes)|
//!        | u64 LE | u32 LE   |                    |
//!        +--------+----------+--------------------+
//! ```
//!
//! There is no checksum: torn and corrupt records are lesson 09's business.
//! Here the framing only has to let a test read back which LSNs reached the
//! file, and in which order.

use std::fmt;

/// Bytes in a record header: the LSN (8) and the payload length (4).
pub const HEADER_LEN: usize = 12;

// ANCHOR: lsn
/// A log sequence number: the position of a record in the log.
///
/// The first record a log accepts gets `Lsn(1)`, the next `Lsn(2)`, and so
/// on, with no gaps. A record's LSN is also its position in the file: the
/// record with LSN `n` is the `n`-th record written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Lsn(pub u64);
// ANCHOR_END: lsn

impl fmt::Display for Lsn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "LSN {}", self.0)
    }
}

/// The number of bytes [`encode_record`] appends for a payload of
/// `payload_len` bytes.
pub const fn encoded_len(payload_len: usize) -> usize {
    HEADER_LEN + payload_len
}

/// Appends the framed record (`lsn`, `payload`) to `buf`.
///
/// # Panics
///
/// If `payload` is longer than `u32::MAX` bytes.
pub fn encode_record(buf: &mut Vec<u8>, lsn: Lsn, payload: &[u8]) {
    let len = u32::try_from(payload.len()).expect("a record payload must fit in u32::MAX bytes");
    buf.reserve(encoded_len(payload.len()));
    buf.extend_from_slice(&lsn.0.to_le_bytes());
    buf.extend_from_slice(&len.to_le_bytes());
    buf.extend_from_slice(payload);
}

/// The bytes of a log did not parse as a sequence of whole records.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("truncated record at byte offset {offset}")]
pub struct DecodeError {
    /// Where the incomplete record starts.
    pub offset: usize,
}

/// Splits `bytes` into its records, in file order.
///
/// Returns [`DecodeError`] if the bytes end in the middle of a record.
pub fn decode_records(bytes: &[u8]) -> Result<Vec<(Lsn, Vec<u8>)>, DecodeError> {
    let mut records = Vec::new();
    let mut offset = 0;
    while offset < bytes.len() {
        let truncated = DecodeError { offset };
        let header: &[u8; HEADER_LEN] = bytes[offset..].first_chunk().ok_or(truncated.clone())?;
        let (lsn, len) = header.split_at(8);
        let lsn = u64::from_le_bytes(lsn.try_into().expect("8 bytes"));
        let len = u32::from_le_bytes(len.try_into().expect("4 bytes")) as usize;
        let start = offset + HEADER_LEN;
        let payload = bytes.get(start..start + len).ok_or(truncated)?;
        records.push((Lsn(lsn), payload.to_vec()));
        offset = start + len;
    }
    Ok(records)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let mut buf = Vec::new();
        encode_record(&mut buf, Lsn(1), b"one");
        encode_record(&mut buf, Lsn(2), b"");
        assert_eq!(buf.len(), encoded_len(3) + encoded_len(0));
        assert_eq!(
            decode_records(&buf),
            Ok(vec![(Lsn(1), b"one".to_vec()), (Lsn(2), Vec::new())])
        );
        assert_eq!(decode_records(&buf[..5]), Err(DecodeError { offset: 0 }));
        assert_eq!(
            decode_records(&buf[..buf.len() - 1]),
            Err(DecodeError { offset: 15 })
        );
    }
}
