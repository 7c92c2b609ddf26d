//! `hypercube-load http` and `mix` (the binary, as a user runs it) against a small HTTP/1.1
//! server in this test (std threads on 127.0.0.1) that counts the requests it answered per path.
//! The report's counts must be the server's: the harness waits for every request it sent, so
//! nothing is in flight at the end and the counts agree exactly (the checks allow the in-flight
//! margin anyway, stated where it applies). Counts only, never timings; bounded (< 10 s).

use serde_json::Value;
use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Answers `GET|POST /…` with `200 ok`, and `/missing` with 404; counts responses per path.
struct TestServer {
    addr: SocketAddr,
    served: Arc<Mutex<BTreeMap<String, u64>>>,
    stop: Arc<AtomicBool>,
    accept: Option<JoinHandle<()>>,
}

impl TestServer {
    fn start() -> Self {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        l.set_nonblocking(true).unwrap();
        let addr = l.local_addr().unwrap();
        let served = Arc::new(Mutex::new(BTreeMap::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let (s2, st2) = (served.clone(), stop.clone());
        let accept = std::thread::spawn(move || {
            // Stops by itself after 30 s even if the test forgets to.
            let deadline = Instant::now() + Duration::from_secs(30);
            while !st2.load(Ordering::Relaxed) && Instant::now() < deadline {
                match l.accept() {
                    Ok((c, _)) => {
                        let (s3, st3) = (s2.clone(), st2.clone());
                        std::thread::spawn(move || serve(c, &s3, &st3));
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(2)),
                }
            }
        });
        Self { addr, served, stop, accept: Some(accept) }
    }

    fn served(&self) -> BTreeMap<String, u64> {
        self.served.lock().unwrap().clone()
    }

    fn total(&self) -> u64 {
        self.served().values().sum()
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(a) = self.accept.take() {
            let _ = a.join();
        }
    }
}

/// One connection: parse pipelined requests (head + content-length body), answer each in order.
fn serve(mut c: TcpStream, served: &Mutex<BTreeMap<String, u64>>, stop: &AtomicBool) {
    c.set_nonblocking(false).unwrap();
    c.set_read_timeout(Some(Duration::from_millis(100))).unwrap();
    let _ = c.set_nodelay(true);
    let mut buf = Vec::new();
    let mut chunk = [0u8; 16 * 1024];
    loop {
        // Answer every complete request in the buffer.
        let mut out = Vec::new();
        while let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).to_string();
            let len: usize = head
                .lines()
                .find_map(|l| {
                    l.split_once(':').filter(|(k, _)| k.eq_ignore_ascii_case("content-length")).map(|(_, v)| v.trim().parse().unwrap())
                })
                .unwrap_or(0);
            if buf.len() < end + 4 + len {
                break;
            }
            let path = head.split_whitespace().nth(1).unwrap_or("?").to_string();
            buf.drain(..end + 4 + len);
            out.extend_from_slice(if path == "/missing" {
                b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n" as &[u8]
            } else {
                b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok"
            });
            *served.lock().unwrap().entry(path).or_default() += 1;
        }
        if !out.is_empty() && c.write_all(&out).is_err() {
            return;
        }
        match c.read(&mut chunk) {
            Ok(0) => return,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
            Err(e) if matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut) => {
                if stop.load(Ordering::Relaxed) {
                    return;
                }
            }
            Err(_) => return,
        }
    }
}

fn load(args: &[&str]) -> Value {
    let out = Command::new(env!("CARGO_BIN_EXE_hypercube-load")).args(args).args(["-q", "--json", "-"]).output().unwrap();
    assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

fn u(v: &Value) -> u64 {
    v.as_u64().unwrap_or_else(|| panic!("not a count: {v}"))
}

#[test]
fn http_counts_what_the_server_answered() {
    let s = TestServer::start();
    let url = format!("http://{}/a", s.addr);

    // Time-bound, closed loop, pipelined: a run that ends mid-stream. The harness reads the
    // answers to what it sent before stopping, so at most connections × pipeline requests could
    // be in flight — and none are.
    let (conns, pipeline) = (4u64, 4u64);
    let v = load(&["http", &url, "-c", "4", "-p", "4", "-t", "2", "-d", "600ms"]);
    let responses = u(&v["responses"]);
    assert!(responses > 0);
    assert_eq!(u(&v["errors_total"]), 0, "{v}");
    let served = s.total();
    assert!(served >= responses && served - responses <= conns * pipeline, "served {served}, reported {responses}");
    assert_eq!(served, responses, "nothing left in flight");
    assert!(v["histograms"]["latency"].as_str().is_some_and(|h| !h.is_empty()), "serialized histogram in the report");

    // Worker processes with a request cap and a connection ramp: exact totals, merged histograms
    // hold every sample.
    let v = load(&["http", &url, "-c", "6", "--workers", "3", "-n", "300", "--ramp", "100", "-d", "20s"]);
    assert_eq!((u(&v["responses"]), u(&v["status"]["2xx"]), u(&v["errors_total"]), u(&v["connects"])), (300, 300, 0, 6), "{v}");
    assert_eq!((u(&v["workers"]), v["ramp"].as_f64()), (3, Some(100.0)));
    let h = load::report::decode_histogram(v["histograms"]["latency"].as_str().unwrap()).unwrap();
    assert_eq!(h.len(), 300);
    assert_eq!(s.total(), served + 300);

    // Open loop over two workers: the rate is shared, the count is still exact.
    let v = load(&["http", &url, "-c", "4", "--workers", "2", "-R", "2000", "-n", "200", "-d", "20s"]);
    assert_eq!((u(&v["responses"]), v["mode"].as_str()), (200, Some("open")), "{v}");
    assert_eq!(s.total(), served + 500);
}

#[test]
fn mix_counts_each_request_kind() {
    let s = TestServer::start();
    let url = format!("http://{}", s.addr);
    let body = r#"1 POST /chart {"datetime":"{{datetime}}","gender":"{{gender}}"}"#;
    let v = load(&[
        "mix",
        &url,
        "-r",
        "6 GET /a",
        "-r",
        "2 GET /missing",
        "-r",
        body,
        "-r",
        "0 GET /never",
        "-c",
        "4",
        "-p",
        "2",
        "-n",
        "800",
        "-d",
        "20s",
    ]);
    assert_eq!((u(&v["responses"]), u(&v["errors_total"]), v["scenario"].as_str()), (800, 0, Some("mix")), "{v}");
    let served = s.served();
    let t = v["templates"].as_array().unwrap();
    assert_eq!(t.len(), 4);
    for (i, path) in ["/a", "/missing", "/chart", "/never"].into_iter().enumerate() {
        assert_eq!(u(&t[i]["responses"]), served.get(path).copied().unwrap_or(0), "{path}: {v}");
    }
    assert_eq!(u(&t[3]["responses"]), 0, "weight 0 is never sent");
    // 6:2:1 of 800 ≈ 533:178:89, roughly (seeded PRNG per connection, so deterministic).
    assert!((433..633).contains(&u(&t[0]["responses"])), "{v}");
    // 404s are responses by status class, attributed to their template.
    assert_eq!(u(&v["status"]["4xx"]), served["/missing"]);
    assert_eq!(u(&t[1]["status"]["4xx"]), served["/missing"]);
    assert_eq!(t[2]["name"].as_str(), Some("POST /chart"));

    // The same blend from a TOML file run as a scenario, over two workers.
    let file = std::env::temp_dir().join(format!("hypercube-load-mix-{}.toml", std::process::id()));
    std::fs::write(
        &file,
        format!(
            "scenario = \"mix\"\nurl = \"{url}\"\nconnections = 4\nworkers = 2\nrequests = 200\nquiet = true\njson = \"-\"\n\n\
             [[request]]\nname = \"a\"\npath = \"/a\"\nweight = 3\n\n[[request]]\nname = \"chart\"\nmethod = \"POST\"\npath = \"/chart\"\nbody = '{{\"year\":{{{{year}}}}}}'\nweight = 1\n"
        ),
    )
    .unwrap();
    let before = s.served();
    let out = Command::new(env!("CARGO_BIN_EXE_hypercube-load")).arg("run").arg(&file).output().unwrap();
    let _ = std::fs::remove_file(&file);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let after = s.served();
    let t = v["templates"].as_array().unwrap();
    assert_eq!((u(&v["responses"]), u(&v["workers"])), (200, 2), "{v}");
    assert_eq!(u(&t[0]["responses"]), after["/a"] - before["/a"]);
    assert_eq!(u(&t[1]["responses"]), after["/chart"] - before["/chart"]);
    assert_eq!((t[0]["name"].as_str(), t[1]["name"].as_str()), (Some("a"), Some("chart")));
}
