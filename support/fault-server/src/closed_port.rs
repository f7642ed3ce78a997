//! A loopback port where nothing listens, for "connection refused" tests.

use std::io;
use std::mem;

/// A port on 127.0.0.1 that is reserved (bound) but not listening, so every
/// connection to it is refused at once. Nobody else can take the port while
/// this value lives, so the refusal is certain, not a race.
#[derive(Debug)]
pub struct ClosedPort {
    fd: libc::c_int,
    port: u16,
}

impl ClosedPort {
    /// Binds a TCP socket to an ephemeral port of 127.0.0.1 without
    /// listening on it.
    pub fn new() -> io::Result<Self> {
        // SAFETY: plain socket calls on a descriptor this function owns; the
        // address structs are fully initialised before use.
        unsafe {
            let fd = libc::socket(libc::AF_INET, libc::SOCK_STREAM | libc::SOCK_CLOEXEC, 0);
            if fd < 0 {
                return Err(io::Error::last_os_error());
            }
            let mut addr: libc::sockaddr_in = mem::zeroed();
            addr.sin_family = libc::AF_INET as libc::sa_family_t;
            addr.sin_port = 0;
            addr.sin_addr = libc::in_addr {
                s_addr: u32::from_ne_bytes([127, 0, 0, 1]),
            };
            let len = mem::size_of::<libc::sockaddr_in>() as libc::socklen_t;
            if libc::bind(fd, (&raw const addr).cast(), len) != 0 {
                let err = io::Error::last_os_error();
                libc::close(fd);
                return Err(err);
            }
            let mut bound: libc::sockaddr_in = mem::zeroed();
            let mut bound_len = len;
            if libc::getsockname(fd, (&raw mut bound).cast(), &mut bound_len) != 0 {
                let err = io::Error::last_os_error();
                libc::close(fd);
                return Err(err);
            }
            Ok(Self {
                fd,
                port: u16::from_be(bound.sin_port),
            })
        }
    }

    /// The reserved port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The URL of `path` on the closed port; `path` starts with `/`.
    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{}", self.port, path)
    }
}

impl Drop for ClosedPort {
    fn drop(&mut self) {
        // SAFETY: `fd` is a descriptor this value owns and closes once.
        unsafe {
            libc::close(self.fd);
        }
    }
}
