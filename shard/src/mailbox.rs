//! A shard's mailbox: a bounded lock-free queue of closures plus the waker of the task that
//! drains it. Any thread may push; only the owning shard pops. Pushing wakes the owner through
//! its runtime (monoio's cross-thread wake), so an idle shard sleeps in the kernel, not in a loop.
use crossbeam_queue::ArrayQueue;
use futures_util::task::AtomicWaker;
use std::future::poll_fn;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::Poll;

/// A message: a closure run on the target shard with access to its state.
pub type Msg<S> = Box<dyn FnOnce(&S) + Send>;

/// Bounded multi-producer, single-consumer queue of messages for one shard.
pub struct Mailbox<S> {
    queue: ArrayQueue<Msg<S>>,
    waker: AtomicWaker,
    closed: AtomicBool,
}

impl<S> Mailbox<S> {
    /// A mailbox holding at most `capacity` (≥ 1) undelivered messages.
    pub fn new(capacity: usize) -> Self {
        Self { queue: ArrayQueue::new(capacity.max(1)), waker: AtomicWaker::new(), closed: AtomicBool::new(false) }
    }

    /// Queue a message; gives it back if the mailbox is full or closed.
    pub fn push(&self, msg: Msg<S>) -> Result<(), Msg<S>> {
        if self.closed.load(Ordering::Acquire) {
            return Err(msg);
        }
        self.queue.push(msg)?;
        self.waker.wake();
        Ok(())
    }

    /// Whether [`Mailbox::close`] was called.
    pub fn is_closed(&self) -> bool {
        self.closed.load(Ordering::Acquire)
    }

    /// Refuse further messages and wake the drain loop so it can finish.
    pub fn close(&self) {
        self.closed.store(true, Ordering::Release);
        self.waker.wake();
    }

    /// Run messages as they arrive, on the owning shard, until the mailbox is closed and empty.
    pub async fn drain(&self, state: &S) {
        loop {
            while let Some(msg) = self.queue.pop() {
                msg(state);
            }
            let closed = poll_fn(|cx| {
                self.waker.register(cx.waker());
                if !self.queue.is_empty() {
                    Poll::Ready(false)
                } else if self.closed.load(Ordering::Acquire) {
                    Poll::Ready(true)
                } else {
                    Poll::Pending
                }
            })
            .await;
            if closed && self.queue.is_empty() {
                return;
            }
        }
    }
}
