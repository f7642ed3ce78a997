//! Power-loss tests for lesson 05, graded under tasks 2 and 4.
//!
//! A `kill -9` cannot show a missing sync, because the page cache outlives
//! the process. These tests run the code on [`SimFs`], a simulated disk that
//! keeps what was synced apart from what was only written, and cut the power
//! after each operation of a workload in turn:
//!
//! - `t2_power_loss_`: every byte that `commit` acknowledged is on the disk;
//! - `t4_power_loss_`: after any cut, the target holds the old contents or
//!   the new ones, whole, and the new ones once the replace returned `Ok`;
//!   also with torn writes.
//!
//! Two more task 4 tests force the cases a temporary name gets wrong: two
//! threads replacing the same file at once, and a temporary file that a
//! crashed run left behind.
//!
//! When a power-loss check fails, the panic message tells the story of the
//! cut: the operations around it, what was durable, what was lost, and the
//! call that is probably missing. `FILE_IO_POWER_SEEDS` (default 4) sets how
//! many torn variants of each cut the replace test tries.

use std::env;
use std::error::Error;
use std::io;
use std::path::Path;
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use file_io::{DurableWriter, Step, replace_atomically_on, temp_path_for};
use simfs::{CrashStory, Fs, OpenOptions, SimFs};

const DIR: &str = "/etc";
const TARGET: &str = "/etc/config.json";
const LOG: &str = "/etc/journal";
/// How long one thread of the two-writer test waits for the other.
const DEADLINE: Duration = Duration::from_secs(10);

// ---------------------------------------------------------------- task 2

#[test]
fn t2_power_loss_keeps_every_committed_byte() {
    let records: Vec<Vec<u8>> = [40usize, 3000, 7, 9000, 100, 5]
        .iter()
        .enumerate()
        .map(|(i, &len)| vec![b'a' + i as u8; len])
        .collect();
    let all: Vec<u8> = records.concat();
    let workload = |fs: &SimFs, acks: &mut Vec<(u64, u64)>| -> Result<(), Box<dyn Error>> {
        let file = fs.open(Path::new(LOG), OpenOptions::new().append(true))?;
        let mut writer = DurableWriter::with_capacity(4096, file);
        let mut appended = 0u64;
        for (i, record) in records.iter().enumerate() {
            writer.append(record)?;
            appended += record.len() as u64;
            if i % 2 == 1 {
                writer.commit()?;
                acks.push((appended, fs.op_count()));
            }
        }
        Ok(())
    };
    let fresh = || {
        let fs = SimFs::with_dirs(&[DIR]).expect("a simulated disk");
        fs.put_durable(Path::new(LOG), b"")
            .expect("an empty journal");
        fs
    };
    let total = {
        let fs = fresh();
        workload(&fs, &mut Vec::new()).expect("the workload runs on a disk that never fails");
        fs.op_count()
    };
    for cut in 0..=total {
        let fs = fresh();
        fs.cut_power_after(cut);
        let mut acks = Vec::new();
        let _ = workload(&fs, &mut acks);
        let durable = fs.crash().read(Path::new(LOG)).expect("the journal exists");
        assert!(
            all.starts_with(&durable),
            "power cut after op {cut} of {total}: the journal holds bytes that were never appended in that order"
        );
        if let Some((bytes, acked_at)) =
            acks.iter().find(|(bytes, _)| *bytes > durable.len() as u64)
        {
            panic!(
                "{}(only {} of the {bytes} bytes committed by then are on the disk)",
                CrashStory::new(&fs)
                    .of(total)
                    .lost(format!("the commit of {bytes} bytes"), LOG, *acked_at)
                    .render(),
                durable.len()
            );
        }
    }
}

// ---------------------------------------------------------------- task 4

#[test]
fn t4_power_loss_leaves_the_old_contents_or_the_new() {
    let versions = versions();
    let seeds = env_number("FILE_IO_POWER_SEEDS", 4);
    let workload = |fs: &SimFs, acks: &mut Vec<(usize, u64)>| {
        for (v, contents) in versions.iter().enumerate().skip(1) {
            if replace_atomically_on(fs, TARGET, contents, |_| Ok(())).is_err() {
                return;
            }
            acks.push((v, fs.op_count()));
        }
    };
    let fresh = || {
        let fs = SimFs::with_dirs(&[DIR]).expect("a simulated disk");
        fs.put_durable(Path::new(TARGET), &versions[0])
            .expect("the old contents");
        fs
    };
    let total = {
        let fs = fresh();
        let mut acks = Vec::new();
        workload(&fs, &mut acks);
        assert_eq!(
            acks.len(),
            versions.len() - 1,
            "every replace succeeds when nothing fails"
        );
        fs.op_count()
    };
    for cut in 0..=total {
        let fs = fresh();
        fs.cut_power_after(cut);
        let mut acks = Vec::new();
        workload(&fs, &mut acks);
        let crashes = std::iter::once(("only what was synced".to_owned(), fs.crash()))
            .chain((0..seeds).map(|s| (format!("torn writes, seed {s}"), fs.crash_torn(s))));
        for (variant, crashed) in crashes {
            let found = crashed.read(Path::new(TARGET)).ok();
            let version = found
                .as_ref()
                .and_then(|bytes| versions.iter().position(|v| v == bytes));
            let acked = acks.last().map(|&(v, op)| (v, op));
            let story = CrashStory::new(&fs).of(total);
            match (version, acked) {
                (None, _) => panic!(
                    "{}({variant}: {TARGET} holds {}, which is neither the old contents nor the new)",
                    story.broken("a whole version of the file", TARGET).render(),
                    found.map_or("nothing at all".to_owned(), |b| format!(
                        "{} bytes",
                        b.len()
                    ))
                ),
                (Some(v), Some((acked_v, at))) if v < acked_v => panic!(
                    "{}({variant}: {TARGET} holds version {v}, but version {acked_v} was acknowledged)",
                    story
                        .lost(format!("version {acked_v} of the file"), TARGET, at)
                        .render()
                ),
                _ => {}
            }
        }
    }
}

#[test]
fn t4_two_threads_replacing_one_file_never_publish_a_torn_file() {
    let fs = SimFs::with_dirs(&[DIR]).expect("a simulated disk");
    let old = b"old".to_vec();
    fs.put_durable(Path::new(TARGET), &old)
        .expect("the old contents");
    let ours = vec![b'A'; 6000];
    let theirs = vec![b'B'; 9000];
    let (b_created_tx, b_created) = mpsc::channel::<()>();
    let (a_done_tx, a_done) = mpsc::channel::<()>();
    thread::scope(|scope| {
        // B creates its temporary file, then waits until A has finished.
        let b = scope.spawn(|| {
            replace_atomically_on(&fs, TARGET, &theirs, move |step| {
                if step == Step::WriteTemp {
                    let _ = b_created_tx.send(());
                    a_done
                        .recv_timeout(DEADLINE)
                        .map_err(|_| io::Error::other("test: A never finished"))?;
                }
                Ok(())
            })
        });
        // A renames only once B's temporary file exists.
        let a = replace_atomically_on(&fs, TARGET, &ours, |step| {
            if step == Step::Rename {
                b_created.recv_timeout(DEADLINE).map_err(|_| {
                    io::Error::other("test: the other thread never created its temporary file")
                })?;
            }
            Ok(())
        });
        let after_a = fs.read(Path::new(TARGET)).ok();
        let _ = a_done_tx.send(());
        let b = b.join().expect("thread B does not panic");
        if let Err(e) = &b
            && a.is_err()
        {
            panic!(
                "thread B, replacing {TARGET} while thread A did too, failed before it could create a temporary file: {e}. \
                 When the temporary name is taken, try the next one (temp_path_for(path, attempt + 1))"
            );
        }
        a.unwrap_or_else(|e| panic!("thread A's replace failed: {e}"));
        assert!(
            after_a.as_deref() == Some(&ours[..]),
            "thread A's replace returned Ok while thread B had created its own temporary file, \
             but {TARGET} then held {} instead of A's {} bytes: two replaces must not share a \
             temporary file (create it with create_new under a name of its own)",
            after_a.map_or("nothing".to_owned(), |b| format!("{} bytes", b.len())),
            ours.len()
        );
        b.unwrap_or_else(|e| {
            panic!("thread B's replace failed after thread A's succeeded: {e}; each replace needs a temporary name of its own")
        });
        assert!(
            fs.read(Path::new(TARGET)).ok().as_deref() == Some(&theirs[..]),
            "after both replaces, {TARGET} holds the last one's contents, whole"
        );
    });
}

#[test]
fn t4_a_temporary_file_left_by_a_crash_is_never_reused() {
    let fs = SimFs::with_dirs(&[DIR]).expect("a simulated disk");
    fs.put_durable(Path::new(TARGET), b"old")
        .expect("the old contents");
    // A crashed run's half-written temporary file, under the first name.
    let stale = temp_path_for(Path::new(TARGET), 0).expect("a temporary name");
    let leftover = vec![b'#'; 20_000];
    fs.put_durable(&stale, &leftover)
        .expect("the stale temporary file");
    let new = b"{\"version\": 2}".to_vec();
    replace_atomically_on(&fs, TARGET, &new, |_| Ok(())).unwrap_or_else(|e| {
        panic!("a stale temporary file under the first name must not stop the replace: {e}")
    });
    let found = fs.read(Path::new(TARGET)).expect("the target exists");
    assert!(
        found == new,
        "a crashed run left {} under the first temporary name; the replace wrote its {} bytes \
         into that file instead of a new one, and {TARGET} now holds {} bytes: never open a \
         temporary file that already exists",
        stale.display(),
        new.len(),
        found.len()
    );
}

// ---------------------------------------------------------------- helpers

/// The target's contents: the old ones, then two replacements, each larger
/// than a sector so that a torn write shows.
fn versions() -> Vec<Vec<u8>> {
    vec![
        b"{\"version\": 0}".to_vec(),
        [
            b"{\"version\": 1, \"pad\": \"".to_vec(),
            vec![b'x'; 3000],
            b"\"}".to_vec(),
        ]
        .concat(),
        [
            b"{\"version\": 2, \"pad\": \"".to_vec(),
            vec![b'y'; 1200],
            b"\"}".to_vec(),
        ]
        .concat(),
    ]
}

fn env_number(name: &str, default: u64) -> u64 {
    match env::var(name) {
        Ok(value) => value
            .parse()
            .unwrap_or_else(|_| panic!("{name} must be a number, got {value:?}")),
        Err(_) => default,
    }
}
