//! `checker hint <lesson> [task]`: the next hint not yet seen.

use std::path::Path;
use std::process::ExitCode;

use anyhow::Result;

use crate::grading::TaskStatus;
use crate::manifest::{Lesson, Stage, Task};
use crate::render;
use crate::state::Store;
use crate::workspace::Workspace;

pub fn run(root: Option<&Path>, lesson: &str, task: Option<&str>) -> Result<ExitCode> {
    let ws = Workspace::open(root)?;
    let lesson = ws.lesson(lesson)?;
    let mut store = Store::load(&ws.state_dir());
    let task = match task {
        Some(query) => lesson.find_task(query)?,
        None => default_task(lesson, &store),
    };
    let short = task.short_name();
    if task.hints.is_empty() {
        println!(
            "Task {short} of {} has no hints yet. Reread its section in {}.",
            lesson.id,
            lesson.chapter.display()
        );
        return Ok(ExitCode::SUCCESS);
    }
    let seen = store.hints_seen(&lesson.id, &task.prefix);
    let index = seen.min(task.hints.len() - 1);
    println!(
        "Hint {} of {} for {} {short} ({}):\n",
        index + 1,
        task.hints.len(),
        lesson.id,
        task.name
    );
    println!(
        "{}\n",
        render::indent(&render::wrap(&task.hints[index], 76), 2)
    );
    if index + 1 < task.hints.len() {
        println!(
            "Run `cargo run -p checker -- hint {} {short}` again for the next one.",
            lesson.id
        );
    } else {
        println!("That is the last hint for this task.");
    }
    store.set_hints_seen(&lesson.id, &task.prefix, index + 1);
    store.save()?;
    Ok(ExitCode::SUCCESS)
}

/// The first task that did not pass in the last run; without a run, the
/// first task whose hints are not all seen.
fn default_task<'a>(lesson: &'a Lesson, store: &Store) -> &'a Task {
    let unfinished = store.last_run(&lesson.id, Stage::Test).and_then(|run| {
        lesson.tasks.iter().find(|t| {
            run.task(&t.prefix)
                .is_none_or(|r| r.status != TaskStatus::Passed)
        })
    });
    unfinished
        .or_else(|| {
            lesson
                .tasks
                .iter()
                .find(|t| store.hints_seen(&lesson.id, &t.prefix) < t.hints.len())
        })
        .unwrap_or(&lesson.tasks[0])
}
