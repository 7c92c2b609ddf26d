//! hypercube — the saju server binary and its subcommands.
use clap::{Parser, Subcommand};
use std::process::ExitCode;

mod cli;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(name = "hypercube", version, about = "Saju (four pillars) server and tools")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Print one saju chart, or convert a CSV of birth times to pillars.
    Chart(cli::chart::ChartArgs),
    /// Convert between Gregorian and Korean (KASI) lunar dates.
    Lunar(cli::lunar::LunarArgs),
}

fn main() -> ExitCode {
    match Cli::parse().command {
        Command::Chart(a) => cli::chart::run(a),
        Command::Lunar(a) => cli::lunar::run(a),
    }
}
