//! The scratch workspace: a copy of the instructor's pristine course into
//! which each student's `src/` folders are placed, one student at a time.
//!
//! It holds no reference solutions, no grader, no book and no reports:
//! only what the graded lessons build from, so there is nothing to copy.
//!
//! Its path never changes between students, so cargo rebuilds only the
//! lesson crates whose sources changed, and the dependencies (in the shared
//! target directory) compile once for the whole class.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use crate::workspace::Workspace;

/// Largest source file taken from a student.
const MAX_SOURCE_FILE: u64 = 4 << 20;

pub struct Scratch {
    /// The scratch copy's root.
    pub root: PathBuf,
}

impl Scratch {
    /// Copies the pristine course to `dir`, skipping build output, VCS
    /// data, the checker's state, `skip` (the grader's own output folder)
    /// and the folders no lesson builds from (`solutions`, `checker`,
    /// `grading`, `book`), and drops those from the workspace's members.
    pub fn create(pristine: &Workspace, dir: &Path, skip: &Path) -> Result<Scratch> {
        if dir.exists() {
            std::fs::remove_dir_all(dir)
                .with_context(|| format!("cannot clear {}", dir.display()))?;
        }
        let ignore = |path: &Path| {
            let name = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let unneeded = path.parent() == Some(pristine.root.as_path())
                && ["solutions", "checker", "grading", "book"].contains(&name.as_str());
            unneeded
                || path.starts_with(skip)
                || name == "target"
                || name == ".git"
                || name == ".checker"
                || path.ends_with("book/book")
        };
        copy_tree(&pristine.root, dir, &ignore, u64::MAX)?;
        keep_present_members(&dir.join("Cargo.toml"))?;
        Ok(Scratch {
            root: dir.to_path_buf(),
        })
    }

    /// Puts one student's sources in place: every lesson's `src/` is first
    /// restored from the pristine course, then replaced by the student's
    /// `<lesson>/src` when the submission has one. Returns the lessons taken.
    pub fn load_student(
        &self,
        pristine: &Workspace,
        exercises: Option<&Path>,
    ) -> Result<Vec<String>> {
        let mut taken = Vec::new();
        for lesson in &pristine.course.lessons {
            let lesson_dir = pristine.package_dir(&lesson.exercise)?;
            let relative = lesson_dir
                .strip_prefix(&pristine.root)
                .unwrap_or(lesson_dir);
            let target = self.root.join(relative).join("src");
            std::fs::remove_dir_all(&target)
                .with_context(|| format!("cannot clear {}", target.display()))?;
            let name = lesson_dir
                .file_name()
                .map(PathBuf::from)
                .unwrap_or_default();
            let theirs = exercises
                .map(|e| e.join(&name).join("src"))
                .filter(|d| d.is_dir());
            match theirs {
                Some(src) => {
                    copy_tree(&src, &target, &|_| false, MAX_SOURCE_FILE)?;
                    taken.push(lesson.id.clone());
                }
                None => copy_tree(&lesson_dir.join("src"), &target, &|_| false, u64::MAX)?,
            }
        }
        Ok(taken)
    }
}

/// Drops from `members` and `default-members` every folder that is not in
/// the scratch copy (the reference solutions, the grader).
fn keep_present_members(manifest: &Path) -> Result<()> {
    let text = std::fs::read_to_string(manifest)
        .with_context(|| format!("cannot read {}", manifest.display()))?;
    let mut doc: toml_edit::DocumentMut = text
        .parse()
        .with_context(|| format!("cannot parse {}", manifest.display()))?;
    let root = manifest.parent().unwrap_or(Path::new("."));
    if let Some(workspace) = doc.get_mut("workspace").and_then(|w| w.as_table_mut()) {
        for key in ["members", "default-members"] {
            if let Some(list) = workspace.get_mut(key).and_then(|m| m.as_array_mut()) {
                list.retain(|m| {
                    m.as_str()
                        .is_some_and(|p| root.join(p).join("Cargo.toml").is_file())
                });
            }
        }
        let no_defaults = workspace
            .get("default-members")
            .and_then(|m| m.as_array())
            .is_some_and(|a| a.is_empty());
        if no_defaults {
            workspace.remove("default-members");
        }
    }
    std::fs::write(manifest, doc.to_string())
        .with_context(|| format!("cannot write {}", manifest.display()))
}

/// Copies regular files and folders from `from` to `to`; links, special
/// files, ignored paths and files larger than `max_file` are left out.
pub fn copy_tree(
    from: &Path,
    to: &Path,
    ignore: &dyn Fn(&Path) -> bool,
    max_file: u64,
) -> Result<()> {
    std::fs::create_dir_all(to).with_context(|| format!("cannot create {}", to.display()))?;
    let entries =
        std::fs::read_dir(from).with_context(|| format!("cannot read {}", from.display()))?;
    for entry in entries {
        let entry = entry?;
        let path = entry.path();
        if ignore(&path) {
            continue;
        }
        let kind = entry.file_type()?;
        let target = to.join(entry.file_name());
        if kind.is_dir() {
            copy_tree(&path, &target, ignore, max_file)?;
        } else if kind.is_file() && entry.metadata()?.len() <= max_file {
            std::fs::copy(&path, &target)
                .with_context(|| format!("cannot copy {}", path.display()))?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copy_tree_skips_links_ignored_paths_and_large_files() {
        let dir = tempfile::tempdir().unwrap();
        let from = dir.path().join("from");
        std::fs::create_dir_all(from.join("src")).unwrap();
        std::fs::create_dir_all(from.join("target")).unwrap();
        std::fs::write(from.join("src/lib.rs"), "x").unwrap();
        std::fs::write(from.join("big.bin"), vec![0u8; 100]).unwrap();
        std::fs::write(from.join("target/junk"), "j").unwrap();
        std::os::unix::fs::symlink("/etc/passwd", from.join("src/evil")).unwrap();
        let to = dir.path().join("to");
        copy_tree(&from, &to, &|p| p.ends_with("target"), 50).unwrap();
        assert!(to.join("src/lib.rs").is_file());
        assert!(!to.join("src/evil").exists());
        assert!(!to.join("big.bin").exists());
        assert!(!to.join("target").exists());
    }
}
