//! In-memory tests of the WebSocket codec: simulated clock, every split offset, every
//! close path.

mod close;
mod fuzz;
mod split;

use std::time::{Duration, Instant};

use super::{client_frame, Close, CloseCode, Conn, Limits, Message};

const MASK: [u8; 4] = [0x37, 0xfa, 0x21, 0x3d];

/// A masked client frame.
fn cf(fin: bool, op: u8, payload: &[u8]) -> Vec<u8> {
    client_frame(fin, op, payload, MASK)
}

fn close_frame(code: u16, reason: &[u8]) -> Vec<u8> {
    let mut p = code.to_be_bytes().to_vec();
    p.extend_from_slice(reason);
    cf(true, 8, &p)
}

/// Server frames parsed back from output: (opcode, payload).
fn server_frames(mut out: &[u8]) -> Vec<(u8, Vec<u8>)> {
    let mut v = Vec::new();
    while out.len() >= 2 {
        assert_eq!(out[1] & 0x80, 0, "server frames are unmasked");
        assert_eq!(out[0] & 0xF0, 0x80, "server frames are final, no RSV");
        let (len, hdr) = match out[1] & 0x7F {
            126 => (u16::from_be_bytes([out[2], out[3]]) as usize, 4),
            127 => (u64::from_be_bytes(out[2..10].try_into().unwrap()) as usize, 10),
            n => (n as usize, 2),
        };
        v.push((out[0] & 0x0F, out[hdr..hdr + len].to_vec()));
        out = &out[hdr + len..];
    }
    assert!(out.is_empty(), "trailing partial frame");
    v
}

/// A connection plus a simulated clock, collecting messages and output.
struct Harness {
    conn: Conn,
    now: Instant,
    msgs: Vec<Message>,
    out: Vec<u8>,
}

impl Harness {
    fn new(limits: Limits) -> Self {
        let now = Instant::now();
        Self { conn: Conn::new(limits, now), now, msgs: Vec::new(), out: Vec::new() }
    }

    fn feed(&mut self, data: &[u8]) {
        self.conn.recv(data, self.now);
        self.drain();
    }

    fn drain(&mut self) {
        while let Some(m) = self.conn.poll_message() {
            self.msgs.push(m);
        }
        let t = self.conn.transmit().to_vec();
        self.out.extend_from_slice(&t);
        self.conn.consume(t.len());
    }

    fn advance(&mut self, d: Duration) {
        self.now += d;
        self.conn.handle_timeout(self.now);
        self.drain();
    }

    fn frames(&self) -> Vec<(u8, Vec<u8>)> {
        server_frames(&self.out)
    }

    /// The close code of the single close frame we sent.
    fn sent_close(&self) -> Option<u16> {
        self.frames().iter().find(|(op, _)| *op == 8).map(|(_, p)| u16::from_be_bytes([p[0], p[1]]))
    }

    fn take_close(&mut self) -> Option<Close> {
        self.conn.take_close()
    }
}

fn text(s: &str) -> Message {
    Message::Text(bytes::Bytes::copy_from_slice(s.as_bytes()))
}

#[test]
fn close_code_validity() {
    for ok in [1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 3999, 4000, 4999] {
        assert!(CloseCode(ok).is_valid_on_wire(), "{ok}");
    }
    for bad in [0, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535] {
        assert!(!CloseCode(bad).is_valid_on_wire(), "{bad}");
    }
}
