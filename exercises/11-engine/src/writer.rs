//! Task 8: the single-writer path. Writers queue their requests on a
//! channel; one thread logs a whole group, syncs once, and applies it.

use std::sync::mpsc;
use std::thread;

use crate::codec::Batch;
use crate::error::DbError;

// ANCHOR: target
/// What the writer thread does with the store. The store implements it
/// over its WAL and memtables; the tests use a fake that records every call.
pub trait WriteTarget: Send + 'static {
    /// Appends `batch` to the log (buffered, not yet durable).
    fn log(&mut self, batch: &Batch) -> Result<(), DbError>;
    /// Makes everything logged so far durable (or at least visible to the
    /// kernel, depending on the configuration).
    fn sync(&mut self) -> Result<(), DbError>;
    /// Applies logged and synced batches to the memtable, in order, under
    /// one write lock; may freeze the memtable and start a new log.
    fn apply(&mut self, batches: &[Batch]) -> Result<(), DbError>;
    /// Whether `key` currently has a value.
    fn exists(&mut self, key: &[u8]) -> Result<bool, DbError>;
    /// Freezes the active memtable now (if it is not empty) and starts a
    /// new log, for `Db::flush`.
    fn rotate(&mut self) -> Result<(), DbError>;
}

/// What a caller asks the writer thread to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Request {
    /// Log and apply this batch. Replies `Ok(true)`.
    Write(Batch),
    /// If `key` has a value, set it to `value` and reply `Ok(true)`;
    /// otherwise write nothing and reply `Ok(false)`.
    UpdateIfExists {
        /// The key.
        key: Vec<u8>,
        /// Its new value.
        value: Vec<u8>,
    },
    /// Call [`WriteTarget::rotate`]. Replies `Ok(true)`.
    Rotate,
}

/// A request with the channel its answer goes back on.
type Envelope = (Request, mpsc::Sender<Result<bool, DbError>>);

/// A submitted request's answer, to wait for.
#[derive(Debug)]
pub struct Ticket {
    reply: mpsc::Receiver<Result<bool, DbError>>,
}

impl Ticket {
    /// Waits for the writer thread's answer. If the thread went away without
    /// answering, that is [`DbError::Closed`].
    pub fn wait(self) -> Result<bool, DbError> {
        self.reply.recv().unwrap_or(Err(DbError::Closed))
    }
}

/// The writer thread and the channel to it.
#[derive(Debug)]
pub struct SingleWriter {
    /// Dropping the sender tells the thread to finish.
    requests: Option<mpsc::Sender<Envelope>>,
    thread: Option<thread::JoinHandle<()>>,
}
// ANCHOR_END: target

impl SingleWriter {
    // ANCHOR: task8
    /// Starts the writer on a thread named `writer`, which owns `target`.
    ///
    /// The thread loops until the channel disconnects:
    /// 1. Wait for one request (`recv`), then take up to `max_group - 1`
    ///    more that are already queued (`try_recv`, no waiting). That is the
    ///    group.
    /// 2. Go through the group in order. Consecutive `Write`s form a run:
    ///    `log` each batch, `sync` once, `apply` all of the run's batches in
    ///    one call, and only then reply `Ok(true)` to each of them.
    /// 3. An `UpdateIfExists` or a `Rotate` ends the run before it and is
    ///    handled on its own: `exists`, then (if it does) log, sync and apply
    ///    a one-put batch; or `rotate`.
    /// 4. If a step fails, every request of the run gets the error (as
    ///    [`DbError::Failed`] with its message), and the writer is *failed*:
    ///    from then on, reply `DbError::Failed` to every request without
    ///    touching the target. After a failed `sync` the log's state is
    ///    unknown, and writing on would acknowledge writes that may be lost.
    pub fn spawn<T: WriteTarget>(target: T, max_group: usize) -> Result<SingleWriter, DbError> {
        todo!("task 8: a channel, and a thread named writer running the group-commit loop")
    }

    /// Queues `request` and returns a [`Ticket`] for its answer, without
    /// waiting. After [`shutdown`](Self::shutdown) (or if the thread is
    /// gone) it is [`DbError::Closed`].
    pub fn submit(&self, request: Request) -> Result<Ticket, DbError> {
        todo!(
            "task 8: a reply channel per request; send (request, reply sender); keep the receiver in a Ticket"
        )
    }

    /// Stops the thread after it has answered every request submitted
    /// before, and joins it. A panicked thread is [`DbError::Poisoned`]; a
    /// second call is `Ok(())`.
    pub fn shutdown(&mut self) -> Result<(), DbError> {
        todo!("task 8: drop the sender, join the thread")
    }
    // ANCHOR_END: task8
}

impl Drop for SingleWriter {
    fn drop(&mut self) {
        if std::thread::panicking() {
            drop(self.requests.take());
        } else {
            let _ = self.shutdown();
        }
    }
}
