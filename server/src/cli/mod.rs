//! Offline subcommands: `chart` and `lunar`. They read stdin / flags and write stdout.
pub(crate) mod chart;
pub(crate) mod lunar;
