//! Closed-loop WebSocket echo load for `bench/ws-echo`: CONNS connections (one thread each),
//! each keeping WINDOW messages of SIZE bytes in flight for SECS seconds. Prints one line:
//! `messages <n> seconds <s> rate <n/s>`.
//!   ws-echo-load ADDR PATH [CONNS=4] [WINDOW=32] [SIZE=64] [SECS=5]
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

fn arg(i: usize, default: usize) -> usize {
    std::env::args().nth(i).and_then(|a| a.parse().ok()).unwrap_or(default)
}

fn main() {
    let addr = std::env::args().nth(1).expect("ADDR");
    let path = std::env::args().nth(2).unwrap_or_else(|| "/".into());
    let (conns, window, size, secs) = (arg(3, 4), arg(4, 32), arg(5, 64), arg(6, 5));
    let frame = proto::ws::client_frame(true, 2, &vec![b'x'; size], [1, 2, 3, 4]);
    let start = Instant::now();
    let end = start + Duration::from_secs(secs as u64);
    let threads: Vec<_> = (0..conns)
        .map(|_| {
            let (addr, path, frame) = (addr.clone(), path.clone(), frame.clone());
            std::thread::spawn(move || run(&addr, &path, &frame, window, end))
        })
        .collect();
    let total: u64 = threads.into_iter().map(|t| t.join().unwrap_or(0)).sum();
    let s = start.elapsed().as_secs_f64();
    println!("messages {total} seconds {s:.2} rate {:.0}", total as f64 / s);
}

fn run(addr: &str, path: &str, frame: &[u8], window: usize, end: Instant) -> u64 {
    let mut s = TcpStream::connect(addr).expect("connect");
    s.set_nodelay(true).ok();
    let req = format!(
        "GET {path} HTTP/1.1\r\nHost: b\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n"
    );
    s.write_all(req.as_bytes()).expect("handshake");
    let mut buf = vec![0u8; 256 * 1024];
    let mut have = 0;
    loop {
        let n = s.read(&mut buf[have..]).expect("read");
        assert!(n > 0, "closed during the handshake");
        have += n;
        if let Some(p) = buf[..have].windows(4).position(|w| w == b"\r\n\r\n") {
            assert!(buf.starts_with(b"HTTP/1.1 101"), "{}", String::from_utf8_lossy(&buf[..have]));
            buf.copy_within(p + 4..have, 0);
            have -= p + 4;
            break;
        }
    }
    let burst: Vec<u8> = frame.iter().copied().cycle().take(frame.len() * window).collect();
    s.write_all(&burst).expect("write");
    let mut echoed = 0u64;
    let mut out = Vec::new();
    while Instant::now() < end {
        let n = match s.read(&mut buf[have..]) {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        have += n;
        let mut pos = 0;
        while have - pos >= 2 {
            let (len, hdr) = match buf[pos + 1] & 0x7F {
                126 if have - pos >= 4 => (usize::from(u16::from_be_bytes([buf[pos + 2], buf[pos + 3]])), 4),
                127 => panic!("unexpected 64-bit length"),
                126 => break,
                n => (usize::from(n), 2),
            };
            if have - pos < hdr + len {
                break;
            }
            if buf[pos] & 0x0F == 2 {
                echoed += 1;
                out.extend_from_slice(frame);
            }
            pos += hdr + len;
        }
        buf.copy_within(pos..have, 0);
        have -= pos;
        if !out.is_empty() {
            if s.write_all(&out).is_err() {
                break;
            }
            out.clear();
        }
    }
    echoed
}
