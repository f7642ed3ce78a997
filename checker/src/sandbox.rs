//! The grader's sandbox for untrusted processes (student builds and tests):
//! bubblewrap namespaces where they work, `setrlimit` limits, cgroup caps
//! over a whole test, a cleared environment, and, when the grader runs as
//! root, an unprivileged uid.
//!
//! `RLIMIT_NPROC` does not bind root, so as root every test worker runs
//! under a uid of its own (no passwd entry is needed). That makes the
//! process cap real, keeps one student's fork bomb from eating another's
//! cap, lets the grader kill every straggler of a test with one
//! `kill(-1, SIGKILL)` made as that uid, and leaves the workspace (owned by
//! root) read-only to the test. Inside bubblewrap ([`Jail`]) the test also
//! sees only the system's programs, its own package and executable, and a
//! private `/tmp`; its pid namespace dies with it.

mod cgroup;
mod jail;

use std::ffi::{CString, OsString};
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};

pub use cgroup::{Cgroups, kill_all};
pub use jail::{Bind, Jail};

/// Limits and isolation for every sandboxed process.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Sandbox {
    /// CPU seconds (`RLIMIT_CPU`), summed over the process's threads.
    pub cpu_secs: u64,
    /// Bytes of address space (`RLIMIT_AS`) per process.
    pub address_space: u64,
    /// Largest file the process may write (`RLIMIT_FSIZE`).
    pub file_size: u64,
    /// Processes and threads of the test's uid (`RLIMIT_NPROC`); only
    /// applied when running as an unprivileged uid of our own.
    pub processes: u64,
    /// The uid (and gid) to run as, when the grader is root. On the shared
    /// sandbox this is the first uid of the claimed slot; each worker adds
    /// its index.
    pub uid: Option<u32>,
    /// A private, writable temporary directory (TMPDIR and HOME) when
    /// there is no bubblewrap (whose `/tmp` is private already).
    pub tmp: Option<PathBuf>,
    /// Inside bubblewrap, where each test finds a private, writable folder
    /// on the disk (cargo's `CARGO_TARGET_TMPDIR`, `target/tmp`): the private
    /// `/tmp` is a tmpfs, on which `msync` never writes a page back, and
    /// lesson 06 grades `msync`. Emptied after every test.
    pub disk_tmp_at: Option<PathBuf>,
    /// This worker's folder behind `disk_tmp_at`.
    pub disk_tmp: Option<PathBuf>,
    /// A library to preload into every test (the exit guard).
    pub preload: Option<PathBuf>,
    /// The bubblewrap view, where bubblewrap runs.
    pub jail: Option<Jail>,
    /// The `cgroup.procs` files this sandbox's processes join.
    pub cgroup_procs: Vec<PathBuf>,
    /// Per worker index, the cgroup files its sandbox joins.
    pub worker_cgroups: Vec<Vec<PathBuf>>,
    /// Environment beyond the minimal one; nothing else of the grader's
    /// environment reaches the process.
    pub env: Vec<(String, String)>,
}

/// The first uid used for test workers when the grader runs as root.
const UID_BASE: u32 = 61_000;
/// Uids per slot: the most test workers one grader runs at once, plus one
/// for builds (the slot's last uid).
pub const UIDS_PER_SLOT: u32 = 64;
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

    /// The uid builds run as: the slot's last, never a test worker's.
    pub fn build_uid(&self) -> u32 {
        self.base + UIDS_PER_SLOT - 1
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
            disk_tmp_at: None,
            disk_tmp: None,
            preload: None,
            jail: None,
            cgroup_procs: Vec::new(),
            worker_cgroups: Vec::new(),
            env: Vec::new(),
        }
    }

    /// Whether the grader can switch uids.
    pub fn is_root() -> bool {
        // SAFETY: geteuid has no preconditions.
        unsafe { libc::geteuid() == 0 }
    }

    /// This sandbox for worker `index`: its own uid (as root), its own
    /// cgroup, and its own temporary directory under `tmp_root` (without
    /// bubblewrap, whose `/tmp` is private already).
    pub fn for_worker(&self, index: usize, tmp_root: &Path) -> Result<Sandbox> {
        let cgroup_procs = self.worker_cgroups.get(index).cloned().unwrap_or_default();
        let index = u32::try_from(index).unwrap_or(0).min(UIDS_PER_SLOT - 2);
        let uid = self.uid.map(|base| base + index);
        let tmp = self
            .jail
            .is_none()
            .then(|| tmp_root.join(format!("worker-{index}")));
        let mut jail = self.jail.clone();
        let mut disk_tmp = None;
        if let (Some(jail), Some(at)) = (&mut jail, &self.disk_tmp_at) {
            let dir = tmp_root.join(format!("disk-{index}"));
            jail.binds.push(Bind {
                from: dir.clone(),
                to: at.clone(),
                writable: true,
                staged: None,
            });
            disk_tmp = Some(dir);
        }
        let sandbox = Sandbox {
            uid,
            tmp,
            disk_tmp,
            jail,
            cgroup_procs,
            ..self.clone()
        };
        sandbox.reset_tmp()?;
        Ok(sandbox)
    }

    /// A command that runs `inner` (program, arguments, working directory
    /// and the environment it sets) inside this sandbox.
    pub fn wrap(&self, inner: &Command) -> Command {
        let home = match (&self.jail, &self.tmp) {
            (None, Some(tmp)) => tmp.clone(),
            _ => PathBuf::from("/tmp"),
        };
        let mut env: Vec<(OsString, OsString)> = vec![
            ("PATH".into(), "/usr/local/bin:/usr/bin:/bin".into()),
            ("LANG".into(), "C.UTF-8".into()),
            ("HOME".into(), home.clone().into()),
            ("TMPDIR".into(), home.into()),
        ];
        if let Some(library) = &self.preload {
            env.push(("LD_PRELOAD".into(), library.into()));
        }
        env.extend(self.env.iter().map(|(k, v)| (k.into(), v.into())));
        for (key, value) in inner.get_envs() {
            if let Some(value) = value {
                env.push((key.into(), value.into()));
            }
        }
        let cwd = inner.get_current_dir();
        let mut outer = match &self.jail {
            // bubblewrap itself gets no preload and no guard setting: they
            // are for the program it starts, through --setenv.
            Some(jail) => {
                let mut c = Command::new(&jail.program);
                c.env_clear().env("PATH", "/usr/local/bin:/usr/bin:/bin");
                c.args(jail.args(cwd, self.stages()));
                for (key, value) in &env {
                    c.arg("--setenv").arg(key).arg(value);
                }
                c.arg("--").arg(inner.get_program());
                c
            }
            None => {
                let mut c = Command::new(inner.get_program());
                if let Some(cwd) = cwd {
                    c.current_dir(cwd);
                }
                c.env_clear().envs(env);
                c
            }
        };
        outer.args(inner.get_args());
        self.apply_limits(&mut outer);
        outer
    }

    /// Whether root mounts unreachable sources before dropping to the uid.
    fn stages(&self) -> bool {
        self.uid.is_some() && Sandbox::is_root()
    }

    /// Limits, cgroups, staged mounts and the uid, set in the child before exec.
    fn apply_limits(&self, command: &mut Command) {
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
        let cstr = |p: &Path| CString::new(p.as_os_str().as_bytes()).ok();
        let cgroups: Vec<CString> = self.cgroup_procs.iter().filter_map(|p| cstr(p)).collect();
        let staged: Vec<(CString, CString)> = match (&self.jail, self.stages()) {
            (Some(jail), true) => jail
                .binds
                .iter()
                .filter_map(|b| Some((cstr(&b.from)?, cstr(b.staged.as_ref()?)?)))
                .collect(),
            _ => Vec::new(),
        };
        // SAFETY: the closure runs between fork and exec and only makes
        // async-signal-safe system calls on values prepared beforehand.
        unsafe {
            command.pre_exec(move || {
                if !staged.is_empty() {
                    mount_staged(&staged)?;
                }
                for procs in &cgroups {
                    join_cgroup(procs)?;
                }
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
    }

    /// Kills every process left by the last test (as root: everything the
    /// worker's uid runs; and everything in its cgroup) and empties the
    /// temporary directory.
    pub fn clean_up(&self) -> Result<()> {
        if let Some(uid) = self.uid {
            // Killed processes count against the uid's process cap until
            // they are reaped, so wait until none is left (re-killing any
            // that a racing fork produced) before the next test starts.
            let deadline = Instant::now() + Duration::from_secs(20);
            while processes_of(uid, self.jail.is_some()) > 0 && Instant::now() < deadline {
                kill_all_of(uid);
                std::thread::sleep(Duration::from_millis(20));
            }
        }
        kill_all(&self.cgroup_procs);
        self.reset_tmp()
    }

    fn reset_tmp(&self) -> Result<()> {
        for tmp in self.tmp.iter().chain(&self.disk_tmp) {
            self.reset_dir(tmp)?;
        }
        Ok(())
    }

    /// Empties `tmp` and gives it to the worker's uid alone.
    fn reset_dir(&self, tmp: &Path) -> Result<()> {
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

/// In a new mount namespace of the child's own, bind-mounts each source on
/// its staging folder (as root, before the uid is dropped).
fn mount_staged(staged: &[(CString, CString)]) -> io::Result<()> {
    // SAFETY: plain system calls on NUL-terminated strings we own.
    unsafe {
        if libc::unshare(libc::CLONE_NEWNS) != 0
            || libc::mount(
                std::ptr::null(),
                c"/".as_ptr(),
                std::ptr::null(),
                libc::MS_REC | libc::MS_PRIVATE,
                std::ptr::null(),
            ) != 0
        {
            return Err(io::Error::last_os_error());
        }
        for (from, to) in staged {
            let flags = libc::MS_BIND | libc::MS_REC;
            if libc::mount(
                from.as_ptr(),
                to.as_ptr(),
                std::ptr::null(),
                flags,
                std::ptr::null(),
            ) != 0
            {
                return Err(io::Error::last_os_error());
            }
        }
    }
    Ok(())
}

/// Moves the calling process into a cgroup (`0` names the writer itself).
fn join_cgroup(procs: &CString) -> io::Result<()> {
    // SAFETY: plain system calls on a NUL-terminated path and a static buffer.
    unsafe {
        let fd = libc::open(procs.as_ptr(), libc::O_WRONLY | libc::O_CLOEXEC);
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        let written = libc::write(fd, b"0".as_ptr().cast(), 1);
        libc::close(fd);
        if written != 1 {
            return Err(io::Error::last_os_error());
        }
    }
    Ok(())
}

/// A build run through [`exec_entry`]: the sandbox and a wall-clock limit.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BuildJail {
    pub sandbox: Sandbox,
    pub wall_secs: u64,
}

/// The argument that selects [`exec_entry`] (`checker __sandbox-exec ...`).
pub const EXEC_ENTRY: &str = "__sandbox-exec";
/// Names of the variables the caller set on purpose (for example
/// `RUSTFLAGS` for loom), which pass into the sandbox.
pub const PASS_ENV: &str = "CHECKER_SANDBOX_PASS";

/// `checker __sandbox-exec CONFIG PROGRAM ARGS...`: runs PROGRAM in the
/// [`BuildJail`] stored in CONFIG, with inherited stdio, and exits with its
/// status. The grader points cargo here, so that student code is compiled
/// only inside the sandbox.
pub fn exec_entry(args: Vec<OsString>) -> ExitCode {
    match run_entry(args) {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("error: the grader's sandbox: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn run_entry(args: Vec<OsString>) -> Result<u8> {
    let [config, program, rest @ ..] = args.as_slice() else {
        anyhow::bail!("usage: checker {EXEC_ENTRY} CONFIG PROGRAM ARGS...");
    };
    let text = std::fs::read_to_string(config)
        .with_context(|| format!("cannot read {}", Path::new(config).display()))?;
    let build: BuildJail = serde_json::from_str(&text).context("a malformed sandbox config")?;
    let mut inner = Command::new(program);
    inner.args(rest).current_dir(std::env::current_dir()?);
    if let Some(keys) = std::env::var_os(PASS_ENV) {
        for key in keys.to_string_lossy().split(',').filter(|k| !k.is_empty()) {
            if let Some(value) = std::env::var_os(key) {
                inner.env(key, value);
            }
        }
    }
    let mut child = build
        .sandbox
        .wrap(&inner)
        .spawn()
        .context("cannot start the sandboxed build")?;
    let deadline = Instant::now() + Duration::from_secs(build.wall_secs);
    loop {
        if let Some(status) = child.try_wait()? {
            let code = status
                .code()
                .or(status.signal().map(|s| 128 + s))
                .unwrap_or(1);
            if status.signal() == Some(libc::SIGXCPU) || status.signal() == Some(libc::SIGKILL) {
                eprintln!("error: the build was stopped by its CPU or memory limit");
            }
            return Ok(u8::try_from(code).unwrap_or(1));
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            kill_all(&build.sandbox.cgroup_procs);
            let _ = child.wait();
            eprintln!(
                "error: the build ran past its limit of {} s and was stopped",
                build.wall_secs
            );
            return Ok(1);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Routes a cargo call through the launcher in `dir` (see
/// [`write_launcher`]). The variables the options set pass into the
/// sandbox.
pub fn route_cargo(options: &mut crate::cargo::BuildOptions, dir: &Path) {
    let keys: Vec<String> = options.env.iter().map(|(k, _)| k.clone()).collect();
    options.env.push((PASS_ENV.into(), keys.join(",")));
    options.program = Some(dir.join("cargo"));
}

/// Writes `dir/cargo`, a launcher that runs `cargo` (the real one) through
/// [`exec_entry`] in `build`, and `dir/sandbox.json`, its configuration.
pub fn write_launcher(dir: &Path, build: &BuildJail, cargo: &Path) -> Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let config = dir.join("sandbox.json");
    std::fs::write(&config, serde_json::to_string_pretty(build)?)
        .with_context(|| format!("cannot write {}", config.display()))?;
    let checker = std::env::current_exe().context("cannot find the checker's own executable")?;
    let quote = |p: &Path| -> Result<String> {
        let text = p
            .to_str()
            .with_context(|| format!("{} is not UTF-8", p.display()))?;
        Ok(format!("'{}'", text.replace('\'', "'\\''")))
    };
    let script = format!(
        "#!/bin/sh\n# Written by `checker grade`: cargo, run inside the grader's sandbox.\n\
         exec {} {EXEC_ENTRY} {} {} \"$@\"\n",
        quote(&checker)?,
        quote(&config)?,
        quote(cargo)?
    );
    let launcher = dir.join("cargo");
    std::fs::write(&launcher, script)
        .with_context(|| format!("cannot write {}", launcher.display()))?;
    std::fs::set_permissions(&launcher, std::fs::Permissions::from_mode(0o755))?;
    Ok(())
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

/// How many processes `uid` owns, from /proc; zombies count unless
/// `live_only` (inside bubblewrap, where the namespace's exited init
/// lingers as a zombie until the machine's init reaps it).
fn processes_of(uid: u32, live_only: bool) -> usize {
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
        .filter(|e| {
            !live_only
                || std::fs::read_to_string(e.path().join("stat"))
                    .ok()
                    .and_then(|s| {
                        s.rsplit_once(')')
                            .map(|(_, rest)| rest.trim_start().starts_with('Z'))
                    })
                    != Some(true)
        })
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
        let command = sh("head -c 100000 /dev/zero > \"$TMPDIR/big\"");
        let command = sb.wrap(&command);
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
        let command = sh(&script);
        let command = sb.wrap(&command);
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
        let command = sh(script);
        let command = sb.wrap(&command);
        let done = process::run(command, Duration::from_secs(20)).unwrap();
        let started = done.stdout.lines().filter(|l| *l == "started").count();
        assert!(started > 0, "nothing started at all: {done:?}");
        assert!(started < 20, "the cap did not bind: {started} processes");
        sb.clean_up().unwrap();
    }
}
