//! Plain-text rendering: aligned tables and indented failure excerpts.

use crate::grading::{TaskResult, TaskStatus};
use crate::style;

/// How many lines of a compiler error are shown.
const COMPILE_ERROR_LINES: usize = 30;

/// Left-aligned columns separated by two spaces; the first row is the header.
pub fn table(rows: &[Vec<String>]) -> String {
    table_with(rows, &[])
}

/// Like [`table`], with the status words of the `status_columns` coloured
/// (on a terminal; see [`crate::style`]).
pub fn table_with(rows: &[Vec<String>], status_columns: &[usize]) -> String {
    let columns = rows.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..columns)
        .map(|c| {
            rows.iter()
                .filter_map(|r| r.get(c))
                .map(|s| s.chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = String::new();
    for row in rows {
        let cells: Vec<String> = row
            .iter()
            .enumerate()
            .map(|(c, s)| {
                let padded = format!("{s:<w$}", w = widths[c]);
                if status_columns.contains(&c) {
                    style::status_cell(&padded)
                } else {
                    padded
                }
            })
            .collect();
        out.push_str(cells.join("  ").trim_end());
        out.push('\n');
    }
    out
}

/// Wraps `text` at word boundaries so no line is longer than `width`
/// (a single longer word keeps its own line). Existing line breaks stay.
pub fn wrap(text: &str, width: usize) -> String {
    let mut out = Vec::new();
    for paragraph in text.lines() {
        let mut line = String::new();
        for word in paragraph.split_whitespace() {
            if !line.is_empty() && line.chars().count() + 1 + word.chars().count() > width {
                out.push(std::mem::take(&mut line));
            }
            if !line.is_empty() {
                line.push(' ');
            }
            line.push_str(word);
        }
        out.push(line);
    }
    out.join("\n")
}

/// Indents every line of `text` by `by` spaces.
pub fn indent(text: &str, by: usize) -> String {
    let pad = " ".repeat(by);
    text.lines()
        .map(|l| format!("{pad}{l}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// One line per task, each failing task followed by its first failure.
pub fn task_lines(tasks: &[TaskResult]) -> String {
    let rows: Vec<Vec<String>> = tasks
        .iter()
        .map(|t| {
            vec![
                format!("[{}]", t.status.label()),
                t.prefix.trim_end_matches('_').to_string(),
                t.name.clone(),
                format!("{}/{}", t.earned, t.points),
            ]
        })
        .collect();
    let lines: Vec<String> = table_with(&rows, &[0])
        .lines()
        .map(str::to_string)
        .collect();
    let mut out = String::new();
    for (line, task) in lines.iter().zip(tasks) {
        out.push_str(&format!("  {line}\n"));
        if let Some(why) = failure_summary(task) {
            out.push_str(&indent(&why, 6));
            out.push('\n');
        }
    }
    out
}

/// What to show under a task that did not pass.
fn failure_summary(task: &TaskResult) -> Option<String> {
    match task.status {
        TaskStatus::Passed
        | TaskStatus::CompileError
        | TaskStatus::NotInStage
        | TaskStatus::Skipped => None,
        TaskStatus::NoTests => Some(format!("no graded test starts with `{}`", task.prefix)),
        _ => {
            let bad: Vec<_> = task.tests.iter().filter(|t| t.verdict.is_bad()).collect();
            // A `todo!()` says most plainly what is left to do.
            let first = bad
                .iter()
                .find(|t| t.detail.contains("not yet implemented"))
                .or(bad.first())?;
            // A multi-line story reads best starting on a line of its own.
            let sep = if first.detail.starts_with("Power lost") {
                ":\n"
            } else {
                ": "
            };
            let mut text = format!("{}{sep}{}", first.name, first.detail);
            if bad.len() > 1 {
                text.push_str(&format!(
                    "\n(+{} more failing test(s) in this task)",
                    bad.len() - 1
                ));
            }
            Some(text)
        }
    }
}

/// The first compiler error, shortened, and how many more there are.
pub fn compile_errors(errors: &[String], package: &str) -> String {
    let Some(first) = errors.first() else {
        return String::new();
    };
    let lines: Vec<&str> = first.trim_end().lines().collect();
    let mut out = lines[..lines.len().min(COMPILE_ERROR_LINES)].join("\n");
    if lines.len() > COMPILE_ERROR_LINES {
        out.push_str("\n...");
    }
    if errors.len() > 1 {
        out.push_str(&format!(
            "\n(+{} more error(s); `cargo test -p {package}` shows them all)",
            errors.len() - 1
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_aligns_columns_and_trims_line_ends() {
        let rows = vec![
            vec!["a".to_string(), "bb".to_string()],
            vec!["ccc".to_string(), "d".to_string()],
        ];
        assert_eq!(table(&rows), "a    bb\nccc  d\n");
    }

    #[test]
    fn wrap_breaks_at_words_and_keeps_line_breaks() {
        assert_eq!(wrap("aaa bbb ccc\nd", 7), "aaa bbb\nccc\nd");
        assert_eq!(
            wrap("averyveryverylongword x", 5),
            "averyveryverylongword\nx"
        );
    }

    #[test]
    fn compile_errors_show_the_first_and_count_the_rest() {
        let errors = vec![
            "error[E0308]: mismatched types\n --> src/lib.rs:1:1".to_string(),
            "error: two".to_string(),
        ];
        let out = compile_errors(&errors, "threads");
        assert!(
            out.starts_with("error[E0308]: mismatched types\n --> src/lib.rs:1:1\n"),
            "{out}"
        );
        assert!(
            out.ends_with("(+1 more error(s); `cargo test -p threads` shows them all)"),
            "{out}"
        );
    }
}
