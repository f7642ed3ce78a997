//! The course manifest (`course.toml`): lessons, their tasks and stages.
//!
//! The checker knows nothing about any lesson except what this file says.

use std::collections::BTreeSet;
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result, bail};
use serde::{Deserialize, Serialize};

/// The manifest's file name, looked up in the workspace root.
pub const MANIFEST_FILE: &str = "course.toml";

/// The whole course, as written in `course.toml`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Course {
    pub course: CourseInfo,
    #[serde(default, rename = "lesson")]
    pub lessons: Vec<Lesson>,
}

/// Course-wide settings.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CourseInfo {
    pub title: String,
    /// The mdBook root, relative to the manifest.
    #[serde(default = "default_book")]
    pub book: PathBuf,
    #[serde(default = "default_timeout_secs")]
    pub default_timeout_secs: u64,
    /// Per-test timeout in the miri stage, which runs about 200 times slower.
    #[serde(default = "default_miri_timeout_secs")]
    pub miri_timeout_secs: u64,
    /// `LOOM_MAX_PREEMPTIONS` for lessons that do not set their own.
    #[serde(default = "default_loom_max_preemptions")]
    pub loom_max_preemptions: u32,
}

fn default_book() -> PathBuf {
    PathBuf::from("book")
}

fn default_timeout_secs() -> u64 {
    30
}

fn default_benches() -> Vec<String> {
    vec!["compare".to_string()]
}

fn default_miri_timeout_secs() -> u64 {
    300
}

fn default_loom_max_preemptions() -> u32 {
    2
}

/// One lesson: an exercise crate, its solution crate and its chapter.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Lesson {
    pub id: String,
    pub title: String,
    /// Cargo package name of the learner's crate.
    pub exercise: String,
    /// Cargo package name of the reference solution.
    pub solution: String,
    /// The chapter's Markdown file, relative to the manifest.
    pub chapter: PathBuf,
    pub stages: Vec<Stage>,
    pub timeout_secs: Option<u64>,
    /// `MIRIFLAGS` for every test of the lesson in the miri stage.
    #[serde(default)]
    pub miri_flags: Vec<String>,
    /// `LOOM_MAX_PREEMPTIONS` for the loom stage (the course default if unset).
    pub loom_max_preemptions: Option<u32>,
    /// Bench targets shared by the exercise and the solution that `checker
    /// bench` runs against both, to compare the learner with the reference.
    #[serde(default = "default_benches")]
    pub benches: Vec<String>,
    #[serde(rename = "task")]
    pub tasks: Vec<Task>,
}

/// A graded unit: every test whose name starts with `prefix`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Task {
    pub prefix: String,
    pub name: String,
    pub points: u32,
    #[serde(default)]
    pub hints: Vec<String>,
    /// Extra `MIRIFLAGS` for this task's tests, after the lesson's.
    #[serde(default)]
    pub miri_flags: Vec<String>,
    /// The learner's files this task is written in, relative to the
    /// exercise crate (`src/writer.rs`): what `reset --task` restores.
    #[serde(default)]
    pub files: Vec<String>,
}

/// A way of running a lesson's tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Stage {
    /// `cargo test`, one process per test.
    Test,
    /// The loom model checker (`--cfg loom`).
    Loom,
    /// Miri, the undefined-behaviour detector, on nightly.
    Miri,
    /// Criterion benchmarks.
    Bench,
}

impl Stage {
    pub const ALL: [Stage; 4] = [Stage::Test, Stage::Loom, Stage::Miri, Stage::Bench];

    /// Stages a learner must pass for a task to count. Miri needs a nightly
    /// toolchain that not every machine has, and benchmarks grade nothing.
    pub fn is_required(self) -> bool {
        matches!(self, Stage::Test | Stage::Loom)
    }

    pub fn name(self) -> &'static str {
        match self {
            Stage::Test => "test",
            Stage::Loom => "loom",
            Stage::Miri => "miri",
            Stage::Bench => "bench",
        }
    }
}

impl fmt::Display for Stage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl Course {
    /// Reads and validates the manifest at `path`.
    pub fn load(path: &Path) -> Result<Course> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read the course manifest {}", path.display()))?;
        Course::parse(&text).with_context(|| format!("invalid course manifest {}", path.display()))
    }

    /// Parses and validates manifest text.
    pub fn parse(text: &str) -> Result<Course> {
        let course: Course = toml::from_str(text)?;
        course.validate()?;
        Ok(course)
    }

    fn validate(&self) -> Result<()> {
        let mut ids = BTreeSet::new();
        for lesson in &self.lessons {
            if !ids.insert(lesson.id.as_str()) {
                bail!("lesson `{}` is listed twice", lesson.id);
            }
            lesson.validate()?;
        }
        Ok(())
    }

    /// Finds a lesson by id (`01-threads`), number (`01`, `1`) or exercise package (`threads`).
    pub fn find_lesson(&self, query: &str) -> Result<&Lesson> {
        let by_number = |l: &&Lesson| {
            let number = l.id.split('-').next().unwrap_or_default();
            !query.is_empty()
                && query.chars().all(|c| c.is_ascii_digit())
                && number.trim_start_matches('0') == query.trim_start_matches('0')
        };
        self.lessons
            .iter()
            .find(|l| l.id == query || l.exercise == query)
            .or_else(|| self.lessons.iter().find(by_number))
            .with_context(|| {
                let known: Vec<&str> = self.lessons.iter().map(|l| l.id.as_str()).collect();
                format!("no lesson `{query}`; the lessons are: {}", known.join(", "))
            })
    }
}

impl Lesson {
    fn validate(&self) -> Result<()> {
        let context = || format!("lesson `{}`", self.id);
        if self.tasks.is_empty() {
            bail!("{}: has no tasks", context());
        }
        if !self.stages.contains(&Stage::Test) {
            bail!("{}: every lesson needs the `test` stage", context());
        }
        for (i, a) in self.tasks.iter().enumerate() {
            if a.prefix.is_empty() {
                bail!("{}: task {} has an empty prefix", context(), i + 1);
            }
            for b in &self.tasks[i + 1..] {
                if a.prefix.starts_with(&b.prefix) || b.prefix.starts_with(&a.prefix) {
                    bail!(
                        "{}: task prefixes `{}` and `{}` overlap, so a test could belong to both",
                        context(),
                        a.prefix,
                        b.prefix
                    );
                }
            }
        }
        Ok(())
    }

    /// The per-test timeout for this lesson.
    pub fn timeout(&self, course: &CourseInfo) -> Duration {
        Duration::from_secs(self.timeout_secs.unwrap_or(course.default_timeout_secs))
    }

    /// The task a test belongs to, if any.
    pub fn task_of(&self, test_name: &str) -> Option<&Task> {
        self.tasks.iter().find(|t| t.matches(test_name))
    }

    /// Finds a task by prefix (`t2_`), short name (`t2`) or position (`2`).
    pub fn find_task(&self, query: &str) -> Result<&Task> {
        let by_position = query
            .parse::<usize>()
            .ok()
            .and_then(|n| n.checked_sub(1))
            .and_then(|i| self.tasks.get(i));
        self.tasks
            .iter()
            .find(|t| t.prefix == query || t.short_name() == query)
            .or(by_position)
            .with_context(|| {
                let known: Vec<&str> = self.tasks.iter().map(Task::short_name).collect();
                format!(
                    "lesson {} has no task `{query}`; its tasks are: {}",
                    self.id,
                    known.join(", ")
                )
            })
    }

    pub fn max_points(&self) -> u32 {
        self.tasks.iter().map(|t| t.points).sum()
    }
}

impl Task {
    /// Whether a libtest name (possibly `module::path::name`) belongs to this task.
    pub fn matches(&self, test_name: &str) -> bool {
        let last = test_name.rsplit("::").next().unwrap_or(test_name);
        test_name.starts_with(&self.prefix) || last.starts_with(&self.prefix)
    }

    /// The prefix without its trailing separator: `t1_` → `t1`.
    pub fn short_name(&self) -> &str {
        self.prefix.trim_end_matches(['_', ':'])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = r#"
        [course]
        title = "Sample"

        [[lesson]]
        id = "01-threads"
        title = "Threads"
        exercise = "threads"
        solution = "threads-solution"
        chapter = "book/src/01-threads.md"
        stages = ["test", "miri"]

        [[lesson.task]]
        prefix = "t1_"
        name = "Spawn"
        points = 10
        hints = ["one", "two"]

        [[lesson.task]]
        prefix = "t2_"
        name = "Sum"
        points = 5
    "#;

    #[test]
    fn parses_lessons_tasks_and_defaults() {
        let course = Course::parse(SAMPLE).unwrap();
        assert_eq!(course.course.default_timeout_secs, 30);
        assert_eq!(course.course.book, PathBuf::from("book"));
        let lesson = &course.lessons[0];
        assert_eq!(lesson.stages, vec![Stage::Test, Stage::Miri]);
        assert_eq!(lesson.max_points(), 15);
        assert_eq!(lesson.tasks[0].hints.len(), 2);
        assert!(lesson.tasks[1].hints.is_empty());
    }

    #[test]
    fn finds_lessons_by_id_number_or_package() {
        let course = Course::parse(SAMPLE).unwrap();
        for query in ["01-threads", "01", "1", "threads"] {
            assert_eq!(
                course.find_lesson(query).unwrap().id,
                "01-threads",
                "{query}"
            );
        }
        let err = course.find_lesson("02").unwrap_err().to_string();
        assert!(err.contains("01-threads"), "{err}");
    }

    #[test]
    fn finds_tasks_by_prefix_short_name_or_position() {
        let course = Course::parse(SAMPLE).unwrap();
        let lesson = &course.lessons[0];
        for query in ["t2_", "t2", "2"] {
            assert_eq!(lesson.find_task(query).unwrap().prefix, "t2_", "{query}");
        }
        assert!(lesson.find_task("t9").is_err());
        assert!(lesson.find_task("0").is_err());
    }

    #[test]
    fn matches_plain_and_module_qualified_test_names() {
        let course = Course::parse(SAMPLE).unwrap();
        let lesson = &course.lessons[0];
        assert_eq!(lesson.task_of("t1_order").unwrap().prefix, "t1_");
        assert_eq!(lesson.task_of("graded::t2_sum").unwrap().prefix, "t2_");
        assert!(lesson.task_of("helper_t1_").is_none());
    }

    #[test]
    fn rejects_overlapping_prefixes() {
        let text = SAMPLE.replace("prefix = \"t2_\"", "prefix = \"t1_x\"");
        let err = format!("{:#}", Course::parse(&text).unwrap_err());
        assert!(err.contains("overlap"), "{err}");
    }

    #[test]
    fn rejects_unknown_stage_and_unknown_field() {
        let err = Course::parse(&SAMPLE.replace("\"miri\"", "\"fuzz\"")).unwrap_err();
        assert!(format!("{err:#}").contains("fuzz"), "{err:#}");
        let err =
            Course::parse(&SAMPLE.replace("points = 5", "points = 5\npoint = 1")).unwrap_err();
        assert!(format!("{err:#}").contains("point"), "{err:#}");
    }

    #[test]
    fn rejects_a_lesson_without_the_test_stage() {
        let err = Course::parse(&SAMPLE.replace("[\"test\", \"miri\"]", "[\"miri\"]")).unwrap_err();
        assert!(format!("{err:#}").contains("`test` stage"), "{err:#}");
    }
}
