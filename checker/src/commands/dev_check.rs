//! `checker dev check`: proves the course is sound.
//!
//! For every lesson: the solution passes every task in every stage; the stub
//! compiles and fails every task in at least one stage; every task has tests
//! and hints and every test belongs to a task; the packages are wired as the
//! layout demands; the chapter exists, is linked and its includes resolve.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::Result;

use crate::book;
use crate::bugs;
use crate::grading::{self, RunOptions, StageRun, TaskResult, TaskStatus};
use crate::manifest::{Lesson, Stage};
use crate::render;
use crate::workspace::Workspace;

/// The outcome of one check.
enum Outcome {
    Ok(String),
    Fail(String),
    /// Could not be checked here (a tool is missing); not a failure.
    Skip(String),
}

impl From<Result<String, String>> for Outcome {
    fn from(result: Result<String, String>) -> Self {
        match result {
            Ok(detail) => Outcome::Ok(detail),
            Err(problem) => Outcome::Fail(problem),
        }
    }
}

type Check = (String, Outcome);

pub fn run(root: Option<&Path>, only: &[String], opts: &RunOptions) -> Result<ExitCode> {
    let ws = Workspace::open(root)?;
    let lessons: Vec<&Lesson> = if only.is_empty() {
        ws.course.lessons.iter().collect()
    } else {
        only.iter().map(|q| ws.lesson(q)).collect::<Result<_>>()?
    };
    let (mut failures, mut skips) = (0, 0);
    for lesson in &lessons {
        println!("{} · {}", lesson.id, lesson.title);
        for (label, outcome) in check_lesson(&ws, lesson, opts) {
            match outcome {
                Outcome::Ok(detail) => println!("  ok    {label}: {detail}"),
                Outcome::Skip(why) => {
                    skips += 1;
                    println!("  SKIP  {label}: {why}");
                }
                Outcome::Fail(problem) => {
                    failures += 1;
                    println!("  FAIL  {label}:\n{}", render::indent(&problem, 8));
                }
            }
        }
    }
    let skipped = if skips == 0 {
        String::new()
    } else {
        format!(" ({skips} check(s) skipped: see SKIP above)")
    };
    if failures == 0 {
        println!("\ndev check passed: {} lesson(s){skipped}.", lessons.len());
        Ok(ExitCode::SUCCESS)
    } else {
        println!("\ndev check FAILED: {failures} problem(s){skipped}.");
        Ok(ExitCode::FAILURE)
    }
}

fn check_lesson(ws: &Workspace, lesson: &Lesson, opts: &RunOptions) -> Vec<Check> {
    let mut checks: Vec<Check> = vec![
        ("hints".to_string(), check_hints(lesson).into()),
        ("packages".to_string(), check_packages(ws, lesson).into()),
        ("chapter".to_string(), check_chapter(ws, lesson).into()),
        (
            "task files".to_string(),
            check_task_files(ws, lesson).into(),
        ),
        ("known bugs".to_string(), check_bugs(ws, lesson)),
    ];
    if matches!(checks[1].1, Outcome::Fail(_)) {
        return checks;
    }
    let mut stub_runs = Vec::new();
    let mut solution_tests = BTreeSet::new();
    for &stage in lesson.stages.iter().filter(|s| **s != Stage::Bench) {
        let started = Instant::now();
        match grading::run_stage(ws, lesson, &lesson.solution, stage, opts) {
            Ok(run) if run.skipped.is_some() => {
                let why = run.skipped.clone().unwrap_or_default();
                checks.push((format!("{stage} stage"), Outcome::Skip(why)));
                continue;
            }
            Ok(run) => {
                solution_tests.extend(test_names(&run));
                checks.push((format!("tests ({stage})"), check_tests(&run).into()));
                let took = format!(" in {:.0?}", started.elapsed());
                checks.push((
                    format!("solution passes ({stage})"),
                    check_solution(&run).map(|d| d + &took).into(),
                ));
            }
            Err(e) => checks.push((
                format!("solution runs ({stage})"),
                Outcome::Fail(format!("{e:#}")),
            )),
        }
        match grading::run_stage(ws, lesson, &lesson.exercise, stage, opts) {
            Ok(run) => stub_runs.push(run),
            Err(e) => checks.push((
                format!("stub runs ({stage})"),
                Outcome::Fail(format!("{e:#}")),
            )),
        }
    }
    checks.push((
        "stub fails every task".to_string(),
        check_stub(lesson, &stub_runs).into(),
    ));
    let stub_tests: BTreeSet<String> = stub_runs.iter().flat_map(test_names).collect();
    if stub_runs.iter().all(|r| r.compile_errors.is_empty()) {
        checks.push((
            "same tests".to_string(),
            check_same_tests(&solution_tests, &stub_tests).into(),
        ));
    }
    checks
}

fn check_hints(lesson: &Lesson) -> Result<String, String> {
    let placeholders: Vec<&str> = lesson
        .tasks
        .iter()
        .filter(|t| {
            t.name.contains(book::SCAFFOLD_MARK)
                || t.hints.iter().any(|h| h.contains(book::SCAFFOLD_MARK))
        })
        .map(|t| t.short_name())
        .collect();
    if !placeholders.is_empty() {
        return Err(format!(
            "tasks whose name or hints are still `{}` placeholders in course.toml: {}",
            book::SCAFFOLD_MARK,
            placeholders.join(", ")
        ));
    }
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

/// The files a task names (for `reset --task`) exist in the exercise's `src/`.
fn check_task_files(ws: &Workspace, lesson: &Lesson) -> Result<String, String> {
    let Ok(dir) = ws.package_dir(&lesson.exercise) else {
        return Err(format!("no package `{}`", lesson.exercise));
    };
    let mut problems = Vec::new();
    let mut named = 0;
    for task in &lesson.tasks {
        for file in &task.files {
            named += 1;
            if !file.starts_with("src/") || !dir.join(file).is_file() {
                problems.push(format!(
                    "task {} names `{file}`, which is no file under the exercise's src/",
                    task.short_name()
                ));
            }
        }
    }
    if !problems.is_empty() {
        return Err(problems.join("\n"));
    }
    let with = lesson.tasks.iter().filter(|t| !t.files.is_empty()).count();
    Ok(format!(
        "{with} of {} task(s) name their files ({named} file(s)) for `reset --task`",
        lesson.tasks.len()
    ))
}

/// The lesson's collection of known bugs parses; `dev bugs` proves each caught.
fn check_bugs(ws: &Workspace, lesson: &Lesson) -> Outcome {
    let entries = match bugs::load(ws, lesson) {
        Ok(entries) => entries,
        Err(e) => return Outcome::Fail(format!("{e:#}")),
    };
    if entries.is_empty() {
        return Outcome::Skip(format!(
            "no collection in {}/{} yet",
            lesson.solution,
            bugs::DIR
        ));
    }
    let broken: Vec<String> = entries.iter().filter_map(|e| e.clone().err()).collect();
    if !broken.is_empty() {
        return Outcome::Fail(broken.join("\n"));
    }
    let short = if entries.len() < bugs::MIN_ENTRIES {
        format!(" (the course asks for at least {})", bugs::MIN_ENTRIES)
    } else {
        String::new()
    };
    Outcome::Ok(format!(
        "{} entries{short}; `dev bugs {}` proves each one fails its task",
        entries.len(),
        lesson.id
    ))
}

fn check_chapter(ws: &Workspace, lesson: &Lesson) -> Result<String, String> {
    let chapter = ws.root.join(&lesson.chapter);
    book::check_chapter(&ws.book_dir(), &chapter)
        .map(|n| {
            format!(
                "{} is linked, follows the template, {n} include(s) resolve",
                lesson.chapter.display()
            )
        })
        .map_err(|e| format!("{e:#}"))
}

fn check_tests(run: &StageRun) -> Result<String, String> {
    let mut problems = Vec::new();
    if run.stage == Stage::Test {
        for task in run.tasks.iter().filter(|t| t.status == TaskStatus::NoTests) {
            let short = task.prefix.trim_end_matches('_');
            problems.push(format!(
                "task {short} has no test starting with `{}`",
                task.prefix
            ));
        }
    }
    if !run.ungraded.is_empty() {
        problems.push(format!(
            "tests that belong to no task: {}",
            run.ungraded.join(", ")
        ));
    }
    let count: usize = run.tasks.iter().map(|t| t.tests.len()).sum();
    if count == 0 && run.compile_errors.is_empty() {
        problems.push(format!("the {} stage has no graded tests", run.stage));
    }
    let covered = run.tasks.iter().filter(|t| !t.tests.is_empty()).count();
    if problems.is_empty() {
        Ok(format!("{count} graded test(s) covering {covered} task(s)"))
    } else {
        Err(problems.join("\n"))
    }
}

fn check_solution(run: &StageRun) -> Result<String, String> {
    if !run.compile_errors.is_empty() {
        return Err(render::compile_errors(&run.compile_errors, &run.package));
    }
    let graded: Vec<TaskResult> = run
        .tasks
        .iter()
        .filter(|t| t.status != TaskStatus::NotInStage)
        .cloned()
        .collect();
    if run.all_passed() {
        return Ok(format!("{}/{} task(s)", run.passed_tasks(), graded.len()));
    }
    Err(render::task_lines(&graded))
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
    let never_failing: Vec<&str> = lesson
        .tasks
        .iter()
        .filter(|task| {
            !runs.iter().any(|run| {
                run.task(&task.prefix)
                    .is_some_and(|r| r.status.is_failure())
            })
        })
        .map(|task| task.short_name())
        .collect();
    if never_failing.is_empty() {
        Ok(format!("{} task(s) fail on the stub", lesson.tasks.len()))
    } else {
        let stages: Vec<&str> = runs.iter().map(|r| r.stage.name()).collect();
        Err(format!(
            "the stub fails no stage ({}) of: {}",
            stages.join(", "),
            never_failing.join(", ")
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
