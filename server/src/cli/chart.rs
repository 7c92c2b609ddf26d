//! `hypercube chart` (to be written by the engine work).
use std::process::ExitCode;

#[derive(clap::Args)]
pub(crate) struct ChartArgs {}

pub(crate) fn run(_args: ChartArgs) -> ExitCode {
    eprintln!("hypercube chart: not built yet");
    ExitCode::FAILURE
}
