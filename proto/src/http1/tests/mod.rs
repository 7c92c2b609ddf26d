//! In-memory tests: no sockets, simulated clock (`base + Duration`).

mod errors;
mod flow;
mod fuzz;
mod split;
mod timeouts;
mod upgrade;

use std::time::{Duration, Instant};

use super::{Conn, Limits, Request, Response};

/// A request reduced to comparable owned data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Seen {
    pub(super) method: Vec<u8>,
    pub(super) target: Vec<u8>,
    pub(super) version: super::Version,
    pub(super) headers: Vec<(Vec<u8>, Vec<u8>)>,
    pub(super) body: Vec<u8>,
}

impl Seen {
    pub(super) fn of(r: &Request) -> Self {
        Self {
            method: r.method.as_bytes().to_vec(),
            target: r.target().to_vec(),
            version: r.version,
            headers: r.headers().map(|(n, v)| (n.to_vec(), v.to_vec())).collect(),
            body: r.body.to_vec(),
        }
    }
}

/// Deterministic handler: echoes method, target and body.
pub(super) fn echo(r: &Request) -> Response {
    let mut body = Vec::new();
    body.extend_from_slice(r.method.as_bytes());
    body.push(b' ');
    body.extend_from_slice(r.target());
    body.push(b' ');
    body.extend_from_slice(&r.body);
    Response::text(200, body)
}

/// A connection plus a simulated clock and everything it produced.
pub(super) struct Harness {
    pub(super) conn: Conn,
    pub(super) base: Instant,
    pub(super) now: Instant,
    pub(super) seen: Vec<Seen>,
    pub(super) out: Vec<u8>,
}

impl Harness {
    pub(super) fn new(limits: Limits) -> Self {
        let base = Instant::now();
        Self { conn: Conn::new(limits, base), base, now: base, seen: Vec::new(), out: Vec::new() }
    }

    pub(super) fn at(&mut self, secs: f64) -> Instant {
        self.now = self.base + Duration::from_secs_f64(secs);
        self.now
    }

    /// Set the clock to `secs` after base and fire timers.
    pub(super) fn tick(&mut self, secs: f64) {
        let now = self.at(secs);
        self.conn.handle_timeout(now);
    }

    /// Feed bytes without answering.
    pub(super) fn feed(&mut self, data: &[u8]) {
        self.conn.recv(data, self.now);
    }

    /// Take every ready request, answer it with `echo`, and drain the output.
    pub(super) fn pump(&mut self) {
        while let Some((id, req)) = self.conn.poll_request() {
            self.seen.push(Seen::of(&req));
            let resp = echo(&req);
            self.conn.respond(id, resp, self.now).expect("respond");
        }
        self.drain();
    }

    pub(super) fn drain(&mut self) {
        let n = self.conn.transmit().len();
        self.out.extend_from_slice(self.conn.transmit());
        self.conn.consume(n);
    }

    pub(super) fn recv_pump(&mut self, data: &[u8]) {
        self.feed(data);
        self.pump();
    }

    pub(super) fn out_str(&self) -> String {
        String::from_utf8_lossy(&self.out).into_owned()
    }
}

/// Run `chunks` through a fresh connection, answering everything with `echo`.
pub(super) fn run(limits: &Limits, chunks: &[&[u8]]) -> (Vec<Seen>, Vec<u8>, bool) {
    let mut h = Harness::new(limits.clone());
    for c in chunks {
        h.recv_pump(c);
    }
    (h.seen, h.out, h.conn.is_closed())
}

/// The exact bytes of an `echo`-style 200 text response.
pub(super) fn text_200(body: &str, conn: Option<&str>) -> String {
    let conn = conn.map(|c| format!("Connection: {c}\r\n")).unwrap_or_default();
    format!("HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\n{conn}Content-Length: {}\r\n\r\n{body}", body.len())
}

/// The exact bytes of an error response.
pub(super) fn error_response(e: super::ProtoError) -> String {
    let body = format!("{{\"error\":\"{}\",\"detail\":\"{}\"}}", e.code(), e.detail());
    let line = match e.status() {
        400 => "400 Bad Request",
        408 => "408 Request Timeout",
        413 => "413 Content Too Large",
        417 => "417 Expectation Failed",
        431 => "431 Request Header Fields Too Large",
        501 => "501 Not Implemented",
        505 => "505 HTTP Version Not Supported",
        s => panic!("unexpected status {s}"),
    };
    format!("HTTP/1.1 {line}\r\nContent-Type: application/json\r\nConnection: close\r\nContent-Length: {}\r\n\r\n{body}", body.len())
}
