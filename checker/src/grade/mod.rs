//! `checker grade`: grades a whole class against the instructor's pristine
//! tests, in a sandbox, and writes CSV, JSON, Gradescope and Markdown reports.

mod intake;
mod isolation;
mod output;
mod scratch;
mod tamper;

use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use serde::{Deserialize, Serialize};

use crate::grading::{self, RunOptions, StageRun, TaskStatus, TestRecord};
use crate::manifest::{Lesson, Stage};
use crate::sandbox::Sandbox;
use crate::stages::{Prepared, StagePlan};
use crate::state::fingerprint;
use crate::workspace::Workspace;

pub use scratch::copy_tree;
pub use tamper::{Finding, FindingKind};

/// What `checker grade` was asked to do.
pub struct GradeArgs {
    pub submissions: PathBuf,
    pub out: PathBuf,
    /// Only these lessons (all when empty).
    pub lessons: Vec<String>,
    /// Where the scratch workspace and shared target directory live.
    pub work: Option<PathBuf>,
    /// Regrade students whose results are already in `out`.
    pub fresh: bool,
    /// Wall-clock (and CPU) limit of one build.
    pub build_timeout: Duration,
    pub run: RunOptions,
}

/// One student's grade, as written to `grades.json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StudentGrade {
    pub student: String,
    /// A digest of the submission and the pristine course, for resuming.
    pub fingerprint: String,
    pub points: u32,
    pub max_points: u32,
    pub lessons: Vec<LessonGrade>,
    pub findings: Vec<Finding>,
    /// Why the submission could not be graded at all, if it could not.
    pub error: Option<String>,
    /// Seconds spent building, and in all.
    pub build_secs: f64,
    pub total_secs: f64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LessonGrade {
    pub id: String,
    /// Whether the submission had this lesson's `src/`.
    pub submitted: bool,
    pub points: u32,
    pub max_points: u32,
    /// stage → `passed`, `failed`, `compile_error` or `skipped`.
    pub stages: BTreeMap<Stage, String>,
    pub compile_error: Option<String>,
    pub tasks: Vec<GradedTask>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct GradedTask {
    pub prefix: String,
    pub name: String,
    pub points: u32,
    pub max_points: u32,
    pub status: TaskStatus,
    /// The stage that decided the status (the first that failed, else test).
    pub stage: Stage,
    pub duration_ms: u64,
    /// The first lines of the first failure.
    pub failure: String,
    pub tests: Vec<TestRecord>,
}

pub fn run(root: Option<&Path>, args: GradeArgs) -> Result<ExitCode> {
    let pristine = Workspace::open(root)?;
    let submissions = intake::discover(&args.submissions)?;
    if submissions.is_empty() {
        anyhow::bail!(
            "no submissions in {}: expected one folder, .zip or .tar.gz per student",
            args.submissions.display()
        );
    }
    let lessons: Vec<&Lesson> = if args.lessons.is_empty() {
        pristine.course.lessons.iter().collect()
    } else {
        args.lessons
            .iter()
            .map(|q| pristine.lesson(q))
            .collect::<Result<_>>()?
    };
    if Sandbox::is_root() {
        // The sandbox's users must read the scratch course, the exit guard
        // and the test binaries, whatever umask the instructor has.
        // SAFETY: umask has no preconditions.
        unsafe { libc::umask(0o022) };
    }
    std::fs::create_dir_all(args.out.join("students"))
        .with_context(|| format!("cannot create {}", args.out.display()))?;
    let out = args.out.canonicalize()?;
    if Sandbox::is_root() {
        // Grades and findings are for the instructor: no sandboxed test
        // reads them, even without bubblewrap's private view.
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&out, std::fs::Permissions::from_mode(0o700))
            .with_context(|| format!("cannot make {} private", out.display()))?;
    }
    let work = work_dir(&args, &out)?;
    let scratch = scratch::Scratch::create(&pristine, &work.join("course"), &out)?;
    let target = work.join("target");
    point_cargo_at(&scratch.root, &target)?;
    let mut ws = Workspace::open(Some(&scratch.root))?;
    // Never an inherited CARGO_TARGET_DIR: the scratch builds into its own.
    crate::cargo::register_target_dir(&scratch.root, &target);
    ws.target_dir = target;

    // As root, tests run under a range of uids that no other grader on this
    // machine uses at the same time; the slot is held until the run ends.
    let uid_slot = if Sandbox::is_root() {
        Some(crate::sandbox::UidSlot::claim()?)
    } else {
        None
    };
    let mut run_opts = args.run.clone();
    run_opts.jobs = run_opts.jobs.clamp(1, 62);
    let longest = ws
        .course
        .course
        .default_timeout_secs
        .max(run_opts.timeout.map_or(0, |t| t.as_secs()));
    let isolation = isolation::Setup {
        ws: &ws,
        work: &work,
        slot: uid_slot.as_ref(),
        jobs: run_opts.jobs,
        test_cpu_secs: longest * 2 + 10,
        build_secs: args.build_timeout.as_secs().max(1),
        guard: build_exit_guard(&pristine, &work)?,
    }
    .run()?;
    println!("isolation: {}", isolation.summary);
    run_opts.sandbox = Some((isolation.tests.clone(), work.join("tmp")));
    run_opts.sandboxed_cargo = Some(isolation.launcher.clone());
    // The tests to run come from the pristine stubs, built and listed in
    // the sandbox; a student's binary is never asked for its own list.
    scratch.load_student(&pristine, None)?;
    run_opts.expected = Some(Arc::new(trusted_lists(&ws, &lessons, &run_opts)?));

    let progress = Progress::new(submissions.len() * lessons.len());
    let mut grades = Vec::new();
    for submission in &submissions {
        let saved = out
            .join("students")
            .join(format!("{}.json", submission.student));
        let print = submission_fingerprint(&pristine, &lessons, &submission.path);
        let saved_grade = load_saved(&saved).filter(|g| g.fingerprint == print && !args.fresh);
        if let Some(grade) = saved_grade {
            progress.skip(&grade, lessons.len());
            grades.push(grade);
            continue;
        }
        let grade = grade_student(
            &pristine, &ws, &scratch, &work, submission, &lessons, &run_opts, &progress, print,
        )?;
        std::fs::write(&saved, serde_json::to_string_pretty(&grade)?)
            .with_context(|| format!("cannot write {}", saved.display()))?;
        grades.push(grade);
    }
    progress.finish();
    let uids: Vec<u32> = uid_slot
        .iter()
        .flat_map(|slot| (0..run_opts.jobs as u32).map(move |i| slot.base + i))
        .collect();
    output::write_all(
        &out,
        &pristine,
        &lessons,
        &grades,
        &uids,
        &isolation.summary,
    )?;
    println!("{}", output::summary_line(&grades, &out));
    Ok(ExitCode::SUCCESS)
}

/// As root, test processes run under other uids, which must be able to
/// reach the test binaries: the work area then lives in a world-traversable
/// folder, not inside a private temporary directory. A folder that exists
/// already must be the grader's own: not a link, owned by this user, and
/// writable by nobody else (someone else's folder could hold a planted
/// target directory or exit guard).
fn work_dir(args: &GradeArgs, out: &Path) -> Result<PathBuf> {
    use std::os::unix::fs::{DirBuilderExt, MetadataExt, PermissionsExt};
    let dir = match &args.work {
        Some(dir) => dir.clone(),
        None if Sandbox::is_root() => {
            use sha2::{Digest, Sha256};
            let digest = Sha256::digest(out.as_os_str().as_encoded_bytes());
            let tag: String = digest.iter().take(6).map(|b| format!("{b:02x}")).collect();
            std::env::temp_dir().join(format!("checker-grade-{tag}"))
        }
        None => out.join("work"),
    };
    if let Some(parent) = dir.parent() {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("cannot create {}", parent.display()))?;
    }
    match std::fs::DirBuilder::new().mode(0o755).create(&dir) {
        // Whatever the umask: the sandbox's users must enter it.
        Ok(()) => std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755))
            .with_context(|| format!("cannot open up {}", dir.display()))?,
        Err(e) if e.kind() != std::io::ErrorKind::AlreadyExists => {
            return Err(e).with_context(|| format!("cannot create {}", dir.display()));
        }
        Err(_) => {}
    }
    if Sandbox::is_root() {
        reachable_by_others(&dir)?;
    }
    // SAFETY: geteuid has no preconditions.
    let me = unsafe { libc::geteuid() };
    for sub in [dir.clone(), dir.join("guard")] {
        let Ok(meta) = std::fs::symlink_metadata(&sub) else {
            continue;
        };
        if !meta.is_dir() || meta.uid() != me || meta.mode() & 0o022 != 0 {
            bail!(
                "refusing the work folder {}: it is not the grader's own (a link, owned by uid {}, or writable by others: mode {:o}); remove it or pass another --work",
                sub.display(),
                meta.uid(),
                meta.mode() & 0o7777
            );
        }
    }
    Ok(dir)
}

/// As root, builds and tests run under uids of their own, which must be
/// able to enter the work folder: no test could start otherwise (a private
/// `mktemp -d` folder), and the run would grade everyone 0. Refused at once.
fn reachable_by_others(dir: &Path) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let dir = dir
        .canonicalize()
        .with_context(|| format!("cannot resolve {}", dir.display()))?;
    for folder in dir.ancestors() {
        let mode = std::fs::metadata(folder)
            .with_context(|| format!("cannot read {}", folder.display()))?
            .permissions()
            .mode();
        if mode & 0o001 == 0 {
            bail!(
                "the work folder {} is inside {} (mode {:o}), which the sandbox's users cannot enter, \
                 so no test could start; pass --work in a folder everyone may enter, or leave --work out \
                 (the default is a folder of its own in {})",
                dir.display(),
                folder.display(),
                mode & 0o7777,
                std::env::temp_dir().display()
            );
        }
    }
    Ok(())
}

/// Builds the exit guard (`grading/exit-guard`) from the pristine course
/// into a folder of the grader's own, and returns the library to preload.
/// It makes an `exit` or `exec` that is not libtest finishing fail the test.
fn build_exit_guard(pristine: &Workspace, work: &Path) -> Result<Option<PathBuf>> {
    const PACKAGE: &str = "exit-guard";
    if !pristine.packages.contains_key(PACKAGE) {
        eprintln!(
            "note: this course has no `{PACKAGE}` package; std::process::exit(0) is then caught only by the ok-line check"
        );
        return Ok(None);
    }
    let target = work.join("guard");
    let mut command = crate::cargo::BuildOptions {
        release: true,
        target_dir: Some(target.clone()),
        ..Default::default()
    }
    .cargo(&pristine.root, PACKAGE, "build");
    command.arg("-q");
    let status = command.status().context("cannot start cargo")?;
    let library = target.join("release").join("libexit_guard.so");
    if !status.success() || !library.is_file() {
        bail!("building the grader's `{PACKAGE}` failed; see cargo's output above");
    }
    Ok(Some(library))
}

/// Builds every graded lesson's pristine stub in each required stage and
/// lists its tests in the sandbox: the names every student must pass.
fn trusted_lists(
    ws: &Workspace,
    lessons: &[&Lesson],
    opts: &RunOptions,
) -> Result<grading::TestLists> {
    let mut lists = grading::TestLists::new();
    for lesson in lessons {
        for &stage in lesson.stages.iter().filter(|s| s.is_required()) {
            let plan = exercise_plan(ws, lesson, stage, opts);
            let targets = match plan.prepare()? {
                Prepared::Ready(targets) => targets,
                Prepared::CompileError(errors) => bail!(
                    "the pristine stub of {} does not build in the grader's sandbox ({stage} stage):\n{}",
                    lesson.id,
                    errors.join("\n")
                ),
                Prepared::Skipped(_) => continue,
            };
            let listed =
                grading::list_tests(&plan, &targets, opts.sandbox.as_ref()).with_context(|| {
                    format!(
                        "the grader cannot list the pristine tests of {} in its sandbox",
                        lesson.id
                    )
                })?;
            lists.insert((lesson.id.clone(), stage), listed);
        }
    }
    Ok(lists)
}

/// The stage plan for a lesson's exercise crate (the student's code, or
/// the stub), built through the sandboxed cargo.
fn exercise_plan<'a>(
    ws: &'a Workspace,
    lesson: &'a Lesson,
    stage: Stage,
    opts: &'a RunOptions,
) -> StagePlan<'a> {
    StagePlan {
        ws,
        lesson,
        package: &lesson.exercise,
        stage,
        timeout: opts.timeout,
        sandboxed_cargo: opts.sandboxed_cargo.as_deref(),
    }
}

/// Every student builds into one target directory, so dependencies compile once.
fn point_cargo_at(scratch: &Path, target: &Path) -> Result<()> {
    let config = scratch.join(".cargo");
    std::fs::create_dir_all(&config)?;
    let text = format!("[build]\ntarget-dir = {:?}\n", target.display().to_string());
    std::fs::write(config.join("config.toml"), text)
        .context("cannot write the scratch workspace's cargo config")
}

/// A digest of the submission, the graded lessons' pristine folders and the
/// manifest: a saved grade is reused only while all of them are unchanged.
fn submission_fingerprint(pristine: &Workspace, lessons: &[&Lesson], submission: &Path) -> String {
    let mut dirs: Vec<&Path> = lessons
        .iter()
        .filter_map(|l| pristine.package_dir(&l.exercise).ok())
        .collect();
    let manifest = pristine.root.join(crate::manifest::MANIFEST_FILE);
    let mut files = vec![manifest.as_path()];
    if submission.is_dir() {
        dirs.push(submission);
    } else {
        files.push(submission);
    }
    fingerprint(&dirs, &files)
}

fn load_saved(path: &Path) -> Option<StudentGrade> {
    serde_json::from_str(&std::fs::read_to_string(path).ok()?).ok()
}

#[allow(clippy::too_many_arguments)]
fn grade_student(
    pristine: &Workspace,
    ws: &Workspace,
    scratch: &scratch::Scratch,
    work: &Path,
    submission: &intake::Submission,
    lessons: &[&Lesson],
    opts: &RunOptions,
    progress: &Progress,
    print: String,
) -> Result<StudentGrade> {
    let started = Instant::now();
    let mut grade = StudentGrade {
        student: submission.student.clone(),
        fingerprint: print,
        points: 0,
        max_points: lessons.iter().map(|l| l.max_points()).sum(),
        lessons: Vec::new(),
        findings: Vec::new(),
        error: None,
        build_secs: 0.0,
        total_secs: 0.0,
    };
    let ids: Vec<&str> = pristine
        .course
        .lessons
        .iter()
        .map(|l| l.id.as_str())
        .collect();
    let exercises = match intake::unpack(submission, &work.join("unpacked")) {
        Ok(dir) if !intake::links(&dir).is_empty() => {
            let links = intake::links(&dir);
            for link in &links {
                grade.findings.push(Finding {
                    lesson: "-".to_string(),
                    kind: FindingKind::Symlink,
                    detail: format!("refused the symbolic link {}", link.display()),
                });
            }
            grade.error = Some(format!(
                "the submission holds {} symbolic link(s); links are refused, nothing was graded",
                links.len()
            ));
            None
        }
        Ok(dir) => {
            let found = intake::find_exercises(&dir, &ids);
            if found.is_none() {
                grade.error = Some(
                    "no lesson folders (exercises/NN-name/src) found in the submission".to_string(),
                );
            }
            found
        }
        Err(e) => {
            grade.error = Some(format!("{e:#}"));
            None
        }
    };
    let taken = scratch.load_student(pristine, exercises.as_deref())?;
    for lesson in lessons {
        progress.working(&submission.student, &lesson.id);
        if let Some(exercises) = &exercises {
            let ours = pristine.package_dir(&lesson.exercise)?;
            let name = ours.file_name().map(PathBuf::from).unwrap_or_default();
            let theirs = exercises.join(name);
            if theirs.is_dir() {
                let reference = pristine.package_dir(&lesson.solution)?;
                grade
                    .findings
                    .extend(tamper::inspect(&lesson.id, ours, &theirs, reference));
            }
        }
        let (lesson_grade, build) = grade_lesson(ws, lesson, taken.contains(&lesson.id), opts)?;
        grade.build_secs += build.as_secs_f64();
        grade.points += lesson_grade.points;
        grade.lessons.push(lesson_grade);
        progress.done_one();
    }
    grade.total_secs = started.elapsed().as_secs_f64();
    progress.student_done(&grade);
    Ok(grade)
}

/// Runs a lesson's required stages (test, loom) on the scratch copy.
fn grade_lesson(
    ws: &Workspace,
    lesson: &Lesson,
    submitted: bool,
    opts: &RunOptions,
) -> Result<(LessonGrade, Duration)> {
    let mut runs: Vec<StageRun> = Vec::new();
    let mut build = Duration::ZERO;
    let mut stages = BTreeMap::new();
    for &stage in lesson.stages.iter().filter(|s| s.is_required()) {
        if runs.first().is_some_and(|r| !r.compile_errors.is_empty()) {
            break;
        }
        // Build first, timed on its own: the report compares build costs.
        let plan = exercise_plan(ws, lesson, stage, opts);
        let started = Instant::now();
        let prepared = plan.prepare()?;
        build += started.elapsed();
        let run = match prepared {
            // A failed build is not cached: building again would double its
            // cost (a build stopped at its time limit, twice).
            Prepared::CompileError(errors) => StageRun {
                lesson: lesson.id.clone(),
                package: lesson.exercise.clone(),
                stage,
                compile_errors: errors,
                tasks: Vec::new(),
                ungraded: Vec::new(),
                skipped: None,
            },
            _ => grading::run_stage(ws, lesson, &lesson.exercise, stage, opts)?,
        };
        stages.insert(stage, stage_word(&run).to_string());
        runs.push(run);
    }
    let compile_error = runs
        .iter()
        .find_map(|r| r.compile_errors.first().map(|e| output::cap_chars(e)));
    let tasks: Vec<GradedTask> = lesson
        .tasks
        .iter()
        .map(|task| {
            let results: Vec<(Stage, &grading::TaskResult)> = runs
                .iter()
                .filter_map(|r| r.task(&task.prefix).map(|t| (r.stage, t)))
                .collect();
            let decided = results
                .iter()
                .find(|(_, t)| t.status.is_failure())
                .or(results.first());
            let (stage, result) = match decided {
                Some((stage, result)) => (*stage, Some(*result)),
                None => (Stage::Test, None),
            };
            let status = result.map_or(TaskStatus::CompileError, |r| r.status);
            let passed = status == TaskStatus::Passed;
            let tests: Vec<TestRecord> = results
                .iter()
                .flat_map(|(_, t)| t.tests.iter().cloned())
                .map(|t| TestRecord {
                    detail: output::cap_chars(&t.detail),
                    ..t
                })
                .collect();
            GradedTask {
                prefix: task.prefix.clone(),
                name: task.name.clone(),
                points: if passed { task.points } else { 0 },
                max_points: task.points,
                status,
                stage,
                duration_ms: tests.iter().map(|t| t.duration_ms).sum(),
                failure: result
                    .and_then(|r| r.tests.iter().find(|t| t.verdict.is_bad()))
                    .map(|t| output::cap_chars(&format!("{}: {}", t.name, t.detail)))
                    .or_else(|| {
                        (status == TaskStatus::CompileError)
                            .then(|| "the crate does not compile".to_string())
                    })
                    .unwrap_or_default(),
                tests,
            }
        })
        .collect();
    let grade = LessonGrade {
        id: lesson.id.clone(),
        submitted,
        points: tasks.iter().map(|t| t.points).sum(),
        max_points: lesson.max_points(),
        stages,
        compile_error,
        tasks,
    };
    Ok((grade, build))
}

fn stage_word(run: &StageRun) -> &'static str {
    if run.skipped.is_some() {
        "skipped"
    } else if !run.compile_errors.is_empty() {
        "compile_error"
    } else if run.all_passed() {
        "passed"
    } else {
        "failed"
    }
}

/// A progress bar over students × lessons on a terminal; a line per student otherwise.
struct Progress {
    bar: Option<indicatif::ProgressBar>,
}

impl Progress {
    fn new(steps: usize) -> Progress {
        let bar = std::io::stderr().is_terminal().then(|| {
            let bar = indicatif::ProgressBar::new(steps as u64);
            let style = indicatif::ProgressStyle::with_template("{bar:30} {pos}/{len} {msg}")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar());
            bar.set_style(style);
            bar
        });
        Progress { bar }
    }

    fn working(&self, student: &str, lesson: &str) {
        if let Some(bar) = &self.bar {
            bar.set_message(format!("{student}: {lesson}"));
        }
    }

    fn done_one(&self) {
        if let Some(bar) = &self.bar {
            bar.inc(1);
        }
    }

    fn skip(&self, grade: &StudentGrade, lessons: usize) {
        match &self.bar {
            Some(bar) => bar.inc(lessons as u64),
            None => eprintln!(
                "{}: {}/{} (already graded)",
                grade.student, grade.points, grade.max_points
            ),
        }
    }

    fn student_done(&self, grade: &StudentGrade) {
        let line = format!(
            "{}: {}/{} in {:.0}s",
            grade.student, grade.points, grade.max_points, grade.total_secs
        );
        match &self.bar {
            Some(bar) => bar.println(line),
            None => eprintln!("{line}"),
        }
    }

    fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}
