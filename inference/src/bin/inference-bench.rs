//! Drive the batcher with the real model at fixed offered rates and report throughput and
//! latency per (max_batch, max_wait). Open loop: question i is due at start + i/rate whether or
//! not earlier ones are answered, and its latency counts from that due time (no coordinated
//! omission). Replies are collected by polling every 200 µs, so latencies are ±0.2 ms.
//!
//! On a shared machine wall-clock capacity moves with whatever else runs on the worker's core,
//! so the table also gives the workers' own CPU time per answered question (from
//! /proc/self/task/*/stat of the `infer-*` threads): that is the cost of a setting, free of
//! the neighbours' noise.
//!
//! cargo run --release -p inference --bin inference-bench -- --help
use clap::Parser;
use futures_channel::oneshot;
use hdrhistogram::Histogram;
use inference::batcher::{self, Batcher, Reply};
use inference::model::{Embedder, ModelFiles, OnnxEmbedder};
use inference::runtime::{EpChoice, Runtime};
use std::path::PathBuf;
use std::time::{Duration, Instant};

#[derive(Parser)]
#[command(about = "Batcher throughput and latency against offered rate (real model)")]
struct Args {
    /// ONNX Runtime library.
    #[arg(long, default_value = ".deps/onnxruntime/libonnxruntime.so")]
    ort_lib: PathBuf,
    /// Folder with model.onnx and tokenizer.json.
    #[arg(long, default_value = ".deps/models/minilm")]
    model_dir: PathBuf,
    /// Offered rates, questions per second.
    #[arg(long, value_delimiter = ',', default_value = "25,50,100,200,400")]
    rates: Vec<f64>,
    /// Settings to compare, each max_batch:max_wait_ms.
    #[arg(long, value_delimiter = ',', default_value = "1:0,8:2,32:0,32:2,32:5")]
    configs: Vec<String>,
    /// Seconds per (setting, rate).
    #[arg(long, default_value_t = 4.0)]
    seconds: f64,
    /// Worker threads (sessions).
    #[arg(long, default_value_t = 1)]
    workers: usize,
    /// ONNX Runtime intra-op threads per session.
    #[arg(long, default_value_t = 1)]
    threads: usize,
    /// CPU to pin the workers to (none: unpinned).
    #[arg(long)]
    pin: Option<usize>,
    /// Per-question deadline, ms.
    #[arg(long, default_value_t = 500)]
    deadline_ms: u64,
    /// Queue size (the server's default is 256).
    #[arg(long, default_value_t = 256)]
    queue: usize,
}

const QUESTIONS: [&str; 16] = [
    "How will my career develop over the next ten years?",
    "Is this a good year to change jobs?",
    "Will I have enough money to buy a house?",
    "When will I meet my partner?",
    "How should I look after my health with too much fire?",
    "Will I pass the exam this year?",
    "What does my luck period say about business?",
    "Why do I argue with my boss so often?",
    "올해 직장운은 어떤가요?",
    "재물운이 좋아지는 시기는 언제인가요?",
    "결혼은 언제쯤 할 수 있을까요?",
    "제 사주에 물이 부족하면 건강에 어떤 영향이 있나요?",
    "공부와 시험운이 궁금합니다.",
    "대운이 바뀌면 인간관계도 달라지나요?",
    "사업을 시작해도 될까요?",
    "투자를 해도 괜찮을까요?",
];

fn main() {
    let a = Args::parse();
    let rt = Runtime::load(&a.ort_lib).unwrap_or_else(|e| panic!("{e}"));
    let files = ModelFiles::in_dir(&a.model_dir);
    println!(
        "# inference-bench: {} worker(s) × {} thread(s), pin {:?}, {} s per point, deadline {} ms, queue {}, {} cores",
        a.workers,
        a.threads,
        a.pin,
        a.seconds,
        a.deadline_ms,
        a.queue,
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    println!("| max_batch | max_wait | offered/s | done/s | p50 ms | p99 ms | max ms | mean batch | worker CPU ms/question | rejected | expired |");
    println!("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for c in &a.configs {
        let (mb, mw) = c.split_once(':').expect("config is max_batch:max_wait_ms");
        let cfg = batcher::Config {
            max_batch: mb.parse().expect("max_batch"),
            max_wait: Duration::from_secs_f64(mw.parse::<f64>().expect("max_wait_ms") / 1e3),
            queue: a.queue,
            pin: a.pin.into_iter().collect(),
        };
        for &rate in &a.rates {
            let models: Vec<Box<dyn Embedder>> = (0..a.workers)
                .map(|_| Box::new(OnnxEmbedder::open(&rt, &files, EpChoice::Cpu, a.threads).expect("open model").0) as Box<dyn Embedder>)
                .collect();
            let b = Batcher::start(&cfg, models).expect("start");
            let r = drive(&b, rate, Duration::from_secs_f64(a.seconds), Duration::from_millis(a.deadline_ms));
            let cpu_ms = worker_cpu_ms();
            let st = b.handle().stats();
            b.shutdown();
            let mean_batch = if st.batches == 0 { 0.0 } else { st.items as f64 / st.batches as f64 };
            let q = |p: f64| if r.lat.is_empty() { f64::NAN } else { r.lat.value_at_quantile(p) as f64 / 1e3 };
            println!(
                "| {} | {} ms | {rate:.0} | {:.0} | {:.1} | {:.1} | {:.1} | {mean_batch:.1} | {:.2} | {} | {} |",
                cfg.max_batch,
                mw,
                r.ok as f64 / r.elapsed.as_secs_f64(),
                q(0.5),
                q(0.99),
                q(1.0),
                cpu_ms / r.ok.max(1) as f64,
                r.rejected,
                r.expired
            );
        }
    }
}

/// CPU time (user + system) of the live `infer-*` threads, ms.
fn worker_cpu_ms() -> f64 {
    let tick_ms = 1000.0 / 100.0; // USER_HZ is 100 on Linux
    let Ok(dir) = std::fs::read_dir("/proc/self/task") else { return f64::NAN };
    let mut ticks = 0u64;
    for t in dir.flatten() {
        let comm = std::fs::read_to_string(t.path().join("comm")).unwrap_or_default();
        if !comm.starts_with("infer-") {
            continue;
        }
        let stat = std::fs::read_to_string(t.path().join("stat")).unwrap_or_default();
        // Fields after the parenthesised name: state is field 3; utime, stime are 14, 15.
        let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
        let f: Vec<&str> = rest.split_whitespace().collect();
        ticks += f.get(11).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
        ticks += f.get(12).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
    }
    ticks as f64 * tick_ms
}

struct Run {
    lat: Histogram<u64>,
    ok: u64,
    rejected: u64,
    expired: u64,
    elapsed: Duration,
}

fn drive(b: &Batcher, rate: f64, span: Duration, deadline: Duration) -> Run {
    let h = b.handle();
    let n = (rate * span.as_secs_f64()).round() as usize;
    let mut lat = Histogram::<u64>::new_with_bounds(1, 60_000_000, 3).expect("histogram");
    let (mut ok, mut rejected, mut expired) = (0, 0, 0);
    let mut pending: Vec<(Instant, oneshot::Receiver<Reply>)> = Vec::new();
    let start = Instant::now() + Duration::from_millis(20);
    let mut next = 0;
    while next < n || !pending.is_empty() {
        let now = Instant::now();
        while next < n {
            let due = start + Duration::from_secs_f64(next as f64 / rate);
            if due > now {
                break;
            }
            match h.submit(QUESTIONS[next % QUESTIONS.len()], due + deadline) {
                Ok(rx) => pending.push((due, rx)),
                Err(_) => rejected += 1,
            }
            next += 1;
        }
        pending.retain_mut(|(due, rx)| match rx.try_recv() {
            Ok(None) => true,
            Ok(Some(Ok(_))) => {
                ok += 1;
                let _ = lat.record(due.elapsed().as_micros() as u64);
                false
            }
            Ok(Some(Err(_))) | Err(_) => {
                expired += 1;
                false
            }
        });
        std::thread::sleep(Duration::from_micros(200));
    }
    Run { lat, ok, rejected, expired, elapsed: start.elapsed() }
}
