//! Where this crate gets its locks and atomics. You do not need to edit this
//! file, and you should not: the graders rely on it.
//!
//! Every module of the lesson imports `Mutex`, `RwLock`, the atomics and so
//! on from here instead of from `std::sync`. A normal build gets the standard
//! library's types. The loom stage builds with `--cfg loom`, and then the very
//! same names refer to loom's model-checked versions, so `tests/loom.rs` can
//! run your code under every thread interleaving that loom explores.
//!
//! Under loom the atomic types are thin wrappers around loom's atomics that
//! also write each operation into [`trace`] (thread, operation, value, and
//! the line of *your* code that did it), so that a failing loom test can print
//! the interleaving that broke your code.

pub use std::sync::{LockResult, PoisonError};

#[cfg(not(loom))]
pub use std::sync::{
    Arc, Condvar, Mutex, MutexGuard, RwLock, RwLockReadGuard, RwLockWriteGuard, mpsc,
};
#[cfg(not(loom))]
pub use std::thread;

#[cfg(loom)]
pub use loom::sync::{
    Arc, Condvar, Mutex, MutexGuard, RwLock, RwLockReadGuard, RwLockWriteGuard, mpsc,
};
#[cfg(loom)]
pub use loom::thread;

/// The atomic types of `std::sync::atomic` (or their traced loom versions).
#[cfg(not(loom))]
pub mod atomic {
    pub use std::sync::atomic::{
        AtomicBool, AtomicI32, AtomicI64, AtomicIsize, AtomicU32, AtomicU64, AtomicUsize,
        Ordering,
    };
}

/// Loom's atomics, wrapped so that every operation is recorded in
/// [`trace`](super::trace).
#[cfg(loom)]
pub mod atomic {
    pub use std::sync::atomic::Ordering;

    use super::trace::record;

    macro_rules! traced_int {
        ($($name:ident($int:ty)),* $(,)?) => {$(
            #[doc = concat!("Loom's `", stringify!($name), "`, with every operation traced.")]
            #[derive(Debug, Default)]
            pub struct $name(loom::sync::atomic::$name);

            impl $name {
                /// Creates a new atomic integer.
                #[track_caller]
                pub fn new(v: $int) -> Self {
                    Self(loom::sync::atomic::$name::new(v))
                }

                /// Consumes the atomic and returns the value.
                #[track_caller]
                pub fn into_inner(self) -> $int {
                    self.0.into_inner()
                }

                /// Loads the value.
                #[track_caller]
                pub fn load(&self, order: Ordering) -> $int {
                    let v = self.0.load(order);
                    record(format!("load -> {v}"));
                    v
                }

                /// Stores a value.
                #[track_caller]
                pub fn store(&self, val: $int, order: Ordering) {
                    self.0.store(val, order);
                    record(format!("store {val}"));
                }

                /// Stores a value and returns the previous one.
                #[track_caller]
                pub fn swap(&self, val: $int, order: Ordering) -> $int {
                    let old = self.0.swap(val, order);
                    record(format!("swap {val} -> {old}"));
                    old
                }

                /// Stores `new` if the value is `current`.
                #[track_caller]
                pub fn compare_exchange(
                    &self,
                    current: $int,
                    new: $int,
                    success: Ordering,
                    failure: Ordering,
                ) -> Result<$int, $int> {
                    let result = self.0.compare_exchange(current, new, success, failure);
                    record(format!("compare_exchange({current}, {new}) -> {result:?}"));
                    result
                }

                /// Like `compare_exchange` (loom never fails it spuriously).
                #[track_caller]
                pub fn compare_exchange_weak(
                    &self,
                    current: $int,
                    new: $int,
                    success: Ordering,
                    failure: Ordering,
                ) -> Result<$int, $int> {
                    let result = self.0.compare_exchange_weak(current, new, success, failure);
                    record(format!("compare_exchange_weak({current}, {new}) -> {result:?}"));
                    result
                }

                /// Adds `val` (wrapping) and returns the previous value.
                #[track_caller]
                pub fn fetch_add(&self, val: $int, order: Ordering) -> $int {
                    let old = self.0.fetch_add(val, order);
                    record(format!("fetch_add {val} -> {old}"));
                    old
                }

                /// Subtracts `val` (wrapping) and returns the previous value.
                #[track_caller]
                pub fn fetch_sub(&self, val: $int, order: Ordering) -> $int {
                    let old = self.0.fetch_sub(val, order);
                    record(format!("fetch_sub {val} -> {old}"));
                    old
                }

                /// Stores the maximum and returns the previous value.
                #[track_caller]
                pub fn fetch_max(&self, val: $int, order: Ordering) -> $int {
                    let old = self.0.fetch_max(val, order);
                    record(format!("fetch_max {val} -> {old}"));
                    old
                }

                /// Stores the minimum and returns the previous value.
                #[track_caller]
                pub fn fetch_min(&self, val: $int, order: Ordering) -> $int {
                    let old = self.0.fetch_min(val, order);
                    record(format!("fetch_min {val} -> {old}"));
                    old
                }

                /// Applies `f` atomically; see `std`'s `fetch_update`.
                #[track_caller]
                pub fn fetch_update<F>(
                    &self,
                    set_order: Ordering,
                    fetch_order: Ordering,
                    f: F,
                ) -> Result<$int, $int>
                where
                    F: FnMut($int) -> Option<$int>,
                {
                    let result = self.0.fetch_update(set_order, fetch_order, f);
                    record(format!("fetch_update -> {result:?}"));
                    result
                }
            }

            impl From<$int> for $name {
                #[track_caller]
                fn from(v: $int) -> Self {
                    Self::new(v)
                }
            }
        )*};
    }

    traced_int!(
        AtomicI32(i32),
        AtomicI64(i64),
        AtomicIsize(isize),
        AtomicU32(u32),
        AtomicU64(u64),
        AtomicUsize(usize),
    );

    /// Loom's `AtomicBool`, with every operation traced.
    #[derive(Debug, Default)]
    pub struct AtomicBool(loom::sync::atomic::AtomicBool);

    macro_rules! traced_bool_rmw {
        ($($method:ident),*) => {$(
            #[doc = concat!("See `std`'s `AtomicBool::", stringify!($method), "`.")]
            #[track_caller]
            pub fn $method(&self, val: bool, order: Ordering) -> bool {
                let old = self.0.$method(val, order);
                record(format!(concat!(stringify!($method), " {} -> {}"), val, old));
                old
            }
        )*};
    }

    impl AtomicBool {
        /// Creates a new atomic flag.
        #[track_caller]
        pub fn new(v: bool) -> Self {
            Self(loom::sync::atomic::AtomicBool::new(v))
        }

        /// Consumes the atomic and returns the value.
        #[track_caller]
        pub fn into_inner(self) -> bool {
            self.0.into_inner()
        }

        /// Loads the value.
        #[track_caller]
        pub fn load(&self, order: Ordering) -> bool {
            let v = self.0.load(order);
            record(format!("load -> {v}"));
            v
        }

        /// Stores a value.
        #[track_caller]
        pub fn store(&self, val: bool, order: Ordering) {
            self.0.store(val, order);
            record(format!("store {val}"));
        }

        /// Stores `new` if the value is `current`.
        #[track_caller]
        pub fn compare_exchange(
            &self,
            current: bool,
            new: bool,
            success: Ordering,
            failure: Ordering,
        ) -> Result<bool, bool> {
            let result = self.0.compare_exchange(current, new, success, failure);
            record(format!("compare_exchange({current}, {new}) -> {result:?}"));
            result
        }

        /// Like `compare_exchange` (loom never fails it spuriously).
        #[track_caller]
        pub fn compare_exchange_weak(
            &self,
            current: bool,
            new: bool,
            success: Ordering,
            failure: Ordering,
        ) -> Result<bool, bool> {
            let result = self.0.compare_exchange_weak(current, new, success, failure);
            record(format!("compare_exchange_weak({current}, {new}) -> {result:?}"));
            result
        }

        /// Applies `f` atomically; see `std`'s `fetch_update`.
        #[track_caller]
        pub fn fetch_update<F>(
            &self,
            set_order: Ordering,
            fetch_order: Ordering,
            f: F,
        ) -> Result<bool, bool>
        where
            F: FnMut(bool) -> Option<bool>,
        {
            let result = self.0.fetch_update(set_order, fetch_order, f);
            record(format!("fetch_update -> {result:?}"));
            result
        }

        traced_bool_rmw!(swap, fetch_and, fetch_or, fetch_xor);
    }

    impl From<bool> for AtomicBool {
        #[track_caller]
        fn from(v: bool) -> Self {
            Self::new(v)
        }
    }
}

/// The atomic operations of the current loom execution, in the order loom
/// ran them. Only loom tests use this.
///
/// Loom runs a whole model, all its threads included, on the one OS thread
/// that called `loom::model`, so a thread-local list keeps the traces of
/// tests that run in parallel apart.
#[cfg(loom)]
pub mod trace {
    use std::cell::RefCell;
    use std::fmt::Write as _;
    use std::panic::Location;

    /// At most this many lines are rendered; loom models are tiny.
    const MAX_LINES: usize = 40;

    struct Event {
        thread: String,
        op: String,
        at: &'static Location<'static>,
    }

    std::thread_local! {
        static EVENTS: RefCell<Vec<Event>> = const { RefCell::new(Vec::new()) };
    }

    /// Forgets every recorded operation. Call it first in each model run.
    pub fn clear() {
        EVENTS.with_borrow_mut(Vec::clear);
    }

    /// The recorded operations, one line each, for example
    /// `  thread 1: load -> 0 at src/atomic_counter.rs:31`.
    /// Thread 0 is the model's main thread.
    pub fn render() -> String {
        EVENTS.with_borrow(|events| {
            let mut out = String::new();
            for event in events.iter().take(MAX_LINES) {
                let _ = writeln!(
                    out,
                    "  {}: {} at {}:{}",
                    event.thread,
                    event.op,
                    short_path(event.at.file()),
                    event.at.line()
                );
            }
            if events.len() > MAX_LINES {
                let _ = writeln!(out, "  ... and {} more", events.len() - MAX_LINES);
            }
            if events.is_empty() {
                out.push_str("  (no atomic operations were recorded)\n");
            }
            out
        })
    }

    /// Records one operation of the current loom thread, located at the
    /// caller of the (track_caller) atomic method.
    #[track_caller]
    pub(crate) fn record(op: String) {
        let at = Location::caller();
        let id = format!("{:?}", loom::thread::current().id());
        let number = id.trim_start_matches("ThreadId(").trim_end_matches(')');
        let thread = format!("thread {number}");
        EVENTS.with_borrow_mut(|events| events.push(Event { thread, op, at }));
    }

    /// `exercises/03-sync/src/x.rs` becomes `src/x.rs`.
    fn short_path(file: &str) -> &str {
        file.rfind("src/").map_or(file, |i| &file[i..])
    }
}
