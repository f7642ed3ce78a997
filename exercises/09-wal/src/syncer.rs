//! Task 5: a background syncer with a ticker, and a graceful shutdown.

use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, Sender};

use crate::error::WalError;
use crate::writer::Wal;

// ANCHOR: task5
/// Something the background syncer can make durable.
///
/// The tests inject their own implementation to count syncs and to make one
/// fail, so nothing needs a clock or a disk to be tested.
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
        todo!("task 5: lock (map a poisoned lock to WalError::Poisoned), then Wal::sync")
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
    /// Starts the syncer on a thread named `wal-syncer`. It syncs `target`
    /// once per message on `ticks`.
    ///
    /// The thread loops on `crossbeam_channel::select!` over `ticks` and the
    /// stop channel:
    ///
    /// - a tick: sync. The first failed sync ends the thread with that
    ///   error; no later sync is tried, not even the final one.
    /// - `ticks` disconnected: that is not a tick. A disconnected channel is
    ///   always ready, so selecting on it again would spin; wait for the stop
    ///   signal alone, then finish as below.
    /// - the stop channel disconnected (its sender was dropped): leave the
    ///   loop, sync one last time, and return the number of successful syncs,
    ///   the final one included.
    pub fn spawn<T>(target: T, ticks: Receiver<Instant>) -> Result<Self, WalError>
    where
        T: SyncTarget + Send + 'static,
    {
        todo!(
            "task 5: a stop channel, a named thread running the select! loop, then the final sync"
        )
    }

    /// Starts a syncer that ticks every `interval` ([`crossbeam_channel::tick`]).
    pub fn with_interval<T>(target: T, interval: Duration) -> Result<Self, WalError>
    where
        T: SyncTarget + Send + 'static,
    {
        todo!("task 5: spawn with crossbeam_channel::tick(interval)")
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
        todo!("task 5: drop the sender, join the thread, map a panic to SyncerPanicked")
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
// ANCHOR_END: task5
