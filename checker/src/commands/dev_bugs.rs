//! `checker dev bugs`: proves that every known bug fails the task it targets.
//!
//! The course is copied to a scratch folder at a fixed path (so its target
//! directory, and the dependencies in it, survive from run to run). For each
//! entry of a lesson's collection ([`crate::bugs`]) the solution crate is
//! restored there, the patch applied with `git apply`, and the target tasks
//! run in the test stage, then in the loom stage where the lesson has one.
//! The solution crate runs the exercise's very test files, so this is what a
//! learner who wrote the bug would be graded with.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

use crate::bugs::{self, Entry};
use crate::grading::{self, RunOptions, StageRun, TaskStatus};
use crate::manifest::{Lesson, Stage};
use crate::render;
use crate::workspace::Workspace;

/// What `dev bugs` was asked to do.
pub struct BugsArgs {
    /// Only these lessons; default: all.
    pub lessons: Vec<String>,
    /// Runs of each entry's tests; each must catch the bug.
    pub repeat: usize,
    /// Where the scratch course lives; default: `dev-bugs` in the target directory.
    pub work: Option<PathBuf>,
    pub run: RunOptions,
}

/// How one entry fared.
enum Verdict {
    Caught(String),
    Missed(String),
    /// The entry itself is defective: it does not apply, compile or parse.
    Broken(String),
}

pub fn run(root: Option<&Path>, args: &BugsArgs) -> Result<ExitCode> {
    let ws = Workspace::open(root)?;
    let lessons: Vec<&Lesson> = if args.lessons.is_empty() {
        ws.course.lessons.iter().collect()
    } else {
        args.lessons
            .iter()
            .map(|q| ws.lesson(q))
            .collect::<Result<_>>()?
    };
    let work = args
        .work
        .clone()
        .unwrap_or_else(|| ws.target_dir.join("dev-bugs"));
    let scratch_root = work.join("course");
    refresh_scratch(&ws, &scratch_root, &[&ws.target_dir, &work])?;
    let scratch = Workspace::open(Some(&scratch_root))?;

    let started = Instant::now();
    let (mut entries, mut caught) = (0, 0);
    let mut problems = Vec::new();
    for lesson in lessons {
        let collection = bugs::load(&ws, lesson)?;
        println!("{} · {}", lesson.id, lesson.title);
        if collection.is_empty() {
            println!(
                "  no known bugs yet: add them to {}",
                ws.relative(&bugs::dir(&ws, lesson)?)
            );
            continue;
        }
        if collection.len() < bugs::MIN_ENTRIES {
            println!(
                "  note: {} entries; the course asks for at least {}",
                collection.len(),
                bugs::MIN_ENTRIES
            );
        }
        let crate_dir = scratch.package_dir(&lesson.solution)?.to_path_buf();
        let pristine = ws.package_dir(&lesson.solution)?;
        let stages = graded_stages(lesson);
        restore(pristine, &crate_dir)?;
        if let Err(problem) = baseline(&scratch, lesson, &stages, &args.run) {
            println!("  FAIL  {problem}");
            problems.push(format!("{}: {problem}", lesson.id));
            continue;
        }
        for entry in collection {
            entries += 1;
            let began = Instant::now();
            let (label, verdict) = match entry {
                Err(problem) => {
                    let name = problem.split(": ").next().unwrap_or_default();
                    (format!("{:<6} {name}", "?"), Verdict::Broken(problem))
                }
                Ok(entry) => {
                    restore(pristine, &crate_dir)?;
                    let verdict = match check(&scratch, lesson, &crate_dir, &entry, args)? {
                        Verdict::Missed(why) => {
                            Verdict::Missed(format!("{why}\n  the bug: {}", entry.why))
                        }
                        verdict => verdict,
                    };
                    (format!("{:<6} {}", entry.task_names(), entry.slug), verdict)
                }
            };
            let took = format!("{:.1}s", began.elapsed().as_secs_f64());
            match verdict {
                Verdict::Caught(how) => {
                    caught += 1;
                    println!("  caught  {label} ({took}): {how}");
                }
                Verdict::Missed(why) => {
                    println!(
                        "  MISSED  {label} ({took}): {}",
                        render::indent(&why, 10).trim_start()
                    );
                    let first = why.lines().next().unwrap_or_default();
                    problems.push(format!(
                        "MISSED {}/{}: {first}",
                        lesson.id,
                        label_slug(&label)
                    ));
                }
                Verdict::Broken(why) => {
                    println!("  BROKEN  {label} ({took}):\n{}", render::indent(&why, 10));
                    let first = why.lines().next().unwrap_or_default();
                    problems.push(format!(
                        "BROKEN {}/{}: {first}",
                        lesson.id,
                        label_slug(&label)
                    ));
                }
            }
        }
        restore(pristine, &crate_dir)?;
    }
    let runs = if args.repeat > 1 {
        format!(", each run {} times", args.repeat)
    } else {
        String::new()
    };
    println!(
        "\ndev bugs: {caught} of {entries} known bug(s) caught{runs}, in {}.",
        minutes(started.elapsed())
    );
    if problems.is_empty() {
        return Ok(ExitCode::SUCCESS);
    }
    println!("{} problem(s):", problems.len());
    for problem in &problems {
        println!("  {problem}");
    }
    Ok(ExitCode::FAILURE)
}

fn label_slug(label: &str) -> &str {
    label.split_whitespace().last().unwrap_or(label)
}

fn minutes(elapsed: Duration) -> String {
    let secs = elapsed.as_secs();
    format!("{}m{:02}s", secs / 60, secs % 60)
}

/// The lesson's stages that decide a grade and can catch a bug: test, loom.
fn graded_stages(lesson: &Lesson) -> Vec<Stage> {
    [Stage::Test, Stage::Loom]
        .into_iter()
        .filter(|s| lesson.stages.contains(s))
        .collect()
}

/// The unpatched solution must pass in the scratch copy, or no catch means anything.
fn baseline(
    ws: &Workspace,
    lesson: &Lesson,
    stages: &[Stage],
    opts: &RunOptions,
) -> Result<(), String> {
    for &stage in stages {
        let run = grading::run_stage(ws, lesson, &lesson.solution, stage, opts)
            .map_err(|e| format!("the unpatched solution does not run ({stage}): {e:#}"))?;
        if !run.compile_errors.is_empty() {
            return Err(format!(
                "the unpatched solution does not compile:\n{}",
                render::compile_errors(&run.compile_errors, &run.package)
            ));
        }
        if !run.all_passed() {
            let failing: Vec<&str> = run
                .tasks
                .iter()
                .filter(|t| t.status.is_failure())
                .map(|t| t.prefix.trim_end_matches('_'))
                .collect();
            return Err(format!(
                "the unpatched solution fails {} in the {stage} stage; no catch would mean anything",
                failing.join(", ")
            ));
        }
    }
    Ok(())
}

/// Applies `entry` to the scratch solution crate and runs its target tasks.
fn check(
    ws: &Workspace,
    lesson: &Lesson,
    crate_dir: &Path,
    entry: &Entry,
    args: &BugsArgs,
) -> Result<Verdict> {
    if let Err(problem) = apply(crate_dir, &entry.diff)? {
        let last = problem
            .lines()
            .rev()
            .find(|l| l.starts_with("error"))
            .unwrap_or("");
        return Ok(Verdict::Broken(format!(
            "does not apply: {last}\n{problem}"
        )));
    }
    let mut focus = lesson.clone();
    focus.tasks.retain(|t| entry.tasks.contains(&t.prefix));
    let stages = match entry.stage {
        Some(stage) => vec![stage],
        None => graded_stages(lesson),
    };
    let mut catches = Vec::new();
    let mut escaped = String::new();
    for _ in 0..args.repeat.max(1) {
        match one_run(ws, &focus, &stages, &args.run)? {
            Attempt::Broken(why) => return Ok(Verdict::Broken(why)),
            Attempt::Caught(how) => catches.push(how),
            Attempt::Missed(why) => escaped = why,
        }
    }
    let runs = args.repeat.max(1);
    Ok(match catches.len() {
        n if n == runs => Verdict::Caught(catches.swap_remove(0)),
        0 => Verdict::Missed(escaped),
        n => Verdict::Missed(format!(
            "caught in only {n} of {runs} runs, so by luck; in the others: {escaped}"
        )),
    })
}

enum Attempt {
    Caught(String),
    Missed(String),
    Broken(String),
}

/// One run of the focus lesson's tasks through `stages`, stopping at the
/// stage where every target task has failed.
fn one_run(ws: &Workspace, focus: &Lesson, stages: &[Stage], opts: &RunOptions) -> Result<Attempt> {
    let mut still_passing: Vec<&str> = focus.tasks.iter().map(|t| t.prefix.as_str()).collect();
    let mut how = Vec::new();
    for &stage in stages {
        let run = grading::run_stage(ws, focus, &focus.solution, stage, opts)?;
        if !run.compile_errors.is_empty() {
            let shown = render::compile_errors(&run.compile_errors, &run.package);
            let first = shown.lines().next().unwrap_or_default();
            return Ok(Attempt::Broken(format!(
                "does not compile, so it proves nothing: {first}\n{shown}"
            )));
        }
        still_passing.retain(|prefix| match first_failure(&run, prefix) {
            Some(failure) => {
                how.push(format!("[{stage}] {failure}"));
                false
            }
            None => true,
        });
        if still_passing.is_empty() {
            return Ok(Attempt::Caught(how.join("; ")));
        }
    }
    let names: Vec<&str> = still_passing
        .iter()
        .map(|p| p.trim_end_matches('_'))
        .collect();
    let stage_names: Vec<&str> = stages.iter().map(|s| s.name()).collect();
    Ok(Attempt::Missed(format!(
        "every {} test passed ({})",
        names.join(" and "),
        stage_names.join(" and ")
    )))
}

/// The first failing test of the task, with the first line of why.
fn first_failure(run: &StageRun, prefix: &str) -> Option<String> {
    let task = run.task(prefix).filter(|t| t.status.is_failure())?;
    if task.status == TaskStatus::NoTests {
        return None;
    }
    let test = task.tests.iter().find(|t| t.verdict.is_bad())?;
    let line = test
        .detail
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty() && !l.contains("panicked at"))
        .unwrap_or(task.status.label());
    let mut line = line.to_owned();
    if line.chars().count() > 110 {
        line = line.chars().take(107).collect::<String>() + "...";
    }
    Some(format!("{}: {line}", test.name))
}

/// `git apply` in the crate's folder. Git looks for no repository above it,
/// so paths are taken relative to the crate and nothing is silently skipped.
fn apply(crate_dir: &Path, diff: &str) -> Result<Result<(), String>> {
    let mut child = Command::new("git")
        .args(["apply", "--verbose", "-"])
        .current_dir(crate_dir)
        .env(
            "GIT_CEILING_DIRECTORIES",
            crate_dir.parent().unwrap_or(crate_dir),
        )
        .env_remove("GIT_DIR")
        .env_remove("GIT_WORK_TREE")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .context("cannot run `git apply`; is git installed?")?;
    child
        .stdin
        .take()
        .context("git's stdin was not captured")?
        .write_all(diff.as_bytes())
        .context("cannot pass the patch to git apply")?;
    let out = child
        .wait_with_output()
        .context("cannot wait for git apply")?;
    let said = String::from_utf8_lossy(&out.stderr).into_owned();
    if !out.status.success() {
        return Ok(Err(said.trim().to_owned()));
    }
    if said.contains("Skipped patch") || !said.contains("Applied patch") {
        return Ok(Err(format!("git applied nothing:\n{}", said.trim())));
    }
    Ok(Ok(()))
}

/// Makes `to` a copy of the pristine crate at `from`.
fn restore(from: &Path, to: &Path) -> Result<()> {
    if to.exists() {
        std::fs::remove_dir_all(to).with_context(|| format!("cannot clear {}", to.display()))?;
    }
    copy_tree(from, to, &[])
}

/// Copies the course to `scratch`, keeping the scratch's own `target/`.
/// Build output, VCS data, the checker's state, the built book and `skip`
/// are left out.
fn refresh_scratch(ws: &Workspace, scratch: &Path, skip: &[&Path]) -> Result<()> {
    if scratch.exists() {
        for entry in std::fs::read_dir(scratch)
            .with_context(|| format!("cannot read {}", scratch.display()))?
        {
            let entry = entry?;
            if entry.file_name() == "target" {
                continue;
            }
            let path = entry.path();
            let removed = if entry.file_type()?.is_dir() {
                std::fs::remove_dir_all(&path)
            } else {
                std::fs::remove_file(&path)
            };
            removed.with_context(|| format!("cannot clear {}", path.display()))?;
        }
    }
    let book = ws.book_dir().join("book");
    let mut skipped: Vec<&Path> = skip.to_vec();
    skipped.push(&book);
    copy_tree(&ws.root, scratch, &skipped)
}

/// Copies the folders and regular files under `from` to `to`, leaving out
/// `skip`, and anything named `target`, `.git` or `.checker`.
fn copy_tree(from: &Path, to: &Path, skip: &[&Path]) -> Result<()> {
    let walk = walkdir::WalkDir::new(from).into_iter().filter_entry(|e| {
        let name = e.file_name();
        !(e.depth() > 0 && (name == "target" || name == ".git" || name == ".checker"))
            && !skip.iter().any(|s| e.path().starts_with(s))
    });
    for entry in walk {
        let entry = entry.with_context(|| format!("cannot copy {}", from.display()))?;
        let relative = entry.path().strip_prefix(from).unwrap_or(entry.path());
        let target = to.join(relative);
        if entry.file_type().is_dir() {
            std::fs::create_dir_all(&target)
                .with_context(|| format!("cannot create {}", target.display()))?;
        } else if entry.file_type().is_file() {
            std::fs::copy(entry.path(), &target)
                .with_context(|| format!("cannot copy {}", entry.path().display()))?;
        }
    }
    if !to.is_dir() {
        bail!("nothing was copied from {}", from.display());
    }
    Ok(())
}
