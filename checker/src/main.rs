//! `checker`: runs the workbook's graded tasks and reports progress.

mod book;
mod bugs;
mod cargo;
mod commands;
mod grade;
mod grading;
mod libtest;
mod manifest;
mod process;
mod progress;
mod render;
mod sandbox;
mod stages;
mod state;
mod style;
mod terminal;
mod watcher;
mod workspace;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::manifest::Stage;

/// Check your progress through the workbook, one graded task at a time.
#[derive(Debug, Parser)]
#[command(name = "checker", version, about, long_about = None)]
struct Cli {
    /// The workbook's root (the directory holding course.toml). Default: found from the current directory.
    #[arg(long, global = true, value_name = "DIR")]
    root: Option<PathBuf>,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Show a progress table: one row per lesson (the default command).
    Status {
        /// Print a machine-readable JSON report instead of the table.
        #[arg(long)]
        json: bool,
        /// Rerun every lesson's tests even if its code has not changed.
        #[arg(long)]
        fresh: bool,
    },
    /// Build a lesson and run every task, showing why each one fails.
    Verify {
        /// The lesson: `01-threads`, `01` or the package name `threads`.
        lesson: String,
        /// Run only this stage (test, loom or miri). Default: the required stages, test and loom.
        #[arg(long, value_parser = parse_stage, conflicts_with = "all_stages")]
        stage: Option<Stage>,
        /// Run every stage of the lesson, Miri included.
        #[arg(long)]
        all_stages: bool,
        /// Check the reference solution instead of your crate.
        #[arg(long)]
        solution: bool,
        #[command(flatten)]
        run: RunArgs,
    },
    /// Rerun a lesson's tasks whenever you save a file; `h` shows a hint.
    Watch {
        /// The lesson. Default: your first unfinished one.
        lesson: Option<String>,
        /// Check the files for changes every MS milliseconds instead of
        /// relying on file notifications (for WSL's Windows drives, network
        /// mounts and some containers). Also set by CHECKER_POLL=MS.
        #[arg(long, value_name = "MS", env = "CHECKER_POLL", num_args = 0..=1, default_missing_value = "500")]
        poll: Option<u64>,
        #[command(flatten)]
        run: RunArgs,
    },
    /// List every lesson and task with its points and last known state.
    List,
    /// Put a lesson's pristine stub back; your files are backed up first.
    Reset {
        /// The lesson: `01-threads`, `01` or `threads`.
        lesson: String,
        /// Reset only this task's files (as course.toml lists them): `t2`.
        #[arg(long, value_name = "TASK")]
        task: Option<String>,
        /// Do not ask for confirmation.
        #[arg(long)]
        yes: bool,
    },
    /// Show the reference solution (once the lesson's tasks pass).
    Solution {
        /// The lesson: `01-threads`, `01` or `threads`.
        lesson: String,
        /// Show it before the tasks pass (this is recorded).
        #[arg(long)]
        force: bool,
    },
    /// Show the next hint you have not seen yet.
    Hint {
        /// The lesson: `01-threads`, `01` or `threads`.
        lesson: String,
        /// The task: `t2`, `t2_` or `2`. Default: your first unfinished task.
        task: Option<String>,
    },
    /// Grade a whole class against the pristine tests (for instructors).
    Grade {
        /// A folder with one folder, .zip or .tar.gz per student.
        #[arg(long, value_name = "DIR")]
        submissions: PathBuf,
        /// Where the reports go (created if missing).
        #[arg(long, value_name = "REPORT_DIR")]
        out: PathBuf,
        /// Only these lessons (comma-separated or repeated). Default: all.
        #[arg(long, value_delimiter = ',')]
        lessons: Vec<String>,
        /// Where the scratch workspace and the shared target directory live.
        #[arg(long, value_name = "DIR")]
        work: Option<PathBuf>,
        /// Regrade students already graded in REPORT_DIR.
        #[arg(long)]
        fresh: bool,
        /// Wall-clock and CPU limit of one sandboxed build, in seconds.
        #[arg(long, value_name = "SECS", default_value_t = 600)]
        build_timeout: u64,
        #[command(flatten)]
        run: RunArgs,
    },
    /// Compare your implementation's speed with the reference's (informational).
    Bench {
        /// The lesson, for example `10-group-commit`.
        lesson: String,
    },
    /// Check that the optional tools (nightly + Miri, mdbook) are installed.
    Doctor,
    /// Tools for the workbook's maintainers.
    Dev {
        #[command(subcommand)]
        command: DevCommand,
    },
}

#[derive(Debug, Subcommand)]
enum DevCommand {
    /// Prove the course is sound: solutions pass, stubs fail, tasks have tests and hints, chapters exist.
    Check {
        /// Only these lessons.
        lessons: Vec<String>,
        #[command(flatten)]
        run: RunArgs,
    },
    /// Prove every known bug (solutions/NN/bugs/*.patch) fails the task it targets.
    Bugs {
        /// Only these lessons.
        lessons: Vec<String>,
        /// Run each entry's tests N times; a bug caught in only some runs is missed.
        #[arg(long, value_name = "N", default_value_t = 1)]
        repeat: usize,
        /// Where the scratch copy of the course lives. Default: dev-bugs in the target directory.
        #[arg(long, value_name = "DIR")]
        work: Option<PathBuf>,
        #[command(flatten)]
        run: RunArgs,
    },
    /// Scaffold a new lesson (crates, shared tests, manifest entry, chapter).
    New {
        /// The lesson's directory name: two digits, a dash, a name (`12-compaction`).
        lesson: String,
        /// The lesson's title. Default: its name.
        #[arg(long)]
        title: Option<String>,
    },
}

#[derive(Debug, clap::Args)]
struct RunArgs {
    /// Tests run at once. Default: the number of CPUs.
    #[arg(long, value_name = "N")]
    jobs: Option<usize>,
    /// Per-test timeout in seconds, overriding the course's.
    #[arg(long, value_name = "SECS")]
    timeout: Option<u64>,
}

impl RunArgs {
    fn options(&self) -> grading::RunOptions {
        let mut opts = grading::RunOptions::default();
        if let Some(jobs) = self.jobs {
            opts.jobs = jobs.max(1);
        }
        opts.timeout = self.timeout.map(std::time::Duration::from_secs);
        opts
    }
}

fn parse_stage(text: &str) -> Result<Stage, String> {
    Stage::ALL
        .into_iter()
        .find(|s| s.name() == text)
        .ok_or_else(|| format!("unknown stage `{text}`; the stages are test, loom, miri and bench"))
}

fn main() -> ExitCode {
    // The grader runs cargo through this entry, so builds run sandboxed.
    let mut args = std::env::args_os().skip(1);
    if args.next().is_some_and(|a| a == sandbox::EXEC_ENTRY) {
        return sandbox::exec_entry(args.collect());
    }
    let cli = Cli::parse();
    // Tests run in process groups of their own, out of the terminal's reach:
    // on Ctrl-C, stop them before leaving.
    let interrupted = ctrlc::set_handler(|| {
        terminal::restore();
        eprintln!("\ninterrupted; stopping the running tests.");
        process::stop_all_and_exit(130);
    });
    if let Err(e) = interrupted {
        eprintln!(
            "warning: cannot catch Ctrl-C ({e}); a test still running when you press it may linger"
        );
    }
    match run(cli) {
        Ok(code) => code,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::from(2)
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let root = cli.root.as_deref();
    match cli.command.unwrap_or(Command::Status {
        json: false,
        fresh: false,
    }) {
        Command::Status { json, fresh } => commands::status::run(root, json, fresh),
        Command::Verify {
            lesson,
            stage,
            all_stages,
            solution,
            run,
        } => {
            use commands::verify::StageChoice;
            let choice = match (stage, all_stages) {
                (Some(stage), _) => StageChoice::One(stage),
                (None, true) => StageChoice::All,
                (None, false) => StageChoice::Required,
            };
            commands::verify::run(root, &lesson, choice, solution, &run.options())
        }
        Command::Hint { lesson, task } => commands::hint::run(root, &lesson, task.as_deref()),
        Command::Grade {
            submissions,
            out,
            lessons,
            work,
            fresh,
            build_timeout,
            run,
        } => grade::run(
            root,
            grade::GradeArgs {
                submissions,
                out,
                lessons,
                work,
                fresh,
                build_timeout: std::time::Duration::from_secs(build_timeout),
                run: run.options(),
            },
        ),
        Command::Bench { lesson } => commands::bench::run(root, &lesson),
        Command::Doctor => commands::doctor::run(root),
        Command::List => commands::list::run(root),
        Command::Watch { lesson, poll, run } => commands::watch::run(
            root,
            commands::watch::WatchArgs {
                lesson,
                poll: poll.map(|ms| std::time::Duration::from_millis(ms.max(10))),
                run: run.options(),
            },
        ),
        Command::Reset { lesson, task, yes } => {
            commands::reset::run(root, &lesson, task.as_deref(), yes)
        }
        Command::Solution { lesson, force } => commands::solution::run(root, &lesson, force),
        Command::Dev {
            command: DevCommand::Check { lessons, run },
        } => commands::dev_check::run(root, &lessons, &run.options()),
        Command::Dev {
            command:
                DevCommand::Bugs {
                    lessons,
                    repeat,
                    work,
                    run,
                },
        } => commands::dev_bugs::run(
            root,
            &commands::dev_bugs::BugsArgs {
                lessons,
                repeat,
                work,
                run: run.options(),
            },
        ),
        Command::Dev {
            command: DevCommand::New { lesson, title },
        } => commands::dev_new::run(root, &lesson, title.as_deref()),
    }
}
