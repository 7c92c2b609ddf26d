//! The [`Sharded`] handle: cross-shard messages, stop and join.
//!
//! A handle is `Send + Sync + Clone` whatever `S` is: it holds only the shards' mailboxes, and
//! every message is a `Send` closure that runs *on* the target shard with `&S`.
use crate::driver::DriverKind;
use crate::mailbox::Mailbox;
use crate::stop::Stop;
use futures_channel::oneshot;
use std::rc::Rc;
use std::sync::{Arc, Mutex, OnceLock};
use std::thread::JoinHandle;

/// Why a cross-shard message did not get an answer. All are about the target shard, and all but
/// `NoSuchShard` can succeed later or on another shard.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ShardError {
    /// The shard id is out of range.
    #[error("no shard {0}")]
    NoSuchShard(usize),
    /// The target shard's mailbox is full (retry later).
    #[error("shard {0} mailbox is full")]
    Full(usize),
    /// The target shard has stopped (or stopped before answering).
    #[error("shard {0} has stopped")]
    Stopped(usize),
}

/// What a shard's mailbox loop sees: its state and its stop signal.
pub(crate) struct Local<S> {
    pub(crate) state: Rc<S>,
    pub(crate) stop: Stop,
}

pub(crate) struct Shared<S> {
    pub(crate) mailboxes: Vec<Mailbox<Local<S>>>,
    pub(crate) drivers: Vec<OnceLock<DriverKind>>,
    pub(crate) threads: Mutex<Vec<JoinHandle<()>>>,
}

/// Handle to a set of running shards, each owning one `S`.
pub struct Sharded<S> {
    pub(crate) shared: Arc<Shared<S>>,
}

impl<S> Clone for Sharded<S> {
    fn clone(&self) -> Self {
        Self { shared: self.shared.clone() }
    }
}

impl<S: 'static> Sharded<S> {
    /// Number of shards.
    pub fn len(&self) -> usize {
        self.shared.mailboxes.len()
    }

    /// Always false: a sharded set has at least one shard.
    pub fn is_empty(&self) -> bool {
        false
    }

    /// The I/O driver each shard runs (None for a shard that has not started yet).
    pub fn drivers(&self) -> Vec<Option<DriverKind>> {
        self.shared.drivers.iter().map(|d| d.get().copied()).collect()
    }

    fn post(&self, shard: usize, f: impl FnOnce(&Local<S>) + Send + 'static) -> Result<(), ShardError> {
        let mb = self.shared.mailboxes.get(shard).ok_or(ShardError::NoSuchShard(shard))?;
        mb.push(Box::new(f)).map_err(|_| if mb.is_closed() { ShardError::Stopped(shard) } else { ShardError::Full(shard) })
    }

    /// Run `f` on `shard` and get its result. Works from any thread and from any shard,
    /// including `shard` itself (the message is handled by the shard's mailbox task).
    pub async fn invoke_on<R, F>(&self, shard: usize, f: F) -> Result<R, ShardError>
    where
        R: Send + 'static,
        F: FnOnce(&S) -> R + Send + 'static,
    {
        let (tx, rx) = oneshot::channel();
        self.post(shard, move |l| {
            let _ = tx.send(f(&l.state));
        })?;
        rx.await.map_err(|_| ShardError::Stopped(shard))
    }

    /// Run `f` on `shard` without waiting for it (fire and forget).
    pub fn send_to<F>(&self, shard: usize, f: F) -> Result<(), ShardError>
    where
        F: FnOnce(&S) + Send + 'static,
    {
        self.post(shard, move |l| f(&l.state))
    }

    /// Run `f` on every shard without waiting; returns the shards that could not take it.
    pub fn broadcast<F>(&self, f: F) -> Vec<ShardError>
    where
        F: Fn(&S) + Send + Sync + 'static,
    {
        let f = Arc::new(f);
        (0..self.len())
            .filter_map(|i| {
                let f = f.clone();
                self.post(i, move |l| f(&l.state)).err()
            })
            .collect()
    }

    /// Run `map` on every shard and fold the answers with `reduce`, in shard order.
    /// Fails if any shard cannot answer (the caller decides whether a partial view would do).
    pub async fn map_reduce<T, R, M, F>(&self, map: M, init: R, mut reduce: F) -> Result<R, ShardError>
    where
        T: Send + 'static,
        M: Fn(&S) -> T + Send + Sync + 'static,
        F: FnMut(R, T) -> R,
    {
        let map = Arc::new(map);
        let mut pending = Vec::with_capacity(self.len());
        for i in 0..self.len() {
            let (tx, rx) = oneshot::channel();
            let m = map.clone();
            self.post(i, move |l| {
                let _ = tx.send(m(&l.state));
            })?;
            pending.push((i, rx));
        }
        let mut acc = init;
        for (i, rx) in pending {
            acc = reduce(acc, rx.await.map_err(|_| ShardError::Stopped(i))?);
        }
        Ok(acc)
    }

    /// Raise every shard's [`Stop`] signal. Shards that already stopped are skipped.
    pub fn stop(&self) {
        for i in 0..self.len() {
            let _ = self.post(i, |l| l.stop.trigger());
        }
    }

    /// Wait for every shard thread to finish. Returns how many of them panicked.
    pub fn join(&self) -> usize {
        let threads = std::mem::take(&mut *self.shared.threads.lock().unwrap_or_else(|e| e.into_inner()));
        threads.into_iter().map(JoinHandle::join).filter(Result::is_err).count()
    }
}
