//! `checker verify <lesson>`: build, run every task in each stage, explain
//! each failure.

use std::path::Path;
use std::process::ExitCode;

use anyhow::{Result, bail};

use crate::grading::{self, RunOptions, StageRun, TaskResult, TaskStatus};
use crate::manifest::{Lesson, Stage};
use crate::progress::learner_run;
use crate::render;
use crate::state::Store;
use crate::style;
use crate::workspace::Workspace;

/// Which stages to run.
pub enum StageChoice {
    /// The lesson's required stages (test, loom).
    Required,
    One(Stage),
    All,
}

pub fn run(
    root: Option<&Path>,
    lesson: &str,
    choice: StageChoice,
    solution: bool,
    opts: &RunOptions,
) -> Result<ExitCode> {
    let ws = Workspace::open(root)?;
    let lesson = ws.lesson(lesson)?;
    let stages = chosen_stages(lesson, &choice)?;
    let package = if solution {
        &lesson.solution
    } else {
        &lesson.exercise
    };
    println!("{} · {}  (package `{package}`)", lesson.id, lesson.title);
    let mut store = Store::load(&ws.state_dir());
    let mut runs = Vec::new();
    for &stage in &stages {
        let spinner = style::spinner(&format!("building and running the {stage} stage"));
        if spinner.is_hidden() {
            eprintln!("building and running the {stage} stage ...");
        }
        let run = if solution {
            grading::run_stage(&ws, lesson, package, stage, opts)
        } else {
            learner_run(&ws, &mut store, lesson, stage, true, opts)
        };
        spinner.finish_and_clear();
        let run = run?;
        print!("\n{}", stage_report(&run));
        runs.push(run);
    }
    if !solution {
        store.save()?;
    }
    let passed = runs.iter().all(|r| r.all_passed() || r.skipped.is_some());
    print!("\n{}", closing(lesson, &stages, &runs));
    Ok(if passed {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

fn chosen_stages(lesson: &Lesson, choice: &StageChoice) -> Result<Vec<Stage>> {
    let graded = lesson.stages.iter().copied().filter(|s| *s != Stage::Bench);
    Ok(match choice {
        StageChoice::Required => graded.filter(|s| s.is_required()).collect(),
        StageChoice::All => graded.collect(),
        StageChoice::One(stage) if lesson.stages.contains(stage) => vec![*stage],
        StageChoice::One(stage) => {
            let names: Vec<&str> = lesson.stages.iter().map(|s| s.name()).collect();
            bail!(
                "lesson {} has no `{stage}` stage; its stages are {}",
                lesson.id,
                names.join(", ")
            )
        }
    })
}

/// One stage's section: a compiler error if any, then a line per task that
/// has tests in this stage.
pub fn stage_report(run: &StageRun) -> String {
    let mut out = format!("stage {}", run.stage);
    if let Some(why) = &run.skipped {
        out.push_str(&format!(": skipped ({why})\n"));
        return out;
    }
    out.push('\n');
    if !run.compile_errors.is_empty() {
        out.push_str("\nThe crate does not compile:\n\n");
        out.push_str(&render::indent(
            &render::compile_errors(&run.compile_errors, &run.package),
            2,
        ));
        out.push_str("\n\n");
    }
    let tasks: Vec<TaskResult> = run
        .tasks
        .iter()
        .filter(|t| t.status != TaskStatus::NotInStage)
        .cloned()
        .collect();
    out.push_str(&render::task_lines(&tasks));
    out
}

/// The overall line: tasks that pass every stage that ran, and the next step.
fn closing(lesson: &Lesson, stages: &[Stage], runs: &[StageRun]) -> String {
    let combined = grading::combine(runs);
    let graded: Vec<&TaskResult> = combined
        .iter()
        .filter(|t| t.status != TaskStatus::NotInStage)
        .collect();
    let passed: Vec<&&TaskResult> = graded
        .iter()
        .filter(|t| t.status == TaskStatus::Passed)
        .collect();
    let points: u32 = passed.iter().map(|t| t.points).sum();
    let max: u32 = graded.iter().map(|t| t.points).sum();
    let names: Vec<&str> = stages.iter().map(|s| s.name()).collect();
    let mut out = format!(
        "{} of {} tasks pass ({}), {points} of {max} points.\n",
        passed.len(),
        graded.len(),
        names.join(" + ")
    );
    let untested = combined.len() - graded.len();
    if untested > 0 {
        out.push_str(&format!(
            "({untested} task(s) have no tests in this stage.)\n"
        ));
    }
    let stuck = graded.iter().find(|t| t.status != TaskStatus::Passed);
    if let Some(task) = stuck {
        let short = task.prefix.trim_end_matches('_');
        out.push_str(&format!(
            "Stuck on {short}? `cargo run -p checker -- hint {} {short}`\n",
            lesson.id
        ));
    }
    let optional: Vec<&str> = lesson
        .stages
        .iter()
        .filter(|s| !stages.contains(s) && **s != Stage::Bench)
        .map(|s| s.name())
        .collect();
    if !optional.is_empty() && stuck.is_none() {
        for stage in optional {
            out.push_str(&format!(
                "Optional: `cargo run -p checker -- verify {} --stage {stage}`\n",
                lesson.id
            ));
        }
    }
    out
}
