//! How each stage builds a package's tests, lists them and runs one.
//!
//! - `test`: a normal debug build; each test binary runs natively.
//! - `loom`: `RUSTFLAGS="--cfg loom"`, release, in its own target directory
//!   so the normal build is not invalidated; `LOOM_MAX_PREEMPTIONS` bounds
//!   every model.
//! - `miri`: `cargo +nightly miri test`, one cargo call per test, with the
//!   lesson's and the task's `MIRIFLAGS`. Skipped when Miri is not installed.

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::Duration;

use anyhow::{Result, bail};

use crate::cargo::{self, Build, BuildOptions};
use crate::manifest::{Lesson, Stage, Task};
use crate::workspace::Workspace;

/// The command that installs Miri.
pub const MIRI_INSTALL: &str = "rustup component add --toolchain nightly miri rust-src";

/// One test target (a file under `tests/`) ready to run.
#[derive(Debug, Clone)]
pub struct Target {
    pub name: String,
    /// The native executable (test and loom stages).
    pub exe: PathBuf,
}

/// What preparing a stage gave.
pub enum Prepared {
    Ready(Vec<Target>),
    CompileError(Vec<String>),
    /// The stage cannot run on this machine; the reason says what to install.
    Skipped(String),
}

/// A stage bound to one package of one lesson.
pub struct StagePlan<'a> {
    pub ws: &'a Workspace,
    pub lesson: &'a Lesson,
    pub package: &'a str,
    pub stage: Stage,
    /// Overrides the manifest's timeout.
    pub timeout: Option<Duration>,
    /// The grader's sandboxed cargo (a folder holding a `cargo` launcher),
    /// through which the test and loom stages build.
    pub sandboxed_cargo: Option<&'a std::path::Path>,
}

impl StagePlan<'_> {
    fn build_options(&self) -> BuildOptions {
        let mut options = self.stage_build_options();
        if let Some(launcher) = self.sandboxed_cargo.filter(|_| self.stage != Stage::Miri) {
            crate::sandbox::route_cargo(&mut options, launcher);
        }
        options
    }

    fn stage_build_options(&self) -> BuildOptions {
        match self.stage {
            Stage::Test | Stage::Bench => BuildOptions::default(),
            Stage::Loom => BuildOptions {
                env: vec![("RUSTFLAGS".into(), "--cfg loom".into())],
                env_remove: vec!["CARGO_ENCODED_RUSTFLAGS".into()],
                target_dir: Some(self.ws.target_dir.join("loom")),
                release: true,
                ..BuildOptions::default()
            },
            Stage::Miri => BuildOptions {
                toolchain: Some("nightly".into()),
                wrapper: vec!["miri".into()],
                ..BuildOptions::default()
            },
        }
    }

    /// Builds the package's tests for this stage.
    pub fn prepare(&self) -> Result<Prepared> {
        if self.stage == Stage::Bench {
            bail!(
                "the bench stage is not graded by the checker; run `cargo bench -p {}`",
                self.package
            );
        }
        if self.stage == Stage::Miri && !miri_installed() {
            return Ok(Prepared::Skipped(format!(
                "not installed; install it with `{MIRI_INSTALL}`"
            )));
        }
        Ok(
            match cargo::build_tests(&self.ws.root, self.package, &self.build_options())? {
                Build::Ok(binaries) => Prepared::Ready(
                    binaries
                        .into_iter()
                        .map(|b| Target {
                            name: b.target,
                            exe: b.path,
                        })
                        .collect(),
                ),
                Build::CompileError(errors) => Prepared::CompileError(errors),
            },
        )
    }

    /// A command that runs the target's test harness; libtest's own
    /// arguments are appended by the caller.
    pub fn harness(&self, target: &Target, task: Option<&Task>) -> Result<Command> {
        let cwd = self.ws.package_dir(self.package)?;
        let mut command = match self.stage {
            Stage::Miri => {
                let mut c = self.build_options().cargo_test(&self.ws.root, self.package);
                c.args(["-q", "--test", &target.name, "--"]);
                let flags: Vec<&str> = self
                    .lesson
                    .miri_flags
                    .iter()
                    .chain(task.map(|t| t.miri_flags.as_slice()).unwrap_or_default())
                    .map(String::as_str)
                    .collect();
                c.env("MIRIFLAGS", flags.join(" "));
                c
            }
            _ => {
                let mut c = Command::new(&target.exe);
                c.current_dir(cwd).env("CARGO_MANIFEST_DIR", cwd);
                c
            }
        };
        if self.stage == Stage::Loom {
            let preemptions = self
                .lesson
                .loom_max_preemptions
                .unwrap_or(self.ws.course.course.loom_max_preemptions);
            command
                .env("LOOM_MAX_PREEMPTIONS", preemptions.to_string())
                .env("LOOM_LOCATION", "1");
        }
        Ok(command)
    }

    /// The per-test timeout.
    pub fn timeout(&self) -> Duration {
        self.timeout.unwrap_or_else(|| match self.stage {
            Stage::Miri => Duration::from_secs(self.ws.course.course.miri_timeout_secs),
            _ => self.lesson.timeout(&self.ws.course.course),
        })
    }
}

/// Whether `cargo +nightly miri` works here (checked once per run).
pub fn miri_installed() -> bool {
    static INSTALLED: OnceLock<bool> = OnceLock::new();
    *INSTALLED.get_or_init(|| {
        Command::new("cargo")
            .args(["+nightly", "miri", "--version"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    })
}
