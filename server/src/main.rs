//! hypercube — the saju server binary and its subcommands. Thin: parse the command line, call
//! `serve::run` or a `cli` command.
//!
//! # Layout (bottom to top; a module imports only those below it)
//! - Leaves: `http` (Req, Resp, ApiError, the content-type parser), `config` (flags + TOML +
//!   env → `Config` and every resolved settings type), `stats` (per-shard counters), `hub` (a
//!   shard's WebSocket connections and topics), `tls` (certificates), `compress`.
//! - `api`: typed, transport-neutral handlers (`/v1/saju`, batch, search, interpret, publish),
//!   the `hypercube.v1` WebSocket protocol, the OpenAPI document.
//! - `services`: process-wide services (inference) handed to every shard; `shard_parts`: what
//!   one shard hosts and its background services; `metrics`: Prometheus text.
//! - `route`: the route table and the one request path every transport calls.
//! - `transport`: HTTP/1.1, WebSocket and HTTP/3 glue, the accept loop (with `shard::rt`, the
//!   only code that names the runtime).
//! - `serve`: the composition root; `logging`; `cli`: the offline subcommands.
use clap::{Parser, Subcommand};
use std::process::ExitCode;

mod api;
mod cli;
mod compress;
mod config;
mod http;
mod hub;
mod logging;
mod metrics;
mod route;
mod serve;
mod services;
mod shard_parts;
mod stats;
mod tls;
mod transport;

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
    GenCert(cli::gen_cert::GenCertArgs),
    /// Benchmark baseline (feature `h3-baseline`): the same HTTP/3 request handling on one quinn
    /// endpoint + h3 on tokio's current_thread runtime. Takes `serve`'s flags; HTTP/3 is on.
    #[cfg(feature = "h3-baseline")]
    #[command(hide = true)]
    H3Baseline(Box<config::Settings>),
}

static VERSION: std::sync::LazyLock<String> =
    std::sync::LazyLock::new(|| format!("{} (engine kernel: {})", env!("CARGO_PKG_VERSION"), engine::arch::active().name()));

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
        Command::GenCert(a) => cli::gen_cert::run(a),
        #[cfg(feature = "h3-baseline")]
        Command::H3Baseline(s) => match s.with_file().and_then(|s| config::Settings { h3: Some(true), ..s }.resolve()) {
            Ok(cfg) => transport::h3::baseline::run(cfg),
            Err(e) => {
                eprintln!("hypercube h3-baseline: {e}");
                ExitCode::from(2)
            }
        },
    }
}
