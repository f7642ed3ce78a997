//! A lesson's collection of known bugs: `solutions/NN-name/bugs/*.patch`.
//!
//! Each entry is a small patch to the reference solution, the kind of code a
//! learner who half-understood the chapter writes. Header lines come before
//! the diff, which is relative to the solution crate's root:
//!
//! ```text
//! task: t2
//! why: each chunk's thread is joined right after it is spawned
//! stage: loom
//! --- a/src/lib.rs
//! +++ b/src/lib.rs
//! @@ ...
//! ```
//!
//! `task` names the task(s) the bug must fail, `why` the misconception in
//! one line, and the optional `stage: loom` says that only the loom stage
//! catches it deterministically.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use crate::manifest::{Lesson, Stage};
use crate::workspace::Workspace;

/// The collection's folder inside the solution crate.
pub const DIR: &str = "bugs";
/// How many entries each lesson's collection should have.
pub const MIN_ENTRIES: usize = 12;

/// One known bug.
#[derive(Debug, Clone)]
pub struct Entry {
    /// The file's name without `.patch`.
    pub slug: String,
    /// Prefixes (`t2_`) of the tasks the bug must fail.
    pub tasks: Vec<String>,
    /// The misconception, in the learner's terms.
    pub why: String,
    /// The only stage expected to catch it, when that is not any stage.
    pub stage: Option<Stage>,
    /// The unified diff, from its first `---` or `diff` line on.
    pub diff: String,
}

impl Entry {
    /// The target tasks' short names: `t2 t3`.
    pub fn task_names(&self) -> String {
        let names: Vec<&str> = self
            .tasks
            .iter()
            .map(|p| p.trim_end_matches(['_', ':']))
            .collect();
        names.join(" ")
    }
}

/// The folder of `lesson`'s collection.
pub fn dir(ws: &Workspace, lesson: &Lesson) -> Result<PathBuf> {
    Ok(ws.package_dir(&lesson.solution)?.join(DIR))
}

/// Every `.patch` of the lesson's collection, by file name. An entry that
/// cannot be read or parsed is an `Err` that names its file and the problem.
pub fn load(ws: &Workspace, lesson: &Lesson) -> Result<Vec<Result<Entry, String>>> {
    let dir = dir(ws, lesson)?;
    if !dir.is_dir() {
        return Ok(Vec::new());
    }
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
        .with_context(|| format!("cannot read {}", dir.display()))?
        .map(|entry| entry.map(|e| e.path()))
        .collect::<std::io::Result<_>>()
        .with_context(|| format!("cannot read {}", dir.display()))?;
    paths.retain(|p| p.extension().is_some_and(|e| e == "patch"));
    paths.sort();
    Ok(paths.iter().map(|path| read(path, lesson)).collect())
}

fn read(path: &Path, lesson: &Lesson) -> Result<Entry, String> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let text = std::fs::read_to_string(path).map_err(|e| format!("{name}: cannot read: {e}"))?;
    let slug = name.trim_end_matches(".patch").to_owned();
    parse(slug, &text, lesson).map_err(|problem| format!("{name}: {problem}"))
}

/// Parses an entry's text: header lines, then the diff.
pub fn parse(slug: String, text: &str, lesson: &Lesson) -> Result<Entry, String> {
    let diff_start = text
        .lines()
        .scan(0, |offset, line| {
            let start = *offset;
            *offset += line.len() + 1;
            Some((start, line))
        })
        .find(|(_, line)| line.starts_with("--- ") || line.starts_with("diff "))
        .map(|(start, _)| start)
        .ok_or("no diff: expected `--- a/src/...` after the header lines")?;
    let (header, diff) = text.split_at(diff_start);
    if !diff.lines().any(|l| l.starts_with("@@")) {
        return Err("the diff has no hunk (`@@ ... @@`)".to_owned());
    }
    let (mut tasks, mut why, mut stage) = (None, None, None);
    for line in header.lines().map(str::trim) {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (key, value) = line
            .split_once(':')
            .map(|(k, v)| (k.trim(), v.trim()))
            .ok_or_else(|| format!("header line `{line}` is not `key: value`"))?;
        let slot_taken = match key {
            "task" => tasks.replace(parse_tasks(value, lesson)?).is_some(),
            "why" if value.is_empty() => return Err("`why:` is empty".to_owned()),
            "why" => why.replace(value.to_owned()).is_some(),
            "stage" => stage.replace(parse_stage(value, lesson)?).is_some(),
            _ => {
                return Err(format!(
                    "unknown header `{key}`; the headers are task, why and stage"
                ));
            }
        };
        if slot_taken {
            return Err(format!("header `{key}` is given twice"));
        }
    }
    Ok(Entry {
        slug,
        tasks: tasks.ok_or("no `task:` header naming the task(s) it must fail")?,
        why: why.ok_or("no `why:` header explaining the misconception")?,
        stage,
        diff: diff.to_owned(),
    })
}

fn parse_tasks(value: &str, lesson: &Lesson) -> Result<Vec<String>, String> {
    let tasks: Vec<String> = value
        .split_whitespace()
        .map(|query| {
            let query = query.trim_end_matches(',');
            lesson
                .tasks
                .iter()
                .find(|t| t.prefix == query || t.short_name() == query)
                .map(|t| t.prefix.clone())
                .ok_or_else(|| {
                    format!(
                        "`task: {value}`: lesson {} has no task `{query}`",
                        lesson.id
                    )
                })
        })
        .collect::<Result<_, _>>()?;
    if tasks.is_empty() {
        return Err("`task:` is empty".to_owned());
    }
    Ok(tasks)
}

fn parse_stage(value: &str, lesson: &Lesson) -> Result<Stage, String> {
    let stage = [Stage::Test, Stage::Loom]
        .into_iter()
        .find(|s| s.name() == value)
        .ok_or_else(|| format!("`stage: {value}`: a bug is caught in the test or loom stage"))?;
    if !lesson.stages.contains(&stage) {
        return Err(format!(
            "`stage: {value}`: lesson {} has no {value} stage",
            lesson.id
        ));
    }
    Ok(stage)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::Course;

    fn lesson() -> Lesson {
        let course = Course::parse(
            r#"
            [course]
            title = "T"
            [[lesson]]
            id = "01-x"
            title = "X"
            exercise = "x"
            solution = "x-solution"
            chapter = "book/src/01-x.md"
            stages = ["test", "loom"]
            [[lesson.task]]
            prefix = "t1_"
            name = "One"
            points = 1
            [[lesson.task]]
            prefix = "t2_"
            name = "Two"
            points = 1
            "#,
        )
        .unwrap();
        course.lessons[0].clone()
    }

    const DIFF: &str = "--- a/src/lib.rs\n+++ b/src/lib.rs\n@@ -1 +1 @@\n-a\n+b\n";

    #[test]
    fn parses_the_header_and_keeps_the_diff() {
        let text = format!("task: t1 t2_\nwhy: joins too early\nstage: loom\n{DIFF}");
        let entry = parse("early-join".into(), &text, &lesson()).unwrap();
        assert_eq!(entry.tasks, ["t1_", "t2_"]);
        assert_eq!(entry.task_names(), "t1 t2");
        assert_eq!(entry.why, "joins too early");
        assert_eq!(entry.stage, Some(Stage::Loom));
        assert_eq!(entry.diff, DIFF);
    }

    #[test]
    fn a_git_diff_header_starts_the_diff() {
        let text = format!("task: t1\nwhy: w\ndiff --git a/src/lib.rs b/src/lib.rs\n{DIFF}");
        let entry = parse("g".into(), &text, &lesson()).unwrap();
        assert!(entry.diff.starts_with("diff --git"), "{}", entry.diff);
        assert_eq!(entry.stage, None);
    }

    #[test]
    fn rejects_what_would_make_the_entry_meaningless() {
        let problem = |text: &str| parse("x".into(), text, &lesson()).unwrap_err();
        assert!(problem(&format!("why: w\n{DIFF}")).contains("no `task:`"));
        assert!(problem(&format!("task: t1\n{DIFF}")).contains("no `why:`"));
        assert!(problem(&format!("task: t9\nwhy: w\n{DIFF}")).contains("no task `t9`"));
        assert!(
            problem(&format!("task: t1\nwhy: w\nstage: miri\n{DIFF}")).contains("test or loom")
        );
        assert!(problem(&format!("task: t1\nwhy: w\ntsak: t2\n{DIFF}")).contains("unknown header"));
        assert!(problem(&format!("task: t1\ntask: t2\nwhy: w\n{DIFF}")).contains("twice"));
        assert!(problem("task: t1\nwhy: w\n").contains("no diff"));
        assert!(problem("task: t1\nwhy: w\n--- a/x\n+++ b/x\n").contains("no hunk"));
    }
}
