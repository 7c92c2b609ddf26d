//! load — the `hypercube-load` harness.
//!
//! Drives HTTP/1.1 and WebSocket load at a server from client shards (one pinned thread with its
//! own monoio runtime each, via the `shard` crate), in closed loop (like wrk: each connection
//! keeps `pipeline` requests or messages in flight) or in open loop at a fixed rate with
//! coordinated-omission correction (like wrk2: latency counts from the *scheduled* send time).
//! Latencies go into HDR histograms per shard, merged at the end, and come out as a human table,
//! a one-line summary and a JSON report with errors by kind. Connections can be spread over
//! several source addresses (127.0.0.2, .3, …) with IP_BIND_ADDRESS_NO_PORT to get past one
//! address's ephemeral ports, opened at a ramp rate (`ws`, `ws-hold`), and spread over worker
//! processes the binary spawns itself (`ws`, `ws-hold` `--workers`) to get past one process's
//! fd limit; `ws` workers' histograms travel in their JSON reports and merge exactly.
//!
//! `http` sends one request template; `mix` a weighted blend of several, with a per-template
//! breakdown. Either can be split over worker processes too (`--workers`, histograms merged
//! exactly) and can open its connections at a fixed rate (`--ramp`). `plot` draws PNGs from
//! `http`/`mix` JSON reports.
//!
//! `h3` drives HTTP/3 the same way (quinn + h3 on the shards' monoio runtimes), with the same
//! `--ramp` and `--workers` (its workers' `quic` counters are summed too).
//!
//! See README for what is missing.
//!
//! # Layout
//! - [`http1`]: sans-IO HTTP/1.1 response parser (length of the response at the buffer front).
//! - [`ws_frame`]: sans-IO WebSocket client framing (masked frames out, server frames parsed).
//! - [`request`]: request bytes, body templates with random birth data, the PRNG.
//! - [`scenario`]: TOML scenario files → the same arguments as the command line; `mix` files.
//! - [`sched`]: sans-IO fixed-rate schedule and coordinated-omission correction.
//! - [`report`]: statistics, merging, histogram (de)serialization (V2 + base64, for `http`/`mix`
//!   worker merges and plots), the JSON report, the table.
//! - [`h3`]: the `h3` scenario — quinn client endpoints on `shard::quic`, h3 request streams.
//! - [`hist`]: histograms as JSON buckets (exact merges across `ws` worker processes), percentile
//!   spectrum.
//! - [`plot`]: PNG plots from reports (percentile spectrum; latency vs offered rate).
//! - [`workers`]: each worker's share, spawning worker processes, collecting their progress and
//!   JSON, merging their reports.
//! - [`http`]: the `http`/`mix` scenarios — sockets, shards and clocks live here, in [`ws`] and
//!   in [`ws_msg`].
//! - [`ws`]: the `ws-hold` scenario — N WebSocket connections held idle, server RSS per connection.
//! - [`ws_msg`]: the `ws` scenario — WebSocket messages at a rate or in closed loop, replies
//!   matched (echo or by id) and timed.

pub mod h3;
pub mod hist;
pub mod http;
pub mod http1;
pub mod plot;
pub mod report;
pub mod request;
pub mod scenario;
pub mod sched;
pub mod workers;
pub mod ws;
pub mod ws_frame;
pub mod ws_msg;
