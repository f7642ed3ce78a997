//! `checker watch`: reruns the current lesson's tasks whenever its sources
//! change, says which task is next, shows a hint on `h`, and moves on to the
//! next lesson when every task passes.

use std::path::Path;
use std::process::ExitCode;
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::time::Duration;

use anyhow::Result;

use crate::commands::hint;
use crate::commands::verify::stage_report;
use crate::grading::{self, RunOptions, StageRun, TaskStatus};
use crate::manifest::{Lesson, Stage};
use crate::process;
use crate::progress::{learner_fingerprint, learner_run};
use crate::state::Store;
use crate::style::{self, Colour};
use crate::terminal;
use crate::watcher::{Change, Mode, SourceWatcher};
use crate::workspace::Workspace;

/// How long the sources must stay quiet after a save before the rerun, so
/// an editor's burst of writes causes one run.
const SETTLE: Duration = Duration::from_millis(300);

/// What the watch loop reacts to.
enum Event {
    Changed(Change),
    Key(char),
    InputClosed,
}

/// How `watch` was asked to run.
pub struct WatchArgs {
    pub lesson: Option<String>,
    /// Poll every this often instead of using file notifications.
    pub poll: Option<Duration>,
    pub run: RunOptions,
}

pub fn run(root: Option<&Path>, args: WatchArgs) -> Result<ExitCode> {
    let ws = Workspace::open(root)?;
    let mut store = Store::load(&ws.state_dir());
    let mut lesson = match &args.lesson {
        Some(query) => ws.lesson(query)?,
        None => first_unfinished(&ws, &store).unwrap_or(&ws.course.lessons[0]),
    };
    let (tx, rx) = mpsc::channel();
    let mut watcher = start_watcher(args.poll, tx.clone())?;
    let keys = terminal::enter_key_mode();
    terminal::spawn_key_reader(tx.clone(), key_event, Event::InputClosed);
    let mut session = Session {
        ws: &ws,
        store: &mut store,
        watcher: &mut watcher,
        tx,
        rx,
        keys,
    };
    let result = session.watch(&mut lesson, &args);
    terminal::restore();
    result
}

/// File notifications, or polling when asked or when notifications fail.
fn start_watcher(poll: Option<Duration>, tx: mpsc::Sender<Event>) -> Result<SourceWatcher> {
    if let Some(every) = poll {
        return SourceWatcher::new(Mode::Poll(every), tx, Event::Changed);
    }
    match SourceWatcher::new(Mode::Native, tx.clone(), Event::Changed) {
        Ok(watcher) => Ok(watcher),
        Err(e) => {
            let every = Duration::from_secs(1);
            eprintln!("{e:#}; checking the files every second instead.");
            SourceWatcher::new(Mode::Poll(every), tx, Event::Changed)
        }
    }
}

/// A key, mapped on the reader's thread: `q` quits at once, even while
/// tests run.
fn key_event(key: char) -> Event {
    if key == 'q' {
        println!();
        quit_now();
    }
    Event::Key(key)
}

/// The state of one `checker watch`.
struct Session<'a, 's> {
    ws: &'a Workspace,
    store: &'s mut Store,
    watcher: &'s mut SourceWatcher,
    tx: mpsc::Sender<Event>,
    rx: Receiver<Event>,
    /// Whether single keys work (a terminal), or need Enter.
    keys: bool,
}

impl<'a> Session<'a, '_> {
    fn watch(&mut self, lesson: &mut &'a Lesson, args: &WatchArgs) -> Result<ExitCode> {
        let ws = self.ws;
        // Shown under the next screen's title: why it ran.
        let mut note: Option<String> = None;
        loop {
            let src = ws.package_dir(&lesson.exercise)?.join("src");
            if let Err(e) = self.watcher.watch(&src) {
                // Fall back to polling once: the inotify limit is a common cause.
                eprintln!("{e:#}; switching to polling.");
                *self.watcher = start_watcher(Some(Duration::from_secs(1)), self.tx.clone())?;
                self.watcher.watch(&src)?;
            }
            let runs = run_lesson(ws, self.store, lesson, &args.run)?;
            self.store.save()?;
            clear_screen();
            print!(
                "{}",
                screen(ws, lesson, &runs, self.watcher.mode, self.keys, note.take())
            );
            if lesson_done(&runs) {
                match next_lesson(ws, self.store, lesson) {
                    Some(next) => {
                        let done = format!("Lesson {} is done.", lesson.id);
                        println!("\n{done} Moving on to {} ...", next.id);
                        note = Some(format!(
                            "{} Now: {} · {}.",
                            style::paint(&done, Colour::Green),
                            next.id,
                            next.title
                        ));
                        *lesson = next;
                        continue;
                    }
                    None => {
                        println!(
                            "\n{}",
                            style::paint("Every lesson is done. Well done!", Colour::Green)
                        );
                        return Ok(ExitCode::SUCCESS);
                    }
                }
            }
            // Wait for a save (then let the burst settle) or a key.
            loop {
                let event = match self.rx.recv() {
                    Ok(event) => event,
                    Err(_) => return Ok(ExitCode::SUCCESS),
                };
                match event {
                    Event::Changed(change) => {
                        settle(&self.rx);
                        note = Some(format!("(ran after {} changed)", ws.relative(&change.0)));
                        break;
                    }
                    Event::Key('h') => {
                        let task = hint::default_task(lesson, self.store);
                        println!("\n{}", hint::take_next_hint(lesson, task, self.store));
                        self.store.save()?;
                    }
                    Event::Key('r') => break,
                    Event::Key(other) => {
                        println!("`{other}` does nothing here. {}", key_help(self.keys));
                    }
                    // Without input (a closed stdin) saves still rerun the tests.
                    Event::InputClosed => {}
                }
            }
        }
    }
}

/// Drains change events until the files have been quiet for [`SETTLE`].
fn settle(rx: &Receiver<Event>) {
    loop {
        match rx.recv_timeout(SETTLE) {
            Ok(_) => continue,
            Err(RecvTimeoutError::Timeout | RecvTimeoutError::Disconnected) => return,
        }
    }
}

/// The required stages in order (test, then loom), stopping at the first
/// that does not pass: a model check of code that fails its tests only adds
/// noise.
fn run_lesson(
    ws: &Workspace,
    store: &mut Store,
    lesson: &Lesson,
    opts: &RunOptions,
) -> Result<Vec<StageRun>> {
    let mut runs = Vec::new();
    for &stage in lesson.stages.iter().filter(|s| s.is_required()) {
        let spinner = style::spinner(&format!("{} · running the {stage} stage", lesson.id));
        let run = learner_run(ws, store, lesson, stage, false, opts);
        spinner.finish_and_clear();
        let run = run?;
        let passed = run.all_passed();
        runs.push(run);
        if !passed {
            break;
        }
    }
    Ok(runs)
}

fn lesson_done(runs: &[StageRun]) -> bool {
    !runs.is_empty() && runs.iter().all(|r| r.all_passed() || r.skipped.is_some())
}

/// Whether the cached results of the learner's current code pass every
/// required stage.
fn cached_done(ws: &Workspace, store: &Store, lesson: &Lesson) -> bool {
    let Ok(print) = learner_fingerprint(ws, lesson) else {
        return false;
    };
    lesson
        .stages
        .iter()
        .filter(|s| s.is_required())
        .all(|&stage| {
            store
                .cached(&lesson.id, stage, &print)
                .is_some_and(|r| r.all_passed() || r.skipped.is_some())
        })
}

fn first_unfinished<'a>(ws: &'a Workspace, store: &Store) -> Option<&'a Lesson> {
    ws.course
        .lessons
        .iter()
        .find(|l| !cached_done(ws, store, l))
}

/// The next unfinished lesson after `current`, wrapping around to earlier
/// ones.
fn next_lesson<'a>(ws: &'a Workspace, store: &Store, current: &Lesson) -> Option<&'a Lesson> {
    let lessons = &ws.course.lessons;
    let at = lessons.iter().position(|l| l.id == current.id)?;
    lessons[at + 1..]
        .iter()
        .chain(&lessons[..at])
        .find(|l| !cached_done(ws, store, l))
}

fn clear_screen() {
    if style::enabled() {
        print!("\x1b[2J\x1b[H");
    }
}

/// The whole screen after a run.
fn screen(
    ws: &Workspace,
    lesson: &Lesson,
    runs: &[StageRun],
    mode: Mode,
    keys: bool,
    note: Option<String>,
) -> String {
    let src = ws
        .package_dir(&lesson.exercise)
        .map(|d| ws.relative(&d.join("src")))
        .unwrap_or_default();
    let how = match mode {
        Mode::Native => "on save".to_string(),
        Mode::Poll(every) => format!("polling every {} ms", every.as_millis()),
    };
    let mut out = format!(
        "{}  watching {src} ({how})\n",
        style::paint(&format!("{} · {}", lesson.id, lesson.title), Colour::Bold)
    );
    if let Some(note) = note {
        out.push_str(&note);
        out.push('\n');
    }
    for run in runs {
        out.push('\n');
        out.push_str(&stage_report(run));
    }
    let combined = grading::combine(runs);
    let passed: Vec<_> = combined
        .iter()
        .filter(|t| t.status == TaskStatus::Passed)
        .collect();
    out.push_str(&format!(
        "\n{} of {} tasks pass, {} of {} points.\n",
        passed.len(),
        lesson.tasks.len(),
        passed.iter().map(|t| t.points).sum::<u32>(),
        lesson.max_points()
    ));
    if let Some(next) = lesson.tasks.iter().find(|t| {
        combined
            .iter()
            .find(|r| r.prefix == t.prefix)
            .is_none_or(|r| r.status != TaskStatus::Passed)
    }) {
        let stage_note = if runs.iter().any(|r| r.stage == Stage::Loom) {
            " (check the loom stage above)"
        } else {
            ""
        };
        out.push_str(&format!(
            "{} {} · {}{stage_note}\n  Read {}.\n",
            style::paint("Next:", Colour::Cyan),
            next.short_name(),
            next.name,
            lesson.chapter.display()
        ));
    }
    out.push_str(&format!("\n{}\n", key_help(keys)));
    out
}

fn key_help(keys: bool) -> String {
    let enter = if keys { "" } else { " (then Enter)" };
    format!("Save a file to rerun. Keys{enter}: h hint · r rerun · q quit")
}

/// Leaves at once, stopping any test still running.
fn quit_now() -> ! {
    terminal::restore();
    process::stop_all_and_exit(0)
}
