//! Runs a fault server with a few ready-made routes, for trying the
//! downloader by hand:
//!
//! ```sh
//! cargo run -p fault-server --example serve
//! ```
//!
//! It prints the URLs and a few commands to paste, then serves until you
//! press Ctrl-C. The faults of a route are used up one request at a time;
//! restart the server to get them back.

use std::thread;
use std::time::Duration;

use fault_server::{Fault, FaultServer, Route};
use sha2::{Digest, Sha256};

/// Deterministic bytes that are not all alike.
fn bytes(len: usize, seed: u32) -> Vec<u8> {
    let mut x = 0x2545_F491_u32 ^ seed;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            (x >> 24) as u8
        })
        .collect()
}

fn main() -> std::io::Result<()> {
    let server = FaultServer::start()?;
    let paced = Duration::from_millis(8);
    let mib = 1024 * 1024;

    let routes: Vec<(&str, Route, &str)> = vec![
        (
            "/small.txt",
            Route::new(b"hello from the fault server\n".to_vec()),
            "200 OK at once",
        ),
        (
            "/big.bin",
            Route::new(bytes(8 * mib, 1)).ranges(true).pace(paced),
            "8 MiB, 16 KiB every 8 ms (about 4 s); Range supported",
        ),
        (
            "/flaky.bin",
            Route::new(bytes(2 * mib, 2))
                .ranges(true)
                .pace(paced)
                .faults([Fault::Status(500), Fault::Status(503)]),
            "500, then 503, then 200",
        ),
        (
            "/cut.bin",
            Route::new(bytes(4 * mib, 3))
                .ranges(true)
                .pace(paced)
                .faults([Fault::Truncate(mib)]),
            "cut after 1 MiB once, then resumable with Range",
        ),
        (
            "/hangup.bin",
            Route::new(bytes(mib, 4)).faults([Fault::Hangup, Fault::Hangup]),
            "two hang-ups without an answer, then 200",
        ),
        (
            "/slow.bin",
            Route::new(bytes(mib, 5)).latency(Duration::from_secs(3)),
            "answers after 3 s (try --timeout 1)",
        ),
        (
            "/stall.bin",
            Route::new(bytes(mib, 6)).faults([Fault::Stall(256 * 1024)]),
            "stalls after 256 KiB once (try --timeout 2)",
        ),
        (
            "/corrupt.bin",
            Route::new(bytes(mib, 7)).flip_byte(12_345),
            "one wrong byte: fails the --sha256 check below",
        ),
    ];
    let good_digest: String = Sha256::digest(bytes(mib, 7))
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();

    println!("fault server on http://{}\n", server.addr());
    for (path, route, what) in routes {
        println!("  {:<44} {what}", server.url(path));
        server.route(path, route);
    }
    println!("  {:<44} 404 (no such route)", server.url("/missing"));
    let all: Vec<String> = [
        "/small.txt",
        "/big.bin",
        "/flaky.bin",
        "/cut.bin",
        "/hangup.bin",
        "/missing",
    ]
    .iter()
    .map(|p| server.url(p))
    .collect();
    println!("\nTry:");
    println!(
        "  cargo run -p downloader-solution -- --out /tmp/dl --jobs 3 {}",
        all.join(" ")
    );
    println!(
        "  cargo run -p downloader-solution -- --out /tmp/dl --limit-rate 1M {}",
        server.url("/big.bin")
    );
    println!(
        "  cargo run -p downloader-solution -- --out /tmp/dl --sha256 {}={good_digest} {}",
        server.url("/corrupt.bin"),
        server.url("/corrupt.bin")
    );
    println!(
        "  cargo run -p downloader-solution -- check {} {} {} --timeout 1",
        server.url("/small.txt"),
        server.url("/slow.bin"),
        server.url("/missing")
    );
    println!("\nServing until Ctrl-C.");
    loop {
        thread::park();
    }
}
