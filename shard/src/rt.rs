//! The one runtime surface for code that runs on a shard: spawn (always under the panic guard,
//! and counted), sleep, timeout, yield, a re-armable timer, and the shard's read canceller.
//!
//! Code above this module names no runtime: handlers, protocol sessions and per-shard services
//! use these functions, so swapping monoio (or adding a native io_uring driver) changes this
//! file and the transport glue, nothing else (quinn's `runtime/mod.rs` has the same role).
//!
//! Every function must be called on a shard thread (inside the shard's runtime).
use std::cell::{Cell, RefCell};
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

thread_local! {
    /// Tasks of this thread (this shard) that panicked, see [`task_panics`].
    static PANICS: Cell<u64> = const { Cell::new(0) };
}

/// A spawned task. Awaiting it gives `Some(output)`, or `None` if the task panicked. Dropping it
/// detaches the task (it keeps running).
#[must_use = "a dropped Task keeps running; await it to get its output"]
pub struct Task<T>(monoio::task::JoinHandle<Option<T>>);

impl<T> Future for Task<T> {
    type Output = Option<T>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        Pin::new(&mut self.0).poll(cx)
    }
}

/// Spawn `fut` on this shard. A panic inside it (a bug of ours or of a library) ends this task
/// only: it is logged with `what`, counted in [`task_panics`], and the shard goes on serving.
/// Whatever the task owned is dropped, so per-connection bookkeeping belongs in drop guards.
pub fn spawn<F>(what: &'static str, fut: F) -> Task<F::Output>
where
    F: Future + 'static,
    F::Output: 'static,
{
    Task(monoio::spawn(async move {
        match crate::guard::catch_unwind(fut).await {
            Ok(v) => Some(v),
            Err(panic) => {
                PANICS.with(|p| p.set(p.get() + 1));
                tracing::error!(task = what, %panic, "task panicked; the shard goes on");
                None
            }
        }
    }))
}

/// Tasks spawned on this shard thread that panicked so far.
pub fn task_panics() -> u64 {
    PANICS.with(Cell::get)
}

/// Wait `d`.
pub async fn sleep(d: Duration) {
    monoio::time::sleep(d).await;
}

/// The deadline passed before the future completed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("deadline passed")]
pub struct Elapsed;

/// Run `fut` for at most `d`.
pub async fn timeout<F: Future>(d: Duration, fut: F) -> Result<F::Output, Elapsed> {
    monoio::time::timeout(d, fut).await.map_err(|_| Elapsed)
}

/// Let the shard's other tasks and its I/O run. A self-wake is not enough on monoio: a task that
/// is always runnable keeps the loop from parking, so completions (accepts, reads) wait behind
/// it; a timer empties the run queue and makes the loop poll the driver.
pub async fn yield_now() {
    monoio::time::sleep(Duration::from_micros(1)).await;
}

/// A timer that is re-armed only when needed: [`arm_earlier`](Self::arm_earlier) moves it only
/// when the new deadline is earlier (so a keep-alive request costs no timer operation), and
/// [`rearm`](Self::rearm) after it fired never arms it in the past (a ready timer would never
/// yield and would starve the shard).
pub struct Timer {
    sleep: Pin<Box<monoio::time::Sleep>>,
    armed: Instant,
}

/// How far in the future an unarmed timer sits.
const FAR: Duration = Duration::from_secs(86_400 * 365);

impl Timer {
    /// A timer for `at`, or far in the future for `None`.
    pub fn new(at: Option<Instant>) -> Self {
        let armed = at.unwrap_or_else(|| Instant::now() + FAR);
        Self { sleep: Box::pin(monoio::time::sleep_until(armed.into())), armed }
    }

    /// When it fires.
    pub fn armed(&self) -> Instant {
        self.armed
    }

    /// Fire at `at` if that is earlier than now armed.
    pub fn arm_earlier(&mut self, at: Instant) {
        if at < self.armed {
            self.armed = at;
            self.sleep.as_mut().reset(at.into());
        }
    }

    /// Fire at `at` (or far away for `None`), but at least 1 ms from now.
    pub fn rearm(&mut self, at: Option<Instant>) {
        let now = Instant::now();
        let at = at.unwrap_or(now + FAR).max(now + Duration::from_millis(1));
        self.armed = at;
        self.sleep.as_mut().reset(at.into());
    }

    /// Resolves when the armed deadline passes (poll again after [`rearm`](Self::rearm)).
    pub async fn fired(&mut self) {
        self.sleep.as_mut().await;
    }
}

/// Cancels a shard's pending socket reads at once (at shutdown). A read that already received
/// bytes completes normally, so nothing the kernel accepted is lost.
pub struct ReadCanceller(RefCell<monoio::io::Canceller>);

impl Default for ReadCanceller {
    fn default() -> Self {
        Self(RefCell::new(monoio::io::Canceller::new()))
    }
}

impl ReadCanceller {
    /// The handle a cancelable read takes (transport glue only).
    pub fn handle(&self) -> monoio::io::CancelHandle {
        self.0.borrow().handle()
    }

    /// Cancel every read that holds a handle from before this call.
    pub fn cancel_all(&self) {
        let c = self.0.take();
        self.0.replace(c.cancel());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn on_monoio<F: Future>(f: F) -> F::Output {
        let mut rt = monoio::RuntimeBuilder::<monoio::LegacyDriver>::new().enable_timer().build().expect("runtime");
        rt.block_on(f)
    }

    #[test]
    fn a_panicking_task_is_counted_and_the_next_one_runs() {
        let hook = std::panic::take_hook();
        std::panic::set_hook(Box::new(|_| {}));
        let (before, bad, good, after) = on_monoio(async {
            let before = task_panics();
            let bad = spawn("test", async {
                let v: Option<u8> = std::hint::black_box(None);
                v.expect("boom")
            })
            .await;
            let good = spawn("test", async { 7 }).await;
            (before, bad, good, task_panics())
        });
        std::panic::set_hook(hook);
        assert_eq!((bad, good), (None, Some(7)));
        assert_eq!(after - before, 1);
    }

    #[test]
    fn timeout_and_timer() {
        on_monoio(async {
            assert_eq!(timeout(Duration::from_millis(5), std::future::pending::<()>()).await, Err(Elapsed));
            assert_eq!(timeout(Duration::from_secs(5), async { 3 }).await, Ok(3));
            let mut t = Timer::new(None);
            let far = t.armed();
            t.arm_earlier(far + Duration::from_secs(1));
            assert_eq!(t.armed(), far, "a later deadline does not move it");
            let soon = Instant::now() + Duration::from_millis(2);
            t.arm_earlier(soon);
            t.fired().await;
            assert!(Instant::now() >= soon);
            t.rearm(Some(Instant::now() - Duration::from_secs(1)));
            assert!(t.armed() > Instant::now(), "never re-armed in the past");
        });
    }
}
