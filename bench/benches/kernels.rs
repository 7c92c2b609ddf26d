//! Batch-kernel benchmarks: pillar sets per second per core for every kernel this CPU runs,
//! the ratio to the scalar kernel measured in the same run, the bytes per second the kernel
//! streams next to this machine's memory bandwidth (a simple streaming read/copy measured here),
//! and the 택일 search's scan rate.
//!
//! `cargo bench -p bench --bench kernels` (criterion groups), then a summary table on stderr
//! from a separate timing pass (41 short passes per kernel, interleaved so drift hits all
//! alike; median and best). `cargo bench -p bench --bench kernels -- none` skips criterion's
//! groups and prints the summary only. Pin it for steadier figures: `taskset -c 1 cargo bench -p bench --bench kernels`.
use criterion::{black_box, criterion_group, BenchmarkId, Criterion, Throughput};
use engine::arch::{Inputs, Kernel};
use engine::batch::PillarBatch;
use engine::search::{search, Clock, Pattern, PillarPattern, Scan};
use engine::ZiConvention;
use std::time::Instant;

/// Bytes a kernel reads and writes per item: 8 (i64 instant) + 4 (i32 shift) + 5 × 1 (indices).
const BYTES_PER_ITEM: usize = 17;

fn items(n: usize) -> (Vec<i64>, Vec<i32>) {
    let mut s: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = move || {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        s
    };
    let lo: i64 = -2_208_988_800; // 1900-01-01
    let span: u64 = 6_342_969_600; // to 2100-12-31
    (0..n)
        .map(|_| {
            let t = lo + i64::try_from(next() % span).unwrap_or(0);
            let off = (i32::try_from(next() % 2161).unwrap_or(0) - 1080) * 60_000;
            (t, off)
        })
        .unzip()
}

fn run(k: Kernel, u: &[i64], s: &[i32], out: &mut PillarBatch) {
    k.pillars(&Inputs { utc_s: u, shift_ms: s }, &mut out.outputs());
}

fn kernels(c: &mut Criterion) {
    for n in [4096usize, 1 << 22] {
        let (u, s) = items(n);
        let mut out = PillarBatch::zeroed(n);
        let mut g = c.benchmark_group(format!("pillars_{n}"));
        g.throughput(Throughput::Elements(n as u64));
        if n > 4096 {
            g.sample_size(10);
        }
        for k in Kernel::available() {
            g.bench_with_input(BenchmarkId::from_parameter(k.name()), &k, |b, &k| {
                b.iter(|| run(k, black_box(&u), black_box(&s), &mut out));
            });
        }
        g.finish();
    }
}

fn day_pattern() -> Pattern {
    Pattern {
        day: PillarPattern { ganzhi: Some(0), ..Default::default() },
        hour: PillarPattern { branch: Some(6), ..Default::default() },
        ..Default::default()
    }
}

fn search_bench(c: &mut Criterion) {
    // One year at one-minute steps, UTC+9: 525,600 instants.
    let scan = Scan { start_utc_s: 1_767_193_200, step_s: 60, points: 525_600, clock: Clock::Offset(32_400), zi: ZiConvention::Split };
    let mut g = c.benchmark_group("search_1y_1min");
    g.throughput(Throughput::Elements(scan.points));
    g.sample_size(10);
    for k in Kernel::available() {
        g.bench_with_input(BenchmarkId::from_parameter(k.name()), &k, |b, &k| {
            b.iter(|| search(k, black_box(&scan), &day_pattern(), 0, usize::MAX).map(|p| p.runs.len()));
        });
    }
    g.finish();
}

/// Median seconds of `passes` runs of `f`.
fn median(passes: usize, mut f: impl FnMut()) -> f64 {
    let mut v: Vec<f64> = (0..passes)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed().as_secs_f64()
        })
        .collect();
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// Streaming memory bandwidth on one core: read (sum) and copy of 256 MiB buffers.
fn memory_bandwidth() -> (f64, f64) {
    let n = 32 << 20; // u64 words = 256 MiB
    let src: Vec<u64> = (0..n as u64).collect();
    let mut dst = vec![0u64; n];
    let read = median(7, || {
        let mut acc = [0u64; 4];
        for c in src.chunks_exact(4) {
            for i in 0..4 {
                acc[i] = acc[i].wrapping_add(c[i]);
            }
        }
        black_box(acc);
    });
    let copy = median(7, || {
        dst.copy_from_slice(black_box(&src));
        black_box(&dst);
    });
    let bytes = (n * 8) as f64;
    (bytes / read / 1e9, 2.0 * bytes / copy / 1e9)
}

fn summary() {
    let ks = Kernel::available();
    eprintln!("\nbatch kernels (a pillar set = year, month, day, hour and day23 indices of one instant):");
    let (read_gbs, copy_gbs) = memory_bandwidth();
    eprintln!("memory bandwidth, one core: read {read_gbs:.1} GB/s, copy (read+write) {copy_gbs:.1} GB/s");
    for n in [4096usize, 1 << 16, 1 << 22] {
        let (u, s) = items(n);
        let mut out = PillarBatch::zeroed(n);
        // Short passes (2^18 items, ~1-6 ms), 41 of them, kernels interleaved: the median says
        // what a busy shared box gives, the best pass what the core can do undisturbed.
        let reps = ((1 << 18) / n).max(1);
        let mut secs = vec![Vec::new(); ks.len()];
        for _ in 0..41 {
            for (i, &k) in ks.iter().enumerate() {
                secs[i].push(median(1, || {
                    for _ in 0..reps {
                        run(k, black_box(&u), black_box(&s), &mut out);
                    }
                }));
            }
        }
        let (med, best): (Vec<f64>, Vec<f64>) = secs
            .into_iter()
            .map(|mut v| {
                v.sort_by(f64::total_cmp);
                (v[v.len() / 2], v[0])
            })
            .unzip();
        for (i, k) in ks.iter().enumerate() {
            let rate = (n * reps) as f64 / med[i];
            eprintln!(
                "  n={n:>8} {:>7}: median {:>6.1} M sets/s {:>5.2}× scalar {:>5.2} GB/s | best {:>6.1} M sets/s {:>5.2}× scalar",
                k.name(),
                rate / 1e6,
                med[0] / med[i],
                rate * BYTES_PER_ITEM as f64 / 1e9,
                (n * reps) as f64 / best[i] / 1e6,
                best[0] / best[i],
            );
        }
    }
    single_vs_batched();
    let scan = Scan { start_utc_s: 1_767_193_200, step_s: 60, points: 5_256_000, clock: Clock::Offset(32_400), zi: ZiConvention::Split };
    for k in &ks {
        let t = median(5, || {
            black_box(search(*k, &scan, &day_pattern(), 0, usize::MAX).map(|p| p.runs.len()).ok());
        });
        eprintln!("  search 10 y at 1 min ({} instants) {:>7}: {:.1} M instants/s", scan.points, k.name(), scan.points as f64 / t / 1e6);
    }
}

/// What batching concurrent single-chart requests could save at most: the per-item cost of
/// `four_pillars` one at a time against `four_pillars_batch` (resolve pre-pass + one kernel
/// call) for the small batches one event-loop turn would see, next to what a `/v1/saju`
/// request costs the engine anyway (`Chart::compute` + JSON).
fn single_vs_batched() {
    use engine::{BirthInput, Calendar, Options, TimeBasis};
    let (u, s) = items(4096);
    let inputs: Vec<BirthInput> = u
        .iter()
        .zip(&s)
        .map(|(&t, &sh)| {
            let l = engine::calendar::DateTime::from_ms(t * 1000 + i64::from(sh));
            BirthInput {
                year: l.year.clamp(1900, 2100),
                month: l.month,
                day: l.day,
                hour: l.hour,
                minute: l.minute,
                second: l.second,
                time: TimeBasis::Offset(sh / 60_000),
                longitude: None,
                calendar: Calendar::Solar,
                gender: None,
            }
        })
        .collect();
    let opts = Options::default();
    let per = |secs: f64, n: usize| secs / n as f64 * 1e9;
    let single = median(21, || {
        for i in &inputs {
            black_box(engine::four_pillars(black_box(i), &opts).ok());
        }
    });
    eprintln!("  single-request path, ns per item: four_pillars one at a time {:.1}", per(single, inputs.len()));
    for b in [1usize, 8, 64, 4096] {
        let t = median(21, || {
            for c in inputs.chunks(b) {
                black_box(engine::batch::four_pillars_batch(black_box(c), &opts));
            }
        });
        eprintln!("    four_pillars_batch in batches of {b:>4}: {:.1}", per(t, inputs.len()));
    }
    let compute = median(5, || {
        for i in &inputs[..1024] {
            black_box(engine::Chart::compute(black_box(i), &opts).ok());
        }
    });
    let chart = median(5, || {
        for i in &inputs[..1024] {
            let c = engine::Chart::compute(black_box(i), &opts).ok();
            black_box(serde_json::to_vec(&c).ok());
        }
    });
    eprintln!(
        "    Chart::compute {:.1}; Chart::compute + serde_json (≈ what /v1/saju does per request) {:.1}",
        per(compute, 1024),
        per(chart, 1024)
    );
}

criterion_group!(benches, kernels, search_bench);

fn main() {
    benches();
    criterion::Criterion::default().configure_from_args().final_summary();
    summary();
}
