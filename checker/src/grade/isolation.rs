//! How the grader isolates student code, decided once per run: bubblewrap
//! where it runs, else today's `setrlimit` sandbox; cgroup caps where the
//! machine has them. Builds go through a sandboxed cargo launcher too.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{Context, Result, bail};

use crate::sandbox::{Bind, BuildJail, Cgroups, Jail, Sandbox, UidSlot};
use crate::workspace::Workspace;

/// Memory of one test, all its processes and its `/tmp` together.
const TEST_MEMORY: u64 = 4 << 30;
/// Memory of one build (cargo, rustc and the linker together).
const BUILD_MEMORY: u64 = 6 << 30;

/// The run's isolation: the tests' sandbox, the build launcher, and what
/// the instructor is told about them.
pub struct Isolation {
    pub tests: Sandbox,
    /// The folder that holds the sandboxed `cargo` launcher.
    pub launcher: PathBuf,
    /// One line: which isolation runs, and why not a stronger one.
    pub summary: String,
    _cgroups: Option<Cgroups>,
}

pub struct Setup<'a> {
    pub ws: &'a Workspace,
    pub work: &'a Path,
    pub slot: Option<&'a UidSlot>,
    pub jobs: usize,
    /// CPU seconds of a test process.
    pub test_cpu_secs: u64,
    /// Wall-clock (and CPU) seconds of one cargo build.
    pub build_secs: u64,
    pub guard: Option<PathBuf>,
}

impl Setup<'_> {
    pub fn run(self) -> Result<Isolation> {
        let mut notes = Vec::new();
        let cgroups = match Cgroups::create() {
            Ok(c) => Some(c),
            Err(e) => {
                notes.push(format!("no cgroup caps ({e:#}); per-process limits only"));
                None
            }
        };
        let mut tests = Sandbox::new(self.test_cpu_secs);
        tests.uid = self.slot.map(|s| s.base);
        tests.preload = self.guard.clone();
        tests
            .env
            .push(("CHECKER_EXIT_GUARD".into(), "strict".into()));
        if let Some(cgroups) = &cgroups {
            for worker in 0..self.jobs {
                let group =
                    cgroups.group(&format!("test-{worker}"), TEST_MEMORY, tests.processes)?;
                tests.worker_cgroups.push(group);
            }
        }
        let target = &self.ws.target_dir;
        std::fs::create_dir_all(target)?;
        let jail = match which("bwrap") {
            None => Err(
                "bubblewrap (`bwrap`) is not installed; `apt-get install bubblewrap`".to_string(),
            ),
            Some(program) => {
                let mut jail = Jail::new(program);
                jail.binds.push(Bind::read_only(&self.ws.root));
                jail.binds.push(Bind::read_only(target));
                if let Some(guard) = &self.guard {
                    jail.binds.push(Bind::read_only(guard));
                }
                probe(&tests, jail, self.work)
            }
        };
        let jailed = jail.is_ok();
        let mut summary = match &jail {
            Ok(_) => "bubblewrap: student builds and tests run in new mount, pid, network and ipc namespaces, \
                      seeing only the system, the toolchain, the scratch course and the target folder, \
                      with a private /tmp and /dev/shm and a private folder on the disk at target/tmp"
                .to_string(),
            Err(why) => format!("setrlimit limits only, without namespaces: bubblewrap cannot run here ({why})"),
        };
        tests.jail = jail.ok();
        if jailed {
            let disk_tmp = target.join("tmp");
            std::fs::create_dir_all(&disk_tmp)
                .with_context(|| format!("cannot create {}", disk_tmp.display()))?;
            tests.disk_tmp_at = Some(disk_tmp);
        }
        match self.slot {
            Some(slot) => summary.push_str(&format!(
                "; tests run as uids {}..{}, builds as uid {}",
                slot.base,
                slot.base + self.jobs as u32 - 1,
                if jailed {
                    slot.build_uid().to_string()
                } else {
                    "0 (root)".to_string()
                }
            )),
            None => summary.push_str("; everything runs as you (not root): no uid of its own"),
        }
        if cgroups.is_some() {
            summary.push_str(&format!(
                "; cgroup caps per test: {} GiB of memory, {} processes",
                TEST_MEMORY >> 30,
                tests.processes
            ));
        }
        for note in notes {
            summary.push_str(&format!("; {note}"));
        }
        let build = self.build_sandbox(cgroups.as_ref(), jailed)?;
        let launcher = self.work.join("launcher");
        let cargo = sysroot(&self.ws.root)?.join("bin").join("cargo");
        crate::sandbox::write_launcher(
            &launcher,
            &BuildJail {
                sandbox: build,
                wall_secs: self.build_secs,
            },
            &cargo,
        )?;
        Ok(Isolation {
            tests,
            launcher,
            summary,
            _cgroups: cgroups,
        })
    }

    /// The build's sandbox: inside bubblewrap, as the slot's build uid,
    /// offline, with the registry read-only and only the scratch course
    /// and the target folder visible; `include_str!("/etc/shadow")` then
    /// finds nothing. Without bubblewrap, cargo runs as root with limits.
    fn build_sandbox(&self, cgroups: Option<&Cgroups>, jailed: bool) -> Result<Sandbox> {
        let sysroot = sysroot(&self.ws.root)?;
        let cargo_home = std::env::var_os("CARGO_HOME")
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")))
            .context("neither CARGO_HOME nor HOME is set")?;
        fetch(&self.ws.root)?;
        let mut build = Sandbox::new(self.build_secs);
        build.processes = 4096;
        build.file_size = 8 << 30;
        build.address_space = 64 << 30;
        build.env.push((
            "RUSTC".into(),
            sysroot.join("bin/rustc").display().to_string(),
        ));
        build.env.push(("CARGO_TERM_COLOR".into(), "never".into()));
        if let Some(cgroups) = cgroups {
            build.cgroup_procs = cgroups.group("build", BUILD_MEMORY, build.processes)?;
        }
        let target = &self.ws.target_dir;
        if !jailed {
            build
                .env
                .push(("CARGO_HOME".into(), cargo_home.display().to_string()));
            own_tree(target, 0)?;
            return Ok(build);
        }
        let registry_src = self.work.join("registry-src");
        std::fs::create_dir_all(&registry_src)?;
        let uid = self.slot.map(UidSlot::build_uid);
        if let Some(uid) = uid {
            own_tree(target, uid)?;
            own_tree(&registry_src, uid)?;
        }
        build.uid = uid;
        let home = PathBuf::from("/cargo-home");
        build
            .env
            .push(("CARGO_HOME".into(), home.display().to_string()));
        build.env.push(("CARGO_NET_OFFLINE".into(), "true".into()));
        let mut jail = Jail::new(which("bwrap").context("bwrap vanished")?);
        jail.tmpfs.push(home.clone());
        let staging = self.work.join("view");
        let staged = |from: PathBuf, to: PathBuf, name: &str| -> Result<Bind> {
            let dir = staging.join(name);
            std::fs::create_dir_all(&dir)?;
            Ok(Bind {
                from,
                to,
                writable: false,
                staged: Some(dir),
            })
        };
        jail.binds
            .push(staged(sysroot.clone(), sysroot.clone(), "toolchain")?);
        for part in ["index", "cache"] {
            let from = cargo_home.join("registry").join(part);
            std::fs::create_dir_all(&from)?;
            jail.binds
                .push(staged(from, home.join("registry").join(part), part)?);
        }
        jail.binds.push(Bind {
            from: registry_src,
            to: home.join("registry/src"),
            writable: true,
            staged: None,
        });
        jail.binds.push(Bind::read_only(&self.ws.root));
        jail.binds.push(Bind::writable(target));
        build.jail = Some(jail);
        Ok(build)
    }
}

/// Runs `true` in the tests' sandbox with `jail`: the jail if it works,
/// else what bubblewrap said.
fn probe(tests: &Sandbox, jail: Jail, work: &Path) -> Result<Jail, String> {
    let mut sandbox = tests
        .for_worker(0, &work.join("tmp"))
        .map_err(|e| format!("{e:#}"))?;
    sandbox.jail = Some(jail.clone());
    let output = sandbox
        .wrap(&Command::new("true"))
        .stdin(Stdio::null())
        .output();
    let _ = sandbox.clean_up();
    match output {
        Ok(out) if out.status.success() => Ok(jail),
        Ok(out) => Err(String::from_utf8_lossy(&out.stderr).trim().to_string()),
        Err(e) => Err(format!("cannot start bwrap: {e}")),
    }
}

/// `program` on PATH, as an absolute path.
fn which(program: &str) -> Option<PathBuf> {
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|dir| dir.join(program))
        .find(|path| path.is_file())
}

/// The toolchain the course builds with (its `rust-toolchain` file honoured).
fn sysroot(root: &Path) -> Result<PathBuf> {
    let out = Command::new("rustc")
        .args(["--print", "sysroot"])
        .current_dir(root)
        .env_remove("RUSTC")
        .output()
        .context("cannot run rustc --print sysroot")?;
    if !out.status.success() {
        bail!(
            "rustc --print sysroot failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(PathBuf::from(String::from_utf8_lossy(&out.stdout).trim()))
}

/// Downloads every dependency of the scratch course (trusted: pristine
/// manifests, no student code), so that sandboxed builds run offline.
fn fetch(root: &Path) -> Result<()> {
    let status = Command::new(crate::cargo::program())
        .args(["fetch", "-q", "--manifest-path"])
        .arg(root.join("Cargo.toml"))
        .current_dir(root)
        .env_remove("CARGO_TARGET_DIR")
        .status()
        .context("cannot run cargo fetch")?;
    if !status.success() {
        bail!(
            "`cargo fetch` failed in the scratch course {}",
            root.display()
        );
    }
    Ok(())
}

/// Gives `dir` and everything under it (links not followed) to `uid`.
fn own_tree(dir: &Path, uid: u32) -> Result<()> {
    use std::os::unix::fs::MetadataExt;
    let meta = std::fs::symlink_metadata(dir)?;
    if meta.uid() != uid || meta.gid() != uid {
        std::os::unix::fs::lchown(dir, Some(uid), Some(uid))
            .with_context(|| format!("cannot give {} to uid {uid}", dir.display()))?;
    }
    if meta.is_dir() {
        for entry in std::fs::read_dir(dir)? {
            own_tree(&entry?.path(), uid)?;
        }
    }
    Ok(())
}
