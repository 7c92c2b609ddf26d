//! load — the `hypercube-load` harness.
//!
//! Drives HTTP/1.1 load at a server from client shards (one pinned thread with its own monoio
//! runtime each, via the `shard` crate), in closed loop (like wrk: each connection keeps
//! `pipeline` requests in flight) or in open loop at a fixed rate with coordinated-omission
//! correction (like wrk2: latency counts from the *scheduled* send time). Latencies go into HDR
//! histograms per shard, merged at the end, and come out as a human table, a one-line summary and
//! a JSON report with errors by kind. Connections can be spread over several source addresses
//! (127.0.0.2, .3, …) with IP_BIND_ADDRESS_NO_PORT to get past one address's ephemeral ports.
//!
//! `http` sends one request template; `mix` a weighted blend of several, with a per-template
//! breakdown. Either can be split over worker processes (`--workers`, histograms merged exactly)
//! and can open its connections at a fixed rate (`--ramp`). `plot` draws PNGs from JSON reports.
//!
//! It does NOT (yet) send WebSocket messages (only `ws-hold`) or drive HTTP/3; see README for
//! what is missing.
//!
//! # Layout
//! - [`http1`]: sans-IO HTTP/1.1 response parser (length of the response at the buffer front).
//! - [`request`]: request bytes, body templates with random birth data, the PRNG.
//! - [`scenario`]: TOML scenario files → the same arguments as the command line; `mix` files.
//! - [`sched`]: sans-IO fixed-rate schedule and coordinated-omission correction.
//! - [`report`]: statistics, merging, histogram (de)serialization, the JSON report, the table.
//! - [`plot`]: PNG plots from reports (percentile spectrum; latency vs offered rate).
//! - [`workers`]: spawning worker processes and collecting their JSON and progress.
//! - [`http`]: the `http` scenario — sockets, shards and clocks live here and in [`ws`].
//! - [`ws`]: the `ws-hold` scenario — N WebSocket connections held idle, server RSS per connection.

pub mod http;
pub mod http1;
pub mod plot;
pub mod report;
pub mod request;
pub mod scenario;
pub mod sched;
pub mod workers;
pub mod ws;
