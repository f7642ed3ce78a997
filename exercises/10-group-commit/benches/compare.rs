//! The fixed workload of the checker's `bench` stage: 64 writers commit in
//! a closed loop for about 1.5 s, against an in-memory sink and a syncer
//! that sleeps 1 ms, so the ideal is 64 records per sync.
//!
//! The checker runs it against your crate and against the reference and
//! prints your throughput as a ratio of the reference's. Run it yourself:
//!
//! ```sh
//! cargo bench -p group-commit --bench compare
//! ```
//!
//! It prints one line per metric (higher is better), for example
//! `bench-result name=commits_per_sec_64w value=45000.0 unit=commits/s`.

use std::io;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use group_commit::{Config, GroupCommit};

const WRITERS: usize = 64;
const WARM_UP: Duration = Duration::from_millis(300);
const RUN: Duration = Duration::from_millis(1200);

fn main() {
    // `cargo bench -- --test` (a smoke test) runs a much shorter workload.
    let smoke = std::env::args().any(|a| a == "--test");
    let (warm_up, run) = if smoke {
        (Duration::from_millis(20), Duration::from_millis(100))
    } else {
        (WARM_UP, RUN)
    };

    let syncs = Arc::new(AtomicU64::new(0));
    let syncer = {
        let syncs = Arc::clone(&syncs);
        move || -> io::Result<()> {
            thread::sleep(Duration::from_millis(1));
            syncs.fetch_add(1, Ordering::Relaxed);
            Ok(())
        }
    };
    let log =
        Arc::new(GroupCommit::new(io::sink(), syncer, Config::default()).expect("start the log"));

    let stop = Arc::new(AtomicBool::new(false));
    let commits = Arc::new(AtomicU64::new(0));
    let writers: Vec<_> = (0..WRITERS)
        .map(|w| {
            let (log, stop, commits) = (Arc::clone(&log), Arc::clone(&stop), Arc::clone(&commits));
            thread::spawn(move || {
                let payload =
                    format!("writer {w:03} says hello to the write-ahead log").into_bytes();
                while !stop.load(Ordering::Relaxed) {
                    log.write(&payload).expect("the in-memory disk never fails");
                    commits.fetch_add(1, Ordering::Relaxed);
                }
            })
        })
        .collect();

    thread::sleep(warm_up);
    let (c0, s0, t0) = (
        commits.load(Ordering::Relaxed),
        syncs.load(Ordering::Relaxed),
        Instant::now(),
    );
    thread::sleep(run);
    let (c1, s1, elapsed) = (
        commits.load(Ordering::Relaxed),
        syncs.load(Ordering::Relaxed),
        t0.elapsed(),
    );
    stop.store(true, Ordering::Relaxed);
    for w in writers {
        w.join().expect("writer panicked");
    }
    log.shutdown();

    let n = (c1 - c0) as f64;
    let rate = n / elapsed.as_secs_f64();
    let per_sync = n / (s1 - s0).max(1) as f64;
    println!("bench-result name=commits_per_sec_64w value={rate:.1} unit=commits/s");
    println!("bench-result name=records_per_sync_64w value={per_sync:.1} unit=records/sync");
}
