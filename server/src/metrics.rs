//! Prometheus text exposition (format 0.0.4) of a merged [`Snapshot`].
use crate::stats::Snapshot;
use std::fmt::Write;

/// Latency histogram bucket bounds, in seconds.
const BUCKETS: [f64; 16] =
    [0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0];

fn head(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
}

/// A per-shard series: name, type, help, and how to read it from a shard's counters.
type PerShard = (&'static str, &'static str, &'static str, fn(&crate::stats::ShardCounters) -> u64);

/// Render every metric. `build` is (version, kernel name) for `hypercube_build_info`.
pub(crate) fn render(s: &Snapshot, version: &str, kernel: &str) -> String {
    let mut o = String::with_capacity(8192);
    head(&mut o, "hypercube_build_info", "gauge", "Build and run-time facts (always 1).");
    let _ = writeln!(o, "hypercube_build_info{{version=\"{version}\",engine_kernel=\"{kernel}\"}} 1");
    head(&mut o, "hypercube_shard_info", "gauge", "One series per shard: its CPU and I/O driver (always 1).");
    for c in &s.shards {
        let cpu = c.cpu.map_or_else(|| "none".to_string(), |c| c.to_string());
        let _ = writeln!(o, "hypercube_shard_info{{shard=\"{}\",cpu=\"{cpu}\",driver=\"{}\"}} 1", c.shard, c.driver);
    }
    head(&mut o, "hypercube_draining", "gauge", "1 while the shard is draining for shutdown.");
    for c in &s.shards {
        let _ = writeln!(o, "hypercube_draining{{shard=\"{}\"}} {}", c.shard, u8::from(c.draining));
    }
    head(&mut o, "hypercube_requests_total", "counter", "Requests answered, by route and status.");
    for (route, status, n) in s.requests() {
        let _ = writeln!(o, "hypercube_requests_total{{route=\"{}\",status=\"{status}\"}} {n}", route.label());
    }
    let per_shard: [PerShard; 8] = [
        ("hypercube_requests_in_flight", "gauge", "Requests read but not yet answered.", |c| c.in_flight),
        ("hypercube_connections_open", "gauge", "Open client connections.", |c| c.open),
        ("hypercube_connections_accepted_total", "counter", "Connections accepted.", |c| c.accepted),
        ("hypercube_connections_closed_total", "counter", "Connections closed.", |c| c.closed),
        ("hypercube_connections_rejected_total", "counter", "Connections refused with 503 at the limit.", |c| c.rejected),
        ("hypercube_received_bytes_total", "counter", "Bytes read from clients.", |c| c.bytes_in),
        ("hypercube_sent_bytes_total", "counter", "Bytes written to clients.", |c| c.bytes_out),
        ("hypercube_task_panics_total", "counter", "Connection or request tasks that panicked (caught; the shard kept serving).", |c| {
            c.task_panics
        }),
    ];
    for (name, kind, help, get) in per_shard {
        head(&mut o, name, kind, help);
        for c in &s.shards {
            let _ = writeln!(o, "{name}{{shard=\"{}\"}} {}", c.shard, get(c));
        }
    }
    latency(&mut o, s);
    let [n, before, after] = s.compressed;
    for (name, help, v) in [
        ("hypercube_compressed_responses_total", "Response bodies sent compressed (Accept-Encoding).", n),
        ("hypercube_compress_in_bytes_total", "Bytes of response bodies before compression.", before),
        ("hypercube_compress_out_bytes_total", "Bytes of response bodies after compression.", after),
    ] {
        head(&mut o, name, "counter", help);
        let _ = writeln!(o, "{name} {v}");
    }
    s.ws.render(&mut o);
    o
}

fn latency(o: &mut String, s: &Snapshot) {
    let h = &s.latency;
    let secs = |ns: u64| ns as f64 / 1e9;
    let sum = secs((h.mean() * h.len() as f64) as u64);
    head(o, "hypercube_request_latency_seconds", "summary", "Request latency (parse to response), all shards.");
    for q in [0.5, 0.9, 0.99, 0.999] {
        let v = if h.is_empty() { 0.0 } else { secs(h.value_at_quantile(q)) };
        let _ = writeln!(o, "hypercube_request_latency_seconds{{quantile=\"{q}\"}} {v}");
    }
    let _ = writeln!(o, "hypercube_request_latency_seconds_sum {sum}\nhypercube_request_latency_seconds_count {}", h.len());
    head(o, "hypercube_request_duration_seconds", "histogram", "Request latency buckets, all shards.");
    for b in BUCKETS {
        let n = h.count_between(0, (b * 1e9) as u64);
        let _ = writeln!(o, "hypercube_request_duration_seconds_bucket{{le=\"{b}\"}} {n}");
    }
    let _ = writeln!(o, "hypercube_request_duration_seconds_bucket{{le=\"+Inf\"}} {}", h.len());
    let _ = writeln!(o, "hypercube_request_duration_seconds_sum {sum}\nhypercube_request_duration_seconds_count {}", h.len());
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::{RouteId, Stats};

    #[test]
    fn renders_valid_exposition() {
        let st = Stats::new();
        st.record(RouteId::Healthz, 200, 20_000);
        st.record(RouteId::Healthz, 200, 2_000_000);
        let text = render(&Snapshot::empty().merge(st.snapshot(0, Some(1), "io_uring", false, 0)), "0.1.0", "scalar");
        assert!(text.contains("hypercube_requests_total{route=\"/healthz\",status=\"200\"} 2"));
        assert!(text.contains("hypercube_shard_info{shard=\"0\",cpu=\"1\",driver=\"io_uring\"} 1"));
        assert!(text.contains("hypercube_request_duration_seconds_bucket{le=\"0.0025\"} 2"));
        assert!(text.contains("hypercube_request_duration_seconds_bucket{le=\"0.001\"} 1"));
        assert!(text.contains("hypercube_request_latency_seconds_count 2"));
        for line in text.lines().filter(|l| !l.starts_with('#')) {
            let (_, value) = line.rsplit_once(' ').unwrap();
            assert!(value.parse::<f64>().is_ok(), "bad sample line {line}");
        }
    }
}
