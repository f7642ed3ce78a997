//! Tells `checker watch` when a lesson's sources change: through the
//! operating system's file notifications where they work, or by polling the
//! files' modification times where they do not (WSL's Windows drives,
//! network mounts, containers with bind mounts).

use std::path::{Path, PathBuf};
use std::sync::mpsc::Sender;
use std::time::Duration;

use anyhow::{Context, Result};
use notify::{Config, EventKind, PollWatcher, RecommendedWatcher, RecursiveMode, Watcher};

/// How the watcher learns about changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Native,
    Poll(Duration),
}

/// Something a watched file did that may change the tests' outcome.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change(pub PathBuf);

/// Watches one directory tree at a time; [`SourceWatcher::watch`] moves it.
pub struct SourceWatcher {
    inner: Box<dyn Watcher + Send>,
    watched: Option<PathBuf>,
    pub mode: Mode,
}

impl SourceWatcher {
    /// A watcher in `mode` that sends every relevant change on `tx`, mapped
    /// through `wrap`.
    pub fn new<E: Send + 'static>(
        mode: Mode,
        tx: Sender<E>,
        wrap: fn(Change) -> E,
    ) -> Result<SourceWatcher> {
        let handler = move |event: notify::Result<notify::Event>| {
            let Ok(event) = event else { return };
            if !matters(&event.kind) {
                return;
            }
            for path in event.paths.into_iter().filter(|p| is_source(p)) {
                // The receiver is gone only when watch is exiting.
                let _ = tx.send(wrap(Change(path)));
            }
        };
        let inner: Box<dyn Watcher + Send> = match mode {
            Mode::Native => Box::new(
                RecommendedWatcher::new(handler, Config::default())
                    .context("cannot start file notifications")?,
            ),
            Mode::Poll(every) => Box::new(
                // notify keeps modification times in whole seconds: a save
                // in the same second as the last scan is only seen by
                // comparing contents (cheap for a lesson's few sources).
                PollWatcher::new(
                    handler,
                    Config::default()
                        .with_poll_interval(every)
                        .with_compare_contents(true),
                )
                .context("cannot start the polling watcher")?,
            ),
        };
        Ok(SourceWatcher {
            inner,
            watched: None,
            mode,
        })
    }

    /// Watches `dir` (recursively) instead of whatever was watched before.
    pub fn watch(&mut self, dir: &Path) -> Result<()> {
        if self.watched.as_deref() == Some(dir) {
            return Ok(());
        }
        if let Some(old) = self.watched.take() {
            // It may be gone already; nothing to undo then.
            let _ = self.inner.unwatch(&old);
        }
        self.inner
            .watch(dir, RecursiveMode::Recursive)
            .with_context(|| format!("cannot watch {}", dir.display()))?;
        self.watched = Some(dir.to_path_buf());
        Ok(())
    }
}

/// Creations, writes, renames and removals; not reads.
fn matters(kind: &EventKind) -> bool {
    matches!(
        kind,
        EventKind::Any | EventKind::Create(_) | EventKind::Modify(_) | EventKind::Remove(_)
    )
}

/// A Rust source file, not an editor's swap, backup or lock file.
fn is_source(path: &Path) -> bool {
    let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
        return false;
    };
    name.ends_with(".rs") && !name.starts_with(".#") && !name.starts_with('.')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_rust_sources_count() {
        assert!(is_source(Path::new("/x/src/lib.rs")));
        assert!(!is_source(Path::new("/x/src/.lib.rs.swp")));
        assert!(!is_source(Path::new("/x/src/lib.rs~")));
        assert!(!is_source(Path::new("/x/src/.#lib.rs")));
        assert!(!is_source(Path::new("/x/src/4913")), "vim's probe file");
    }

    #[test]
    fn reads_do_not_count() {
        use notify::event::{AccessKind, ModifyKind};
        assert!(matters(&EventKind::Modify(ModifyKind::Any)));
        assert!(!matters(&EventKind::Access(AccessKind::Any)));
    }

    #[test]
    fn polling_sees_a_saved_file() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("lib.rs");
        std::fs::write(&file, "one").unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        let mut watcher =
            SourceWatcher::new(Mode::Poll(Duration::from_millis(50)), tx, |c| c).unwrap();
        watcher.watch(dir.path()).unwrap();
        // Saved at once, in the same second as the first scan.
        std::fs::write(&file, "two, longer").unwrap();
        let change = rx
            .recv_timeout(Duration::from_secs(10))
            .expect("the polling watcher reports the write");
        assert_eq!(change.0.file_name(), file.file_name());
    }
}
