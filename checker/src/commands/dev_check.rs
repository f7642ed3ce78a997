//! `checker dev check`: proves the course is sound.
//!
//! For every lesson: the solution passes every task in every stage; the stub
//! compiles and fails every task in at least one stage; every task has tests
//! and hints and every test belongs to a task; the packages are wired as the
//! layout demands; the chapter exists, is linked and its includes resolve.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::ExitCode;

use anyhow::Result;

use crate::book;
use crate::grading::{self, RunOptions, StageRun, TaskStatus};
use crate::manifest::Lesson;
use crate::render;
use crate::workspace::Workspace;

/// The outcome of one check: a label, then `Ok(detail)` or `Err(problem)`.
type Check = (String, Result<String, String>);

pub fn run(root: Option<&Path>, only: &[String], opts: &RunOptions) -> Result<ExitCode> {
    let ws = Workspace::open(root)?;
    let lessons: Vec<&Lesson> = if only.is_empty() {
        ws.course.lessons.iter().collect()
    } else {
        only.iter().map(|q| ws.lesson(q)).collect::<Result<_>>()?
    };
    let mut failures = 0;
    for lesson in &lessons {
        println!("{} · {}", lesson.id, lesson.title);
        for (label, outcome) in check_lesson(&ws, lesson, opts) {
            match outcome {
                Ok(detail) => println!("  ok    {label}: {detail}"),
                Err(problem) => {
                    failures += 1;
                    println!("  FAIL  {label}:\n{}", render::indent(&problem, 8));
                }
            }
        }
    }
    if failures == 0 {
        println!("\ndev check passed: {} lesson(s).", lessons.len());
        Ok(ExitCode::SUCCESS)
    } else {
        println!("\ndev check FAILED: {failures} problem(s).");
        Ok(ExitCode::FAILURE)
    }
}

fn check_lesson(ws: &Workspace, lesson: &Lesson, opts: &RunOptions) -> Vec<Check> {
    let mut checks = vec![
        ("hints".to_string(), check_hints(lesson)),
        ("packages".to_string(), check_packages(ws, lesson)),
        ("chapter".to_string(), check_chapter(ws, lesson)),
    ];
    if checks[1].1.is_err() {
        return checks;
    }
    let mut stub_runs = Vec::new();
    let mut solution_tests = BTreeSet::new();
    for &stage in &lesson.stages {
        let solution = grading::run_stage(ws, lesson, &lesson.solution, stage, opts);
        if let Ok(run) = &solution {
            solution_tests.extend(test_names(run));
            checks.push((format!("tests ({stage})"), check_tests(run)));
        }
        checks.push((
            format!("solution passes ({stage})"),
            solution
                .map_err(|e| format!("{e:#}"))
                .and_then(|r| check_solution(&r)),
        ));
        match grading::run_stage(ws, lesson, &lesson.exercise, stage, opts) {
            Ok(run) => stub_runs.push(run),
            Err(e) => checks.push((format!("stub runs ({stage})"), Err(format!("{e:#}")))),
        }
    }
    checks.push((
        "stub fails every task".to_string(),
        check_stub(lesson, &stub_runs),
    ));
    let stub_tests: BTreeSet<String> = stub_runs.iter().flat_map(test_names).collect();
    if stub_runs.iter().all(|r| r.compile_errors.is_empty()) {
        checks.push((
            "same tests".to_string(),
            check_same_tests(&solution_tests, &stub_tests),
        ));
    }
    checks
}

fn check_hints(lesson: &Lesson) -> Result<String, String> {
    let bare: Vec<&str> = lesson
        .tasks
        .iter()
        .filter(|t| t.hints.is_empty())
        .map(|t| t.short_name())
        .collect();
    if bare.is_empty() {
        Ok(format!(
            "{} task(s), each with at least one hint",
            lesson.tasks.len()
        ))
    } else {
        Err(format!("tasks without hints: {}", bare.join(", ")))
    }
}

fn check_packages(ws: &Workspace, lesson: &Lesson) -> Result<String, String> {
    let mut problems = Vec::new();
    for package in [&lesson.exercise, &lesson.solution] {
        if let Err(e) = ws.package_dir(package) {
            problems.push(format!("{e:#}"));
        }
    }
    if !ws.default_members.contains(&lesson.solution) {
        problems.push(format!(
            "`{}` is not in the workspace's default-members, so `cargo test` skips it",
            lesson.solution
        ));
    }
    if ws.default_members.contains(&lesson.exercise) {
        problems.push(format!(
            "`{}` is a default member, so a plain `cargo test` would fail on the stubs",
            lesson.exercise
        ));
    }
    if problems.is_empty() {
        Ok(format!("{} and {}", lesson.exercise, lesson.solution))
    } else {
        Err(problems.join("\n"))
    }
}

fn check_chapter(ws: &Workspace, lesson: &Lesson) -> Result<String, String> {
    let chapter = ws.root.join(&lesson.chapter);
    book::check_chapter(&ws.book_dir(), &chapter)
        .map(|n| {
            format!(
                "{} is linked, {n} include(s) resolve",
                lesson.chapter.display()
            )
        })
        .map_err(|e| format!("{e:#}"))
}

fn check_tests(run: &StageRun) -> Result<String, String> {
    let mut problems = Vec::new();
    for task in run
        .tasks
        .iter()
        .filter(|t| t.tests.is_empty() && t.status != TaskStatus::CompileError)
    {
        problems.push(format!(
            "task {} has no test starting with `{}`",
            task.prefix.trim_end_matches('_'),
            task.prefix
        ));
    }
    if !run.ungraded.is_empty() {
        problems.push(format!(
            "tests that belong to no task: {}",
            run.ungraded.join(", ")
        ));
    }
    let count: usize = run.tasks.iter().map(|t| t.tests.len()).sum();
    if problems.is_empty() {
        Ok(format!("{count} graded test(s), every task covered"))
    } else {
        Err(problems.join("\n"))
    }
}

fn check_solution(run: &StageRun) -> Result<String, String> {
    if !run.compile_errors.is_empty() {
        return Err(render::compile_errors(&run.compile_errors, &run.package));
    }
    if run.all_passed() {
        return Ok(format!("{}/{} tasks", run.passed_tasks(), run.tasks.len()));
    }
    Err(render::task_lines(run))
}

/// Every task must fail in at least one stage: a racy stub may pass the
/// plain tests as long as loom or Miri rejects it.
fn check_stub(lesson: &Lesson, runs: &[StageRun]) -> Result<String, String> {
    if let Some(run) = runs.iter().find(|r| !r.compile_errors.is_empty()) {
        return Err(format!(
            "the stub must compile ({} stage):\n{}",
            run.stage,
            render::compile_errors(&run.compile_errors, &run.package)
        ));
    }
    let passing_everywhere: Vec<&str> = lesson
        .tasks
        .iter()
        .filter(|task| {
            !runs.is_empty()
                && runs.iter().all(|run| {
                    run.task(&task.prefix)
                        .is_some_and(|r| r.status == TaskStatus::Passed)
                })
        })
        .map(|task| task.short_name())
        .collect();
    if passing_everywhere.is_empty() {
        Ok(format!("{} task(s) fail on the stub", lesson.tasks.len()))
    } else {
        Err(format!(
            "the stub already passes: {}",
            passing_everywhere.join(", ")
        ))
    }
}

fn check_same_tests(
    solution: &BTreeSet<String>,
    stub: &BTreeSet<String>,
) -> Result<String, String> {
    if solution == stub {
        return Ok(format!(
            "exercise and solution run the same {} test(s)",
            solution.len()
        ));
    }
    let only_solution: Vec<&String> = solution.difference(stub).collect();
    let only_stub: Vec<&String> = stub.difference(solution).collect();
    Err(format!(
        "only in the solution: {only_solution:?}\nonly in the exercise: {only_stub:?}"
    ))
}

fn test_names(run: &StageRun) -> Vec<String> {
    run.tasks
        .iter()
        .flat_map(|t| t.tests.iter().map(|x| format!("{}::{}", x.binary, x.name)))
        .chain(run.ungraded.iter().cloned())
        .collect()
}
