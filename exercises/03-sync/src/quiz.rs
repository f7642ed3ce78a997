//! Task 6: why Go's racy counter does not compile in Rust.
//!
//! Each function asks one question and returns your choice. Answer from
//! what you know or find out, then check by compiling the snippets yourself:
//! `cargo new race && cd race`, paste, `cargo run`.
//!
//! The Go program behind questions 1 to 4:
//!
//! ```text
//! counter := 0
//! var wg sync.WaitGroup
//! for i := 0; i < 1000; i++ {
//!     wg.Add(1)
//!     go func() { defer wg.Done(); counter++ }()
//! }
//! wg.Wait()
//! fmt.Println("Counter:", counter)
//! ```

// ANCHOR: task6
/// One of the four choices of a question.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer {
    /// The first choice.
    A,
    /// The second choice.
    B,
    /// The third choice.
    C,
    /// The fourth choice.
    D,
}
// ANCHOR_END: task6

/// Question 1. The literal port of the Go program:
///
/// ```text
/// let mut counter = 0;
/// let mut handles = Vec::new();
/// for _ in 0..1000 {
///     handles.push(thread::spawn(|| {
///         counter += 1;
///     }));
/// }
/// for handle in handles {
///     handle.join().unwrap();
/// }
/// println!("Counter: {counter}");
/// ```
///
/// What is the first thing rustc (or the program) tells you?
///
/// - A: It compiles, and prints a number below 1000, just like Go.
/// - B: `error[E0277]`: `i32` cannot be sent between threads safely.
/// - C: `error[E0373]`: the closure may outlive the current function, but
///   it borrows `counter`, which is owned by the current function.
/// - D: It compiles, and panics at run time with "data race detected".
pub fn q1() -> Answer {
    todo!("task 6: return Answer::A, B, C or D")
}

/// Question 2. Following rustc's advice, you write `thread::spawn(move || {
/// counter += 1; })` and change nothing else. What happens?
///
/// - A: `error[E0382]`: use of moved value `counter`, because the first
///   thread took it.
/// - B: It compiles and prints `Counter: 1000`.
/// - C: It compiles (with a warning) and prints `Counter: 0`.
/// - D: `error[E0499]`: cannot borrow `counter` as mutable more than once.
pub fn q2() -> Answer {
    todo!("task 6: return Answer::A, B, C or D")
}

/// Question 3. Next you share the counter as `Rc<RefCell<i32>>`, moving an
/// `Rc::clone` into each thread. rustc says: `error[E0277]`:
/// `Rc<RefCell<i32>>` cannot be sent between threads safely. Why is `Rc`
/// not `Send`?
///
/// - A: Its reference count is a plain integer. Two threads cloning or
///   dropping their `Rc`s at once could lose an update to the count, and
///   then free the value while it is still in use, or never.
/// - B: An `Rc` lives in the heap of the thread that created it, and other
///   threads cannot reach that heap.
/// - C: `Rc` is not `'static`, and `thread::spawn` needs `'static` data.
/// - D: `Rc` implements `Drop`, and a type with a destructor cannot move
///   between threads.
pub fn q3() -> Answer {
    todo!("task 6: return Answer::A, B, C or D")
}

/// Question 4. You swap `Rc` for `Arc` and keep the `RefCell`:
/// `Arc<RefCell<i32>>`. What happens?
///
/// - A: It compiles: `Arc` makes whatever it holds safe to use from many
///   threads.
/// - B: `error[E0277]`: `RefCell<i32>` cannot be shared between threads
///   safely, because `Arc<T>` is `Send` only when `T` is `Send + Sync`.
/// - C: It compiles, and `borrow_mut` panics with `BorrowMutError` whenever
///   two threads overlap.
/// - D: `error[E0373]`: the closure may outlive the current function.
pub fn q4() -> Answer {
    todo!("task 6: return Answer::A, B, C or D")
}

/// Question 5. `Arc<Mutex<i64>>` finally compiles and prints 1000. What does
/// each of the two layers contribute?
///
/// - A: `Arc` makes the `i64` atomic; `Mutex` keeps it alive until the
///   last thread ends.
/// - B: `Arc` gives every thread shared ownership through an atomic
///   reference count, so the value lives until the last clone is dropped;
///   `Mutex` hands out `&mut i64` to one thread at a time, which is what
///   makes sharing it (`Sync`) sound.
/// - C: `Arc` alone would be enough; the `Mutex` only makes the threads
///   take turns fairly.
/// - D: `Mutex` gives each thread its own copy of the `i64` and merges the
///   copies when the lock is released.
pub fn q5() -> Answer {
    todo!("task 6: return Answer::A, B, C or D")
}

/// Question 6. Two threads each run this on a shared `AtomicI64` that
/// starts at 0:
///
/// ```text
/// let v = n.load(Ordering::SeqCst);
/// n.store(v + 1, Ordering::SeqCst);
/// ```
///
/// After both are joined, which values can `n` hold?
///
/// - A: Only 2: every operation is atomic and `SeqCst`.
/// - B: 1 or 2.
/// - C: 0, 1 or 2.
/// - D: Anything at all: it is undefined behaviour.
pub fn q6() -> Answer {
    todo!("task 6: return Answer::A, B, C or D")
}

/// Question 7. Which of these compiles in safe Rust and is still a
/// concurrency bug?
///
/// - A: Two scoped threads that each run `total += x` on the same
///   `let mut total`.
/// - B: A memtable whose `put` locks to insert, unlocks, and then locks
///   again to check the size and flush.
/// - C: Moving an `Rc` into `thread::spawn`.
/// - D: Sharing a `Cell<u64>` between two scoped threads.
pub fn q7() -> Answer {
    todo!("task 6: return Answer::A, B, C or D")
}
