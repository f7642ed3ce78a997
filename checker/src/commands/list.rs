//! `checker list`: every lesson and task with its points and last known
//! state, in a table that fits an 80-column terminal. It runs nothing: the
//! states come from the last `verify` or `status`.

use std::path::Path;
use std::process::ExitCode;

use anyhow::Result;

use crate::grading::{self, StageRun, TaskStatus};
use crate::manifest::Stage;
use crate::progress::learner_fingerprint;
use crate::render;
use crate::state::Store;
use crate::workspace::Workspace;

/// Widest a task name may be before it is shortened.
const NAME_WIDTH: usize = 42;

pub fn run(root: Option<&Path>) -> Result<ExitCode> {
    let ws = Workspace::open(root)?;
    let store = Store::load(&ws.state_dir());
    let mut rows = vec![["", "task", "points", "state"].map(str::to_string).to_vec()];
    let mut stale = false;
    for lesson in &ws.course.lessons {
        let print = learner_fingerprint(&ws, lesson).ok();
        let runs: Vec<&StageRun> = lesson
            .stages
            .iter()
            .filter(|s| s.is_required())
            .filter_map(|&stage| store.last_run(&lesson.id, stage))
            .collect();
        let fresh = lesson
            .stages
            .iter()
            .filter(|s| s.is_required())
            .all(|&stage| {
                print
                    .as_deref()
                    .is_some_and(|p| store.cached(&lesson.id, stage, p).is_some())
            });
        let combined = grading::combine(&runs.iter().map(|r| (*r).clone()).collect::<Vec<_>>());
        let earned: u32 = combined
            .iter()
            .filter(|t| t.status == TaskStatus::Passed)
            .map(|t| t.points)
            .sum();
        let state = if runs.is_empty() {
            "not run".to_string()
        } else if fresh {
            String::new()
        } else {
            stale = true;
            "changed".to_string()
        };
        rows.push(vec![
            lesson.id.clone(),
            shorten(&lesson.title),
            format!("{earned}/{}", lesson.max_points()),
            state,
        ]);
        for task in &lesson.tasks {
            let result = combined.iter().find(|t| t.prefix == task.prefix);
            let state = match result.map(|t| t.status) {
                None | Some(TaskStatus::NotInStage) | Some(TaskStatus::Skipped) => "-".to_string(),
                Some(status) => status.label().to_string(),
            };
            let earned = result
                .filter(|t| t.status == TaskStatus::Passed)
                .map_or(0, |t| t.points);
            rows.push(vec![
                format!("  {}", task.short_name()),
                shorten(&task.name),
                format!("{earned}/{}", task.points),
                state,
            ]);
        }
    }
    print!("{}", render::table_with(&rows, &[3]));
    if stale {
        println!("\n`changed`: edited since its last run; `cargo run -p checker` refreshes it.");
    }
    let stages_shown: Vec<&str> = Stage::ALL
        .iter()
        .filter(|s| s.is_required())
        .map(|s| s.name())
        .collect();
    println!(
        "States come from the last run of the {} stages.",
        stages_shown.join(" and ")
    );
    Ok(ExitCode::SUCCESS)
}

/// `text`, cut to [`NAME_WIDTH`] characters with an ellipsis.
fn shorten(text: &str) -> String {
    if text.chars().count() <= NAME_WIDTH {
        return text.to_string();
    }
    let cut: String = text.chars().take(NAME_WIDTH - 1).collect();
    format!("{}…", cut.trim_end())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shortens_long_names_only() {
        assert_eq!(shorten("short"), "short");
        let long = "x".repeat(80);
        let cut = shorten(&long);
        assert_eq!(cut.chars().count(), NAME_WIDTH);
        assert!(cut.ends_with('…'));
    }
}
