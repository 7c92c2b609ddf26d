//! A minimal blocking WebSocket client for the end-to-end tests (masking via proto's helper).
#![allow(dead_code, unreachable_pub)]
use serde_json::Value;
use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

pub const KEY: &str = "dGhlIHNhbXBsZSBub25jZQ==";

pub fn upgrade_request(path: &str, extra: &str) -> String {
    format!(
        "GET {path} HTTP/1.1\r\nHost: t\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: {KEY}\r\n{extra}\r\n"
    )
}

pub struct Ws {
    pub s: TcpStream,
    buf: Vec<u8>,
    /// The 101 response head.
    pub head: String,
}

/// Send `raw` (a handshake plus anything after it); read the response head.
/// Returns the status and the stream positioned after the head.
pub fn handshake(addr: SocketAddr, raw: &[u8]) -> (u16, Ws) {
    let mut s = TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s.set_nodelay(true).unwrap();
    s.write_all(raw).unwrap();
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let end = loop {
        if let Some(p) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break p + 4;
        }
        let n = s.read(&mut chunk).expect("read head");
        assert!(n > 0, "EOF before the response head: {:?}", String::from_utf8_lossy(&buf));
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..end]).into_owned();
    let status = head.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    buf.drain(..end);
    (status, Ws { s, buf, head })
}

impl Ws {
    /// Connect and upgrade on `path`; panics unless 101.
    pub fn connect(addr: SocketAddr, path: &str, extra: &str) -> Self {
        let (status, ws) = handshake(addr, upgrade_request(path, extra).as_bytes());
        assert_eq!(status, 101, "{}", ws.head);
        ws
    }

    pub fn header(&self, name: &str) -> Option<String> {
        self.head.lines().find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.trim().eq_ignore_ascii_case(name).then(|| v.trim().to_string())
        })
    }

    pub fn send_frame(&mut self, fin: bool, op: u8, payload: &[u8]) {
        self.s.write_all(&proto::ws::client_frame(fin, op, payload, [1, 2, 3, 4])).unwrap();
    }

    pub fn send_text(&mut self, text: &str) {
        self.send_frame(true, 1, text.as_bytes());
    }

    pub fn send_close(&mut self, code: u16) {
        self.send_frame(true, 8, &code.to_be_bytes());
    }

    /// Next server frame (opcode, payload); None at EOF or reset.
    pub fn recv(&mut self) -> Option<(u8, Vec<u8>)> {
        loop {
            if self.buf.len() >= 2 {
                let (len, hdr) = match self.buf[1] & 0x7F {
                    126 if self.buf.len() >= 4 => (u16::from_be_bytes([self.buf[2], self.buf[3]]) as usize, 4),
                    127 if self.buf.len() >= 10 => (u64::from_be_bytes(self.buf[2..10].try_into().unwrap()) as usize, 10),
                    126 | 127 => (usize::MAX, 0),
                    n => (n as usize, 2),
                };
                if hdr > 0 && self.buf.len() >= hdr + len {
                    let op = self.buf[0] & 0x0F;
                    let payload = self.buf[hdr..hdr + len].to_vec();
                    self.buf.drain(..hdr + len);
                    return Some((op, payload));
                }
            }
            let mut chunk = vec![0u8; 256 * 1024];
            match self.s.read(&mut chunk) {
                Ok(0) => return None,
                Ok(n) => self.buf.extend_from_slice(&chunk[..n]),
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) if e.kind() == ErrorKind::WouldBlock || e.kind() == ErrorKind::TimedOut => {
                    panic!("timed out waiting for a frame")
                }
                Err(_) => return None,
            }
        }
    }

    /// Next data frame as JSON (pings are answered, pongs skipped); panics on close/EOF.
    pub fn recv_json(&mut self) -> Value {
        loop {
            match self.recv() {
                Some((1, p)) => return serde_json::from_slice(&p).expect("JSON text frame"),
                Some((9, p)) => self.send_frame(true, 10, &p),
                Some((10, _)) => {}
                other => panic!("expected a text frame, got {other:?}"),
            }
        }
    }

    /// Send a request and wait for the reply with the same id (pushes before it are skipped).
    pub fn call(&mut self, req: Value) -> Value {
        self.send_text(&req.to_string());
        loop {
            let v = self.recv_json();
            if v.get("id").unwrap_or(&Value::Null) == req.get("id").unwrap_or(&Value::Null) && v["type"] != "event" {
                return v;
            }
        }
    }

    /// Read until the server's close frame; returns its code (None: EOF without one).
    pub fn recv_close(&mut self) -> Option<u16> {
        loop {
            match self.recv() {
                Some((8, p)) if p.len() >= 2 => return Some(u16::from_be_bytes([p[0], p[1]])),
                Some((8, _)) => return Some(1005),
                Some(_) => {}
                None => return None,
            }
        }
    }

    /// After the close frame: the server closes TCP.
    pub fn expect_eof(&mut self) {
        assert!(self.recv().is_none(), "EOF expected");
    }
}
