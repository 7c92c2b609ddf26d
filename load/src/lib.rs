//! load — the `hypercube-load` harness (issue: "load/").
//!
//! Will hold HTTP/1.1, WebSocket and HTTP/3 scenarios in closed and fixed-rate open loop with
//! coordinated-omission correction and HDR latency. Nothing is built yet; until then the benchmark
//! scripts use wrk.
