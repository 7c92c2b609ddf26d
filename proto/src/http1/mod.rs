//! Sans-IO HTTP/1.1 server connection.
//!
//! [`Conn`] never touches a socket or a clock: the glue hands it bytes and `now`, and
//! takes back requests, bytes to send and the next deadline (the shape of quinn-proto's
//! `Connection::handle` / `poll_transmit` / `poll_timeout`).
//!
//! # Driving it
//!
//! ```text
//! let mut conn = Conn::new(limits, now());
//! loop {
//!     if conn.wants_read() { n = read(buf) /* race with sleep_until(conn.deadline()) */ }
//!     match event {
//!         Read(0)     => conn.peer_closed(now()),
//!         Read(n)     => conn.recv(&buf[..n], now()),
//!         DeadlineHit => conn.handle_timeout(now()),
//!     }
//!     while let Some((id, req)) = conn.poll_request() {
//!         let resp = handler(req).header("date", shard.cached_date());
//!         conn.respond(id, resp, now())?;   // may unpause parsing: the loop polls again
//!     }
//!     while !conn.transmit().is_empty() { n = write(conn.transmit()); conn.consume(n); }
//!     if let Some(e) = conn.take_error() { stats.count(e.code()) }
//!     if conn.is_closed() { close(); break }
//!     if shutting_down { conn.start_shutdown() }
//! }
//! ```
//! Handlers that answer later (another task, another shard) call `respond` whenever they
//! finish, in any order; the bytes still go out in request order.
//!
//! # Decisions
//!
//! - **Keep-alive**: default on HTTP/1.1; HTTP/1.0 only with `Connection: keep-alive`
//!   (echoed back). `Connection: close` from the client: no further request is read,
//!   its response carries `Connection: close`, then [`Conn::is_closed`].
//! - **Framing** (RFC 9112 §6.3, strict to prevent smuggling): CL + TE → 400; differing
//!   CL values → 400 (identical repeats are accepted); CL not `1*DIGIT` → 400; CL too
//!   large to represent → 413. TE whose final coding is not `chunked`, `chunked` twice,
//!   or any TE on HTTP/1.0 → 400; `gzip, chunked` (a coding we would have to decode)
//!   → **501**. Chunked: hex sizes with overflow check, extensions ignored (≤ 4 KiB line),
//!   trailers checked and discarded (counted against `max_head`), CRLF required (a
//!   bare LF → 400). HTTP/1.1 without exactly one `Host` → 400. HTTP/2+ → 505.
//! - **Errors**: a bad request gets a JSON body `{"error":<code>,"detail":<detail>}`,
//!   `Connection: close`, and is queued *after* the responses owed to earlier pipelined
//!   requests; then the connection closes. [`Conn::take_error`] reports it once.
//! - **Output**: `Content-Length` always (none for 1xx/204/304; HEAD keeps it and drops
//!   the body). `Date`/`Server` are not written by proto: add them as headers. A handler's
//!   own `Content-Length`/`Transfer-Encoding`/`Connection` headers are ignored. Responses
//!   are `HTTP/1.1` even to 1.0 clients (RFC 9110 §2.5). The body is copied into the one
//!   reused output buffer.
//! - **100-continue**: with an acceptable declared size and no body bytes yet, `HTTP/1.1
//!   100 Continue` is written as soon as every earlier response has been written. Too
//!   large → 413 without reading the body; any other expectation → 417. `Expect` on
//!   HTTP/1.0 is ignored.
//! - **Timeouts** (all through [`Conn::deadline`]/[`Conn::handle_timeout`]):
//!   header timeout runs from the first byte of a head (empty lines count), body timeout
//!   from the end of the head (or, when a `100 Continue` had to wait behind earlier
//!   responses, from the moment it is written; no body timer runs while it waits). Either answers 408 when nothing is in flight; when requests
//!   are in flight it only stops reading: those are answered (the last one with
//!   `Connection: close`) and the connection closes without a 408. Either way the error
//!   is reported. The idle timeout runs while nothing is buffered, in flight or unsent;
//!   it counts from the last `recv`/`respond` (not from the end of the write, since
//!   `consume` takes no clock) and closes silently. While output is unsent or requests
//!   are in flight proto sets no deadline: **write stalls and slow handlers are the glue's
//!   to bound**.
//! - **Backpressure**: at `max_pipelined` requests in flight parsing pauses and
//!   `wants_read()` is false; no timer runs for bytes already buffered. Should the glue
//!   keep calling `recv` anyway, input beyond `max_head + max_body + 64 KiB` is a
//!   [`ProtoError::InputOverflow`] (400).
//! - **Bounded memory**: input ≤ `max_head + max_body + 64 KiB`; output holds only
//!   responses already given (shrunk back after a large one); at most
//!   `max_pipelined + 1` requests are queued.
//! - **Shutdown / EOF**: [`Conn::start_shutdown`] drops buffered unparsed input and any
//!   partial head but finishes a body already being received; [`Conn::peer_closed`]
//!   keeps complete requests already buffered and drops a partial one.
//!
//! # Layout
//! - `conn`: [`Conn`], [`Limits`], [`RequestId`]: the state machine.
//! - `request`: [`Request`], [`Method`], [`Version`], head parsing and framing rules (httparse).
//! - `chunked`: incremental chunked-body decoder.
//! - `response`: [`Response`] and the serializer.
//! - `error`: [`ProtoError`] (peer's fault, has a status) and [`RespondError`] (glue's fault).

mod chunked;
mod conn;
mod error;
mod request;
mod response;

#[cfg(test)]
mod tests;

pub use conn::{Conn, Limits, RequestId};
pub use error::{ProtoError, RespondError};
pub use request::{Method, Request, Version};
pub use response::Response;
