//! The numbered trace of a [`SimFs`](crate::SimFs): every operation that
//! changes the file system, in the order it happened.

use std::fmt;

/// What one operation did. Paths are as the caller spelled them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OpKind {
    /// A new, empty file and its name.
    Create { path: String },
    /// Bytes written at an offset.
    Write { path: String, offset: u64, len: u64 },
    /// The file cut or extended to `len`.
    SetLen { path: String, len: u64 },
    /// `sync_data` or `sync_all` on a file.
    SyncFile { path: String, all: bool },
    /// `fsync` on a directory.
    SyncDir { path: String },
    /// A name moved, replacing what `to` named.
    Rename { from: String, to: String },
    /// A name removed.
    Remove { path: String },
    /// A new directory and its name.
    CreateDir { path: String },
}

/// One numbered operation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Op {
    /// 1 for the first operation.
    pub n: u64,
    pub kind: OpKind,
    /// The file or directory the operation acted on (for a rename, the one
    /// renamed; for a remove, the one whose name was removed).
    pub ino: u64,
    /// The directory whose entries changed, for creates, renames (the
    /// destination) and removes.
    pub dir: Option<u64>,
    /// For a rename, the directory the name left.
    pub from_dir: Option<u64>,
    /// `None` if it succeeded; otherwise the injected error.
    pub failed: Option<String>,
}

impl Op {
    /// Whether the operation changed a file's bytes or length.
    pub fn is_write(&self) -> bool {
        matches!(self.kind, OpKind::Write { .. } | OpKind::SetLen { .. })
    }

    /// Whether it was a successful sync of a file.
    pub fn is_file_sync(&self) -> bool {
        matches!(self.kind, OpKind::SyncFile { .. }) && self.failed.is_none()
    }
}

impl fmt::Display for OpKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OpKind::Create { path } => write!(f, "create {path}"),
            OpKind::Write { path, offset, len } => {
                write!(f, "write {path} @{offset}, {len} bytes")
            }
            OpKind::SetLen { path, len } => write!(f, "set_len {path} to {len}"),
            OpKind::SyncFile { path, all } => {
                let call = if *all { "sync_all" } else { "sync_data" };
                write!(f, "{call} {path}")
            }
            OpKind::SyncDir { path } => write!(f, "sync directory {path}"),
            OpKind::Rename { from, to } => write!(f, "rename {from} -> {to}"),
            OpKind::Remove { path } => write!(f, "remove {path}"),
            OpKind::CreateDir { path } => write!(f, "create directory {path}"),
        }
    }
}

impl fmt::Display for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "op {}: {}", self.n, self.kind)?;
        if let Some(error) = &self.failed {
            write!(f, " (failed: {error})")?;
        }
        Ok(())
    }
}
