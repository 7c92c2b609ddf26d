//! Graceful shutdown of the real binary: SIGTERM during load, in-flight requests, drain
//! deadline, and the second signal.
mod common;
use common::{parse_responses, Server};
use std::io::{ErrorKind, Read, Write};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

const SIGTERM: i32 = 15;
const SIGINT: i32 = 2;

#[test]
fn sigterm_under_load_fails_no_request() {
    let mut s = Server::start(&["--shards", "2"]);
    let stats = Arc::new([AtomicU64::new(0), AtomicU64::new(0), AtomicU64::new(0), AtomicU64::new(0)]);
    let go = Arc::new(AtomicBool::new(true));
    let clients: Vec<_> = (0..8)
        .map(|_| {
            let (stats, go) = (stats.clone(), go.clone());
            let mut c = s.connect();
            std::thread::spawn(move || {
                let mut buf = vec![0u8; 4096];
                while go.load(Ordering::Relaxed) {
                    if c.write_all(b"GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n").is_err() {
                        stats[2].fetch_add(1, Ordering::Relaxed); // closed while idle
                        return;
                    }
                    let mut got = Vec::new();
                    let resp = loop {
                        match c.read(&mut buf) {
                            Ok(0) => break None,
                            Ok(n) => got.extend_from_slice(&buf[..n]),
                            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                            Err(_) => break None,
                        }
                        if let Some(r) = parse_responses(&got, false).pop() {
                            break Some(r);
                        }
                    };
                    match resp {
                        Some(r) if r.status == 200 => {
                            stats[0].fetch_add(1, Ordering::Relaxed);
                            if r.header("connection") == Some("close") {
                                stats[3].fetch_add(1, Ordering::Relaxed);
                                return;
                            }
                        }
                        // No byte of a response: the server closed an idle keep-alive connection
                        // as the request crossed it (retryable by RFC 9112 §9.3.1).
                        None if got.is_empty() => {
                            stats[2].fetch_add(1, Ordering::Relaxed);
                            return;
                        }
                        _ => {
                            stats[1].fetch_add(1, Ordering::Relaxed); // partial or non-200
                            return;
                        }
                    }
                }
            })
        })
        .collect();
    std::thread::sleep(Duration::from_millis(400));
    s.signal(SIGTERM);
    let code = s.wait_exit(Duration::from_secs(15));
    go.store(false, Ordering::Relaxed);
    for c in clients {
        c.join().unwrap();
    }
    let [ok, failed, idle_closed, closed_after] = [0, 1, 2, 3].map(|i| stats[i].load(Ordering::Relaxed));
    eprintln!("ok={ok} failed={failed} idle_closed={idle_closed} close_after_response={closed_after}");
    assert_eq!(code, Some(0), "exit code");
    assert_eq!(failed, 0, "requests failed during shutdown");
    assert!(ok > 100, "load ran ({ok} responses)");
    assert_eq!(closed_after, 8, "every busy connection got a last response with Connection: close");
    assert_eq!(idle_closed, 0);
}

#[test]
fn in_flight_request_finishes_and_idle_connections_close() {
    let mut s = Server::start(&["--shards", "1"]);
    let body = r#"{"datetime":"1990-05-15T14:30:00","offset":99999}"#;
    let mut busy = s.connect();
    busy.write_all(format!("POST /v1/saju HTTP/1.1\r\nHost: t\r\nContent-Length: {}\r\n\r\n{}", body.len(), &body[..10]).as_bytes())
        .unwrap();
    let mut idle = s.connect();
    idle.write_all(b"GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n").unwrap();
    let mut buf = [0u8; 1024];
    let n = idle.read(&mut buf).unwrap();
    assert_eq!(parse_responses(&buf[..n], false)[0].status, 200);
    std::thread::sleep(Duration::from_millis(100));
    s.signal(SIGTERM);
    // The idle keep-alive connection is closed after the idle grace, without a response.
    let t0 = std::time::Instant::now();
    assert_eq!(idle.read(&mut buf).unwrap_or(0), 0);
    assert!(t0.elapsed() < Duration::from_secs(2), "idle close took {:?}", t0.elapsed());
    // The in-flight request still gets its answer, marked Connection: close.
    std::thread::sleep(Duration::from_millis(200));
    busy.write_all(&body.as_bytes()[10..]).unwrap();
    let mut out = Vec::new();
    let _ = busy.read_to_end(&mut out);
    let r = &parse_responses(&out, false)[0];
    assert_eq!(r.status, 422);
    assert_eq!(r.header("connection"), Some("close"));
    assert_eq!(s.wait_exit(Duration::from_secs(5)), Some(0));
}

#[test]
fn drain_deadline_then_exit_zero() {
    let mut s = Server::start(&["--shards", "1", "--drain-timeout", "500ms"]);
    let mut stuck = s.connect();
    stuck.write_all(b"POST /v1/saju HTTP/1.1\r\nHost: t\r\nContent-Length: 100\r\n\r\nabc").unwrap();
    std::thread::sleep(Duration::from_millis(100));
    s.signal(SIGTERM);
    assert_eq!(s.wait_exit(Duration::from_secs(5)), Some(0));
}

#[test]
fn second_signal_exits_at_once() {
    let mut s = Server::start(&["--shards", "1", "--drain-timeout", "60s"]);
    let mut stuck = s.connect();
    stuck.write_all(b"POST /v1/saju HTTP/1.1\r\nHost: t\r\nContent-Length: 100\r\n\r\nabc").unwrap();
    std::thread::sleep(Duration::from_millis(100));
    s.signal(SIGINT);
    std::thread::sleep(Duration::from_millis(200));
    s.signal(SIGINT);
    assert_eq!(s.wait_exit(Duration::from_secs(5)), Some(130));
}
