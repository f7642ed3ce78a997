//! [`CrashStory`]: why a write that was acknowledged is gone after a power
//! cut, told from the trace instead of as an assertion dump.

use std::fmt::Write as _;
use std::path::Path;

use crate::Fs;
use crate::sim::SimFs;
use crate::trace::{Op, OpKind};

/// The first line of every story, so that tools can find it in a panic
/// message.
pub const STORY_HEADING: &str = "Power lost after op";

/// Something the workload was promised and the crashed disk does not hold.
#[derive(Debug, Clone)]
pub struct Loss {
    /// What was lost, in the lesson's terms: "LSN 17", "version 2".
    pub what: String,
    /// The file it lived in.
    pub path: String,
    /// The number of the last operation before it was acknowledged
    /// ([`SimFs::op_count`] right after the call returned), or `None` for a
    /// promise that holds at every moment ("the file is old or new, whole"),
    /// which the cut itself broke.
    pub acked_at: Option<u64>,
}

impl Loss {
    /// The last op the diagnosis looks at.
    fn horizon(&self, cut: u64) -> u64 {
        self.acked_at.unwrap_or(cut)
    }

    /// "LSN 17 was acknowledged at op 38", or "the power was cut at op 41".
    fn moment(&self, cut: u64) -> String {
        match self.acked_at {
            Some(op) => format!("{} was acknowledged at op {op}", self.what),
            None => format!("the power was cut at op {cut}"),
        }
    }
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
            acked_at: Some(acked_at),
        });
        self
    }

    /// Adds a promise about `path` that must hold at every moment and does
    /// not hold after the cut, such as "a whole version of the file".
    pub fn broken(mut self, what: impl Into<String>, path: impl AsRef<Path>) -> Self {
        self.losses.push(Loss {
            what: what.into(),
            path: crate::sim::display_path(path.as_ref()),
            acked_at: None,
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
        let cut = trace.len() as u64;
        let facts = Facts::gather(trace, self.fs, loss);
        let _ = writeln!(out, "Durable then: {}.", self.durable_then(&facts, loss));
        match loss.acked_at {
            Some(op) => {
                let _ = writeln!(
                    out,
                    "Lost: {}, acknowledged at op {op}, is missing after the power cut.",
                    loss.what
                );
            }
            None => {
                let _ = writeln!(
                    out,
                    "Broken: after the power cut, {} is not there.",
                    loss.what
                );
            }
        }
        let (why, fix) = facts.diagnose(loss, cut);
        let _ = writeln!(out, "Why: {why}");
        let _ = writeln!(out, "Likely fix: {fix}");
    }

    /// What a power cut leaves at `loss.path`, beside what the name leads to
    /// before it.
    fn durable_then(&self, facts: &Facts, loss: &Loss) -> String {
        let path = Path::new(&loss.path);
        let crashed = self.fs.crash();
        let synced = facts
            .last_sync_at_cut
            .map(|n| format!("last synced at op {n}"))
            .unwrap_or_else(|| "never synced".to_owned());
        let now = self.fs.inode(path);
        let now_len = now.and_then(|ino| self.fs.read_len(ino));
        match crashed.read(path) {
            Err(_) => format!("no file named {} (the name was not durable)", loss.path),
            Ok(bytes) if crashed.inode(path) == now => format!(
                "{}, {} of {} bytes ({synced})",
                loss.path,
                bytes.len(),
                now_len.unwrap_or(0)
            ),
            Ok(bytes) => format!(
                "{}, {} bytes of an older file; the file the name leads to before the cut holds {} bytes and was {synced}",
                loss.path,
                bytes.len(),
                now_len.unwrap_or(0)
            ),
        }
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
        let acked = loss.horizon(trace.len() as u64);
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
    fn diagnose(&self, loss: &Loss, cut: u64) -> (String, String) {
        let path = &loss.path;
        let what = &loss.what;
        let moment = loss.moment(cut);
        let horizon = loss.horizon(cut);
        if self.ino.is_none() {
            return (
                format!("nothing was named {path} when {moment}."),
                "create (and sync) the file before you acknowledge what it holds.".to_owned(),
            );
        }
        if let Some(failed) = self.failed_syncs_before.last() {
            return (
                format!(
                    "the sync of {path} at op {failed} failed (EIO), yet {moment}. After a failed fsync the kernel may have dropped the data, and a later sync that succeeds does not bring it back."
                ),
                "treat a failed sync as fatal for what it covered: return the error, acknowledge nothing, and recover from what is on disk.".to_owned(),
            );
        }
        if let Some((renamed_at, true, _)) = self.linked {
            let written_before = self.writes_before.iter().any(|w| *w < renamed_at);
            let synced_before = self.syncs_before.iter().any(|s| *s < renamed_at);
            if written_before && !synced_before {
                return (
                    format!(
                        "the file renamed to {path} at op {renamed_at} was written but not synced before the rename, so the new name can reach the disk before the bytes it leads to."
                    ),
                    "sync the temporary file before you rename it over the target.".to_owned(),
                );
            }
        }
        let last_write = self.writes_before.last().copied();
        let last_sync = self.syncs_before.last().copied();
        match (last_write, last_sync) {
            (None, sync) if !self.writes_after.is_empty() => {
                let later = self.writes_after[0];
                let order = sync
                    .map(|s| format!(" The sync at op {s} ran before that write: flush the buffer first, then sync."))
                    .unwrap_or_default();
                return (
                    format!("{what} was not yet written to {path} when {} at op {horizon}: its bytes reached the file only at op {later}, so they were still in a buffer in memory.{order}", if loss.acked_at.is_some() { "it was acknowledged" } else { "the power was cut" }),
                    "write (flush) the bytes, then sync_data, and acknowledge only after both have returned.".to_owned(),
                );
            }
            (Some(write), None) => {
                return (
                    format!(
                        "{path} was never synced before {moment}; its last write before then was op {write}."
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
                        "{path} was last synced at op {sync}, but the bytes written at op {write} had no sync after them when {moment}.{adjacent}"
                    ),
                    "flush, then sync_data, then acknowledge; never acknowledge what a sync has not covered.".to_owned(),
                );
            }
            _ => {}
        }
        if let Some((linked_at, renamed, _)) = self.linked
            && self.dir_synced_after_link.is_none()
        {
            let how = if renamed {
                "renamed into place"
            } else {
                "created"
            };
            return (
                format!(
                    "{path} was {how} at op {linked_at} and its data was synced, but its directory was not synced after that before op {horizon}: after the power cut the name {path} does not lead to it."
                ),
                "after creating or renaming a file, sync the directory that holds it (sync_dir on the parent) before you rely on the name.".to_owned(),
            );
        }
        (
            format!(
                "by the trace, {path}'s bytes and name were durable when {moment}, so it was lost after the crash, while reading or recovering."
            ),
            "recovery must keep every complete, synced record: check where it stops or truncates."
                .to_owned(),
        )
    }
}
