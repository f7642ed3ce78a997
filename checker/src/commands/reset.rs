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

pub fn run(root: Option<&Path>, lesson: &str, task: Option<&str>, yes: bool) -> Result<ExitCode> {
    let ws = Workspace::open(root)?;
    let lesson = ws.lesson(lesson)?;
    let crate_dir = ws.package_dir(&lesson.exercise)?;
    let src = crate_dir.join("src");
    let (what, label, pathspecs) = match task {
        None => (
            ws.relative(&src),
            lesson.id.clone(),
            vec![ws.relative(&src)],
        ),
        Some(query) => {
            let task = lesson.find_task(query)?;
            if task.files.is_empty() {
                bail!(
                    "task {} of {} names no files in course.toml, so only the whole lesson can be reset: `checker reset {}`",
                    task.short_name(),
                    lesson.id,
                    lesson.id
                );
            }
            let files: Vec<String> = task
                .files
                .iter()
                .map(|f| ws.relative(&crate_dir.join(f)))
                .collect();
            (
                files.join(", "),
                format!("{}-{}", lesson.id, task.short_name()),
                files,
            )
        }
    };
    let (reference, files) = pristine_files(&ws.root, &pathspecs)?;
    let backup = ws
        .state_dir()
        .join("backups")
        .join(format!("{label}-{}", unix_now()));
    if !yes
        && !confirm(&format!(
            "Reset {what} to the stub from git ({reference})?\nYour current files are saved to {} first. [y/N] ",
            ws.relative(&backup)
        ))?
    {
        println!("Nothing was changed.");
        return Ok(ExitCode::FAILURE);
    }
    if task.is_none() {
        copy_tree(&src, &backup.join("src"), &|_| false, u64::MAX)
            .context("cannot back up your files; nothing was changed")?;
        std::fs::remove_dir_all(&src).with_context(|| format!("cannot clear {what}"))?;
    } else {
        for (path, _) in &files {
            back_up_file(&ws.root, path, &backup, crate_dir)
                .context("cannot back up your files; nothing was changed")?;
        }
    }
    for (path, bytes) in &files {
        let target = ws.root.join(path);
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(&target, bytes)
            .with_context(|| format!("cannot write {}", target.display()))?;
    }
    println!(
        "Reset {what} to the stub from {reference}. Your previous files are in {}.",
        ws.relative(&backup)
    );
    Ok(ExitCode::SUCCESS)
}

/// Copies the learner's `path` (relative to the root), if it exists, into
/// `backup` at its place relative to the crate.
fn back_up_file(root: &Path, path: &Path, backup: &Path, crate_dir: &Path) -> Result<()> {
    let source = root.join(path);
    if !source.exists() {
        return Ok(());
    }
    let inside = source.strip_prefix(crate_dir).unwrap_or(path);
    let target = backup.join(inside);
    if let Some(parent) = target.parent() {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("cannot create {}", parent.display()))?;
    }
    std::fs::copy(&source, &target)
        .with_context(|| format!("cannot copy {} to {}", source.display(), target.display()))?;
    Ok(())
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

/// The files under `pathspecs` (relative to the root) at the first git
/// reference that has them all.
fn pristine_files(root: &Path, pathspecs: &[String]) -> Result<(String, Vec<StubFile>)> {
    let relative = pathspecs.join(", ");
    for reference in ["origin/HEAD", "origin/main", "HEAD"] {
        let mut args = vec!["ls-tree", "-r", "--name-only", reference, "--"];
        args.extend(pathspecs.iter().map(String::as_str));
        let listing = git(root, &args);
        let Ok(listing) = listing else { continue };
        let names: Vec<&str> = std::str::from_utf8(&listing)
            .unwrap_or("")
            .lines()
            .collect();
        let missing = pathspecs.iter().any(|spec| {
            !names
                .iter()
                .any(|n| n == spec || n.starts_with(&format!("{spec}/")))
        });
        if missing {
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
