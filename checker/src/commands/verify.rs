//! `checker verify <lesson>`: build, run every task, explain each failure.

use std::path::Path;
use std::process::ExitCode;

use anyhow::Result;

use crate::grading::{self, RunOptions, StageRun};
use crate::manifest::Stage;
use crate::progress::learner_run;
use crate::render;
use crate::state::Store;
use crate::workspace::Workspace;

pub fn run(
    root: Option<&Path>,
    lesson: &str,
    stage: Stage,
    solution: bool,
    opts: &RunOptions,
) -> Result<ExitCode> {
    let ws = Workspace::open(root)?;
    let lesson = ws.lesson(lesson)?;
    if !lesson.stages.contains(&stage) {
        anyhow::bail!(
            "lesson {} has no `{stage}` stage; its stages are {:?}",
            lesson.id,
            lesson.stages
        );
    }
    let package = if solution {
        &lesson.solution
    } else {
        &lesson.exercise
    };
    println!(
        "{} · {}  (package `{package}`, stage {stage})",
        lesson.id, lesson.title
    );
    eprintln!("building and running the tests ...");
    let run = if solution {
        grading::run_stage(&ws, lesson, package, stage, opts)?
    } else {
        let mut store = Store::load(&ws.state_dir());
        let run = learner_run(&ws, &mut store, lesson, stage, true, opts)?;
        store.save()?;
        run
    };
    print!("{}", report(&run));
    Ok(if run.all_passed() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// The per-task report, a compiler error if any, and the closing line.
pub fn report(run: &StageRun) -> String {
    let mut out = String::new();
    if !run.compile_errors.is_empty() {
        out.push_str("\nThe crate does not compile:\n\n");
        out.push_str(&render::indent(
            &render::compile_errors(&run.compile_errors, &run.package),
            2,
        ));
        out.push_str("\n\n");
    }
    out.push_str(&render::task_lines(run));
    let max: u32 = run.tasks.iter().map(|t| t.points).sum();
    out.push_str(&format!(
        "\n{} of {} tasks passed, {} of {} points.\n",
        run.passed_tasks(),
        run.tasks.len(),
        run.points(),
        max
    ));
    if let Some(task) = run
        .tasks
        .iter()
        .find(|t| t.status != grading::TaskStatus::Passed)
    {
        out.push_str(&format!(
            "Stuck on {}? `cargo run -p checker -- hint {} {}`\n",
            task.prefix.trim_end_matches('_'),
            run.lesson,
            task.prefix.trim_end_matches('_')
        ));
    }
    out
}
