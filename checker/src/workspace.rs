//! Finding the course on disk: its root, its manifest and its cargo packages.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

use crate::manifest::{Course, Lesson, MANIFEST_FILE};

/// The course's workspace: the manifest plus what `cargo metadata` says.
#[derive(Debug)]
pub struct Workspace {
    pub root: PathBuf,
    pub course: Course,
    /// Every workspace package: name → directory holding its `Cargo.toml`.
    pub packages: BTreeMap<String, PathBuf>,
    /// Names of the packages a plain `cargo test` at the root runs.
    pub default_members: Vec<String>,
    /// Cargo's target directory for this workspace.
    pub target_dir: PathBuf,
}

impl Workspace {
    /// Opens the course at `root`, or the nearest ancestor of the current
    /// directory that holds a `course.toml`.
    pub fn open(root: Option<&Path>) -> Result<Workspace> {
        let root = match root {
            Some(root) => root.to_path_buf(),
            None => {
                find_root(&std::env::current_dir().context("cannot read the current directory")?)?
            }
        };
        let root = root
            .canonicalize()
            .with_context(|| format!("cannot open the course directory {}", root.display()))?;
        let course = Course::load(&root.join(MANIFEST_FILE))?;
        let metadata = cargo_metadata::MetadataCommand::new()
            .cargo_path(crate::cargo::program())
            .manifest_path(root.join("Cargo.toml"))
            .current_dir(&root)
            .no_deps()
            .exec()
            .with_context(|| format!("`cargo metadata` failed in {}", root.display()))?;
        let packages = metadata
            .workspace_packages()
            .into_iter()
            .map(|p| {
                let dir = p
                    .manifest_path
                    .parent()
                    .map(|d| d.as_std_path().to_path_buf())
                    .unwrap_or_default();
                (p.name.to_string(), dir)
            })
            .collect();
        let default_members = metadata
            .workspace_default_packages()
            .into_iter()
            .map(|p| p.name.to_string())
            .collect();
        let target_dir = metadata.target_directory.clone().into_std_path_buf();
        Ok(Workspace {
            root,
            course,
            packages,
            default_members,
            target_dir,
        })
    }

    /// The directory of a workspace package named in the manifest.
    pub fn package_dir(&self, package: &str) -> Result<&Path> {
        self.packages.get(package).map(PathBuf::as_path).with_context(|| {
            format!("package `{package}` is named in {MANIFEST_FILE} but is not a member of the cargo workspace")
        })
    }

    pub fn lesson(&self, query: &str) -> Result<&Lesson> {
        self.course.find_lesson(query)
    }

    /// The directory that holds the checker's own files (state, caches).
    pub fn state_dir(&self) -> PathBuf {
        self.root.join(".checker")
    }

    /// `path` relative to the root, for messages.
    pub fn relative(&self, path: &Path) -> String {
        path.strip_prefix(&self.root)
            .unwrap_or(path)
            .display()
            .to_string()
    }

    /// The mdBook root.
    pub fn book_dir(&self) -> PathBuf {
        self.root.join(&self.course.course.book)
    }
}

/// Walks up from `start` to the first directory that holds `course.toml`.
pub fn find_root(start: &Path) -> Result<PathBuf> {
    for dir in start.ancestors() {
        if dir.join(MANIFEST_FILE).is_file() {
            return Ok(dir.to_path_buf());
        }
    }
    bail!(
        "no {MANIFEST_FILE} found in {} or any directory above it; run the checker inside the workbook, or pass --root",
        start.display()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_manifest_in_an_ancestor() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(MANIFEST_FILE), "").unwrap();
        let nested = dir.path().join("exercises/01-x/src");
        std::fs::create_dir_all(&nested).unwrap();
        assert_eq!(find_root(&nested).unwrap(), dir.path());
    }

    #[test]
    fn says_where_it_looked_when_there_is_no_manifest() {
        let dir = tempfile::tempdir().unwrap();
        let err = find_root(dir.path()).unwrap_err().to_string();
        assert!(err.contains("--root"), "{err}");
    }
}
