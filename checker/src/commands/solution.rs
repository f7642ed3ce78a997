//! `checker solution <lesson>`: the reference solution, shown once the
//! lesson's tasks pass, or earlier with `--force`, which is recorded.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result};

use crate::grading::{self, RunOptions, TaskStatus};
use crate::progress::learner_run;
use crate::state::{Store, unix_now};
use crate::workspace::Workspace;

pub fn run(root: Option<&Path>, lesson: &str, force: bool) -> Result<ExitCode> {
    let ws = Workspace::open(root)?;
    let lesson = ws.lesson(lesson)?;
    let mut store = Store::load(&ws.state_dir());
    let mut runs = Vec::new();
    for &stage in lesson.stages.iter().filter(|s| s.is_required()) {
        runs.push(learner_run(
            &ws,
            &mut store,
            lesson,
            stage,
            false,
            &RunOptions::default(),
        )?);
    }
    let combined = grading::combine(&runs);
    let passed = combined
        .iter()
        .filter(|t| t.status == TaskStatus::Passed)
        .count();
    let done = passed == lesson.tasks.len();
    if !done && !force {
        store.save()?;
        println!(
            "{} of {} tasks of {} pass. The solution unlocks when they all do.\n\
             `cargo run -p checker -- solution {} --force` shows it now; the checker notes that you did.",
            passed,
            lesson.tasks.len(),
            lesson.id,
            lesson.id
        );
        return Ok(ExitCode::FAILURE);
    }
    if !done {
        store
            .state
            .solutions_forced
            .insert(lesson.id.clone(), unix_now());
    }
    store.save()?;
    let dir = ws.package_dir(&lesson.solution)?.join("src");
    let mut files = Vec::new();
    collect_sources(&dir, &mut files)?;
    files.sort();
    for file in files {
        let text = std::fs::read_to_string(&file)
            .with_context(|| format!("cannot read {}", file.display()))?;
        println!("──── {} ────\n{}", ws.relative(&file), text.trim_end());
        println!();
    }
    if !done {
        println!("(Shown with --force before every task passed; recorded in the progress file.)");
    }
    Ok(ExitCode::SUCCESS)
}

fn collect_sources(dir: &Path, out: &mut Vec<PathBuf>) -> Result<()> {
    for entry in std::fs::read_dir(dir).with_context(|| format!("cannot read {}", dir.display()))? {
        let path = entry?.path();
        if path.is_dir() {
            collect_sources(&path, out)?;
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
    Ok(())
}
