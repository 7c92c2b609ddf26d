//! HDR histograms in JSON, so worker processes' histograms merge exactly, and the percentile
//! spectrum a latency plot draws.
//!
//! A histogram travels as its recorded buckets, `[[value_ns, count], …]` (each bucket's highest
//! equivalent value), which lands in the same bucket when recorded again into a histogram with
//! the same bounds (the report's: 1 ns … [`MAX_LATENCY_NS`], 3 significant figures). Plain JSON
//! rather than hdrhistogram's V2 base64 format: that needs the crate's `serialization` feature
//! (flate2, nom, base64), and these few hundred pairs are small and readable.

use crate::report::MAX_LATENCY_NS;
use hdrhistogram::Histogram;

/// A histogram with the report's bounds.
pub fn new() -> Histogram<u64> {
    Histogram::new_with_bounds(1, MAX_LATENCY_NS, 3).expect("valid histogram bounds")
}

/// The recorded buckets, `(value, count)`, in increasing value.
pub fn to_pairs(h: &Histogram<u64>) -> Vec<[u64; 2]> {
    h.iter_recorded().map(|v| [v.value_iterated_to(), v.count_at_value()]).collect()
}

/// Add `pairs` (from [`to_pairs`]) to `h`. Values past the bounds are clamped.
pub fn add_pairs(h: &mut Histogram<u64>, pairs: &[[u64; 2]]) {
    for &[v, n] in pairs {
        let _ = h.record_n(v.clamp(1, MAX_LATENCY_NS), n);
    }
}

/// Percentiles a latency plot draws (log-scaled x axis up to 99.999).
pub const SPECTRUM: [f64; 16] = [0.0, 10.0, 25.0, 50.0, 75.0, 90.0, 95.0, 99.0, 99.5, 99.9, 99.95, 99.99, 99.995, 99.999, 99.9999, 100.0];

/// `(percentile, latency µs)` at each of [`SPECTRUM`].
pub fn spectrum_us(h: &Histogram<u64>) -> Vec<(f64, f64)> {
    SPECTRUM.iter().map(|&p| (p, if p >= 100.0 { h.max() } else { h.value_at_percentile(p) } as f64 / 1000.0)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pairs_round_trip_and_merge_exactly() {
        let (mut a, mut b) = (new(), new());
        for i in 1..=10_000u64 {
            a.record(i * 997).unwrap();
            b.record(i * i * 13 + 5).unwrap();
        }
        // Merging in memory and merging through JSON give identical histograms.
        let mut direct = a.clone();
        direct.add(&b).unwrap();
        let json = serde_json::to_string(&(to_pairs(&a), to_pairs(&b))).unwrap();
        let (pa, pb): (Vec<[u64; 2]>, Vec<[u64; 2]>) = serde_json::from_str(&json).unwrap();
        let mut via = new();
        add_pairs(&mut via, &pa);
        add_pairs(&mut via, &pb);
        assert_eq!(via.len(), direct.len());
        for q in [0.0, 0.5, 0.9, 0.99, 0.999, 0.9999, 1.0] {
            assert_eq!(via.value_at_quantile(q), direct.value_at_quantile(q), "q={q}");
        }
        assert_eq!(via.max(), direct.max());
        assert_eq!(to_pairs(&via), to_pairs(&direct));
        let s = spectrum_us(&via);
        assert_eq!(s.len(), SPECTRUM.len());
        assert!(s.windows(2).all(|w| w[0].1 <= w[1].1), "{s:?}");
        assert_eq!(s.last().unwrap().1, via.max() as f64 / 1000.0);
    }
}
