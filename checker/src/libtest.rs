//! Listing and running libtest tests, one process per test, and turning each
//! process's exit into a verdict.
//!
//! A test passes only when its process exits 0 **and** libtest printed its
//! own `test NAME ... ok` line: a `std::process::exit(0)` inside the code
//! under test would otherwise pass every test.

use std::process::Command;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use serde::{Deserialize, Serialize};

use crate::process::{self, Exit, Finished};

/// How long listing a binary's tests may take.
const LIST_TIMEOUT: Duration = Duration::from_secs(30);
/// The statuses a test process ends with when the grader's exit guard
/// (`grading/exit-guard`, preloaded) catches a route around libtest:
/// `exit` on a test's thread, `exit(0)` before `main` returned (a
/// constructor), and `exec` of the test process itself.
pub const EXIT_FROM_TEST_THREAD: i32 = 86;
pub const EXIT_BEFORE_MAIN_RETURNED: i32 = 87;
pub const EXEC_OF_TEST: i32 = 88;

/// How many lines of a failure are shown.
const EXCERPT_LINES: usize = 16;

/// How a crash story starts: the paragraph a power-loss test panics with
/// (`simfs::STORY_HEADING`). When a failure holds one, the story is the
/// excerpt.
const STORY_HEADING: &str = "Power lost after op";
/// The longest crash story shown.
const STORY_LINES: usize = 30;

/// The verdict on one test.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Passed,
    /// A panic (an assertion, a `todo!()`), or a non-zero exit.
    Failed,
    /// Killed by the checker when the timeout expired.
    TimedOut,
    /// Killed by a signal: an abort, a stack overflow, a segfault.
    Crashed,
    /// Marked `#[ignore]` for this stage.
    Ignored,
    /// Exited 0 without libtest reporting a result.
    Unreported,
}

impl Verdict {
    /// Neither a pass nor a skip.
    pub fn is_bad(self) -> bool {
        !matches!(self, Verdict::Passed | Verdict::Ignored)
    }
}

/// One test's result, with the lines that explain a failure.
#[derive(Debug, Clone, Serialize)]
pub struct TestResult {
    pub name: String,
    pub verdict: Verdict,
    /// The first useful lines of a failure; empty on success.
    pub detail: String,
    pub duration_ms: u64,
}

/// Lists the tests of a libtest harness (`--list --format terse`).
/// `command` runs the harness; the listing arguments are appended to it.
pub fn list(mut command: Command) -> Result<Vec<String>> {
    command.args(["--list", "--format", "terse"]);
    let what = format!("{:?}", command.get_program());
    let done = process::run(command, LIST_TIMEOUT)?;
    if done.exit != Exit::Code(0) {
        bail!(
            "listing the tests of {what} failed ({:?}): {}",
            done.exit,
            done.stderr.trim()
        );
    }
    Ok(parse_list(&done.stdout))
}

fn parse_list(stdout: &str) -> Vec<String> {
    stdout
        .lines()
        .filter_map(|line| line.strip_suffix(": test"))
        .map(str::to_string)
        .collect()
}

/// Runs one test in its own process and judges it. `command` runs the
/// harness; the arguments that select the test are appended to it.
pub fn run(mut command: Command, name: &str, timeout: Duration) -> Result<TestResult> {
    command
        .args([
            "--exact",
            name,
            "--test-threads",
            "1",
            "--color",
            "never",
            "--format",
            "pretty",
        ])
        .env("RUST_BACKTRACE", "0")
        .env_remove("RUST_TEST_NOCAPTURE")
        .env_remove("RUST_TEST_THREADS");
    let done = process::run(command, timeout).with_context(|| format!("cannot run test {name}"))?;
    Ok(judge(name, &done, timeout))
}

/// Turns a finished test process into a verdict.
pub fn judge(name: &str, done: &Finished, timeout: Duration) -> TestResult {
    // libtest's own line: `test NAME ... ok`, or `... ignored[, reason]`.
    let reported = |outcome: &str| {
        let line = format!("test {name} ... {outcome}");
        let with_reason = format!("{line}, ");
        done.stdout
            .lines()
            .any(|l| l == line || (outcome == "ignored" && l.starts_with(&with_reason)))
    };
    let (verdict, detail) = match done.exit {
        Exit::TimedOut => (
            Verdict::TimedOut,
            format!(
                "no result after {}s: a deadlock, a lost wake-up or an endless loop?",
                timeout.as_secs_f32()
            ),
        ),
        Exit::Signal(signal) => {
            let mut detail = format!(
                "the test process was killed by {}",
                process::signal_name(signal)
            );
            let tail = last_lines(&done.stderr, 4);
            if !tail.is_empty() {
                detail = format!("{detail}\n{tail}");
            }
            (Verdict::Crashed, detail)
        }
        Exit::Code(0) if reported("ok") => (Verdict::Passed, String::new()),
        Exit::Code(0) if reported("ignored") => (Verdict::Ignored, String::new()),
        Exit::Code(0) => (
            Verdict::Unreported,
            "the process exited with status 0 before libtest reported a result; \
             does the code call std::process::exit?"
                .to_string(),
        ),
        Exit::Code(EXIT_FROM_TEST_THREAD) => (
            Verdict::Failed,
            "the code under test called std::process::exit on the test's thread \
             (or on a thread it started); a test cannot pass that way"
                .to_string(),
        ),
        Exit::Code(EXIT_BEFORE_MAIN_RETURNED) => (
            Verdict::Failed,
            "the test process called exit(0) before its main function returned: \
             code that runs before the tests (a constructor) ended it; \
             a test cannot pass that way"
                .to_string(),
        ),
        Exit::Code(EXEC_OF_TEST) => (
            Verdict::Failed,
            "the test process tried to replace itself with another program (exec, \
             for example CommandExt::exec); a test cannot pass that way"
                .to_string(),
        ),
        Exit::Code(101) => (
            Verdict::Failed,
            failure_excerpt(name, &done.stdout, &done.stderr),
        ),
        Exit::Code(code) => {
            let excerpt = failure_excerpt(name, &done.stdout, &done.stderr);
            (
                Verdict::Failed,
                format!("the process exited with status {code}\n{excerpt}")
                    .trim_end()
                    .to_string(),
            )
        }
    };
    let mut detail = detail;
    if done.truncated && verdict.is_bad() {
        let cap = process::OUTPUT_CAP / 1024;
        detail.push_str(&format!(
            "\n(the test printed more than {cap} KiB; the rest was dropped)"
        ));
    }
    if done.incomplete && verdict.is_bad() {
        detail.push_str("\n(a process that left the test's process group kept its output open)");
    }
    TestResult {
        name: name.to_string(),
        verdict,
        detail,
        duration_ms: millis(done.duration),
    }
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// The panic that failed the test: the test thread's own panic if there is
/// one (a worker's deliberate panic is not the failure), else the first.
fn failure_excerpt(name: &str, stdout: &str, stderr: &str) -> String {
    let captured = captured_block(name, stdout).unwrap_or(stdout);
    let lines: Vec<&str> = captured.lines().collect();
    let start = lines
        .iter()
        .position(|l| panicking_thread(l) == Some(name))
        .or_else(|| lines.iter().position(|l| panicking_thread(l).is_some()));
    if let Some(story) = crash_story(&lines) {
        return story;
    }
    match start {
        Some(start) => {
            let mut excerpt: Vec<String> = lines[start..]
                .iter()
                .take_while(|l| !l.starts_with("note: run with `RUST_BACKTRACE"))
                .take(EXCERPT_LINES)
                .map(|l| l.to_string())
                .collect();
            excerpt[0] = tidy_panic_line(&excerpt[0], name);
            excerpt.join("\n")
        }
        None => {
            // Miri and cargo report with `error: ...` on stderr.
            let lines: Vec<&str> = stderr.lines().collect();
            if let Some(start) = lines.iter().position(|l| l.starts_with("error")) {
                return lines[start..]
                    .iter()
                    .take(EXCERPT_LINES)
                    .copied()
                    .collect::<Vec<_>>()
                    .join("\n");
            }
            let tail = last_lines(stderr, EXCERPT_LINES);
            if tail.is_empty() {
                last_lines(captured, EXCERPT_LINES)
            } else {
                tail
            }
        }
    }
}

/// A power-loss test's crash story, from its heading to the end of the panic
/// message.
fn crash_story(lines: &[&str]) -> Option<String> {
    let start = lines.iter().position(|l| l.starts_with(STORY_HEADING))?;
    let story: Vec<&str> = lines[start..]
        .iter()
        .take_while(|l| {
            !l.starts_with("stack backtrace:")
                && !l.starts_with("note: run with `RUST_BACKTRACE")
                && panicking_thread(l).is_none()
        })
        .take(STORY_LINES)
        .copied()
        .collect();
    Some(story.join("\n").trim_end().to_string())
}

/// The thread named in a `thread 'NAME' (ID) panicked at ...` line.
fn panicking_thread(line: &str) -> Option<&str> {
    let rest = line.strip_prefix("thread '")?;
    let (thread, after) = rest.split_once('\'')?;
    after.contains("panicked at").then_some(thread)
}

/// Drops the thread id, and the thread name when it is the test's own:
/// `thread 't2' (5075) panicked at x.rs:1:1:` → `panicked at x.rs:1:1:`.
fn tidy_panic_line(line: &str, name: &str) -> String {
    let Some(at) = line.find("panicked at") else {
        return line.to_string();
    };
    match panicking_thread(line) {
        Some(thread) if thread == name => line[at..].to_string(),
        Some(thread) => format!("thread '{thread}' {}", &line[at..]),
        None => line.to_string(),
    }
}

/// The output libtest captured for `name`, printed after a failure between
/// `---- NAME stdout ----` and the `failures:` summary.
fn captured_block<'a>(name: &str, stdout: &'a str) -> Option<&'a str> {
    let header = format!("---- {name} stdout ----\n");
    let start = stdout.find(&header)? + header.len();
    let rest = &stdout[start..];
    let end = rest.find("\n\nfailures:").unwrap_or(rest.len());
    Some(&rest[..end])
}

fn last_lines(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn finished(exit: Exit, stdout: &str, stderr: &str) -> Finished {
        Finished {
            exit,
            stdout: stdout.to_string(),
            stderr: stderr.to_string(),
            truncated: false,
            incomplete: false,
            duration: Duration::from_millis(5),
        }
    }

    const T: Duration = Duration::from_secs(30);

    const FAILED_RUN: &str = "
running 1 test
test t2_sum ... FAILED

failures:

---- t2_sum stdout ----

thread 'worker-1' (77) panicked at tests/x.rs:3:5:
deliberate
thread 't2_sum' (76) panicked at tests/x.rs:9:5:
assertion `left == right` failed
  left: 1
 right: 2
note: run with `RUST_BACKTRACE=1` environment variable to display a backtrace


failures:
    t2_sum

test result: FAILED. 0 passed; 1 failed; 0 ignored; 0 measured; 2 filtered out; finished in 0.00s
";

    #[test]
    fn lists_only_tests() {
        let out = "t1_a: test\nt1_b: test\nbench_x: benchmark\n\n";
        assert_eq!(parse_list(out), vec!["t1_a", "t1_b"]);
    }

    #[test]
    fn exit_zero_with_the_ok_line_passes() {
        let out = "\nrunning 1 test\ntest t1_a ... ok\n\ntest result: ok. 1 passed;\n";
        let r = judge("t1_a", &finished(Exit::Code(0), out, ""), T);
        assert_eq!(r.verdict, Verdict::Passed);
        assert!(r.detail.is_empty());
    }

    #[test]
    fn exit_zero_without_the_ok_line_is_no_verdict() {
        // What std::process::exit(0) inside the code under test looks like.
        let r = judge(
            "t1_a",
            &finished(Exit::Code(0), "\nrunning 1 test\n", ""),
            T,
        );
        assert_eq!(r.verdict, Verdict::Unreported);
        assert!(r.detail.contains("process::exit"), "{}", r.detail);
    }

    #[test]
    fn another_tests_ok_line_does_not_count() {
        let r = judge(
            "t1_a",
            &finished(Exit::Code(0), "test t1_ab ... ok\n", ""),
            T,
        );
        assert_eq!(r.verdict, Verdict::Unreported);
    }

    #[test]
    fn exit_caught_by_the_guard_is_a_failure_even_after_a_forged_ok_line() {
        let forged = "test t1_a ... ok\n\ntest result: ok. 1 passed;\n";
        // Each route the guard closes is named in the failure.
        for (status, says) in [
            (EXIT_FROM_TEST_THREAD, "process::exit on the test's thread"),
            (
                EXIT_BEFORE_MAIN_RETURNED,
                "before its main function returned",
            ),
            (EXEC_OF_TEST, "replace itself with another program (exec"),
        ] {
            let r = judge("t1_a", &finished(Exit::Code(status), forged, ""), T);
            assert_eq!(r.verdict, Verdict::Failed);
            assert!(r.detail.contains(says), "{status}: {}", r.detail);
        }
    }

    #[test]
    fn ignored_with_a_reason_is_reported_as_ignored() {
        let out = "test t3_child ... ignored, entry point of the crash test's child process\n";
        let r = judge("t3_child", &finished(Exit::Code(0), out, ""), T);
        assert_eq!(r.verdict, Verdict::Ignored);
    }

    #[test]
    fn ignored_is_reported_as_ignored() {
        let r = judge(
            "t1_a",
            &finished(Exit::Code(0), "test t1_a ... ignored\n", ""),
            T,
        );
        assert_eq!(r.verdict, Verdict::Ignored);
    }

    #[test]
    fn a_panic_shows_the_test_threads_own_message() {
        let r = judge("t2_sum", &finished(Exit::Code(101), FAILED_RUN, ""), T);
        assert_eq!(r.verdict, Verdict::Failed);
        assert_eq!(
            r.detail,
            "panicked at tests/x.rs:9:5:\nassertion `left == right` failed\n  left: 1\n right: 2"
        );
    }

    #[test]
    fn panic_lines_without_a_thread_id_are_understood_too() {
        let out = "---- t2_x stdout ----\nthread 't2_x' panicked at a.rs:1:1:\nboom\n";
        let r = judge("t2_x", &finished(Exit::Code(101), out, ""), T);
        assert_eq!(r.detail, "panicked at a.rs:1:1:\nboom");
    }

    #[test]
    fn a_crash_story_replaces_the_panic_lines() {
        let out = "---- t2_p stdout ----\nthread 't2_p' (7) panicked at tests/p.rs:58:13:\nPower lost after op 4 of 16: write /wal.log @0, 9 bytes.\n  op 4: write /wal.log @0, 9 bytes\nLikely fix: sync.\n(the durable log holds 0 records)\nstack backtrace:\n   0: x\n\n\nfailures:\n";
        let r = judge("t2_p", &finished(Exit::Code(101), out, ""), T);
        assert_eq!(
            r.detail,
            "Power lost after op 4 of 16: write /wal.log @0, 9 bytes.\n  op 4: write /wal.log @0, 9 bytes\nLikely fix: sync.\n(the durable log holds 0 records)"
        );
    }

    #[test]
    fn a_worker_panic_is_shown_when_the_test_thread_did_not_panic() {
        let out = "---- t3_x stdout ----\nthread 'worker-0' (9) panicked at src/lib.rs:1:1:\nboom\n\n\nfailures:\n";
        let r = judge("t3_x", &finished(Exit::Code(101), out, ""), T);
        assert_eq!(
            r.detail,
            "thread 'worker-0' panicked at src/lib.rs:1:1:\nboom"
        );
    }

    #[test]
    fn another_exit_code_is_a_failure_that_says_so() {
        let r = judge(
            "t1_a",
            &finished(Exit::Code(3), "running 1 test\n", "bad things\n"),
            T,
        );
        assert_eq!(r.verdict, Verdict::Failed);
        assert_eq!(r.detail, "the process exited with status 3\nbad things");
    }

    #[test]
    fn a_signal_is_a_crash_with_stderr_tail() {
        let stderr =
            "\nthread 't1_a' has overflowed its stack\nfatal runtime error: stack overflow\n";
        let r = judge(
            "t1_a",
            &finished(Exit::Signal(libc::SIGABRT), "", stderr),
            T,
        );
        assert_eq!(r.verdict, Verdict::Crashed);
        assert!(
            r.detail
                .starts_with("the test process was killed by SIGABRT\n"),
            "{}",
            r.detail
        );
        assert!(r.detail.ends_with("stack overflow"), "{}", r.detail);
    }

    #[test]
    fn a_timeout_names_the_limit() {
        let r = judge(
            "t1_a",
            &finished(Exit::TimedOut, "", ""),
            Duration::from_secs(2),
        );
        assert_eq!(r.verdict, Verdict::TimedOut);
        assert!(r.detail.starts_with("no result after 2s"), "{}", r.detail);
    }
}
