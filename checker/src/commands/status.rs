//! `checker status`: one row per lesson, a summary line, and the next step.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::ExitCode;

use anyhow::Result;
use serde::Serialize;

use crate::grading::{self, RunOptions, StageRun, TaskResult, TaskStatus};
use crate::manifest::{Lesson, Stage};
use crate::progress::{learner_fingerprint, learner_run};
use crate::render;
use crate::state::Store;
use crate::style;
use crate::workspace::Workspace;

#[derive(Debug, Serialize)]
struct Report {
    course: String,
    tasks_passed: usize,
    tasks_total: usize,
    points: u32,
    max_points: u32,
    lessons: Vec<LessonReport>,
}

#[derive(Debug, Serialize)]
struct LessonReport {
    id: String,
    title: String,
    package: String,
    tasks_passed: usize,
    tasks_total: usize,
    points: u32,
    max_points: u32,
    /// stage → `passed`, `failed`, `compile_error`, `not_run`, `skipped` or `error`.
    stages: BTreeMap<Stage, String>,
    compile_errors: Vec<String>,
    /// Set when the checker itself could not run the lesson.
    error: Option<String>,
    tasks: Vec<TaskResult>,
}

pub fn run(root: Option<&Path>, json: bool, fresh: bool) -> Result<ExitCode> {
    let ws = Workspace::open(root)?;
    let mut store = Store::load(&ws.state_dir());
    let opts = RunOptions::default();
    let mut lessons = Vec::new();
    let bar = if json {
        indicatif::ProgressBar::hidden()
    } else {
        style::spinner("checking")
    };
    for lesson in &ws.course.lessons {
        bar.set_message(format!("checking {}", lesson.id));
        lessons.push(lesson_report(&ws, &mut store, lesson, fresh, &opts));
    }
    bar.finish_and_clear();
    store.save()?;

    let report = Report {
        course: ws.course.course.title.clone(),
        tasks_passed: lessons.iter().map(|l| l.tasks_passed).sum(),
        tasks_total: lessons.iter().map(|l| l.tasks_total).sum(),
        points: lessons.iter().map(|l| l.points).sum(),
        max_points: lessons.iter().map(|l| l.max_points).sum(),
        lessons,
    };
    if json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print!("{}", human(&ws, &report));
    }
    Ok(ExitCode::SUCCESS)
}

/// Runs the required stages (cached while the code is unchanged) and reads
/// the optional ones (Miri) from the last run of the same code.
fn lesson_report(
    ws: &Workspace,
    store: &mut Store,
    lesson: &Lesson,
    fresh: bool,
    opts: &RunOptions,
) -> LessonReport {
    let mut stages = BTreeMap::new();
    let mut runs = Vec::new();
    let mut error = None;
    let print = learner_fingerprint(ws, lesson).ok();
    for &stage in lesson.stages.iter().filter(|s| **s != Stage::Bench) {
        // Later stages are pointless while the code does not even compile.
        let broken = runs
            .first()
            .is_some_and(|r: &StageRun| !r.compile_errors.is_empty());
        let run = if stage.is_required() && !broken {
            match learner_run(ws, store, lesson, stage, fresh, opts) {
                Ok(run) => Some(run),
                Err(e) => {
                    error.get_or_insert(format!("{stage} stage: {e:#}"));
                    stages.insert(stage, "error".to_string());
                    continue;
                }
            }
        } else {
            print
                .as_deref()
                .and_then(|p| store.cached(&lesson.id, stage, p))
                .cloned()
        };
        stages.insert(
            stage,
            run.as_ref()
                .map(stage_state)
                .unwrap_or_else(|| "not_run".to_string()),
        );
        runs.extend(run);
    }
    let compile_errors = runs
        .first()
        .map(|r| r.compile_errors.clone())
        .unwrap_or_default();
    let tasks = grading::combine(&runs);
    let passed: Vec<&TaskResult> = tasks
        .iter()
        .filter(|t| t.status == TaskStatus::Passed)
        .collect();
    LessonReport {
        id: lesson.id.clone(),
        title: lesson.title.clone(),
        package: lesson.exercise.clone(),
        tasks_passed: passed.len(),
        tasks_total: lesson.tasks.len(),
        points: passed.iter().map(|t| t.points).sum(),
        max_points: lesson.max_points(),
        stages,
        compile_errors,
        error,
        tasks,
    }
}

fn stage_state(run: &StageRun) -> String {
    if run.skipped.is_some() {
        "skipped"
    } else if !run.compile_errors.is_empty() {
        "compile_error"
    } else if run.all_passed() {
        "passed"
    } else {
        "failed"
    }
    .to_string()
}

fn human(ws: &Workspace, report: &Report) -> String {
    let stages: Vec<Stage> = Stage::ALL
        .into_iter()
        .filter(|s| *s != Stage::Bench && ws.course.lessons.iter().any(|l| l.stages.contains(s)))
        .collect();
    let mut rows = vec![["Lesson", "Tasks", "Points"].map(str::to_string).to_vec()];
    rows[0].extend(stages.iter().map(|s| s.name().to_string()));
    for lesson in &report.lessons {
        let mut row = vec![
            lesson.id.clone(),
            format!("{}/{}", lesson.tasks_passed, lesson.tasks_total),
            format!("{}/{}", lesson.points, lesson.max_points),
        ];
        for stage in &stages {
            let cell = match lesson.stages.get(stage).map(String::as_str) {
                None => "-",
                Some("passed") => "pass",
                Some("failed") => "FAIL",
                Some("compile_error") => "BUILD ERROR",
                Some("not_run") => "not run",
                Some("skipped") => "skipped",
                Some(_) => "ERROR",
            };
            row.push(cell.to_string());
        }
        rows.push(row);
    }
    let status_columns: Vec<usize> = (3..3 + stages.len()).collect();
    let mut out = format!(
        "{}\n\n{}\n",
        report.course,
        render::table_with(&rows, &status_columns)
    );
    for lesson in report.lessons.iter().filter(|l| l.error.is_some()) {
        out.push_str(&format!(
            "{}: the checker could not run it: {}\n",
            lesson.id,
            lesson.error.as_deref().unwrap_or("")
        ));
    }
    if report
        .lessons
        .iter()
        .any(|l| l.stages.values().any(|s| s == "not_run"))
    {
        out.push_str(
            "Stages marked `not run` are optional; run one with\n  cargo run -p checker -- verify <lesson> --stage miri\n",
        );
    }
    out.push_str(&format!(
        "Progress: {} of {} tasks, {} of {} points.\n",
        report.tasks_passed, report.tasks_total, report.points, report.max_points
    ));
    out.push_str(&next_step(ws, report));
    out
}

/// What the learner should do next.
fn next_step(ws: &Workspace, report: &Report) -> String {
    let unfinished = report
        .lessons
        .iter()
        .find(|l| l.tasks_passed < l.tasks_total);
    let Some(lesson) = unfinished else {
        return "Every task passes. Well done!\n".to_string();
    };
    let chapter = ws
        .course
        .find_lesson(&lesson.id)
        .map(|l| l.chapter.display().to_string())
        .unwrap_or_default();
    let src = ws
        .package_dir(&lesson.package)
        .map(|d| ws.relative(&d.join("src")))
        .unwrap_or_default();
    if !lesson.compile_errors.is_empty() {
        return format!(
            "Next: {} does not compile. See why with `cargo run -p checker -- verify {}`.\n",
            lesson.id, lesson.id
        );
    }
    let task = lesson.tasks.iter().find(|t| t.status != TaskStatus::Passed);
    let task_text = task
        .map(|t| format!(" task {} ({})", t.prefix.trim_end_matches('_'), t.name))
        .unwrap_or_default();
    format!(
        "Next: {}{task_text}.\n  Read {chapter}, edit {src}, then run\n  cargo run -p checker -- verify {}\n",
        lesson.id, lesson.id
    )
}
