//! Just enough HTTP/1.1 parsing for the test server.

use std::io::{self, BufRead};

/// The longest request head the server reads.
const MAX_HEAD: usize = 16 * 1024;

/// A parsed request line and headers.
#[derive(Debug)]
pub(crate) struct RequestHead {
    pub(crate) method: String,
    pub(crate) path: String,
    pub(crate) headers: Vec<(String, String)>,
}

impl RequestHead {
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Reads a request head. `Ok(None)` if the connection closed before a
/// complete request line arrived.
pub(crate) fn read_head(reader: &mut impl BufRead) -> io::Result<Option<RequestHead>> {
    let mut lines = Vec::new();
    let mut read = 0;
    loop {
        let mut line = String::new();
        let n = reader.read_line(&mut line)?;
        if n == 0 {
            return Ok(None);
        }
        read += n;
        if read > MAX_HEAD {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "request head too long",
            ));
        }
        let line = line.trim_end_matches(['\r', '\n']).to_string();
        if line.is_empty() {
            break;
        }
        lines.push(line);
    }
    let Some((request_line, header_lines)) = lines.split_first() else {
        return Ok(None);
    };
    let mut parts = request_line.split_whitespace();
    let (Some(method), Some(target)) = (parts.next(), parts.next()) else {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            "bad request line",
        ));
    };
    let path = target.split('?').next().unwrap_or(target).to_string();
    let headers = header_lines
        .iter()
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    Ok(Some(RequestHead {
        method: method.to_string(),
        path,
        headers,
    }))
}

/// A `Range` header, resolved against a body of known length.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum ByteRange {
    /// Bytes `start..end` of the body.
    Satisfiable { start: usize, end: usize },
    /// The range starts at or past the end of the body.
    Unsatisfiable,
}

impl ByteRange {
    /// Parses `bytes=N-` or `bytes=N-M`. Anything else (suffix ranges,
    /// several ranges, garbage) is `None`, and the server ignores it.
    pub(crate) fn parse(value: &str, total: usize) -> Option<Self> {
        let spec = value.trim().strip_prefix("bytes=")?;
        let (first, last) = spec.split_once('-')?;
        let start: usize = first.trim().parse().ok()?;
        let end = match last.trim() {
            "" => total,
            last => last.parse::<usize>().ok()?.checked_add(1)?.min(total),
        };
        if start >= total {
            return Some(Self::Unsatisfiable);
        }
        if end <= start {
            return None;
        }
        Some(Self::Satisfiable { start, end })
    }
}

/// The reason phrase of the status codes the server uses.
pub(crate) fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        206 => "Partial Content",
        400 => "Bad Request",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        416 => "Range Not Satisfiable",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "Status",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_ranges() {
        assert_eq!(
            ByteRange::parse("bytes=10-", 100),
            Some(ByteRange::Satisfiable {
                start: 10,
                end: 100
            })
        );
        assert_eq!(
            ByteRange::parse("bytes=10-19", 100),
            Some(ByteRange::Satisfiable { start: 10, end: 20 })
        );
        assert_eq!(
            ByteRange::parse("bytes=100-", 100),
            Some(ByteRange::Unsatisfiable)
        );
        assert_eq!(ByteRange::parse("bytes=-5", 100), None);
        assert_eq!(ByteRange::parse("items=1-", 100), None);
    }

    #[test]
    fn reads_a_head() {
        let raw = b"GET /a/b?x=1 HTTP/1.1\r\nHost: x\r\nRange: bytes=5-\r\n\r\n";
        let head = read_head(&mut &raw[..]).unwrap().unwrap();
        assert_eq!(head.method, "GET");
        assert_eq!(head.path, "/a/b");
        assert_eq!(head.header("RANGE"), Some("bytes=5-"));
    }
}
