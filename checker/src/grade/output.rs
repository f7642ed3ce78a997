//! The grader's reports: `grades.csv`, `grades.json`, one Gradescope
//! `results.json` per student, and `report.md` for the instructor.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{Context, Result};
use serde_json::json;

use super::{FindingKind, StudentGrade};
use crate::grading::TaskStatus;
use crate::manifest::Lesson;
use crate::workspace::Workspace;

pub fn write_all(
    out: &Path,
    pristine: &Workspace,
    lessons: &[&Lesson],
    grades: &[StudentGrade],
    uids: &[u32],
    isolation: &str,
) -> Result<()> {
    write_csv(&out.join("grades.csv"), lessons, grades)?;
    let json = json!({
        "course": pristine.course.course.title,
        "checker_version": env!("CARGO_PKG_VERSION"),
        "isolation": isolation,
        "sandbox_uids": uids,
        "lessons": lessons.iter().map(|l| json!({
            "id": l.id,
            "max_points": l.max_points(),
            "tasks": l.tasks.iter().map(|t| json!({"prefix": t.prefix, "name": t.name, "points": t.points})).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
        "students": grades,
    });
    write(
        &out.join("grades.json"),
        &serde_json::to_string_pretty(&json)?,
    )?;
    for grade in grades {
        let dir = out.join("gradescope").join(&grade.student);
        std::fs::create_dir_all(&dir)
            .with_context(|| format!("cannot create {}", dir.display()))?;
        write(
            &dir.join("results.json"),
            &serde_json::to_string_pretty(&gradescope(grade))?,
        )?;
    }
    write(
        &out.join("report.md"),
        &report(&pristine.course.course.title, lessons, grades, isolation),
    )
}

/// The most characters of a failure, a compiler error or a test's output
/// kept in the reports.
pub const DETAIL_CHARS: usize = 2000;

/// `text` cut to [`DETAIL_CHARS`] characters, saying so when cut.
pub fn cap_chars(text: &str) -> String {
    match text.char_indices().nth(DETAIL_CHARS) {
        None => text.to_string(),
        Some((at, _)) => format!("{}\n[... cut at {DETAIL_CHARS} characters]", &text[..at]),
    }
}

/// Text that stays inside one Markdown table cell and renders as itself:
/// no line breaks or control characters, no table pipes, no HTML, no
/// emphasis, links or code spans.
pub fn md_cell(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\n' | '\r' | '\t' => out.push(' '),
            c if c.is_control() => out.push('\u{FFFD}'),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '|' | '\\' | '`' | '*' | '_' | '[' | ']' | '#' | '!' | '~' => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
    out
}

/// A CSV field a spreadsheet will not run as a formula.
fn csv_text(text: &str) -> String {
    if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{text}")
    } else {
        text.to_string()
    }
}

fn write(path: &Path, text: &str) -> Result<()> {
    std::fs::write(path, text).with_context(|| format!("cannot write {}", path.display()))
}

/// One row per student: a column per lesson, the total, and counts of findings.
fn write_csv(path: &Path, lessons: &[&Lesson], grades: &[StudentGrade]) -> Result<()> {
    let mut writer =
        csv::Writer::from_path(path).with_context(|| format!("cannot write {}", path.display()))?;
    let mut header = vec!["student".to_string()];
    header.extend(lessons.iter().map(|l| l.id.clone()));
    header.extend(["total", "max", "findings", "error"].map(str::to_string));
    writer.write_record(&header)?;
    for grade in grades {
        let mut row = vec![csv_text(&grade.student)];
        for lesson in lessons {
            let points = grade
                .lessons
                .iter()
                .find(|l| l.id == lesson.id)
                .map_or(0, |l| l.points);
            row.push(points.to_string());
        }
        row.push(grade.points.to_string());
        row.push(grade.max_points.to_string());
        row.push(grade.findings.len().to_string());
        row.push(csv_text(&grade.error.clone().unwrap_or_default()));
        writer.write_record(&row)?;
    }
    writer
        .flush()
        .with_context(|| format!("cannot write {}", path.display()))
}

/// Gradescope's `results.json` for one student.
pub fn gradescope(grade: &StudentGrade) -> serde_json::Value {
    let mut tests = Vec::new();
    for (l, lesson) in grade.lessons.iter().enumerate() {
        for (t, task) in lesson.tasks.iter().enumerate() {
            let mut output = task.failure.clone();
            if task.status != TaskStatus::Passed && task.stage != crate::manifest::Stage::Test {
                output = format!("failed in the {} stage\n{output}", task.stage);
            }
            tests.push(json!({
                "name": format!("{} {}: {}", lesson.id, task.prefix.trim_end_matches('_'), task.name),
                "number": format!("{}.{}", l + 1, t + 1),
                "score": task.points,
                "max_score": task.max_points,
                "status": if task.status == TaskStatus::Passed { "passed" } else { "failed" },
                "output": output,
                "visibility": "visible",
                "tags": [lesson.id],
            }));
        }
    }
    let mut output = Vec::new();
    if let Some(error) = &grade.error {
        output.push(format!("Problem with the submission: {error}"));
    }
    for finding in &grade.findings {
        output.push(format!("Note ({}): {}", finding.lesson, finding.detail));
    }
    json!({
        "score": grade.points,
        "execution_time": grade.total_secs.round() as u64,
        "output": output.join("\n"),
        "visibility": "visible",
        "stdout_visibility": "hidden",
        "tests": tests,
    })
}

/// The instructor's page: totals, the distribution, tasks hardest first,
/// findings, and what the run cost.
fn report(title: &str, lessons: &[&Lesson], grades: &[StudentGrade], isolation: &str) -> String {
    let max: u32 = lessons.iter().map(|l| l.max_points()).sum();
    let mut totals: Vec<u32> = grades.iter().map(|g| g.points).collect();
    totals.sort_unstable();
    let n = totals.len().max(1);
    let mean = f64::from(totals.iter().sum::<u32>()) / n as f64;
    let median = match totals.len() {
        0 => 0.0,
        len if len % 2 == 1 => f64::from(totals[len / 2]),
        len => f64::from(totals[len / 2 - 1] + totals[len / 2]) / 2.0,
    };
    let mut md = format!(
        "# Grades: {title}\n\n{} student(s), {} lesson(s), {max} points in all.\n\n",
        grades.len(),
        lessons.len()
    );
    md.push_str(&format!("Isolation: {}.\n\n", md_cell(isolation)));
    md.push_str(&format!(
        "Mean {mean:.1}, median {median:.1}, lowest {}, highest {}.\n\n",
        totals.first().unwrap_or(&0),
        totals.last().unwrap_or(&0)
    ));

    md.push_str("## Distribution of totals\n\n```text\n");
    let mut buckets = [0usize; 10];
    for &total in &totals {
        let share = (total * 10)
            .checked_div(max)
            .map_or(0, |s| s.min(9) as usize);
        buckets[share] += 1;
    }
    for (i, count) in buckets.iter().enumerate() {
        md.push_str(&format!(
            "{:>3}-{:>3}%  {:<3} {}\n",
            i * 10,
            i * 10 + 10,
            count,
            "#".repeat(*count)
        ));
    }
    md.push_str("```\n\n");

    md.push_str("## Tasks, hardest first\n\n| lesson | task | passed | pass rate | most common failure |\n|---|---|---|---|---|\n");
    let mut rows = Vec::new();
    for lesson in lessons {
        for task in &lesson.tasks {
            let results: Vec<_> = grades
                .iter()
                .filter_map(|g| g.lessons.iter().find(|l| l.id == lesson.id))
                .filter_map(|l| l.tasks.iter().find(|t| t.prefix == task.prefix))
                .collect();
            let passed = results
                .iter()
                .filter(|t| t.status == TaskStatus::Passed)
                .count();
            let mut reasons: BTreeMap<&str, usize> = BTreeMap::new();
            for failed in results.iter().filter(|t| t.status != TaskStatus::Passed) {
                *reasons.entry(failed.status.label()).or_default() += 1;
            }
            let common = reasons
                .iter()
                .max_by_key(|(_, c)| **c)
                .map(|(r, c)| format!("{r} ({c})"))
                .unwrap_or_default();
            let rate = passed as f64 / results.len().max(1) as f64;
            rows.push((
                rate,
                format!(
                    "| {} | {} {} | {passed}/{} | {:.0}% | {common} |\n",
                    lesson.id,
                    task.short_name(),
                    task.name,
                    results.len(),
                    rate * 100.0
                ),
            ));
        }
    }
    rows.sort_by(|a, b| a.0.total_cmp(&b.0));
    for (_, row) in rows {
        md.push_str(&row);
    }

    md.push_str("\n## Students\n\n| student | total |");
    for lesson in lessons {
        md.push_str(&format!(" {} |", lesson.id));
    }
    md.push_str(" findings | problem |\n|---|---|");
    md.push_str(&"---|".repeat(lessons.len() + 2));
    md.push('\n');
    for grade in grades {
        md.push_str(&format!(
            "| {} | {}/{} |",
            md_cell(&grade.student),
            grade.points,
            grade.max_points
        ));
        for lesson in lessons {
            let cell =
                grade
                    .lessons
                    .iter()
                    .find(|l| l.id == lesson.id)
                    .map_or("-".to_string(), |l| {
                        if l.compile_error.is_some() {
                            format!("{} (does not compile)", l.points)
                        } else {
                            l.points.to_string()
                        }
                    });
            md.push_str(&format!(" {cell} |"));
        }
        md.push_str(&format!(
            " {} | {} |\n",
            grade.findings.len(),
            md_cell(grade.error.as_deref().unwrap_or(""))
        ));
    }

    md.push_str("\n## Tamper findings\n\nGrades always come from the instructor's tests; these change no grade but say where to look.\n\n");
    let findings: Vec<_> = grades
        .iter()
        .flat_map(|g| g.findings.iter().map(move |f| (g, f)))
        .collect();
    if findings.is_empty() {
        md.push_str("None.\n");
    } else {
        md.push_str("| student | lesson | kind | detail |\n|---|---|---|---|\n");
        for (grade, finding) in findings {
            md.push_str(&format!(
                "| {} | {} | {} | {} |\n",
                md_cell(&grade.student),
                md_cell(&finding.lesson),
                kind_name(finding.kind),
                md_cell(&finding.detail)
            ));
        }
    }

    md.push_str(&cost(grades));
    md
}

fn kind_name(kind: FindingKind) -> &'static str {
    match kind {
        FindingKind::EditedTest => "edited test",
        FindingKind::DeletedTest => "deleted test",
        FindingKind::AddedDependency => "added dependency",
        FindingKind::BuildScript => "build script",
        FindingKind::ProcMacro => "proc-macro",
        FindingKind::ChangedOutsideSrc => "changed outside src/",
        FindingKind::SuspiciousCode => "suspicious code",
        FindingKind::Symlink => "symbolic link",
    }
}

/// What the run cost: the first build compiles the dependencies, the rest
/// only the students' own crates.
fn cost(grades: &[StudentGrade]) -> String {
    let Some(first) = grades.iter().find(|g| g.build_secs > 0.0) else {
        return String::new();
    };
    let rest: Vec<f64> = grades
        .iter()
        .filter(|g| g.build_secs > 0.0)
        .skip(1)
        .map(|g| g.build_secs)
        .collect();
    let mut text = format!(
        "\n## Cost\n\nThe first student graded here built in {:.1} s, dependencies included.",
        first.build_secs
    );
    if !rest.is_empty() {
        let average = rest.iter().sum::<f64>() / rest.len() as f64;
        text.push_str(&format!(
            " The other {} built in {average:.1} s on average, {:.0}x less, because every student shares one target directory.",
            rest.len(),
            first.build_secs / average.max(0.001)
        ));
    }
    text.push_str(" (Students already graded in an earlier run are not timed again.)\n");
    text
}

/// The line printed at the end of a grading run.
pub fn summary_line(grades: &[StudentGrade], out: &Path) -> String {
    let flagged = grades.iter().filter(|g| !g.findings.is_empty()).count();
    format!(
        "Graded {} student(s); {flagged} with tamper findings. Reports in {}: grades.csv, grades.json, report.md, gradescope/<student>/results.json",
        grades.len(),
        out.display()
    )
}
