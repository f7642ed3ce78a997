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
        let (tx, rx) = mpsc::channel::<Envelope>();
        let max_group = max_group.max(1);
        let thread = thread::Builder::new()
            .name("writer".into())
            .spawn(move || writer_loop(target, &rx, max_group))?;
        Ok(SingleWriter {
            requests: Some(tx),
            thread: Some(thread),
        })
    }

    /// Queues `request` and returns a [`Ticket`] for its answer, without
    /// waiting. After [`shutdown`](Self::shutdown) (or if the thread is
    /// gone) it is [`DbError::Closed`].
    pub fn submit(&self, request: Request) -> Result<Ticket, DbError> {
        let requests = self.requests.as_ref().ok_or(DbError::Closed)?;
        let (tx, rx) = mpsc::channel();
        requests.send((request, tx)).map_err(|_| DbError::Closed)?;
        Ok(Ticket { reply: rx })
    }

    /// Stops the thread after it has answered every request submitted
    /// before, and joins it. A panicked thread is [`DbError::Poisoned`]; a
    /// second call is `Ok(())`.
    pub fn shutdown(&mut self) -> Result<(), DbError> {
        drop(self.requests.take());
        match self.thread.take() {
            Some(thread) => thread.join().map_err(|_| DbError::Poisoned),
            None => Ok(()),
        }
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

/// The writer thread's loop.
fn writer_loop<T: WriteTarget>(mut target: T, rx: &mpsc::Receiver<Envelope>, max_group: usize) {
    let mut failure: Option<String> = None;
    let mut group: Vec<Envelope> = Vec::with_capacity(max_group);
    while let Ok(first) = rx.recv() {
        group.push(first);
        while group.len() < max_group {
            match rx.try_recv() {
                Ok(next) => group.push(next),
                Err(_) => break,
            }
        }
        let mut run: Vec<Envelope> = Vec::new();
        for (request, reply) in group.drain(..) {
            if let Some(message) = &failure {
                let _ = reply.send(Err(DbError::Failed(message.clone())));
                continue;
            }
            match request {
                Request::Write(batch) => run.push((Request::Write(batch), reply)),
                Request::UpdateIfExists { key, value } => {
                    commit_run(&mut target, &mut run, &mut failure);
                    if let Some(message) = &failure {
                        let _ = reply.send(Err(DbError::Failed(message.clone())));
                        continue;
                    }
                    let answer = update_if_exists(&mut target, &key, &value);
                    fail_on_error(&answer, &mut failure);
                    let _ = reply.send(answer);
                }
                Request::Rotate => {
                    commit_run(&mut target, &mut run, &mut failure);
                    if let Some(message) = &failure {
                        let _ = reply.send(Err(DbError::Failed(message.clone())));
                        continue;
                    }
                    let answer = target.rotate().map(|()| true);
                    fail_on_error(&answer, &mut failure);
                    let _ = reply.send(answer);
                }
            }
        }
        commit_run(&mut target, &mut run, &mut failure);
    }
}

/// Remembers the first failure.
fn fail_on_error(answer: &Result<bool, DbError>, failure: &mut Option<String>) {
    if let Err(e) = answer
        && failure.is_none()
    {
        *failure = Some(e.to_string());
    }
}

/// Logs, syncs and applies a run of writes, then answers each of them.
fn commit_run<T: WriteTarget>(
    target: &mut T,
    run: &mut Vec<Envelope>,
    failure: &mut Option<String>,
) {
    if run.is_empty() {
        return;
    }
    let batches: Vec<Batch> = run
        .iter_mut()
        .map(
            |(request, _)| match std::mem::replace(request, Request::Rotate) {
                Request::Write(batch) => batch,
                _ => Batch::new(),
            },
        )
        .collect();
    let result = (|| {
        for batch in &batches {
            target.log(batch)?;
        }
        target.sync()?;
        target.apply(&batches)
    })();
    if let Err(e) = &result
        && failure.is_none()
    {
        *failure = Some(e.to_string());
    }
    for (_, reply) in run.drain(..) {
        let _ = reply.send(match (&result, failure.as_ref()) {
            (Ok(()), _) => Ok(true),
            (Err(_), Some(message)) => Err(DbError::Failed(message.clone())),
            (Err(e), None) => Err(DbError::Failed(e.to_string())),
        });
    }
}

/// Handles one `UpdateIfExists` on its own.
fn update_if_exists<T: WriteTarget>(
    target: &mut T,
    key: &[u8],
    value: &[u8],
) -> Result<bool, DbError> {
    if !target.exists(key)? {
        return Ok(false);
    }
    let mut batch = Batch::new();
    batch.put(key, value);
    target.log(&batch)?;
    target.sync()?;
    target.apply(std::slice::from_ref(&batch))?;
    Ok(true)
}
