//! Checks on a lesson's book chapter: it exists, `SUMMARY.md` links it, and
//! every `{{#include}}` names a file and anchor that exist. (mdBook renders
//! a mistyped anchor as an empty block, without a warning.)

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

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
    let dir = chapter.parent().map(Path::to_path_buf).unwrap_or_default();
    let includes = find_includes(&text);
    for include in &includes {
        check_include(&dir, include).with_context(|| format!("in {}", chapter.display()))?;
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

        std::fs::write(
            &chapter,
            "{{#include ../code.rs:good}} {{#include ../code.rs:2:3}}",
        )
        .unwrap();
        assert_eq!(check_chapter(book.path(), &chapter).unwrap(), 2);

        std::fs::write(&chapter, "{{#include ../code.rs:typo}}").unwrap();
        let err = format!("{:#}", check_chapter(book.path(), &chapter).unwrap_err());
        assert!(err.contains("ANCHOR: typo"), "{err}");

        std::fs::write(&chapter, "{{#include ../missing.rs}}").unwrap();
        let err = format!("{:#}", check_chapter(book.path(), &chapter).unwrap_err());
        assert!(err.contains("does not exist"), "{err}");

        let unlinked = src.join("two.md");
        std::fs::write(&unlinked, "text").unwrap();
        let err = format!("{:#}", check_chapter(book.path(), &unlinked).unwrap_err());
        assert!(err.contains("does not link"), "{err}");
    }
}
