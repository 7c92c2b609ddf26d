//! shard — a share-nothing, shard-per-core runtime on monoio.
//!
//! One OS thread per shard, each with its own monoio runtime (io_uring by default, monoio's
//! epoll driver as a fallback), optionally pinned to a CPU, owning its own state `S` built by a
//! per-shard init closure. Shards talk only by message: [`Sharded::invoke_on`],
//! [`Sharded::broadcast`] and [`Sharded::map_reduce`] push closures into the target shard's
//! bounded mailbox and wake its runtime (no busy polling, no lock on any request path).
//! [`Sharded::stop`] raises each shard's local [`Stop`] signal; what "stopping" means (stop
//! accepting, drain, close) is up to the code running on the shard.
//!
//! It deliberately does NOT know about protocols, HTTP or the saju engine: it hands each shard
//! its listeners ([`listener`]) and its messages, and the server crate does the rest.
//!
//! # Layout
//! - [`builder`]: [`Builder`], [`Placement`]; starts the shard threads.
//! - [`driver`]: [`Driver`], [`DriverKind`] and the monoio runtime built on them.
//! - [`rt`]: the runtime surface for shard code: spawn under the panic guard, sleep, timeout,
//!   yield, a re-armable timer, the read canceller.
//! - [`sharded`]: the [`Sharded`] handle and cross-shard messages.
//! - [`mailbox`]: the bounded, waker-driven per-shard queue behind the messages.
//! - [`stop`]: a shard-local stop signal that many tasks can await.
//! - [`listener`]: SO_REUSEPORT TCP/UDP sockets, one per shard, with SO_INCOMING_CPU.
//! - [`routing`]: pure key → shard functions.
//! - [`cpus`]: the CPUs this process may run on.
//! - [`duration`]: the one duration grammar of flags and files (`250ms`, `10s`, `2m`).
//! - [`guard`]: catch a task's panic so it cannot end the shard thread.
//! - `quic` (feature `quic`): quinn's `Runtime` on monoio, so a quinn endpoint runs on a shard.

pub mod builder;
pub mod cpus;
pub mod driver;
pub mod duration;
pub mod guard;
pub mod listener;
pub mod mailbox;
#[cfg(feature = "quic")]
pub mod quic;
pub mod routing;
pub mod rt;
pub mod sharded;
pub mod stop;

pub use builder::{Builder, Placement, ShardCtx};
pub use driver::{Driver, DriverKind};
pub use sharded::{ShardError, Sharded};
pub use stop::Stop;
