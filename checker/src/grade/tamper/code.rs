//! Reads every file under a lesson's `src/` (capped per file), parses what
//! is Rust, and counts its suspicious code per file ([`scan::Kind`]).
//! A file that is not `*.rs` counts too when it parses as Rust (it may be
//! pulled in by `include!`); one that an `include!` or `#[path]` names and
//! that does not parse is a problem of its own, as is any `*.rs` file that
//! does not parse.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};

use syn::parse::Parser;
use syn::visit::Visit;

use super::names::{Aliases, Collector};
use super::scan::{Counts, Scanner};

/// The most bytes read of one submitted file (a 2 GiB sparse file is not read whole).
pub const MAX_SCANNED_BYTES: u64 = 4 << 20;

/// What the scan found in one file.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct FileScan {
    pub counts: Counts,
    /// Findings that no baseline excuses: unparsable, oversized.
    pub problems: Vec<String>,
}

/// A file's content, as far as it is Rust.
enum Parsed {
    File(syn::File),
    Expr(syn::Expr),
    Stmts(Vec<syn::Stmt>),
    Type(syn::Type),
    Pat(syn::Pat),
    /// A `*.rs` file that does not parse (why), read as tokens only.
    Tokens(proc_macro2::TokenStream, String),
    /// Not Rust at all (why).
    NotRust(String),
}

impl Parsed {
    /// Parses `text` the way its name suggests: a `*.rs` file as a file of
    /// items, anything else in every position `include!` accepts.
    fn new(text: &str, is_rs: bool) -> Parsed {
        let file_error = match syn::parse_file(text) {
            Ok(file) => return Parsed::File(file),
            Err(e) => describe(&e),
        };
        if !is_rs {
            if let Ok(expr) = syn::parse_str::<syn::Expr>(text) {
                return Parsed::Expr(expr);
            }
            if let Ok(stmts) = syn::Block::parse_within.parse_str(text) {
                return Parsed::Stmts(stmts);
            }
            if let Ok(ty) = syn::parse_str::<syn::Type>(text) {
                return Parsed::Type(ty);
            }
            if let Ok(pat) = syn::Pat::parse_single.parse_str(text) {
                return Parsed::Pat(pat);
            }
        }
        match (is_rs, text.parse::<proc_macro2::TokenStream>()) {
            (true, Ok(tokens)) => Parsed::Tokens(tokens, file_error),
            _ => Parsed::NotRust(file_error),
        }
    }

    fn accept<'ast, V: Visit<'ast>>(&'ast self, visitor: &mut V) {
        match self {
            Parsed::File(file) => visitor.visit_file(file),
            Parsed::Expr(expr) => visitor.visit_expr(expr),
            Parsed::Stmts(stmts) => stmts.iter().for_each(|s| visitor.visit_stmt(s)),
            Parsed::Type(ty) => visitor.visit_type(ty),
            Parsed::Pat(pat) => visitor.visit_pat(pat),
            Parsed::Tokens(..) | Parsed::NotRust(_) => {}
        }
    }
}

/// A parse error with its line, when known.
fn describe(error: &syn::Error) -> String {
    let line = error.span().start().line;
    if line > 0 {
        format!("line {line}: {error}")
    } else {
        error.to_string()
    }
}

/// The file's first [`MAX_SCANNED_BYTES`], and whether there was more.
fn read_capped(path: &Path) -> (Vec<u8>, bool) {
    let mut bytes = Vec::new();
    if let Ok(file) = std::fs::File::open(path) {
        let _ = file.take(MAX_SCANNED_BYTES + 1).read_to_end(&mut bytes);
    }
    let oversized = bytes.len() as u64 > MAX_SCANNED_BYTES;
    bytes.truncate(MAX_SCANNED_BYTES as usize);
    (bytes, oversized)
}

/// Scans the files `relative` (paths under `root`, each starting with `src`).
pub fn scan(root: &Path, relative: &[PathBuf]) -> BTreeMap<PathBuf, FileScan> {
    let mut results: BTreeMap<PathBuf, FileScan> = BTreeMap::new();
    let mut parsed = Vec::new();
    for path in relative {
        let (bytes, oversized) = read_capped(&root.join(path));
        let result = results.entry(path.clone()).or_default();
        if oversized {
            result.problems.push(format!(
                "is larger than {} MiB; only its beginning was read",
                MAX_SCANNED_BYTES >> 20
            ));
        }
        let is_rs = path.extension().is_some_and(|e| e == "rs");
        let content = match String::from_utf8(bytes) {
            Ok(text) => Parsed::new(&text, is_rs),
            Err(_) if is_rs => {
                result.problems.push("is not UTF-8 text".to_string());
                continue;
            }
            Err(_) => Parsed::NotRust("not UTF-8 text".to_string()),
        };
        if let (true, Parsed::Tokens(_, why) | Parsed::NotRust(why)) = (is_rs, &content) {
            result
                .problems
                .push(format!("does not parse as Rust ({why})"));
        }
        parsed.push((path.clone(), content));
    }
    let mut aliases = Aliases::default();
    for (_, content) in &parsed {
        content.accept(&mut Collector(&mut aliases));
    }
    let mut included = Vec::new();
    for (path, content) in &parsed {
        let mut scanner = Scanner::new(&aliases);
        match content {
            Parsed::Tokens(tokens, _) => scanner.tokens(tokens.clone()),
            other => other.accept(&mut scanner),
        }
        included.extend(scanner.included);
        if let Some(result) = results.get_mut(path) {
            result.counts = scanner.counts;
        }
    }
    // A file that `include!` or `#[path]` names must be Rust: say so when
    // it is not, and read its tokens anyway.
    let names: Vec<&str> = included
        .iter()
        .filter_map(|n| Path::new(n).file_name()?.to_str())
        .collect();
    for (path, content) in &parsed {
        let Parsed::NotRust(why) = content else {
            continue;
        };
        let named = path
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| names.contains(&n));
        if !named {
            continue;
        }
        let Some(result) = results.get_mut(path) else {
            continue;
        };
        result.problems.push(format!(
            "is named by include! or #[path] but does not parse as Rust ({why})"
        ));
        let bytes = read_capped(&root.join(path)).0;
        if let Ok(tokens) = String::from_utf8_lossy(&bytes).parse() {
            let mut scanner = Scanner::new(&aliases);
            scanner.tokens(tokens);
            result.counts = scanner.counts;
        }
    }
    // The spans of this thread's parses are not needed any more: free them.
    drop(parsed);
    proc_macro2::extra::invalidate_current_thread_spans();
    results
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::grade::tamper::scan::Kind;

    fn scan_files(files: &[(&str, &[u8])]) -> BTreeMap<PathBuf, FileScan> {
        let dir = tempfile::tempdir().unwrap();
        for (path, bytes) in files {
            let path = dir.path().join(path);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, bytes).unwrap();
        }
        let relative: Vec<PathBuf> = files.iter().map(|(p, _)| PathBuf::from(p)).collect();
        scan(dir.path(), &relative)
    }

    fn get<'a>(scans: &'a BTreeMap<PathBuf, FileScan>, path: &str) -> &'a FileScan {
        &scans[Path::new(path)]
    }

    #[test]
    fn a_file_that_is_not_rs_counts_when_it_is_rust() {
        let scans = scan_files(&[
            ("src/lib.rs", b"include!(\"x.txt\");"),
            ("src/x.txt", b"pub fn f() { std::process::exit(0) }"),
            ("src/expr.txt", b"{ unsafe { leave() } }"),
            ("src/notes.md", b"Remember: no unsafe, no process::exit."),
        ]);
        assert_eq!(
            get(&scans, "src/lib.rs").counts,
            Counts::from([(Kind::Include, 1)])
        );
        assert_eq!(
            get(&scans, "src/x.txt").counts,
            Counts::from([(Kind::Exit, 1)])
        );
        assert_eq!(
            get(&scans, "src/expr.txt").counts,
            Counts::from([(Kind::Unsafe, 1)])
        );
        assert_eq!(get(&scans, "src/notes.md"), &FileScan::default());
    }

    #[test]
    fn an_included_file_that_does_not_parse_is_a_problem_and_still_read() {
        let scans = scan_files(&[
            ("src/lib.rs", b"fn f() { include!(\"bad.txt\") }"),
            ("src/bad.txt", b"unsafe { std::process::exit(0) } ) ("),
        ]);
        let bad = get(&scans, "src/bad.txt");
        assert_eq!(bad.problems.len(), 1, "{bad:?}");
        assert!(
            bad.problems[0].starts_with("is named by include!"),
            "{bad:?}"
        );
    }

    #[test]
    fn an_rs_file_that_does_not_parse_is_a_problem_not_a_crash() {
        let scans = scan_files(&[
            (
                "src/lib.rs",
                b"fn f() {\n    let x = ;\n    unsafe { g() }\n}\n",
            ),
            ("src/binary.rs", b"\xff\xfe not text"),
            ("src/unbalanced.rs", b"fn f() { ( }"),
        ]);
        let lib = get(&scans, "src/lib.rs");
        assert_eq!(lib.problems.len(), 1);
        assert!(
            lib.problems[0].starts_with("does not parse as Rust (line 2:"),
            "{lib:?}"
        );
        assert_eq!(
            lib.counts,
            Counts::from([(Kind::Unsafe, 1)]),
            "its tokens are still read"
        );
        assert_eq!(get(&scans, "src/binary.rs").problems, ["is not UTF-8 text"]);
        assert_eq!(get(&scans, "src/unbalanced.rs").problems.len(), 1);
    }

    #[test]
    fn reads_a_huge_file_only_up_to_the_cap() {
        let dir = tempfile::tempdir().unwrap();
        let big = dir.path().join("src/big.rs");
        std::fs::create_dir_all(big.parent().unwrap()).unwrap();
        // Sparse: 1 GiB on paper, nothing on the disk.
        std::fs::File::create(&big)
            .unwrap()
            .set_len(1 << 30)
            .unwrap();
        let scans = scan(dir.path(), &[PathBuf::from("src/big.rs")]);
        let problems = &scans[Path::new("src/big.rs")].problems;
        assert!(
            problems[0].starts_with("is larger than 4 MiB"),
            "{problems:?}"
        );
    }

    /// The course's own stubs and solutions parse: a finding of their own
    /// would flag every student.
    #[test]
    fn every_stub_and_solution_of_the_course_parses() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
        let mut checked = 0;
        for kind in ["exercises", "solutions"] {
            for lesson in std::fs::read_dir(root.join(kind)).unwrap() {
                let lesson = lesson.unwrap().path();
                let files: Vec<PathBuf> = walkdir::WalkDir::new(lesson.join("src"))
                    .into_iter()
                    .filter_map(Result::ok)
                    .filter(|e| e.file_type().is_file())
                    .map(|e| e.path().strip_prefix(&lesson).unwrap().to_path_buf())
                    .collect();
                for (path, found) in scan(&lesson, &files) {
                    assert_eq!(
                        found.problems,
                        Vec::<String>::new(),
                        "{}",
                        lesson.join(path).display()
                    );
                    checked += 1;
                }
            }
        }
        assert!(checked > 20, "only {checked} files found");
    }
}
