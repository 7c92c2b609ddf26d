//! proto — sans-IO protocol state machines for hypercube.
//!
//! Protocols here take bytes and `now: Instant` and hand back parsed messages, bytes to
//! send and the next deadline. They never touch a socket, a clock, a runtime or a thread;
//! that lives in the server's runtime glue. This is what lets every test run in memory,
//! split at every byte offset and with a simulated clock.
//!
//! Deliberately NOT here: I/O, TLS, routing/handlers, `Date` header caching, HTTP/2,
//! response streaming (bodies are whole `Bytes`).
//!
//! # Layout
//! - [`http1`]: server side of an HTTP/1.1 connection ([`http1::Conn`]), with protocol upgrade.
//! - [`ws`]: WebSocket handshake, framing and connection ([`ws::Conn`]).

pub mod http1;
pub mod ws;
