//! The names a submission gives to paths with `use` (renames, re-exports,
//! globs, `extern crate ... as`), collected from every file first, so that
//! `use std::process::{Command as Cmd}` in one module and `Cmd::new` in
//! another still name `std::process::Command`.

use std::collections::{BTreeMap, BTreeSet};

use syn::ext::IdentExt;
use syn::visit::Visit;

/// A path as its segments (`std::process::exit` → `["std", "process", "exit"]`).
pub type Segments = Vec<String>;

/// An identifier as the compiler reads it: `r#exit` is `exit`.
pub fn word(ident: &syn::Ident) -> String {
    ident.unraw().to_string()
}

/// Every alias a submission defines, across its files.
#[derive(Debug, Default)]
pub struct Aliases {
    /// Name → each path it was bound to (a name may be bound more than once).
    names: BTreeMap<String, BTreeSet<Segments>>,
    /// The prefixes of glob imports (`use std::process::*` → `std::process`).
    globs: BTreeSet<Segments>,
}

/// How far alias chains are followed (`use std::process as p; use p::Command as C;`).
const MAX_DEPTH: usize = 4;
/// At most this many readings of one path are tried.
const MAX_READINGS: usize = 64;

impl Aliases {
    /// Every path `segments` may stand for: as written, through an alias
    /// at any segment (a re-export names the same thing elsewhere), and
    /// under each glob import.
    pub fn readings(&self, segments: &[String]) -> Vec<Segments> {
        let mut out = vec![segments.to_vec()];
        for glob in &self.globs {
            out.push(glob.iter().chain(segments).cloned().collect());
        }
        let mut frontier = out.clone();
        for _ in 0..MAX_DEPTH {
            let mut next = Vec::new();
            for path in &frontier {
                for (i, segment) in path.iter().enumerate() {
                    for target in self.names.get(segment).into_iter().flatten() {
                        let reading: Segments =
                            target.iter().chain(&path[i + 1..]).cloned().collect();
                        if !out.contains(&reading) && !next.contains(&reading) {
                            next.push(reading);
                        }
                    }
                }
            }
            if next.is_empty() || out.len() >= MAX_READINGS {
                break;
            }
            out.extend(next.iter().cloned());
            frontier = next;
        }
        out.truncate(MAX_READINGS);
        out
    }

    fn bind(&mut self, name: String, target: Segments) {
        // `use x;` binds x to itself: nothing to learn.
        if target != [name.as_str()] {
            self.names.entry(name).or_default().insert(target);
        }
    }
}

/// The full paths a `use` tree names: (bound name or `None` for a glob, path).
pub fn use_leaves(tree: &syn::UseTree) -> Vec<(Option<String>, Segments)> {
    fn walk(tree: &syn::UseTree, prefix: &mut Segments, out: &mut Vec<(Option<String>, Segments)>) {
        match tree {
            syn::UseTree::Path(p) => {
                prefix.push(word(&p.ident));
                walk(&p.tree, prefix, out);
                prefix.pop();
            }
            syn::UseTree::Name(n) => out.push(leaf(prefix, &n.ident, &n.ident)),
            syn::UseTree::Rename(r) => out.push(leaf(prefix, &r.ident, &r.rename)),
            syn::UseTree::Glob(_) => out.push((None, prefix.clone())),
            syn::UseTree::Group(g) => {
                for tree in &g.items {
                    walk(tree, prefix, out);
                }
            }
        }
    }
    /// `self` in a group names the prefix itself: `use std::process::{self as p}`.
    fn leaf(
        prefix: &Segments,
        ident: &syn::Ident,
        bound: &syn::Ident,
    ) -> (Option<String>, Segments) {
        let mut path = prefix.clone();
        if ident != "self" || path.is_empty() {
            path.push(word(ident));
        }
        let name = if bound == "self" {
            path.last().cloned().unwrap_or_default()
        } else {
            word(bound)
        };
        (Some(name), path)
    }
    let mut out = Vec::new();
    walk(tree, &mut Vec::new(), &mut out);
    out
}

/// Adds the aliases of whatever it visits.
pub struct Collector<'a>(pub &'a mut Aliases);

impl Visit<'_> for Collector<'_> {
    fn visit_item_use(&mut self, item: &syn::ItemUse) {
        for (name, path) in use_leaves(&item.tree) {
            match name {
                Some(name) if name != "_" => self.0.bind(name, path),
                Some(_) => {}
                None => {
                    self.0.globs.insert(path);
                }
            }
        }
    }

    fn visit_item_extern_crate(&mut self, item: &syn::ItemExternCrate) {
        if let Some((_, rename)) = &item.rename {
            self.0.bind(word(rename), vec![word(&item.ident)]);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn aliases(source: &str) -> Aliases {
        let mut aliases = Aliases::default();
        Collector(&mut aliases).visit_file(&syn::parse_file(source).unwrap());
        aliases
    }

    fn path(text: &str) -> Segments {
        text.split("::").map(str::to_string).collect()
    }

    #[test]
    fn renames_groups_self_and_chains_resolve() {
        let a = aliases(
            "use std::process::{Command as Cmd, self as p};\nmod m { pub use super::p::exit as leave; }\nextern crate std as s;",
        );
        let has = |written: &str, meant: &str| a.readings(&path(written)).contains(&path(meant));
        assert!(has("Cmd::new", "std::process::Command::new"));
        assert!(has("p::abort", "std::process::abort"));
        assert!(has("crate::m::leave", "std::process::exit"));
        assert!(has("s::process::exit", "std::process::exit"));
        assert!(!has("Other::new", "std::process::Command::new"));
    }

    #[test]
    fn globs_prefix_every_path() {
        let a = aliases("use std::process::*;");
        assert!(
            a.readings(&path("exit"))
                .contains(&path("std::process::exit"))
        );
    }
}
