//! Engine micro-benchmarks: µs per four-pillar set and per full chart, and the same inputs
//! through lunar-javascript 1.7.7 (bench/lunar-js, run with node in the same process run) for
//! the ratio. `cargo bench -p bench --bench engine` (needs `npm install` in bench/lunar-js for
//! the baseline; without node the baseline is skipped and said so).
use criterion::{black_box, criterion_group, Criterion};
use engine::{BirthInput, Calendar, Chart, Gender, Options, TimeBasis};
use std::time::Instant;

const N: usize = 2000;

/// Deterministic inputs 1900-2089 at UTC+8 (lunar-javascript's frame), half male.
fn inputs() -> Vec<BirthInput> {
    let mut s: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = move || {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        s
    };
    let lo = engine::calendar::days_from_civil(1900, 1, 1);
    let hi = engine::calendar::days_from_civil(2089, 12, 31);
    (0..N)
        .map(|_| {
            let span = u64::try_from(hi - lo).unwrap_or(1);
            let z = lo + i64::try_from(next() % span).unwrap_or(0);
            let (year, month, day) = engine::calendar::civil_from_days(z);
            let secs = next() % 86_400;
            BirthInput {
                year,
                month,
                day,
                hour: u8::try_from(secs / 3600).unwrap_or(0),
                minute: u8::try_from(secs / 60 % 60).unwrap_or(0),
                second: u8::try_from(secs % 60).unwrap_or(0),
                time: TimeBasis::Offset(480),
                longitude: None,
                calendar: Calendar::Solar,
                gender: Some(if next() % 2 == 0 { Gender::Male } else { Gender::Female }),
            }
        })
        .collect()
}

fn best_us<F: FnMut(&BirthInput)>(inputs: &[BirthInput], mut f: F) -> f64 {
    inputs.iter().for_each(&mut f);
    (0..5)
        .map(|_| {
            let t = Instant::now();
            inputs.iter().for_each(&mut f);
            t.elapsed().as_secs_f64() * 1e6 / inputs.len() as f64
        })
        .fold(f64::INFINITY, f64::min)
}

fn bench(c: &mut Criterion) {
    let inputs = inputs();
    let opts = Options::default();
    let mut i = 0;
    c.bench_function("four_pillars", |b| {
        b.iter(|| {
            i = (i + 1) % N;
            black_box(engine::four_pillars(black_box(&inputs[i]), &opts))
        });
    });
    c.bench_function("full_chart", |b| {
        b.iter(|| {
            i = (i + 1) % N;
            black_box(Chart::compute(black_box(&inputs[i]), &opts))
        });
    });
}

fn baseline() {
    let inputs = inputs();
    let opts = Options::default();
    let ours_p = best_us(&inputs, |x| {
        black_box(engine::four_pillars(x, &opts).ok());
    });
    let ours_c = best_us(&inputs, |x| {
        black_box(Chart::compute(x, &opts).ok());
    });
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/lunar-js");
    let file = std::env::temp_dir().join(format!("hypercube-bench-{}.csv", std::process::id()));
    let lines: String = inputs
        .iter()
        .map(|x| {
            let g = u8::from(x.gender == Some(Gender::Male));
            format!("{:04}-{:02}-{:02}T{:02}:{:02}:{:02},{g}\n", x.year, x.month, x.day, x.hour, x.minute, x.second)
        })
        .collect();
    println!("engine: {ours_p:.3} µs per four-pillar set, {ours_c:.3} µs per full chart ({N} inputs)");
    if std::fs::write(&file, lines).is_err() {
        println!("baseline skipped: cannot write {}", file.display());
        return;
    }
    let out = std::process::Command::new("node").arg(format!("{dir}/bench.js")).arg(&file).output();
    let _ = std::fs::remove_file(&file);
    match out {
        Ok(o) if o.status.success() => {
            let text = String::from_utf8_lossy(&o.stdout);
            let field = |k: &str| -> Option<f64> {
                let rest = &text[text.find(&format!("\"{k}\":"))? + k.len() + 3..];
                rest[..rest.find([',', '}'])?].parse().ok()
            };
            if let (Some(p), Some(c)) = (field("pillars_us"), field("chart_us")) {
                println!("lunar-javascript 1.7.7: {p:.3} µs per four-pillar set, {c:.3} µs per full chart");
                println!("ratio (lunar-javascript / engine): four pillars {:.1}x, full chart {:.1}x", p / ours_p, c / ours_c);
            } else {
                println!("baseline output not understood: {text}");
            }
        }
        Ok(o) => {
            println!("baseline skipped (run `npm install` in {dir}): {}", String::from_utf8_lossy(&o.stderr).lines().next().unwrap_or(""))
        }
        Err(e) => println!("baseline skipped: node not runnable: {e}"),
    }
}

criterion_group!(benches, bench);

fn main() {
    baseline();
    benches();
    Criterion::default().configure_from_args().final_summary();
}
