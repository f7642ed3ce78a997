//! `checker bench <lesson>`: the learner's throughput as a ratio of the
//! reference's, measured in the same run on the same machine.
//!
//! Each lesson with a `bench` stage ships bench targets (by default one
//! named `compare`) shared by the exercise and the solution, like its tests.
//! A target prints one line per metric:
//! `bench-result name=<metric> value=<number> unit=<unit>` (higher is better).
//! The stage is informational: it never fails a task.

use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Result, bail};

use crate::cargo::BuildOptions;
use crate::manifest::{Lesson, Stage};
use crate::process::{self, Exit};
use crate::render;
use crate::workspace::Workspace;

/// How long one benchmark run (build included) may take.
const BENCH_TIMEOUT: Duration = Duration::from_secs(900);

/// One measured metric.
#[derive(Debug, Clone, PartialEq)]
pub struct Metric {
    pub name: String,
    pub value: f64,
    pub unit: String,
}

pub fn run(root: Option<&Path>, lesson: &str) -> Result<ExitCode> {
    let ws = Workspace::open(root)?;
    let lesson = ws.lesson(lesson)?;
    if !lesson.stages.contains(&Stage::Bench) {
        bail!("lesson {} has no benchmark", lesson.id);
    }
    println!(
        "{} · {}: your implementation against the reference, in one run\n",
        lesson.id, lesson.title
    );
    for bench in &lesson.benches {
        eprintln!("running `{bench}` on the reference ...");
        let reference = measure(&ws, &lesson.solution, bench);
        eprintln!("running `{bench}` on your crate ...");
        let yours = measure(&ws, &lesson.exercise, bench);
        print!("{}", comparison(lesson, bench, &yours, &reference));
    }
    println!("\nRatios above 1.00x mean yours is faster. Benchmarks never change a grade.");
    Ok(ExitCode::SUCCESS)
}

/// Runs one bench target of `package` and reads its metrics.
fn measure(ws: &Workspace, package: &str, bench: &str) -> Result<Vec<Metric>, String> {
    let mut command = BuildOptions::default().cargo(&ws.root, package, "bench");
    command
        .args(["--bench", bench, "-q"])
        .env("RUST_BACKTRACE", "0");
    let done = process::run(command, BENCH_TIMEOUT).map_err(|e| format!("{e:#}"))?;
    let metrics = parse_metrics(&done.stdout);
    match done.exit {
        Exit::Code(0) if !metrics.is_empty() => Ok(metrics),
        Exit::Code(0) => Err("the benchmark printed no `bench-result` line".to_string()),
        Exit::TimedOut => Err(format!("no result after {}s", BENCH_TIMEOUT.as_secs())),
        _ => {
            let stderr: Vec<&str> = done.stderr.lines().collect();
            let from = stderr
                .iter()
                .position(|l| l.contains("panicked at") || l.starts_with("error"))
                .unwrap_or(stderr.len().saturating_sub(8));
            Err(stderr[from..]
                .iter()
                .take_while(|l| !l.starts_with("note: "))
                .take(8)
                .copied()
                .collect::<Vec<_>>()
                .join("\n"))
        }
    }
}

/// The `bench-result` lines of a benchmark's output.
pub fn parse_metrics(stdout: &str) -> Vec<Metric> {
    stdout
        .lines()
        .filter_map(|line| {
            let fields = line.trim().strip_prefix("bench-result ")?;
            let field = |key: &str| {
                fields
                    .split_whitespace()
                    .find_map(|f| f.strip_prefix(key).and_then(|v| v.strip_prefix('=')))
            };
            Some(Metric {
                name: field("name")?.to_string(),
                value: field("value")?.parse().ok()?,
                unit: field("unit").unwrap_or("").to_string(),
            })
        })
        .collect()
}

fn comparison(
    lesson: &Lesson,
    bench: &str,
    yours: &Result<Vec<Metric>, String>,
    reference: &Result<Vec<Metric>, String>,
) -> String {
    let reference = match reference {
        Ok(metrics) => metrics,
        Err(why) => {
            return format!(
                "`{bench}`: the reference did not finish:\n{}\n",
                render::indent(why, 2)
            );
        }
    };
    let yours = match yours {
        Ok(metrics) => metrics,
        Err(why) => {
            return format!(
                "`{bench}`: your implementation did not finish the benchmark (finish the tasks first: \
                 `cargo run -p checker -- verify {}`):\n{}\n",
                lesson.id,
                render::indent(why, 2)
            );
        }
    };
    let mut rows = vec![
        ["metric", "yours", "reference", "ratio"]
            .map(str::to_string)
            .to_vec(),
    ];
    for metric in reference {
        let mine = yours.iter().find(|m| m.name == metric.name);
        let (value, ratio) = match mine {
            Some(m) if metric.value > 0.0 => (
                format!("{:.1} {}", m.value, m.unit),
                format!("{:.2}x", m.value / metric.value),
            ),
            Some(m) => (format!("{:.1} {}", m.value, m.unit), "-".to_string()),
            None => ("missing".to_string(), "-".to_string()),
        };
        rows.push(vec![
            metric.name.clone(),
            value,
            format!("{:.1} {}", metric.value, metric.unit),
            ratio,
        ]);
    }
    render::table(&rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_bench_result_lines_and_ignores_the_rest() {
        let out = "warming up\nbench-result name=commits_64w value=1234.5 unit=commits/s\nbench-result name=bad value=x\n";
        assert_eq!(
            parse_metrics(out),
            vec![Metric {
                name: "commits_64w".into(),
                value: 1234.5,
                unit: "commits/s".into()
            }]
        );
    }
}
