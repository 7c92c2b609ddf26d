//! Offline subcommands: `chart`, `lunar` and `gen-cert`. They read stdin / flags and write
//! stdout (or files).
pub(crate) mod chart;
pub(crate) mod gen_cert;
pub(crate) mod lunar;
