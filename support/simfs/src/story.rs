//! [`CrashStory`]: why a write that was acknowledged is gone after a power
//! cut, told from the trace instead of as an assertion dump.

use std::fmt::Write as _;
use std::path::Path;

use crate::sim::SimFs;
use crate::trace::{Op, OpKind};

/// The first line of every story, so that tools can find it in a panic
/// message.
pub const STORY_HEADING: &str = "Power lost after op";

/// Something the workload was promised and recovery did not give back.
#[derive(Debug, Clone)]
pub struct Loss {
    /// What was lost, in the lesson's terms: "LSN 17", "the new contents".
    pub what: String,
    /// The file it lived in.
    pub path: String,
    /// The number of the last operation before it was acknowledged
    /// ([`SimFs::op_count`] right after the call returned).
    pub acked_at: u64,
}

/// A short account of a power cut and what it cost.
///
/// Build it on the disk *before* the crash (its trace holds the history),
/// name what was lost, and [`render`](CrashStory::render) it:
///
/// ```text
/// Power lost after op 41 of 60: write /wal.log @4096, 64 bytes.
///   op 39: write /wal.log @4032, 64 bytes
///   op 40: write /wal.log @4096, 64 bytes
///   op 41: sync_data /wal.log   <- the power was cut here
/// Durable then: /wal.log, 2048 of 4160 bytes (last synced at op 30).
/// Lost: LSN 17, acknowledged at op 38, is missing after the power cut.
/// Why: /wal.log was last synced at op 30; LSN 17's bytes were written at
/// op 36 and acknowledged at op 38 with no sync after them.
/// Likely fix: acknowledge a write only after a sync_data that follows it
/// has returned.
/// ```
#[derive(Debug)]
pub struct CrashStory<'a> {
    fs: &'a SimFs,
    total: Option<u64>,
    losses: Vec<Loss>,
}

impl<'a> CrashStory<'a> {
    /// A story about `fs`, whose power was cut after its last operation.
    pub fn new(fs: &'a SimFs) -> Self {
        Self {
            fs,
            total: None,
            losses: Vec::new(),
        }
    }

    /// How many operations the whole workload makes without a power cut.
    pub fn of(mut self, total: u64) -> Self {
        self.total = Some(total);
        self
    }

    /// Adds something that was acknowledged at op `acked_at` and is gone.
    pub fn lost(mut self, what: impl Into<String>, path: impl AsRef<Path>, acked_at: u64) -> Self {
        self.losses.push(Loss {
            what: what.into(),
            path: crate::sim::display_path(path.as_ref()),
            acked_at,
        });
        self
    }

    /// The story, a few lines long.
    pub fn render(&self) -> String {
        let trace = self.fs.trace();
        let cut = trace.len() as u64;
        let mut out = String::new();
        let of = self.total.map(|t| format!(" of {t}")).unwrap_or_default();
        match trace.last() {
            Some(op) => {
                let _ = writeln!(out, "{STORY_HEADING} {cut}{of}: {}.", op.kind);
            }
            None => {
                let _ = writeln!(out, "{STORY_HEADING} 0{of}: before anything was written.");
            }
        }
        let first = cut.saturating_sub(3).max(1);
        for op in trace.iter().filter(|op| op.n >= first) {
            let mark = if op.n == cut {
                "   <- the power was cut here"
            } else {
                ""
            };
            let _ = writeln!(out, "  {op}{mark}");
        }
        for loss in &self.losses {
            self.tell(&mut out, &trace, loss);
        }
        out
    }

    fn tell(&self, out: &mut String, trace: &[Op], loss: &Loss) {
        let facts = Facts::gather(trace, self.fs, loss);
        let durable = match (facts.ino, self.fs.durable_contents(Path::new(&loss.path))) {
            (_, Some(bytes)) => {
                let now = self.fs.inode(Path::new(&loss.path)).map(|ino| {
                    self.fs
                        .read_len(ino)
                        .map(|len| format!(" of {len}"))
                        .unwrap_or_default()
                });
                let synced = facts
                    .last_sync_at_cut
                    .map(|n| format!("last synced at op {n}"))
                    .unwrap_or_else(|| "never synced".to_owned());
                format!(
                    "{}, {}{} bytes ({synced})",
                    loss.path,
                    bytes.len(),
                    now.unwrap_or_default()
                )
            }
            (_, None) => format!("no file named {} (its name was not durable)", loss.path),
        };
        let _ = writeln!(out, "Durable then: {durable}.");
        let _ = writeln!(
            out,
            "Lost: {}, acknowledged at op {}, is missing after the power cut.",
            loss.what, loss.acked_at
        );
        let (why, fix) = facts.diagnose(loss);
        let _ = writeln!(out, "Why: {why}");
        let _ = writeln!(out, "Likely fix: {fix}");
    }
}

/// What the trace says about the file a loss lived in, up to its
/// acknowledgement.
#[derive(Debug, Default)]
struct Facts {
    ino: Option<u64>,
    /// The op that made the path name the file (a create or a rename), and
    /// whether it was a rename.
    linked: Option<(u64, bool, Option<u64>)>,
    dir_synced_after_link: Option<u64>,
    writes_before: Vec<u64>,
    writes_after: Vec<u64>,
    syncs_before: Vec<u64>,
    failed_syncs_before: Vec<u64>,
    last_sync_at_cut: Option<u64>,
}

impl Facts {
    fn gather(trace: &[Op], fs: &SimFs, loss: &Loss) -> Self {
        let acked = loss.acked_at;
        let mut facts = Facts::default();
        for op in trace.iter().filter(|op| op.n <= acked) {
            match &op.kind {
                OpKind::Create { path } if *path == loss.path => {
                    facts.ino = Some(op.ino);
                    facts.linked = Some((op.n, false, op.dir));
                }
                OpKind::Rename { to, .. } if *to == loss.path => {
                    facts.ino = Some(op.ino);
                    facts.linked = Some((op.n, true, op.dir));
                }
                OpKind::Rename { from, .. } if *from == loss.path => facts.ino = None,
                OpKind::Remove { path } if *path == loss.path => facts.ino = None,
                _ => {}
            }
        }
        if facts.ino.is_none() && facts.linked.is_none() {
            // It existed before the trace began.
            facts.ino = fs.inode(Path::new(&loss.path));
        }
        let Some(ino) = facts.ino else {
            return facts;
        };
        for op in trace {
            let on_file = op.ino == ino;
            if on_file && op.is_write() && op.failed.is_none() {
                if op.n <= acked {
                    facts.writes_before.push(op.n);
                } else {
                    facts.writes_after.push(op.n);
                }
            }
            if on_file && matches!(op.kind, OpKind::SyncFile { .. }) {
                match (&op.failed, op.n <= acked) {
                    (None, true) => facts.syncs_before.push(op.n),
                    (Some(_), true) => facts.failed_syncs_before.push(op.n),
                    _ => {}
                }
                if op.failed.is_none() {
                    facts.last_sync_at_cut = Some(op.n);
                }
            }
            if let (Some((linked_at, _, Some(dir))), OpKind::SyncDir { .. }) =
                (facts.linked, &op.kind)
                && op.ino == dir
                && op.failed.is_none()
                && op.n > linked_at
                && op.n <= acked
            {
                facts.dir_synced_after_link.get_or_insert(op.n);
            }
        }
        facts
    }

    /// Why it was lost, and the call that is probably missing.
    fn diagnose(&self, loss: &Loss) -> (String, String) {
        let path = &loss.path;
        let what = &loss.what;
        let acked = loss.acked_at;
        if self.ino.is_none() {
            return (
                format!("nothing was named {path} when {what} was acknowledged at op {acked}."),
                "create (and sync) the file before you acknowledge what it holds.".to_owned(),
            );
        }
        if let Some(failed) = self.failed_syncs_before.last() {
            return (
                format!(
                    "the sync of {path} at op {failed} failed (EIO), yet {what} was acknowledged at op {acked}. After a failed fsync the kernel may have dropped the data, and a later sync that succeeds does not bring it back."
                ),
                "treat a failed sync as fatal for what it covered: return the error, acknowledge nothing, and recover from the log on disk.".to_owned(),
            );
        }
        let last_write = self.writes_before.last().copied();
        let last_sync = self.syncs_before.last().copied();
        match (last_write, last_sync) {
            (None, sync) => {
                let later = self
                    .writes_after
                    .first()
                    .map(|w| format!(" Its bytes reached the file only at op {w}, after the acknowledgement: they were still in a buffer in memory."))
                    .unwrap_or_default();
                let order = sync
                    .map(|s| format!(" The sync at op {s} ran before that write: flush the buffer first, then sync."))
                    .unwrap_or_default();
                return (
                    format!("{what} was acknowledged at op {acked} before any of it was written to {path}.{later}{order}"),
                    "write (flush) the bytes, then sync_data, and acknowledge only after both have returned.".to_owned(),
                );
            }
            (Some(write), None) => {
                return (
                    format!(
                        "{path} was never synced before {what} was acknowledged at op {acked}; its last write before then was op {write}."
                    ),
                    "acknowledge a write only after a sync_data that follows it has returned."
                        .to_owned(),
                );
            }
            (Some(write), Some(sync)) if sync < write => {
                let adjacent = if sync + 1 == write {
                    format!(
                        " The sync at op {sync} came right before the write at op {write}: is the buffer flushed after sync_data instead of before it?"
                    )
                } else {
                    String::new()
                };
                return (
                    format!(
                        "{path} was last synced at op {sync}, but the bytes written at op {write} were acknowledged at op {acked} with no sync after them.{adjacent}"
                    ),
                    "flush, then sync_data, then acknowledge; never acknowledge what a sync has not covered.".to_owned(),
                );
            }
            _ => {}
        }
        if let Some((linked_at, renamed, _)) = self.linked {
            if self.dir_synced_after_link.is_none() {
                let how = if renamed {
                    "renamed into place"
                } else {
                    "created"
                };
                return (
                    format!(
                        "{path} was {how} at op {linked_at} and its data was synced, but its directory was not synced after that before op {acked}: after the power cut the name {path} does not lead to it."
                    ),
                    "after creating or renaming a file, sync the directory that holds it (sync_dir on the parent) before you rely on the name.".to_owned(),
                );
            }
            if renamed {
                let synced_before_rename = self.syncs_before.iter().any(|s| *s < linked_at);
                if !synced_before_rename {
                    return (
                        format!(
                            "the file renamed to {path} at op {linked_at} had not been synced before the rename, so the name could become durable before the bytes."
                        ),
                        "sync the temporary file before you rename it over the target.".to_owned(),
                    );
                }
            }
        }
        (
            format!(
                "by the trace, {path}'s bytes and name were durable when {what} was acknowledged at op {acked}, so it was lost after the crash, while reading or recovering."
            ),
            "recovery must keep every complete, synced record: check where it stops or truncates."
                .to_owned(),
        )
    }
}
