//! A panicking task must not take its shard down with it.
//!
//! A panic that unwinds out of a task's `poll` unwinds through the shard's executor and ends the
//! shard thread, and with it every connection the shard owns (its listening socket stays in the
//! reuseport group, so new connections keep arriving and are never served). [`catch_unwind`]
//! stops the unwinding at the task: the task ends with the panic message instead, and the caller
//! logs and counts it. The panicked future is never polled again, only dropped.
use std::any::Any;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::task::{Context, Poll};

/// The future returned by [`catch_unwind`].
#[derive(Debug)]
pub struct CatchUnwind<F>(F);

/// Run `fut`, turning a panic inside any of its polls into `Err(message)`.
///
/// State shared with other tasks (an `Rc<RefCell<…>>` held mid-update, say) may be left half
/// changed; that is why the caller should treat the task's connection as lost, not retry it.
pub fn catch_unwind<F: Future>(fut: F) -> CatchUnwind<F> {
    CatchUnwind(fut)
}

impl<F: Future> Future for CatchUnwind<F> {
    type Output = Result<F::Output, String>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        // SAFETY: structural pinning of the only field: it is never moved out of `self`, and
        // `CatchUnwind` has no Drop impl or Unpin impl that could move it.
        let fut = unsafe { self.map_unchecked_mut(|s| &mut s.0) };
        match std::panic::catch_unwind(AssertUnwindSafe(|| fut.poll(cx))) {
            Ok(Poll::Ready(v)) => Poll::Ready(Ok(v)),
            Ok(Poll::Pending) => Poll::Pending,
            Err(payload) => Poll::Ready(Err(message(&*payload))),
        }
    }
}

/// The text of a panic payload (`panic!("...")` carries a `&str` or a `String`).
fn message(payload: &(dyn Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "non-string panic payload".to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_becomes_an_error_and_a_value_passes_through() {
        let ok = futures_executor::block_on(catch_unwind(async { 7 }));
        assert_eq!(ok, Ok(7));
        let hook = std::panic::take_hook();
        std::panic::set_hook(Box::new(|_| {}));
        let bad = futures_executor::block_on(catch_unwind(async {
            let v: Option<u8> = std::hint::black_box(None);
            v.expect("no value")
        }));
        let formatted = futures_executor::block_on(catch_unwind(async { panic!("shard {}", 3) }));
        std::panic::set_hook(hook);
        assert_eq!(bad, Err("no value".to_string()));
        assert_eq!(formatted, Err("shard 3".to_string()));
    }

    #[test]
    fn pending_stays_pending() {
        let mut f = Box::pin(catch_unwind(std::future::pending::<()>()));
        let waker = futures_util::task::noop_waker();
        assert!(f.as_mut().poll(&mut Context::from_waker(&waker)).is_pending());
    }
}
