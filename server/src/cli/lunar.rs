//! `hypercube lunar` (to be written by the engine work).
use std::process::ExitCode;

#[derive(clap::Args)]
pub(crate) struct LunarArgs {}

pub(crate) fn run(_args: LunarArgs) -> ExitCode {
    eprintln!("hypercube lunar: not built yet");
    ExitCode::FAILURE
}
