//! The connection state machine: [`Conn`], [`Limits`], [`RequestId`].

use std::collections::VecDeque;
use std::mem;
use std::time::{Duration, Instant};

use bytes::{Buf, Bytes, BytesMut};

use super::chunked::Decoder;
use super::request::{parse_head, Framing, Head, MAX_HEADERS_CAP};
use super::response::{write_response, ConnHeader, CONTINUE};
use super::{ProtoError, Request, RespondError, Response};

/// Extra input the glue may hand over while `wants_read()` is false before the
/// connection gives up with [`ProtoError::InputOverflow`] (one generous read).
pub(crate) const RECV_SLACK: usize = 64 * 1024;

/// Output capacity kept across responses; a larger buffer is shrunk once drained.
const OUT_KEEP: usize = 64 * 1024;

/// Explicit limits and timeouts of one connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Largest request head (request line + headers + final CRLF), and largest chunked
    /// trailer section. Exceeded → 431.
    pub max_head: usize,
    /// Most header fields per request (clamped to 128). Exceeded → 431.
    pub max_headers: usize,
    /// Largest request body, declared or de-chunked. Exceeded → 413.
    pub max_body: usize,
    /// From the first byte of a request head until the head is complete. → 408.
    pub header_timeout: Duration,
    /// From the end of the head until the body is complete. → 408.
    pub body_timeout: Duration,
    /// Keep-alive: nothing buffered, in flight or unsent, and no byte of a new request
    /// since the last request or response. → silent close.
    pub idle_timeout: Duration,
    /// Requests parsed but not yet answered; at the limit parsing pauses and
    /// `wants_read()` turns false until responses are given (at least 1).
    pub max_pipelined: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_head: 16 * 1024,
            max_headers: 100,
            max_body: 1024 * 1024,
            header_timeout: Duration::from_secs(10),
            body_timeout: Duration::from_secs(30),
            idle_timeout: Duration::from_secs(60),
            max_pipelined: 16,
        }
    }
}

/// Identifies a request on its connection; pass it back to [`Conn::respond`].
/// Ids increase by one per request, in arrival order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RequestId(u64);

impl RequestId {
    /// Position of the request on its connection (0 for the first).
    pub fn index(self) -> u64 {
        self.0
    }
}

/// A request whose response has not been written to the output yet.
#[derive(Debug)]
struct Slot {
    head_request: bool,
    close: bool,
    keep_alive_echo: bool,
    /// A GET carrying `Upgrade`: a `101` answer switches protocols.
    upgrade: bool,
    resp: Option<Response>,
}

#[derive(Debug)]
enum BodyKind {
    Length(usize),
    Chunked(Decoder),
}

/// What the read side is doing.
// One per connection: boxing `Body` would cost an allocation per request with a body.
#[allow(clippy::large_enum_variant)]
#[derive(Debug)]
enum Read {
    /// Waiting for or inside a request head; `started` = when its first byte was seen.
    Head { started: Option<Instant> },
    /// Head parsed, reading its body since `started`.
    Body { head: Head, kind: BodyKind, started: Instant, send_continue: bool },
    /// No more requests will be read: close once the queued responses are written.
    Done,
    /// A `101` was written: the bytes after it belong to another protocol.
    Upgraded,
}

/// Server side of one HTTP/1.1 connection. Sans-IO: see the [module docs](super).
#[derive(Debug)]
pub struct Conn {
    limits: Limits,
    input: BytesMut,
    /// Where to resume looking for the end of the head in `input`.
    scan: usize,
    read: Read,
    /// Responses owed, in request order; the front one has id `next_send`.
    slots: VecDeque<Slot>,
    ready: VecDeque<(RequestId, Request)>,
    next_send: u64,
    next_id: u64,
    out: Vec<u8>,
    out_pos: usize,
    last_activity: Instant,
    /// Latest `now` the glue gave us (for timers started by `start_shutdown`'s flush).
    clock: Instant,
    eof: bool,
    draining: bool,
    /// An upgrade request is in flight: parse nothing after it until it is answered.
    upgrade_wait: bool,
    error: Option<ProtoError>,
}

impl Conn {
    /// A new connection accepted at `now` (the idle timer starts here).
    pub fn new(mut limits: Limits, now: Instant) -> Self {
        limits.max_pipelined = limits.max_pipelined.max(1);
        limits.max_headers = limits.max_headers.min(MAX_HEADERS_CAP);
        limits.max_head = limits.max_head.min(u32::MAX as usize / 2);
        limits.max_body = limits.max_body.min(usize::MAX / 4);
        Self {
            limits,
            input: BytesMut::new(),
            scan: 0,
            read: Read::Head { started: None },
            slots: VecDeque::new(),
            ready: VecDeque::new(),
            next_send: 0,
            next_id: 0,
            out: Vec::new(),
            out_pos: 0,
            last_activity: now,
            clock: now,
            eof: false,
            draining: false,
            upgrade_wait: false,
            error: None,
        }
    }

    /// Bytes read from the socket at `now`. Parses as far as possible; complete
    /// requests become available from [`poll_request`](Self::poll_request).
    /// Data arriving after a close decision is discarded.
    pub fn recv(&mut self, data: &[u8], now: Instant) {
        if data.is_empty() || matches!(self.read, Read::Done) {
            return;
        }
        self.last_activity = now;
        self.clock = now;
        if self.input.capacity() - self.input.len() < data.len() {
            // An empty buffer takes exactly what arrived (usually a whole request, handed out as
            // slices of it); a partial one grows geometrically. Either way nothing stays
            // allocated between requests, which keeps idle keep-alive connections small.
            let extra = if self.input.is_empty() { data.len() } else { data.len().max(self.input.len()).max(4096) };
            self.input.reserve(extra);
        }
        self.input.extend_from_slice(data);
        self.advance(now);
        if self.input.is_empty() && self.input.capacity() > 0 {
            self.input = BytesMut::new();
        }
        if self.input.len() > self.input_cap() {
            // Only reachable when the glue ignores `wants_read()`.
            self.fail(ProtoError::InputOverflow);
            self.flush();
        }
    }

    /// Next complete request, in arrival order.
    pub fn poll_request(&mut self) -> Option<(RequestId, Request)> {
        self.ready.pop_front()
    }

    /// Answer request `id` at `now`. May be called in any order; responses are written
    /// strictly in request order. May make more requests available (parsing resumes
    /// when it was paused by `max_pipelined`), so poll again afterwards.
    ///
    /// Upgrades: nothing after a `GET` carrying `Upgrade` (HTTP/1.1, not `Connection:
    /// close`) is parsed until it is answered. Answered `101`, the response is written with
    /// `Connection: upgrade` and the connection switches protocols: see
    /// [`is_upgraded`](Self::is_upgraded). Any other answer resumes HTTP parsing.
    pub fn respond(&mut self, id: RequestId, resp: Response, now: Instant) -> Result<(), RespondError> {
        let idx = id.0.checked_sub(self.next_send).and_then(|i| usize::try_from(i).ok()).ok_or(RespondError::UnknownRequest)?;
        let slot = self.slots.get_mut(idx).ok_or(RespondError::UnknownRequest)?;
        if slot.resp.is_some() {
            return Err(RespondError::AlreadyAnswered);
        }
        slot.resp = Some(resp);
        self.last_activity = now;
        self.clock = now;
        // Write first: that frees slots, which may unpause parsing.
        self.flush();
        self.advance(now);
        Ok(())
    }

    /// Bytes to write to the socket (possibly empty).
    pub fn transmit(&self) -> &[u8] {
        &self.out[self.out_pos..]
    }

    /// `n` bytes of [`transmit`](Self::transmit) were written.
    pub fn consume(&mut self, n: usize) {
        self.out_pos = (self.out_pos + n).min(self.out.len());
        if self.out_pos == self.out.len() {
            self.out.clear();
            self.out_pos = 0;
            if self.out.capacity() > OUT_KEEP {
                self.out.shrink_to(OUT_KEEP / 4);
            }
        }
    }

    /// When [`handle_timeout`](Self::handle_timeout) must be called next, if ever.
    /// (A timeout too large to represent as an `Instant` means "never".)
    pub fn deadline(&self) -> Option<Instant> {
        match &self.read {
            Read::Done | Read::Upgraded => None,
            // Waiting to send `100 Continue` behind in-flight responses: the client
            // waits for us, so the body timer starts when the 100 goes out.
            Read::Body { send_continue: true, .. } => None,
            Read::Body { started, .. } => started.checked_add(self.limits.body_timeout),
            Read::Head { started: Some(t) } => t.checked_add(self.limits.header_timeout),
            Read::Head { started: None } if self.slots.is_empty() && self.transmit().is_empty() => {
                self.last_activity.checked_add(self.limits.idle_timeout)
            }
            Read::Head { started: None } => None,
        }
    }

    /// The clock reached `now`: fire whatever deadline has passed (a no-op if none).
    pub fn handle_timeout(&mut self, now: Instant) {
        match self.deadline() {
            Some(d) if now >= d => {}
            _ => return,
        }
        self.clock = now;
        match self.read {
            Read::Body { .. } => self.timeout(ProtoError::BodyTimeout),
            Read::Head { started: Some(_) } => self.timeout(ProtoError::HeaderTimeout),
            // Idle keep-alive: close silently.
            Read::Head { started: None } | Read::Done => self.stop_reading(),
            Read::Upgraded => {}
        }
        self.flush();
    }

    /// Should the glue read from the socket? False while paused by `max_pipelined`,
    /// after EOF, and once the connection decided to close.
    pub fn wants_read(&self) -> bool {
        !matches!(self.read, Read::Done | Read::Upgraded) && !self.eof && !self.paused()
    }

    /// The `101` answering an upgrade request has been written (transmit is empty): the
    /// socket now speaks the new protocol, seeded with
    /// [`take_upgraded_input`](Self::take_upgraded_input). Nothing else happens on `self`.
    pub fn is_upgraded(&self) -> bool {
        matches!(self.read, Read::Upgraded) && self.transmit().is_empty()
    }

    /// The bytes read past the upgrade request (the new protocol's first bytes).
    pub fn take_upgraded_input(&mut self) -> BytesMut {
        mem::take(&mut self.input)
    }

    /// All output is flushed and the connection should be closed now.
    pub fn is_closed(&self) -> bool {
        matches!(self.read, Read::Done) && self.slots.is_empty() && self.transmit().is_empty()
    }

    /// Requests parsed whose response has not been written to the output yet
    /// (including ones not yet taken with `poll_request`).
    pub fn in_flight(&self) -> usize {
        self.slots.len()
    }

    /// No partial request buffered, nothing in flight, nothing to send.
    pub fn is_idle(&self) -> bool {
        matches!(self.read, Read::Head { started: None }) && self.input.is_empty() && self.slots.is_empty() && self.transmit().is_empty()
    }

    /// Graceful drain: stop reading new requests (buffered, unparsed ones are dropped),
    /// finish a body already being received, answer everything in flight (the last
    /// response carries `Connection: close`), then close. Idle → closed at once.
    pub fn start_shutdown(&mut self) {
        self.draining = true;
        if matches!(self.read, Read::Head { .. }) {
            self.stop_reading();
        }
        self.flush();
    }

    /// The read side hit EOF at `now`: requests already received are still answered,
    /// a partial one is dropped, then the connection closes.
    pub fn peer_closed(&mut self, now: Instant) {
        self.eof = true;
        self.clock = now;
        self.advance(now);
    }

    /// The protocol error that made this connection close, once (for counting).
    pub fn take_error(&mut self) -> Option<ProtoError> {
        self.error.take()
    }

    // ---- internals ----

    #[cfg(test)]
    pub(crate) fn buffered_input(&self) -> usize {
        self.input.len()
    }

    #[cfg(test)]
    pub(crate) fn input_capacity(&self) -> usize {
        self.input.capacity()
    }

    #[cfg(test)]
    pub(crate) fn queued(&self) -> (usize, usize) {
        (self.slots.len(), self.ready.len())
    }

    #[cfg(test)]
    pub(crate) fn input_limit(&self) -> usize {
        self.input_cap()
    }

    /// No request will be parsed after the ones already queued.
    fn no_more_requests(&self) -> bool {
        match self.read {
            Read::Done | Read::Upgraded => true,
            Read::Head { .. } => self.eof && self.input.is_empty(),
            Read::Body { .. } => false,
        }
    }

    fn paused(&self) -> bool {
        self.slots.len() >= self.limits.max_pipelined || self.upgrade_wait
    }

    fn input_cap(&self) -> usize {
        self.limits.max_head + self.limits.max_body + RECV_SLACK
    }

    fn stop_reading(&mut self) {
        self.read = Read::Done;
        self.input = BytesMut::new();
        self.scan = 0;
    }

    /// Queue the error response after everything already in flight and stop reading.
    fn fail(&mut self, e: ProtoError) {
        self.error.get_or_insert(e);
        self.slots.push_back(Slot {
            head_request: false,
            close: true,
            keep_alive_echo: false,
            upgrade: false,
            resp: Some(Response::json(e.status(), e.json_body())),
        });
        self.next_id += 1; // the error takes a position but is never handed out
        self.stop_reading();
    }

    /// A timeout answers 408 only when nothing is in flight; otherwise the in-flight
    /// responses are finished and the connection closes without a 408.
    fn timeout(&mut self, e: ProtoError) {
        if self.slots.is_empty() {
            self.fail(e);
        } else {
            self.error.get_or_insert(e);
            self.stop_reading();
        }
    }

    fn push_request(&mut self, head: Head, body: Bytes) {
        let id = RequestId(self.next_id);
        self.next_id += 1;
        let upgrade = !head.close
            && head.request.method == super::Method::Get
            && head.request.version == super::Version::Http11
            && head.request.header("upgrade").is_some();
        self.upgrade_wait |= upgrade;
        self.slots.push_back(Slot {
            head_request: head.request.method == super::Method::Head,
            close: head.close,
            keep_alive_echo: head.keep_alive_echo,
            upgrade,
            resp: None,
        });
        let mut req = head.request;
        req.body = body;
        self.ready.push_back((id, req));
        if head.close {
            self.stop_reading();
        } else {
            self.read = Read::Head { started: None };
        }
    }

    /// Parse as much buffered input as allowed, then write whatever became ready.
    fn advance(&mut self, now: Instant) {
        loop {
            match mem::replace(&mut self.read, Read::Done) {
                Read::Done => {
                    self.stop_reading();
                    break;
                }
                Read::Upgraded => {
                    self.read = Read::Upgraded;
                    break;
                }
                Read::Head { mut started } => {
                    self.read = Read::Head { started };
                    if self.paused() {
                        break;
                    }
                    if self.draining {
                        self.stop_reading();
                        break;
                    }
                    if !self.input.is_empty() {
                        started.get_or_insert(now);
                        self.read = Read::Head { started };
                    }
                    self.skip_empty_lines();
                    if self.input.is_empty() {
                        if self.eof {
                            self.stop_reading();
                        }
                        break;
                    }
                    if !self.step_head(now) {
                        break;
                    }
                }
                Read::Body { head, mut kind, started, mut send_continue } => {
                    if !self.input.is_empty() {
                        send_continue = false; // the client did not wait
                    }
                    let done = match &mut kind {
                        BodyKind::Length(n) => (self.input.len() >= *n).then(|| self.input.split_to(*n).freeze()),
                        BodyKind::Chunked(dec) => match dec.decode(&mut self.input, self.limits.max_body, self.limits.max_head) {
                            Ok(true) => Some(dec.take_body()),
                            Ok(false) => None,
                            Err(e) => {
                                self.fail(e);
                                continue;
                            }
                        },
                    };
                    match done {
                        Some(body) => self.push_request(head, body),
                        None if self.eof => self.stop_reading(),
                        None => {
                            self.read = Read::Body { head, kind, started, send_continue };
                            break;
                        }
                    }
                }
            }
        }
        self.flush();
    }

    /// RFC 9112 §2.2: ignore empty lines before a request line.
    fn skip_empty_lines(&mut self) {
        loop {
            if self.input.starts_with(b"\r\n") {
                self.input.advance(2);
            } else if self.input.starts_with(b"\n") {
                self.input.advance(1);
            } else {
                break;
            }
            self.scan = 0;
        }
    }

    /// Try to parse one head from non-empty `input`. Returns true to keep going.
    fn step_head(&mut self, now: Instant) -> bool {
        let first_try = self.scan == 0;
        let found = match find_head_end(&self.input, self.scan) {
            Ok(_) => true,
            Err(resume) => {
                self.scan = resume.max(1);
                false
            }
        };
        // httparse runs when a terminator is in sight, plus once early so that
        // garbage (TLS on a plain port, binary junk) is rejected on the first read.
        if found || first_try {
            match parse_head(&self.input, self.limits.max_headers, self.limits.max_body) {
                Err(e) => {
                    self.fail(e);
                    return true;
                }
                Ok(Some(p)) if p.len > self.limits.max_head => {
                    self.fail(ProtoError::HeadTooLarge);
                    return true;
                }
                Ok(Some(p)) => {
                    let bytes = self.input.split_to(p.len).freeze();
                    self.scan = 0;
                    let head = p.into_head(bytes);
                    match head.framing {
                        Framing::Length(0) => self.push_request(head, Bytes::new()),
                        Framing::Length(n) => {
                            let send_continue = head.expect_continue && self.input.is_empty();
                            // `n <= max_body`, which fits in usize.
                            let kind = BodyKind::Length(usize::try_from(n).unwrap_or(usize::MAX));
                            self.read = Read::Body { head, kind, started: now, send_continue };
                        }
                        Framing::Chunked => {
                            let send_continue = head.expect_continue && self.input.is_empty();
                            let kind = BodyKind::Chunked(Decoder::new());
                            self.read = Read::Body { head, kind, started: now, send_continue };
                        }
                    }
                    return true;
                }
                Ok(None) => {
                    if found {
                        // Cannot happen after skip_empty_lines; never loop on it.
                        self.scan = self.input.len();
                    }
                }
            }
        }
        if self.input.len() > self.limits.max_head {
            self.fail(ProtoError::HeadTooLarge);
            return true;
        }
        if self.eof {
            self.stop_reading();
            return true;
        }
        false
    }

    /// Write every response that is next in order, then a pending `100 Continue`.
    fn flush(&mut self) {
        while self.slots.front().is_some_and(|s| s.resp.is_some()) {
            let Some(slot) = self.slots.pop_front() else {
                break;
            };
            self.next_send += 1;
            let switch = slot.upgrade && slot.resp.as_ref().is_some_and(|r| r.status == 101);
            if slot.upgrade {
                self.upgrade_wait = false;
            }
            let last = self.no_more_requests() && self.slots.is_empty();
            let conn = if switch {
                ConnHeader::Upgrade
            } else if slot.close || last {
                ConnHeader::Close
            } else if slot.keep_alive_echo {
                ConnHeader::KeepAlive
            } else {
                ConnHeader::None
            };
            if let Some(resp) = &slot.resp {
                self.compact_out();
                write_response(&mut self.out, resp, slot.head_request, conn);
            }
            if switch {
                // Nothing was parsed after an upgrade request, so no slot follows it.
                self.read = Read::Upgraded;
                return;
            }
        }
        if self.slots.is_empty() {
            if let Read::Body { send_continue: send @ true, started, .. } = &mut self.read {
                *send = false;
                *started = self.clock;
                self.out.extend_from_slice(CONTINUE);
            }
        }
    }

    fn compact_out(&mut self) {
        if self.out_pos > 0 && self.out_pos >= self.out.len() / 2 {
            self.out.drain(..self.out_pos);
            self.out_pos = 0;
        }
    }
}

/// Look for the blank line ending a head (`\n\n` or `\n\r\n`) from `from`.
/// `Ok(end)`: index just past it. `Err(resume)`: not found; resume there next time.
fn find_head_end(buf: &[u8], from: usize) -> Result<usize, usize> {
    let mut i = from.min(buf.len());
    while let Some(p) = buf[i..].iter().position(|&b| b == b'\n') {
        let nl = i + p;
        match (buf.get(nl + 1), buf.get(nl + 2)) {
            (Some(b'\n'), _) => return Ok(nl + 2),
            (Some(b'\r'), Some(b'\n')) => return Ok(nl + 3),
            (None, _) | (Some(b'\r'), None) => return Err(nl),
            _ => i = nl + 1,
        }
    }
    Err(buf.len())
}
