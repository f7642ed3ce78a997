//! Power-loss test for lesson 08, graded under task 1.
//!
//! The download is written to [`SimFs`], a simulated disk that keeps what
//! was synced apart from what was only written, and the power is cut after
//! each of its file operations in turn. After every cut the destination must
//! hold the old file or the whole download, never a part of it; and once
//! `attempt` has returned `Ok`, the whole download. A SIGKILL cannot check
//! this: the page cache outlives a killed process.

mod common;

use std::path::Path;
use std::sync::Arc;

use common::{content, test_config};
use downloader::{Client, Config, Job};
use fault_server::{FaultServer, Route};
use simfs::{CrashStory, Fs, SimFs};

const DIR: &str = "/downloads";
const DEST: &str = "/downloads/data.bin";

#[test]
fn t1_power_loss_leaves_the_old_file_or_the_whole_download() {
    let server = FaultServer::start().expect("start the test server");
    let body = content(300_000, 7);
    server.route("/data.bin", Route::new(body.clone()));
    let old = b"the previous version".to_vec();
    let job = Job::new(server.url("/data.bin"), DEST);
    let attempt = |fs: &SimFs| {
        let client = Client::new(&Config {
            fs: Arc::new(fs.clone()),
            resume: false,
            ..test_config()
        });
        client.attempt(0, &job)
    };
    let fresh = || {
        let fs = SimFs::with_dirs(&[DIR]).expect("a simulated disk");
        fs.put_durable(Path::new(DEST), &old).expect("the old file");
        fs
    };
    let total = {
        let fs = fresh();
        attempt(&fs).expect("the download succeeds on a disk that never fails");
        fs.op_count()
    };
    for cut in 0..=total {
        let fs = fresh();
        fs.cut_power_after(cut);
        let acked = attempt(&fs).is_ok().then(|| fs.op_count());
        for (variant, crashed) in [
            ("only what was synced".to_owned(), fs.crash()),
            ("torn writes, seed 1".to_owned(), fs.crash_torn(1)),
            ("torn writes, seed 2".to_owned(), fs.crash_torn(2)),
        ] {
            let found = crashed.read(Path::new(DEST)).ok();
            let whole = found.as_deref() == Some(&body[..]);
            let story = CrashStory::new(&fs).of(total);
            if let Some(at) = acked
                && !whole
            {
                panic!(
                    "{}({variant}: attempt returned Ok, yet {DEST} holds {})",
                    story.lost("the download", DEST, at).render(),
                    describe(&found)
                );
            }
            if !whole && found.as_deref() != Some(&old[..]) {
                panic!(
                    "{}({variant}: {DEST} holds {}, which is neither the old file nor the download)",
                    story.broken("a whole file, old or new", DEST).render(),
                    describe(&found)
                );
            }
        }
    }
}

fn describe(found: &Option<Vec<u8>>) -> String {
    match found {
        None => "nothing (no such file)".to_owned(),
        Some(bytes) => format!("{} bytes", bytes.len()),
    }
}
