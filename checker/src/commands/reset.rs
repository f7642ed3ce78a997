//! `checker reset <lesson>`: puts the pristine stub back, after saving the
//! learner's files to a timestamped backup. A reset never loses work.
//!
//! The pristine stub comes from git: the course as last fetched
//! (`origin/HEAD` or `origin/main`), else `HEAD`.

use std::io::{BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

use anyhow::{Context, Result, bail};

use crate::grade::copy_tree;
use crate::state::unix_now;
use crate::workspace::Workspace;

pub fn run(root: Option<&Path>, lesson: &str, yes: bool) -> Result<ExitCode> {
    let ws = Workspace::open(root)?;
    let lesson = ws.lesson(lesson)?;
    let src = ws.package_dir(&lesson.exercise)?.join("src");
    let relative = ws.relative(&src);
    let (reference, files) = pristine_files(&ws.root, &relative)?;
    let backup = ws
        .state_dir()
        .join("backups")
        .join(format!("{}-{}", lesson.id, unix_now()));
    if !yes
        && !confirm(&format!(
            "Reset {relative} to the stub from git ({reference})?\nYour current files are saved to {} first. [y/N] ",
            ws.relative(&backup)
        ))?
    {
        println!("Nothing was changed.");
        return Ok(ExitCode::FAILURE);
    }
    copy_tree(&src, &backup.join("src"), &|_| false, u64::MAX)
        .context("cannot back up your files; nothing was changed")?;
    std::fs::remove_dir_all(&src).with_context(|| format!("cannot clear {relative}"))?;
    for (path, bytes) in &files {
        let target = ws.root.join(path);
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(&target, bytes)
            .with_context(|| format!("cannot write {}", target.display()))?;
    }
    println!(
        "Reset {relative} to the stub from {reference}. Your previous files are in {}.",
        ws.relative(&backup)
    );
    Ok(ExitCode::SUCCESS)
}

/// Asks on the terminal; without one, the answer is no (use `--yes`).
fn confirm(question: &str) -> Result<bool> {
    if !std::io::stdin().is_terminal() {
        println!("Not asking without a terminal: pass --yes to reset.");
        return Ok(false);
    }
    print!("{question}");
    std::io::stdout().flush()?;
    let mut answer = String::new();
    std::io::stdin().lock().read_line(&mut answer)?;
    Ok(matches!(answer.trim(), "y" | "Y" | "yes"))
}

/// A file's path (relative to the root) and its bytes.
type StubFile = (PathBuf, Vec<u8>);

/// The files under `relative` at the first git reference that has them.
fn pristine_files(root: &Path, relative: &str) -> Result<(String, Vec<StubFile>)> {
    for reference in ["origin/HEAD", "origin/main", "HEAD"] {
        let listing = git(
            root,
            &["ls-tree", "-r", "--name-only", reference, "--", relative],
        );
        let Ok(listing) = listing else { continue };
        let names: Vec<&str> = std::str::from_utf8(&listing)
            .unwrap_or("")
            .lines()
            .collect();
        if names.is_empty() {
            continue;
        }
        let mut files = Vec::new();
        for name in names {
            let bytes = git(root, &["show", &format!("{reference}:{name}")])?;
            files.push((PathBuf::from(name), bytes));
        }
        return Ok((reference.to_string(), files));
    }
    bail!(
        "cannot find the pristine stub: {relative} is in no git commit here (reset needs the course's git history)"
    )
}

fn git(root: &Path, args: &[&str]) -> Result<Vec<u8>> {
    let out = Command::new("git")
        .arg("-C")
        .arg(root)
        .args(args)
        .output()
        .context("cannot run git")?;
    if !out.status.success() {
        bail!(
            "git {} failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(out.stdout)
}
