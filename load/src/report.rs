//! Statistics a shard collects (HDR histograms, counts, errors by kind), how shards' statistics
//! merge, and the report made from them: a JSON document and a human table.

use crate::sched::Sample;
use hdrhistogram::Histogram;
use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// Highest latency recorded, ns (larger values are clamped to it).
pub const MAX_LATENCY_NS: u64 = 100_000_000_000;

/// One shard's (or the merged) statistics.
#[derive(Debug, Clone)]
pub struct Stats {
    /// Latency from the scheduled send (open loop) or the actual send (closed loop), ns.
    pub latency: Histogram<u64>,
    /// Latency from the actual send, ns (equal to `latency` in closed loop).
    pub uncorrected: Histogram<u64>,
    /// Complete responses.
    pub responses: u64,
    /// Responses by status class: index 1..=5 for 1xx..5xx, 0 for anything else.
    pub status: [u64; 6],
    /// Errors by kind (connect, timeout, read, write, closed, parse_*).
    pub errors: BTreeMap<&'static str, u64>,
    /// Successful connects (including reconnects after errors).
    pub connects: u64,
    /// Response bytes read.
    pub bytes: u64,
}

impl Default for Stats {
    fn default() -> Self {
        let h = Histogram::new_with_bounds(1, MAX_LATENCY_NS, 3).expect("valid histogram bounds");
        Self {
            latency: h.clone(),
            uncorrected: h,
            responses: 0,
            status: [0; 6],
            errors: BTreeMap::new(),
            connects: 0,
            bytes: 0,
        }
    }
}

impl Stats {
    pub fn record(&mut self, status: u16, s: Sample) {
        self.latency.saturating_record(s.corrected.max(1));
        self.uncorrected.saturating_record(s.uncorrected.max(1));
        self.responses += 1;
        let class = (status / 100) as usize;
        self.status[if (1..=5).contains(&class) { class } else { 0 }] += 1;
    }

    pub fn error(&mut self, kind: &'static str) {
        *self.errors.entry(kind).or_default() += 1;
    }

    pub fn merge(&mut self, o: &Self) {
        // Same bounds on both sides, so `add` cannot fail.
        let _ = self.latency.add(&o.latency);
        let _ = self.uncorrected.add(&o.uncorrected);
        self.responses += o.responses;
        for (a, b) in self.status.iter_mut().zip(o.status) {
            *a += b;
        }
        for (k, v) in &o.errors {
            *self.errors.entry(k).or_default() += v;
        }
        self.connects += o.connects;
        self.bytes += o.bytes;
    }

    pub fn error_total(&self) -> u64 {
        self.errors.values().sum()
    }
}

/// Latency percentiles in microseconds.
#[derive(Debug, Clone, Serialize)]
pub struct Percentiles {
    pub p50: f64,
    pub p90: f64,
    pub p99: f64,
    pub p999: f64,
    pub p9999: f64,
    pub max: f64,
    pub mean: f64,
}

impl Percentiles {
    pub fn of(h: &Histogram<u64>) -> Self {
        let us = |ns: u64| ns as f64 / 1000.0;
        Self {
            p50: us(h.value_at_quantile(0.5)),
            p90: us(h.value_at_quantile(0.9)),
            p99: us(h.value_at_quantile(0.99)),
            p999: us(h.value_at_quantile(0.999)),
            p9999: us(h.value_at_quantile(0.9999)),
            max: us(h.max()),
            mean: h.mean() / 1000.0,
        }
    }
}

/// The run's report (the JSON document).
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub scenario: String,
    pub target: String,
    /// `closed` or `open`.
    pub mode: &'static str,
    /// Open loop: requested rate, requests/s.
    pub rate: Option<u64>,
    pub connections: usize,
    pub threads: usize,
    pub pipeline: usize,
    pub duration_s: f64,
    pub responses: u64,
    pub rps: f64,
    pub bytes: u64,
    pub connects: u64,
    pub status: BTreeMap<String, u64>,
    pub errors: BTreeMap<&'static str, u64>,
    pub errors_total: u64,
    /// Open loop: from the scheduled send time (coordinated-omission corrected).
    pub latency_us: Percentiles,
    /// From the actual send time (same as `latency_us` in closed loop).
    pub latency_uncorrected_us: Percentiles,
}

impl Report {
    /// The human table.
    pub fn table(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(
            s,
            "{} {} — {} loop{}, {} connections, {} threads, pipeline {}, {:.2} s",
            self.scenario,
            self.target,
            self.mode,
            self.rate.map(|r| format!(" at {r} req/s")).unwrap_or_default(),
            self.connections,
            self.threads,
            self.pipeline,
            self.duration_s
        );
        let _ = writeln!(s, "{:>14} {:>10} {:>10} {:>10} {:>10} {:>10} {:>10}", "latency µs", "p50", "p90", "p99", "p99.9", "p99.99", "max");
        let mut row = |name: &str, p: &Percentiles| {
            let _ = writeln!(
                s,
                "{name:>14} {:>10.1} {:>10.1} {:>10.1} {:>10.1} {:>10.1} {:>10.1}",
                p.p50, p.p90, p.p99, p.p999, p.p9999, p.max
            );
        };
        if self.mode == "open" {
            row("corrected", &self.latency_us);
            row("uncorrected", &self.latency_uncorrected_us);
        } else {
            row("latency", &self.latency_us);
        }
        let status: Vec<String> = self.status.iter().map(|(k, v)| format!("{k}: {v}")).collect();
        let _ = writeln!(s, "responses {}  rps {:.0}  status {{{}}}  connects {}", self.responses, self.rps, status.join(", "), self.connects);
        let errors: Vec<String> = self.errors.iter().map(|(k, v)| format!("{k}: {v}")).collect();
        let _ = writeln!(s, "errors {}{}", self.errors_total, if errors.is_empty() { String::new() } else { format!(" {{{}}}", errors.join(", ")) });
        s
    }

    /// One line for scripts.
    pub fn summary(&self) -> String {
        format!(
            "{} {}: {:.0} rps, p50 {:.1} µs, p99 {:.1} µs, p99.9 {:.1} µs, max {:.1} µs, errors {}",
            self.scenario, self.mode, self.rps, self.latency_us.p50, self.latency_us.p99, self.latency_us.p999, self.latency_us.max, self.errors_total
        )
    }
}

pub(crate) fn status_map(s: &[u64; 6]) -> BTreeMap<String, u64> {
    s.iter()
        .enumerate()
        .filter(|(_, &n)| n > 0)
        .map(|(i, &n)| (if i == 0 { "other".to_string() } else { format!("{i}xx") }, n))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merge_adds_everything() {
        let mut a = Stats::default();
        let mut b = Stats::default();
        for i in 1..=1000u64 {
            a.record(200, Sample { corrected: i * 1000, uncorrected: i * 1000 });
            b.record(503, Sample { corrected: (i + 1000) * 1000, uncorrected: 1000 });
        }
        a.error("timeout");
        b.error("timeout");
        b.error("connect");
        a.merge(&b);
        assert_eq!(a.responses, 2000);
        assert_eq!(a.latency.len(), 2000);
        assert_eq!(a.status, [0, 0, 1000, 0, 0, 1000]);
        assert_eq!(a.errors.get("timeout"), Some(&2));
        assert_eq!(a.error_total(), 3);
        let p = Percentiles::of(&a.latency);
        assert!((p.p50 - 1000.0).abs() <= 1.0, "{p:?}");
        assert!((p.max - 2000.0).abs() <= 2.0, "{p:?}");
        assert_eq!(status_map(&a.status).get("5xx"), Some(&1000));
    }
}
