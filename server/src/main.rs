//! hypercube — the saju server binary and its subcommands.
//!
//! `hypercube serve` runs the shard-per-core HTTP server; `chart` and `lunar` are offline tools
//! over the same engine.
//!
//! # Layout
//! - `config`: flags + TOML + env → [`config::Config`]; `logging`: tracing set-up.
//! - `serve`: starts the shards, accept loops, signals and drain; `conn`: HTTP/1.1 glue between
//!   a TCP stream and the sans-IO `proto::http1::Conn`.
//! - `router`: the transport-neutral router; `api`: request schemas and handlers.
//! - `state`, `stats`, `metrics`: per-shard state and counters, Prometheus text.
//! - `h3`: HTTP/3 (quinn + h3 on each shard's UDP socket), same router; TLS and `gen-cert`.
//! - `ws`: WebSocket endpoints (`/v1/ws`, `/v1/ws/echo`) on top of the HTTP upgrade.
//! - `cli`: the offline subcommands.
use clap::{Parser, Subcommand};
use std::process::ExitCode;

mod api;
mod cli;
mod config;
mod conn;
mod h3;
mod logging;
mod metrics;
mod router;
mod serve;
mod state;
mod stats;
mod ws;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(name = "hypercube", version = VERSION.as_str(), about = "Saju (four pillars) server and tools")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the HTTP server (one shard per CPU).
    Serve(Box<config::Settings>),
    /// Print one saju chart, or convert a CSV of birth times to pillars.
    Chart(cli::chart::ChartArgs),
    /// Convert between Gregorian and Korean (KASI) lunar dates.
    Lunar(cli::lunar::LunarArgs),
    /// Write a self-signed development certificate (cert.pem, key.pem) for HTTP/3.
    GenCert(h3::tls::GenCertArgs),
    /// Benchmark baseline (feature `h3-baseline`): the same HTTP/3 request handling on one quinn
    /// endpoint + h3 on tokio's current_thread runtime. Takes `serve`'s flags; HTTP/3 is on.
    #[cfg(feature = "h3-baseline")]
    #[command(hide = true)]
    H3Baseline(Box<config::Settings>),
}

/// The engine's batch kernel in use (chosen once: `HYPERCUBE_KERNEL` or the best this CPU runs).
pub(crate) fn kernel_name() -> &'static str {
    engine::arch::active().name()
}

static VERSION: std::sync::LazyLock<String> =
    std::sync::LazyLock::new(|| format!("{} (engine kernel: {})", env!("CARGO_PKG_VERSION"), kernel_name()));

fn main() -> ExitCode {
    // A forced kernel this CPU lacks is an error for every subcommand (tests and benchmarks
    // rely on getting the kernel they asked for).
    if let Err(e) = engine::arch::choose() {
        eprintln!("hypercube: {}: {e}", engine::arch::KERNEL_ENV);
        return ExitCode::from(2);
    }
    match Cli::parse().command {
        Command::Serve(s) => match s.with_file().and_then(config::Settings::resolve) {
            Ok(cfg) => serve::run(cfg),
            Err(e) => {
                eprintln!("hypercube serve: {e}");
                ExitCode::from(2)
            }
        },
        Command::Chart(a) => cli::chart::run(a),
        Command::Lunar(a) => cli::lunar::run(a),
        Command::GenCert(a) => h3::tls::gen_cert(a),
        #[cfg(feature = "h3-baseline")]
        Command::H3Baseline(s) => match s.with_file().and_then(|s| config::Settings { h3: Some(true), ..s }.resolve()) {
            Ok(cfg) => h3::baseline::run(cfg),
            Err(e) => {
                eprintln!("hypercube h3-baseline: {e}");
                ExitCode::from(2)
            }
        },
    }
}
