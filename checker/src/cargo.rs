//! Building a package's test executables with cargo.

use std::collections::BTreeMap;
use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Mutex, PoisonError};

use anyhow::{Context, Result};
use cargo_metadata::Message;
use cargo_metadata::diagnostic::DiagnosticLevel;

/// The cargo to run: the one that launched us (`cargo run`), else `cargo` on PATH.
pub fn program() -> PathBuf {
    std::env::var_os("CARGO")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("cargo"))
}

/// The target directory chosen for each workspace root opened in this run
/// (see [`crate::workspace::own_target_dir`]).
static TARGET_DIRS: Mutex<BTreeMap<PathBuf, PathBuf>> = Mutex::new(BTreeMap::new());

/// Makes every cargo command run at `root` build into `dir`, unless its
/// [`BuildOptions`] name another directory.
pub fn register_target_dir(root: &Path, dir: &Path) {
    TARGET_DIRS
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .insert(root.to_path_buf(), dir.to_path_buf());
}

fn registered_target_dir(root: &Path) -> Option<PathBuf> {
    TARGET_DIRS
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .get(root)
        .cloned()
}

/// How to build: the knobs later stages (loom, Miri) turn.
#[derive(Debug, Clone, Default)]
pub struct BuildOptions {
    /// Extra environment for cargo, for example `RUSTFLAGS`.
    pub env: Vec<(String, String)>,
    /// Environment variables cargo must not see.
    pub env_remove: Vec<String>,
    /// A separate target directory, so an unusual build does not invalidate
    /// the normal one. Default: the one registered for the root.
    pub target_dir: Option<PathBuf>,
    pub release: bool,
    /// Run `cargo +TOOLCHAIN` through the rustup proxy (for example `nightly`).
    pub toolchain: Option<String>,
    /// The cargo subcommand words before `test`, for example `["miri"]`.
    pub wrapper: Vec<String>,
    /// Run this program instead of cargo (the grader's sandboxed launcher,
    /// which takes cargo's arguments). Ignored with a `toolchain`.
    pub program: Option<PathBuf>,
}

impl BuildOptions {
    /// A `cargo [+toolchain] [wrapper...] test <args>` command for `package`,
    /// run from the workspace root.
    pub fn cargo_test(&self, root: &Path, package: &str) -> Command {
        self.cargo(root, package, "test")
    }

    /// `cargo [+toolchain] [wrapper...] <subcommand> -p <package> ...`.
    pub fn cargo(&self, root: &Path, package: &str, subcommand: &str) -> Command {
        let mut command = match &self.toolchain {
            // The rustup proxy on PATH understands `+toolchain`; $CARGO may not.
            Some(toolchain) => {
                let mut c = Command::new("cargo");
                c.arg(format!("+{toolchain}"));
                c
            }
            None => Command::new(self.program.clone().unwrap_or_else(program)),
        };
        command
            .current_dir(root)
            .args(&self.wrapper)
            .arg(subcommand);
        command
            .args(["-p", package])
            .arg("--manifest-path")
            .arg(root.join("Cargo.toml"));
        if self.release {
            command.arg("--release");
        }
        if let Some(dir) = self
            .target_dir
            .clone()
            .or_else(|| registered_target_dir(root))
        {
            command.arg("--target-dir").arg(dir);
        }
        for key in &self.env_remove {
            command.env_remove(key);
        }
        command.envs(self.env.iter().map(|(k, v)| (k, v)));
        command
    }
}

/// An integration-test executable.
#[derive(Debug, Clone)]
pub struct TestBinary {
    /// The test target's name (the file name under `tests/`).
    pub target: String,
    pub path: PathBuf,
}

/// What building a package's tests gave.
#[derive(Debug)]
pub enum Build {
    Ok(Vec<TestBinary>),
    /// The compiler rejected the code: its rendered errors, in order.
    CompileError(Vec<String>),
}

/// Builds every integration test of `package` without running it.
///
/// Only `tests/` targets are built: a learner's own unit tests in `src/`
/// are theirs and are never graded.
pub fn build_tests(root: &Path, package: &str, options: &BuildOptions) -> Result<Build> {
    let mut command = options.cargo_test(root, package);
    command
        .args(["--no-run", "--message-format=json", "--test", "*"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = command.spawn().context("cannot start cargo")?;

    let mut stderr = child
        .stderr
        .take()
        .context("cargo's stderr was not captured")?;
    let stderr_reader = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stderr.read_to_string(&mut text);
        text
    });

    let stdout = child
        .stdout
        .take()
        .context("cargo's stdout was not captured")?;
    let mut binaries = Vec::new();
    let mut errors = Vec::new();
    for message in Message::parse_stream(BufReader::new(stdout)) {
        match message.context("cannot read cargo's output")? {
            Message::CompilerArtifact(artifact) if artifact.profile.test => {
                if let Some(exe) = artifact.executable {
                    binaries.push(TestBinary {
                        target: artifact.target.name.to_string(),
                        path: exe.into_std_path_buf(),
                    });
                }
            }
            Message::CompilerMessage(msg) => {
                let is_error = matches!(
                    msg.message.level,
                    DiagnosticLevel::Error | DiagnosticLevel::Ice
                );
                if is_error {
                    let rendered = msg.message.rendered.unwrap_or(msg.message.message);
                    errors.push(rendered);
                }
            }
            _ => {}
        }
    }
    let status = child.wait().context("cannot wait for cargo")?;
    let stderr_text = stderr_reader.join().unwrap_or_default();
    if status.success() {
        binaries.sort_by(|a, b| a.target.cmp(&b.target));
        return Ok(Build::Ok(binaries));
    }
    if errors.is_empty() {
        // Cargo itself failed (a broken Cargo.toml, a missing dependency, ...).
        errors.push(cargo_failure_summary(&stderr_text));
    }
    Ok(Build::CompileError(errors))
}

/// The useful part of cargo's stderr: its `error` lines and what follows them.
fn cargo_failure_summary(stderr: &str) -> String {
    let lines: Vec<&str> = stderr.lines().collect();
    match lines
        .iter()
        .position(|l| l.trim_start().starts_with("error"))
    {
        Some(start) => lines[start..].join("\n"),
        None if stderr.trim().is_empty() => "cargo failed without saying why".to_string(),
        None => stderr.trim().to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cargo_failure_summary_starts_at_the_first_error() {
        let stderr = "   Compiling x v0.1.0\nerror: failed to parse manifest\n  caused by: bad\n";
        assert_eq!(
            cargo_failure_summary(stderr),
            "error: failed to parse manifest\n  caused by: bad"
        );
        assert_eq!(cargo_failure_summary(""), "cargo failed without saying why");
    }
}
