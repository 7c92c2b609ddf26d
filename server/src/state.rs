//! What each shard owns: its stats, its drain flag, its connection count, and a handle to the
//! other shards. Nothing here is shared between threads.
use crate::config::Config;
use crate::stats::{Snapshot, Stats};
use shard::{DriverKind, Sharded};
use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::sync::Arc;
use std::task::Waker;

/// One shard's state.
pub(crate) struct ShardState {
    pub(crate) id: usize,
    pub(crate) cpu: Option<usize>,
    pub(crate) driver: DriverKind,
    pub(crate) cfg: Arc<Config>,
    pub(crate) stats: Stats,
    pub(crate) sharded: Sharded<Self>,
    pub(crate) boot: crate::serve::Boot,
    pub(crate) date: DateCache,
    /// WebSocket connections, topics and counters of this shard.
    pub(crate) ws: std::rc::Rc<crate::ws::hub::Hub>,
    reads: RefCell<monoio::io::Canceller>,
    draining: Cell<bool>,
    idle_waker: RefCell<Option<Waker>>,
}

impl ShardState {
    /// Spawn a connection or request task on this shard. A panic inside it (a bug of ours or of a
    /// protocol library) ends that task only: it is logged and counted in
    /// `hypercube_task_panics_total`, and the shard goes on serving everyone else. A task that
    /// `owns_conn` (it would have called [`Self::conn_closed`] at its end) gets that call made for
    /// it, so the drain does not wait for a connection that is gone.
    pub(crate) fn spawn<F>(self: &Rc<Self>, what: &'static str, owns_conn: bool, fut: F)
    where
        F: std::future::Future<Output = ()> + 'static,
    {
        let st = self.clone();
        monoio::spawn(async move {
            if let Err(panic) = shard::guard::catch_unwind(fut).await {
                if owns_conn {
                    st.conn_closed();
                }
                Stats::add(&st.stats.task_panics, 1);
                tracing::error!(shard = st.id, task = what, %panic, "task panicked; its connection is dropped");
            }
        });
    }

    pub(crate) fn new(ctx: &shard::ShardCtx<Self>, cfg: Arc<Config>) -> Self {
        Self {
            id: ctx.id,
            cpu: ctx.cpu,
            driver: ctx.driver,
            cfg,
            stats: Stats::new(),
            sharded: ctx.sharded.clone(),
            boot: crate::serve::Boot::new(),
            date: DateCache::default(),
            ws: std::rc::Rc::default(),
            reads: RefCell::new(monoio::io::Canceller::new()),
            draining: Cell::new(false),
            idle_waker: RefCell::new(None),
        }
    }

    pub(crate) fn snapshot(&self) -> Snapshot {
        let mut s = self.stats.snapshot(self.id, self.cpu, self.driver.as_str(), self.draining.get());
        s.ws = self.ws.counters.snapshot();
        s
    }

    pub(crate) fn is_draining(&self) -> bool {
        self.draining.get()
    }

    pub(crate) fn set_draining(&self) {
        self.draining.set(true);
    }

    /// Handle for one cancelable connection read (see [`Self::cancel_reads`]).
    pub(crate) fn read_cancel_handle(&self) -> monoio::io::CancelHandle {
        self.reads.borrow().handle()
    }

    /// Cancel every pending connection read on this shard (at shutdown). Reads that already
    /// received data complete normally, so nothing the kernel accepted is lost.
    pub(crate) fn cancel_reads(&self) {
        let c = self.reads.take();
        self.reads.replace(c.cancel());
    }

    /// A connection opened.
    pub(crate) fn conn_opened(&self) {
        Stats::add(&self.stats.conns_open, 1);
        Stats::add(&self.stats.conns_accepted, 1);
    }

    /// A connection closed; wakes the drain waiter when the last one goes.
    pub(crate) fn conn_closed(&self) {
        self.stats.conns_open.set(self.stats.conns_open.get().saturating_sub(1));
        Stats::add(&self.stats.conns_closed, 1);
        if self.stats.conns_open.get() == 0 {
            if let Some(w) = self.idle_waker.borrow_mut().take() {
                w.wake();
            }
        }
    }

    /// Resolves once no connection is open on this shard.
    pub(crate) async fn all_closed(&self) {
        std::future::poll_fn(|cx| {
            if self.stats.conns_open.get() == 0 {
                std::task::Poll::Ready(())
            } else {
                *self.idle_waker.borrow_mut() = Some(cx.waker().clone());
                std::task::Poll::Pending
            }
        })
        .await
    }
}

/// The `Date` header value (RFC 9110 IMF-fixdate), formatted at most once per second per shard.
#[derive(Default)]
pub(crate) struct DateCache {
    cached: RefCell<(u64, bytes::Bytes)>,
}

impl DateCache {
    pub(crate) fn get(&self) -> bytes::Bytes {
        let secs = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
        let mut c = self.cached.borrow_mut();
        if c.0 != secs || c.1.is_empty() {
            *c = (secs, bytes::Bytes::from(imf_fixdate(secs)));
        }
        c.1.clone()
    }
}

/// Format unix seconds as `Sun, 06 Nov 1994 08:49:37 GMT`.
pub(crate) fn imf_fixdate(secs: u64) -> String {
    const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    const MONTHS: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    let (y, m, d) = engine::calendar::civil_from_days(days);
    format!(
        "{}, {:02} {} {} {:02}:{:02}:{:02} GMT",
        DAYS[(days % 7) as usize],
        d,
        MONTHS[usize::from(m - 1)],
        y,
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn imf_fixdate() {
        assert_eq!(super::imf_fixdate(784_111_777), "Sun, 06 Nov 1994 08:49:37 GMT");
        assert_eq!(super::imf_fixdate(0), "Thu, 01 Jan 1970 00:00:00 GMT");
        assert_eq!(super::imf_fixdate(951_782_400), "Tue, 29 Feb 2000 00:00:00 GMT");
    }
}
