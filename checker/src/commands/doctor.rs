//! `checker doctor`: which optional tools are installed, and how to get the rest.

use std::path::Path;
use std::process::{Command, ExitCode, Stdio};

use anyhow::Result;

use crate::manifest::Stage;
use crate::render;
use crate::workspace::Workspace;

/// One tool: how to ask its version, and how to install it.
struct Tool {
    name: &'static str,
    program: &'static str,
    args: &'static [&'static str],
    install: &'static str,
    needed_for: String,
}

pub fn run(root: Option<&Path>) -> Result<ExitCode> {
    let ws = Workspace::open(root).ok();
    let lessons_with = |stage: Stage| -> String {
        let ids: Vec<&str> = ws
            .iter()
            .flat_map(|ws| ws.course.lessons.iter())
            .filter(|l| l.stages.contains(&stage))
            .map(|l| l.id.as_str())
            .collect();
        if ids.is_empty() {
            "no lesson yet".to_string()
        } else {
            ids.join(", ")
        }
    };
    let tools = [
        Tool {
            name: "cargo",
            program: "cargo",
            args: &["--version"],
            install: "install Rust with rustup",
            needed_for: "everything".to_string(),
        },
        Tool {
            name: "nightly toolchain",
            program: "rustup",
            args: &["run", "nightly", "rustc", "--version"],
            install: "rustup toolchain install nightly --component miri rust-src",
            needed_for: format!("the miri stage ({})", lessons_with(Stage::Miri)),
        },
        Tool {
            name: "Miri",
            program: "cargo",
            args: &["+nightly", "miri", "--version"],
            install: "rustup component add --toolchain nightly miri rust-src",
            needed_for: format!("the miri stage ({})", lessons_with(Stage::Miri)),
        },
        Tool {
            name: "mdbook",
            program: "mdbook",
            args: &["--version"],
            install: "cargo install mdbook --locked   (about 4 minutes)",
            needed_for: "building the book (mdbook build book)".to_string(),
        },
        Tool {
            name: "mdbook-quiz",
            program: "mdbook-quiz",
            args: &["--version"],
            install: "cargo install mdbook-quiz --locked --version 0.5.0   (about 3 minutes)",
            needed_for: "the book's self-check quizzes".to_string(),
        },
    ];
    let mut rows = vec![vec![
        "".to_string(),
        "tool".to_string(),
        "version".to_string(),
        "needed for".to_string(),
    ]];
    let mut missing = Vec::new();
    for tool in &tools {
        match version_of(tool) {
            Some(version) => rows.push(vec![
                "ok".into(),
                tool.name.into(),
                version,
                tool.needed_for.clone(),
            ]),
            None => {
                rows.push(vec![
                    "MISSING".into(),
                    tool.name.into(),
                    "-".into(),
                    tool.needed_for.clone(),
                ]);
                missing.push(tool);
            }
        }
    }
    print!("{}", render::table(&rows));
    if missing.is_empty() {
        println!("\nEverything is installed.");
    } else {
        println!("\nTo install what is missing:");
        for tool in missing {
            println!("{}", render::indent(tool.install, 2));
        }
        println!(
            "The test stage needs none of these; stages that need a missing tool are skipped, not failed."
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// The first line the tool prints for its version, or `None` if it is absent or broken.
fn version_of(tool: &Tool) -> Option<String> {
    let out = Command::new(tool.program)
        .args(tool.args)
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .next()
        .map(|l| l.trim().to_string())
}
