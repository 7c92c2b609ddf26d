//! The connection's public types: [`Limits`], [`Message`], [`Close`].

use std::time::Duration;

use bytes::Bytes;

use super::CloseCode;

/// Explicit limits and timers of one connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Largest frame payload accepted. Exceeded → close 1009.
    pub max_frame: usize,
    /// Largest message (sum of its fragments) accepted. Exceeded → close 1009.
    pub max_message: usize,
    /// Silence (no byte received) after which the server sends a ping.
    pub ping_interval: Duration,
    /// Silence after which the peer is considered gone → close 1001.
    pub idle_timeout: Duration,
    /// After our close frame, how long to wait for the peer's before dropping TCP.
    pub close_timeout: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_frame: 1 << 20,
            max_message: 1 << 20,
            ping_interval: Duration::from_secs(30),
            idle_timeout: Duration::from_secs(75),
            close_timeout: Duration::from_secs(5),
        }
    }
}

/// A complete message. `Text` payloads are valid UTF-8 (checked across fragments).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    Text(Bytes),
    Binary(Bytes),
}

/// How the connection ended (reported once by [`Conn::take_close`](super::Conn::take_close), for counting).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Close {
    /// The code in the first close frame (sent or received); 1005 when it had none,
    /// 1006 when TCP ended without one.
    pub code: CloseCode,
    /// True when the peer started the close (or vanished), false when we did.
    pub by_peer: bool,
}
