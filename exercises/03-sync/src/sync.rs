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
        AtomicBool, AtomicI32, AtomicI64, AtomicIsize, AtomicU32, AtomicU64, AtomicUsize, Ordering,
    };
}

/// Loom's atomics, wrapped so that every operation is recorded in
/// [`trace`](super::trace).
#[cfg(loom)]
pub mod atomic {
    pub use std::sync::atomic::Ordering;

    use super::trace::record;

    /// The parts every traced atomic shares: the struct, loads, stores,
    /// swaps and compare-exchanges.
    macro_rules! traced {
        ($name:ident, $t:ty) => {
            #[doc = concat!("Loom's `", stringify!($name), "`, with every operation traced.")]
            #[derive(Debug, Default)]
            pub struct $name {
                inner: loom::sync::atomic::$name,
                /// The value of the newest store, in the order loom ran the
                /// stores. Bookkeeping for the trace only: loom runs a whole
                /// model on one OS thread, so a std atomic is enough here.
                newest: std::sync::atomic::$name,
            }

            impl $name {
                /// Creates a new atomic.
                #[track_caller]
                pub fn new(v: $t) -> Self {
                    Self {
                        inner: loom::sync::atomic::$name::new(v),
                        newest: std::sync::atomic::$name::new(v),
                    }
                }

                /// Consumes the atomic and returns the value.
                #[track_caller]
                pub fn into_inner(self) -> $t {
                    self.inner.into_inner()
                }

                /// Loads the value.
                #[track_caller]
                pub fn load(&self, order: Ordering) -> $t {
                    let v = self.inner.load(order);
                    self.observed(format!("load({order:?}) -> {v}"), v);
                    v
                }

                /// Stores a value.
                #[track_caller]
                pub fn store(&self, val: $t, order: Ordering) {
                    self.inner.store(val, order);
                    self.wrote(format!("store({val}, {order:?})"), val);
                }

                /// Stores a value and returns the previous one.
                #[track_caller]
                pub fn swap(&self, val: $t, order: Ordering) -> $t {
                    let old = self.inner.swap(val, order);
                    self.wrote(format!("swap({val}, {order:?}) -> {old}"), val);
                    old
                }

                /// Stores `new` if the value is `current`.
                #[track_caller]
                pub fn compare_exchange(
                    &self,
                    current: $t,
                    new: $t,
                    success: Ordering,
                    failure: Ordering,
                ) -> Result<$t, $t> {
                    let result = self.inner.compare_exchange(current, new, success, failure);
                    let op =
                        format!("compare_exchange({current}, {new}, {success:?}, {failure:?})");
                    self.exchanged(op, result, new);
                    result
                }

                /// Like `compare_exchange` (loom never fails it spuriously).
                #[track_caller]
                pub fn compare_exchange_weak(
                    &self,
                    current: $t,
                    new: $t,
                    success: Ordering,
                    failure: Ordering,
                ) -> Result<$t, $t> {
                    let result = self
                        .inner
                        .compare_exchange_weak(current, new, success, failure);
                    let op = format!(
                        "compare_exchange_weak({current}, {new}, {success:?}, {failure:?})"
                    );
                    self.exchanged(op, result, new);
                    result
                }

                /// Applies `f` atomically; see `std`'s `fetch_update`.
                #[track_caller]
                pub fn fetch_update<F>(
                    &self,
                    set_order: Ordering,
                    fetch_order: Ordering,
                    mut f: F,
                ) -> Result<$t, $t>
                where
                    F: FnMut($t) -> Option<$t>,
                {
                    let mut produced = None;
                    let result = self.inner.fetch_update(set_order, fetch_order, |v| {
                        produced = f(v);
                        produced
                    });
                    let op = format!("fetch_update({set_order:?}, {fetch_order:?}) -> {result:?}");
                    match (result, produced) {
                        (Ok(_), Some(new)) => self.wrote(op, new),
                        (Err(v), _) | (Ok(v), None) => self.observed(op, v),
                    }
                    result
                }

                /// Records a read of `v`, flagged if an older store was read.
                #[track_caller]
                fn observed(&self, op: String, v: $t) {
                    let newest = self.newest.load(Ordering::Relaxed);
                    if v == newest {
                        record(op, false);
                    } else {
                        record(
                            format!("{op}   <- stale: the newest store wrote {newest}"),
                            true,
                        );
                    }
                }

                /// Records a write that left `new` as the newest value.
                #[track_caller]
                fn wrote(&self, op: String, new: $t) {
                    self.newest.store(new, Ordering::Relaxed);
                    record(op, false);
                }

                #[track_caller]
                fn exchanged(&self, op: String, result: Result<$t, $t>, new: $t) {
                    match result {
                        Ok(old) => self.wrote(format!("{op} -> Ok({old})"), new),
                        Err(actual) => self.observed(format!("{op} -> Err({actual})"), actual),
                    }
                }
            }

            impl From<$t> for $name {
                #[track_caller]
                fn from(v: $t) -> Self {
                    Self::new(v)
                }
            }
        };
    }

    /// Read-modify-write methods: `method(val) -> old`, where the new value
    /// is `$new(old, val)`.
    macro_rules! traced_rmw {
        ($name:ident, $t:ty, $($method:ident => $new:expr),* $(,)?) => {
            impl $name {$(
                #[doc = concat!("See `std`'s `", stringify!($name), "::", stringify!($method), "`.")]
                #[track_caller]
                pub fn $method(&self, val: $t, order: Ordering) -> $t {
                    let old = self.inner.$method(val, order);
                    let new: fn($t, $t) -> $t = $new;
                    self.wrote(
                        format!(concat!(stringify!($method), "({}, {:?}) -> {}"), val, order, old),
                        new(old, val),
                    );
                    old
                }
            )*}
        };
    }

    macro_rules! traced_int {
        ($($name:ident($t:ty)),* $(,)?) => {$(
            traced!($name, $t);
            traced_rmw!(
                $name,
                $t,
                fetch_add => |old, val| old.wrapping_add(val),
                fetch_sub => |old, val| old.wrapping_sub(val),
                fetch_max => |old, val| old.max(val),
                fetch_min => |old, val| old.min(val),
            );
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

    traced!(AtomicBool, bool);
    traced_rmw!(
        AtomicBool,
        bool,
        fetch_and => |old, val| old & val,
        fetch_or => |old, val| old | val,
        fetch_xor => |old, val| old ^ val,
    );
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
        stale: bool,
        at: &'static Location<'static>,
    }

    std::thread_local! {
        static EVENTS: RefCell<Vec<Event>> = const { RefCell::new(Vec::new()) };
    }

    /// Forgets every recorded operation. Call it first in each model run.
    pub fn clear() {
        EVENTS.with_borrow_mut(Vec::clear);
    }

    /// How many recorded loads read an older value than the newest store
    /// (loom may do that when nothing orders the load after the store).
    pub fn stale_loads() -> usize {
        EVENTS.with_borrow(|events| events.iter().filter(|e| e.stale).count())
    }

    /// How many operations were recorded.
    pub fn len() -> usize {
        EVENTS.with_borrow(Vec::len)
    }

    /// The recorded operations, one line each, for example
    /// `  thread 1: load(SeqCst) -> 0 at src/atomic_counter.rs:31`.
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
    pub(crate) fn record(op: String, stale: bool) {
        let at = Location::caller();
        let id = format!("{:?}", loom::thread::current().id());
        let number = id.trim_start_matches("ThreadId(").trim_end_matches(')');
        let thread = format!("thread {number}");
        EVENTS.with_borrow_mut(|events| {
            events.push(Event {
                thread,
                op,
                stale,
                at,
            })
        });
    }

    /// `exercises/03-sync/src/x.rs` becomes `src/x.rs`.
    fn short_path(file: &str) -> &str {
        file.rfind("src/").map_or(file, |i| &file[i..])
    }
}
