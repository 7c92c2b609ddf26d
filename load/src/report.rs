//! Statistics a shard collects (HDR histograms, counts, errors by kind), how shards' statistics
//! merge, and the report made from them: a JSON document and a human table.
//!
//! The JSON carries the HDR histograms themselves (hdrhistogram's V2 serialization, base64), so
//! reports from worker processes merge *exactly* ([`Stats::from_report`] then [`Stats::merge`]:
//! percentiles of the sum, not sums of percentiles) and plots can draw the whole percentile
//! spectrum from a saved report.

use crate::sched::Sample;
use base64::Engine as _;
use hdrhistogram::serialization::{Deserializer, Serializer as _, V2Serializer};
use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};
use std::borrow::Cow;
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
    /// Errors by kind (connect, timeout, read, write, closed, parse_*). Kinds are static strings
    /// on the hot path; merged worker reports bring owned ones.
    pub errors: BTreeMap<Cow<'static, str>, u64>,
    /// Successful connects (including reconnects after errors).
    pub connects: u64,
    /// Response bytes read.
    pub bytes: u64,
    /// Per template of a mix (empty when there is only one).
    pub templates: Vec<TemplateStats>,
}

/// One mix template's share of the statistics.
#[derive(Debug, Clone)]
pub struct TemplateStats {
    pub responses: u64,
    pub status: [u64; 6],
    /// As [`Stats::latency`].
    pub latency: Histogram<u64>,
}

fn new_histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, MAX_LATENCY_NS, 3).expect("valid histogram bounds")
}

fn status_class(status: u16) -> usize {
    let class = (status / 100) as usize;
    if (1..=5).contains(&class) {
        class
    } else {
        0
    }
}

impl Default for Stats {
    fn default() -> Self {
        Self {
            latency: new_histogram(),
            uncorrected: new_histogram(),
            responses: 0,
            status: [0; 6],
            errors: BTreeMap::new(),
            connects: 0,
            bytes: 0,
            templates: Vec::new(),
        }
    }
}

impl TemplateStats {
    fn new() -> Self {
        Self { responses: 0, status: [0; 6], latency: new_histogram() }
    }
}

impl Stats {
    /// Statistics for a mix of `templates` requests (per-template breakdown when more than one).
    pub fn for_templates(templates: usize) -> Self {
        let n = if templates > 1 { templates } else { 0 };
        Self { templates: (0..n).map(|_| TemplateStats::new()).collect(), ..Self::default() }
    }

    /// A response to a request made from template `template`.
    pub fn record(&mut self, template: usize, status: u16, s: Sample) {
        let corrected = s.corrected.max(1);
        self.latency.saturating_record(corrected);
        self.uncorrected.saturating_record(s.uncorrected.max(1));
        self.responses += 1;
        let class = status_class(status);
        self.status[class] += 1;
        if let Some(t) = self.templates.get_mut(template) {
            t.latency.saturating_record(corrected);
            t.responses += 1;
            t.status[class] += 1;
        }
    }

    pub fn error(&mut self, kind: &'static str) {
        *self.errors.entry(Cow::Borrowed(kind)).or_default() += 1;
    }

    /// Add `o` in. Histograms add bucket by bucket, so the merged percentiles are exact.
    pub fn merge(&mut self, o: &Self) {
        // Same bounds on both sides, so `add` cannot fail.
        let _ = self.latency.add(&o.latency);
        let _ = self.uncorrected.add(&o.uncorrected);
        self.responses += o.responses;
        for (a, b) in self.status.iter_mut().zip(o.status) {
            *a += b;
        }
        for (k, v) in &o.errors {
            *self.errors.entry(k.clone()).or_default() += v;
        }
        self.connects += o.connects;
        self.bytes += o.bytes;
        if self.templates.len() < o.templates.len() {
            self.templates.resize_with(o.templates.len(), TemplateStats::new);
        }
        for (a, b) in self.templates.iter_mut().zip(&o.templates) {
            let _ = a.latency.add(&b.latency);
            a.responses += b.responses;
            for (x, y) in a.status.iter_mut().zip(b.status) {
                *x += y;
            }
        }
    }

    pub fn error_total(&self) -> u64 {
        self.errors.values().sum()
    }

    /// The statistics a report was made from (a worker's `--json -` output): needs the report's
    /// serialized histograms.
    pub fn from_report(r: &Report) -> Result<Self, String> {
        let h = r.histograms.as_ref().ok_or("report has no serialized histograms")?;
        let mut templates = Vec::new();
        for t in &r.templates {
            let hist = t.histogram.as_deref().ok_or_else(|| format!("template {:?} has no serialized histogram", t.name))?;
            templates.push(TemplateStats { responses: t.responses, status: status_array(&t.status), latency: decode_histogram(hist)? });
        }
        Ok(Self {
            latency: decode_histogram(&h.latency)?,
            uncorrected: decode_histogram(&h.uncorrected)?,
            responses: r.responses,
            status: status_array(&r.status),
            errors: r.errors.iter().map(|(k, v)| (Cow::Owned(k.clone()), *v)).collect(),
            connects: r.connects,
            bytes: r.bytes,
            templates,
        })
    }
}

/// A histogram as base64 of hdrhistogram's V2 serialization (uncompressed, zig-zag LEB128 with
/// zero runs: a few KB however many samples).
pub fn encode_histogram(h: &Histogram<u64>) -> String {
    let mut buf = Vec::new();
    // Writing into a Vec cannot fail; an error here would be a bug in the serializer.
    V2Serializer::new().serialize(h, &mut buf).expect("V2 serialization into a Vec");
    base64::engine::general_purpose::STANDARD.encode(buf)
}

/// The inverse of [`encode_histogram`]; the result has the bounds that were serialized.
pub fn decode_histogram(s: &str) -> Result<Histogram<u64>, String> {
    let bytes = base64::engine::general_purpose::STANDARD.decode(s.trim()).map_err(|e| format!("histogram base64: {e}"))?;
    let h: Histogram<u64> = Deserializer::new().deserialize(&mut bytes.as_slice()).map_err(|e| format!("histogram: {e:?}"))?;
    // Re-home into the standard bounds so it adds to any other histogram of ours.
    let mut out = new_histogram();
    out.add(&h).map_err(|e| format!("histogram bounds: {e:?}"))?;
    Ok(out)
}

fn status_array(m: &BTreeMap<String, u64>) -> [u64; 6] {
    let mut a = [0u64; 6];
    for (k, v) in m {
        let i = k.strip_suffix("xx").and_then(|d| d.parse::<usize>().ok()).filter(|d| (1..=5).contains(d)).unwrap_or(0);
        a[i] += v;
    }
    a
}

/// Latency percentiles in microseconds.
#[derive(Debug, Clone, Serialize, Deserialize)]
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
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Report {
    pub scenario: String,
    pub target: String,
    /// `closed` or `open`.
    pub mode: String,
    /// Open loop: requested rate, requests/s.
    pub rate: Option<u64>,
    pub connections: usize,
    /// Per process.
    pub threads: usize,
    pub pipeline: usize,
    /// Worker processes the run was split over (1: this process only).
    #[serde(default = "one")]
    pub workers: usize,
    /// Connections were opened at this many per second (after the clock started); `None`: all
    /// before it.
    #[serde(default)]
    pub ramp: Option<f64>,
    pub duration_s: f64,
    pub responses: u64,
    pub rps: f64,
    pub bytes: u64,
    pub connects: u64,
    pub status: BTreeMap<String, u64>,
    pub errors: BTreeMap<String, u64>,
    pub errors_total: u64,
    /// Open loop: from the scheduled send time (coordinated-omission corrected).
    pub latency_us: Percentiles,
    /// From the actual send time (same as `latency_us` in closed loop).
    pub latency_uncorrected_us: Percentiles,
    /// `mix`: each template's share (errors are only counted in total: a broken connection may
    /// have had several templates in flight).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub templates: Vec<TemplateReport>,
    /// The HDR histograms behind the percentiles (see [`encode_histogram`]), for merging and
    /// plotting.
    #[serde(default)]
    pub histograms: Option<Histograms>,
}

fn one() -> usize {
    1
}

/// Serialized histograms of a report, ns.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Histograms {
    pub latency: String,
    pub uncorrected: String,
}

/// One template of a mix in the report.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TemplateReport {
    pub name: String,
    pub weight: u32,
    pub responses: u64,
    /// Share of all responses.
    pub share: f64,
    pub status: BTreeMap<String, u64>,
    /// From the scheduled send in open loop, as the total's `latency_us`.
    pub latency_us: Percentiles,
    #[serde(default)]
    pub histogram: Option<String>,
}

/// The parts of a report that describe the run rather than its results.
#[derive(Debug, Clone)]
pub struct RunInfo {
    pub scenario: String,
    pub target: String,
    /// Open loop rate; `None` is closed loop.
    pub rate: Option<u64>,
    pub connections: usize,
    pub threads: usize,
    pub pipeline: usize,
    pub workers: usize,
    pub ramp: Option<f64>,
    /// Template names and weights (one entry for a single request).
    pub templates: Vec<(String, u32)>,
}

impl Report {
    /// The report of a run described by `info` that produced `stats` in `elapsed` seconds.
    pub fn new(info: &RunInfo, stats: &Stats, elapsed: std::time::Duration) -> Self {
        let secs = elapsed.as_secs_f64().max(1e-9);
        let templates = stats
            .templates
            .iter()
            .zip(&info.templates)
            .map(|(t, (name, weight))| TemplateReport {
                name: name.clone(),
                weight: *weight,
                responses: t.responses,
                share: t.responses as f64 / stats.responses.max(1) as f64,
                status: status_map(&t.status),
                latency_us: Percentiles::of(&t.latency),
                histogram: Some(encode_histogram(&t.latency)),
            })
            .collect();
        Self {
            scenario: info.scenario.clone(),
            target: info.target.clone(),
            mode: if info.rate.is_some() { "open" } else { "closed" }.into(),
            rate: info.rate,
            connections: info.connections,
            threads: info.threads,
            pipeline: if info.rate.is_some() { 1 } else { info.pipeline.max(1) },
            workers: info.workers.max(1),
            ramp: info.ramp,
            duration_s: secs,
            responses: stats.responses,
            rps: stats.responses as f64 / secs,
            bytes: stats.bytes,
            connects: stats.connects,
            status: status_map(&stats.status),
            errors: stats.errors.iter().map(|(k, v)| (k.to_string(), *v)).collect(),
            errors_total: stats.error_total(),
            latency_us: Percentiles::of(&stats.latency),
            latency_uncorrected_us: Percentiles::of(&stats.uncorrected),
            templates,
            histograms: Some(Histograms { latency: encode_histogram(&stats.latency), uncorrected: encode_histogram(&stats.uncorrected) }),
        }
    }
}

impl Report {
    /// The human table.
    pub fn table(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(
            s,
            "{} {} — {} loop{}, {} connections{}, {} threads{}, pipeline {}, {:.2} s",
            self.scenario,
            self.target,
            self.mode,
            self.rate.map(|r| format!(" at {r} req/s")).unwrap_or_default(),
            self.connections,
            self.ramp.map(|r| format!(" (opened at {r}/s)")).unwrap_or_default(),
            self.threads,
            if self.workers > 1 { format!(" × {} workers", self.workers) } else { String::new() },
            self.pipeline,
            self.duration_s
        );
        let _ =
            writeln!(s, "{:>14} {:>10} {:>10} {:>10} {:>10} {:>10} {:>10}", "latency µs", "p50", "p90", "p99", "p99.9", "p99.99", "max");
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
        for t in &self.templates {
            let name: String = if t.name.chars().count() > 14 { t.name.chars().take(13).chain(['…']).collect() } else { t.name.clone() };
            row(&name, &t.latency_us);
        }
        for t in &self.templates {
            let status: Vec<String> = t.status.iter().map(|(k, v)| format!("{k}: {v}")).collect();
            let _ = writeln!(
                s,
                "  {}: weight {}, {} responses ({:.1}%), status {{{}}}",
                t.name,
                t.weight,
                t.responses,
                100.0 * t.share,
                status.join(", ")
            );
        }
        let status: Vec<String> = self.status.iter().map(|(k, v)| format!("{k}: {v}")).collect();
        let _ =
            writeln!(s, "responses {}  rps {:.0}  status {{{}}}  connects {}", self.responses, self.rps, status.join(", "), self.connects);
        let errors: Vec<String> = self.errors.iter().map(|(k, v)| format!("{k}: {v}")).collect();
        let _ = writeln!(
            s,
            "errors {}{}",
            self.errors_total,
            if errors.is_empty() { String::new() } else { format!(" {{{}}}", errors.join(", ")) }
        );
        s
    }

    /// One line for scripts.
    pub fn summary(&self) -> String {
        format!(
            "{} {}: {:.0} rps, p50 {:.1} µs, p99 {:.1} µs, p99.9 {:.1} µs, max {:.1} µs, errors {}",
            self.scenario,
            self.mode,
            self.rps,
            self.latency_us.p50,
            self.latency_us.p99,
            self.latency_us.p999,
            self.latency_us.max,
            self.errors_total
        )
    }
}

pub(crate) fn status_map(s: &[u64; 6]) -> BTreeMap<String, u64> {
    s.iter().enumerate().filter(|(_, &n)| n > 0).map(|(i, &n)| (if i == 0 { "other".to_string() } else { format!("{i}xx") }, n)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merge_adds_everything() {
        let mut a = Stats::default();
        let mut b = Stats::default();
        for i in 1..=1000u64 {
            a.record(0, 200, Sample { corrected: i * 1000, uncorrected: i * 1000 });
            b.record(0, 503, Sample { corrected: (i + 1000) * 1000, uncorrected: 1000 });
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

    fn info(templates: usize) -> RunInfo {
        RunInfo {
            scenario: "mix".into(),
            target: "t".into(),
            rate: None,
            connections: 4,
            threads: 1,
            pipeline: 1,
            workers: 1,
            ramp: None,
            templates: (0..templates).map(|i| (format!("t{i}"), i as u32 + 1)).collect(),
        }
    }

    #[test]
    fn histogram_round_trips_exactly() {
        let mut h = new_histogram();
        let mut rng = crate::request::Rng::new(5);
        for _ in 0..10_000 {
            h.record(rng.range(1, 50_000_000)).unwrap();
        }
        h.record(MAX_LATENCY_NS).unwrap();
        let back = decode_histogram(&encode_histogram(&h)).unwrap();
        assert_eq!(back, h);
        assert_eq!(back.len(), 10_001);
        assert!(decode_histogram("not base64!").is_err());
        assert!(decode_histogram("AAAA").is_err());
    }

    /// Worker processes' reports, serialized to JSON and back, merge to exactly what one process
    /// holding all the samples would have reported — percentiles included.
    #[test]
    fn reports_from_workers_merge_exactly() {
        let mut all = Stats::for_templates(2);
        let mut parts = vec![Stats::for_templates(2), Stats::for_templates(2), Stats::for_templates(2)];
        let mut rng = crate::request::Rng::new(11);
        for i in 0..30_000u64 {
            let v = rng.range(1_000, 80_000_000);
            let (t, status) = ((i % 3 == 0) as usize, if i % 7 == 0 { 503 } else { 200 });
            let s = Sample { corrected: v, uncorrected: v / 2 };
            all.record(t, status, s);
            parts[(i % 3) as usize].record(t, status, s);
        }
        parts[1].error("timeout");
        all.error("timeout");
        for p in &mut parts {
            p.connects = 2;
            p.bytes = 100;
        }
        let mut merged = Stats::default();
        for p in &parts {
            let json = serde_json::to_string(&Report::new(&info(2), p, std::time::Duration::from_secs(1))).unwrap();
            let back: Report = serde_json::from_str(&json).unwrap();
            merged.merge(&Stats::from_report(&back).unwrap());
        }
        assert_eq!(merged.latency, all.latency);
        assert_eq!(merged.uncorrected, all.uncorrected);
        assert_eq!((merged.responses, merged.status, merged.connects, merged.bytes), (30_000, all.status, 6, 300));
        assert_eq!(merged.error_total(), 1);
        assert_eq!(merged.templates.len(), 2);
        for (m, a) in merged.templates.iter().zip(&all.templates) {
            assert_eq!((m.responses, m.status, &m.latency), (a.responses, a.status, &a.latency));
        }
        let (rm, ra) = (
            Report::new(&info(2), &merged, std::time::Duration::from_secs(1)),
            Report::new(&info(2), &all, std::time::Duration::from_secs(1)),
        );
        assert_eq!(rm.latency_us.p999, ra.latency_us.p999);
        assert_eq!(rm.templates[1].latency_us.p99, ra.templates[1].latency_us.p99);
        assert_eq!(rm.templates[0].name, "t0");
        assert!((rm.templates[1].share - 1.0 / 3.0).abs() < 1e-3);
    }
}
