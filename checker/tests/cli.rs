//! The checker, run as a learner and a maintainer would, against a small
//! fixture course (`tests/fixtures/course`) copied to a temporary directory.
//!
//! The fixture's lesson 01-demo has one task per way a task can end: a pass,
//! a failed assertion, a hang, a `process::exit(0)` and an abort. Lesson
//! 02-broken does not compile. Lesson 03-clean is sound.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

mod common;
use common::copy_dir;

struct Course {
    dir: tempfile::TempDir,
}

impl Course {
    fn new() -> Course {
        let dir = tempfile::tempdir().expect("temp dir");
        let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/course");
        copy_dir(&fixture, dir.path());
        Course { dir }
    }

    fn path(&self, relative: &str) -> PathBuf {
        self.dir.path().join(relative)
    }

    fn checker(&self, args: &[&str]) -> Output {
        self.command(args)
            .env_remove("CARGO_TARGET_DIR")
            .output()
            .expect("run the checker")
    }

    /// The checker under an exported `CARGO_TARGET_DIR`, as a learner who
    /// sets one for every project has.
    fn checker_with_target_dir(&self, args: &[&str], target: &Path) -> Output {
        self.command(args)
            .env("CARGO_TARGET_DIR", target)
            .output()
            .expect("run the checker")
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_checker"));
        command.arg("--root").arg(self.dir.path()).args(args);
        command
    }

    fn status_json(&self) -> Value {
        let out = self.checker(&["status", "--json"]);
        assert!(out.status.success(), "{}", text(&out));
        serde_json::from_slice(&out.stdout).expect("status --json prints JSON")
    }
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn text(out: &Output) -> String {
    format!(
        "stdout:\n{}\nstderr:\n{}",
        stdout(out),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn task<'a>(lesson: &'a Value, prefix: &str) -> &'a Value {
    lesson["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["prefix"] == prefix)
        .unwrap()
}

#[test]
fn verify_reports_pass_fail_timeout_early_exit_and_crash() {
    let course = Course::new();
    let out = course.checker(&["verify", "01-demo"]);
    let report = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let line = |prefix: &str| {
        report
            .lines()
            .find(|l| l.contains(prefix))
            .unwrap_or_default()
            .to_string()
    };
    assert!(line("t1  Already passing").contains("[pass]"), "{report}");
    assert!(line("t2  Failing assertion").contains("[FAIL]"), "{report}");
    assert!(
        report.contains("t2_add: panicked at exercises/01-demo/tests/demo.rs"),
        "{report}"
    );
    assert!(report.contains("left: 5"), "{report}");
    assert!(line("t3  Hangs").contains("[TIMEOUT]"), "{report}");
    assert!(report.contains("no result after 5s"), "{report}");
    assert!(line("t4  Exits early").contains("[FAIL]"), "{report}");
    assert!(
        report.contains("does the code call std::process::exit"),
        "{report}"
    );
    assert!(line("t5  Aborts").contains("[CRASH]"), "{report}");
    assert!(report.contains("killed by SIGABRT"), "{report}");
    assert!(
        report.contains("1 of 5 tasks pass (test), 1 of 15 points."),
        "{report}"
    );
}

#[test]
fn verify_shows_the_compiler_error() {
    let course = Course::new();
    let out = course.checker(&["verify", "02-broken"]);
    let report = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(report.contains("does not compile"), "{report}");
    assert!(
        report.contains("error[E0308]: mismatched types"),
        "{report}"
    );
    assert!(
        report.contains("exercises/02-broken/src/lib.rs:2:5"),
        "{report}"
    );
    assert!(report.contains("[COMPILE ERROR]"), "{report}");
}

#[test]
fn verify_passes_the_solution_and_exits_zero() {
    let course = Course::new();
    let out = course.checker(&["verify", "01-demo", "--solution"]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        stdout(&out).contains("5 of 5 tasks pass (test), 15 of 15 points."),
        "{}",
        text(&out)
    );
}

#[test]
fn two_copies_of_the_course_under_one_cargo_target_dir_keep_their_own_verdicts() {
    // The stubs' files are older than the solved copy's build: cargo alone
    // would take them as fresh and run the solved copy's test binary.
    let stubs = Course::new();
    let solved = Course::new();
    solve(&solved, "03-clean");
    let shared = tempfile::tempdir().expect("temp dir");

    let out = solved.checker_with_target_dir(&["verify", "03-clean"], shared.path());
    assert!(
        out.status.success(),
        "the solved copy passes: {}",
        text(&out)
    );
    let out = stubs.checker_with_target_dir(&["verify", "03-clean"], shared.path());
    assert!(
        !out.status.success() && stdout(&out).contains("0 of 1 tasks pass"),
        "the untouched stubs were graded with the solved copy's binary: {}",
        text(&out)
    );
}

#[test]
fn status_counts_tasks_and_points_and_catches_up_with_edits() {
    let course = Course::new();
    let report = course.status_json();
    let demo = &report["lessons"][0];
    assert_eq!(demo["id"], "01-demo");
    assert_eq!(
        (demo["tasks_passed"].as_u64(), demo["tasks_total"].as_u64()),
        (Some(1), Some(5))
    );
    assert_eq!(
        (demo["points"].as_u64(), demo["max_points"].as_u64()),
        (Some(1), Some(15))
    );
    assert_eq!(task(demo, "t3_")["status"], "timed_out");
    assert_eq!(task(demo, "t5_")["status"], "crashed");
    let broken = &report["lessons"][1];
    assert_eq!(broken["stages"]["test"], "compile_error");
    assert!(
        broken["compile_errors"][0]
            .as_str()
            .unwrap()
            .contains("mismatched types")
    );
    assert_eq!(report["points"], 1);

    // The learner copies the solution over the stub: every task now passes.
    std::fs::copy(
        course.path("solutions/01-demo/src/lib.rs"),
        course.path("exercises/01-demo/src/lib.rs"),
    )
    .unwrap();
    let report = course.status_json();
    let demo = &report["lessons"][0];
    assert_eq!(demo["tasks_passed"], 5);
    assert_eq!(demo["points"], 15);
    assert_eq!(demo["stages"]["test"], "passed");

    // A damaged or deleted progress file is rebuilt by running the tests again.
    let state = course.path(".checker/state.json");
    for damage in ["corrupt", "delete"] {
        if damage == "corrupt" {
            std::fs::write(&state, "{\"version\": 1, \"runs\": [tru").unwrap();
        } else {
            std::fs::remove_file(&state).unwrap();
        }
        let report = course.status_json();
        assert_eq!(report["lessons"][0]["tasks_passed"], 5, "after {damage}");
        assert_eq!(report["points"], 15, "after {damage}");
        assert!(
            state.is_file(),
            "the rebuilt progress is saved after {damage}"
        );
    }
}

#[test]
fn status_prints_a_table_a_summary_and_the_next_step() {
    let course = Course::new();
    let out = course.checker(&[]);
    let report = stdout(&out);
    assert!(out.status.success(), "{}", text(&out));
    let row = report
        .lines()
        .find(|l| l.starts_with("01-demo"))
        .unwrap_or_default();
    let cells: Vec<&str> = row.split_whitespace().collect();
    assert_eq!(cells, ["01-demo", "1/5", "1/15", "FAIL", "-"], "{report}");
    let clean = report
        .lines()
        .find(|l| l.starts_with("03-clean"))
        .unwrap_or_default();
    assert!(clean.ends_with("FAIL         not run"), "{report}");
    assert!(
        report.contains("Stages marked `not run` are optional"),
        "{report}"
    );
    assert!(
        report
            .lines()
            .any(|l| l.starts_with("02-broken") && l.contains("BUILD ERROR")),
        "{report}"
    );
    assert!(
        report.contains("Progress: 1 of 7 tasks, 1 of 30 points."),
        "{report}"
    );
    assert!(
        report.contains("Next: 01-demo task t2 (Failing assertion)"),
        "{report}"
    );
}

#[test]
fn hints_come_one_at_a_time_and_survive_a_corrupt_state_file() {
    let course = Course::new();
    let first = stdout(&course.checker(&["hint", "01-demo", "t2"]));
    assert!(
        first.contains("Hint 1 of 2") && first.contains("first t2 hint"),
        "{first}"
    );
    let second = stdout(&course.checker(&["hint", "01-demo", "2"]));
    assert!(
        second.contains("Hint 2 of 2") && second.contains("second t2 hint"),
        "{second}"
    );
    let again = stdout(&course.checker(&["hint", "01-demo", "t2_"]));
    assert!(
        again.contains("second t2 hint") && again.contains("last hint"),
        "{again}"
    );

    std::fs::write(course.path(".checker/state.json"), "{{{ garbage").unwrap();
    let out = course.checker(&["hint", "01-demo", "t2"]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(stdout(&out).contains("first t2 hint"), "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("is corrupt"),
        "{}",
        text(&out)
    );
}

#[test]
fn hint_without_a_task_picks_the_first_unfinished_one() {
    let course = Course::new();
    assert!(course.checker(&["verify", "01-demo"]).status.code() == Some(1));
    let out = stdout(&course.checker(&["hint", "01-demo"]));
    assert!(out.contains("01-demo t2 (Failing assertion)"), "{out}");
}

#[test]
fn dev_check_passes_a_sound_lesson() {
    let course = Course::new();
    let out = course.checker(&["dev", "check", "03-clean"]);
    assert!(out.status.success(), "{}", text(&out));
    let report = stdout(&out);
    assert!(
        report.contains("ok    solution passes (test): 1/1 task(s)"),
        "{report}"
    );
    assert!(report.contains("ok    stub fails every task"), "{report}");
    assert!(report.contains("1 include(s) resolve"), "{report}");
    assert!(report.contains("ok    known bugs: 4 entries"), "{report}");
}

#[test]
fn dev_bugs_names_every_missed_and_broken_entry() {
    let course = Course::new();
    let out = course.checker(&["dev", "bugs", "03-clean"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let report = stdout(&out);
    for expected in [
        "caught  t1     adds",
        "[test] t1_square: assertion `left == right` failed",
        "1 of 4 known bug(s) caught",
        "MISSED 03-clean/invisible: every t1 test passed (test)",
        "BROKEN 03-clean/stale: does not apply",
        "BROKEN 03-clean/typo: does not compile, so it proves nothing",
    ] {
        assert!(report.contains(expected), "no `{expected}` in:\n{report}");
    }
    let solution = std::fs::read_to_string(course.path("solutions/03-clean/src/lib.rs")).unwrap();
    assert!(
        solution.contains("x * x"),
        "the pristine solution was patched: {solution}"
    );
}

#[test]
fn dev_check_rejects_unsound_lessons() {
    let course = Course::new();
    let out = course.checker(&["dev", "check", "01-demo", "02-broken"]);
    let report = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        report.contains("the stub fails no stage (test) of: t1"),
        "{report}"
    );
    assert!(
        report.contains("tests that belong to no task: demo::untagged_helper_check"),
        "{report}"
    );
    assert!(report.contains("the stub must compile"), "{report}");
}

#[test]
fn dev_check_catches_a_mistyped_book_include() {
    let course = Course::new();
    let chapter = course.path("book/src/03-clean.md");
    let text_before = std::fs::read_to_string(&chapter).unwrap();
    std::fs::write(&chapter, text_before.replace(":square}}", ":sqare}}")).unwrap();
    let out = course.checker(&["dev", "check", "03-clean"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        stdout(&out).contains("no `ANCHOR: sqare`"),
        "{}",
        text(&out)
    );
}

#[test]
fn the_miri_stage_is_skipped_with_the_install_command_when_miri_is_missing() {
    let course = Course::new();
    // A `cargo` on PATH that knows no toolchain stands in for a machine
    // without nightly; builds still use the real cargo through $CARGO.
    let bin = course.path("fake-bin");
    std::fs::create_dir_all(&bin).unwrap();
    let fake = bin.join("cargo");
    std::fs::write(
        &fake,
        "#!/bin/sh\necho 'error: toolchain nightly is not installed' >&2\nexit 1\n",
    )
    .unwrap();
    std::fs::set_permissions(&fake, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let real_cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_string());
    let out = Command::new(env!("CARGO_BIN_EXE_checker"))
        .arg("--root")
        .arg(course.path(""))
        .args(["verify", "03-clean", "--solution", "--stage", "miri"])
        .env("PATH", path)
        .env("CARGO", real_cargo)
        .output()
        .unwrap();
    let report = stdout(&out);
    assert!(
        out.status.success(),
        "a skipped stage is not a failure\n{}",
        text(&out)
    );
    assert!(
        report.contains("stage miri: skipped (not installed; install it with `rustup component add --toolchain nightly miri rust-src`)"),
        "{report}"
    );
}

#[test]
fn outside_a_course_the_error_says_what_to_do() {
    let empty = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_checker"))
        .current_dir(empty.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("no course.toml found") && err.contains("--root"),
        "{err}"
    );
}

#[test]
fn an_unknown_lesson_lists_the_real_ones() {
    let course = Course::new();
    let out = course.checker(&["verify", "99"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("no lesson `99`") && err.contains("01-demo, 02-broken, 03-clean"),
        "{err}"
    );
}

/// Pids of processes whose command line contains every needle.
fn pids_running(needles: &[&str]) -> Vec<u32> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            std::fs::read(format!("/proc/{pid}/cmdline"))
                .map(|c| {
                    let line = String::from_utf8_lossy(&c).into_owned();
                    needles.iter().all(|n| line.contains(n))
                })
                .unwrap_or(false)
        })
        .collect()
}

/// Polls `condition` every 50 ms for up to 60 s.
fn eventually(mut condition: impl FnMut() -> bool) -> bool {
    for _ in 0..1200 {
        if condition() {
            return true;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    false
}

#[test]
fn ctrl_c_stops_the_tests_it_started() {
    let course = Course::new();
    let mut checker = course
        .command(&["verify", "01-demo", "--timeout", "600"])
        .env_remove("CARGO_TARGET_DIR")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // The hanging test's process: the fixture's test binary running t3_answer.
    let target = course.path("target").display().to_string();
    let hanging = [target.as_str(), "t3_answer"];
    assert!(
        eventually(|| !pids_running(&hanging).is_empty()),
        "the hanging test never started"
    );

    let pid = libc::pid_t::try_from(checker.id()).unwrap();
    // SAFETY: sending a signal to our own child.
    assert_eq!(unsafe { libc::kill(pid, libc::SIGINT) }, 0);
    let status = checker.wait().unwrap();
    assert_eq!(status.code(), Some(130));
    assert!(
        eventually(|| pids_running(&hanging).is_empty()),
        "a test outlived the checker"
    );
}

#[test]
fn bench_compares_the_learner_with_the_reference_and_never_fails() {
    let course = Course::new();
    let out = course.checker(&["bench", "03-clean"]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        stdout(&out).contains("your implementation did not finish the benchmark"),
        "{}",
        text(&out)
    );
    assert!(
        stdout(&out).contains("not yet implemented"),
        "{}",
        text(&out)
    );

    std::fs::copy(
        course.path("solutions/03-clean/src/lib.rs"),
        course.path("exercises/03-clean/src/lib.rs"),
    )
    .unwrap();
    let out = course.checker(&["bench", "03-clean"]);
    let report = stdout(&out);
    assert!(out.status.success(), "{}", text(&out));
    let row = report
        .lines()
        .find(|l| l.starts_with("squares"))
        .unwrap_or_default();
    assert!(
        row.contains("ops/s") && row.trim_end().ends_with('x'),
        "{report}"
    );
}

#[test]
fn solution_waits_for_passing_tasks_unless_forced_and_records_the_force() {
    let course = Course::new();
    let out = course.checker(&["solution", "03-clean"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        stdout(&out).contains("0 of 1 tasks of 03-clean pass"),
        "{}",
        text(&out)
    );
    assert!(
        !stdout(&out).contains("x * x"),
        "the solution leaked: {}",
        text(&out)
    );

    let out = course.checker(&["solution", "03-clean", "--force"]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        stdout(&out).contains("solutions/03-clean/src/lib.rs") && stdout(&out).contains("x * x"),
        "{}",
        text(&out)
    );
    let state: Value =
        serde_json::from_str(&std::fs::read_to_string(course.path(".checker/state.json")).unwrap())
            .unwrap();
    assert!(
        state["solutions_forced"]["03-clean"].as_u64().is_some(),
        "{state:#}"
    );

    std::fs::copy(
        course.path("solutions/03-clean/src/lib.rs"),
        course.path("exercises/03-clean/src/lib.rs"),
    )
    .unwrap();
    let out = course.checker(&["solution", "03-clean"]);
    assert!(
        out.status.success() && stdout(&out).contains("x * x"),
        "{}",
        text(&out)
    );
    assert!(!stdout(&out).contains("--force before"), "{}", text(&out));
}

fn git(dir: &Path, args: &[&str]) {
    let ok = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(["-c", "user.name=t", "-c", "user.email=t@example.com"])
        .args(args)
        .output()
        .unwrap()
        .status
        .success();
    assert!(ok, "git {args:?}");
}

/// Puts the course under git, as a learner's clone is.
fn commit_course(course: &Course) {
    git(course.path("").as_path(), &["init", "-q"]);
    git(course.path("").as_path(), &["add", "."]);
    git(course.path("").as_path(), &["commit", "-qm", "course"]);
}

/// The backup folders `reset` made.
fn backups(course: &Course) -> Vec<PathBuf> {
    std::fs::read_dir(course.path(".checker/backups"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect()
}

#[test]
fn reset_restores_the_stub_and_keeps_the_learners_files() {
    let course = Course::new();
    commit_course(&course);
    let lib = course.path("exercises/03-clean/src/lib.rs");
    let stub = std::fs::read_to_string(&lib).unwrap();
    std::fs::write(&lib, "// my work in progress\n").unwrap();
    std::fs::write(
        course.path("exercises/03-clean/src/extra.rs"),
        "// a module of mine\n",
    )
    .unwrap();

    // Without a terminal and without --yes nothing changes.
    let out = course.checker(&["reset", "03-clean"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert_eq!(
        std::fs::read_to_string(&lib).unwrap(),
        "// my work in progress\n"
    );

    let out = course.checker(&["reset", "03-clean", "--yes"]);
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(std::fs::read_to_string(&lib).unwrap(), stub);
    assert!(!course.path("exercises/03-clean/src/extra.rs").exists());
    let backups = backups(&course);
    assert_eq!(backups.len(), 1, "{backups:?}");
    assert_eq!(
        std::fs::read_to_string(backups[0].join("src/lib.rs")).unwrap(),
        "// my work in progress\n"
    );
    assert_eq!(
        std::fs::read_to_string(backups[0].join("src/extra.rs")).unwrap(),
        "// a module of mine\n"
    );
}

#[test]
fn reset_of_one_task_restores_only_its_files_after_a_backup() {
    let course = Course::new();
    commit_course(&course);
    let lib = course.path("exercises/03-clean/src/lib.rs");
    let stub = std::fs::read_to_string(&lib).unwrap();
    std::fs::write(&lib, "// my attempt at t1\n").unwrap();
    let extra = course.path("exercises/03-clean/src/extra.rs");
    std::fs::write(&extra, "// kept\n").unwrap();

    let out = course.checker(&["reset", "03", "--task", "t1", "--yes"]);
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(std::fs::read_to_string(&lib).unwrap(), stub);
    assert_eq!(
        std::fs::read_to_string(&extra).unwrap(),
        "// kept\n",
        "files of other tasks stay"
    );
    let backups = backups(&course);
    assert_eq!(backups.len(), 1, "{backups:?}");
    assert!(
        backups[0]
            .file_name()
            .unwrap()
            .to_string_lossy()
            .starts_with("03-clean-t1-"),
        "{backups:?}"
    );
    assert_eq!(
        std::fs::read_to_string(backups[0].join("src/lib.rs")).unwrap(),
        "// my attempt at t1\n"
    );

    // A task that names no files can only be reset with its lesson.
    let out = course.checker(&["reset", "01", "--task", "t2", "--yes"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        text(&out).contains("names no files in course.toml"),
        "{}",
        text(&out)
    );
}

#[test]
fn reset_without_git_history_says_so_and_changes_nothing() {
    let course = Course::new();
    let lib = course.path("exercises/03-clean/src/lib.rs");
    std::fs::write(&lib, "// mine\n").unwrap();
    let out = course.checker(&["reset", "03-clean", "--yes"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("cannot find the pristine stub"),
        "{}",
        text(&out)
    );
    assert_eq!(std::fs::read_to_string(&lib).unwrap(), "// mine\n");
}

/// A checker running in a pseudo-terminal, as a learner's shell runs it.
struct Terminal {
    master: std::fs::File,
    child: std::process::Child,
    screen: std::sync::Arc<std::sync::Mutex<Vec<u8>>>,
}

impl Terminal {
    fn spawn(course: &Course, args: &[&str], env: &[(&str, &str)]) -> Terminal {
        use std::os::fd::{FromRawFd, OwnedFd};
        let (mut master, mut slave) = (0, 0);
        // SAFETY: openpty writes two descriptors into the given ints; the
        // name, termios and winsize pointers may be null.
        let status = unsafe {
            libc::openpty(
                &mut master,
                &mut slave,
                std::ptr::null_mut(),
                std::ptr::null(),
                std::ptr::null(),
            )
        };
        assert_eq!(status, 0, "openpty failed");
        // SAFETY: both descriptors were just opened and are owned here.
        let (master, slave) =
            unsafe { (OwnedFd::from_raw_fd(master), OwnedFd::from_raw_fd(slave)) };
        let mut command = Command::new(env!("CARGO_BIN_EXE_checker"));
        command
            .arg("--root")
            .arg(course.dir.path())
            .args(args)
            .env_remove("CARGO_TARGET_DIR")
            .env_remove("NO_COLOR")
            .env_remove("CHECKER_POLL")
            .env("TERM", "xterm")
            .stdin(slave.try_clone().unwrap())
            .stdout(slave.try_clone().unwrap())
            .stderr(slave);
        for (key, value) in env {
            command.env(key, value);
        }
        let child = command.spawn().expect("start the checker in a pty");
        let master = std::fs::File::from(master);
        let screen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let mut reader = master.try_clone().unwrap();
        let sink = screen.clone();
        std::thread::spawn(move || {
            use std::io::Read;
            let mut buf = [0u8; 4096];
            // EIO once the child has exited and the slave is closed.
            while let Ok(n) = reader.read(&mut buf) {
                if n == 0 {
                    break;
                }
                sink.lock().unwrap().extend_from_slice(&buf[..n]);
            }
        });
        Terminal {
            master,
            child,
            screen,
        }
    }

    fn screen(&self) -> String {
        String::from_utf8_lossy(&self.screen.lock().unwrap()).into_owned()
    }

    /// Waits (up to a generous deadline) until `needle` is on the screen.
    fn expect(&self, needle: &str) {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
        while std::time::Instant::now() < deadline {
            if self.screen().contains(needle) {
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        panic!("never saw {needle:?} on the screen:\n{}", self.screen());
    }

    fn press(&mut self, key: &str) {
        use std::io::Write;
        self.master.write_all(key.as_bytes()).unwrap();
    }

    /// Waits for the checker to exit and returns whether it succeeded.
    fn finish(mut self) -> bool {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status.success();
            }
            if std::time::Instant::now() > deadline {
                let _ = self.child.kill();
                panic!("the checker did not exit:\n{}", self.screen());
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
    }
}

fn solve(course: &Course, lesson: &str) {
    std::fs::copy(
        course.path(&format!("solutions/{lesson}/src/lib.rs")),
        course.path(&format!("exercises/{lesson}/src/lib.rs")),
    )
    .unwrap();
}

#[test]
fn watch_reruns_on_save_gives_hints_and_moves_on() {
    let course = Course::new();
    let mut term = Terminal::spawn(&course, &["watch", "03"], &[]);
    term.expect("t1 · Square");
    assert!(
        term.screen().contains("\x1b[31m[FAIL]"),
        "a terminal gets colours:\n{}",
        term.screen()
    );
    term.expect("Keys: h hint");
    term.press("h");
    term.expect("Hint 1 of 1 for 03-clean t1 (Square)");
    solve(&course, "03-clean");
    term.expect("Lesson 03-clean is done.");
    term.expect("ran after exercises/03-clean/src/lib.rs changed");
    // The next unfinished lesson starts at once; `q` leaves even mid-run.
    term.expect("01-demo");
    term.press("q");
    assert!(term.finish(), "q quits cleanly");
    let state = std::fs::read_to_string(course.path(".checker/state.json")).unwrap();
    assert!(
        state.contains("03-clean"),
        "the hint seen is saved: {state}"
    );
}

#[test]
fn watch_can_poll_and_prints_plain_text_with_no_color() {
    let course = Course::new();
    let mut term = Terminal::spawn(
        &course,
        &["watch", "03", "--poll", "100"],
        &[("NO_COLOR", "1")],
    );
    term.expect("(polling every 100 ms)");
    term.expect("Keys: h hint");
    solve(&course, "03-clean");
    term.expect("Lesson 03-clean is done.");
    term.press("q");
    let screen = term.screen();
    assert!(term.finish(), "q quits cleanly");
    assert!(
        !screen.contains('\x1b'),
        "NO_COLOR means no escape codes at all:\n{screen}"
    );
}

#[test]
fn dev_new_scaffolds_a_lesson_that_dev_check_rejects_until_it_is_real() {
    let course = Course::new();
    let out = course.checker(&["dev", "new", "04-fresh", "--title", "Fresh start"]);
    assert!(out.status.success(), "{}", text(&out));
    for file in [
        "exercises/04-fresh/src/lib.rs",
        "exercises/04-fresh/tests/fresh.rs",
        "solutions/04-fresh/src/lib.rs",
        "book/src/04-fresh.md",
    ] {
        assert!(course.path(file).is_file(), "dev new writes {file}");
    }
    let summary = std::fs::read_to_string(course.path("book/src/SUMMARY.md")).unwrap();
    assert!(
        summary.ends_with("- [04 · Fresh start](04-fresh.md)\n"),
        "{summary}"
    );

    // The workspace and the manifest know the lesson: it shows up in `list`.
    let out = course.checker(&["list"]);
    assert!(stdout(&out).contains("04-fresh"), "{}", text(&out));

    let out = course.checker(&["dev", "check", "04-fresh"]);
    let report = stdout(&out);
    assert!(
        !out.status.success(),
        "a scaffold is not a lesson yet:\n{report}"
    );
    for problem in [
        "FAIL  hints:",
        "tasks whose name or hints are still `TODO(scaffold)` placeholders",
        "FAIL  chapter:",
        "`TODO(scaffold)` placeholder(s)",
        "FAIL  solution passes (test)",
    ] {
        assert!(
            report.contains(problem),
            "expected {problem:?} in:\n{report}"
        );
    }
    assert!(
        report.contains("ok    stub fails every task"),
        "the scaffold's own stub is wired right:\n{report}"
    );

    // Names are checked, and nothing is overwritten.
    let out = course.checker(&["dev", "new", "04-again"]);
    assert!(!out.status.success());
    assert!(
        text(&out).contains("lesson number 04 is taken by 04-fresh"),
        "{}",
        text(&out)
    );
    let out = course.checker(&["dev", "new", "Bad_Name"]);
    assert!(
        text(&out).contains("is not a lesson name"),
        "{}",
        text(&out)
    );
}
