//! bench — micro-benchmarks (criterion) and side-by-side comparison scripts.
//!
//! The comparison scripts live in `bench/` as executables (for example `bench/http-vs-nginx`); the
//! criterion benches will live in `bench/benches/`. This library holds nothing yet.
