//! Sans-IO WebSocket (RFC 6455), server side.
//!
//! [`handshake::accept`] checks an upgrade request that [`crate::http1::Conn`] parsed and
//! builds its `101`; the HTTP connection then hands over the bytes it read past the request
//! ([`crate::http1::Conn::take_upgraded_input`]), which seed a [`Conn`]. Like `http1`, the
//! [`Conn`] never touches a socket or a clock:
//!
//! ```text
//! let mut ws = ws::Conn::new(limits, now());
//! ws.recv(&leftover, now());
//! loop {
//!     while let Some(msg) = ws.poll_message() { ws.send(&answer(msg)) }
//!     while !ws.transmit().is_empty() { n = write(ws.transmit()); ws.consume(n) }
//!     if ws.wants_shutdown_write() { shutdown(Write) }
//!     if ws.is_closed() { close(); break }
//!     match wait(readable if ws.wants_read(), ws.deadline()) {
//!         Read(0) => ws.peer_closed(now()),
//!         Read(n) => ws.recv(&scratch[..n], now()),
//!         Deadline => ws.handle_timeout(now()),
//!     }
//!     if let Some(c) = ws.take_close() { count(c) }
//! }
//! ```
//!
//! # Decisions
//! - **Frames**: every client frame must be masked; reserved bits must be zero (no extension
//!   is negotiated); unknown opcodes, fragmented or > 125-byte control frames, a
//!   continuation with nothing to continue, a new data frame inside a fragmented message,
//!   and a 64-bit length with its top bit set all fail the connection with **1002**.
//!   Control frames may arrive between fragments.
//! - **Sizes**: a frame over `max_frame` fails with **1009** as soon as its header is
//!   read (its payload is never buffered); a message growing past `max_message` likewise.
//! - **UTF-8**: text is validated incrementally as it arrives (a code point may straddle
//!   fragments and reads): an invalid fragment, or invalid bytes of a frame whose rest has not
//!   arrived yet, fail at once with **1007**, not at the end of the message. Close reasons are
//!   validated too.
//! - **Close**: a received close is answered with the same code (or none) and the TCP
//!   connection closes once that is written (the server closes first, §7.1.1). Received
//!   codes outside 1000–1003, 1007–1014, 3000–4999 fail with 1002; a 1-byte payload with
//!   1002. After *we* close, data is discarded until the peer's close or `close_timeout`.
//!   After a *failure* input is discarded; the glue half-closes and drains until EOF or
//!   `close_timeout`, so our close frame is not lost to a TCP reset.
//! - **Keepalive**: after `ping_interval` of silence we ping; any byte received counts as
//!   life; `idle_timeout` of silence closes with **1001**.
//! - **Idle cost**: no input buffer is held between frames, the output buffer is freed
//!   once written, and a fragmented message in progress is boxed.
//! - **Extensions**: none. permessage-deflate offers are declined (the handshake answers
//!   without `Sec-WebSocket-Extensions`), see the server README for why.
//!
//! # Layout
//! - `handshake`: [`handshake::accept`], [`handshake::accept_key`], origin/subprotocol policy.
//! - `frame`: header parsing, masking, server frame serializer, [`client_frame`] for tests.
//! - `conn`: [`Conn`], the state machine; `types`: [`Limits`], [`Message`], [`Close`].
//! - `message`: fragment assembly with incremental UTF-8 validation; close payload rules.

mod conn;
mod frame;
pub mod handshake;
mod message;
mod types;

#[cfg(test)]
mod tests;

pub use conn::Conn;
pub use frame::client_frame;
pub use types::{Close, Limits, Message};

/// A close status code (RFC 6455 §7.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CloseCode(pub u16);

impl CloseCode {
    pub const NORMAL: Self = Self(1000);
    pub const GOING_AWAY: Self = Self(1001);
    pub const PROTOCOL: Self = Self(1002);
    pub const UNSUPPORTED: Self = Self(1003);
    /// Never sent: "the close frame had no code".
    pub const NO_STATUS: Self = Self(1005);
    /// Never sent: "TCP closed without a close frame".
    pub const ABNORMAL: Self = Self(1006);
    pub const INVALID_DATA: Self = Self(1007);
    pub const POLICY: Self = Self(1008);
    pub const TOO_BIG: Self = Self(1009);
    pub const INTERNAL: Self = Self(1011);
    pub const TRY_AGAIN: Self = Self(1013);

    /// May a peer send this code in a close frame?
    pub fn is_valid_on_wire(self) -> bool {
        matches!(self.0, 1000..=1003 | 1007..=1014 | 3000..=4999)
    }
}
