//! The learner's progress file: which hints were shown, and the last result
//! of each lesson and stage together with a fingerprint of the code it ran.
//!
//! The file is a cache of things the checker can recompute. A missing,
//! corrupt or outdated file is set aside (never deleted) and rebuilt by
//! running the tests again.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::grading::StageRun;
use crate::manifest::Stage;

/// Bumped whenever the file's shape changes.
pub const STATE_VERSION: u32 = 1;
const STATE_FILE: &str = "state.json";

#[derive(Debug, Default, Serialize, Deserialize)]
pub struct State {
    pub version: u32,
    /// `lesson/prefix` → how many hints have been shown.
    #[serde(default)]
    pub hints_seen: BTreeMap<String, usize>,
    /// `lesson/stage` → the last run of the learner's crate.
    #[serde(default)]
    pub runs: BTreeMap<String, CachedRun>,
    /// lesson → when (Unix seconds) its solution was shown with `--force`
    /// before its tasks passed.
    #[serde(default)]
    pub solutions_forced: BTreeMap<String, u64>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CachedRun {
    pub fingerprint: String,
    pub run: StageRun,
}

/// The state file and where it lives.
#[derive(Debug)]
pub struct Store {
    path: PathBuf,
    pub state: State,
}

impl Store {
    /// Loads the state in `dir`. A file that cannot be used is moved aside with
    /// a warning on stderr, and progress starts from what the tests say.
    pub fn load(dir: &Path) -> Store {
        let path = dir.join(STATE_FILE);
        let state = match std::fs::read_to_string(&path) {
            Ok(text) => match serde_json::from_str::<State>(&text) {
                Ok(state) if state.version == STATE_VERSION => state,
                Ok(_) => set_aside(&path, "was written by another version of the checker"),
                Err(_) => set_aside(&path, "is corrupt"),
            },
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => State::default(),
            Err(_) => set_aside(&path, "cannot be read"),
        };
        Store {
            path,
            state: State {
                version: STATE_VERSION,
                ..state
            },
        }
    }

    /// Writes the state atomically: a temporary file, then a rename.
    pub fn save(&self) -> Result<()> {
        let dir = self
            .path
            .parent()
            .context("the state file has no directory")?;
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
        let text =
            serde_json::to_string_pretty(&self.state).context("cannot encode the progress file")?;
        let tmp = dir.join(format!(".{STATE_FILE}.tmp"));
        let mut file = std::fs::File::create(&tmp)
            .with_context(|| format!("cannot write {}", tmp.display()))?;
        file.write_all(text.as_bytes())
            .and_then(|()| file.sync_data())
            .with_context(|| format!("cannot write {}", tmp.display()))?;
        std::fs::rename(&tmp, &self.path)
            .with_context(|| format!("cannot replace {}", self.path.display()))
    }

    pub fn cached(&self, lesson: &str, stage: Stage, fingerprint: &str) -> Option<&StageRun> {
        self.state
            .runs
            .get(&run_key(lesson, stage))
            .filter(|c| c.fingerprint == fingerprint)
            .map(|c| &c.run)
    }

    /// The last run of a lesson's stage, whatever code it ran.
    pub fn last_run(&self, lesson: &str, stage: Stage) -> Option<&StageRun> {
        self.state.runs.get(&run_key(lesson, stage)).map(|c| &c.run)
    }

    pub fn remember(&mut self, fingerprint: String, run: StageRun) {
        let key = run_key(&run.lesson, run.stage);
        self.state.runs.insert(key, CachedRun { fingerprint, run });
    }

    pub fn hints_seen(&self, lesson: &str, prefix: &str) -> usize {
        self.state
            .hints_seen
            .get(&format!("{lesson}/{prefix}"))
            .copied()
            .unwrap_or(0)
    }

    pub fn set_hints_seen(&mut self, lesson: &str, prefix: &str, seen: usize) {
        self.state
            .hints_seen
            .insert(format!("{lesson}/{prefix}"), seen);
    }
}

fn run_key(lesson: &str, stage: Stage) -> String {
    format!("{lesson}/{stage}")
}

/// Seconds since the Unix epoch (0 if the clock is before it).
pub fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default()
}

fn set_aside(path: &Path, why: &str) -> State {
    let stamp = unix_now();
    let backup = path.with_extension(format!("json.unreadable-{stamp}"));
    let moved = std::fs::rename(path, &backup).is_ok();
    eprintln!(
        "warning: the progress file {} {why}; {}progress will be rebuilt by running the tests again.",
        path.display(),
        if moved {
            format!("it was kept as {}, and ", backup.display())
        } else {
            String::new()
        }
    );
    State::default()
}

/// A digest of everything that can change a lesson's result: the files of the
/// given directories (skipping `target` and hidden entries), plus extra files.
pub fn fingerprint(dirs: &[&Path], files: &[&Path]) -> String {
    let mut paths = Vec::new();
    for dir in dirs {
        collect_files(dir, &mut paths);
    }
    paths.extend(files.iter().map(|f| f.to_path_buf()));
    paths.sort();
    paths.dedup();
    let mut hasher = Sha256::new();
    hasher.update(env!("CARGO_PKG_VERSION"));
    for path in paths {
        hasher.update(path.as_os_str().as_encoded_bytes());
        hasher.update([0]);
        match std::fs::read(&path) {
            Ok(bytes) => hasher.update(&bytes),
            Err(_) => hasher.update(b"<unreadable>"),
        }
        hasher.update([0]);
    }
    hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn collect_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        if name.to_string_lossy().starts_with('.') || name == "target" {
            continue;
        }
        let path = entry.path();
        match entry.file_type() {
            Ok(t) if t.is_dir() => collect_files(&path, out),
            Ok(t) if t.is_file() => out.push(path),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_hints() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::load(dir.path());
        assert_eq!(store.hints_seen("01-threads", "t1_"), 0);
        store.set_hints_seen("01-threads", "t1_", 2);
        store.save().unwrap();
        assert_eq!(Store::load(dir.path()).hints_seen("01-threads", "t1_"), 2);
    }

    #[test]
    fn a_corrupt_file_is_kept_aside_and_progress_restarts() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(STATE_FILE), "{ not json").unwrap();
        let store = Store::load(dir.path());
        assert!(store.state.runs.is_empty());
        let kept: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert!(
            kept.iter().any(|n| n.starts_with("state.json.unreadable-")),
            "{kept:?}"
        );
        store.save().unwrap();
    }

    #[test]
    fn another_version_is_not_trusted() {
        let dir = tempfile::tempdir().unwrap();
        let old = r#"{"version": 999, "hints_seen": {"a/t1_": 3}}"#;
        std::fs::write(dir.path().join(STATE_FILE), old).unwrap();
        assert_eq!(Store::load(dir.path()).hints_seen("a", "t1_"), 0);
    }

    #[test]
    fn fingerprint_changes_with_content_and_ignores_target() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("src")).unwrap();
        std::fs::create_dir_all(dir.path().join("target")).unwrap();
        std::fs::write(dir.path().join("src/lib.rs"), "a").unwrap();
        let first = fingerprint(&[dir.path()], &[]);
        std::fs::write(dir.path().join("target/junk"), "x").unwrap();
        assert_eq!(fingerprint(&[dir.path()], &[]), first);
        std::fs::write(dir.path().join("src/lib.rs"), "b").unwrap();
        assert_ne!(fingerprint(&[dir.path()], &[]), first);
    }
}
