//! A shard-local stop signal: raised once, awaited by many tasks (listeners, connections).
//!
//! Each waiting task holds one [`Waiter`] for its whole life and polls it as often as it likes:
//! re-polling only refreshes the task's waker in its slot, so a connection can include the
//! waiter in every `select!` of its I/O loop for free.
use std::cell::{Cell, RefCell};
use std::future::{poll_fn, Future};
use std::rc::Rc;
use std::task::{Context, Poll, Waker};

/// The signal. Cloning gives another handle to the same signal (same shard only: it is `!Send`).
#[derive(Clone, Default)]
pub struct Stop {
    inner: Rc<Inner>,
}

#[derive(Default)]
struct Inner {
    stopped: Cell<bool>,
    slots: RefCell<Slots>,
}

#[derive(Default)]
struct Slots {
    wakers: Vec<Option<Waker>>,
    free: Vec<usize>,
}

impl Stop {
    /// A new signal, not raised.
    pub fn new() -> Self {
        Self::default()
    }

    /// Raise the signal and wake every waiter. Idempotent.
    pub fn trigger(&self) {
        if self.inner.stopped.replace(true) {
            return;
        }
        let wakers: Vec<Waker> = self.inner.slots.borrow_mut().wakers.iter_mut().filter_map(Option::take).collect();
        wakers.into_iter().for_each(Waker::wake);
    }

    /// Whether the signal has been raised.
    pub fn is_stopped(&self) -> bool {
        self.inner.stopped.get()
    }

    /// A waiter with its own slot; drop it to give the slot back.
    pub fn waiter(&self) -> Waiter {
        let mut slots = self.inner.slots.borrow_mut();
        let key = match slots.free.pop() {
            Some(k) => k,
            None => {
                slots.wakers.push(None);
                slots.wakers.len() - 1
            }
        };
        Waiter { inner: self.inner.clone(), key }
    }

    /// Wait for the signal (allocates a slot for the duration of the wait).
    pub fn stopped(&self) -> impl Future<Output = ()> + '_ {
        let w = self.waiter();
        async move { w.stopped().await }
    }
}

/// One task's registration on a [`Stop`].
pub struct Waiter {
    inner: Rc<Inner>,
    key: usize,
}

impl Waiter {
    /// Ready once the signal is raised.
    pub fn poll_stopped(&self, cx: &mut Context<'_>) -> Poll<()> {
        if self.inner.stopped.get() {
            return Poll::Ready(());
        }
        let mut slots = self.inner.slots.borrow_mut();
        let slot = &mut slots.wakers[self.key];
        match slot {
            Some(w) if w.will_wake(cx.waker()) => {}
            _ => *slot = Some(cx.waker().clone()),
        }
        Poll::Pending
    }

    /// Wait for the signal.
    pub async fn stopped(&self) {
        poll_fn(|cx| self.poll_stopped(cx)).await
    }

    /// Whether the signal has been raised.
    pub fn is_stopped(&self) -> bool {
        self.inner.stopped.get()
    }
}

impl Drop for Waiter {
    fn drop(&mut self) {
        let mut slots = self.inner.slots.borrow_mut();
        slots.wakers[self.key] = None;
        slots.free.push(self.key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    use std::task::Wake;

    struct Count(AtomicUsize);
    impl Wake for Count {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    #[test]
    fn wakes_every_waiter_once_and_reuses_slots() {
        let stop = Stop::new();
        let count = Arc::new(Count(AtomicUsize::new(0)));
        let waker = Waker::from(count.clone());
        let mut cx = Context::from_waker(&waker);
        let waiters: Vec<Waiter> = (0..3).map(|_| stop.waiter()).collect();
        for w in &waiters {
            assert!(w.poll_stopped(&mut cx).is_pending());
            assert!(w.poll_stopped(&mut cx).is_pending());
        }
        drop(waiters);
        let w = stop.waiter();
        assert_eq!(stop.inner.slots.borrow().wakers.len(), 3, "slots are reused");
        assert!(w.poll_stopped(&mut cx).is_pending());
        stop.trigger();
        stop.trigger();
        assert_eq!(count.0.load(Ordering::SeqCst), 1);
        assert!(w.poll_stopped(&mut cx).is_ready());
        assert!(stop.is_stopped());
    }
}
