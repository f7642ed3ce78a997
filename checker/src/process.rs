//! Running a child process in its own process group, with a timeout and a
//! cap on how much of its output is kept.
//!
//! On timeout the whole group is killed, so threads, grandchildren and
//! forked helpers of a hanging test die with it. The group is also killed
//! after a normal exit, so nothing a test started outlives it.

use std::collections::BTreeSet;
use std::io::Read;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Mutex, PoisonError, mpsc};
use std::thread;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};

/// How much of each output stream is kept; the rest is read and dropped.
pub const OUTPUT_CAP: usize = 256 * 1024;

/// Process groups of the children running now. Children live in groups of
/// their own, so a Ctrl-C at the terminal does not reach them:
/// [`stop_all_and_exit`] does.
static RUNNING: Mutex<BTreeSet<libc::pid_t>> = Mutex::new(BTreeSet::new());

/// Kills every child process group still running and exits. The registry
/// stays locked until the exit, so no new child can start in between.
pub fn stop_all_and_exit(code: i32) -> ! {
    let groups = RUNNING.lock().unwrap_or_else(PoisonError::into_inner);
    for &pgid in groups.iter() {
        // SAFETY: kill has no memory-safety preconditions; each id is the
        // pid of a child we have not reaped yet.
        unsafe {
            libc::kill(-pgid, libc::SIGKILL);
        }
    }
    std::process::exit(code)
}

/// How a finished child ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    Code(i32),
    Signal(i32),
    /// Killed by us when the timeout expired.
    TimedOut,
}

/// A finished child: how it ended and what it printed (capped).
#[derive(Debug, Clone)]
pub struct Finished {
    pub exit: Exit,
    pub stdout: String,
    pub stderr: String,
    /// Whether output beyond [`OUTPUT_CAP`] was dropped.
    pub truncated: bool,
    /// Whether a pipe was still open after the process group died (held by
    /// a process that left the group), so the output may be incomplete.
    pub incomplete: bool,
    pub duration: Duration,
}

/// Runs `command` to completion or until `timeout`, in a new process group.
pub fn run(mut command: Command, timeout: Duration) -> Result<Finished> {
    command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0);
    let started = Instant::now();
    let mut child = {
        let mut running = RUNNING.lock().unwrap_or_else(PoisonError::into_inner);
        let child = command
            .spawn()
            .with_context(|| format!("cannot start {:?}", command.get_program()))?;
        running.extend(libc::pid_t::try_from(child.id()));
        child
    };
    let (done_tx, done_rx) = mpsc::channel();
    let stdout = child
        .stdout
        .take()
        .map(|s| spawn_reader(s, STDOUT, done_tx.clone()))
        .is_some();
    let stderr = child
        .stderr
        .take()
        .map(|s| spawn_reader(s, STDERR, done_tx))
        .is_some();

    let exit = wait_with_timeout(&mut child, timeout);
    let duration = started.elapsed();
    kill_group(&child);
    let status = child.wait().context("cannot reap the test process");
    if let Ok(pgid) = libc::pid_t::try_from(child.id()) {
        RUNNING
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(&pgid);
    }
    let (exit, status) = (exit?, status?);
    let exit = exit.unwrap_or_else(|| exit_of(status));

    // A grandchild that left the group could keep a pipe open forever;
    // give the readers a moment, then take whatever they have.
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut outputs = [(String::new(), false), (String::new(), false)];
    let mut pending = usize::from(stdout) + usize::from(stderr);
    while pending > 0 {
        let Ok((stream, bytes, cut)) =
            done_rx.recv_timeout(deadline.saturating_duration_since(Instant::now()))
        else {
            break;
        };
        outputs[stream] = (String::from_utf8_lossy(&bytes).into_owned(), cut);
        pending -= 1;
    }
    let [(stdout, cut_out), (stderr, cut_err)] = outputs;
    Ok(Finished {
        exit,
        stdout,
        stderr,
        truncated: cut_out || cut_err,
        incomplete: pending > 0,
        duration,
    })
}

/// Waits for the child to exit without reaping it, so its pid (and thus its
/// process group id) cannot be reused before [`kill_group`]. Returns
/// `Some(TimedOut)` when the timeout expired.
fn wait_with_timeout(child: &mut Child, timeout: Duration) -> Result<Option<Exit>> {
    let deadline = Instant::now() + timeout;
    let mut pause = Duration::from_millis(1);
    loop {
        if has_exited(child)? {
            return Ok(None);
        }
        let now = Instant::now();
        if now >= deadline {
            return Ok(Some(Exit::TimedOut));
        }
        thread::sleep(pause.min(deadline - now));
        pause = (pause * 2).min(Duration::from_millis(25));
    }
}

/// `waitid(WNOWAIT)`: has the child exited? It stays a zombie until reaped.
fn has_exited(child: &Child) -> Result<bool> {
    // SAFETY: an all-zero siginfo_t is a valid value for waitid to fill in.
    let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
    // SAFETY: the pid is our own unreaped child and `info` is a valid siginfo_t.
    let rc = unsafe {
        libc::waitid(
            libc::P_PID,
            child.id(),
            &mut info,
            libc::WEXITED | libc::WNOHANG | libc::WNOWAIT,
        )
    };
    if rc != 0 {
        return Err(std::io::Error::last_os_error()).context("waitid on the test process failed");
    }
    // SAFETY: waitid succeeded, so si_pid is initialised (0 when nothing exited yet).
    Ok(unsafe { info.si_pid() } != 0)
}

/// Sends SIGKILL to the child's whole process group.
fn kill_group(child: &Child) {
    let Ok(pgid) = libc::pid_t::try_from(child.id()) else {
        return;
    };
    // SAFETY: kill has no memory-safety preconditions. The group id is the
    // pid of our unreaped child, so it cannot name anyone else's group.
    unsafe {
        libc::kill(-pgid, libc::SIGKILL);
    }
}

fn exit_of(status: ExitStatus) -> Exit {
    match (status.code(), status.signal()) {
        (Some(code), _) => Exit::Code(code),
        (None, Some(signal)) => Exit::Signal(signal),
        (None, None) => Exit::Code(-1),
    }
}

const STDOUT: usize = 0;
const STDERR: usize = 1;

/// What a reader thread sends when its pipe closes: which stream, the kept
/// bytes, and whether anything was dropped.
type Drained = (usize, Vec<u8>, bool);

/// Starts a thread draining one pipe into a capped buffer. The thread is
/// detached: a pipe held open by an escaped grandchild must not block us.
fn spawn_reader(mut pipe: impl Read + Send + 'static, stream: usize, done: mpsc::Sender<Drained>) {
    thread::spawn(move || {
        let mut kept = Vec::new();
        let mut truncated = false;
        let mut buf = [0u8; 8192];
        loop {
            match pipe.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => {
                    let room = OUTPUT_CAP.saturating_sub(kept.len());
                    kept.extend_from_slice(&buf[..n.min(room)]);
                    truncated |= n > room;
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(_) => break,
            }
        }
        let _ = done.send((stream, kept, truncated));
    });
}

/// A short name for a signal number, for messages.
pub fn signal_name(signal: i32) -> String {
    let name = match signal {
        libc::SIGABRT => "SIGABRT",
        libc::SIGSEGV => "SIGSEGV",
        libc::SIGBUS => "SIGBUS",
        libc::SIGILL => "SIGILL",
        libc::SIGFPE => "SIGFPE",
        libc::SIGKILL => "SIGKILL",
        libc::SIGTERM => "SIGTERM",
        libc::SIGINT => "SIGINT",
        libc::SIGPIPE => "SIGPIPE",
        libc::SIGXCPU => "SIGXCPU",
        libc::SIGXFSZ => "SIGXFSZ",
        _ => return format!("signal {signal}"),
    };
    name.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sh(script: &str) -> Command {
        let mut c = Command::new("sh");
        c.args(["-c", script]);
        c
    }

    #[test]
    fn reports_exit_code_and_output() {
        let done = run(
            sh("echo out; echo err >&2; exit 3"),
            Duration::from_secs(10),
        )
        .unwrap();
        assert_eq!(done.exit, Exit::Code(3));
        assert_eq!(done.stdout, "out\n");
        assert_eq!(done.stderr, "err\n");
        assert!(!done.truncated);
    }

    #[test]
    fn reports_death_by_signal() {
        let done = run(sh("kill -SEGV $$"), Duration::from_secs(10)).unwrap();
        assert_eq!(done.exit, Exit::Signal(libc::SIGSEGV));
        assert_eq!(signal_name(libc::SIGSEGV), "SIGSEGV");
    }

    #[test]
    fn kills_the_whole_group_on_timeout() {
        // The background grandchild holds stdout open. Only if it died with
        // the group does the pipe close, so that the output is complete.
        let done = run(sh("sleep 30 & sleep 30"), Duration::from_millis(200)).unwrap();
        assert_eq!(done.exit, Exit::TimedOut);
        assert!(!done.incomplete, "a grandchild outlived the timeout");
    }

    #[test]
    fn caps_captured_output() {
        let done = run(sh("head -c 1000000 /dev/zero"), Duration::from_secs(10)).unwrap();
        assert_eq!(done.exit, Exit::Code(0));
        assert_eq!(done.stdout.len(), OUTPUT_CAP);
        assert!(done.truncated);
    }

    #[test]
    fn missing_program_is_an_error_not_a_panic() {
        let err = run(Command::new("/nonexistent/program"), Duration::from_secs(1)).unwrap_err();
        assert!(err.to_string().contains("cannot start"), "{err}");
    }
}
