//! Task 5: a background syncer with a ticker, and a graceful shutdown.

use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, Sender, select};

use crate::error::WalError;
use crate::writer::Wal;

/// Something the background syncer can make durable.
pub trait SyncTarget {
    /// Makes everything written so far durable.
    fn sync(&self) -> Result<(), WalError>;
}

impl<T: SyncTarget + ?Sized> SyncTarget for Arc<T> {
    fn sync(&self) -> Result<(), WalError> {
        (**self).sync()
    }
}

/// A log shared between appenders and the syncer.
impl SyncTarget for Mutex<Wal> {
    /// Locks the log and syncs it. A poisoned lock is [`WalError::Poisoned`]:
    /// the thread that panicked may have left half a record in the buffer,
    /// and syncing that would make it durable.
    fn sync(&self) -> Result<(), WalError> {
        self.lock().map_err(|_| WalError::Poisoned)?.sync()
    }
}

/// A thread, named `wal-syncer`, that syncs its target on every tick, and
/// once more when it is shut down.
#[derive(Debug)]
pub struct BackgroundSyncer {
    /// Dropping this sender is the stop signal: Go's `close(stop)`.
    stop: Option<Sender<()>>,
    /// The thread; it returns how many syncs it made, or the first error.
    thread: Option<JoinHandle<Result<u64, WalError>>>,
}

impl BackgroundSyncer {
    /// Starts the syncer. It syncs `target` once per message on `ticks`.
    ///
    /// - The first failed sync ends the thread; no later sync is tried,
    ///   not even the final one, and [`shutdown`](Self::shutdown) returns
    ///   that error.
    /// - If `ticks` disconnects, the syncer keeps waiting for shutdown
    ///   without syncing, and still does the final sync.
    pub fn spawn<T>(target: T, ticks: Receiver<Instant>) -> Result<Self, WalError>
    where
        T: SyncTarget + Send + 'static,
    {
        let (stop_tx, stop_rx) = crossbeam_channel::bounded::<()>(0);
        let thread = thread::Builder::new()
            .name("wal-syncer".to_owned())
            .spawn(move || run(&target, &ticks, &stop_rx))?;
        Ok(Self {
            stop: Some(stop_tx),
            thread: Some(thread),
        })
    }

    /// Starts a syncer that ticks every `interval` ([`crossbeam_channel::tick`]).
    pub fn with_interval<T>(target: T, interval: Duration) -> Result<Self, WalError>
    where
        T: SyncTarget + Send + 'static,
    {
        Self::spawn(target, crossbeam_channel::tick(interval))
    }

    /// Stops the thread, waits for its final sync, and returns how many
    /// syncs succeeded in all, or the first sync error.
    pub fn shutdown(mut self) -> Result<u64, WalError> {
        self.stop_and_join()
    }

    /// Sends the stop signal (drops the sender), joins the thread, and
    /// returns what it returned. A panicked thread is
    /// [`WalError::SyncerPanicked`]; a second call returns `Ok(0)`.
    fn stop_and_join(&mut self) -> Result<u64, WalError> {
        drop(self.stop.take());
        match self.thread.take() {
            Some(thread) => thread.join().map_err(|_| WalError::SyncerPanicked)?,
            None => Ok(0),
        }
    }
}

impl Drop for BackgroundSyncer {
    /// Stops the thread and waits for its final sync, like
    /// [`shutdown`](BackgroundSyncer::shutdown), but with nowhere to report
    /// an error.
    ///
    /// While the current thread is panicking it does not wait: the stop
    /// sender is dropped with `self`, so the syncer still ends by itself.
    fn drop(&mut self) {
        if !thread::panicking() {
            let _ = self.stop_and_join();
        }
    }
}

/// The syncer's loop: Go's `for { select { case <-ticker.C: ... case <-stop: ... } }`.
fn run<T: SyncTarget>(
    target: &T,
    ticks: &Receiver<Instant>,
    stop: &Receiver<()>,
) -> Result<u64, WalError> {
    let mut syncs = 0;
    loop {
        select! {
            recv(ticks) -> tick => match tick {
                Ok(_) => {
                    target.sync()?;
                    syncs += 1;
                }
                // A disconnected channel is always ready, so selecting on it
                // again would spin: wait for the stop signal alone instead.
                // Nothing is ever sent on it; it ends by disconnecting.
                Err(_) => {
                    let _ = stop.recv();
                    break;
                }
            },
            recv(stop) -> _ => break,
        }
    }
    // The final sync covers whatever was appended after the last tick.
    target.sync()?;
    Ok(syncs + 1)
}
