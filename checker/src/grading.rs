//! Running a lesson's graded tasks in one stage and scoring them.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{Context, Result, bail};
use serde::{Deserialize, Serialize};

use crate::libtest::{self, TestResult, Verdict};
use crate::manifest::{Lesson, Stage, Task};
use crate::sandbox::Sandbox;
use crate::stages::{Prepared, StagePlan, Target};
use crate::workspace::Workspace;

/// How a task stands after a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TaskStatus {
    Passed,
    Failed,
    CompileError,
    TimedOut,
    Crashed,
    /// No test carries the task's prefix: a course defect in the test stage.
    NoTests,
    /// The task has no tests in this (non-test) stage.
    NotInStage,
    /// The stage could not run here (its tool is not installed).
    Skipped,
}

impl TaskStatus {
    pub fn label(self) -> &'static str {
        match self {
            TaskStatus::Passed => "pass",
            TaskStatus::Failed => "FAIL",
            TaskStatus::CompileError => "COMPILE ERROR",
            TaskStatus::TimedOut => "TIMEOUT",
            TaskStatus::Crashed => "CRASH",
            TaskStatus::NoTests => "NO TESTS",
            TaskStatus::NotInStage => "-",
            TaskStatus::Skipped => "skipped",
        }
    }

    /// Whether the task is broken in this stage (as opposed to passing,
    /// untested here, or not run).
    pub fn is_failure(self) -> bool {
        matches!(
            self,
            TaskStatus::Failed
                | TaskStatus::CompileError
                | TaskStatus::TimedOut
                | TaskStatus::Crashed
                | TaskStatus::NoTests
        )
    }
}

/// One task's outcome and the tests behind it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TaskResult {
    pub prefix: String,
    pub name: String,
    pub points: u32,
    pub earned: u32,
    pub status: TaskStatus,
    /// Tests that did not pass come first, so the first one explains the status.
    pub tests: Vec<TestRecord>,
}

/// A test's result as stored and reported.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TestRecord {
    /// The test target (file under `tests/`) that holds it.
    pub binary: String,
    pub name: String,
    pub verdict: Verdict,
    pub detail: String,
    pub duration_ms: u64,
}

/// The outcome of running one package of a lesson in one stage.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StageRun {
    pub lesson: String,
    pub package: String,
    pub stage: Stage,
    /// The compiler's errors, when the code did not build.
    pub compile_errors: Vec<String>,
    pub tasks: Vec<TaskResult>,
    /// Tests that carry no task's prefix (graded by nobody).
    pub ungraded: Vec<String>,
    /// Why the stage did not run, when it could not.
    #[serde(default)]
    pub skipped: Option<String>,
}

impl StageRun {
    pub fn passed_tasks(&self) -> usize {
        self.tasks
            .iter()
            .filter(|t| t.status == TaskStatus::Passed)
            .count()
    }

    /// Every task passed or has no tests in this stage; a skipped stage did not pass.
    pub fn all_passed(&self) -> bool {
        self.skipped.is_none()
            && self
                .tasks
                .iter()
                .all(|t| matches!(t.status, TaskStatus::Passed | TaskStatus::NotInStage))
    }

    pub fn task(&self, prefix: &str) -> Option<&TaskResult> {
        self.tasks.iter().find(|t| t.prefix == prefix)
    }
}

/// A task's standing across stages: its result in the first stage where it
/// fails, else in the first stage that tests it (normally the test stage).
pub fn combine(runs: &[StageRun]) -> Vec<TaskResult> {
    let Some(first) = runs.first() else {
        return Vec::new();
    };
    first
        .tasks
        .iter()
        .map(|task| {
            let results: Vec<&TaskResult> = runs
                .iter()
                .filter_map(|run| run.task(&task.prefix))
                .collect();
            let failing = results.iter().find(|t| t.status.is_failure());
            let tested = results.iter().find(|t| t.status != TaskStatus::NotInStage);
            failing.or(tested).copied().unwrap_or(task).clone()
        })
        .collect()
}

/// How to run.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// Tests run at once.
    pub jobs: usize,
    /// Overrides the manifest's per-test timeout.
    pub timeout: Option<Duration>,
    /// Limits for untrusted test processes (the grader), with the folder
    /// that holds each worker's private temporary directory. With a
    /// sandbox, a test that cannot be started is the grader's error.
    pub sandbox: Option<(Sandbox, PathBuf)>,
    /// The grader's sandboxed cargo launcher (see `StagePlan`).
    pub sandboxed_cargo: Option<PathBuf>,
    /// The tests each stage must run, listed from the pristine course; the
    /// student's binaries are then never asked for their own list.
    pub expected: Option<Arc<TestLists>>,
}

/// Per (lesson, stage): each test target's name and its tests' names.
pub type TestLists = BTreeMap<(String, Stage), Vec<(String, Vec<String>)>>;

impl Default for RunOptions {
    fn default() -> Self {
        let jobs = std::thread::available_parallelism()
            .map(usize::from)
            .unwrap_or(1);
        RunOptions {
            jobs,
            timeout: None,
            sandbox: None,
            sandboxed_cargo: None,
            expected: None,
        }
    }
}

/// Builds `package` (the lesson's exercise or solution) and runs every
/// graded test of the lesson in `stage`, one process per test.
pub fn run_stage(
    ws: &Workspace,
    lesson: &Lesson,
    package: &str,
    stage: Stage,
    opts: &RunOptions,
) -> Result<StageRun> {
    let plan = StagePlan {
        ws,
        lesson,
        package,
        stage,
        timeout: opts.timeout,
        sandboxed_cargo: opts.sandboxed_cargo.as_deref(),
    };
    let mut run = StageRun {
        lesson: lesson.id.clone(),
        package: package.to_string(),
        stage,
        compile_errors: Vec::new(),
        tasks: Vec::new(),
        ungraded: Vec::new(),
        skipped: None,
    };
    let all = |status| {
        lesson
            .tasks
            .iter()
            .map(|t| score(t, status, Vec::new()))
            .collect()
    };
    let targets = match plan.prepare()? {
        Prepared::Ready(targets) => targets,
        Prepared::CompileError(errors) => {
            run.compile_errors = errors;
            run.tasks = all(TaskStatus::CompileError);
            return Ok(run);
        }
        Prepared::Skipped(why) => {
            run.skipped = Some(why);
            run.tasks = all(TaskStatus::Skipped);
            return Ok(run);
        }
    };

    let listed = match opts
        .expected
        .as_ref()
        .map(|e| e.get(&(lesson.id.clone(), stage)))
    {
        Some(Some(lists)) => lists.clone(),
        Some(None) => bail!(
            "no trusted test list for {} in the {stage} stage",
            lesson.id
        ),
        None => list_tests(&plan, &targets, opts.sandbox.as_ref())?,
    };
    let mut jobs = Vec::new();
    for (target_name, names) in listed {
        let target = targets
            .iter()
            .find(|t| t.name == target_name)
            .with_context(|| format!("the build made no `{target_name}` test binary"))?;
        for name in names {
            match lesson.task_of(&name) {
                Some(task) => jobs.push(Job {
                    task,
                    target: target.clone(),
                    name,
                }),
                None => run.ungraded.push(format!("{}::{}", target.name, name)),
            }
        }
    }
    // Miri is one cargo call per test; two at once is plenty on any machine.
    let workers = if stage == Stage::Miri {
        opts.jobs.clamp(1, 2)
    } else {
        opts.jobs.max(1)
    };
    let results = run_jobs(&plan, &jobs, workers, opts.sandbox.as_ref());

    let mut by_task: BTreeMap<&str, Vec<TestRecord>> = BTreeMap::new();
    for (job, result) in jobs.iter().zip(results) {
        // Under the grader's sandbox, a test that cannot be started is the
        // grader's failure, never the student's.
        let result = match result {
            Err(e) if opts.sandbox.is_some() => {
                return Err(e.context(format!(
                    "the grader could not run {} of {}; no grade was given",
                    job.name, lesson.id
                )));
            }
            result => result,
        };
        let result = result.unwrap_or_else(|e| TestResult {
            name: job.name.clone(),
            verdict: Verdict::Crashed,
            detail: format!("{e:#}"),
            duration_ms: 0,
        });
        by_task
            .entry(&job.task.prefix)
            .or_default()
            .push(record(&job.target.name, result));
    }
    run.tasks = lesson
        .tasks
        .iter()
        .map(|task| {
            let mut tests = by_task.remove(task.prefix.as_str()).unwrap_or_default();
            tests.sort_by_key(|t| !t.verdict.is_bad());
            let status = match task_status(&tests) {
                TaskStatus::NoTests if stage != Stage::Test => TaskStatus::NotInStage,
                status => status,
            };
            score(task, status, tests)
        })
        .collect();
    Ok(run)
}

/// Each target's tests, as its harness lists them (`--list`), run in the
/// sandbox when there is one. The grader lists the pristine stub's
/// binaries only.
pub fn list_tests(
    plan: &StagePlan<'_>,
    targets: &[Target],
    sandbox: Option<&(Sandbox, PathBuf)>,
) -> Result<Vec<(String, Vec<String>)>> {
    let worker = sandbox
        .filter(|_| plan.stage != Stage::Miri)
        .map(|(sb, tmp)| sb.for_worker(0, tmp))
        .transpose()?;
    let mut lists = Vec::new();
    for target in targets {
        let harness = plan.harness(target, None)?;
        let listed = match &worker {
            Some(sb) => {
                let listed = libtest::list(sb.wrap(&harness));
                sb.clean_up()?;
                listed
            }
            None => libtest::list(harness),
        };
        lists.push((target.name.clone(), listed?));
    }
    Ok(lists)
}

struct Job<'a> {
    task: &'a Task,
    target: Target,
    name: String,
}

/// Runs the jobs on `workers` threads; results come back in job order.
fn run_jobs(
    plan: &StagePlan<'_>,
    jobs: &[Job<'_>],
    workers: usize,
    sandbox: Option<&(Sandbox, PathBuf)>,
) -> Vec<Result<TestResult>> {
    let next = AtomicUsize::new(0);
    let slots: Mutex<Vec<Option<Result<TestResult>>>> =
        Mutex::new((0..jobs.len()).map(|_| None).collect());
    // Miri runs cargo itself, which cannot run as an unprivileged uid over
    // the grader's files; the sandbox covers the native stages.
    let sandbox = sandbox.filter(|_| plan.stage != Stage::Miri);
    std::thread::scope(|scope| {
        for worker in 0..workers.min(jobs.len()) {
            let (next, slots) = (&next, &slots);
            scope.spawn(move || {
                let worker_box = sandbox
                    .map(|(sb, tmp)| sb.for_worker(worker, tmp))
                    .transpose();
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(job) = jobs.get(i) else { break };
                    let result = match &worker_box {
                        Err(e) => Err(anyhow::anyhow!("cannot set up the sandbox: {e:#}")),
                        Ok(sb) => plan
                            .harness(&job.target, Some(job.task))
                            .and_then(|command| {
                                let command = match sb {
                                    Some(sb) => sb.wrap(&command),
                                    None => command,
                                };
                                let result =
                                    libtest::run(command, &job.name, plan.timeout()).map(|r| {
                                        match sb.as_ref().and_then(|sb| sb.jail.as_ref()) {
                                            Some(_) => signal_through_jail(r),
                                            None => r,
                                        }
                                    });
                                match sb.as_ref().map(Sandbox::clean_up) {
                                    Some(Err(e)) => Err(e),
                                    _ => result,
                                }
                            }),
                    };
                    slots.lock().unwrap_or_else(|p| p.into_inner())[i] = Some(result);
                }
            });
        }
    });
    slots
        .into_inner()
        .unwrap_or_else(|p| p.into_inner())
        .into_iter()
        .map(|slot| slot.unwrap_or_else(|| Err(anyhow::anyhow!("the test was never run"))))
        .collect()
}

/// bubblewrap reports a child killed by signal N as status 128 + N: a
/// crash, not a failing exit.
fn signal_through_jail(result: TestResult) -> TestResult {
    let signal = result
        .detail
        .strip_prefix("the process exited with status ")
        .and_then(|rest| rest.split(|c: char| !c.is_ascii_digit()).next())
        .and_then(|code| code.parse::<i32>().ok())
        .map(|code| code - 128)
        .filter(|s| (1..32).contains(s));
    match (result.verdict, signal) {
        (Verdict::Failed, Some(signal)) => {
            let tail = result.detail.split_once('\n').map_or("", |(_, t)| t);
            let detail = format!(
                "the test process was killed by {}\n{tail}",
                crate::process::signal_name(signal)
            );
            TestResult {
                verdict: Verdict::Crashed,
                detail: detail.trim_end().to_string(),
                ..result
            }
        }
        _ => result,
    }
}

fn record(binary: &str, result: TestResult) -> TestRecord {
    TestRecord {
        binary: binary.to_string(),
        name: result.name,
        verdict: result.verdict,
        detail: result.detail,
        duration_ms: result.duration_ms,
    }
}

/// A task passes when none of its tests failed and at least one passed.
fn task_status(tests: &[TestRecord]) -> TaskStatus {
    if tests.is_empty() {
        return TaskStatus::NoTests;
    }
    match tests.iter().map(|t| t.verdict).find(|v| v.is_bad()) {
        None if tests.iter().any(|t| t.verdict == Verdict::Passed) => TaskStatus::Passed,
        None => TaskStatus::NoTests,
        Some(Verdict::TimedOut) => TaskStatus::TimedOut,
        Some(Verdict::Crashed) => TaskStatus::Crashed,
        Some(_) => TaskStatus::Failed,
    }
}

fn score(task: &Task, status: TaskStatus, tests: Vec<TestRecord>) -> TaskResult {
    let earned = if status == TaskStatus::Passed {
        task.points
    } else {
        0
    };
    TaskResult {
        prefix: task.prefix.clone(),
        name: task.name.clone(),
        points: task.points,
        earned,
        status,
        tests,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(verdict: Verdict) -> TestRecord {
        TestRecord {
            binary: "b".into(),
            name: "t".into(),
            verdict,
            detail: String::new(),
            duration_ms: 0,
        }
    }

    fn run_with(stage: Stage, statuses: &[TaskStatus]) -> StageRun {
        StageRun {
            lesson: "l".into(),
            package: "p".into(),
            stage,
            compile_errors: Vec::new(),
            tasks: statuses
                .iter()
                .enumerate()
                .map(|(i, &status)| TaskResult {
                    prefix: format!("t{i}_"),
                    name: String::new(),
                    points: 5,
                    earned: if status == TaskStatus::Passed { 5 } else { 0 },
                    status,
                    tests: Vec::new(),
                })
                .collect(),
            ungraded: Vec::new(),
            skipped: None,
        }
    }

    #[test]
    fn combine_takes_the_first_failing_stage() {
        use TaskStatus::*;
        let test = run_with(Stage::Test, &[Passed, Passed, Failed, Passed]);
        let loom = run_with(Stage::Loom, &[Failed, NotInStage, Passed, Passed]);
        let miri = run_with(Stage::Miri, &[Skipped, Skipped, Skipped, Crashed]);
        let combined: Vec<TaskStatus> = combine(&[test, loom, miri])
            .iter()
            .map(|t| t.status)
            .collect();
        assert_eq!(combined, [Failed, Passed, Failed, Crashed]);
    }

    #[test]
    fn a_skipped_stage_is_not_a_pass() {
        let mut run = run_with(Stage::Miri, &[TaskStatus::Skipped]);
        run.skipped = Some("not installed".into());
        assert!(!run.all_passed());
        assert!(run_with(Stage::Loom, &[TaskStatus::Passed, TaskStatus::NotInStage]).all_passed());
    }

    #[test]
    fn task_status_needs_a_pass_and_no_failure() {
        use Verdict::*;
        assert_eq!(task_status(&[]), TaskStatus::NoTests);
        assert_eq!(
            task_status(&[rec(Passed), rec(Ignored)]),
            TaskStatus::Passed
        );
        assert_eq!(task_status(&[rec(Ignored)]), TaskStatus::NoTests);
        assert_eq!(
            task_status(&[rec(TimedOut), rec(Passed)]),
            TaskStatus::TimedOut
        );
        assert_eq!(task_status(&[rec(Crashed)]), TaskStatus::Crashed);
        assert_eq!(task_status(&[rec(Unreported)]), TaskStatus::Failed);
        assert_eq!(task_status(&[rec(Failed)]), TaskStatus::Failed);
    }
}
