//! Tamper findings: what a student changed outside `src/`, and code in
//! `src/` that could fool a test run. Grading always uses the instructor's
//! tests and manifests, so these change no grade; they tell the instructor
//! where to look.

mod code;
mod names;
mod scan;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// One thing the instructor should look at.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    pub lesson: String,
    pub kind: FindingKind,
    pub detail: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FindingKind {
    EditedTest,
    DeletedTest,
    AddedDependency,
    BuildScript,
    ProcMacro,
    ChangedOutsideSrc,
    SuspiciousCode,
    /// A symbolic link in the submission (refused before any is followed).
    Symlink,
}

/// Compares a student's lesson folder with the pristine one. A pattern in
/// `src/` counts as suspicious only beyond what the pristine stub and the
/// reference solution (`reference`, the solution crate) already use: a
/// lesson whose answer needs `unsafe` (mapping a file) flags nobody for it.
pub fn inspect(lesson: &str, pristine: &Path, student: &Path, reference: &Path) -> Vec<Finding> {
    let mut findings = Vec::new();
    let mut add = |kind, detail: String| {
        findings.push(Finding {
            lesson: lesson.to_string(),
            kind,
            detail,
        })
    };
    let theirs = files(student);
    let ours = files(pristine);
    let code = |root: &Path, files: &BTreeSet<PathBuf>| {
        let src: Vec<PathBuf> = files
            .iter()
            .filter(|r| r.starts_with("src"))
            .cloned()
            .collect();
        code::scan(root, &src)
    };
    let their_code = code(student, &theirs);
    let baselines = [code(pristine, &ours), code(reference, &files(reference))];
    for relative in &theirs {
        let their_path = student.join(relative);
        let our_path = pristine.join(relative);
        let shown = relative.display();
        // Every file in src/: `include!("x.txt")` makes any file Rust source.
        if let Some(scan) = their_code.get(relative) {
            for detail in suspicious(relative, scan, &baselines) {
                add(FindingKind::SuspiciousCode, format!("{shown} {detail}"));
            }
            continue;
        }
        let same = std::fs::read(&their_path).ok() == std::fs::read(&our_path).ok();
        if same {
            continue;
        }
        if relative == Path::new("build.rs") {
            add(FindingKind::BuildScript, "added build.rs".to_string());
        } else if relative == Path::new("Cargo.toml") {
            for (kind, detail) in manifest_changes(&our_path, &their_path) {
                add(kind, detail);
            }
        } else if relative.starts_with("tests") {
            let verb = if ours.contains(relative) {
                "edited"
            } else {
                "added"
            };
            add(FindingKind::EditedTest, format!("{verb} {shown}"));
        } else {
            let verb = if ours.contains(relative) {
                "changed"
            } else {
                "added"
            };
            add(FindingKind::ChangedOutsideSrc, format!("{verb} {shown}"));
        }
    }
    // A submission of src/ folders alone deletes nothing; a tests/ folder
    // with files missing does.
    if student.join("tests").is_dir() {
        for relative in ours
            .iter()
            .filter(|r| r.starts_with("tests") && !theirs.contains(*r))
        {
            add(
                FindingKind::DeletedTest,
                format!("deleted {}", relative.display()),
            );
        }
    }
    findings
}

/// Relative paths of the regular files under `dir`, skipping `target` and
/// hidden entries outside `src/`.
fn files(dir: &Path) -> BTreeSet<PathBuf> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeSet<PathBuf>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for entry in entries.flatten() {
            let name = entry.file_name();
            // Build output and hidden folders of the lesson itself are not
            // the student's work; anything under src/ is compiled, hidden
            // or not, so it is read.
            let skipped = name.to_string_lossy().starts_with('.') || name == "target";
            if skipped && !dir.starts_with(root.join("src")) {
                continue;
            }
            let path = entry.path();
            match entry.file_type() {
                Ok(t) if t.is_dir() => walk(root, &path, out),
                Ok(t) if t.is_file() => {
                    out.insert(path.strip_prefix(root).unwrap_or(&path).to_path_buf());
                }
                _ => {}
            }
        }
    }
    let mut out = BTreeSet::new();
    walk(dir, dir, &mut out);
    out
}

/// The file's problems, and each kind of code it has more of than the
/// same file in the stub or the reference (a lesson whose answer needs
/// `unsafe` flags nobody for it).
fn suspicious(
    relative: &Path,
    theirs: &code::FileScan,
    baselines: &[BTreeMap<PathBuf, code::FileScan>],
) -> Vec<String> {
    let allowed = |kind| {
        baselines
            .iter()
            .filter_map(|b| b.get(relative)?.counts.get(&kind).copied())
            .max()
            .unwrap_or(0)
    };
    let excess = theirs
        .counts
        .iter()
        .filter(|&(&kind, &count)| count > allowed(kind))
        .map(|(kind, _)| kind.meaning().to_string());
    theirs.problems.iter().cloned().chain(excess).collect()
}

/// What a student's Cargo.toml adds: dependencies, a build script, a proc-macro.
fn manifest_changes(ours: &Path, theirs: &Path) -> Vec<(FindingKind, String)> {
    let parse = |p: &Path| {
        std::fs::read_to_string(p)
            .ok()
            .and_then(|t| t.parse::<toml::Table>().ok())
    };
    let (Some(our_toml), Some(their_toml)) = (parse(ours), parse(theirs)) else {
        return vec![(
            FindingKind::ChangedOutsideSrc,
            "changed Cargo.toml (unreadable)".to_string(),
        )];
    };
    let mut changes = Vec::new();
    let our_deps = dependencies(&our_toml);
    for (section, name) in dependencies(&their_toml)
        .into_iter()
        .filter(|d| !our_deps.contains(d))
    {
        changes.push((
            FindingKind::AddedDependency,
            format!("added `{name}` to [{section}]"),
        ));
    }
    let get = |t: &toml::Table, a: &str, b: &str| t.get(a).and_then(|v| v.get(b)).cloned();
    if get(&their_toml, "package", "build").is_some()
        && get(&our_toml, "package", "build").is_none()
    {
        changes.push((
            FindingKind::BuildScript,
            "Cargo.toml names a build script".to_string(),
        ));
    }
    if get(&their_toml, "lib", "proc-macro") == Some(toml::Value::Boolean(true)) {
        changes.push((
            FindingKind::ProcMacro,
            "Cargo.toml makes the lesson a proc-macro crate".to_string(),
        ));
    }
    if changes.is_empty() {
        changes.push((
            FindingKind::ChangedOutsideSrc,
            "changed Cargo.toml".to_string(),
        ));
    }
    changes
}

/// Every (section, dependency name) pair, target-specific tables included.
fn dependencies(manifest: &toml::Table) -> BTreeSet<(String, String)> {
    const SECTIONS: [&str; 3] = ["dependencies", "dev-dependencies", "build-dependencies"];
    let mut found = BTreeSet::new();
    let mut collect = |prefix: &str, table: &toml::Table| {
        for section in SECTIONS {
            if let Some(deps) = table.get(section).and_then(toml::Value::as_table) {
                for name in deps.keys() {
                    found.insert((format!("{prefix}{section}"), name.clone()));
                }
            }
        }
    };
    collect("", manifest);
    if let Some(targets) = manifest.get("target").and_then(toml::Value::as_table) {
        let targets: BTreeMap<_, _> = targets.iter().collect();
        for (cfg, table) in targets {
            if let Some(table) = table.as_table() {
                collect(&format!("target.{cfg}."), table);
            }
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lesson(dir: &Path, files: &[(&str, &str)]) {
        for (path, text) in files {
            let path = dir.join(path);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        }
    }

    const MANIFEST: &str = "[package]\nname = \"x\"\n\n[dependencies]\nthiserror = \"2\"\n";

    #[test]
    fn a_clean_submission_has_no_findings() {
        let dir = tempfile::tempdir().unwrap();
        let files = [
            ("Cargo.toml", MANIFEST),
            ("src/lib.rs", "pub fn f() {}"),
            ("tests/t.rs", "#[test] fn t1() {}"),
        ];
        lesson(&dir.path().join("ours"), &files);
        lesson(
            &dir.path().join("theirs"),
            &[("src/lib.rs", "pub fn f() { let x = 1; }")],
        );
        assert_eq!(
            inspect(
                "01",
                &dir.path().join("ours"),
                &dir.path().join("theirs"),
                &dir.path().join("reference")
            ),
            vec![]
        );
    }

    #[test]
    fn finds_edited_and_deleted_tests_dependencies_build_scripts_and_exits() {
        let dir = tempfile::tempdir().unwrap();
        let ours = dir.path().join("ours");
        let theirs = dir.path().join("theirs");
        lesson(
            &ours,
            &[
                ("Cargo.toml", MANIFEST),
                ("src/lib.rs", "fn f() {}"),
                ("tests/a.rs", "A"),
                ("tests/b.rs", "B"),
            ],
        );
        lesson(
            &theirs,
            &[
                ("Cargo.toml", &format!("{MANIFEST}rand = \"0.9\"\n")),
                ("src/lib.rs", "fn f() { std::process::exit(0) }"),
                ("tests/a.rs", "assert!(true)"),
                ("build.rs", "fn main() {}"),
            ],
        );
        let found: Vec<(FindingKind, String)> =
            inspect("01", &ours, &theirs, &dir.path().join("reference"))
                .into_iter()
                .map(|f| (f.kind, f.detail))
                .collect();
        assert_eq!(
            found,
            vec![
                (
                    FindingKind::AddedDependency,
                    "added `rand` to [dependencies]".to_string()
                ),
                (FindingKind::BuildScript, "added build.rs".to_string()),
                (
                    FindingKind::SuspiciousCode,
                    "src/lib.rs calls std::process::exit".to_string()
                ),
                (FindingKind::EditedTest, "edited tests/a.rs".to_string()),
                (FindingKind::DeletedTest, "deleted tests/b.rs".to_string()),
            ]
        );
    }

    #[test]
    fn comments_do_not_count_renames_and_hidden_files_do_and_an_unparsable_file_is_a_finding() {
        let dir = tempfile::tempdir().unwrap();
        lesson(&dir.path().join("ours"), &[("src/lib.rs", "pub fn f() {}")]);
        lesson(
            &dir.path().join("theirs"),
            &[
                (
                    "src/lib.rs",
                    "// unsafe { std::process::exit(0) }\npub fn f() -> &'static str { \"unsafe\" }\nmod m;\n",
                ),
                (
                    "src/m.rs",
                    "use std::process::{Command as Cmd};\npub fn g() { let _ = Cmd::new(\"sh\"); }\n",
                ),
                ("src/old.rs", "fn broken( {\n"),
                ("src/.hidden/x.txt", "fn h() { std::process::abort() }"),
            ],
        );
        let details: Vec<String> = inspect(
            "01",
            &dir.path().join("ours"),
            &dir.path().join("theirs"),
            &dir.path().join("reference"),
        )
        .into_iter()
        .map(|f| f.detail)
        .collect();
        assert_eq!(details.len(), 3, "{details:?}");
        assert_eq!(details[0], "src/.hidden/x.txt calls abort");
        assert_eq!(details[1], "src/m.rs starts processes");
        assert!(
            details[2].starts_with("src/old.rs does not parse as Rust"),
            "{details:?}"
        );
    }

    /// A learner who hands in the stub, or the reference solution, of any
    /// lesson of this course has no suspicious code.
    #[test]
    fn the_course_own_stubs_and_solutions_are_not_suspicious() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
        for lesson in std::fs::read_dir(root.join("exercises")).unwrap() {
            let stub = lesson.unwrap().path();
            let reference = root.join("solutions").join(stub.file_name().unwrap());
            for handed_in in [&stub, &reference] {
                let suspicious: Vec<Finding> = inspect("-", &stub, handed_in, &reference)
                    .into_iter()
                    .filter(|f| f.kind == FindingKind::SuspiciousCode)
                    .collect();
                assert_eq!(suspicious, vec![], "{}", handed_in.display());
            }
        }
    }

    #[test]
    fn a_pattern_already_in_the_stub_is_not_a_finding() {
        let dir = tempfile::tempdir().unwrap();
        lesson(
            &dir.path().join("ours"),
            &[("src/sync.rs", "unsafe impl Send for X {}")],
        );
        lesson(
            &dir.path().join("theirs"),
            &[("src/sync.rs", "unsafe impl Send for X {}")],
        );
        assert_eq!(
            inspect(
                "03",
                &dir.path().join("ours"),
                &dir.path().join("theirs"),
                &dir.path().join("reference")
            ),
            vec![]
        );
    }

    #[test]
    fn a_pattern_the_reference_solution_needs_is_not_a_finding() {
        let dir = tempfile::tempdir().unwrap();
        let stub = "pub fn map() { todo!() }";
        let answer = "pub fn map() { unsafe { x() } }";
        lesson(&dir.path().join("ours"), &[("src/lib.rs", stub)]);
        lesson(&dir.path().join("reference"), &[("src/lib.rs", answer)]);
        lesson(&dir.path().join("theirs"), &[("src/lib.rs", answer)]);
        let found = |theirs: &str| {
            inspect(
                "06",
                &dir.path().join("ours"),
                &dir.path().join(theirs),
                &dir.path().join("reference"),
            )
        };
        assert_eq!(found("theirs"), vec![]);
        let twice = "pub fn map() { unsafe { x() }; unsafe { y() } }";
        lesson(&dir.path().join("more"), &[("src/lib.rs", twice)]);
        assert_eq!(
            found("more").len(),
            1,
            "more unsafe than the reference is reported"
        );
    }
}
