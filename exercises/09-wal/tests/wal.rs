//! Graded tests for lesson 09 (a write-ahead log).
//!
//! - `t1_` grades task 1: the record format (`encode_header`, `encode_into`, `decode`).
//! - `t2_` grades task 2: the writer, `Wal`.
//! - `t3_` grades task 3: `scan`, `read_log` and `recover`. The crash and
//!   corruption tests in `tests/chaos.rs` are graded under task 3 as well.
//! - `t4_` grades task 4: `replay`.
//! - `t5_` grades task 5: `BackgroundSyncer`, and `SyncTarget` for `Mutex<Wal>`.
//!
//! No test measures time. Where a test waits for the syncer thread, it waits
//! with a deadline and then fails its assertion, so a wrong implementation
//! makes a test fail instead of hang.

use std::fs;
use std::io;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use wal::{
    ApplyLog, BackgroundSyncer, Decoded, Defect, HEADER_LEN, LogScan, MAX_PAYLOAD_LEN, Record,
    ReplayError, ReplayStats, SyncTarget, Wal, WalError, decode, encode_header, encode_into,
    encoded_len, read_log, recover, replay, scan,
};

/// How long any test waits for the syncer thread before it gives up.
const DEADLINE: Duration = Duration::from_secs(5);

// ---------------------------------------------------------------- task 1

#[test]
fn t1_header_is_crc_then_lsn_then_length_little_endian() {
    let mut out = Vec::new();
    encode_into(0x0102_0304_0506_0708, b"hello", &mut out).expect("a 5-byte payload is fine");
    assert_eq!(
        out.len(),
        HEADER_LEN + 5,
        "a record is a 16-byte header followed by the payload"
    );
    assert_eq!(
        out[4..12],
        [8, 7, 6, 5, 4, 3, 2, 1],
        "bytes 4..12 hold the LSN as a little-endian u64"
    );
    assert_eq!(
        out[12..16],
        [5, 0, 0, 0],
        "bytes 12..16 hold the payload length as a little-endian u32"
    );
    assert_eq!(
        &out[16..],
        b"hello",
        "the payload follows the header unchanged"
    );
    let crc = crc32fast::hash(&out[4..]);
    assert_eq!(
        out[..4],
        crc.to_le_bytes(),
        "bytes 0..4 hold the CRC-32 (crc32fast) of everything after them: LSN, length and payload"
    );
}

#[test]
fn t1_encode_into_appends_and_agrees_with_encode_header() {
    let mut out = b"existing".to_vec();
    encode_into(7, b"abc", &mut out).expect("a small payload is fine");
    assert_eq!(
        &out[..8],
        b"existing",
        "encode_into must append to `out`, not overwrite it"
    );
    let header = encode_header(7, b"abc").expect("a small payload is fine");
    assert_eq!(
        out[8..8 + HEADER_LEN],
        header,
        "encode_into writes the header first"
    );
    assert_eq!(&out[8 + HEADER_LEN..], b"abc", "and then the payload");
    assert_eq!(
        encoded_len(3),
        HEADER_LEN + 3,
        "encoded_len(n) must be the {HEADER_LEN}-byte header plus n payload bytes"
    );
}

#[test]
fn t1_records_round_trip() {
    let all_bytes: Vec<u8> = (0..=255).collect();
    let big: Vec<u8> = (0..5_000u32).map(|i| (i * 7) as u8).collect();
    let cases: [(u64, &[u8]); 5] = [
        (1, b""),
        (2, b"x"),
        (u64::MAX, &[0u8; 100]),
        (1 << 40, &all_bytes),
        (99, &big),
    ];
    for (lsn, payload) in cases {
        let bytes = encode(lsn, payload);
        assert_eq!(
            bytes.len(),
            encoded_len(payload.len()),
            "a record with LSN {lsn} and {} payload bytes must encode to encoded_len(payload.len()) bytes",
            payload.len()
        );
        assert_eq!(
            decode(&bytes),
            Decoded::Record { lsn, payload },
            "decoding the record (LSN {lsn}, {} payload bytes) must give it back",
            payload.len()
        );
    }
}

#[test]
fn t1_decode_reads_only_the_first_record() {
    let mut bytes = encode(1, b"first");
    encode_into(2, b"second", &mut bytes).expect("a small payload is fine");
    bytes.extend_from_slice(b"trailing junk");
    assert_eq!(
        decode(&bytes),
        Decoded::Record {
            lsn: 1,
            payload: b"first"
        },
        "decode must stop at the end of the first record's payload"
    );
    assert_eq!(
        decode(&bytes[encoded_len(5)..]),
        Decoded::Record {
            lsn: 2,
            payload: b"second"
        },
        "decode on the bytes just after the first record must find the second record, LSN 2"
    );
}

#[test]
fn t1_every_strict_prefix_is_incomplete() {
    let bytes = encode(9, b"a payload of some length");
    for cut in 0..bytes.len() {
        assert_eq!(
            decode(&bytes[..cut]),
            Decoded::Incomplete,
            "the first {cut} of the record's {} bytes are not a whole record yet",
            bytes.len()
        );
    }
}

#[test]
fn t1_every_single_bit_flip_is_detected() {
    let payload = b"flip any bit of me";
    let bytes = encode(3, payload);
    for bit in 0..bytes.len() * 8 {
        let mut bad = bytes.clone();
        bad[bit / 8] ^= 1 << (bit % 8);
        let stored = u32::from_le_bytes(bad[..4].try_into().expect("4 bytes"));
        let len = u32::from_le_bytes(bad[12..16].try_into().expect("4 bytes"));
        let expected = if len as usize > MAX_PAYLOAD_LEN {
            Decoded::Corrupt(Defect::TooLong { len })
        } else if len as usize > payload.len() {
            Decoded::Incomplete
        } else {
            let computed = crc32fast::hash(&bad[4..HEADER_LEN + len as usize]);
            Decoded::Corrupt(Defect::Checksum { stored, computed })
        };
        assert_eq!(
            decode(&bad),
            expected,
            "after flipping bit {} of byte {} (the length field now says {len})",
            bit % 8,
            bit / 8
        );
    }
}

#[test]
fn t1_a_length_over_the_maximum_is_damage_and_is_refused() {
    let too_long = u32::try_from(MAX_PAYLOAD_LEN + 1).expect("the maximum fits a u32");
    for len in [too_long, u32::MAX] {
        let mut header = [0u8; HEADER_LEN];
        header[4..12].copy_from_slice(&1u64.to_le_bytes());
        header[12..16].copy_from_slice(&len.to_le_bytes());
        assert_eq!(
            decode(&header),
            Decoded::Corrupt(Defect::TooLong { len }),
            "a length field over MAX_PAYLOAD_LEN is damage, even before its payload could have arrived"
        );
    }

    let big = vec![0u8; MAX_PAYLOAD_LEN + 1];
    assert!(
        matches!(encode_header(1, &big), Err(WalError::PayloadTooLarge { len }) if len == big.len()),
        "encode_header must refuse a payload over MAX_PAYLOAD_LEN"
    );
    let mut out = Vec::new();
    assert!(
        matches!(
            encode_into(1, &big, &mut out),
            Err(WalError::PayloadTooLarge { .. })
        ),
        "encode_into must refuse a payload of MAX_PAYLOAD_LEN + 1 bytes with PayloadTooLarge"
    );
    assert!(
        out.is_empty(),
        "a refused record must leave `out` unchanged"
    );

    let largest = vec![7u8; MAX_PAYLOAD_LEN];
    encode_into(2, &largest, &mut out).expect("exactly MAX_PAYLOAD_LEN bytes is allowed");
    assert_eq!(
        decode(&out),
        Decoded::Record {
            lsn: 2,
            payload: &largest
        },
        "a payload of exactly MAX_PAYLOAD_LEN bytes is allowed and must decode back whole, with LSN 2"
    );
}

// ---------------------------------------------------------------- task 2

#[test]
fn t2_append_returns_consecutive_lsns_starting_at_one() {
    let dir = tempdir();
    let path = dir.path().join("wal.log");
    let mut wal = Wal::open(&path).expect("open creates a missing log");
    assert_eq!(
        wal.path(),
        path,
        "Wal::path must return the path the log was opened with"
    );
    assert_eq!(wal.last_lsn(), 0, "an empty log has no last LSN (0)");
    assert_eq!(
        wal.synced_lsn(),
        0,
        "a new log has nothing durable yet: synced_lsn must be 0"
    );
    let lsns: Vec<u64> = [&b"a"[..], b"bb", b"", b"dddd", b"e"]
        .into_iter()
        .map(|p| wal.append(p).expect("append"))
        .collect();
    assert_eq!(
        lsns,
        vec![1, 2, 3, 4, 5],
        "LSNs start at 1 and go up by one"
    );
    assert_eq!(wal.last_lsn(), 5, "after 5 appends the last LSN must be 5");
    assert!(path.exists(), "open must create the file");
}

#[test]
fn t2_appends_stay_in_the_buffer_until_sync() {
    let dir = tempdir();
    let path = dir.path().join("wal.log");
    let payloads = payloads(&[100, 7, 0]);
    let mut wal = Wal::open(&path).expect("open");

    wal.append(&payloads[0]).expect("append");
    assert_eq!(
        file_len(&path),
        0,
        "append must only fill the BufWriter's buffer; it wrote to the file before sync"
    );
    assert_eq!(wal.synced_lsn(), 0, "nothing is durable before sync");

    wal.sync().expect("sync");
    assert_eq!(
        fs::read(&path).expect("read the log"),
        log_bytes(&payloads[..1]),
        "sync must flush the buffer into the file"
    );
    assert_eq!(
        wal.synced_lsn(),
        1,
        "sync must make the one appended record durable: synced_lsn 1"
    );

    wal.append(&payloads[1]).expect("append");
    wal.append(&payloads[2]).expect("append");
    assert_eq!(
        (wal.last_lsn(), wal.synced_lsn()),
        (3, 1),
        "appended but not yet synced"
    );
    wal.sync().expect("sync");
    assert_eq!(
        wal.synced_lsn(),
        3,
        "the second sync must cover LSNs 2 and 3: synced_lsn 3"
    );
    assert_eq!(
        fs::read(&path).expect("read the log"),
        log_bytes(&payloads),
        "after the second sync the file must hold all 3 records, encoded back to back"
    );
}

#[test]
fn t2_the_file_holds_exactly_the_encoded_records() {
    let dir = tempdir();
    let path = dir.path().join("wal.log");
    // Some records are larger than a BufWriter's default 8 KiB buffer.
    let payloads = payloads(&[0, 1, 300, 10_000, 5, 70_000, 2]);
    let mut wal = Wal::open(&path).expect("open");
    for p in &payloads {
        wal.append(p).expect("append");
    }
    wal.close().expect("close syncs");
    assert_eq!(
        fs::read(&path).expect("read the log"),
        log_bytes(&payloads),
        "the file must hold the records encoded as in task 1, back to back, and nothing else"
    );
}

#[test]
fn t2_lsns_continue_after_reopen() {
    let dir = tempdir();
    let path = dir.path().join("wal.log");
    let payloads = payloads(&[10, 20, 30, 40, 50, 60]);

    let mut wal = Wal::open(&path).expect("open");
    for p in &payloads[..3] {
        wal.append(p).expect("append");
    }
    wal.close().expect("close");

    let mut wal = Wal::open(&path).expect("reopen a clean log");
    assert_eq!(
        wal.last_lsn(),
        3,
        "reopening must find the last LSN in the file"
    );
    assert_eq!(
        wal.synced_lsn(),
        3,
        "what open finds in the file counts as synced"
    );
    assert_eq!(
        wal.append(&payloads[3]).expect("append"),
        4,
        "LSNs must continue after reopen, not restart at 1"
    );
    wal.close().expect("close");

    let mut wal = Wal::open(&path).expect("reopen again");
    assert_eq!(
        wal.append(&payloads[4]).expect("append"),
        5,
        "the first append after the second reopen must continue at LSN 5"
    );
    assert_eq!(
        wal.append(&payloads[5]).expect("append"),
        6,
        "and the next append must get LSN 6"
    );
    wal.close().expect("close");
    assert_eq!(
        fs::read(&path).expect("read the log"),
        log_bytes(&payloads),
        "reopening must append after the existing records, never overwrite them"
    );

    let empty = dir.path().join("empty.log");
    fs::write(&empty, b"").expect("create an empty file");
    let wal = Wal::open(&empty).expect("an existing empty file is an empty log");
    assert_eq!(
        wal.last_lsn(),
        0,
        "an existing empty file is an empty log: last LSN 0"
    );
}

#[test]
fn t2_open_refuses_a_log_that_needs_recovery() {
    let dir = tempdir();
    let payloads = payloads(&[5, 6, 7]);
    let good = log_bytes(&payloads);

    let torn = dir.path().join("torn.log");
    let mut bytes = good.clone();
    bytes.extend_from_slice(&encode(4, b"never finished")[..10]);
    fs::write(&torn, &bytes).expect("write the log");
    let opened = Wal::open(&torn);
    assert!(
        matches!(opened, Err(WalError::NeedsRecovery { offset }) if offset == good.len() as u64),
        "a log that ends with half a record needs recovery at byte {}, got {opened:?}",
        good.len()
    );
    assert_eq!(
        fs::read(&torn).expect("read the log"),
        bytes,
        "open must not change a log it refuses"
    );

    let gap = dir.path().join("gap.log");
    let mut bytes = encode(1, b"one");
    bytes.extend_from_slice(&encode(3, b"three"));
    fs::write(&gap, &bytes).expect("write the log");
    let opened = Wal::open(&gap);
    assert!(
        matches!(opened, Err(WalError::NeedsRecovery { offset }) if offset == encoded_len(3) as u64),
        "record 2 is missing: LSN 3 cannot follow LSN 1; got {opened:?}"
    );

    let late_start = dir.path().join("late.log");
    fs::write(&late_start, encode(2, b"two")).expect("write the log");
    let opened = Wal::open(&late_start);
    assert!(
        matches!(opened, Err(WalError::NeedsRecovery { offset: 0 })),
        "a log starts at LSN 1; got {opened:?}"
    );

    // A flipped bit in a payload leaves every length and LSN intact: only
    // the CRC can tell. Appending after such a record would bury it.
    let starts = record_starts(&payloads);
    for (i, &start) in starts.iter().enumerate() {
        let damaged_path = dir.path().join(format!("damaged-{i}.log"));
        let mut bytes = good.clone();
        bytes[start + HEADER_LEN] ^= 0x10;
        fs::write(&damaged_path, &bytes).expect("write the log");
        let opened = Wal::open(&damaged_path);
        assert!(
            matches!(opened, Err(WalError::NeedsRecovery { offset }) if offset == start as u64),
            "record {} has a flipped bit in its payload, so its CRC does not match: open must \
             refuse the log with NeedsRecovery at byte {start} (check every record with decode, \
             not only its length and LSN); got {opened:?}",
            i + 1
        );
    }
}

#[test]
fn t2_an_oversized_payload_is_refused_and_uses_no_lsn() {
    let dir = tempdir();
    let path = dir.path().join("wal.log");
    let payloads = payloads(&[3, 4]);
    let mut wal = Wal::open(&path).expect("open");
    assert_eq!(
        wal.append(&payloads[0]).expect("append"),
        1,
        "the first append to a new log must get LSN 1"
    );
    let refused = wal.append(&vec![1u8; MAX_PAYLOAD_LEN + 1]);
    assert!(
        matches!(refused, Err(WalError::PayloadTooLarge { .. })),
        "an append of MAX_PAYLOAD_LEN + 1 bytes must be refused with PayloadTooLarge, got {refused:?}"
    );
    assert_eq!(wal.last_lsn(), 1, "a refused append must not use up an LSN");
    assert_eq!(
        wal.append(&payloads[1]).expect("append"),
        2,
        "the append after a refused one must get LSN 2: the refused payload used no LSN"
    );
    wal.close().expect("close");
    assert_eq!(
        fs::read(&path).expect("read the log"),
        log_bytes(&payloads),
        "a refused append must not write anything"
    );
}

#[test]
fn t2_open_in_a_missing_directory_is_an_io_error() {
    let dir = tempdir();
    let opened = Wal::open(dir.path().join("no-such-dir").join("wal.log"));
    assert!(
        matches!(opened, Err(WalError::Io(_))),
        "opening a log in a missing directory must fail with WalError::Io, got {opened:?}"
    );
}

// ---------------------------------------------------------------- task 3

#[test]
fn t3_a_clean_log_is_read_completely() {
    let payloads = payloads(&[0, 12, 3000, 1]);
    let bytes = log_bytes(&payloads);
    let found = scan(&bytes).expect("a clean log");
    assert_eq!(
        found,
        LogScan {
            records: records(&payloads),
            valid_len: bytes.len() as u64,
            torn_at: None,
        },
        "scanning a clean log of 4 records must find all of them, valid to its end (byte {}), with no torn tail",
        bytes.len()
    );
    assert_eq!(
        found.last_lsn(),
        4,
        "LogScan::last_lsn must be the LSN of the last record found (4)"
    );
    assert_eq!(
        scan(&[]).expect("an empty log"),
        LogScan {
            records: vec![],
            valid_len: 0,
            torn_at: None
        },
        "an empty log must scan to no records, 0 valid bytes and no torn tail"
    );
}

#[test]
fn t3_a_torn_tail_stops_cleanly_and_reports_its_offset() {
    let payloads = payloads(&[4, 40, 8]);
    let good = log_bytes(&payloads);
    let next = encode(4, b"the record that was being written");
    let tails: [(&str, Vec<u8>); 5] = [
        ("half a header", next[..7].to_vec()),
        (
            "a header without all of its payload",
            next[..HEADER_LEN + 5].to_vec(),
        ),
        ("all but the last byte", next[..next.len() - 1].to_vec()),
        (
            "zeros (space the file system allocated but never wrote)",
            vec![0; 64],
        ),
        ("0xFF bytes", vec![0xFF; 40]),
    ];
    for (what, tail) in tails {
        let mut bytes = good.clone();
        bytes.extend_from_slice(&tail);
        let found = scan(&bytes).unwrap_or_else(|e| {
            panic!("a log that ends with {what} has a torn tail, not corruption: {e}")
        });
        assert_eq!(
            found,
            LogScan {
                records: records(&payloads),
                valid_len: good.len() as u64,
                torn_at: Some(good.len() as u64),
            },
            "a log that ends with {what}"
        );
    }
}

#[test]
fn t3_damage_followed_by_valid_records_is_corruption() {
    let payloads = payloads(&[10, 20, 30, 40]);
    let good = log_bytes(&payloads);
    let starts = record_starts(&payloads);
    let second = starts[1];

    let mut bytes = good.clone();
    bytes[second + HEADER_LEN + 3] ^= 0x10;
    expect_corrupt(
        &bytes,
        second,
        "a flipped payload bit in record 2 of 4",
        |d| matches!(d, Defect::Checksum { .. }),
    );

    let mut bytes = good.clone();
    let past_the_end = u32::try_from(good.len()).expect("small log");
    bytes[second + 12..second + 16].copy_from_slice(&past_the_end.to_le_bytes());
    expect_corrupt(
        &bytes,
        second,
        "record 2's length pointing past the end of the log",
        |d| d == Defect::Truncated,
    );

    let mut bytes = good.clone();
    let huge = u32::try_from(MAX_PAYLOAD_LEN + 5).expect("fits");
    bytes[second + 12..second + 16].copy_from_slice(&huge.to_le_bytes());
    expect_corrupt(&bytes, second, "record 2's length over the maximum", |d| {
        d == Defect::TooLong { len: huge }
    });

    let mut bytes = good.clone();
    bytes[5] ^= 0x01;
    expect_corrupt(&bytes, 0, "a flipped LSN bit in the first record", |d| {
        matches!(d, Defect::Checksum { .. })
    });

    let mut bytes = good.clone();
    let third = starts[2];
    bytes.splice(third..third, [0u8; 24]);
    expect_corrupt(
        &bytes,
        third,
        "24 zero bytes between records 2 and 3",
        |d| matches!(d, Defect::Checksum { .. }),
    );

    // Only one record follows this damage, and its LSN is the very next one.
    let mut bytes = good.clone();
    let fourth = starts[3];
    bytes.splice(fourth..fourth, [0u8; 16]);
    expect_corrupt(
        &bytes,
        fourth,
        "16 zero bytes between records 3 and 4",
        |d| matches!(d, Defect::Checksum { .. }),
    );
}

#[test]
fn t3_damage_in_the_last_record_is_a_torn_tail() {
    let payloads = payloads(&[10, 20, 30]);
    let mut bytes = log_bytes(&payloads);
    let last = record_starts(&payloads)[2];
    let end = bytes.len();
    bytes[end - 2] ^= 0x80;
    let found = scan(&bytes).unwrap_or_else(|e| {
        panic!("nothing valid follows the damaged last record, so it is a torn tail: {e}")
    });
    assert_eq!(
        found.records,
        records(&payloads[..2]),
        "the damaged last record must be dropped, leaving records 1 and 2"
    );
    assert_eq!(
        found.valid_len, last as u64,
        "valid_len must end where the damaged last record starts (byte {last})"
    );
    assert_eq!(
        found.torn_at,
        Some(last as u64),
        "torn_at must point at the damaged last record (byte {last})"
    );
}

#[test]
fn t3_an_intact_record_with_the_wrong_lsn_is_corruption() {
    let cases: [(&[u64], usize, u64, u64); 3] = [
        (&[1, 2, 4], 2, 3, 4),
        (&[2, 3], 0, 1, 2),
        (&[1, 1], 1, 2, 1),
    ];
    for (lsns, bad_index, expected, found) in cases {
        let mut bytes = Vec::new();
        let mut starts = Vec::new();
        for &lsn in lsns {
            starts.push(bytes.len());
            encode_into(lsn, format!("record {lsn}").as_bytes(), &mut bytes).expect("encode");
        }
        let got = scan(&bytes);
        assert!(
            matches!(
                got,
                Err(WalError::Corrupt { offset, defect: Defect::LsnGap { expected: e, found: f } })
                    if offset == starts[bad_index] as u64 && e == expected && f == found
            ),
            "a log with LSNs {lsns:?} (the first must be 1, then each +1): expected an LsnGap \
             (expected {expected}, found {found}) at byte {}, got {got:?}",
            starts[bad_index]
        );
    }
}

#[test]
fn t3_read_log_reads_a_file_without_changing_it() {
    let dir = tempdir();
    let path = dir.path().join("wal.log");
    let payloads = payloads(&[5, 50]);
    let mut bytes = log_bytes(&payloads);
    bytes.extend_from_slice(&encode(3, b"torn")[..9]);
    fs::write(&path, &bytes).expect("write the log");

    let found = read_log(&path).expect("a torn tail is not an error");
    assert_eq!(
        found,
        scan(&bytes).expect("same bytes"),
        "read_log must give the same LogScan as scan gives for the file's bytes"
    );
    assert_eq!(
        found.torn_at,
        Some(log_bytes(&payloads).len() as u64),
        "read_log must report the torn tail where the half-written record 3 starts (byte {})",
        log_bytes(&payloads).len()
    );
    assert_eq!(
        fs::read(&path).expect("read the log"),
        bytes,
        "read_log must not change the file; cutting the tail is recover's job"
    );

    let missing = dir.path().join("missing.log");
    assert_eq!(
        read_log(&missing).expect("a missing log is an empty log"),
        LogScan::default(),
        "read_log on a missing file must return an empty LogScan (no records, no torn tail)"
    );
    assert!(!missing.exists(), "read_log must not create the file");
}

#[test]
fn t3_recover_truncates_the_torn_tail_and_appending_works() {
    let dir = tempdir();
    let path = dir.path().join("wal.log");
    let payloads = payloads(&[5, 500, 50]);
    let good = log_bytes(&payloads);
    let mut bytes = good.clone();
    bytes.extend_from_slice(&encode(4, &[9; 100])[..60]);
    fs::write(&path, &bytes).expect("write the log");

    let found = recover(&path).expect("a torn tail is recoverable");
    assert_eq!(
        found.records,
        records(&payloads),
        "recover must return the 3 intact records before the torn tail"
    );
    assert_eq!(
        found.torn_at,
        Some(good.len() as u64),
        "recover must report where the torn tail started (byte {})",
        good.len()
    );
    assert_eq!(
        file_len(&path),
        good.len() as u64,
        "recover must cut the file back to its last intact record"
    );

    let mut wal = Wal::open(&path).expect("a recovered log opens");
    assert_eq!(
        wal.last_lsn(),
        3,
        "a recovered log must reopen with the last intact record's LSN, 3"
    );
    assert_eq!(
        wal.append(b"after recovery").expect("append"),
        4,
        "the first append after recovery must continue at LSN 4"
    );
    wal.close().expect("close");

    let again = recover(&path).expect("recover a clean log");
    assert_eq!(again.torn_at, None, "the log is clean now");
    assert_eq!(
        again.records.len(),
        4,
        "after recovery and one more append, the log must hold 4 records"
    );
    assert_eq!(
        again.records[3].payload, b"after recovery",
        "record 4 must be the one appended after recovery"
    );

    let missing = dir.path().join("missing.log");
    assert_eq!(
        recover(&missing).expect("nothing to recover"),
        LogScan::default(),
        "recover on a missing file must return an empty LogScan"
    );
    assert!(!missing.exists(), "recover must not create the file");
}

#[test]
fn t3_recover_leaves_a_corrupt_log_untouched() {
    let dir = tempdir();
    let path = dir.path().join("wal.log");
    let payloads = payloads(&[30, 30, 30]);
    let mut bytes = log_bytes(&payloads);
    bytes[HEADER_LEN + 2] ^= 0xFF;
    fs::write(&path, &bytes).expect("write the log");

    let recovered = recover(&path);
    assert!(
        matches!(recovered, Err(WalError::Corrupt { offset: 0, .. })),
        "record 1 is damaged and records 2 and 3 follow it: expected Corrupt at byte 0, got {recovered:?}"
    );
    assert_eq!(
        fs::read(&path).expect("read the log"),
        bytes,
        "recover must never truncate a corrupt log: the records after the damage would be lost"
    );
    assert!(
        Wal::open(&path).is_err(),
        "a corrupt log must not open for appending"
    );
}

// ---------------------------------------------------------------- task 4

#[test]
fn t4_replay_applies_every_record_in_order() {
    let log = deposits(&[10, 20, -5, 7, 100]);
    let mut account = Account::default();
    let stats = replay(&log, &mut account).expect("replay");
    assert_eq!(
        stats,
        ReplayStats {
            applied: 5,
            skipped: 0
        },
        "replay into a fresh state must apply all 5 records and skip none"
    );
    assert_eq!(account.history, vec![1, 2, 3, 4, 5], "apply in LSN order");
    assert_eq!(
        account.balance, 132,
        "the balance must be the sum of the 5 deposits (10 + 20 - 5 + 7 + 100), each applied once"
    );
    assert_eq!(
        account.applied_lsn, 5,
        "after replay the state's applied LSN must be the last record's, 5"
    );
}

#[test]
fn t4_replaying_twice_applies_each_record_once() {
    let log = deposits(&[10, 20, 30]);
    let mut account = Account::default();
    replay(&log, &mut account).expect("first replay");
    let stats = replay(&log, &mut account).expect("second replay");
    assert_eq!(
        stats,
        ReplayStats {
            applied: 0,
            skipped: 3
        },
        "every record is older than the state's applied LSN: skip them all"
    );
    assert_eq!(
        account.balance, 60,
        "a deposit applied twice is money created out of thin air"
    );
    assert_eq!(
        account.history,
        vec![1, 2, 3],
        "the second replay must apply nothing: LSNs 1, 2, 3 applied once each"
    );
}

#[test]
fn t4_a_state_that_has_a_prefix_gets_only_the_rest() {
    let log = deposits(&[1, 2, 4, 8, 16]);
    // The state was saved after applying LSNs 1..=3, then the process crashed.
    let mut account = Account {
        balance: 7,
        applied_lsn: 3,
        ..Account::default()
    };
    let stats = replay(&log, &mut account).expect("replay");
    assert_eq!(
        stats,
        ReplayStats {
            applied: 2,
            skipped: 3
        },
        "the state has applied LSNs 1..=3: replay must skip those 3 and apply LSNs 4 and 5"
    );
    assert_eq!(
        account.history,
        vec![4, 5],
        "the state already holds LSNs 1..=3; remember only the state's applied LSN survives a \
         crash, not a set kept inside replay"
    );
    assert_eq!(
        account.balance, 31,
        "the saved balance 7 plus the deposits of LSNs 4 and 5 (8 + 16) is 31"
    );

    let mut ahead = Account {
        applied_lsn: 10,
        ..Account::default()
    };
    let stats = replay(&log, &mut ahead).expect("replay");
    assert_eq!(
        stats,
        ReplayStats {
            applied: 0,
            skipped: 5
        },
        "a state already at LSN 10 is ahead of the whole log: replay must skip all 5 records"
    );
    assert!(
        ahead.history.is_empty(),
        "a state ahead of the log must get nothing applied, but LSNs {:?} were",
        ahead.history
    );
}

#[test]
fn t4_a_failed_apply_stops_and_the_next_replay_finishes() {
    let log = deposits(&[1, 10, 100, 1_000, 10_000, 100_000]);
    let mut account = Account {
        fail_at: Some(4),
        ..Account::default()
    };
    let failed = replay(&log, &mut account);
    match &failed {
        Err(ReplayError::Apply { lsn: 4, source }) => assert_eq!(
            source.0, 4,
            "ReplayError::Apply must carry the state's own error, the crash at LSN 4"
        ),
        other => panic!(
            "applying LSN 4 fails: expected ReplayError::Apply {{ lsn: 4, .. }}, got {other:?}"
        ),
    }
    let err = failed.expect_err("checked above");
    assert!(
        std::error::Error::source(&err).is_some(),
        "ReplayError::Apply must keep the state's error as its source"
    );
    assert_eq!(
        account.history,
        vec![1, 2, 3],
        "replay must stop at the first failure: nothing after LSN 4 may be applied"
    );

    account.fail_at = None;
    let stats = replay(&log, &mut account).expect("the second replay succeeds");
    assert_eq!(
        stats,
        ReplayStats {
            applied: 3,
            skipped: 3
        },
        "after the failure at LSN 4, the next replay must skip LSNs 1..=3 and apply 4, 5 and 6"
    );
    assert_eq!(
        account.history,
        vec![1, 2, 3, 4, 5, 6],
        "across both replays each LSN must be applied exactly once, in order"
    );
    assert_eq!(
        account.balance, 111_111,
        "the balance must count every deposit exactly once: 1 + 10 + ... + 100000 = 111111"
    );
}

#[test]
fn t4_missing_records_are_an_error_not_a_skip() {
    let log: Vec<Record> = deposits(&[1, 2, 3, 4, 5, 6, 7]).split_off(4);
    let mut account = Account {
        applied_lsn: 2,
        ..Account::default()
    };
    let got = replay(&log, &mut account);
    assert!(
        matches!(
            got,
            Err(ReplayError::Gap {
                applied_lsn: 2,
                next_lsn: 5
            })
        ),
        "the state has LSN 2 and the log starts at 5: LSNs 3 and 4 are lost; got {got:?}"
    );
    assert!(account.history.is_empty(), "apply nothing past a gap");

    let mut holes = deposits(&[1, 2, 3, 4]);
    holes.remove(2);
    let mut account = Account::default();
    let got = replay(&holes, &mut account);
    assert!(
        matches!(
            got,
            Err(ReplayError::Gap {
                applied_lsn: 2,
                next_lsn: 4
            })
        ),
        "LSN 3 is missing between 2 and 4: expected Gap {{ applied_lsn: 2, next_lsn: 4 }}, got {got:?}"
    );
    assert_eq!(
        account.history,
        vec![1, 2],
        "replay must apply LSNs 1 and 2, then stop at the gap before LSN 4"
    );

    let stats = replay(&[], &mut Account::default()).expect("an empty log");
    assert_eq!(
        stats,
        ReplayStats::default(),
        "replaying an empty log must apply and skip nothing"
    );
}

#[test]
fn t4_recover_and_replay_after_crashes() {
    let dir = tempdir();
    let path = dir.path().join("wal.log");
    let mut wal = Wal::open(&path).expect("open");
    for amount in [5i64, 6, 7, 8] {
        wal.append(&amount.to_le_bytes()).expect("append");
    }
    wal.close().expect("close");
    // The machine died while record 4 was being written.
    let keep = (encoded_len(8) * 3 + 11) as u64;
    fs::OpenOptions::new()
        .write(true)
        .open(&path)
        .and_then(|f| f.set_len(keep))
        .expect("tear the last record");

    let found = recover(&path).expect("recover");
    assert_eq!(
        found.records.len(),
        3,
        "recover must keep the 3 intact records and drop the torn 4th"
    );
    // The process crashes again while replaying LSN 3.
    let mut account = Account {
        fail_at: Some(3),
        ..Account::default()
    };
    assert!(
        replay(&found.records, &mut account).is_err(),
        "applying LSN 3 fails, so replay must return that error"
    );
    account.fail_at = None;
    let found = recover(&path).expect("recover again");
    replay(&found.records, &mut account).expect("replay again");
    assert_eq!(
        (account.balance, account.applied_lsn),
        (18, 3),
        "after the crash at LSN 3 and a second replay, LSNs 1..=3 are applied once each: expected (balance 5 + 6 + 7 = 18, applied LSN 3)"
    );

    let mut wal = Wal::open(&path).expect("open after recovery");
    assert_eq!(
        wal.append(&100i64.to_le_bytes()).expect("append"),
        4,
        "the first append after recovery must continue at LSN 4"
    );
    wal.close().expect("close");
    let found = recover(&path).expect("recover");
    let stats = replay(&found.records, &mut account).expect("replay");
    assert_eq!(
        stats,
        ReplayStats {
            applied: 1,
            skipped: 3
        },
        "replaying the grown log must apply only the new LSN 4 and skip 1..=3"
    );
    assert_eq!(
        account.history,
        vec![1, 2, 3, 4],
        "across the crash and all replays each LSN must be applied exactly once, in order"
    );
    assert_eq!(
        account.balance, 118,
        "the balance must be 18 plus the new deposit of 100, with nothing counted twice"
    );
}

// ---------------------------------------------------------------- task 5

#[test]
fn t5_every_tick_syncs_once_on_a_thread_named_wal_syncer() {
    let disk = Arc::new(FakeDisk::default());
    let (tick, ticks) = crossbeam_channel::unbounded();
    let syncer = BackgroundSyncer::spawn(Arc::clone(&disk), ticks).expect("spawn");
    assert_eq!(disk.syncs(), 0, "no tick yet, so no sync yet");

    tick.send(Instant::now()).expect("the syncer is listening");
    assert!(
        wait_until(|| disk.syncs() >= 1),
        "one tick was sent, but no sync happened"
    );
    tick.send(Instant::now()).expect("the syncer is listening");
    tick.send(Instant::now()).expect("the syncer is listening");
    assert!(
        wait_until(|| disk.syncs() >= 3),
        "three ticks were sent, but only {} syncs happened",
        disk.syncs()
    );
    assert_eq!(disk.syncs(), 3, "one sync per tick, no more");

    let total = syncer.shutdown().expect("no sync failed");
    assert_eq!(
        disk.syncs(),
        4,
        "shutdown must sync one last time: 3 ticks + 1 final sync"
    );
    assert_eq!(total, 4, "shutdown returns how many syncs succeeded");
    let names = disk.thread_names();
    assert!(
        names.iter().all(|n| n.as_deref() == Some("wal-syncer")),
        "every sync must run on the background thread named `wal-syncer`, got {names:?}"
    );
}

#[test]
fn t5_shutdown_without_ticks_syncs_once_and_joins() {
    let disk = Arc::new(FakeDisk::default());
    let (_tick, ticks) = crossbeam_channel::unbounded();
    let syncer = BackgroundSyncer::spawn(Arc::clone(&disk), ticks).expect("spawn");
    assert_eq!(
        syncer.shutdown().expect("no sync failed"),
        1,
        "with no tick, shutdown's final sync is the only sync: it must return 1"
    );
    assert_eq!(
        disk.syncs(),
        1,
        "close must sync even if no tick ever came: the last appends are not durable otherwise"
    );
    assert_eq!(
        Arc::strong_count(&disk),
        1,
        "when shutdown returns, the syncer thread must have ended (join it) and dropped its target"
    );
}

#[test]
fn t5_dropping_the_syncer_stops_it_with_a_final_sync() {
    let disk = Arc::new(FakeDisk::default());
    let (tick, ticks) = crossbeam_channel::unbounded();
    let syncer = BackgroundSyncer::spawn(Arc::clone(&disk), ticks).expect("spawn");
    tick.send(Instant::now()).expect("the syncer is listening");
    assert!(
        wait_until(|| disk.syncs() >= 1),
        "a tick was sent, but no sync happened"
    );
    drop(syncer);
    assert_eq!(
        disk.syncs(),
        2,
        "dropping the syncer must stop it like shutdown does, final sync included"
    );
    assert_eq!(
        Arc::strong_count(&disk),
        1,
        "drop must wait for the syncer thread to end"
    );
}

#[test]
fn t5_a_closed_ticker_does_not_spin() {
    let disk = Arc::new(FakeDisk::default());
    let (tick, ticks) = crossbeam_channel::unbounded::<Instant>();
    let syncer = BackgroundSyncer::spawn(Arc::clone(&disk), ticks).expect("spawn");
    drop(tick);
    // Give a wrong implementation ample time to go wrong.
    thread::sleep(Duration::from_millis(100));
    assert_eq!(
        disk.syncs(),
        0,
        "the ticker closed, which is not a tick: a closed channel is always ready in select!, \
         so stop selecting on it (and do not sync or finish early: wait for shutdown)"
    );
    assert_eq!(
        syncer.shutdown().expect("no sync failed"),
        1,
        "after the ticker closed, shutdown must do only the final sync and return 1"
    );
    assert_eq!(disk.syncs(), 1, "the final sync still happens");
}

#[test]
fn t5_the_first_sync_error_stops_the_syncer_and_is_returned() {
    let disk = Arc::new(FakeDisk {
        fail_on: Some(2),
        ..FakeDisk::default()
    });
    let (tick, ticks) = crossbeam_channel::unbounded();
    let syncer = BackgroundSyncer::spawn(Arc::clone(&disk), ticks).expect("spawn");
    tick.send(Instant::now()).expect("the syncer is listening");
    assert!(
        wait_until(|| disk.syncs() >= 1),
        "a tick was sent, but no sync happened"
    );
    tick.send(Instant::now()).expect("the syncer is listening");
    assert!(
        wait_until(|| disk.syncs() >= 2),
        "two ticks were sent, but only one sync happened"
    );
    // The syncer has stopped, so this tick may stay unread.
    let _ = tick.send(Instant::now());

    let result = syncer.shutdown();
    match &result {
        Err(WalError::Io(e)) => assert!(
            e.to_string().contains("disk on fire"),
            "shutdown must return the sync's own error, got {e}"
        ),
        other => panic!("the second sync failed, so shutdown must return its error; got {other:?}"),
    }
    assert_eq!(
        disk.syncs(),
        2,
        "after a failed sync the syncer must stop syncing, final sync included: a retried fsync \
         can report success for data that was already lost"
    );
}

#[test]
fn t5_a_tick_flushes_a_shared_wal_to_disk() {
    let dir = tempdir();
    let path = dir.path().join("wal.log");
    let payloads = payloads(&[40, 400, 4]);
    let wal = Arc::new(Mutex::new(Wal::open(&path).expect("open")));
    let (tick, ticks) = crossbeam_channel::unbounded();
    let syncer = BackgroundSyncer::spawn(Arc::clone(&wal), ticks).expect("spawn");

    {
        let mut wal = wal.lock().expect("not poisoned");
        wal.append(&payloads[0]).expect("append");
        wal.append(&payloads[1]).expect("append");
    }
    tick.send(Instant::now()).expect("the syncer is listening");
    let expected = log_bytes(&payloads[..2]);
    assert!(
        wait_until(|| fs::read(&path).is_ok_and(|b| b == expected)),
        "a tick must flush the appended records into the file"
    );
    assert!(
        wait_until(|| wal.lock().expect("not poisoned").synced_lsn() == 2),
        "after the tick's sync, synced_lsn must be 2"
    );

    wal.lock()
        .expect("not poisoned")
        .append(&payloads[2])
        .expect("append");
    assert_eq!(
        syncer.shutdown().expect("no sync failed"),
        2,
        "one tick and the final sync: shutdown must return 2 successful syncs"
    );
    assert_eq!(
        fs::read(&path).expect("read the log"),
        log_bytes(&payloads),
        "the final sync must cover the record appended after the last tick"
    );
    assert_eq!(
        wal.lock().expect("not poisoned").synced_lsn(),
        3,
        "the final sync must make the record appended after the last tick durable: synced_lsn 3"
    );
}

#[test]
fn t5_a_poisoned_wal_is_an_error_not_synced() {
    let dir = tempdir();
    let path = dir.path().join("wal.log");
    let wal = Arc::new(Mutex::new(Wal::open(&path).expect("open")));
    let in_thread = Arc::clone(&wal);
    let crashed = thread::spawn(move || {
        let mut wal = in_thread.lock().expect("not poisoned yet");
        wal.append(b"half of a transaction").expect("append");
        panic!("this thread dies holding the WAL lock (this panic is expected)");
    })
    .join();
    assert!(crashed.is_err(), "setup check: the thread panicked");

    let (_tick, ticks) = crossbeam_channel::unbounded();
    let syncer = BackgroundSyncer::spawn(Arc::clone(&wal), ticks).expect("spawn");
    let result = syncer.shutdown();
    assert!(
        matches!(result, Err(WalError::Poisoned)),
        "a poisoned lock means the log may hold half of someone's work: report \
         WalError::Poisoned instead of syncing it; got {result:?}"
    );
    assert_eq!(
        file_len(&path),
        0,
        "nothing of the panicked thread's work may reach the file"
    );
}

#[test]
fn t5_with_interval_ticks_by_itself() {
    let disk = Arc::new(FakeDisk::default());
    let syncer = BackgroundSyncer::with_interval(Arc::clone(&disk), Duration::from_millis(1))
        .expect("spawn");
    assert!(
        wait_until(|| disk.syncs() >= 3),
        "with a 1 ms interval, 3 syncs should come quickly; got {}",
        disk.syncs()
    );
    let total = syncer.shutdown().expect("no sync failed");
    assert_eq!(
        total,
        disk.syncs(),
        "shutdown must return how many syncs succeeded: every sync the disk saw"
    );
    assert!(total >= 4, "3 ticks and a final sync, got {total}");
}

// ---------------------------------------------------------------- helpers

fn tempdir() -> tempfile::TempDir {
    tempfile::tempdir().expect("create a temporary directory")
}

fn file_len(path: &Path) -> u64 {
    fs::metadata(path).map_or(0, |m| m.len())
}

/// One record, encoded.
fn encode(lsn: u64, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    encode_into(lsn, payload, &mut out).expect("test payloads are small");
    out
}

/// Payloads of the given lengths, each with different bytes.
fn payloads(lens: &[usize]) -> Vec<Vec<u8>> {
    lens.iter()
        .enumerate()
        .map(|(i, &len)| (0..len).map(|j| (i * 31 + j * 7) as u8).collect())
        .collect()
}

/// The records with LSNs 1, 2, ... and these payloads.
fn records(payloads: &[Vec<u8>]) -> Vec<Record> {
    payloads
        .iter()
        .zip(1..)
        .map(|(p, lsn)| Record {
            lsn,
            payload: p.clone(),
        })
        .collect()
}

/// The log holding [`records`]`(payloads)`.
fn log_bytes(payloads: &[Vec<u8>]) -> Vec<u8> {
    let mut out = Vec::new();
    for (p, lsn) in payloads.iter().zip(1..) {
        encode_into(lsn, p, &mut out).expect("test payloads are small");
    }
    out
}

/// Where each record of [`log_bytes`]`(payloads)` starts.
fn record_starts(payloads: &[Vec<u8>]) -> Vec<usize> {
    payloads
        .iter()
        .scan(0, |at, p| {
            let start = *at;
            *at += encoded_len(p.len());
            Some(start)
        })
        .collect()
}

fn expect_corrupt(bytes: &[u8], offset: usize, what: &str, defect_ok: impl Fn(Defect) -> bool) {
    match scan(bytes) {
        Err(WalError::Corrupt { offset: at, defect }) => {
            assert_eq!(
                at, offset as u64,
                "{what}: the error must point at the damaged record"
            );
            assert!(defect_ok(defect), "{what}: unexpected defect {defect:?}");
        }
        other => panic!(
            "{what}: valid records follow the damage, so this is corruption, not a torn tail; \
             expected WalError::Corrupt at byte {offset}, got {other:?}"
        ),
    }
}

/// Polls `done` until it is true or [`DEADLINE`] passes; returns the last answer.
fn wait_until(done: impl Fn() -> bool) -> bool {
    let deadline = Instant::now() + DEADLINE;
    while !done() {
        if Instant::now() >= deadline {
            return false;
        }
        thread::sleep(Duration::from_millis(1));
    }
    true
}

/// A bank account whose deposits are logged: applying one twice is visible.
#[derive(Debug, Default)]
struct Account {
    balance: i64,
    applied_lsn: u64,
    /// Every LSN applied, in order.
    history: Vec<u64>,
    /// Simulates a crash: applying this LSN fails and changes nothing.
    fail_at: Option<u64>,
}

#[derive(Debug, thiserror::Error)]
#[error("simulated crash while applying LSN {0}")]
struct Crash(u64);

impl ApplyLog for Account {
    type Error = Crash;

    fn applied_lsn(&self) -> u64 {
        self.applied_lsn
    }

    fn apply(&mut self, record: &Record) -> Result<(), Crash> {
        if self.fail_at == Some(record.lsn) {
            return Err(Crash(record.lsn));
        }
        let amount: [u8; 8] = record.payload[..].try_into().expect("a deposit is an i64");
        self.balance += i64::from_le_bytes(amount);
        self.applied_lsn = record.lsn;
        self.history.push(record.lsn);
        Ok(())
    }
}

/// Deposit records with LSNs 1, 2, ...
fn deposits(amounts: &[i64]) -> Vec<Record> {
    amounts
        .iter()
        .zip(1..)
        .map(|(amount, lsn)| Record {
            lsn,
            payload: amount.to_le_bytes().to_vec(),
        })
        .collect()
}

/// A sync target that counts syncs and can fail one of them.
#[derive(Debug, Default)]
struct FakeDisk {
    syncs: AtomicU64,
    /// The names of the threads the syncs ran on.
    threads: Mutex<Vec<Option<String>>>,
    /// This sync (1-based) fails.
    fail_on: Option<u64>,
}

impl FakeDisk {
    fn syncs(&self) -> u64 {
        self.syncs.load(Ordering::SeqCst)
    }

    fn thread_names(&self) -> Vec<Option<String>> {
        self.threads.lock().expect("not poisoned").clone()
    }
}

impl SyncTarget for FakeDisk {
    fn sync(&self) -> Result<(), WalError> {
        self.threads
            .lock()
            .expect("not poisoned")
            .push(thread::current().name().map(str::to_owned));
        let n = self.syncs.fetch_add(1, Ordering::SeqCst) + 1;
        if self.fail_on == Some(n) {
            return Err(WalError::Io(io::Error::other("disk on fire")));
        }
        Ok(())
    }
}
