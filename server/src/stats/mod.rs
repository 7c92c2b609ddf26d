//! LEAF: per-shard statistics. Each shard owns one [`Stats`] (plain cells, no atomics, no locks);
//! `/metrics` gathers a [`Snapshot`] from every shard with `map_reduce` and merges them.
//!
//! # Layout
//! - this module: [`Counter`], the request and connection counters, the latency histogram.
//! - [`ws`]: the WebSocket counters (upgrades, messages, closes by code).
pub(crate) mod ws;

use hdrhistogram::Histogram;
use std::cell::{Cell, RefCell};

/// One shard-local counter or gauge (a `Cell`: the shard is one thread).
#[derive(Debug, Default)]
pub(crate) struct Counter(Cell<u64>);

impl Counter {
    pub(crate) fn add(&self, n: u64) {
        self.0.set(self.0.get().wrapping_add(n));
    }

    /// Take `n` off a gauge (never below zero).
    pub(crate) fn sub(&self, n: u64) {
        self.0.set(self.0.get().saturating_sub(n));
    }

    pub(crate) fn get(&self) -> u64 {
        self.0.get()
    }
}

/// Routes as counted in metrics. `Protocol` is a request rejected by the HTTP layer before
/// routing (400/408/413/431…), `Rejected` a connection refused at the connection limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RouteId {
    Healthz,
    Readyz,
    Metrics,
    Saju,
    Interpret,
    SajuBatch,
    SajuSearch,
    NotFound,
    Protocol,
    Rejected,
    Publish,
    Ws,
    OpenApi,
}

impl RouteId {
    pub(crate) const ALL: [Self; 13] = [
        Self::Healthz,
        Self::Readyz,
        Self::Metrics,
        Self::Saju,
        Self::Interpret,
        Self::SajuBatch,
        Self::SajuSearch,
        Self::NotFound,
        Self::Protocol,
        Self::Rejected,
        Self::Publish,
        Self::Ws,
        Self::OpenApi,
    ];

    pub(crate) fn label(self) -> &'static str {
        match self {
            Self::Healthz => "/healthz",
            Self::Readyz => "/readyz",
            Self::Metrics => "/metrics",
            Self::Saju => "/v1/saju",
            Self::Interpret => "/v1/interpret",
            Self::SajuBatch => "/v1/saju/batch",
            Self::SajuSearch => "/v1/saju/search",
            Self::NotFound => "unmatched",
            Self::Protocol => "protocol_error",
            Self::Rejected => "connection_limit",
            Self::Publish => "/internal/publish",
            Self::Ws => "/v1/ws",
            Self::OpenApi => "/openapi.json",
        }
    }
}

/// Status codes counted individually; anything else is counted as "other".
const STATUSES: [u16; 19] = [200, 204, 400, 401, 403, 404, 405, 408, 413, 415, 422, 426, 429, 431, 500, 501, 503, 504, 0];
const NROUTES: usize = RouteId::ALL.len();
const NSTATUS: usize = STATUSES.len();

fn status_slot(status: u16) -> usize {
    STATUSES.iter().position(|s| *s == status).unwrap_or(NSTATUS - 1)
}

/// One shard's counters.
#[derive(Default)]
pub(crate) struct Stats {
    pub(crate) conns_open: Counter,
    pub(crate) conns_accepted: Counter,
    pub(crate) conns_closed: Counter,
    pub(crate) conns_rejected: Counter,
    pub(crate) bytes_in: Counter,
    pub(crate) bytes_out: Counter,
    pub(crate) in_flight: Counter,
    /// Response bodies compressed, and their bytes before and after.
    pub(crate) compressed: Counter,
    pub(crate) compress_in_bytes: Counter,
    pub(crate) compress_out_bytes: Counter,
    pub(crate) ws: ws::Counters,
    requests: RefCell<Requests>,
    latency: RefCell<Latency>,
}

/// Requests by route and status slot.
struct Requests([[u64; NSTATUS]; NROUTES]);

impl Default for Requests {
    fn default() -> Self {
        Self([[0; NSTATUS]; NROUTES])
    }
}

/// The request latency histogram, in nanoseconds.
struct Latency(Histogram<u64>);

impl Default for Latency {
    fn default() -> Self {
        Self(new_histogram())
    }
}

impl Stats {
    pub(crate) fn new() -> Self {
        Self::default()
    }

    /// Count one answered request and its latency in nanoseconds.
    pub(crate) fn record(&self, route: RouteId, status: u16, nanos: u64) {
        self.requests.borrow_mut().0[route as usize][status_slot(status)] += 1;
        let _ = self.latency.borrow_mut().0.record(nanos.clamp(1, MAX_NANOS));
    }

    /// Count a request answered without a latency sample (protocol errors, rejections).
    pub(crate) fn count(&self, route: RouteId, status: u16) {
        self.requests.borrow_mut().0[route as usize][status_slot(status)] += 1;
    }

    /// This shard's counters. `task_panics` comes from the runtime surface (`shard::rt`).
    pub(crate) fn snapshot(&self, shard: usize, cpu: Option<usize>, driver: &'static str, draining: bool, task_panics: u64) -> Snapshot {
        Snapshot {
            shards: vec![ShardCounters {
                shard,
                cpu,
                driver,
                draining,
                open: self.conns_open.get(),
                accepted: self.conns_accepted.get(),
                closed: self.conns_closed.get(),
                rejected: self.conns_rejected.get(),
                task_panics,
                bytes_in: self.bytes_in.get(),
                bytes_out: self.bytes_out.get(),
                in_flight: self.in_flight.get(),
            }],
            requests: self.requests.borrow().0,
            latency: self.latency.borrow().0.clone(),
            ws: self.ws.snapshot(),
            compressed: [self.compressed.get(), self.compress_in_bytes.get(), self.compress_out_bytes.get()],
        }
    }
}

const MAX_NANOS: u64 = 3_600_000_000_000;

fn new_histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, MAX_NANOS, 3).unwrap_or_else(|_| Histogram::new(3).expect("3 sigfig histogram"))
}

/// Connection and byte counters of one shard.
#[derive(Debug, Clone, Default)]
pub(crate) struct ShardCounters {
    pub(crate) shard: usize,
    pub(crate) cpu: Option<usize>,
    pub(crate) driver: &'static str,
    pub(crate) draining: bool,
    pub(crate) open: u64,
    pub(crate) accepted: u64,
    pub(crate) closed: u64,
    pub(crate) rejected: u64,
    pub(crate) task_panics: u64,
    pub(crate) bytes_in: u64,
    pub(crate) bytes_out: u64,
    pub(crate) in_flight: u64,
}

/// Stats of one or more shards, mergeable, `Send`.
#[derive(Debug, Clone)]
pub(crate) struct Snapshot {
    pub(crate) shards: Vec<ShardCounters>,
    requests: [[u64; NSTATUS]; NROUTES],
    pub(crate) latency: Histogram<u64>,
    pub(crate) ws: ws::WsSnapshot,
    /// Bodies compressed, bytes in, bytes out (all shards).
    pub(crate) compressed: [u64; 3],
}

impl Snapshot {
    pub(crate) fn empty() -> Self {
        Self { shards: Vec::new(), requests: [[0; NSTATUS]; NROUTES], latency: new_histogram(), ws: Default::default(), compressed: [0; 3] }
    }

    pub(crate) fn merge(mut self, other: Self) -> Self {
        self.shards.extend(other.shards);
        for (a, b) in self.requests.iter_mut().zip(other.requests.iter()) {
            for (x, y) in a.iter_mut().zip(b.iter()) {
                *x += y;
            }
        }
        let _ = self.latency.add(&other.latency);
        self.ws.merge(&other.ws);
        for (a, b) in self.compressed.iter_mut().zip(other.compressed) {
            *a += b;
        }
        self
    }

    /// Non-zero request counts as (route, status label, count).
    pub(crate) fn requests(&self) -> impl Iterator<Item = (RouteId, String, u64)> + '_ {
        RouteId::ALL.iter().flat_map(move |r| {
            STATUSES.iter().enumerate().filter_map(move |(i, s)| {
                let n = self.requests[*r as usize][i];
                let label = if *s == 0 { "other".to_string() } else { s.to_string() };
                (n > 0).then_some((*r, label, n))
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_merge_across_shards() {
        let (a, b) = (Stats::new(), Stats::new());
        a.record(RouteId::Healthz, 200, 1_000);
        b.record(RouteId::Healthz, 200, 3_000);
        b.record(RouteId::Saju, 422, 5_000);
        b.count(RouteId::Protocol, 418);
        let m = Snapshot::empty().merge(a.snapshot(0, None, "epoll", false, 0)).merge(b.snapshot(1, Some(1), "io_uring", false, 0));
        let got: Vec<_> = m.requests().collect();
        assert_eq!(
            got,
            vec![(RouteId::Healthz, "200".into(), 2), (RouteId::Saju, "422".into(), 1), (RouteId::Protocol, "other".into(), 1)]
        );
        assert_eq!(m.latency.len(), 3);
        assert_eq!(m.shards.len(), 2);
    }
}
