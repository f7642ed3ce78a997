//! Checks on a lesson's book chapter: it exists, `SUMMARY.md` links it, and
//! every `{{#include}}` names a file and anchor that exist. (mdBook renders
//! a mistyped anchor as an empty block, without a warning.)

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

/// The chapter template every lesson chapter follows (`checker dev new`
/// copies it; `checker dev check` holds chapters to its sections).
pub const TEMPLATE: &str = include_str!("../../book/chapter-template.md");

/// Marks the placeholders `checker dev new` writes; `dev check` fails while
/// any is left.
pub const SCAFFOLD_MARK: &str = "TODO(scaffold)";

/// The `## ` section titles of `text`, outside code blocks.
pub fn sections(text: &str) -> Vec<&str> {
    let mut fenced = false;
    let mut found = Vec::new();
    for line in text.lines() {
        if line.trim_start().starts_with("```") {
            fenced = !fenced;
        } else if !fenced && let Some(title) = line.strip_prefix("## ") {
            found.push(title.trim());
        }
    }
    found
}

/// Checks that `text` has the template's sections in the template's order
/// (a section title may go on, as in "What the benchmark shows: ...") and no
/// placeholder left by `dev new`.
pub fn check_template(text: &str) -> Result<()> {
    let wanted = sections(TEMPLATE);
    let mut next = 0;
    for title in sections(text) {
        if next < wanted.len() && title.starts_with(wanted[next]) {
            next += 1;
        }
    }
    if let Some(missing) = wanted.get(next) {
        bail!(
            "the chapter lacks the template's section `## {missing}`, or has it out of order; \
             the sections, in order: {}",
            wanted.join(" · ")
        );
    }
    let placeholders = text.matches(SCAFFOLD_MARK).count();
    if placeholders > 0 {
        bail!("the chapter still has {placeholders} `{SCAFFOLD_MARK}` placeholder(s)");
    }
    Ok(())
}

/// An `{{#include path:anchor}}` (or `rustdoc_include`) found in a chapter.
#[derive(Debug, PartialEq, Eq)]
pub struct Include {
    pub path: String,
    /// An anchor name, a line range such as `3:9`, or nothing.
    pub selector: Option<String>,
}

/// Checks the chapter and returns how many includes it has.
pub fn check_chapter(book_dir: &Path, chapter: &Path) -> Result<usize> {
    let text = std::fs::read_to_string(chapter)
        .with_context(|| format!("the chapter {} is missing", chapter.display()))?;
    let src = book_dir.join("src");
    let summary_path = src.join("SUMMARY.md");
    let summary = std::fs::read_to_string(&summary_path)
        .with_context(|| format!("cannot read {}", summary_path.display()))?;
    let relative = chapter.strip_prefix(&src).with_context(|| {
        format!(
            "the chapter {} is not under {}",
            chapter.display(),
            src.display()
        )
    })?;
    let link = format!("]({})", relative.display());
    if !summary.contains(&link) {
        bail!(
            "{} does not link the chapter ({})",
            summary_path.display(),
            relative.display()
        );
    }
    check_template(&text).with_context(|| format!("in {}", chapter.display()))?;
    let dir = chapter.parent().map(Path::to_path_buf).unwrap_or_default();
    let includes = find_includes(&text);
    for include in &includes {
        check_include(&dir, include).with_context(|| format!("in {}", chapter.display()))?;
    }
    for quiz in find_directives(&text, "quiz") {
        check_quiz(&dir.join(&quiz)).with_context(|| format!("in {}", chapter.display()))?;
    }
    Ok(includes.len())
}

/// Every unescaped include directive in `text`.
pub fn find_includes(text: &str) -> Vec<Include> {
    let mut found = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("{{#") {
        let escaped = rest[..start].ends_with('\\');
        let after = &rest[start + 3..];
        let Some(end) = after.find("}}") else { break };
        let body = after[..end].trim();
        rest = &after[end + 2..];
        if escaped {
            continue;
        }
        let argument = body
            .strip_prefix("include ")
            .or_else(|| body.strip_prefix("rustdoc_include "));
        if let Some(argument) = argument {
            let argument = argument.trim();
            let (path, selector) = match argument.split_once(':') {
                Some((path, selector)) => (path, Some(selector.to_string())),
                None => (argument, None),
            };
            found.push(Include {
                path: path.to_string(),
                selector,
            });
        }
    }
    found
}

/// The arguments of every unescaped `{{#name argument}}` in `text`.
pub fn find_directives(text: &str, name: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut rest = text;
    let opening = format!("{{{{#{name} ");
    while let Some(start) = rest.find(&opening) {
        let escaped = rest[..start].ends_with('\\');
        let after = &rest[start + opening.len()..];
        let Some(end) = after.find("}}") else { break };
        if !escaped {
            found.push(after[..end].trim().to_string());
        }
        rest = &after[end + 2..];
    }
    found
}

/// A quiz file (mdbook-quiz) exists, parses, asks something, and holds no
/// scaffold placeholder.
fn check_quiz(path: &Path) -> Result<()> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("the quiz {} does not exist", path.display()))?;
    let quiz: toml::Table = toml::from_str(&text)
        .with_context(|| format!("the quiz {} is not TOML", path.display()))?;
    let questions = quiz
        .get("questions")
        .and_then(|q| q.as_array())
        .map_or(0, Vec::len);
    if questions == 0 {
        bail!("the quiz {} has no [[questions]]", path.display());
    }
    if text.contains(SCAFFOLD_MARK) {
        bail!(
            "the quiz {} still has `{SCAFFOLD_MARK}` placeholders",
            path.display()
        );
    }
    Ok(())
}

fn check_include(dir: &Path, include: &Include) -> Result<()> {
    let path: PathBuf = dir.join(&include.path);
    let text = std::fs::read_to_string(&path).with_context(|| {
        format!(
            "`{{{{#include {}}}}}` names a file that does not exist",
            include.path
        )
    })?;
    let Some(selector) = &include.selector else {
        return Ok(());
    };
    let is_range = selector
        .split(':')
        .all(|part| part.is_empty() || part.chars().all(|c| c.is_ascii_digit()));
    if is_range {
        return Ok(());
    }
    let has = |marker: &str| {
        text.lines()
            .any(|l| l.trim_start().trim_start_matches("//").trim() == marker)
    };
    if !has(&format!("ANCHOR: {selector}")) || !has(&format!("ANCHOR_END: {selector}")) {
        bail!(
            "`{}` has no `ANCHOR: {selector}` ... `ANCHOR_END: {selector}` pair",
            include.path
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A chapter with every section of the template and nothing else.
    fn all_sections() -> String {
        sections(TEMPLATE)
            .iter()
            .map(|t| format!("## {t}\n\ntext\n\n"))
            .collect()
    }

    #[test]
    fn the_template_has_its_own_sections_and_placeholders() {
        let wanted = sections(TEMPLATE);
        assert_eq!(
            wanted.first(),
            Some(&"What you will build, and why a database needs it")
        );
        assert_eq!(wanted.last(), Some(&"Further reading"));
        let err = check_template(TEMPLATE).unwrap_err().to_string();
        assert!(err.contains(SCAFFOLD_MARK), "{err}");
    }

    #[test]
    fn chapters_need_every_section_in_order() {
        let all = all_sections();
        check_template(&all).unwrap();
        let longer = all.replace("## Pitfalls", "## Extra\n\n## Pitfalls and traps");
        check_template(&longer).expect("extra sections and longer titles are fine");
        let missing = all.replace("## Self-check", "## Quiz");
        let err = check_template(&missing).unwrap_err().to_string();
        assert!(err.contains("`## Self-check`"), "{err}");
        let fenced = all.replace("## Pitfalls", "```text\n## Pitfalls\n```");
        assert!(
            check_template(&fenced).is_err(),
            "a heading in a code block is no section"
        );
    }

    #[test]
    fn quizzes_must_exist_parse_and_ask_something() {
        let dir = tempfile::tempdir().unwrap();
        let quiz = dir.path().join("q.toml");
        assert!(check_quiz(&quiz).is_err(), "a missing quiz");
        std::fs::write(&quiz, "title = 'x'").unwrap();
        assert!(check_quiz(&quiz).is_err(), "a quiz without questions");
        std::fs::write(&quiz, "[[questions]]\ntype = 'ShortAnswer'\n").unwrap();
        check_quiz(&quiz).unwrap();
        assert_eq!(
            find_directives("a {{#quiz ../q/a.toml}} \\{{#quiz no.toml}}", "quiz"),
            vec!["../q/a.toml"]
        );
    }

    #[test]
    fn finds_includes_and_skips_escaped_ones() {
        let text = "a {{#include ../x.rs:task1}} b \\{{#include nope.rs}} {{#rustdoc_include y.rs}} {{#title T}}";
        assert_eq!(
            find_includes(text),
            vec![
                Include {
                    path: "../x.rs".into(),
                    selector: Some("task1".into())
                },
                Include {
                    path: "y.rs".into(),
                    selector: None
                },
            ]
        );
    }

    #[test]
    fn checks_files_anchors_and_the_summary_link() {
        let book = tempfile::tempdir().unwrap();
        let src = book.path().join("src");
        std::fs::create_dir_all(&src).unwrap();
        std::fs::write(
            book.path().join("code.rs"),
            "// ANCHOR: good\nfn f() {}\n// ANCHOR_END: good\n",
        )
        .unwrap();
        std::fs::write(src.join("SUMMARY.md"), "- [One](one.md)\n").unwrap();
        let chapter = src.join("one.md");

        let body = all_sections();
        std::fs::write(
            &chapter,
            format!("{body}{{{{#include ../code.rs:good}}}} {{{{#include ../code.rs:2:3}}}}"),
        )
        .unwrap();
        assert_eq!(check_chapter(book.path(), &chapter).unwrap(), 2);

        std::fs::write(&chapter, format!("{body}{{{{#include ../code.rs:typo}}}}")).unwrap();
        let err = format!("{:#}", check_chapter(book.path(), &chapter).unwrap_err());
        assert!(err.contains("ANCHOR: typo"), "{err}");

        std::fs::write(&chapter, format!("{body}{{{{#include ../missing.rs}}}}")).unwrap();
        let err = format!("{:#}", check_chapter(book.path(), &chapter).unwrap_err());
        assert!(err.contains("does not exist"), "{err}");

        let unlinked = src.join("two.md");
        std::fs::write(&unlinked, "text").unwrap();
        let err = format!("{:#}", check_chapter(book.path(), &unlinked).unwrap_err());
        assert!(err.contains("does not link"), "{err}");
    }
}
