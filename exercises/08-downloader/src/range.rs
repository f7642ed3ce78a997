//! Task 7: reading the server's answer to a `Range` request.

// ANCHOR: task7
/// A parsed `Content-Range` response header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContentRange {
    /// `bytes FIRST-LAST/TOTAL` (or `/*` when the total is unknown): the
    /// body holds bytes `first..=last` of the file.
    Bytes {
        /// The first byte in the body.
        first: u64,
        /// The last byte in the body (inclusive).
        last: u64,
        /// The whole file's length, if the server knows it.
        total: Option<u64>,
    },
    /// `bytes */TOTAL`, sent with `416 Range Not Satisfiable`: the range
    /// asked for starts at or past the end of a file of `total` bytes.
    Unsatisfied {
        /// The whole file's length.
        total: u64,
    },
}

/// Parses a `Content-Range` header value: `bytes 0-99/1000`,
/// `bytes 0-99/*` or `bytes */1000`. Anything else is `None`: another unit,
/// a missing or non-numeric part, `last < first`, or `last >= total`.
/// Spaces around the value are allowed.
pub fn parse_content_range(value: &str) -> Option<ContentRange> {
    todo!("task 7: strip the `bytes ` prefix, split at '/', then read `*` or `FIRST-LAST`")
}
// ANCHOR_END: task7
