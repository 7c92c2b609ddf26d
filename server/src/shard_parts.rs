//! What one shard hosts: its [`Shard`] state (config, process-wide services, stats, the
//! WebSocket hub, caches, the drain flag) and its background services ([`Background`]: the hub's
//! sweeper and the `daily` midnight timer), which start when the shard starts and stop, in a
//! declared order, after its connections have closed. Nothing here is shared between threads;
//! other shards reach a shard only by message (`Sharded<Shard>`).
//!
//! No start-up payload lives here: listeners and sockets are handed to the shard's run function
//! by value (`serve`) and consumed there.
use crate::config::Config;
use crate::hub::Hub;
use crate::services::Services;
use crate::stats::{Snapshot, Stats};
use bytes::Bytes;
use shard::rt::{ReadCanceller, Task};
use shard::{DriverKind, Sharded, Stop};
use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::sync::Arc;
use std::task::Waker;

/// One shard's state.
pub(crate) struct Shard {
    pub(crate) id: usize,
    pub(crate) cpu: Option<usize>,
    pub(crate) driver: DriverKind,
    pub(crate) cfg: Arc<Config>,
    pub(crate) services: Services,
    pub(crate) stats: Stats,
    /// WebSocket connections and topics of this shard.
    pub(crate) hub: Rc<Hub>,
    pub(crate) date: DateCache,
    /// Every shard, for cross-shard messages (`/readyz`, `/metrics`, publish).
    pub(crate) sharded: Sharded<Self>,
    /// `Alt-Svc` for HTTP/1.1 responses, when HTTP/3 is on.
    pub(crate) alt_svc: Option<Bytes>,
    /// Cancels the HTTP/1.1 connections' pending reads at the drain.
    pub(crate) reads: ReadCanceller,
    /// The one read buffer every WebSocket connection of the shard reads into.
    pub(crate) ws_scratch: RefCell<Vec<u8>>,
    draining: Cell<bool>,
    idle_waker: RefCell<Option<Waker>>,
}

/// Size of [`Shard::ws_scratch`].
pub(crate) const WS_SCRATCH: usize = 64 * 1024;

impl Shard {
    pub(crate) fn new(ctx: &shard::ShardCtx<Self>, cfg: Arc<Config>, services: Services, alt_svc: Option<Bytes>) -> Self {
        Self {
            id: ctx.id,
            cpu: ctx.cpu,
            driver: ctx.driver,
            cfg,
            services,
            stats: Stats::new(),
            hub: Rc::default(),
            date: DateCache::default(),
            sharded: ctx.sharded.clone(),
            alt_svc,
            reads: ReadCanceller::default(),
            ws_scratch: RefCell::new(Vec::new()),
            draining: Cell::new(false),
            idle_waker: RefCell::new(None),
        }
    }

    /// This shard's counters, for `/metrics`.
    pub(crate) fn snapshot(&self) -> Snapshot {
        let mut s = self.stats.snapshot(self.id, self.cpu, self.driver.as_str(), self.draining.get(), shard::rt::task_panics());
        s.ws.open = self.hub.open();
        s
    }

    pub(crate) fn is_draining(&self) -> bool {
        self.draining.get()
    }

    pub(crate) fn set_draining(&self) {
        self.draining.set(true);
    }

    /// A connection opened: counted until the returned slot is dropped (also when its task
    /// panicked), so the drain never waits for a connection that is gone.
    pub(crate) fn conn_opened(self: &Rc<Self>) -> ConnSlot {
        self.stats.conns_open.add(1);
        self.stats.conns_accepted.add(1);
        ConnSlot(self.clone())
    }

    fn conn_closed(&self) {
        self.stats.conns_open.sub(1);
        self.stats.conns_closed.add(1);
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

/// One open connection of a shard (see [`Shard::conn_opened`]).
pub(crate) struct ConnSlot(Rc<Shard>);

impl Drop for ConnSlot {
    fn drop(&mut self) {
        self.0.conn_closed();
    }
}

/// The shard's background services, running from shard start until [`Background::stop`].
pub(crate) struct Background {
    done: Stop,
    tasks: Vec<Task<()>>,
}

impl Background {
    /// Start them: the hub's sweeper (wakes WebSocket connections whose deadline passed), then
    /// the `daily` topic's midnight timer.
    pub(crate) fn start(shard: &Rc<Shard>) -> Self {
        let done = Stop::new();
        let sweeper = {
            let (shard, done) = (shard.clone(), done.waiter());
            shard::rt::spawn("ws sweeper", async move { shard.hub.sweep_until(&done).await })
        };
        let daily = {
            let (shard, done) = (shard.clone(), done.waiter());
            shard::rt::spawn("daily timer", async move {
                let bound = shard.cfg.ws.send_queue_bytes;
                crate::api::daily::run(&shard.hub, bound, |n| shard.stats.ws.pushes.add(n), &done).await;
            })
        };
        Self { done, tasks: vec![sweeper, daily] }
    }

    /// Stop them, in reverse start order, and wait until they have.
    pub(crate) async fn stop(self) {
        self.done.trigger();
        for t in self.tasks.into_iter().rev() {
            let _ = t.await;
        }
    }
}

/// The `Date` header value (RFC 9110 IMF-fixdate), formatted at most once per second per shard.
#[derive(Default)]
pub(crate) struct DateCache {
    cached: RefCell<(u64, Bytes)>,
}

impl DateCache {
    pub(crate) fn get(&self) -> Bytes {
        let secs = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
        let mut c = self.cached.borrow_mut();
        if c.0 != secs || c.1.is_empty() {
            *c = (secs, Bytes::from(imf_fixdate(secs)));
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
