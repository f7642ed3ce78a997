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
    print!("{}", take_next_hint(lesson, task, &mut store));
    if let Some(index) = store.hints_seen(&lesson.id, &task.prefix).checked_sub(1)
        && index + 1 < task.hints.len()
    {
        println!(
            "Run `cargo run -p checker -- hint {} {}` again for the next one.",
            lesson.id,
            task.short_name()
        );
    }
    store.save()?;
    Ok(ExitCode::SUCCESS)
}

/// The next hint of `task` the learner has not seen (or the last one again),
/// recorded as seen in `store` (not saved), as text ready to print.
pub fn take_next_hint(lesson: &Lesson, task: &Task, store: &mut Store) -> String {
    let short = task.short_name();
    if task.hints.is_empty() {
        return format!(
            "Task {short} of {} has no hints yet. Reread its section in {}.\n",
            lesson.id,
            lesson.chapter.display()
        );
    }
    let seen = store.hints_seen(&lesson.id, &task.prefix);
    let index = seen.min(task.hints.len() - 1);
    let mut out = format!(
        "Hint {} of {} for {} {short} ({}):\n\n{}\n\n",
        index + 1,
        task.hints.len(),
        lesson.id,
        task.name,
        render::indent(&render::wrap(&task.hints[index], 76), 2)
    );
    if index + 1 == task.hints.len() {
        out.push_str("That is the last hint for this task.\n");
    }
    store.set_hints_seen(&lesson.id, &task.prefix, index + 1);
    out
}

/// The first task that did not pass in the last run; without a run, the
/// first task whose hints are not all seen.
pub fn default_task<'a>(lesson: &'a Lesson, store: &Store) -> &'a Task {
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
