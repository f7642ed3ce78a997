//! Finding the course on disk: its root, its manifest and its cargo packages.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use sha2::{Digest, Sha256};

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
    /// Where the checker builds this workspace: a directory no other course
    /// root builds into (see [`own_target_dir`]).
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
        let target_dir = own_target_dir(&root, metadata.target_directory.as_std_path());
        crate::cargo::register_target_dir(&root, &target_dir);
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

/// The target directory the checker builds the course at `root` into, given
/// the one cargo would use (`cargo_target`).
///
/// Cargo names a workspace member's artifacts after its path relative to the
/// workspace and judges freshness by file times. Two copies of the course
/// built into one target directory therefore share artifacts, and the copy
/// with the older files runs the other copy's binaries. So a target directory
/// inside the root (cargo's default `<root>/target`, shared with the learner's
/// own `cargo test`) is used as it is, and one outside it (an exported
/// `CARGO_TARGET_DIR`, a `target-dir` in a cargo config) gets a directory per
/// root beneath it, named after the root's canonical path.
pub fn own_target_dir(root: &Path, cargo_target: &Path) -> PathBuf {
    let resolved = cargo_target
        .canonicalize()
        .unwrap_or_else(|_| cargo_target.to_path_buf());
    if resolved.starts_with(root) {
        return cargo_target.to_path_buf();
    }
    let digest = Sha256::digest(root.as_os_str().as_encoded_bytes());
    let tag: String = digest.iter().take(8).map(|b| format!("{b:02x}")).collect();
    let name = root
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "course".to_owned());
    cargo_target
        .join("checker-roots")
        .join(format!("{name}-{tag}"))
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
    fn a_target_dir_outside_the_root_is_split_per_root() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = (dir.path().join("a/course"), dir.path().join("b/course"));
        let shared = dir.path().join("shared-target");
        let (for_a, for_b) = (own_target_dir(&a, &shared), own_target_dir(&b, &shared));
        assert_ne!(
            for_a, for_b,
            "two roots must never share a target directory"
        );
        assert!(for_a.starts_with(&shared) && for_b.starts_with(&shared));
        assert_eq!(for_a, own_target_dir(&a, &shared), "stable for one root");
        assert_eq!(
            own_target_dir(&a, &a.join("target")),
            a.join("target"),
            "the default target directory is the root's own, shared with `cargo test`"
        );
    }

    #[test]
    fn says_where_it_looked_when_there_is_no_manifest() {
        let dir = tempfile::tempdir().unwrap();
        let err = find_root(dir.path()).unwrap_err().to_string();
        assert!(err.contains("--root"), "{err}");
    }
}
