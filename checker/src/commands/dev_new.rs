//! `checker dev new <NN-name>`: scaffolds a lesson that `dev check` rejects
//! until it is real: an exercise and a solution crate sharing one test
//! file, a manifest entry, workspace members, and a chapter from the
//! template, each with `TODO(scaffold)` placeholders.

use std::fs;
use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use toml_edit::{Array, DocumentMut, Item};

use crate::book::{SCAFFOLD_MARK, TEMPLATE};
use crate::manifest::MANIFEST_FILE;
use crate::workspace::Workspace;

/// The names a new lesson's files and packages take.
#[derive(Debug, PartialEq, Eq)]
pub struct Names {
    /// `12-compaction`
    pub dir: String,
    /// `12`
    pub number: String,
    /// `compaction`: the exercise package; the solution is `compaction-solution`.
    pub package: String,
    /// `compaction`: the shared library name.
    pub lib: String,
}

impl Names {
    /// Parses `NN-name`: two digits, a dash, and a lowercase name.
    pub fn parse(dir: &str) -> Result<Names> {
        let (number, name) = dir.split_once('-').unwrap_or(("", ""));
        let number_ok = number.len() == 2 && number.chars().all(|c| c.is_ascii_digit());
        let name_ok = name.starts_with(|c: char| c.is_ascii_lowercase())
            && name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
            && !name.ends_with('-');
        if !number_ok || !name_ok {
            bail!(
                "`{dir}` is not a lesson name: use two digits, a dash and a lowercase name, like `12-compaction`"
            );
        }
        Ok(Names {
            dir: dir.to_string(),
            number: number.to_string(),
            package: name.to_string(),
            lib: name.replace('-', "_"),
        })
    }

    fn solution(&self) -> String {
        format!("{}-solution", self.package)
    }
}

pub fn run(root: Option<&Path>, dir: &str, title: Option<&str>) -> Result<ExitCode> {
    let ws = Workspace::open(root)?;
    let names = Names::parse(dir)?;
    let title = title.map_or_else(|| names.package.replace('-', " "), str::to_string);
    refuse_clashes(&ws, &names)?;

    let inherited = Inherited::read(&ws.root.join("Cargo.toml"))?;
    write_crates(&ws.root, &names, &inherited)?;
    add_members(&ws.root.join("Cargo.toml"), &names)?;
    append_manifest(&ws.root.join(MANIFEST_FILE), &names, &title)?;
    write_chapter(&ws.book_dir(), &names, &title)?;
    Workspace::open(Some(&ws.root)).context(
        "the new lesson's files are written, but the workspace no longer loads; fix them or delete them",
    )?;

    println!("Scaffolded lesson {} ({title}):", names.dir);
    for path in [
        format!("exercises/{}/src/lib.rs", names.dir),
        format!("exercises/{}/tests/{}.rs", names.dir, names.lib),
        format!("solutions/{}/src/lib.rs", names.dir),
        format!("book/src/{}.md", names.dir),
        format!("book/quizzes/{}.toml", names.dir),
        MANIFEST_FILE.to_string(),
        "Cargo.toml (workspace members)".to_string(),
        "book/src/SUMMARY.md".to_string(),
    ] {
        println!("  {path}");
    }
    println!(
        "\n`cargo run -p checker -- dev check {}` fails until the tasks, hints and chapter are real:\n\
         replace every `{SCAFFOLD_MARK}` and make the solution pass.",
        names.dir
    );
    Ok(ExitCode::SUCCESS)
}

/// A new lesson must not overwrite or shadow anything.
fn refuse_clashes(ws: &Workspace, names: &Names) -> Result<()> {
    if let Some(lesson) = ws.course.lessons.iter().find(|l| {
        l.id == names.dir || l.id.split_once('-').map(|(n, _)| n) == Some(names.number.as_str())
    }) {
        bail!("lesson number {} is taken by {}", names.number, lesson.id);
    }
    for package in [&names.package, &names.solution()] {
        if ws.packages.contains_key(package) {
            bail!("the workspace already has a package named `{package}`");
        }
    }
    for dir in ["exercises", "solutions"] {
        let path = ws.root.join(dir).join(&names.dir);
        if path.exists() {
            bail!("{} already exists", path.display());
        }
    }
    let book = ws.book_dir();
    for file in [
        book.join("src").join(format!("{}.md", names.dir)),
        book.join("quizzes").join(format!("{}.toml", names.dir)),
    ] {
        if file.exists() {
            bail!("{} already exists", file.display());
        }
    }
    Ok(())
}

fn write(path: &Path, text: &str) -> Result<()> {
    if let Some(dir) = path.parent() {
        fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    fs::write(path, text).with_context(|| format!("cannot write {}", path.display()))
}

/// What the workspace lets its packages inherit.
struct Inherited {
    /// `[package]` lines: `edition.workspace = true` or `edition = "2024"`.
    package_lines: String,
    /// Whether `[workspace.lints]` exists.
    lints: bool,
}

impl Inherited {
    fn read(path: &Path) -> Result<Inherited> {
        let text =
            fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
        let doc: toml::Table =
            toml::from_str(&text).with_context(|| format!("cannot parse {}", path.display()))?;
        let workspace = doc.get("workspace").and_then(|w| w.as_table());
        let shared = workspace
            .and_then(|w| w.get("package"))
            .and_then(|p| p.as_table());
        let mut package_lines = String::new();
        let own = [
            ("edition", "\"2024\""),
            ("rust-version", ""),
            ("license", ""),
            ("publish", "false"),
        ];
        for (key, fallback) in own {
            if shared.is_some_and(|p| p.contains_key(key)) {
                package_lines.push_str(&format!("{key}.workspace = true\n"));
            } else if !fallback.is_empty() {
                package_lines.push_str(&format!("{key} = {fallback}\n"));
            }
        }
        Ok(Inherited {
            package_lines,
            lints: workspace.is_some_and(|w| w.contains_key("lints")),
        })
    }

    fn lints(&self) -> &'static str {
        if self.lints {
            "\n[lints]\nworkspace = true\n"
        } else {
            ""
        }
    }
}

fn write_crates(root: &Path, names: &Names, inherited: &Inherited) -> Result<()> {
    let exercise = root.join("exercises").join(&names.dir);
    let solution = root.join("solutions").join(&names.dir);
    write(
        &exercise.join("Cargo.toml"),
        &exercise_manifest(names, inherited),
    )?;
    write(
        &solution.join("Cargo.toml"),
        &solution_manifest(names, inherited),
    )?;
    write(
        &exercise.join("src/lib.rs"),
        &library(names, "your exercise"),
    )?;
    write(
        &solution.join("src/lib.rs"),
        &library(names, "the reference solution"),
    )?;
    write(
        &exercise.join(format!("tests/{}.rs", names.lib)),
        &tests(names),
    )
}

/// A `[package]` table inheriting what the workspace shares.
fn package_header(name: &str, description: &str, inherited: &Inherited) -> String {
    format!(
        "[package]\nname = \"{name}\"\nversion = \"0.1.0\"\ndescription = \"{description}\"\n{}",
        inherited.package_lines
    )
}

fn exercise_manifest(n: &Names, inherited: &Inherited) -> String {
    let description = format!("Lesson {} (your exercise)", n.number);
    package_header(&n.package, &description, inherited) + inherited.lints()
}

fn solution_manifest(n: &Names, inherited: &Inherited) -> String {
    let description = format!("Lesson {} (reference solution)", n.number);
    let header = package_header(&n.solution(), &description, inherited);
    format!(
        r#"{header}autotests = false

# Same lib name as the exercise, so the shared tests say `use {lib}::...`.
[lib]
name = "{lib}"
path = "src/lib.rs"

# The graded tests are written once, in the exercise crate.
[[test]]
name = "{lib}"
path = "../../exercises/{dir}/tests/{lib}.rs"
{lints}"#,
        lib = n.lib,
        dir = n.dir,
        lints = inherited.lints()
    )
}

fn library(n: &Names, whose: &str) -> String {
    format!(
        r#"//! Lesson {number}: {whose}. {SCAFFOLD_MARK}: say what the lesson builds.

// ANCHOR: task1
/// {SCAFFOLD_MARK}: the first task's function.
pub fn task1() -> u32 {{
    todo!("{SCAFFOLD_MARK}: write task 1")
}}
// ANCHOR_END: task1
"#,
        number = n.number
    )
}

fn tests(n: &Names) -> String {
    format!(
        r#"//! Graded tests for lesson {number}.
//!
//! - `t1_` grades task 1.

use {lib}::task1;

#[test]
fn t1_placeholder() {{
    // {SCAFFOLD_MARK}: a real test of task 1.
    assert_eq!(task1(), 1, "{SCAFFOLD_MARK}: say what was expected and why");
}}
"#,
        number = n.number,
        lib = n.lib
    )
}

/// Adds both crates to `members`, and the solution to `default-members`.
fn add_members(path: &Path, n: &Names) -> Result<()> {
    let text =
        fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let mut doc: DocumentMut = text
        .parse()
        .with_context(|| format!("cannot parse {}", path.display()))?;
    let workspace = doc
        .get_mut("workspace")
        .and_then(Item::as_table_like_mut)
        .with_context(|| format!("{} has no [workspace] table", path.display()))?;
    let entries = [
        (
            "members",
            vec![
                format!("exercises/{}", n.dir),
                format!("solutions/{}", n.dir),
            ],
        ),
        ("default-members", vec![format!("solutions/{}", n.dir)]),
    ];
    for (key, paths) in entries {
        let Some(array) = workspace.get_mut(key).and_then(Item::as_array_mut) else {
            if key == "members" {
                bail!("{} has no workspace members list", path.display());
            }
            continue;
        };
        for p in paths {
            push_like_the_rest(array, &p);
        }
    }
    write(path, &doc.to_string())
}

/// Appends `value`, laid out like the array's last element (the array keeps
/// its own trailing comma and closing line).
fn push_like_the_rest(array: &mut Array, value: &str) {
    let decor = array.iter().last().map(|v| v.decor().clone());
    array.push(value);
    if let (Some(decor), Some(last)) = (decor, array.iter_mut().last()) {
        *last.decor_mut() = decor;
    }
}

fn append_manifest(path: &Path, n: &Names, title: &str) -> Result<()> {
    let mut text =
        fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    if !text.ends_with('\n') {
        text.push('\n');
    }
    text.push_str(&format!(
        r#"
[[lesson]]
id = "{dir}"
title = "{title}"
exercise = "{package}"
solution = "{package}-solution"
chapter = "book/src/{dir}.md"
stages = ["test"]

[[lesson.task]]
prefix = "t1_"
name = "{SCAFFOLD_MARK}: task 1"
points = 10
hints = ["{SCAFFOLD_MARK}: a first, gentle hint", "{SCAFFOLD_MARK}: a nearly complete one"]
"#,
        dir = n.dir,
        title = title.replace('"', "'"),
        package = n.package
    ));
    write(path, &text)
}

fn write_chapter(book: &Path, n: &Names, title: &str) -> Result<()> {
    let chapter = TEMPLATE
        .replace("{{id_number}}", &n.number)
        .replace("{{title}}", title)
        .replace("{{dir}}", &n.dir)
        .replace("{{package}}", &n.package);
    // The template's own guidance comment is for its readers, not the chapter's.
    let chapter = match (chapter.find("<!--"), chapter.find("-->")) {
        (Some(start), Some(end)) if start < end => {
            format!("{}{}", &chapter[..start], chapter[end + 3..].trim_start())
        }
        _ => chapter,
    };
    let src = book.join("src");
    write(&src.join(format!("{}.md", n.dir)), &chapter)?;
    write(
        &book.join("quizzes").join(format!("{}.toml", n.dir)),
        &format!(
            r#"# The chapter's self-check, rendered by mdbook-quiz.
[[questions]]
type = "MultipleChoice"
prompt.prompt = "{SCAFFOLD_MARK}: a question the chapter answers"
answer.answer = "{SCAFFOLD_MARK}: the right answer"
prompt.distractors = ["{SCAFFOLD_MARK}: a tempting wrong answer"]
context = "{SCAFFOLD_MARK}: why the answer is right"
"#
        ),
    )?;
    let summary_path = src.join("SUMMARY.md");
    let summary = fs::read_to_string(&summary_path)
        .with_context(|| format!("cannot read {}", summary_path.display()))?;
    let line = format!("- [{} · {title}]({}.md)", n.number, n.dir);
    write(&summary_path, &insert_in_order(&summary, &line, &n.dir))
}

/// Inserts the summary `line` after the last chapter link whose file name
/// sorts before `dir`'s, or at the end.
fn insert_in_order(summary: &str, line: &str, dir: &str) -> String {
    let mut lines: Vec<&str> = summary.lines().collect();
    let link_of = |l: &str| -> Option<String> {
        let start = l.find("](")? + 2;
        let end = l[start..].find(')')? + start;
        Some(l[start..end].trim_end_matches(".md").to_string())
    };
    let at = lines
        .iter()
        .rposition(|l| {
            l.trim_start().starts_with("- [") && link_of(l).is_some_and(|f| f.as_str() < dir)
        })
        .map(|i| i + 1)
        .unwrap_or(lines.len());
    lines.insert(at, line);
    let mut out = lines.join("\n");
    out.push('\n');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_come_from_the_directory() {
        let names = Names::parse("12-write-batch").unwrap();
        assert_eq!(names.number, "12");
        assert_eq!(names.package, "write-batch");
        assert_eq!(names.lib, "write_batch");
        for bad in [
            "12", "1-x", "ab-x", "12-", "12-X", "12-a_b", "12-9x", "12-x-",
        ] {
            assert!(Names::parse(bad).is_err(), "{bad} should be refused");
        }
    }

    #[test]
    fn summary_lines_go_in_numeric_order() {
        let summary = "# Summary\n\n- [01 · A](01-a.md)\n- [03 · C](03-c.md)\n";
        assert_eq!(
            insert_in_order(summary, "- [02 · B](02-b.md)", "02-b"),
            "# Summary\n\n- [01 · A](01-a.md)\n- [02 · B](02-b.md)\n- [03 · C](03-c.md)\n"
        );
        assert!(insert_in_order(summary, "- [09 · Z](09-z.md)", "09-z").ends_with("(09-z.md)\n"));
    }

    #[test]
    fn members_are_added_in_the_files_own_layout() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("Cargo.toml");
        fs::write(
            &path,
            "[workspace]\nmembers = [\n    \"a\",\n    \"b\",\n]\ndefault-members = [\"b\"]\n",
        )
        .unwrap();
        add_members(&path, &Names::parse("05-new").unwrap()).unwrap();
        let text = fs::read_to_string(&path).unwrap();
        let doc: toml::Table = toml::from_str(&text).unwrap();
        let members = doc["workspace"]["members"].as_array().unwrap();
        assert_eq!(members.len(), 4, "{text}");
        assert!(text.contains("    \"exercises/05-new\",\n"), "{text}");
        let defaults = doc["workspace"]["default-members"].as_array().unwrap();
        assert_eq!(defaults.len(), 2, "{text}");
    }
}
