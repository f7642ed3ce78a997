//! The disk after a power cut.

use std::collections::{BTreeMap, HashMap};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use super::state::{DirChange, DirNode, FileChange, FileNode, Node, ROOT, State, apply, apply_dir};

/// The size of a disk sector: the unit a torn write is cut at.
pub const SECTOR: u64 = 512;

/// Only what was synced.
pub(crate) fn strict(state: &State) -> State {
    rebuild(state, &mut |_, node| durable_view(node, None))
}

/// What was synced plus a seeded prefix of what was not.
pub(crate) fn torn(state: &State, seed: u64) -> State {
    rebuild(state, &mut |ino, node| {
        let mut rng = StdRng::seed_from_u64(seed ^ ino.wrapping_mul(0x9E37_79B9_7F4A_7C15));
        durable_view(node, Some(&mut rng))
    })
}

/// A new state holding, for every node reachable from the root through the
/// entries `view` gives, what `view` says survived.
fn rebuild(state: &State, view: &mut dyn FnMut(u64, &Node) -> Node) -> State {
    let mut nodes = HashMap::new();
    let mut todo = vec![ROOT];
    while let Some(ino) = todo.pop() {
        if nodes.contains_key(&ino) {
            continue;
        }
        let Some(node) = state.nodes.get(&ino) else {
            continue;
        };
        let survived = view(ino, node);
        if let Node::Dir(dir) = &survived {
            todo.extend(dir.entries.values().copied());
        }
        nodes.insert(ino, survived);
    }
    // A name whose inode did not survive (it cannot happen, as every inode
    // lives as long as the disk) would dangle; drop such names to be safe.
    let kept: Vec<u64> = nodes.keys().copied().collect();
    for node in nodes.values_mut() {
        if let Node::Dir(dir) = node {
            dir.entries.retain(|_, ino| kept.contains(ino));
            dir.durable = dir.entries.clone();
        }
    }
    State {
        nodes,
        next_ino: state.next_ino,
        ..State::default()
    }
}

/// One node as it is on the disk: its durable part, and with a random
/// generator also a prefix of its pending changes.
fn durable_view(node: &Node, rng: Option<&mut StdRng>) -> Node {
    match node {
        Node::File(file) => {
            let mut bytes = file.durable.clone();
            if let Some(rng) = rng {
                torn_prefix(&mut bytes, &file.pending, rng);
            }
            Node::File(FileNode {
                data: bytes.clone(),
                durable: bytes,
                pending: Vec::new(),
            })
        }
        Node::Dir(dir) => {
            let mut entries: BTreeMap<String, u64> = dir.durable.clone();
            if let Some(rng) = rng {
                let kept = rng.random_range(0..=dir.pending.len());
                for change in &dir.pending[..kept] {
                    apply_dir(&mut entries, change);
                }
            }
            Node::Dir(DirNode {
                entries: entries.clone(),
                durable: entries,
                pending: Vec::<DirChange>::new(),
            })
        }
    }
}

/// Applies a random prefix of `pending` to `bytes`; the change after the
/// prefix, if it is a write, lands in part: whole sectors from its start,
/// and now and then as zeros (the length reached the disk, the data did not).
fn torn_prefix(bytes: &mut Vec<u8>, pending: &[FileChange], rng: &mut StdRng) {
    let whole = rng.random_range(0..=pending.len());
    for change in &pending[..whole] {
        apply(bytes, change);
    }
    let Some(FileChange::Write { offset, bytes: new }) = pending.get(whole) else {
        return;
    };
    let end = offset + new.len() as u64;
    let first_boundary = (offset / SECTOR + 1) * SECTOR;
    // The cut may also fall at the write's start: none of it landed.
    let boundaries: Vec<u64> = std::iter::once(*offset)
        .chain((0..).map(|i| first_boundary + i * SECTOR))
        .take_while(|b| *b < end)
        .collect();
    let cut = boundaries[rng.random_range(0..boundaries.len())];
    let kept = (cut - offset) as usize;
    let zeros = rng.random_range(0..4) == 0 && cut > bytes.len() as u64;
    let part = if zeros {
        vec![0; kept]
    } else {
        new[..kept].to_vec()
    };
    apply(
        bytes,
        &FileChange::Write {
            offset: *offset,
            bytes: part,
        },
    );
}

/// The path naming `ino`, now or in what is durable.
pub(crate) fn path_of(state: &State, ino: u64, durable: bool) -> Option<String> {
    if ino == ROOT {
        return Some("/".to_owned());
    }
    let mut todo = vec![(ROOT, String::new())];
    while let Some((dir_ino, prefix)) = todo.pop() {
        let Some(Node::Dir(dir)) = state.nodes.get(&dir_ino) else {
            continue;
        };
        let entries = if durable { &dir.durable } else { &dir.entries };
        for (name, child) in entries {
            let path = format!("{prefix}/{name}");
            if *child == ino {
                return Some(path);
            }
            todo.push((*child, path));
        }
    }
    None
}
