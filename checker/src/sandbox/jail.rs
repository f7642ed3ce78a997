//! The bubblewrap view a sandboxed process gets: new mount, pid, network,
//! ipc and uts namespaces; the system's programs and libraries read-only; a
//! private `/tmp` and `/dev/shm`; and only the folders the grader names.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// A bubblewrap invocation, less the program it runs.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Jail {
    /// The `bwrap` executable.
    pub program: PathBuf,
    /// Size of the private `/tmp` (a tmpfs; it also counts as the test's memory).
    pub tmp_size: u64,
    /// Empty, writable tmpfs folders made before the binds (for example a cargo home).
    pub tmpfs: Vec<PathBuf>,
    pub binds: Vec<Bind>,
}

/// One folder or file made visible inside.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Bind {
    pub from: PathBuf,
    pub to: PathBuf,
    pub writable: bool,
    /// When the grader is root and the sandbox uid cannot reach `from`
    /// (a toolchain under `/root`), root mounts it here first, in a mount
    /// namespace of the child's own, and bubblewrap binds it from here.
    pub staged: Option<PathBuf>,
}

impl Bind {
    pub fn read_only(path: &Path) -> Bind {
        Bind {
            from: path.to_path_buf(),
            to: path.to_path_buf(),
            writable: false,
            staged: None,
        }
    }

    pub fn writable(path: &Path) -> Bind {
        Bind {
            writable: true,
            ..Bind::read_only(path)
        }
    }
}

/// What every sandboxed program needs from the system: programs, shared
/// libraries, the dynamic linker's cache, the compiler driver's links, and
/// name resolution for `localhost`. Nothing else of `/etc`, no `/home`,
/// no `/root`, no `/tmp` of the host.
const SYSTEM: &[&str] = &[
    "/usr",
    "/bin",
    "/sbin",
    "/lib",
    "/lib32",
    "/lib64",
    "/libx32",
    "/etc/alternatives",
    "/etc/ld.so.cache",
    "/etc/ld.so.conf",
    "/etc/ld.so.conf.d",
    "/etc/hosts",
    "/etc/nsswitch.conf",
];

impl Jail {
    /// A view of the system only; add binds for the rest.
    pub fn new(program: PathBuf) -> Jail {
        Jail {
            program,
            tmp_size: 1 << 30,
            tmpfs: Vec::new(),
            binds: Vec::new(),
        }
    }

    /// bubblewrap's arguments up to (not including) `--` and the program.
    pub fn args(&self, cwd: Option<&Path>, staging: bool) -> Vec<OsString> {
        let mut args: Vec<OsString> = [
            "--unshare-user",
            "--unshare-ipc",
            "--unshare-pid",
            "--unshare-net",
            "--unshare-uts",
            "--unshare-cgroup-try",
            "--die-with-parent",
            "--new-session",
            "--hostname",
            "sandbox",
        ]
        .map(OsString::from)
        .to_vec();
        let mut push =
            |words: &[&std::ffi::OsStr]| args.extend(words.iter().map(|w| w.to_os_string()));
        for path in SYSTEM.iter().map(Path::new) {
            match std::fs::symlink_metadata(path) {
                Ok(meta) if meta.file_type().is_symlink() => {
                    if let Ok(target) = std::fs::read_link(path) {
                        push(&["--symlink".as_ref(), target.as_os_str(), path.as_os_str()]);
                    }
                }
                Ok(_) => push(&["--ro-bind".as_ref(), path.as_os_str(), path.as_os_str()]),
                Err(_) => {}
            }
        }
        let size = self.tmp_size.to_string();
        push(&[
            "--proc".as_ref(),
            "/proc".as_ref(),
            "--dev".as_ref(),
            "/dev".as_ref(),
        ]);
        push(&[
            "--size".as_ref(),
            size.as_ref(),
            "--tmpfs".as_ref(),
            "/tmp".as_ref(),
        ]);
        push(&[
            "--size".as_ref(),
            size.as_ref(),
            "--tmpfs".as_ref(),
            "/dev/shm".as_ref(),
        ]);
        for dir in &self.tmpfs {
            push(&["--tmpfs".as_ref(), dir.as_os_str()]);
        }
        for bind in &self.binds {
            let verb = if bind.writable { "--bind" } else { "--ro-bind" };
            let from = match (&bind.staged, staging) {
                (Some(staged), true) => staged,
                _ => &bind.from,
            };
            push(&[verb.as_ref(), from.as_os_str(), bind.to.as_os_str()]);
        }
        if let Some(cwd) = cwd {
            push(&["--chdir".as_ref(), cwd.as_os_str()]);
        }
        args
    }
}
