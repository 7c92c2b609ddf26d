//! The WebSocket connection state machine: [`Conn`].

use std::collections::VecDeque;
use std::mem;
use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;

use super::frame::{apply_mask, parse_header, write_frame, write_frame_parts, Opcode};
use super::message::{parse_close, Partial};
use super::{Close, CloseCode, Limits, Message};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Open,
    /// We sent a close frame and wait for the peer's (data is discarded).
    CloseSent {
        at: Instant,
    },
    /// We failed the connection: input is discarded until EOF or the close timeout.
    Failed {
        at: Instant,
    },
    /// Close handshake done (or abandoned): drop TCP once the output is written.
    Closed,
}

/// Progress of the early UTF-8 check of an incomplete text frame.
#[derive(Debug)]
struct EarlyUtf8 {
    /// Payload bytes of the frame already checked.
    checked: usize,
    /// An incomplete code point at the end of what was checked (or of the message so far).
    carry: Vec<u8>,
}

/// Server side of one WebSocket connection. Sans-IO: see the [module docs](super).
#[derive(Debug)]
pub struct Conn {
    /// Shared by every connection of an endpoint (8 bytes here instead of 64).
    limits: Arc<Limits>,
    /// Unparsed bytes of an incomplete frame; unallocated when there is none.
    input: Vec<u8>,
    /// Rarely present: boxed so an idle connection does not carry it.
    partial: Option<Box<Partial>>,
    /// UTF-8 checked so far of the incomplete text frame at the start of `input` (fail fast
    /// inside a frame); boxed, present only while such a frame is arriving.
    early: Option<Box<EarlyUtf8>>,
    ready: VecDeque<Message>,
    out: Vec<u8>,
    out_pos: usize,
    state: State,
    last_rx: Instant,
    ping_out: bool,
    eof: bool,
    /// A protocol error found behind complete messages: the connection fails once the glue
    /// has taken (and answered) those, so their replies go out before the close.
    pending_fail: Option<CloseCode>,
    close: Option<Close>,
    close_taken: bool,
}

impl Conn {
    /// A connection whose handshake completed at `now`. Pass an `Arc` to share the limits.
    pub fn new(limits: impl Into<Arc<Limits>>, now: Instant) -> Self {
        Self {
            limits: limits.into(),
            input: Vec::new(),
            partial: None,
            early: None,
            ready: VecDeque::new(),
            out: Vec::new(),
            out_pos: 0,
            state: State::Open,
            last_rx: now,
            ping_out: false,
            eof: false,
            pending_fail: None,
            close: None,
            close_taken: false,
        }
    }

    /// Bytes read from the socket at `now`. Complete messages become available from
    /// [`poll_message`](Self::poll_message); pings are answered, closes handled.
    pub fn recv(&mut self, data: &[u8], now: Instant) {
        if data.is_empty() || !self.wants_read() || self.pending_fail.is_some() {
            return;
        }
        self.last_rx = now;
        self.ping_out = false;
        if matches!(self.state, State::Failed { .. }) {
            return; // discard: the stream is no longer trusted
        }
        if self.input.is_empty() {
            let used = self.process(data, now);
            if used < data.len() && self.parsing() {
                self.input.extend_from_slice(&data[used..]);
            }
        } else {
            let mut input = mem::take(&mut self.input);
            input.extend_from_slice(data);
            let used = self.process(&input, now);
            if used < input.len() && self.parsing() {
                input.drain(..used);
                self.input = input;
            }
        }
    }

    /// Next complete message, in arrival order.
    pub fn poll_message(&mut self) -> Option<Message> {
        let m = self.ready.pop_front();
        if m.is_none() {
            if let Some(code) = self.pending_fail.take() {
                self.fail(code, self.last_rx);
            }
        }
        if self.ready.is_empty() && self.ready.capacity() > 0 {
            self.ready = VecDeque::new();
        }
        m
    }

    /// Queue a message (ignored unless the connection is open).
    pub fn send(&mut self, msg: &Message) {
        let (op, p) = match msg {
            Message::Text(b) => (Opcode::Text, b),
            Message::Binary(b) => (Opcode::Binary, b),
        };
        self.send_raw(op, p);
    }

    /// Queue a text message (ignored unless the connection is open).
    pub fn send_text(&mut self, text: &str) {
        self.send_raw(Opcode::Text, text.as_bytes());
    }

    fn send_raw(&mut self, op: Opcode, payload: &[u8]) {
        if self.state == State::Open {
            self.compact_out();
            write_frame(&mut self.out, op, payload);
        }
    }

    /// Start the closing handshake with `code` (reason ≤ 123 bytes, cut at a char
    /// boundary). A no-op unless open.
    pub fn close(&mut self, code: CloseCode, reason: &str, now: Instant) {
        if self.state == State::Open {
            self.write_close(code, reason);
            self.note_close(code, false);
            self.state = State::CloseSent { at: now };
        }
    }

    /// Bytes to write to the socket (possibly empty).
    pub fn transmit(&self) -> &[u8] {
        &self.out[self.out_pos..]
    }

    /// `n` bytes of [`transmit`](Self::transmit) were written.
    pub fn consume(&mut self, n: usize) {
        self.out_pos = (self.out_pos + n).min(self.out.len());
        if self.out_pos == self.out.len() {
            // Idle connections hold no output buffer.
            self.out = Vec::new();
            self.out_pos = 0;
        }
    }

    /// When [`handle_timeout`](Self::handle_timeout) must be called next, if ever.
    pub fn deadline(&self) -> Option<Instant> {
        match self.state {
            State::Open if self.ping_out => self.last_rx.checked_add(self.limits.idle_timeout),
            State::Open => self.last_rx.checked_add(self.limits.ping_interval.min(self.limits.idle_timeout)),
            State::CloseSent { at } | State::Failed { at } => at.checked_add(self.limits.close_timeout),
            State::Closed => None,
        }
    }

    /// The clock reached `now`: ping a silent peer, close an idle one, or give up
    /// waiting for a close. A no-op before the deadline.
    pub fn handle_timeout(&mut self, now: Instant) {
        match self.deadline() {
            Some(d) if now >= d => {}
            _ => return,
        }
        match self.state {
            State::Open if self.last_rx.checked_add(self.limits.idle_timeout).is_some_and(|d| now >= d) => {
                self.close(CloseCode::GOING_AWAY, "idle timeout", now);
            }
            State::Open => {
                self.compact_out();
                write_frame(&mut self.out, Opcode::Ping, b"");
                self.ping_out = true;
            }
            // The peer did not answer in time; it may not be reading either, so whatever
            // is still unsent is dropped (this also bounds a stalled writer).
            State::CloseSent { .. } | State::Failed { .. } => self.abort(),
            State::Closed => {}
        }
    }

    /// The read side hit EOF at `now`.
    pub fn peer_closed(&mut self, _now: Instant) {
        self.eof = true;
        self.note_close(CloseCode::ABNORMAL, true);
        self.state = State::Closed;
        self.input = Vec::new();
        self.partial = None;
        self.early = None;
    }

    /// The transport failed (or gave up): drop all output and close now.
    pub fn abort(&mut self) {
        self.note_close(CloseCode::ABNORMAL, true);
        self.state = State::Closed;
        self.eof = true;
        self.input = Vec::new();
        self.partial = None;
        self.early = None;
        self.out = Vec::new();
        self.out_pos = 0;
    }

    /// Should the glue read from the socket?
    pub fn wants_read(&self) -> bool {
        !self.eof && self.state != State::Closed && self.pending_fail.is_none()
    }

    /// Our close frame is out after a protocol failure: the glue should half-close
    /// (shut down writing) and keep reading until EOF or the deadline.
    pub fn wants_shutdown_write(&self) -> bool {
        matches!(self.state, State::Failed { .. }) && self.transmit().is_empty()
    }

    /// Everything is written and the TCP connection should be closed now.
    pub fn is_closed(&self) -> bool {
        self.state == State::Closed && self.transmit().is_empty()
    }

    /// Open and nothing buffered either way (no partial frame or message, no output).
    pub fn is_idle(&self) -> bool {
        self.state == State::Open && self.input.is_empty() && self.partial.is_none() && self.ready.is_empty() && self.transmit().is_empty()
    }

    /// Still open (no close frame sent or received).
    pub fn is_open(&self) -> bool {
        self.state == State::Open
    }

    /// How the connection closed, once, as soon as a close started.
    pub fn take_close(&mut self) -> Option<Close> {
        if self.close_taken {
            return None;
        }
        self.close_taken = self.close.is_some();
        self.close
    }

    // ---- internals ----

    fn parsing(&self) -> bool {
        matches!(self.state, State::Open | State::CloseSent { .. }) && self.pending_fail.is_none()
    }

    fn note_close(&mut self, code: CloseCode, by_peer: bool) {
        self.close.get_or_insert(Close { code, by_peer });
    }

    fn compact_out(&mut self) {
        if self.out_pos > 0 {
            self.out.drain(..self.out_pos);
            self.out_pos = 0;
        }
    }

    fn write_close(&mut self, code: CloseCode, reason: &str) {
        let mut end = reason.len().min(123);
        while !reason.is_char_boundary(end) {
            end -= 1;
        }
        self.compact_out();
        let c = code.0.to_be_bytes();
        write_frame_parts(&mut self.out, Opcode::Close, &[&c, &reason.as_bytes()[..end]]);
    }

    /// Fail the connection (RFC 6455 §7.1.7): send a close with `code`, read no more.
    fn fail(&mut self, code: CloseCode, now: Instant) {
        if self.state == State::Open {
            self.write_close(code, "");
            self.note_close(code, false);
        }
        self.state = State::Failed { at: now };
        self.input = Vec::new();
        self.partial = None;
        self.early = None;
    }

    /// Fail now, or once the messages already complete have been taken.
    fn fail_after_ready(&mut self, code: CloseCode, now: Instant) {
        if self.ready.is_empty() || self.state != State::Open {
            self.fail(code, now);
        } else {
            self.pending_fail = Some(code);
            self.input = Vec::new();
            self.partial = None;
            self.early = None;
        }
    }

    /// Handle every complete frame at the start of `buf`; returns the bytes used.
    fn process(&mut self, buf: &[u8], now: Instant) -> usize {
        let mut pos = 0;
        while self.parsing() {
            let rest = &buf[pos..];
            let h = match parse_header(rest, self.limits.max_frame as u64) {
                Ok(Some(h)) => h,
                Ok(None) => break,
                Err(code) => {
                    self.fail_after_ready(code, now);
                    return buf.len();
                }
            };
            // `len <= max_frame`, a usize.
            let len = h.len as usize;
            if rest.len() - h.size < len {
                if let Err(code) = self.check_early(h.opcode, &rest[h.size..], h.mask) {
                    self.fail_after_ready(code, now);
                    return buf.len();
                }
                break;
            }
            let payload = &rest[h.size..h.size + len];
            pos += h.size + len;
            self.early = None;
            if let Err(code) = self.frame(h.fin, h.opcode, payload, h.mask) {
                self.fail_after_ready(code, now);
                return buf.len();
            }
        }
        pos
    }

    /// Validate the UTF-8 of the part of an incomplete text frame that has arrived, from where
    /// the last call stopped, so invalid text fails before the rest of the frame comes.
    fn check_early(&mut self, op: Opcode, avail: &[u8], mask: [u8; 4]) -> Result<(), CloseCode> {
        let carry_in = match (op, &self.partial) {
            (Opcode::Text, None) => &[][..],
            (Opcode::Continuation, Some(p)) if p.text => &p.data[p.valid_to..],
            _ => return Ok(()),
        };
        let early = self.early.get_or_insert_with(|| Box::new(EarlyUtf8 { checked: 0, carry: carry_in.to_vec() }));
        if avail.len() <= early.checked {
            return Ok(());
        }
        let mut bytes = mem::take(&mut early.carry);
        let start = bytes.len();
        bytes.extend_from_slice(&avail[early.checked..]);
        apply_mask(&mut bytes[start..], mask, early.checked);
        early.checked = avail.len();
        match std::str::from_utf8(&bytes) {
            Ok(_) => {}
            Err(e) if e.error_len().is_none() => early.carry = bytes[e.valid_up_to()..].to_vec(),
            Err(_) => return Err(CloseCode::INVALID_DATA),
        }
        Ok(())
    }

    fn frame(&mut self, fin: bool, op: Opcode, payload: &[u8], mask: [u8; 4]) -> Result<(), CloseCode> {
        let unmask = |dst: &mut Vec<u8>| {
            let start = dst.len();
            dst.extend_from_slice(payload);
            apply_mask(&mut dst[start..], mask, 0);
        };
        match op {
            Opcode::Text | Opcode::Binary => {
                if self.partial.is_some() {
                    return Err(CloseCode::PROTOCOL); // a new message inside a fragmented one
                }
                if payload.len() > self.limits.max_message {
                    return Err(CloseCode::TOO_BIG);
                }
                let mut p = Partial { text: op == Opcode::Text, data: Vec::with_capacity(payload.len()), valid_to: 0 };
                unmask(&mut p.data);
                p.check_utf8(fin)?;
                if fin {
                    self.deliver(p);
                } else {
                    self.partial = Some(Box::new(p));
                }
            }
            Opcode::Continuation => {
                let Some(p) = self.partial.as_mut() else {
                    return Err(CloseCode::PROTOCOL); // nothing to continue
                };
                if p.data.len() + payload.len() > self.limits.max_message {
                    return Err(CloseCode::TOO_BIG);
                }
                unmask(&mut p.data);
                p.check_utf8(fin)?;
                if fin {
                    if let Some(p) = self.partial.take() {
                        self.deliver(*p);
                    }
                }
            }
            Opcode::Ping => {
                if self.state == State::Open {
                    let mut data = Vec::with_capacity(payload.len());
                    unmask(&mut data);
                    self.compact_out();
                    write_frame(&mut self.out, Opcode::Pong, &data);
                }
            }
            Opcode::Pong => {}
            Opcode::Close => {
                let mut data = Vec::with_capacity(payload.len());
                unmask(&mut data);
                let code = parse_close(&data)?;
                if self.state == State::Open {
                    // Echo the code (none if none was given).
                    self.compact_out();
                    let echo = code.map(|c| c.0.to_be_bytes());
                    write_frame(&mut self.out, Opcode::Close, echo.as_ref().map_or(&[][..], |c| &c[..]));
                    self.note_close(code.unwrap_or(CloseCode::NO_STATUS), true);
                }
                self.state = State::Closed;
                self.input = Vec::new();
                self.partial = None;
            }
        }
        Ok(())
    }

    fn deliver(&mut self, p: Partial) {
        if self.state != State::Open {
            return; // data after our close frame is discarded
        }
        let data = Bytes::from(p.data);
        self.ready.push_back(if p.text { Message::Text(data) } else { Message::Binary(data) });
    }
}
