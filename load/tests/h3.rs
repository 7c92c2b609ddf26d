//! `hypercube-load h3` end to end against an in-test HTTP/3 server (quinn + h3 on a monoio
//! thread through `shard::quic`) that answers every request with a fixed body and counts what it
//! answered: the report must agree with the server's count.
use bytes::{Buf, Bytes};
use std::net::SocketAddr;
use std::path::Path;
use std::process::Command;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const BODY: &[u8] = b"hello";

/// What the server saw.
#[derive(Default)]
struct Seen {
    requests: AtomicU64,
    /// Requests whose body looked like the `{"datetime":"YYYY-MM-DDTHH:MM"}` template.
    templated: AtomicU64,
    /// When each connection's handshake completed.
    handshakes: Mutex<Vec<Instant>>,
}

/// A self-signed certificate for `localhost`, written as PEM into `dir`; (cert DER, key DER).
fn cert(dir: &Path) -> (Vec<u8>, Vec<u8>) {
    let ck = rcgen::generate_simple_self_signed(vec!["localhost".into()]).unwrap();
    std::fs::write(dir.join("cert.pem"), ck.cert.pem()).unwrap();
    (ck.cert.der().to_vec(), ck.signing_key.serialize_der())
}

fn start_server(cert_der: Vec<u8>, key_der: Vec<u8>) -> (SocketAddr, Arc<Seen>) {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut tls = rustls::ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13])
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![cert_der.into()], rustls::pki_types::PrivatePkcs8KeyDer::from(key_der).into())
        .unwrap();
    tls.alpn_protocols = vec![b"h3".to_vec()];
    let quic = quinn::crypto::rustls::QuicServerConfig::try_from(Arc::new(tls)).unwrap();
    let server = quinn::ServerConfig::with_crypto(Arc::new(quic));
    let sock = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let addr = sock.local_addr().unwrap();
    let seen = Arc::new(Seen::default());
    let s2 = seen.clone();
    // Detached: it serves until the test process exits.
    std::thread::spawn(move || {
        let mut rt = monoio::RuntimeBuilder::<monoio::FusionDriver>::new().enable_timer().build().unwrap();
        rt.block_on(async move {
            // SAFETY: this thread runs one monoio runtime and nothing else; the endpoint and
            // everything built on it are created and used only by tasks spawned on it.
            let runtime = Arc::new(unsafe { shard::quic::MonoioRuntime::new() });
            let ep = quinn::Endpoint::new(quinn::EndpointConfig::default(), Some(server), sock, runtime).unwrap();
            while let Some(inc) = ep.accept().await {
                let seen = s2.clone();
                monoio::spawn(async move {
                    let Ok(conn) = inc.await else { return };
                    seen.handshakes.lock().unwrap().push(Instant::now());
                    let Ok(mut h3c) = h3::server::Connection::<_, Bytes>::new(h3_quinn::Connection::new(conn)).await else { return };
                    while let Ok(Some(resolver)) = h3c.accept().await {
                        let seen = seen.clone();
                        monoio::spawn(async move {
                            let Ok((_req, mut stream)) = resolver.resolve_request().await else { return };
                            let mut body = Vec::new();
                            while let Ok(Some(mut c)) = stream.recv_data().await {
                                while c.has_remaining() {
                                    let n = c.chunk().len();
                                    body.extend_from_slice(c.chunk());
                                    c.advance(n);
                                }
                            }
                            if body.len() == 31 && body.starts_with(br#"{"datetime":""#) && body[17] == b'-' {
                                seen.templated.fetch_add(1, Ordering::Relaxed);
                            }
                            // Counted before answering: once the client has a response, it is here.
                            seen.requests.fetch_add(1, Ordering::Relaxed);
                            let resp = http::Response::builder().status(200).body(()).unwrap();
                            if stream.send_response(resp).await.is_ok() && stream.send_data(Bytes::from_static(BODY)).await.is_ok() {
                                let _ = stream.finish().await;
                            }
                        });
                    }
                });
            }
        });
    });
    (addr, seen)
}

fn run_load(args: &[&str]) -> serde_json::Value {
    let out = Command::new(env!("CARGO_BIN_EXE_hypercube-load")).arg("h3").args(args).args(["-q", "--json", "-"]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn closed_and_open_loop_counts_match_the_server() {
    let dir = std::env::temp_dir().join(format!("load-h3-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (c, k) = cert(&dir);
    let (addr, seen) = start_server(c, k);
    let url = format!("https://127.0.0.1:{}/x", addr.port());

    // Closed loop: 2 connections × 4 streams for about a second, no certificate verification.
    let r = run_load(&[&url, "-c", "2", "-p", "4", "-d", "1s"]);
    let n = r["responses"].as_u64().unwrap();
    assert!(n > 100, "{r}");
    assert_eq!(n, seen.requests.load(Ordering::Relaxed), "report vs server: {r}");
    assert_eq!(r["status"]["2xx"].as_u64(), Some(n), "{r}");
    assert_eq!(r["errors_total"].as_u64(), Some(0), "{r}");
    assert_eq!(r["connects"].as_u64(), Some(2), "{r}");
    assert_eq!(r["bytes"].as_u64(), Some(n * BODY.len() as u64), "{r}");
    assert_eq!((r["scenario"].as_str(), r["mode"].as_str(), r["pipeline"].as_u64()), (Some("h3"), Some("closed"), Some(4)));
    assert!(r["quic"]["sent_packets"].as_u64().unwrap() > 0 && r["quic"]["udp_rx_ios"].as_u64().unwrap() > 0, "{r}");
    let lat = &r["latency_us"];
    assert!(lat["p50"].as_f64().unwrap() > 0.0 && lat["max"].as_f64().unwrap() >= lat["p50"].as_f64().unwrap(), "{r}");

    // Open loop at 300/s with a templated POST body, verifying the certificate (--cafile).
    let before = seen.requests.load(Ordering::Relaxed);
    let cafile = dir.join("cert.pem");
    let r = run_load(&[
        &url,
        "-c",
        "3",
        "-p",
        "2",
        "-d",
        "1s",
        "-R",
        "300",
        "-m",
        "POST",
        "-b",
        r#"{"datetime":"{{datetime}}"}"#,
        "--cafile",
        cafile.to_str().unwrap(),
        "--server-name",
        "localhost",
    ]);
    let n = r["responses"].as_u64().unwrap();
    assert!((250..=301).contains(&n), "about 300 in one second: {r}");
    assert_eq!(n, seen.requests.load(Ordering::Relaxed) - before, "{r}");
    assert_eq!(seen.templated.load(Ordering::Relaxed), n, "every POST carried a rendered template");
    assert_eq!(r["mode"].as_str(), Some("open"), "{r}");
    assert!(r["latency_us"]["p50"].as_f64().unwrap() > 0.0, "{r}");
    assert!(r["latency_uncorrected_us"]["p50"].as_f64().unwrap() > 0.0, "{r}");

    // A CA that did not sign the server's certificate: every handshake fails, and is counted.
    let other = dir.join("other");
    std::fs::create_dir_all(&other).unwrap();
    cert(&other);
    let before = seen.requests.load(Ordering::Relaxed);
    let r = run_load(&[&url, "-c", "2", "-d", "300ms", "--cafile", other.join("cert.pem").to_str().unwrap(), "--server-name", "localhost"]);
    assert_eq!(r["responses"].as_u64(), Some(0), "{r}");
    assert!(r["errors"]["handshake"].as_u64().unwrap_or(0) >= 2, "{r}");
    assert_eq!(seen.requests.load(Ordering::Relaxed), before);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn scenario_file_runs_h3() {
    let dir = std::env::temp_dir().join(format!("load-h3-scenario-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (c, k) = cert(&dir);
    let (addr, seen) = start_server(c, k);
    let file = dir.join("h3.toml");
    std::fs::write(
        &file,
        format!(
            "scenario = \"h3\"\nurl = \"https://127.0.0.1:{}/x\"\nrequests = 40\nstreams = 4\nquiet = true\njson = \"-\"\n",
            addr.port()
        ),
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_hypercube-load")).arg("run").arg(&file).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let r: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(r["responses"].as_u64(), Some(40), "{r}");
    assert_eq!(seen.requests.load(Ordering::Relaxed), 40);
    let _ = std::fs::remove_dir_all(&dir);
}

/// `--workers 2 --ramp 200`: two child processes, each opening its 10 connections at 100/s and
/// pacing its share of the rate from when each opens; the parent's merged report (histograms
/// added, quic counters summed) agrees with the server. Then a request cap split over workers.
#[test]
fn workers_with_ramp_merge_to_the_server_count() {
    let dir = std::env::temp_dir().join(format!("load-h3-workers-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (c, k) = cert(&dir);
    let (addr, seen) = start_server(c, k);
    let url = format!("https://127.0.0.1:{}/x", addr.port());

    let r = run_load(&[&url, "-c", "20", "-p", "2", "-d", "1s", "-R", "400", "--workers", "2", "--ramp", "200"]);
    let n = r["responses"].as_u64().unwrap();
    assert!(n > 100, "{r}");
    assert_eq!(n, seen.requests.load(Ordering::Relaxed), "merged report vs server: {r}");
    assert_eq!(r["status"]["2xx"].as_u64(), Some(n), "{r}");
    assert_eq!(r["errors_total"].as_u64(), Some(0), "{r}");
    assert_eq!(r["connects"].as_u64(), Some(20), "{r}");
    assert_eq!((r["workers"].as_u64(), r["ramp"].as_f64(), r["mode"].as_str()), (Some(2), Some(200.0), Some("open")), "{r}");
    assert!(r["histograms"]["latency"].as_str().is_some_and(|h| !h.is_empty()), "{r}");
    assert!(r["quic"]["sent_packets"].as_u64().unwrap() > 0 && r["quic"]["udp_rx_ios"].as_u64().unwrap() > 0, "{r}");
    // Each worker's 10 connections open over 90 ms (not all at once before the clock starts).
    let hs = seen.handshakes.lock().unwrap().clone();
    assert_eq!(hs.len(), 20);
    let span = *hs.iter().max().unwrap() - *hs.iter().min().unwrap();
    assert!(span >= Duration::from_millis(80), "handshakes over {span:?}: ramp not applied");

    // A request cap splits exactly over the workers (51 + 50).
    let before = seen.requests.load(Ordering::Relaxed);
    let r = run_load(&[&url, "-c", "4", "-p", "2", "-n", "101", "--workers", "2"]);
    assert_eq!(r["responses"].as_u64(), Some(101), "{r}");
    assert_eq!(seen.requests.load(Ordering::Relaxed) - before, 101);
    assert_eq!((r["workers"].as_u64(), r["ramp"].as_f64()), (Some(2), None), "{r}");
    let _ = std::fs::remove_dir_all(&dir);
}
