//! The fault server's own tests, with a raw TCP client.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use fault_server::{ClosedPort, Fault, FaultServer, Route};

/// Sends a GET for `path` with `extra` headers and returns the raw reply
/// (everything until the server closes the connection).
fn get(server: &FaultServer, path: &str, extra: &str) -> Vec<u8> {
    let mut stream = TcpStream::connect(server.addr()).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("set a read timeout");
    write!(stream, "GET {path} HTTP/1.1\r\nHost: x\r\n{extra}\r\n").expect("send");
    let mut reply = Vec::new();
    let _ = stream.read_to_end(&mut reply);
    reply
}

fn split(reply: &[u8]) -> (String, Vec<u8>) {
    let end = reply
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("a complete head");
    (
        String::from_utf8_lossy(&reply[..end]).into_owned(),
        reply[end + 4..].to_vec(),
    )
}

#[test]
fn serves_bodies_ranges_and_404() {
    let server = FaultServer::start().expect("start");
    let body: Vec<u8> = (0..100u8).collect();
    server.route("/r", Route::new(body.clone()).ranges(true));

    let (head, got) = split(&get(&server, "/r", ""));
    assert!(head.starts_with("HTTP/1.1 200 OK"), "{head}");
    assert!(head.contains("Content-Length: 100"), "{head}");
    assert_eq!(got, body);

    let (head, got) = split(&get(&server, "/r", "Range: bytes=40-\r\n"));
    assert!(head.starts_with("HTTP/1.1 206"), "{head}");
    assert!(head.contains("Content-Range: bytes 40-99/100"), "{head}");
    assert_eq!(got, &body[40..]);

    let (head, _) = split(&get(&server, "/r", "Range: bytes=100-\r\n"));
    assert!(head.starts_with("HTTP/1.1 416"), "{head}");
    assert!(head.contains("Content-Range: bytes */100"), "{head}");

    let (head, _) = split(&get(&server, "/nothing", ""));
    assert!(head.starts_with("HTTP/1.1 404"), "{head}");

    let log = server.requests_to("/r");
    assert_eq!(log.len(), 3);
    assert_eq!(log[1].header("RANGE"), Some("bytes=40-"));
    assert_eq!(log[2].status, Some(416));
}

#[test]
fn faults_are_used_up_in_order() {
    let server = FaultServer::start().expect("start");
    let body = vec![7u8; 50];
    server.route(
        "/f",
        Route::new(body.clone()).faults([Fault::Status(503), Fault::Hangup, Fault::Truncate(10)]),
    );
    let (head, _) = split(&get(&server, "/f", ""));
    assert!(head.starts_with("HTTP/1.1 503"), "{head}");
    assert!(get(&server, "/f", "").is_empty(), "a hang-up sends nothing");
    let (head, got) = split(&get(&server, "/f", ""));
    assert!(head.contains("Content-Length: 50"), "{head}");
    assert_eq!(got.len(), 10, "a truncated body stops early");
    let (_, got) = split(&get(&server, "/f", ""));
    assert_eq!(got, body, "then the route answers normally");
    let statuses: Vec<Option<u16>> = server.requests().iter().map(|r| r.status).collect();
    assert_eq!(statuses, [Some(503), None, Some(200), Some(200)]);
}

#[test]
fn flips_a_byte_and_counts_in_flight() {
    let server = FaultServer::start().expect("start");
    server.route(
        "/slow",
        Route::new(vec![0u8; 20])
            .flip_byte(3)
            .latency(Duration::from_millis(200)),
    );
    let replies: Vec<Vec<u8>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..3)
            .map(|_| s.spawn(|| get(&server, "/slow", "")))
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    for reply in &replies {
        let (_, got) = split(reply);
        assert_eq!(got[3], 0xFF);
        assert_eq!(got.iter().filter(|&&b| b != 0).count(), 1);
    }
    assert!(server.max_in_flight() >= 2, "the requests overlapped");
    assert!(server.max_in_flight() <= 3);
    assert_eq!(server.in_flight(), 0);
}

#[test]
fn a_closed_port_refuses() {
    let closed = ClosedPort::new().expect("reserve a port");
    let err = TcpStream::connect(("127.0.0.1", closed.port())).expect_err("nothing listens");
    assert_eq!(err.kind(), std::io::ErrorKind::ConnectionRefused);
}

#[test]
fn a_wrong_range_answers_206_from_its_own_offset() {
    let server = FaultServer::start().expect("start");
    let body: Vec<u8> = (0..100u8).collect();
    server.route(
        "/w",
        Route::new(body.clone())
            .ranges(true)
            .faults([Fault::WrongRange(10), Fault::WrongRange(0)]),
    );
    let (head, got) = split(&get(&server, "/w", "Range: bytes=40-\r\n"));
    assert!(head.starts_with("HTTP/1.1 206"), "{head}");
    assert!(head.contains("Content-Range: bytes 10-99/100"), "{head}");
    assert_eq!(got, &body[10..], "the body starts where the fault says");
    let (head, got) = split(&get(&server, "/w", ""));
    assert!(
        head.starts_with("HTTP/1.1 200"),
        "no Range header, the usual answer: {head}"
    );
    assert_eq!(got, body);
    let (head, _) = split(&get(&server, "/w", "Range: bytes=40-\r\n"));
    assert!(
        head.contains("Content-Range: bytes 40-99/100"),
        "the faults are used up: {head}"
    );
}
