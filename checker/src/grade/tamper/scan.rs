//! Counts, in one parsed file, the code that could fake or dodge a test
//! result. The file is parsed with `syn`, so comments and string contents
//! never count; macro bodies (which `syn` leaves as tokens) are read token
//! by token, where comments are gone too. Paths are read through the
//! submission's `use` aliases ([`Aliases`]).

use std::collections::BTreeMap;

use proc_macro2::{Delimiter, TokenStream, TokenTree};
use syn::visit::{self, Visit};

use super::names::{Aliases, Segments, use_leaves, word};

/// One kind of suspicious code, counted per file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Kind {
    Exit,
    Command,
    Exec,
    RawProcess,
    Include,
    IncludeStr,
    IncludeBytes,
    PathAttribute,
    LinkSection,
    NoMangle,
    Extern,
    Asm,
    Abort,
    Unsafe,
    CfgTest,
    Args,
    Stdout,
    ProcSelf,
    MacroPath,
}

impl Kind {
    /// What the code does, after the file's name in a finding.
    pub fn meaning(self) -> &'static str {
        match self {
            Kind::Exit => "calls std::process::exit",
            Kind::Command => "starts processes",
            Kind::Exec => "may replace the test process (exec)",
            Kind::RawProcess => "calls libc's process functions (fork, syscall, _exit, kill...)",
            Kind::Include => "pulls in another file with include!",
            Kind::IncludeStr => "reads a file at compile time (include_str!)",
            Kind::IncludeBytes => "reads a file at compile time (include_bytes!)",
            Kind::PathAttribute => "loads a module from another path (#[path])",
            Kind::LinkSection => "places code in a link section (a constructor?)",
            Kind::NoMangle => "exports an unmangled symbol (overriding libc?)",
            Kind::Extern => "declares or defines C functions (extern \"C\")",
            Kind::Asm => "uses inline assembly",
            Kind::Abort => "calls abort",
            Kind::Unsafe => "uses unsafe",
            Kind::CfgTest => "has code that changes under cfg(test)",
            Kind::Args => "reads the test harness's command line",
            Kind::Stdout => "writes to stdout directly",
            Kind::ProcSelf => "reads /proc/self",
            Kind::MacroPath => "names std or libc items through macro arguments (std::$name)",
        }
    }
}

/// How often each kind occurs in one file.
pub type Counts = BTreeMap<Kind, usize>;

/// libc functions that fork, exit, signal or make raw system calls.
const RAW_PROCESS: &[&str] = &[
    "fork",
    "vfork",
    "clone",
    "clone3",
    "syscall",
    "system",
    "popen",
    "posix_spawn",
    "posix_spawnp",
    "_exit",
    "_Exit",
    "exit",
    "exit_group",
    "kill",
    "killpg",
    "tgkill",
    "raise",
    "daemon",
    "setsid",
    "ptrace",
    "prctl",
    "dup2",
    "dup3",
];

/// What a path names, if anything suspicious.
fn path_kind(path: &[String]) -> Option<Kind> {
    let window = |a: &str, b: &dyn Fn(&str) -> bool| path.windows(2).any(|w| w[0] == a && b(&w[1]));
    let is = |name: &'static str| move |s: &str| s == name;
    if window("process", &is("exit")) {
        Some(Kind::Exit)
    } else if window("process", &is("abort")) || window("libc", &is("abort")) {
        Some(Kind::Abort)
    } else if window("process", &is("CommandExt"))
        || window("CommandExt", &is("exec"))
        || window("libc", &|s| s.starts_with("exec") || s == "fexecve")
    {
        Some(Kind::Exec)
    } else if window("process", &|s| s == "Command" || s.starts_with('$')) {
        // `std::process::$name` in a macro: whatever it names, it is in std::process.
        Some(Kind::Command)
    } else if window("libc", &|s| RAW_PROCESS.contains(&s)) {
        Some(Kind::RawProcess)
    } else if window("io", &|s| matches!(s, "stdout" | "Stdout" | "StdoutLock"))
        || window("libc", &is("STDOUT_FILENO"))
    {
        Some(Kind::Stdout)
    } else if window("env", &|s| {
        matches!(s, "args" | "args_os" | "Args" | "ArgsOs")
    }) {
        Some(Kind::Args)
    } else if matches!(
        path.first().map(String::as_str),
        Some("std" | "core" | "libc")
    ) && path.iter().any(|s| s.starts_with('$'))
    {
        // `std::$a::$b` in a macro body can name std::process::exit once expanded.
        Some(Kind::MacroPath)
    } else {
        None
    }
}

/// What a string literal's value points at, if anything suspicious.
fn text_kind(text: &str) -> Option<Kind> {
    const STDOUT: [&str; 4] = ["/dev/stdout", "/dev/fd/1", "/proc/self/fd/1", "/dev/tty"];
    if STDOUT.iter().any(|s| text.contains(s)) {
        Some(Kind::Stdout)
    } else if text.contains("/proc/self") || text.contains("/proc/thread-self") {
        Some(Kind::ProcSelf)
    } else {
        None
    }
}

/// Counts one file's suspicious code. `included` collects the file names
/// that `include!`, `include_str!`, `include_bytes!` and `#[path]` name.
pub struct Scanner<'a> {
    aliases: &'a Aliases,
    pub counts: Counts,
    pub included: Vec<String>,
}

impl<'a> Scanner<'a> {
    pub fn new(aliases: &'a Aliases) -> Scanner<'a> {
        Scanner {
            aliases,
            counts: Counts::new(),
            included: Vec::new(),
        }
    }

    fn add(&mut self, kind: Kind) {
        *self.counts.entry(kind).or_default() += 1;
    }

    /// A mention of a path, read through the aliases.
    fn path(&mut self, segments: &[String]) {
        if let Some(kind) = self
            .aliases
            .readings(segments)
            .iter()
            .find_map(|reading| path_kind(reading))
        {
            self.add(kind);
        }
    }

    /// An `unsafe` keyword and an `extern` ABI, where present.
    fn keywords(&mut self, unsafety: bool, abi: bool) {
        if unsafety {
            self.add(Kind::Unsafe);
        }
        if abi {
            self.add(Kind::Extern);
        }
    }

    fn text(&mut self, text: &str) {
        if let Some(kind) = text_kind(text) {
            self.add(kind);
        }
    }

    /// A macro call: the macro itself, then everything in its body.
    fn macro_call(&mut self, path: &[String], body: TokenStream) {
        let names: Vec<String> = self
            .aliases
            .readings(path)
            .into_iter()
            .filter_map(|r| r.last().cloned())
            .collect();
        let named = |wanted: &[&str]| names.iter().any(|n| wanted.contains(&n.as_str()));
        let kind = if named(&["include"]) {
            Some(Kind::Include)
        } else if named(&["include_str"]) {
            Some(Kind::IncludeStr)
        } else if named(&["include_bytes"]) {
            Some(Kind::IncludeBytes)
        } else if named(&["asm", "global_asm", "naked_asm", "llvm_asm"]) {
            Some(Kind::Asm)
        } else if named(&["cfg"]) && mentions_test(&body) {
            Some(Kind::CfgTest)
        } else {
            None
        };
        if let Some(kind) = kind {
            self.add(kind);
            if matches!(kind, Kind::Include | Kind::IncludeStr | Kind::IncludeBytes) {
                self.included.extend(string_literals(&body));
            }
        }
        self.tokens(body);
    }

    /// An attribute's meaning: `#[path]`, `#[link_section]`, `#[no_mangle]`,
    /// `#[export_name]`, `#[cfg(test)]`, also behind `cfg_attr` and `unsafe(...)`.
    fn meta(&mut self, meta: &syn::Meta) {
        let name = meta
            .path()
            .segments
            .last()
            .map(|s| word(&s.ident))
            .unwrap_or_default();
        match name.as_str() {
            "doc" => return,
            "path" => {
                self.add(Kind::PathAttribute);
                if let syn::Meta::NameValue(nv) = meta
                    && let syn::Expr::Lit(syn::ExprLit {
                        lit: syn::Lit::Str(s),
                        ..
                    }) = &nv.value
                {
                    self.included.push(s.value());
                }
            }
            "link_section" => self.add(Kind::LinkSection),
            "no_mangle" | "export_name" => self.add(Kind::NoMangle),
            "cfg" if mentions_test(&meta_tokens(meta)) => self.add(Kind::CfgTest),
            "cfg_attr" | "unsafe" => {
                if let syn::Meta::List(list) = meta {
                    let parsed = list.parse_args_with(
                        syn::punctuated::Punctuated::<syn::Meta, syn::Token![,]>::parse_terminated,
                    );
                    match parsed {
                        Ok(metas) => {
                            let mut metas = metas.into_iter();
                            if name == "cfg_attr"
                                && let Some(predicate) = metas.next()
                                && mentions_test(&meta_tokens(&predicate))
                            {
                                self.add(Kind::CfgTest);
                            }
                            for meta in metas {
                                self.meta(&meta);
                            }
                        }
                        Err(_) => self.tokens(list.tokens.clone()),
                    }
                }
                return;
            }
            _ => {}
        }
        // `#[doc = include_str!(..)]` and the like: the value is code.
        if let syn::Meta::NameValue(nv) = meta {
            self.visit_expr(&nv.value);
        }
    }

    /// Reads tokens that `syn` does not parse (macro bodies, verbatim
    /// syntax): paths, macro calls, attributes, `unsafe`, `extern`,
    /// `.exec(` and string literals.
    pub fn tokens(&mut self, stream: TokenStream) {
        let tokens: Vec<TokenTree> = stream.into_iter().collect();
        let mut i = 0;
        while i < tokens.len() {
            match &tokens[i] {
                TokenTree::Group(group) => {
                    self.tokens(group.stream());
                    i += 1;
                }
                TokenTree::Literal(literal) => {
                    match syn::Lit::new(literal.clone()) {
                        syn::Lit::Str(s) => self.text(&s.value()),
                        syn::Lit::ByteStr(s) => self.text(&String::from_utf8_lossy(&s.value())),
                        _ => {}
                    }
                    i += 1;
                }
                TokenTree::Punct(p) if p.as_char() == '#' => {
                    let mut j = i + 1;
                    if matches!(tokens.get(j), Some(TokenTree::Punct(p)) if p.as_char() == '!') {
                        j += 1;
                    }
                    match tokens.get(j) {
                        Some(TokenTree::Group(g)) if g.delimiter() == Delimiter::Bracket => {
                            match syn::parse2::<syn::Meta>(g.stream()) {
                                Ok(meta) => self.meta(&meta),
                                Err(_) => self.tokens(g.stream()),
                            }
                            i = j + 1;
                        }
                        _ => i += 1,
                    }
                }
                TokenTree::Punct(p) if p.as_char() == '.' => {
                    if matches!(tokens.get(i + 1), Some(TokenTree::Ident(m)) if word(m) == "exec")
                        && matches!(tokens.get(i + 2), Some(TokenTree::Group(g)) if g.delimiter() == Delimiter::Parenthesis)
                    {
                        self.add(Kind::Exec);
                    }
                    i += 1;
                }
                TokenTree::Ident(_) | TokenTree::Punct(_) => {
                    let Some((segments, next)) = read_path(&tokens, i) else {
                        i += 1;
                        continue;
                    };
                    i = next;
                    let bang =
                        matches!(tokens.get(i), Some(TokenTree::Punct(p)) if p.as_char() == '!');
                    if bang && let Some(TokenTree::Group(body)) = tokens.get(i + 1) {
                        self.macro_call(&segments, body.stream());
                        i += 2;
                        continue;
                    }
                    match segments.as_slice() {
                        [word] if word == "unsafe" => self.add(Kind::Unsafe),
                        [word] if word == "extern" => {
                            let abi_or_item = match tokens.get(i) {
                                Some(TokenTree::Literal(_)) => true,
                                Some(TokenTree::Ident(f)) => f == "fn",
                                Some(TokenTree::Group(g)) => g.delimiter() == Delimiter::Brace,
                                _ => false,
                            };
                            if abi_or_item {
                                self.add(Kind::Extern);
                            }
                        }
                        _ => self.path(&segments),
                    }
                }
            }
        }
    }
}

/// Reads `a::b::$c` from `tokens[start..]`: the segments and the index after them.
fn read_path(tokens: &[TokenTree], start: usize) -> Option<(Segments, usize)> {
    let colons = |i: usize| {
        matches!((tokens.get(i), tokens.get(i + 1)),
            (Some(TokenTree::Punct(a)), Some(TokenTree::Punct(b)))
                if a.as_char() == ':' && b.as_char() == ':')
    };
    let mut i = start;
    if colons(i) {
        i += 2;
    }
    let mut segments = Vec::new();
    loop {
        match tokens.get(i) {
            Some(TokenTree::Ident(ident)) => {
                segments.push(word(ident));
                i += 1;
            }
            Some(TokenTree::Punct(p)) if p.as_char() == '$' => match tokens.get(i + 1) {
                Some(TokenTree::Ident(ident)) => {
                    segments.push(format!("${ident}"));
                    i += 2;
                }
                _ => break,
            },
            _ => break,
        }
        if colons(i) {
            i += 2;
        } else {
            break;
        }
    }
    (!segments.is_empty()).then_some((segments, i))
}

/// Whether `test` occurs as a word in the tokens (a `cfg` predicate).
fn mentions_test(stream: &TokenStream) -> bool {
    stream.clone().into_iter().any(|t| match t {
        TokenTree::Ident(ident) => word(&ident) == "test",
        TokenTree::Group(g) => mentions_test(&g.stream()),
        _ => false,
    })
}

/// A meta item's tokens after its name (the name itself for a bare path).
fn meta_tokens(meta: &syn::Meta) -> TokenStream {
    match meta {
        syn::Meta::List(list) => list.tokens.clone(),
        syn::Meta::Path(path) => path
            .segments
            .iter()
            .map(|s| TokenTree::Ident(s.ident.clone()))
            .collect(),
        syn::Meta::NameValue(_) => TokenStream::new(),
    }
}

/// The string literals among the tokens (the file an `include!` names).
fn string_literals(stream: &TokenStream) -> Vec<String> {
    let mut out = Vec::new();
    for token in stream.clone() {
        match token {
            TokenTree::Literal(literal) => {
                if let syn::Lit::Str(s) = syn::Lit::new(literal) {
                    out.push(s.value());
                }
            }
            TokenTree::Group(g) => out.extend(string_literals(&g.stream())),
            _ => {}
        }
    }
    out
}

fn segments(path: &syn::Path) -> Segments {
    path.segments.iter().map(|s| word(&s.ident)).collect()
}

/// Visitor methods that read syntax `syn` keeps as raw tokens (`Verbatim`)
/// token by token, and walk the rest as usual.
macro_rules! verbatim_as_tokens {
    ($($method:ident, $walk:path, $node:ident;)*) => {$(
        fn $method(&mut self, node: &'ast syn::$node) {
            match node {
                syn::$node::Verbatim(tokens) => self.tokens(tokens.clone()),
                _ => $walk(self, node),
            }
        }
    )*};
}

impl<'ast> Visit<'ast> for Scanner<'_> {
    fn visit_path(&mut self, path: &'ast syn::Path) {
        self.path(&segments(path));
        visit::visit_path(self, path);
    }

    fn visit_macro(&mut self, mac: &'ast syn::Macro) {
        self.macro_call(&segments(&mac.path), mac.tokens.clone());
    }

    fn visit_attribute(&mut self, attr: &'ast syn::Attribute) {
        self.meta(&attr.meta);
    }

    fn visit_item_use(&mut self, item: &'ast syn::ItemUse) {
        for attr in &item.attrs {
            self.visit_attribute(attr);
        }
        for (_, path) in use_leaves(&item.tree) {
            self.path(&path);
        }
    }

    fn visit_expr_unsafe(&mut self, node: &'ast syn::ExprUnsafe) {
        self.add(Kind::Unsafe);
        visit::visit_expr_unsafe(self, node);
    }

    fn visit_signature(&mut self, sig: &'ast syn::Signature) {
        self.keywords(sig.unsafety.is_some(), sig.abi.is_some());
        visit::visit_signature(self, sig);
    }

    fn visit_item_impl(&mut self, item: &'ast syn::ItemImpl) {
        self.keywords(item.unsafety.is_some(), false);
        visit::visit_item_impl(self, item);
    }

    fn visit_item_trait(&mut self, item: &'ast syn::ItemTrait) {
        self.keywords(item.unsafety.is_some(), false);
        visit::visit_item_trait(self, item);
    }

    fn visit_item_foreign_mod(&mut self, item: &'ast syn::ItemForeignMod) {
        self.keywords(item.unsafety.is_some(), true);
        visit::visit_item_foreign_mod(self, item);
    }

    fn visit_type_bare_fn(&mut self, ty: &'ast syn::TypeBareFn) {
        self.keywords(ty.unsafety.is_some(), ty.abi.is_some());
        visit::visit_type_bare_fn(self, ty);
    }

    fn visit_expr_method_call(&mut self, call: &'ast syn::ExprMethodCall) {
        if word(&call.method) == "exec" {
            self.add(Kind::Exec);
        }
        visit::visit_expr_method_call(self, call);
    }

    fn visit_lit_str(&mut self, lit: &'ast syn::LitStr) {
        self.text(&lit.value());
    }

    fn visit_lit_byte_str(&mut self, lit: &'ast syn::LitByteStr) {
        self.text(&String::from_utf8_lossy(&lit.value()));
    }

    verbatim_as_tokens! {
        visit_item, visit::visit_item, Item;
        visit_expr, visit::visit_expr, Expr;
        visit_type, visit::visit_type, Type;
        visit_pat, visit::visit_pat, Pat;
        visit_foreign_item, visit::visit_foreign_item, ForeignItem;
        visit_impl_item, visit::visit_impl_item, ImplItem;
        visit_trait_item, visit::visit_trait_item, TraitItem;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::grade::tamper::names::Collector;

    /// Scans one file, read through its own aliases: counts, included names.
    fn scanned(source: &str) -> (Counts, Vec<String>) {
        let file = syn::parse_file(source).unwrap();
        let mut aliases = Aliases::default();
        Collector(&mut aliases).visit_file(&file);
        let mut scanner = Scanner::new(&aliases);
        scanner.visit_file(&file);
        (scanner.counts, scanner.included)
    }

    /// Each source counts exactly what it is paired with.
    fn expect(cases: &[(&str, &[(Kind, usize)])]) {
        for (source, wanted) in cases {
            let found: Vec<(Kind, usize)> = scanned(source).0.into_iter().collect();
            assert_eq!(found, *wanted, "{source}");
        }
    }

    #[test]
    fn comments_and_strings_never_count() {
        let source = r##"
            //! libc::syscall(1) process::abort()
            // unsafe { std::process::exit(0) } include!("x.txt") asm!("nop")
            /* #[path = "../../solutions/lib.rs"] mod s; extern "C" { fn fork(); } */
            /// Command::new("sh") cfg(test) std::io::stdout() #[no_mangle]
            pub fn f() -> &'static str {
                let _raw = r#"unsafe { std::process::Command::new("sh").exec() }"#;
                assert!(true, "unsafe std::process::exit"); /* exit */
                "#[link_section = \".init_array\"] include_str!(\"/etc/shadow\") env::args"
            }
        "##;
        expect(&[(source, &[])]);
    }

    #[test]
    fn process_exit_under_any_name() {
        use Kind::Exit;
        expect(&[
            ("fn f() { std::process::exit(0) }", &[(Exit, 1)]),
            (
                "use std::process; fn f() { process::exit(0) }",
                &[(Exit, 1)],
            ),
            // The `use` and the call each mention it.
            (
                "use std::process::exit as leave; fn f() { leave(0) }",
                &[(Exit, 2)],
            ),
            (
                "use std::process::*; fn f() { let out = exit; out(0) }",
                &[(Exit, 1)],
            ),
            (
                "mod m { pub use std::process as p; } fn f() { crate::m::p::exit(0) }",
                &[(Exit, 1)],
            ),
            ("fn f() { std::process::r#exit(0) }", &[(Exit, 1)]),
            ("fn f() { m!(std::r#process::exit(0)) }", &[(Exit, 1)]),
            ("fn exit() {} fn f() { exit() }", &[]),
        ]);
    }

    #[test]
    fn spawning_and_exec_under_renames() {
        use Kind::{Command, Exec, RawProcess};
        expect(&[
            (
                "use std::process::{Command as Cmd}; fn f() { Cmd::new(\"sh\").spawn(); }",
                &[(Command, 2)],
            ),
            (
                "extern crate std as s; fn f() { s::process::Command::new(\"sh\"); }",
                &[(Command, 1)],
            ),
            (
                "type C = std::process::Command; fn f() { C::new(\"sh\"); }",
                &[(Command, 1)],
            ),
            (
                "fn f(c: &mut Thing) { c.exec(); c.r#exec(); }",
                &[(Exec, 2)],
            ),
            (
                "use std::os::unix::process::CommandExt as X; fn f(c: &mut T) { X::exec(c); }",
                &[(Exec, 2)],
            ),
            (
                "fn f() { libc::execv(p, a); libc::fork(); libc::syscall(60, 0); libc::_exit(0); }",
                &[(Exec, 1), (RawProcess, 3)],
            ),
            // A local type of the same name is not std's.
            ("enum Command { Put } fn f() { Command::Put; }", &[]),
        ]);
    }

    #[test]
    fn includes_under_any_name_and_the_files_they_name() {
        let (counts, included) = scanned(
            "include!(\"x.txt\"); const A: &str = std::include_str!(\"/etc/shadow\");\n\
             use core::include_bytes as grab; const B: &[u8] = grab!(\"b.bin\");",
        );
        let found: Vec<(Kind, usize)> = counts.into_iter().collect();
        let wanted = [
            (Kind::Include, 1),
            (Kind::IncludeStr, 1),
            (Kind::IncludeBytes, 1),
        ];
        assert_eq!(found, wanted);
        assert_eq!(included, ["x.txt", "/etc/shadow", "b.bin"]);
    }

    #[test]
    fn attributes_also_behind_cfg_attr_and_unsafe() {
        use Kind::{CfgTest, LinkSection, NoMangle, PathAttribute};
        expect(&[
            (
                "#[path = \"../s.rs\"] mod s; #[cfg_attr(all(), path = \"t.rs\")] mod t;",
                &[(PathAttribute, 2)],
            ),
            (
                "#[used] #[unsafe(link_section = \".init_array\")] static F: u8 = 0;",
                &[(LinkSection, 1)],
            ),
            (
                "#[unsafe(no_mangle)] fn a() {} #[no_mangle] fn b() {} #[cfg_attr(unix, unsafe(export_name = \"exit\"))] fn c() {}",
                &[(NoMangle, 3)],
            ),
            (
                "#[cfg(test)] fn a() {} #[cfg_attr(test, allow(dead_code))] fn b() {} fn c() -> bool { cfg!(test) }",
                &[(CfgTest, 3)],
            ),
            (
                "#[cfg(unix)] fn a() {} #[doc = \"/dev/stdout\"] fn b() {}",
                &[],
            ),
        ]);
    }

    #[test]
    fn extern_asm_abort_and_unsafe() {
        use Kind::{Abort, Asm, Extern, Unsafe};
        expect(&[
            (
                "unsafe extern \"C\" { fn fork() -> i32; } extern \"C\" fn ctor() {} static F: extern \"C\" fn() = ctor;",
                &[(Extern, 3), (Unsafe, 1)],
            ),
            (
                "std::arch::global_asm!(\"nop\"); fn f() { unsafe { core::arch::asm!(\"nop\") } }",
                &[(Asm, 2), (Unsafe, 1)],
            ),
            (
                "unsafe fn a() {} unsafe impl Send for X {} unsafe trait T {} fn b() { unsafe { a() } }",
                &[(Unsafe, 4)],
            ),
            ("fn f() { std::process::abort() }", &[(Abort, 1)]),
        ]);
    }

    #[test]
    fn stdout_args_and_proc_self() {
        use Kind::{Args, ProcSelf, Stdout};
        expect(&[
            (
                "use std::io::{self, Write}; fn f() { let _ = io::stdout().flush(); }",
                &[(Stdout, 1)],
            ),
            (
                "fn f() { std::fs::File::create(\"/dev/stdout\"); }",
                &[(Stdout, 1)],
            ),
            (
                "fn f() { std::env::args(); std::fs::read(\"/proc/self/status\"); }",
                &[(Args, 1), (ProcSelf, 1)],
            ),
        ]);
    }

    #[test]
    fn macro_bodies_are_read_token_by_token() {
        use Kind::{Command, Exec, Exit, Extern, Include, MacroPath, NoMangle, Unsafe};
        expect(&[
            (
                "fn f() { println!(\"{}\", { std::process::exit(0) }); }",
                &[(Exit, 1)],
            ),
            (
                "macro_rules! m { ($c:ident) => { unsafe { std::process::$c::new(\"sh\").exec() } }; }",
                &[(Command, 1), (Exec, 1), (Unsafe, 1)],
            ),
            (
                "use std::process::{Command as Cmd}; fn f() { vec![Cmd::new(\"sh\")]; }",
                &[(Command, 2)],
            ),
            (
                "m! { #[unsafe(no_mangle)] extern \"C\" fn exit() { include!(\"x\") } }",
                &[(Include, 1), (NoMangle, 1), (Extern, 1)],
            ),
            (
                "macro_rules! m { ($a:ident $b:ident) => { std::$a::$b(0) }; } fn f() { m!(process exit) }",
                &[(MacroPath, 1)],
            ),
            (
                "macro_rules! m { ($a:ident) => { $a::process::exit(0) }; }",
                &[(Exit, 1)],
            ),
        ]);
    }
}
