//! `checker grade` over a class of nine students built in a temporary
//! directory from the real course's lesson 01-threads: the perfect, the
//! empty, the broken, the cheats and the hostile.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

const LESSON: &str = "01-threads";
/// Task points of 01-threads, from course.toml: t1, t2, t3, t4.
const POINTS: [u64; 4] = [10, 15, 10, 15];
const FULL: u64 = 50;

fn course_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// A student folder laid out as a copy of `exercises/`, with 01-threads's
/// tests and Cargo.toml as shipped and `src/lib.rs` as given.
fn student(class: &Path, name: &str, lib_rs: &str) -> PathBuf {
    let root = course_root();
    let lesson = class.join(name).join("exercises").join(LESSON);
    copy_dir(&root.join("exercises").join(LESSON), &lesson);
    std::fs::write(lesson.join("src/lib.rs"), lib_rs).unwrap();
    lesson
}

/// The reference solution with `from` replaced by `to` (which must occur).
fn solution_with(from: &str, to: &str) -> String {
    let text = std::fs::read_to_string(
        course_root()
            .join("solutions")
            .join(LESSON)
            .join("src/lib.rs"),
    )
    .unwrap();
    assert!(
        text.contains(from),
        "the solution no longer contains {from:?}; update this fixture"
    );
    text.replacen(from, to, 1)
}

fn stub() -> String {
    std::fs::read_to_string(
        course_root()
            .join("exercises")
            .join(LESSON)
            .join("src/lib.rs"),
    )
    .unwrap()
}

/// The strongest forgery: libtest's exact success lines for whichever test
/// is running (libtest names the test's thread after it), written to the
/// real stdout, then exit(0) before libtest can say otherwise.
fn fake_pass() -> String {
    let fake = stub().replacen(
        "{\n    todo!(",
        "{\n    {\n        use std::io::Write;\n        let name = std::thread::current().name().unwrap_or(\"\").to_string();\n        \
         println!(\"test {name} ... ok\");\n        \
         let _ = write!(std::io::stdout(), \"ok\\n\\ntest {name} ... ok\\n\\ntest result: ok. 1 passed; 0 failed\\n\");\n        \
         let _ = std::io::stdout().flush();\n        std::process::exit(0);\n    }\n    #[allow(unreachable_code)]\n    todo!(",
        1,
    );
    assert_ne!(
        fake,
        stub(),
        "the stub no longer has a todo!() body to prefix"
    );
    fake
}

/// The reference solution with `std::process::exit(0)` in task 2's function.
fn exits_in_t2() -> String {
    solution_with(
        "    let ranges = chunk_ranges(items.len(), workers)?;",
        "    std::process::exit(0);\n    #[allow(unreachable_code)]\n    let ranges = chunk_ranges(items.len(), workers)?;",
    )
}

/// exec of /bin/echo printing libtest's line, in safe Rust, in every task,
/// through a renamed `Command`.
fn exec_echo() -> String {
    stub().replace(
        "{\n    todo!(",
        "{\n    {\n        use std::os::unix::process::CommandExt;\n        use std::process::{Command as Cmd};\n        \
         let name = std::thread::current().name().unwrap_or(\"\").to_string();\n        \
         let _ = Cmd::new(\"/bin/echo\").arg(format!(\"test {name} ... ok\")).exec();\n    }\n    #[allow(unreachable_code)]\n    todo!(",
    )
}

/// A constructor that prints forged lines and exits 0 before main.
fn ctor_exit() -> String {
    format!(
        "{}\n#[used]\n#[unsafe(link_section = \".init_array\")]\nstatic FORGE: extern \"C\" fn() = forge;\n\
         extern \"C\" fn forge() {{\n    for arg in std::env::args().skip(1) {{\n        println!(\"test {{arg}} ... ok\");\n    }}\n    \
         std::process::exit(0);\n}}\n",
        stub()
    )
}

/// The attack test's limit on one build (the grader's default is 600 s):
/// room for the first build, with its dependencies, on a busy machine.
const BUILD_LIMIT: Duration = Duration::from_secs(45);

/// Whether the grader caps a test's memory here: as root, with cgroup v1's
/// `memory` and `pids` controllers (see `checker/src/sandbox/cgroup.rs`).
fn cgroup_caps_here() -> bool {
    is_root()
        && ["memory", "pids"].iter().all(|c| {
            Path::new("/sys/fs/cgroup")
                .join(c)
                .join("cgroup.procs")
                .is_file()
        })
}

/// Task 2's `chunk_ranges(_, 0)` starts four children of the test, each of
/// which touches 1.5 GiB and holds it (6 GiB together, over a per-test cap
/// of 4 GiB), and fails with how many held their share at once, and how
/// many ever did.
fn memory_together() -> String {
    solution_with(
        "    if workers == 0 {\n        return Err(ThreadsError::NoWorkers);",
        "    if workers == 0 {\n        \
         const SHARE: usize = 1536 << 20;\n        \
         let flag = |pid: u32| std::env::temp_dir().join(format!(\"holding-{pid}\"));\n        \
         if std::env::var_os(\"HOG\").is_some() {\n            \
         let mut memory = vec![0u8; SHARE];\n            \
         for i in (0..SHARE).step_by(4096) {\n                memory[i] = 1;\n            }\n            \
         std::hint::black_box(&memory);\n            \
         let _ = std::fs::write(flag(std::process::id()), \"\");\n            \
         std::thread::sleep(std::time::Duration::from_secs(60));\n        }\n        \
         let name = std::thread::current().name().unwrap_or(\"\").to_string();\n        \
         let me = std::env::current_exe().unwrap();\n        \
         let mut children: Vec<std::process::Child> = (0..4)\n            \
         .filter_map(|_| {\n                \
         std::process::Command::new(&me)\n                    \
         .args([\"--exact\", &name, \"--test-threads\", \"1\"])\n                    \
         .env(\"HOG\", \"1\")\n                    \
         .stdout(std::process::Stdio::null())\n                    \
         .stderr(std::process::Stdio::null())\n                    \
         .spawn()\n                    \
         .ok()\n            })\n            \
         .collect();\n        \
         let started = std::time::Instant::now();\n        \
         let mut together = 0;\n        \
         while started.elapsed() < std::time::Duration::from_secs(8) {\n            \
         let mut settled = 0;\n            \
         together = 0;\n            \
         for child in &mut children {\n                \
         let alive = matches!(child.try_wait(), Ok(None));\n                \
         let holding = flag(child.id()).exists();\n                \
         together += usize::from(alive && holding);\n                \
         settled += usize::from(!alive || holding);\n            }\n            \
         if settled == children.len() {\n                break;\n            }\n            \
         std::thread::sleep(std::time::Duration::from_millis(50));\n        }\n        \
         let ever = children.iter().filter(|c| flag(c.id()).exists()).count();\n        \
         for child in &mut children {\n            let _ = child.kill();\n            let _ = child.wait();\n        }\n        \
         panic!(\"children holding {} MiB each at once: {together} of {}; {ever} held it at some time\", SHARE >> 20, children.len());\n    }\n    \
         if workers == 0 {\n        return Err(ThreadsError::NoWorkers);",
    )
}

/// Builds the class; returns the students whose grades this machine can judge.
fn build_class(class: &Path) -> Vec<&'static str> {
    let mut students = vec![
        "perfect",
        "empty",
        "broken",
        "edited-test",
        "loops",
        "fake-pass",
        "exits",
        "deleted-test",
    ];
    student(class, "perfect", &solution_with("", ""));
    std::fs::create_dir_all(class.join("empty")).unwrap();
    student(
        class,
        "broken",
        &format!(
            "{}\nfn oops() -> u32 {{ \"not a number\" }}\n",
            solution_with("", "")
        ),
    );
    let edited = student(class, "edited-test", &stub());
    std::fs::write(
        edited.join("tests/threads.rs"),
        "#[test]\nfn t1_everything() {\n    assert!(true);\n}\n",
    )
    .unwrap();
    student(
        class,
        "loops",
        &solution_with(
            "    let handles = spawn_named(count, work)?;\n    let mut results",
            "    loop {\n        std::hint::spin_loop();\n    }\n    #[allow(unreachable_code)]\n    let handles = spawn_named(count, work)?;\n    let mut results",
        ),
    );
    student(class, "fake-pass", &fake_pass());
    student(class, "exits", &exits_in_t2());
    // Not one of the nine: a damaged archive is an error for that student only.
    std::fs::write(
        class.join("corrupt.zip"),
        b"PK\x03\x04 this is not really a zip",
    )
    .unwrap();
    students.push("corrupt");
    let deleted = student(class, "deleted-test", &solution_with("", ""));
    std::fs::remove_file(deleted.join("tests/threads.rs")).unwrap();
    if is_root() {
        // A fork bomb in a graded function; it gives up by itself at 5,000
        // processes, so a broken sandbox cannot take the machine down.
        student(
            class,
            "forks",
            &solution_with(
                "    if workers == 0 {\n        return Err(ThreadsError::NoWorkers);",
                "    static STARTED: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);\n    \
                 while STARTED.fetch_add(1, std::sync::atomic::Ordering::Relaxed) < 5_000 {\n        \
                 if std::process::Command::new(\"sleep\").arg(\"60\").spawn().is_err() {\n            break;\n        }\n    }\n    \
                 if workers == 0 {\n        return Err(ThreadsError::NoWorkers);",
            ),
        );
        students.push("forks");
    }
    students
}

/// As root the tests run under other uids, which cannot enter a private
/// temporary directory: the work area goes in a folder of its own in /tmp.
struct WorkDir(PathBuf);

impl WorkDir {
    fn new() -> WorkDir {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos();
        WorkDir(
            std::env::temp_dir().join(format!("checker-grade-test-{}-{nanos}", std::process::id())),
        )
    }
}

impl Drop for WorkDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// `checker grade` of lesson 01 over `class`, with a 4 s test timeout.
fn grade_command(class: &Path, out: &Path, work: &Path) -> Command {
    grade_command_with_timeout(class, out, work, 4)
}

fn grade_command_with_timeout(class: &Path, out: &Path, work: &Path, secs: u32) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_checker"));
    command
        .arg("--root")
        .arg(course_root())
        .args(["grade", "--lessons", LESSON, "--timeout"])
        .arg(secs.to_string())
        .arg("--submissions")
        .arg(class)
        .arg("--out")
        .arg(out)
        .arg("--work")
        .arg(work)
        .env_remove("CARGO_TARGET_DIR");
    command
}

/// Runs `command`, killed (and the test failed) past `limit`.
fn output_within(mut command: Command, limit: Duration) -> std::process::Output {
    let mut child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if started.elapsed() > limit {
            let _ = child.kill();
            panic!("checker grade ran past {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    child.wait_with_output().unwrap()
}

fn run_grade(class: &Path, out: &Path, work: &Path, limit: Duration) -> std::process::Output {
    output_within(grade_command(class, out, work), limit)
}

/// Both output streams, for assertion messages.
fn log_of(output: &std::process::Output) -> String {
    format!(
        "{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

fn grade_of<'a>(grades: &'a Value, student: &str) -> &'a Value {
    grades["students"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["student"] == student)
        .unwrap()
}

fn task_points(grade: &Value) -> Vec<u64> {
    grade["lessons"][0]["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["points"].as_u64().unwrap())
        .collect()
}

fn findings(grade: &Value) -> Vec<(String, String)> {
    grade["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["kind"].as_str().unwrap().to_string(),
                f["detail"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn finding(kind: &str, detail: &str) -> (String, String) {
    (kind.to_string(), detail.to_string())
}

#[test]
fn grades_a_class_of_nine_exactly() {
    let dir = tempfile::tempdir().unwrap();
    let class = dir.path().join("class");
    let students = build_class(&class);
    let out = dir.path().join("report");
    let work = WorkDir::new();
    let output = run_grade(&class, &out, &work.0, Duration::from_secs(900));
    let log = log_of(&output);
    assert!(output.status.success(), "{log}");

    let grades: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("grades.json")).unwrap()).unwrap();
    let [t1, t2, t3, t4] = POINTS;
    let expect = |name: &str, points: Vec<u64>, found: Vec<(String, String)>| {
        let grade = grade_of(&grades, name);
        assert_eq!(task_points(grade), points, "{name}: {grade:#}");
        assert_eq!(findings(grade), found, "{name}");
        assert_eq!(
            grade["points"].as_u64().unwrap(),
            points.iter().sum::<u64>(),
            "{name}"
        );
    };
    expect("perfect", vec![t1, t2, t3, t4], vec![]);
    expect("empty", vec![0, 0, 0, 0], vec![]);
    assert!(
        grade_of(&grades, "empty")["error"]
            .as_str()
            .unwrap()
            .contains("no lesson folders")
    );
    expect("broken", vec![0, 0, 0, 0], vec![]);
    assert!(
        grade_of(&grades, "broken")["lessons"][0]["compile_error"]
            .as_str()
            .unwrap()
            .contains("mismatched types")
    );
    expect(
        "edited-test",
        vec![0, 0, 0, 0],
        vec![finding("edited_test", "edited tests/threads.rs")],
    );
    expect("loops", vec![0, t2, t3, t4], vec![]);
    assert_eq!(
        grade_of(&grades, "loops")["lessons"][0]["tasks"][0]["status"],
        "timed_out"
    );
    expect(
        "fake-pass",
        vec![0, 0, 0, 0],
        vec![
            finding("suspicious_code", "src/lib.rs calls std::process::exit"),
            finding("suspicious_code", "src/lib.rs writes to stdout directly"),
        ],
    );
    let forged = &grade_of(&grades, "fake-pass")["lessons"][0]["tasks"][0]["failure"];
    assert!(
        forged.as_str().unwrap().contains("on the test's thread"),
        "{forged}"
    );
    expect(
        "exits",
        vec![t1, 0, t3, t4],
        vec![finding(
            "suspicious_code",
            "src/lib.rs calls std::process::exit",
        )],
    );
    assert!(
        grade_of(&grades, "exits")["lessons"][0]["tasks"][1]["failure"]
            .as_str()
            .unwrap()
            .contains("process::exit")
    );
    expect(
        "deleted-test",
        vec![t1, t2, t3, t4],
        vec![finding("deleted_test", "deleted tests/threads.rs")],
    );
    if students.contains(&"forks") {
        // The process cap makes the fork bomb's own thread spawns fail.
        expect(
            "forks",
            vec![t1, 0, t3, t4],
            vec![finding("suspicious_code", "src/lib.rs starts processes")],
        );
        let uids: Vec<String> = grades["sandbox_uids"]
            .as_array()
            .unwrap()
            .iter()
            .map(|u| u.to_string())
            .collect();
        assert!(
            !uids.is_empty(),
            "as root the grader reports the uids it used"
        );
        // Live processes only: a sandbox's exited namespace init can stay
        // a zombie until the machine's init reaps it.
        let leftovers = Command::new("pgrep")
            .args(["-r", "D,R,S,T,t", "-u", &uids.join(",")])
            .output()
            .unwrap();
        assert!(
            leftovers.stdout.is_empty(),
            "sandboxed processes outlived the run: {:?}",
            leftovers
        );
    }

    // grades.csv: one row per student, a column per lesson and the total.
    let csv = std::fs::read_to_string(out.join("grades.csv")).unwrap();
    let mut lines = csv.lines();
    assert_eq!(
        lines.next().unwrap(),
        "student,01-threads,total,max,findings,error"
    );
    assert!(
        csv.lines()
            .any(|l| l == format!("perfect,{FULL},{FULL},{FULL},0,")),
        "{csv}"
    );
    assert!(
        csv.lines().any(|l| l.starts_with("exits,35,35,50,1,")),
        "{csv}"
    );
    assert_eq!(csv.lines().count(), students.len() + 1, "{csv}");

    // Gradescope: the documented top-level and per-test fields.
    let gs: Value = serde_json::from_str(
        &std::fs::read_to_string(out.join("gradescope/exits/results.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(gs["score"], 35);
    for key in [
        "execution_time",
        "output",
        "visibility",
        "stdout_visibility",
        "tests",
    ] {
        assert!(gs.get(key).is_some(), "results.json lacks {key}");
    }
    let test = &gs["tests"][1];
    assert_eq!(
        (
            test["name"].as_str().unwrap(),
            test["score"].as_u64(),
            test["max_score"].as_u64()
        ),
        (
            "01-threads t2: Concurrent sum over scoped, balanced chunks",
            Some(0),
            Some(15)
        )
    );
    assert_eq!(test["status"], "failed");
    assert_eq!(test["number"], "1.2");

    // report.md: the class per task, hardest first, and the findings.
    let report = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(report.contains("## Tasks, hardest first"), "{report}");
    assert!(
        report.contains(
            "| exits | 01-threads | suspicious code | src/lib.rs calls std::process::exit |"
        ),
        "{report}"
    );

    // A second run resumes: every student is already graded.
    let again = run_grade(&class, &out, &work.0, Duration::from_secs(300));
    assert!(again.status.success());
    let stderr = String::from_utf8_lossy(&again.stderr);
    assert_eq!(
        stderr.matches("(already graded)").count(),
        students.len(),
        "{stderr}"
    );
}

#[test]
fn gradescope_run_autograder_grades_the_imitation_layout() {
    let dir = tempfile::tempdir().unwrap();
    // Gradescope's tree: the student's upload in submission/, results/ written by us.
    let autograder = dir.path().join("autograder");
    student(&autograder, "submission", &solution_with("", ""));
    let work = WorkDir::new();
    let out = Command::new("bash")
        .arg(course_root().join("grading/gradescope/run_autograder"))
        .env("AUTOGRADER_ROOT", &autograder)
        .env("COURSE_ROOT", course_root())
        .env("CHECKER", env!("CARGO_BIN_EXE_checker"))
        .env("WORK", &work.0)
        .env("GRADE_LESSONS", LESSON)
        .env_remove("CARGO_TARGET_DIR")
        .output()
        .unwrap();
    let log = log_of(&out);
    assert!(out.status.success(), "{log}");
    let results: Value = serde_json::from_str(
        &std::fs::read_to_string(autograder.join("results/results.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(results["score"].as_u64(), Some(FULL), "{results:#}");
    let tests = results["tests"].as_array().unwrap();
    assert_eq!(tests.len(), POINTS.len());
    assert!(tests.iter().all(|t| t["status"] == "passed"), "{results:#}");
}

/// One student per attack on the grader (issue 15), graded with an
/// inherited CARGO_TARGET_DIR that the grader must ignore. Each earns
/// nothing it did not honestly solve, and each cheat is a finding.
#[test]
fn attacks_on_the_grader_earn_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let class = dir.path().join("class");
    let root = course_root();
    let solution_src = root.join("solutions").join(LESSON).join("src");
    student(&class, "exec-echo", &exec_echo());
    student(&class, "ctor-exit", &ctor_exit());
    // The reference, reached by a relative and by an absolute #[path].
    student(
        &class,
        "path-solution",
        "#[path = \"../../../solutions/01-threads/src/lib.rs\"]\nmod s;\npub use s::*;\n",
    );
    student(
        &class,
        "absolute-path",
        &format!(
            "#[path = {:?}]\nmod s;\npub use s::*;\n",
            solution_src.join("lib.rs")
        ),
    );
    // A secret of the machine, read at compile time.
    student(
        &class,
        "reads-shadow",
        &format!(
            "{}\npub const SECRET: &str = include_str!(\"/etc/shadow\");\n",
            solution_with("", "")
        ),
    );
    // A symlinked src folder pointing at the reference.
    let linked = student(&class, "symlink-src", &stub());
    std::fs::remove_dir_all(linked.join("src")).unwrap();
    std::os::unix::fs::symlink(&solution_src, linked.join("src")).unwrap();
    // exit(0) hidden in a file that is not *.rs.
    let hidden = student(&class, "include-txt", "include!(\"x.txt\");\n");
    std::fs::write(
        hidden.join("src/x.txt"),
        solution_with(
            "    let ranges = chunk_ranges(items.len(), workers)?;",
            "    std::process::exit(0);\n    #[allow(unreachable_code)]\n    let ranges = chunk_ranges(items.len(), workers)?;",
        ),
    )
    .unwrap();
    // A name that would add a forged row to report.md.
    student(
        &class,
        "mallory\n| exec-echo | 01-threads | edited test | forged |",
        &stub(),
    );
    // A build that never ends: a const-eval loop, its lint allowed.
    student(
        &class,
        "const-eval",
        &format!(
            "{}\n#[allow(long_running_const_eval)]\npub static SPIN: u64 = {{\n    let mut i = 0u64;\n    \
             while i < u64::MAX {{\n        i += 1;\n    }}\n    i\n}};\n",
            solution_with("", "")
        ),
    );
    let memory_capped = cgroup_caps_here();
    if memory_capped {
        student(&class, "memory-together", &memory_together());
    }

    let out = dir.path().join("report");
    let work = WorkDir::new();
    let foreign_target = tempfile::tempdir().unwrap();
    // 10 s per test: room for memory-together's children to fill their shares.
    let mut command = grade_command_with_timeout(&class, &out, &work.0, 10);
    command
        .args(["--build-timeout", &BUILD_LIMIT.as_secs().to_string()])
        .env("CARGO_TARGET_DIR", foreign_target.path());
    let output = output_within(command, Duration::from_secs(900));
    let log = log_of(&output);
    // Shown with --nocapture: each student's time.
    println!("{log}");
    assert!(output.status.success(), "{log}");
    assert!(log.contains("isolation: "), "{log}");
    let grades: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("grades.json")).unwrap()).unwrap();
    let expect = |name: &str, points: u64, found: &[&str]| {
        let grade = grade_of(&grades, name);
        assert_eq!(
            grade["points"].as_u64().unwrap(),
            points,
            "{name}: {grade:#}"
        );
        let details: Vec<String> = findings(grade).into_iter().map(|(_, d)| d).collect();
        for wanted in found {
            assert!(
                details.iter().any(|d| d.contains(wanted)),
                "{name}: no finding with {wanted:?} in {details:?}"
            );
        }
    };
    expect("exec-echo", 0, &["starts processes", "exec"]);
    expect("ctor-exit", 0, &["link section", "process::exit"]);
    // The exit guard's failure says which route it closed.
    let failures = |name: &str| -> Vec<String> {
        grade_of(&grades, name)["lessons"][0]["tasks"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["failure"].as_str().unwrap().to_string())
            .collect()
    };
    for (name, says) in [
        ("exec-echo", "replace itself with another program (exec"),
        ("ctor-exit", "before its main function returned"),
    ] {
        let failures = failures(name);
        assert!(
            failures.iter().all(|f| f.contains(says)),
            "{name}: {failures:#?}"
        );
    }
    expect("path-solution", 0, &["#[path]"]);
    expect("absolute-path", 0, &["#[path]"]);
    expect("reads-shadow", 0, &["include_str!"]);
    expect("symlink-src", 0, &["symbolic link"]);
    expect(
        "include-txt",
        // The included text is a whole crate root (inner doc comments), so
        // it does not compile; what counts is that x.txt was read and flagged.
        0,
        &["include!", "x.txt calls std::process::exit"],
    );
    expect("const-eval", 0, &[]);
    let stopped = grade_of(&grades, "const-eval")["lessons"][0]["compile_error"].to_string();
    assert!(stopped.contains("limit"), "{stopped}");
    if memory_capped {
        assert!(log.contains("cgroup caps per test"), "{log}");
        let [t1, _, t3, t4] = POINTS;
        expect("memory-together", t1 + t3 + t4, &["starts processes"]);
        let failure = grade_of(&grades, "memory-together")["lessons"][0]["tasks"][1]["failure"]
            .as_str()
            .unwrap()
            .to_string();
        let count_after = |words: &str| -> u32 {
            failure
                .split_once(words)
                .and_then(|(_, rest)| rest.split(' ').next()?.parse().ok())
                .unwrap_or_else(|| panic!("no count after {words:?} in {failure:?}"))
        };
        let (together, ever) = (count_after("at once: "), count_after("; "));
        println!("memory-together, task 2: {failure}");
        // 4 GiB per test: at most two of the 1.5 GiB children at a time,
        // though each could hold its share (the children did run).
        assert!(together <= 2 && ever >= 1, "{failure}");
    }
    let shadow = serde_json::to_string(&grades).unwrap();
    assert!(
        !shadow.contains("root:"),
        "a line of /etc/shadow reached the reports"
    );

    // The forged row is not a row: the name stays inside its cell.
    let report = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(
        !report
            .lines()
            .any(|l| l.starts_with("| exec-echo | 01-threads | edited test | forged |")),
        "{report}"
    );
    assert!(report.contains("Isolation: "), "{report}");
    assert_eq!(
        std::fs::read_dir(foreign_target.path()).unwrap().count(),
        0,
        "the grader built into the inherited CARGO_TARGET_DIR"
    );
}

/// A PATH with every folder of this one, less `bwrap`: folders that hold
/// it are replaced by copies made of links to everything else in them.
fn path_without_bwrap(scratch: &Path) -> std::ffi::OsString {
    let path = std::env::var_os("PATH").unwrap_or_default();
    let dirs: Vec<PathBuf> = std::env::split_paths(&path)
        .enumerate()
        .map(|(i, dir)| {
            if !dir.join("bwrap").exists() {
                return dir;
            }
            let copy = scratch.join(format!("path-{i}"));
            std::fs::create_dir_all(&copy).unwrap();
            for entry in std::fs::read_dir(&dir).unwrap().flatten() {
                if entry.file_name() != "bwrap" {
                    let _ = std::os::unix::fs::symlink(entry.path(), copy.join(entry.file_name()));
                }
            }
            copy
        })
        .collect();
    std::env::join_paths(dirs).unwrap()
}

/// Where bubblewrap cannot run, the grader falls back to `setrlimit` limits
/// (and other uids, as root), says so, and still grades exactly: the exit
/// guard and the trusted test lists do not depend on bubblewrap.
#[test]
fn without_bubblewrap_the_fallback_still_grades_exactly() {
    let dir = tempfile::tempdir().unwrap();
    let class = dir.path().join("class");
    student(&class, "perfect", &solution_with("", ""));
    student(&class, "exits", &exits_in_t2());
    student(&class, "fake-pass", &fake_pass());
    student(&class, "exec-echo", &exec_echo());
    student(&class, "ctor-exit", &ctor_exit());
    let out = dir.path().join("report");
    let work = WorkDir::new();
    let mut command = grade_command(&class, &out, &work.0);
    command.env("PATH", path_without_bwrap(dir.path()));
    let output = output_within(command, Duration::from_secs(900));
    let log = log_of(&output);
    assert!(output.status.success(), "{log}");
    let said = "isolation: setrlimit limits only, without namespaces: bubblewrap cannot run here (bubblewrap (`bwrap`) is not installed";
    assert!(log.contains(said), "{log}");
    let report = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(report.contains("setrlimit limits only"), "{report}");
    let grades: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("grades.json")).unwrap()).unwrap();
    let [t1, t2, t3, t4] = POINTS;
    for (name, points) in [
        ("perfect", vec![t1, t2, t3, t4]),
        ("exits", vec![t1, 0, t3, t4]),
        ("fake-pass", vec![0; 4]),
        ("exec-echo", vec![0; 4]),
        ("ctor-exit", vec![0; 4]),
    ] {
        let grade = grade_of(&grades, name);
        assert_eq!(task_points(grade), points, "{name}: {grade:#}");
    }
}

/// Issue 15's whole class graded 0: as root, tests run under uids of their
/// own, which cannot enter a private folder (a `mktemp -d`, as a shared
/// CARGO_TARGET_DIR often is). A work folder there would leave every test
/// unable to start; the grader stops at once with its own error and writes
/// no grade at all.
#[test]
fn a_work_folder_the_sandbox_cannot_enter_stops_the_run_and_grades_nobody() {
    if !is_root() {
        return; // Only root switches uids; as anyone else every folder of yours is reachable.
    }
    let dir = tempfile::tempdir().unwrap();
    let class = dir.path().join("class");
    student(&class, "perfect", &solution_with("", ""));
    let out = dir.path().join("report");
    let private = tempfile::tempdir().unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(private.path(), std::fs::Permissions::from_mode(0o700)).unwrap();
    let output = run_grade(
        &class,
        &out,
        &private.path().join("work"),
        Duration::from_secs(300),
    );
    let log = log_of(&output);
    assert!(!output.status.success(), "{log}");
    assert!(
        log.contains("which the sandbox's users cannot enter, so no test could start"),
        "{log}"
    );
    for report in ["grades.csv", "grades.json", "report.md"] {
        assert!(!out.join(report).exists(), "{report} was written:\n{log}");
    }
    assert_eq!(
        std::fs::read_dir(out.join("students")).unwrap().count(),
        0,
        "a student was graded"
    );
}
