//! A fault-injecting HTTP/1.1 test server on 127.0.0.1.
//!
//! Lesson 08's tests start one [`FaultServer`] each, on an ephemeral port of
//! the loopback address, and configure per path what it serves and how it
//! misbehaves: latency, a sequence of failed replies (an error status, a
//! hang-up, a truncated or stalled body), `Range` support, a corrupted byte.
//! The server records every request (its time of arrival and its headers) and
//! counts the requests in flight, so that a test can check backoff, resume
//! and the concurrency limit from the server's side instead of assuming them.
//!
//! It is a small hand-written server over [`std::net::TcpListener`]: one
//! thread per connection, one request per connection (`Connection: close`).
//! Writing it by hand, instead of using a server crate, gives the tests
//! byte-level control: a body can stop in the middle, after the headers
//! promised more, and the in-flight count can be taken at exactly the right
//! moments.
//!
//! ```no_run
//! use fault_server::{Fault, FaultServer, Route};
//!
//! let server = FaultServer::start().unwrap();
//! server.route(
//!     "/data.bin",
//!     Route::new(vec![7u8; 1000]).faults([Fault::Status(500), Fault::Hangup]),
//! );
//! let url = server.url("/data.bin"); // http://127.0.0.1:PORT/data.bin
//! // ... the first request gets a 500, the second a hang-up, then 200s.
//! ```
//!
//! Learners do not edit this crate.

mod closed_port;
mod http;
mod route;

use std::collections::HashMap;
use std::io::{self, BufReader, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

pub use closed_port::ClosedPort;
pub use route::{Fault, Route};

use http::{ByteRange, RequestHead};

/// How long a stalled body ([`Fault::Stall`]) stays open at most.
const STALL_LIMIT: Duration = Duration::from_secs(60);
/// How long the server waits for a client to send its request.
const READ_REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
/// How much of the body the server writes at once.
const WRITE_CHUNK: usize = 16 * 1024;

/// One request as the server saw it.
#[derive(Debug, Clone)]
pub struct Request {
    /// The request method, such as `GET`.
    pub method: String,
    /// The path, without the query string.
    pub path: String,
    /// The headers in the order they were sent; names are lower-cased.
    pub headers: Vec<(String, String)>,
    /// When the server had read the whole request head.
    pub at: Instant,
    /// The status the server answered with, or `None` if it hung up without
    /// answering ([`Fault::Hangup`]).
    pub status: Option<u16>,
}

impl Request {
    /// The value of the header `name` (case-insensitive), if it was sent.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// A running test server. It stops when dropped.
#[derive(Debug)]
pub struct FaultServer {
    addr: SocketAddr,
    shared: Arc<Shared>,
    acceptor: Option<JoinHandle<()>>,
}

/// What the connection threads share with the [`FaultServer`] handle.
#[derive(Debug, Default)]
struct Shared {
    routes: Mutex<HashMap<String, RouteState>>,
    log: Mutex<Vec<Request>>,
    in_flight: AtomicUsize,
    max_in_flight: AtomicUsize,
    stopping: AtomicBool,
    /// Sleeping connection threads wait on this, so that a stopping server
    /// wakes them at once.
    wake: Condvar,
    wake_lock: Mutex<()>,
}

/// A route and the faults it has not used up yet.
#[derive(Debug)]
struct RouteState {
    route: Route,
    next_fault: usize,
}

impl FaultServer {
    /// Starts a server on `127.0.0.1`, on a port the OS picks.
    pub fn start() -> io::Result<Self> {
        let listener = TcpListener::bind(("127.0.0.1", 0))?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared::default());
        let acceptor = {
            let shared = Arc::clone(&shared);
            thread::Builder::new()
                .name("fault-server-accept".into())
                .spawn(move || accept_loop(&listener, &shared))?
        };
        Ok(Self {
            addr,
            shared,
            acceptor: Some(acceptor),
        })
    }

    /// The address the server listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The URL of `path` on this server; `path` starts with `/`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    /// Serves `route` at `path` from now on, replacing what was there (and
    /// restarting its fault sequence). Any other path answers 404.
    pub fn route(&self, path: &str, route: Route) {
        lock(&self.shared.routes).insert(
            path.to_string(),
            RouteState {
                route,
                next_fault: 0,
            },
        );
    }

    /// Every request received so far, in the order they were read.
    pub fn requests(&self) -> Vec<Request> {
        lock(&self.shared.log).clone()
    }

    /// The requests received for `path`, in order.
    pub fn requests_to(&self, path: &str) -> Vec<Request> {
        lock(&self.shared.log)
            .iter()
            .filter(|r| r.path == path)
            .cloned()
            .collect()
    }

    /// How many requests are in flight right now.
    ///
    /// A request is in flight from the moment the server has read it until
    /// the moment it starts to answer (after any latency). The client is
    /// busy with the request for all of that time and longer, so this count
    /// never exceeds the number of requests the client has open at once.
    pub fn in_flight(&self) -> usize {
        self.shared.in_flight.load(Ordering::SeqCst)
    }

    /// The largest [`in_flight`](Self::in_flight) count seen so far.
    pub fn max_in_flight(&self) -> usize {
        self.shared.max_in_flight.load(Ordering::SeqCst)
    }
}

impl Drop for FaultServer {
    fn drop(&mut self) {
        self.shared.stopping.store(true, Ordering::SeqCst);
        {
            let _guard = lock(&self.shared.wake_lock);
            self.shared.wake.notify_all();
        }
        // Wake the acceptor, which is blocked in accept().
        let _ = TcpStream::connect(self.addr);
        if let Some(acceptor) = self.acceptor.take() {
            let _ = acceptor.join();
        }
    }
}

/// Locks a mutex, ignoring poison: a panicking test thread must not take the
/// server down with it.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

fn accept_loop(listener: &TcpListener, shared: &Arc<Shared>) {
    for stream in listener.incoming() {
        if shared.stopping.load(Ordering::SeqCst) {
            return;
        }
        let Ok(stream) = stream else { continue };
        let shared = Arc::clone(shared);
        // A connection thread is detached: it may be sleeping out a long
        // latency for a client that has long given up.
        let _ = thread::Builder::new()
            .name("fault-server-conn".into())
            .spawn(move || {
                let _ = serve_connection(stream, &shared);
            });
    }
}

/// Counts a request as in flight until dropped or [`InFlight::end`]ed.
struct InFlight<'a> {
    shared: &'a Shared,
    done: bool,
}

impl<'a> InFlight<'a> {
    fn begin(shared: &'a Shared) -> Self {
        let now = shared.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        shared.max_in_flight.fetch_max(now, Ordering::SeqCst);
        Self {
            shared,
            done: false,
        }
    }

    fn end(&mut self) {
        if !self.done {
            self.done = true;
            self.shared.in_flight.fetch_sub(1, Ordering::SeqCst);
        }
    }
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.end();
    }
}

impl Shared {
    /// Sleeps for `duration`, or less if the server stops. Returns false if
    /// the server is stopping.
    fn sleep(&self, duration: Duration) -> bool {
        let deadline = Instant::now() + duration;
        let mut guard = lock(&self.wake_lock);
        loop {
            if self.stopping.load(Ordering::SeqCst) {
                return false;
            }
            let now = Instant::now();
            if now >= deadline {
                return true;
            }
            guard = self
                .wake
                .wait_timeout(guard, deadline - now)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
    }

    /// Looks up the route for `path` and takes its next fault, if any.
    fn plan(&self, path: &str) -> Option<(Route, Option<Fault>)> {
        let mut routes = lock(&self.routes);
        let state = routes.get_mut(path)?;
        let fault = state.route.faults.get(state.next_fault).copied();
        if fault.is_some() {
            state.next_fault += 1;
        }
        Some((state.route.clone(), fault))
    }

    fn record(&self, head: &RequestHead, at: Instant, status: Option<u16>) {
        lock(&self.log).push(Request {
            method: head.method.clone(),
            path: head.path.clone(),
            headers: head.headers.clone(),
            at,
            status,
        });
    }
}

fn serve_connection(stream: TcpStream, shared: &Shared) -> io::Result<()> {
    stream.set_read_timeout(Some(READ_REQUEST_TIMEOUT))?;
    stream.set_nodelay(true)?;
    let head = match http::read_head(&mut BufReader::new(&stream))? {
        Some(head) => head,
        None => return Ok(()), // the client (or Drop's wake-up) sent nothing
    };
    let at = Instant::now();
    let mut in_flight = InFlight::begin(shared);

    let Some((route, fault)) = shared.plan(&head.path) else {
        in_flight.end();
        shared.record(&head, at, Some(404));
        return write_simple(
            &stream,
            404,
            "Not Found",
            "no such path on the fault server\n",
        );
    };
    if !route.latency.is_zero() && !shared.sleep(route.latency) {
        return Ok(());
    }
    in_flight.end();

    if head.method != "GET" && head.method != "HEAD" {
        shared.record(&head, at, Some(405));
        return write_simple(&stream, 405, "Method Not Allowed", "GET or HEAD only\n");
    }
    match fault {
        Some(Fault::Status(code)) => {
            shared.record(&head, at, Some(code));
            let body = format!("injected fault: status {code}\n");
            write_simple(&stream, code, http::reason(code), &body)
        }
        Some(Fault::Hangup) => {
            shared.record(&head, at, None);
            // Dropping the stream closes the connection without a reply.
            Ok(())
        }
        other => serve_body(&stream, shared, &head, at, &route, other),
    }
}

/// Serves the route's body (or the requested range of it), applying a
/// truncation or a stall if `fault` says so.
fn serve_body(
    stream: &TcpStream,
    shared: &Shared,
    head: &RequestHead,
    at: Instant,
    route: &Route,
    fault: Option<Fault>,
) -> io::Result<()> {
    let total = route.body.len();
    let range = match fault {
        Some(Fault::WrongRange(from)) if head.header("range").is_some() => {
            Some(ByteRange::Satisfiable {
                start: from.min(total),
                end: total,
            })
        }
        _ if route.ranges => head
            .header("range")
            .and_then(|v| ByteRange::parse(v, total)),
        _ => None,
    };
    let mut extra = String::new();
    let (status, start, end) = match range {
        Some(ByteRange::Satisfiable { start, end }) => {
            extra = format!("Content-Range: bytes {start}-{}/{total}\r\n", end - 1);
            (206, start, end)
        }
        Some(ByteRange::Unsatisfiable) => {
            shared.record(head, at, Some(416));
            let mut out = stream;
            return write!(
                out,
                "HTTP/1.1 416 Range Not Satisfiable\r\nContent-Range: bytes */{total}\r\n\
                 Content-Length: 0\r\nConnection: close\r\n\r\n"
            );
        }
        None => (200, 0, total),
    };
    if route.ranges {
        extra.push_str("Accept-Ranges: bytes\r\n");
    }
    shared.record(head, at, Some(status));

    let mut out = stream;
    write!(
        out,
        "HTTP/1.1 {status} {}\r\nContent-Length: {}\r\nContent-Type: application/octet-stream\r\n\
         {extra}Connection: close\r\n\r\n",
        http::reason(status),
        end - start
    )?;
    if head.method == "HEAD" {
        return out.flush();
    }
    let send_end = match fault {
        Some(Fault::Truncate(n) | Fault::Stall(n)) => (start + n).min(end),
        _ => end,
    };
    let mut pos = start;
    while pos < send_end {
        let next = (pos + WRITE_CHUNK).min(send_end);
        let mut chunk = route.body[pos..next].to_vec();
        if let Some(flip) = route.flip_byte
            && (pos..next).contains(&flip)
        {
            chunk[flip - pos] ^= 0xFF;
        }
        out.write_all(&chunk)?;
        pos = next;
        if let Some(pause) = route.pace
            && pos < send_end
            && !shared.sleep(pause)
        {
            return Ok(());
        }
    }
    out.flush()?;
    if let Some(Fault::Stall(_)) = fault {
        // Keep the connection open without sending anything more.
        shared.sleep(STALL_LIMIT);
    }
    // A truncated body ends here: the connection closes although the
    // Content-Length promised more.
    Ok(())
}

fn write_simple(mut out: &TcpStream, status: u16, reason: &str, body: &str) -> io::Result<()> {
    write!(
        out,
        "HTTP/1.1 {status} {reason}\r\nContent-Length: {}\r\nContent-Type: text/plain\r\n\
         Connection: close\r\n\r\n{body}",
        body.len()
    )?;
    out.flush()
}
