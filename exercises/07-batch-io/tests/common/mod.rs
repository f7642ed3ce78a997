//! What the test files of lesson 07 share: a way to wait until a batch has
//! done everything it can do without the test's permission.
//!
//! A test that holds some transforms at a gate wants to know what the rest
//! of the batch does meanwhile: does a fourth worker start, does a reader run
//! ahead, do workers count files the calling thread has not received yet?
//! Waiting a fixed time would leave that to the scheduler. Instead,
//! [`settle`] waits until every other thread of the process is asleep
//! (blocked on a channel, a lock, a gate or a sleep) several times in a row:
//! then the batch has gone as far as it can go.

use std::fs;
use std::sync::{Condvar, Mutex};
use std::thread;
use std::time::{Duration, Instant};

/// A gate that transforms wait at until the test opens it. A thread that
/// waits here is asleep, as [`settle`] wants it.
#[derive(Default)]
pub struct Gate {
    open: Mutex<bool>,
    opened: Condvar,
}

impl Gate {
    /// Lets every waiting thread through, and every later one.
    pub fn open(&self) {
        *self.open.lock().expect("the gate's lock is not poisoned") = true;
        self.opened.notify_all();
    }

    /// Waits until the gate is open or `deadline` has passed, whichever
    /// comes first.
    pub fn wait(&self, deadline: Duration) {
        let open = self.open.lock().expect("the gate's lock is not poisoned");
        let _open = self
            .opened
            .wait_timeout_while(open, deadline, |open| !*open)
            .expect("the gate's lock is not poisoned");
    }
}

/// How many looks in a row must find every other thread asleep.
const CALM_LOOKS: usize = 3;
/// How long `settle` waits at most.
const SETTLE_DEADLINE: Duration = Duration::from_secs(5);

/// Waits until every thread of this process other than the caller is
/// asleep in [`CALM_LOOKS`] looks in a row, 2 ms apart. Returns whether that
/// happened before the deadline.
///
/// The graded tests run one per process, so only the batch's threads and
/// the test harness's are there to look at. A correct batch passes whether
/// or not the process settles (`cargo test` runs other tests beside it).
pub fn settle() -> bool {
    let me = own_thread_id();
    let deadline = Instant::now() + SETTLE_DEADLINE;
    let mut calm = 0;
    while Instant::now() < deadline {
        calm = if others_asleep(me.as_deref()) {
            calm + 1
        } else {
            0
        };
        if calm == CALM_LOOKS {
            return true;
        }
        thread::sleep(Duration::from_millis(2));
    }
    false
}

/// The calling thread's id, from `/proc/thread-self` (`<pid>/task/<tid>`).
fn own_thread_id() -> Option<String> {
    let link = fs::read_link("/proc/thread-self").ok()?;
    Some(link.file_name()?.to_string_lossy().into_owned())
}

/// Whether every thread but `me` is asleep: state `S` in its
/// `/proc/self/task/<tid>/stat` (`R` runs or waits for a CPU, `D` waits for
/// the disk). A thread that has just ended is skipped.
fn others_asleep(me: Option<&str>) -> bool {
    let Ok(tasks) = fs::read_dir("/proc/self/task") else {
        return false;
    };
    for task in tasks.flatten() {
        if Some(task.file_name().to_string_lossy().as_ref()) == me {
            continue;
        }
        let Ok(stat) = fs::read_to_string(task.path().join("stat")) else {
            continue;
        };
        // `tid (name) S ...`: the name may hold spaces and parentheses.
        let state = stat
            .rsplit_once(')')
            .and_then(|(_, rest)| rest.trim_start().chars().next());
        if !matches!(state, Some('S' | 'Z')) {
            return false;
        }
    }
    true
}
