//! `hypercube-load ws` (and `ws-hold --ramp`) end to end, over loopback sockets.
//!
//! Most tests run against a tiny WebSocket echo server written here with std threads, with its
//! own frame decoder (not the harness's, so a shared bug cannot cancel out). It also sends a
//! ping before every 5th echo and splits every 7th echo in two fragments, so the client's pong
//! and reassembly paths run too. Why not only the real server: `hypercube` is another crate's
//! binary that `cargo test -p load` does not build; the last test does use it, started by
//! `tests/common` as `e2e.rs` does, to check `/v1/ws` chart requests matched by id.
//!
//! Counts and kinds are asserted, never timings (the ramp's lower bound is the schedule's).
mod common;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

/// How the echo server answers.
#[derive(Clone, Copy)]
enum Mode {
    Echo,
    /// Reverse every payload: never the message sent.
    Corrupt,
    /// Answer messages in pairs, the second first (replies overtaking each other).
    Swap,
}

fn echo_server() -> SocketAddr {
    echo_server_counted().0
}

/// The echo server and the most connections it had open at once.
fn echo_server_counted() -> (SocketAddr, Arc<AtomicUsize>) {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap();
    let (live, peak) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let p = peak.clone();
    std::thread::spawn(move || {
        for s in l.incoming().map_while(Result::ok) {
            let (live, peak) = (live.clone(), p.clone());
            std::thread::spawn(move || {
                peak.fetch_max(live.fetch_add(1, Ordering::SeqCst) + 1, Ordering::SeqCst);
                let _ = serve(s);
                live.fetch_sub(1, Ordering::SeqCst);
            });
        }
    });
    (addr, peak)
}

fn server_frame(fin: bool, opcode: u8, payload: &[u8]) -> Vec<u8> {
    let mut v = vec![if fin { 0x80 } else { 0 } | opcode];
    let n = payload.len();
    if n < 126 {
        v.push(n as u8);
    } else if n <= 0xFFFF {
        v.push(126);
        v.extend_from_slice(&(n as u16).to_be_bytes());
    } else {
        v.push(127);
        v.extend_from_slice(&(n as u64).to_be_bytes());
    }
    v.extend_from_slice(payload);
    v
}

fn serve(mut s: TcpStream) -> std::io::Result<()> {
    s.set_nodelay(true)?;
    let mut r = BufReader::new(s.try_clone()?);
    let mut line = String::new();
    r.read_line(&mut line)?;
    let mode = if line.contains("/corrupt") {
        Mode::Corrupt
    } else if line.contains("/swap") {
        Mode::Swap
    } else {
        Mode::Echo
    };
    let mut held: Option<Vec<u8>> = None;
    let mut key_ok = false;
    loop {
        let mut h = String::new();
        r.read_line(&mut h)?;
        if h.to_ascii_lowercase().starts_with("sec-websocket-key: dghlihnhbxbszsbub25jzq==") {
            key_ok = true;
        }
        if h == "\r\n" || h.is_empty() {
            break;
        }
    }
    assert!(key_ok, "the harness sends the RFC 6455 sample key");
    // The RFC 6455 §1.3 accept value for that key.
    s.write_all(b"HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\nconnection: Upgrade\r\nsec-websocket-accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n")?;
    let mut n = 0u64;
    loop {
        let mut h = [0u8; 2];
        r.read_exact(&mut h)?;
        assert_eq!(h[1] & 0x80, 0x80, "client frames must be masked");
        let len = match h[1] & 0x7F {
            126 => {
                let mut b = [0u8; 2];
                r.read_exact(&mut b)?;
                u16::from_be_bytes(b) as usize
            }
            127 => {
                let mut b = [0u8; 8];
                r.read_exact(&mut b)?;
                u64::from_be_bytes(b) as usize
            }
            l => l as usize,
        };
        let mut mask = [0u8; 4];
        r.read_exact(&mut mask)?;
        let mut p = vec![0u8; len];
        r.read_exact(&mut p)?;
        p.iter_mut().enumerate().for_each(|(i, b)| *b ^= mask[i & 3]);
        match h[0] & 0x0F {
            0x1 => {
                n += 1;
                let mut out = Vec::new();
                if n.is_multiple_of(5) {
                    out.extend(server_frame(true, 0x9, b"hi"));
                }
                let replies = match mode {
                    Mode::Echo => vec![p],
                    Mode::Corrupt => {
                        p.reverse();
                        p.push(b'!');
                        vec![p]
                    }
                    Mode::Swap => match held.take() {
                        None => {
                            held = Some(p);
                            vec![]
                        }
                        Some(first) => vec![p, first],
                    },
                };
                for p in replies {
                    if n.is_multiple_of(7) && p.len() > 2 {
                        out.extend(server_frame(false, 0x1, &p[..2]));
                        out.extend(server_frame(true, 0x0, &p[2..]));
                    } else {
                        out.extend(server_frame(true, 0x1, &p));
                    }
                }
                s.write_all(&out)?;
            }
            0x8 => {
                s.write_all(&server_frame(true, 0x8, &p))?;
                return Ok(());
            }
            0xA => assert_eq!(p, b"hi", "a pong echoes the ping's payload"),
            op => panic!("unexpected opcode {op}"),
        }
    }
}

fn load(args: &[&str]) -> serde_json::Value {
    let out = Command::new(env!("CARGO_BIN_EXE_hypercube-load")).args(args).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stdout)))
}

fn hist_count(v: &serde_json::Value) -> u64 {
    v.as_array().unwrap().iter().map(|p| p[1].as_u64().unwrap()).sum()
}

#[test]
fn closed_loop_echo_records_every_reply() {
    let addr = echo_server();
    let v = load(&["ws", &format!("ws://{addr}/echo"), "-c", "8", "-t", "2", "-p", "4", "-d", "1s", "-q", "--json", "-"]);
    let replies = v["responses"].as_u64().unwrap();
    assert!(replies > 100, "{v}");
    assert_eq!(v["errors_total"], 0, "{}", v["errors"]);
    assert_eq!((v["mode"].as_str(), v["expect"].as_str(), v["established"].as_u64()), (Some("closed"), Some("echo"), Some(8)));
    // Each connection keeps 4 in flight: at most 32 are unanswered when time is up.
    let sent = v["sent"].as_u64().unwrap();
    assert!(sent >= replies && sent <= replies + 32, "sent {sent} replies {replies}");
    assert!(v["latency_us"]["p50"].as_f64().unwrap() > 0.0);
    assert_eq!(hist_count(&v["latency_hist_ns"]), replies);
    assert_eq!(hist_count(&v["handshake_hist_ns"]), 8);
    assert_eq!(v["latency_spectrum_us"].as_array().unwrap().len(), 16);
}

#[test]
fn open_loop_over_workers_merges_exactly() {
    let addr = echo_server();
    // A message cap makes the count exact: 300 messages at 600/s over 2 workers × 3 connections.
    let v = load(&[
        "ws",
        &format!("ws://{addr}/echo"),
        "-c",
        "6",
        "-R",
        "600",
        "-n",
        "300",
        "-d",
        "8s",
        "--workers",
        "2",
        "--sources",
        "2",
        "-q",
        "--json",
        "-",
    ]);
    assert_eq!((v["responses"].as_u64(), v["sent"].as_u64(), v["errors_total"].as_u64()), (Some(300), Some(300), Some(0)), "{v}");
    assert_eq!(
        (v["mode"].as_str(), v["rate"].as_u64(), v["workers"].as_u64(), v["established"].as_u64()),
        (Some("open"), Some(600), Some(2), Some(6))
    );
    assert_eq!(hist_count(&v["latency_hist_ns"]), 300);
    assert_eq!(hist_count(&v["latency_uncorrected_hist_ns"]), 300);
    // Corrected latency counts from the scheduled send, so it is never below the uncorrected.
    assert!(v["latency_us"]["max"].as_f64() >= v["latency_uncorrected_us"]["max"].as_f64());
}

#[test]
fn id_matching_and_mismatches_by_kind() {
    let addr = echo_server();
    // The echo of a message carrying "id":N matches by id as well.
    let v = load(&["ws", &format!("ws://{addr}/echo"), "--expect", "id", "-c", "2", "-n", "50", "-d", "5s", "-q", "--json", "-"]);
    assert_eq!((v["responses"].as_u64(), v["errors_total"].as_u64()), (Some(50), Some(0)), "{v}");
    // Replies overtaking each other are matched by id; echo (in order) calls that a mismatch.
    let v =
        load(&["ws", &format!("ws://{addr}/swap"), "--expect", "id", "-c", "2", "-p", "2", "-n", "100", "-d", "5s", "-q", "--json", "-"]);
    assert_eq!((v["responses"].as_u64(), v["errors_total"].as_u64()), (Some(100), Some(0)), "{v}");
    let v = load(&["ws", &format!("ws://{addr}/swap"), "--expect", "echo", "-c", "1", "-p", "2", "-d", "300ms", "-q", "--json", "-"]);
    assert!(v["errors"]["mismatch"].as_u64().unwrap() > 0, "{v}");
    // A server that answers something else: every reply is a mismatch, nothing is recorded.
    let v = load(&["ws", &format!("ws://{addr}/corrupt"), "--expect", "echo", "-c", "2", "-d", "300ms", "-q", "--json", "-"]);
    assert_eq!(v["responses"], 0, "{v}");
    assert!(v["errors"]["mismatch"].as_u64().unwrap() > 0, "{v}");
}

#[test]
fn ramp_holds_every_connection_together() {
    // 10 connections at 20/s: the last is due 0.45 s after the first, longer than the 300 ms
    // hold, yet each is held until 300 ms after the ramp, so all 10 are open at once.
    let (addr, peak) = echo_server_counted();
    let v = load(&["ws-hold", &format!("ws://{addr}/echo"), "-c", "10", "--ramp", "20", "--hold", "300ms", "-q", "--json", "-"]);
    assert_eq!((v["established"].as_u64(), v["closed_early"].as_u64()), (Some(10), Some(0)), "{v}");
    assert_eq!(peak.load(Ordering::SeqCst), 10);
}

#[test]
fn ramp_paces_connections() {
    let addr = echo_server();
    // 20 connections at 100/s: the last one is due 0.19 s after the first.
    let v = load(&["ws-hold", &format!("ws://{addr}/echo"), "-c", "20", "--ramp", "100", "--hold", "100ms", "-q", "--json", "-"]);
    assert_eq!(v["established"], 20, "{v}");
    assert!(v["ramp_s"].as_f64().unwrap() >= 0.19, "{v}");
    assert_eq!(v["ramp_rate"], 100.0);
    let v = load(&["ws", &format!("ws://{addr}/echo"), "-c", "20", "--ramp", "100", "-n", "20", "-q", "--json", "-"]);
    assert_eq!((v["established"].as_u64(), v["responses"].as_u64()), (Some(20), Some(20)), "{v}");
    assert!(v["ramp_s"].as_f64().unwrap() >= 0.19, "{v}");
}

/// A running `hypercube`, killed on drop (also when an assertion fails).
#[test]
fn real_server_charts_by_id_and_echo() {
    let server = common::Server::start();
    let addr = server.addr;
    let body = r#"{"id":{{id}},"type":"chart","datetime":"{{datetime}}","zone":"Asia/Seoul","gender":"{{gender}}"}"#;
    let v = load(&["ws", &format!("ws://{addr}/v1/ws"), "-b", body, "-c", "4", "-p", "2", "-n", "200", "-d", "20s", "-q", "--json", "-"]);
    assert_eq!((v["expect"].as_str(), v["responses"].as_u64(), v["errors_total"].as_u64()), (Some("id"), Some(200), Some(0)), "{v}");
    assert!(v["bytes"].as_u64().unwrap() > 200 * 500, "chart replies are full charts: {v}");
    // An invalid request is answered with an error carrying the id: counted as reply_error.
    let v = load(&[
        "ws",
        &format!("ws://{addr}/v1/ws"),
        "-b",
        r#"{"id":{{id}},"type":"chart","datetime":"x","offset":0}"#,
        "-c",
        "1",
        "-n",
        "5",
        "-q",
        "--json",
        "-",
    ]);
    assert_eq!((v["responses"].as_u64(), v["errors"]["reply_error"].as_u64()), (Some(0), Some(5)), "{v}");
    let v = load(&["ws", &format!("ws://{addr}/v1/ws/echo"), "-c", "4", "-R", "400", "-n", "100", "-d", "20s", "-q", "--json", "-"]);
    assert_eq!((v["expect"].as_str(), v["responses"].as_u64(), v["errors_total"].as_u64()), (Some("echo"), Some(100), Some(0)), "{v}");
}

#[test]
fn refused_connects_are_counted_by_kind() {
    // A TCP port bound but never listened on: every (asynchronous) connect is refused.
    let l = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
    l.bind(&"127.0.0.1:0".parse::<SocketAddr>().unwrap().into()).unwrap();
    let addr = l.local_addr().unwrap().as_socket().unwrap();
    let v = load(&["ws", &format!("ws://{addr}/echo"), "-c", "3", "-d", "200ms", "--sources", "2", "-q", "--json", "-"]);
    assert_eq!((v["established"].as_u64(), v["responses"].as_u64()), (Some(0), Some(0)), "{v}");
    assert!(v["errors"]["connect"].as_u64().unwrap() >= 3, "{v}");
    assert_eq!(v["errors"].as_object().unwrap().len(), 1, "{v}");
    let v = load(&["ws-hold", &format!("ws://{addr}/echo"), "-c", "3", "--hold", "10ms", "-q", "--json", "-"]);
    assert_eq!((v["established"].as_u64(), v["errors"]["connect"].as_u64()), (Some(0), Some(3)), "{v}");
}
