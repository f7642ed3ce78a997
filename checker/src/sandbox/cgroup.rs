//! Memory and process caps over a whole test (every process it starts),
//! through cgroup v1's `memory` and `pids` controllers where the machine
//! has them and the grader may create groups.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

/// The grader's own cgroups (one per controller), removed with everything
/// under them when dropped.
#[derive(Debug)]
pub struct Cgroups {
    /// `(controller, our group's directory)`.
    parents: Vec<(&'static str, PathBuf)>,
}

const CONTROLLERS: [&str; 2] = ["memory", "pids"];

impl Cgroups {
    /// Creates `checker-<pid>` under this process's own group of each
    /// controller; `Err` says why there is none (no cgroup v1, no permission).
    pub fn create() -> Result<Cgroups> {
        let own = std::fs::read_to_string("/proc/self/cgroup")
            .context("cannot read /proc/self/cgroup")?;
        let mut parents = Vec::new();
        for controller in CONTROLLERS {
            let mount = Path::new("/sys/fs/cgroup").join(controller);
            if !mount.join("cgroup.procs").is_file() {
                anyhow::bail!(
                    "no cgroup v1 `{controller}` controller at {}",
                    mount.display()
                );
            }
            let relative = own
                .lines()
                .filter_map(|l| {
                    let mut parts = l.splitn(3, ':').skip(1);
                    parts.next().zip(parts.next())
                })
                .find(|(names, _)| names.split(',').any(|n| n == controller))
                .map_or("/", |(_, path)| path);
            let dir = mount
                .join(relative.trim_start_matches('/'))
                .join(format!("checker-{}", std::process::id()));
            std::fs::create_dir_all(&dir)
                .with_context(|| format!("cannot create the cgroup {}", dir.display()))?;
            parents.push((controller, dir));
        }
        Ok(Cgroups { parents })
    }

    /// A child group `name` capped at `memory` bytes and `processes` tasks;
    /// returns the `cgroup.procs` files a process writes itself into.
    pub fn group(&self, name: &str, memory: u64, processes: u64) -> Result<Vec<PathBuf>> {
        let mut procs = Vec::new();
        for (controller, parent) in &self.parents {
            let dir = parent.join(name);
            std::fs::create_dir_all(&dir)
                .with_context(|| format!("cannot create the cgroup {}", dir.display()))?;
            let limits: &[(&str, u64)] = match *controller {
                "memory" => &[("memory.limit_in_bytes", memory)],
                _ => &[("pids.max", processes)],
            };
            for (file, value) in limits {
                std::fs::write(dir.join(file), value.to_string())
                    .with_context(|| format!("cannot set {}/{file}", dir.display()))?;
            }
            // Swap counts too where the kernel accounts for it.
            if *controller == "memory" {
                let _ = std::fs::write(dir.join("memory.memsw.limit_in_bytes"), memory.to_string());
            }
            procs.push(dir.join("cgroup.procs"));
        }
        Ok(procs)
    }
}

/// Kills every process in the groups whose `cgroup.procs` files are given,
/// until none is left (or 20 s passed).
pub fn kill_all(procs: &[PathBuf]) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let pids: Vec<libc::pid_t> = procs
            .iter()
            .filter_map(|p| std::fs::read_to_string(p).ok())
            .flat_map(|t| {
                t.lines()
                    .filter_map(|l| l.trim().parse().ok())
                    .collect::<Vec<_>>()
            })
            .collect();
        if pids.is_empty() || std::time::Instant::now() > deadline {
            return;
        }
        for pid in pids {
            // SAFETY: kill has no memory-safety preconditions.
            unsafe {
                libc::kill(pid, libc::SIGKILL);
            }
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
}

impl Drop for Cgroups {
    fn drop(&mut self) {
        for (_, parent) in &self.parents {
            let children: Vec<PathBuf> = std::fs::read_dir(parent)
                .into_iter()
                .flatten()
                .flatten()
                .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
                .map(|e| e.path())
                .collect();
            for child in children {
                kill_all(&[child.join("cgroup.procs")]);
                let _ = std::fs::remove_dir(&child);
            }
            let _ = std::fs::remove_dir(parent);
        }
    }
}
