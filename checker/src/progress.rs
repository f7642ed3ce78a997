//! The learner's results, served from the progress file when the code has
//! not changed since the last run, and recomputed otherwise.

use anyhow::Result;

use crate::grading::{self, RunOptions, StageRun};
use crate::manifest::{Lesson, MANIFEST_FILE, Stage};
use crate::state::{Store, fingerprint};
use crate::workspace::Workspace;

/// A digest of everything that can change the result of the learner's crate.
pub fn learner_fingerprint(ws: &Workspace, lesson: &Lesson) -> Result<String> {
    let exercise = ws.package_dir(&lesson.exercise)?;
    let root_files = [
        ws.root.join("Cargo.toml"),
        ws.root.join("Cargo.lock"),
        ws.root.join(MANIFEST_FILE),
    ];
    let files: Vec<&std::path::Path> = root_files.iter().map(|p| p.as_path()).collect();
    Ok(fingerprint(&[exercise], &files))
}

/// The result of the learner's crate in `stage`: cached if nothing changed
/// (and `fresh` is false), else run now and remembered.
pub fn learner_run(
    ws: &Workspace,
    store: &mut Store,
    lesson: &Lesson,
    stage: Stage,
    fresh: bool,
    opts: &RunOptions,
) -> Result<StageRun> {
    let print = learner_fingerprint(ws, lesson)?;
    if let Some(run) = store.cached(&lesson.id, stage, &print).filter(|_| !fresh) {
        return Ok(run.clone());
    }
    let run = grading::run_stage(ws, lesson, &lesson.exercise, stage, opts)?;
    store.remember(print, run.clone());
    Ok(run)
}
