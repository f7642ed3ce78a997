//! The grader's sandbox for untrusted test processes: resource limits
//! (`setrlimit`) and, when the grader runs as root, an unprivileged uid.
//!
//! `RLIMIT_NPROC` does not bind root, so as root every test worker runs
//! under a uid of its own (no passwd entry is needed). That makes the
//! process cap real, keeps one student's fork bomb from eating another's
//! cap, lets the grader kill every straggler of a test with one
//! `kill(-1, SIGKILL)` made as that uid, and leaves the workspace (owned by
//! root) read-only to the test.

use std::io;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result};

/// Limits for every test process.
#[derive(Debug, Clone)]
pub struct Sandbox {
    /// CPU seconds (`RLIMIT_CPU`), summed over the process's threads.
    pub cpu_secs: u64,
    /// Bytes of address space (`RLIMIT_AS`).
    pub address_space: u64,
    /// Largest file the test may write (`RLIMIT_FSIZE`).
    pub file_size: u64,
    /// Processes and threads of the test's uid (`RLIMIT_NPROC`); only
    /// applied when running as an unprivileged uid of our own.
    pub processes: u64,
    /// The uid (and gid) to run as, when the grader is root. On the shared
    /// sandbox this is the first uid of the claimed slot; each worker adds
    /// its index.
    pub uid: Option<u32>,
    /// A private, writable temporary directory (TMPDIR and HOME).
    pub tmp: Option<PathBuf>,
    /// A library to preload into every test (the exit guard).
    pub preload: Option<PathBuf>,
}

/// The first uid used for test workers when the grader runs as root.
const UID_BASE: u32 = 61_000;
/// Uids per slot: the most test workers one grader runs at once.
const UIDS_PER_SLOT: u32 = 64;
/// Slots, so concurrent graders on one machine never share a uid (one's
/// `kill -1` would otherwise stop the other's tests).
const SLOTS: u32 = 256;

/// A range of uids claimed for this process, held by a file lock until dropped.
#[derive(Debug)]
pub struct UidSlot {
    pub base: u32,
    _lock: std::fs::File,
}

impl UidSlot {
    /// Claims the first free slot (a lock file under the temporary directory).
    pub fn claim() -> Result<UidSlot> {
        let dir = std::env::temp_dir().join("checker-uid-slots");
        std::fs::create_dir_all(&dir)
            .with_context(|| format!("cannot create {}", dir.display()))?;
        for slot in 0..SLOTS {
            let path = dir.join(format!("slot-{slot}.lock"));
            let file = std::fs::OpenOptions::new()
                .create(true)
                .truncate(false)
                .write(true)
                .open(&path)
                .with_context(|| format!("cannot open {}", path.display()))?;
            if file.try_lock().is_ok() {
                return Ok(UidSlot {
                    base: UID_BASE + slot * UIDS_PER_SLOT,
                    _lock: file,
                });
            }
        }
        anyhow::bail!("all {SLOTS} sandbox uid slots are taken by other graders")
    }
}

impl Sandbox {
    /// The default limits; set `uid` (from a [`UidSlot`]) to switch uids.
    pub fn new(cpu_secs: u64) -> Sandbox {
        Sandbox {
            cpu_secs,
            address_space: 8 << 30,
            file_size: 2 << 30,
            processes: 1024,
            uid: None,
            tmp: None,
            preload: None,
        }
    }

    /// Whether the grader can switch uids.
    pub fn is_root() -> bool {
        // SAFETY: geteuid has no preconditions.
        unsafe { libc::geteuid() == 0 }
    }

    /// This sandbox for worker `index`: its own uid (as root) and its own
    /// temporary directory under `tmp_root`.
    pub fn for_worker(&self, index: usize, tmp_root: &Path) -> Result<Sandbox> {
        let index = u32::try_from(index).unwrap_or(0).min(UIDS_PER_SLOT - 1);
        let uid = self.uid.map(|base| base + index);
        let tmp = tmp_root.join(format!("worker-{index}"));
        let sandbox = Sandbox {
            uid,
            tmp: Some(tmp),
            ..self.clone()
        };
        sandbox.reset_tmp()?;
        Ok(sandbox)
    }

    /// Applies the limits and the uid to `command` (in the child, before exec).
    pub fn apply(&self, command: &mut Command) {
        let mut limits = vec![
            (libc::RLIMIT_CPU, self.cpu_secs),
            (libc::RLIMIT_AS, self.address_space),
            (libc::RLIMIT_FSIZE, self.file_size),
            (libc::RLIMIT_CORE, 0),
        ];
        if self.uid.is_some() {
            limits.push((libc::RLIMIT_NPROC, self.processes));
        }
        let uid = self.uid;
        // SAFETY: the closure runs between fork and exec and only makes
        // async-signal-safe system calls on values it owns.
        unsafe {
            command.pre_exec(move || {
                for &(resource, value) in &limits {
                    let limit = libc::rlimit {
                        rlim_cur: value,
                        rlim_max: value,
                    };
                    if libc::setrlimit(resource, &limit) != 0 {
                        return Err(io::Error::last_os_error());
                    }
                }
                if let Some(uid) = uid {
                    become_user(uid)?;
                }
                Ok(())
            });
        }
        if let Some(tmp) = &self.tmp {
            command.env("TMPDIR", tmp).env("HOME", tmp);
        }
        if let Some(library) = &self.preload {
            command.env("LD_PRELOAD", library);
        }
    }

    /// Kills every process left by the last test (as root: everything the
    /// worker's uid runs) and empties the temporary directory.
    pub fn clean_up(&self) -> Result<()> {
        if let Some(uid) = self.uid {
            // Killed processes count against the uid's process cap until
            // they are reaped, so wait until none is left (re-killing any
            // that a racing fork produced) before the next test starts.
            let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
            while processes_of(uid) > 0 && std::time::Instant::now() < deadline {
                kill_all_of(uid);
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
        }
        self.reset_tmp()
    }

    fn reset_tmp(&self) -> Result<()> {
        let Some(tmp) = &self.tmp else { return Ok(()) };
        if tmp.exists() {
            std::fs::remove_dir_all(tmp)
                .with_context(|| format!("cannot clear {}", tmp.display()))?;
        }
        std::fs::create_dir_all(tmp).with_context(|| format!("cannot create {}", tmp.display()))?;
        std::fs::set_permissions(tmp, std::fs::Permissions::from_mode(0o700))?;
        if let Some(uid) = self.uid {
            std::os::unix::fs::chown(tmp, Some(uid), Some(uid))
                .with_context(|| format!("cannot give {} to uid {uid}", tmp.display()))?;
        }
        Ok(())
    }
}

/// Sends SIGKILL to every process of `uid`, from a process running as `uid`.
fn kill_all_of(uid: u32) {
    let mut kill = Command::new("kill");
    kill.args(["-9", "-1"]);
    // SAFETY: `become_user` makes only async-signal-safe calls.
    unsafe {
        kill.pre_exec(move || become_user(uid));
    }
    // `kill -1` also signals itself after the others; its status says nothing.
    let _ = kill.status();
}

/// How many processes (zombies included) `uid` owns, from /proc.
fn processes_of(uid: u32) -> usize {
    use std::os::unix::fs::MetadataExt;
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return 0;
    };
    entries
        .flatten()
        .filter(|e| {
            e.file_name()
                .to_string_lossy()
                .bytes()
                .all(|b| b.is_ascii_digit())
        })
        .filter(|e| e.metadata().is_ok_and(|m| m.uid() == uid))
        .count()
}

/// Drops every group and switches to `uid` (as both uid and gid). Only
/// async-signal-safe calls: it runs between fork and exec.
fn become_user(uid: u32) -> io::Result<()> {
    // SAFETY: plain system calls; a null list with length 0 is valid for setgroups.
    let failed = unsafe {
        libc::setgroups(0, std::ptr::null()) != 0
            || libc::setgid(uid) != 0
            || libc::setuid(uid) != 0
    };
    if failed {
        Err(io::Error::last_os_error())
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::process::{self, Exit};
    use std::time::Duration;

    fn sh(script: &str) -> Command {
        let mut c = Command::new("sh");
        c.args(["-c", script]);
        c
    }

    /// A worker's sandbox, with a uid slot of its own when running as root
    /// (tests run concurrently; each must keep its slot until it ends).
    fn sandbox(dir: &Path) -> (Sandbox, Option<UidSlot>) {
        let slot = Sandbox::is_root().then(|| UidSlot::claim().unwrap());
        let mut sb = Sandbox::new(5);
        sb.uid = slot.as_ref().map(|s| s.base);
        (sb.for_worker(0, dir).unwrap(), slot)
    }

    #[test]
    fn limits_file_size() {
        let dir = tempfile::tempdir().unwrap();
        let (mut sb, _slot) = sandbox(dir.path());
        sb.file_size = 4096;
        let mut command = sh("head -c 100000 /dev/zero > \"$TMPDIR/big\"");
        sb.apply(&mut command);
        let done = process::run(command, Duration::from_secs(10)).unwrap();
        assert_ne!(done.exit, Exit::Code(0), "{done:?}");
        sb.clean_up().unwrap();
    }

    #[test]
    fn runs_unprivileged_as_root_and_cannot_write_the_workspace() {
        if !Sandbox::is_root() {
            return; // Only root can switch uids; nothing to prove otherwise.
        }
        let dir = tempfile::tempdir().unwrap();
        let (sb, slot) = sandbox(dir.path());
        let workspace_file = dir.path().join("grades.csv");
        std::fs::write(&workspace_file, "safe").unwrap();
        let script = format!(
            "id -u; echo pwned > {}; touch \"$TMPDIR/ok\"",
            workspace_file.display()
        );
        let mut command = sh(&script);
        sb.apply(&mut command);
        let done = process::run(command, Duration::from_secs(10)).unwrap();
        assert_eq!(
            done.stdout.trim(),
            slot.map(|s| s.base).unwrap_or_default().to_string()
        );
        assert_eq!(std::fs::read_to_string(&workspace_file).unwrap(), "safe");
        assert!(
            sb.tmp.as_ref().unwrap().join("ok").exists(),
            "the private TMPDIR is writable"
        );
        sb.clean_up().unwrap();
    }

    #[test]
    fn the_process_cap_stops_a_fork_bomb_and_clean_up_kills_stragglers() {
        if !Sandbox::is_root() {
            return; // RLIMIT_NPROC binds only an unprivileged uid.
        }
        let dir = tempfile::tempdir().unwrap();
        let (mut sb, _slot) = sandbox(dir.path());
        sb.processes = 20;
        // Start background sleepers, one line per start, until fork fails.
        let script = "n=0; while [ $n -lt 5000 ]; do sleep 30 & echo started; n=$((n+1)); done";
        let mut command = sh(script);
        sb.apply(&mut command);
        let done = process::run(command, Duration::from_secs(20)).unwrap();
        let started = done.stdout.lines().filter(|l| *l == "started").count();
        assert!(started > 0, "nothing started at all: {done:?}");
        assert!(started < 20, "the cap did not bind: {started} processes");
        sb.clean_up().unwrap();
    }
}
