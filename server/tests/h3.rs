//! HTTP/3 end to end, with a client we did not write: aioquic's H3Connection (scripts/h3client.py,
//! installed into .deps/h3client by scripts/setup). Without that venv these tests skip, unless
//! HYPERCUBE_REQUIRE_H3=1 (scripts/test sets it) makes a missing client a failure.
mod common;
use common::Server;
use serde_json::{json, Value};
use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};

const SAJU: &str = r#"{"datetime":"1990-05-15T14:30:00","zone":"Asia/Seoul","lon":126.98,"gender":"m","luck_year":2026}"#;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The venv's python, or None (skip) when it is absent and not required.
fn python() -> Option<PathBuf> {
    let py = root().join(".deps/h3client/bin/python");
    if py.exists() {
        return Some(py);
    }
    assert!(
        std::env::var_os("HYPERCUBE_REQUIRE_H3").is_none(),
        "HYPERCUBE_REQUIRE_H3 set but {} is missing: run scripts/setup",
        py.display()
    );
    eprintln!("skipping: no aioquic venv at {} (scripts/setup makes it)", py.display());
    None
}

/// Send `reqs` (h3client.py's JSON) concurrently on one HTTP/3 connection; responses in order.
fn h3(py: &PathBuf, s: &Server, reqs: &Value) -> Vec<Value> {
    let mut child = Command::new(py)
        .arg(root().join("scripts/h3client.py"))
        .args([s.addr.ip().to_string(), s.addr.port().to_string()])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn h3client.py");
    child.stdin.take().unwrap().write_all(reqs.to_string().as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "h3client failed: {}", String::from_utf8_lossy(&out.stderr));
    let v: Value = serde_json::from_slice(&out.stdout).expect("h3client output is JSON");
    v.as_array().cloned().unwrap_or_default()
}

#[test]
fn aioquic_fetches_healthz_and_posts_saju_over_h3() {
    let Some(py) = python() else { return };
    let s = Server::start(&["--shards", "2", "--h3", "true", "--inference", "false"]);
    let r = h3(
        &py,
        &s,
        &json!([
            {"path": "/healthz"},
            {"method": "POST", "path": "/v1/saju", "body": SAJU},
        ]),
    );
    assert_eq!((r[0]["status"].as_u64(), r[0]["body"].as_str()), (Some(200), Some("ok")));
    assert_eq!(r[1]["status"], 200, "{}", r[1]);
    assert_eq!(r[1]["headers"]["content-type"], "application/json");
    let v: Value = serde_json::from_str(r[1]["body"].as_str().unwrap_or("")).expect("chart JSON");
    let hanja: Vec<&str> = ["year", "month", "day", "hour"].iter().map(|k| v["four_pillars"][k]["hanja"].as_str().unwrap_or("")).collect();
    assert_eq!(hanja, ["庚午", "辛巳", "庚辰", "癸未"]);
    // HTTP/1.1 on the same port advertises HTTP/3.
    let h1 = s.request("GET", "/healthz", None);
    assert_eq!(h1.header("alt-svc"), Some(format!("h3=\":{}\"", s.addr.port()).as_str()));
    // The self-signed certificate's location is logged.
    assert!(s.startup.iter().any(|l| l.contains("self-signed") && l.contains("cert.pem")), "{:?}", s.startup);
}

#[test]
fn h3_is_off_by_default() {
    let s = Server::start(&["--shards", "1", "--inference", "false"]);
    assert_eq!(s.request("GET", "/healthz", None).header("alt-svc"), None);
}

/// One table of requests, run over HTTP/1.1 and over HTTP/3: same status, content type, Allow
/// and body for every route.
#[test]
fn every_route_behaves_the_same_over_http1_and_h3() {
    let Some(py) = python() else { return };
    let s = Server::start(&["--shards", "2", "--h3", "true", "--inference", "false", "--max-body-bytes", "4096"]);
    let big = "x".repeat(5000);
    let table: Vec<(&str, &str, &str)> = vec![
        ("GET", "/healthz", ""),
        ("HEAD", "/healthz", ""),
        ("GET", "/readyz", ""),
        ("GET", "/nope", ""),
        ("DELETE", "/healthz", ""),
        ("PUT", "/v1/saju", "{}"),
        ("POST", "/v1/saju", SAJU),
        ("GET", "/v1/saju?datetime=1990-05-15T14%3A30%3A00&zone=Asia%2FSeoul&lon=126.98&gender=m&luck_year=2026", ""),
        ("GET", "/v1/saju?datetime=1990-05-15T14:30:00&zone=Mars/Base", ""),
        ("POST", "/v1/saju", "{\"datetime\":"),
        ("POST", "/v1/saju/batch", r#"{"items":[{"datetime":"1990-05-15T14:30:00","offset":540}]}"#),
        ("POST", "/v1/saju/search", "{}"),
        ("POST", "/v1/interpret", r#"{"question":"hi"}"#),
        ("POST", "/v1/saju", &big),
    ];
    let reqs: Vec<Value> = table.iter().map(|(m, p, b)| json!({"method": m, "path": p, "body": b})).collect();
    let over_h3 = h3(&py, &s, &Value::Array(reqs));
    assert_eq!(over_h3.len(), table.len());
    for ((m, p, b), r3) in table.iter().zip(&over_h3) {
        let r1 = s.request(m, p, if b.is_empty() { None } else { Some(b) });
        let what = format!("{m} {p}");
        assert_eq!(r3["status"].as_u64(), Some(u64::from(r1.status)), "{what}: h3 {r3} vs h1 {}", r1.text());
        assert_eq!(r3["headers"]["content-type"].as_str(), r1.header("content-type"), "{what}");
        assert_eq!(r3["headers"]["allow"].as_str(), r1.header("allow"), "{what}");
        if r1.status != 413 {
            // HTTP/1.1 answers 413 from the protocol layer with its own body; the status is the contract.
            assert_eq!(r3["body"].as_str(), Some(r1.text().as_str()), "{what}");
        }
    }
    // Both transports are counted by the same per-shard metrics.
    let m = s.request("GET", "/metrics", None).text();
    assert!(m.contains("hypercube_requests_total{route=\"/healthz\",status=\"200\"} 4"), "{m}");
}

/// ngtcp2's `gtlsclient` (Debian package ngtcp2-client; scripts/setup installs it), or None (skip)
/// when it is absent and not required.
fn gtlsclient() -> Option<PathBuf> {
    let found = std::env::var_os("PATH")
        .into_iter()
        .flat_map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .map(|d| d.join("gtlsclient"))
        .find(|p| p.exists());
    if found.is_none() {
        assert!(
            std::env::var_os("HYPERCUBE_REQUIRE_H3").is_none(),
            "HYPERCUBE_REQUIRE_H3 set but gtlsclient is missing: run scripts/setup"
        );
        eprintln!("skipping: no gtlsclient on PATH (apt-get install ngtcp2-client)");
    }
    found
}

#[test]
fn ngtcp2_gtlsclient_fetches_healthz_and_posts_saju_over_h3() {
    let Some(gtls) = gtlsclient() else { return };
    let s = Server::start(&["--shards", "2", "--h3", "true", "--inference", "false"]);
    let dir = std::env::temp_dir().join(format!("hc-gtls-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let data = dir.join("request.json");
    std::fs::write(&data, SAJU).unwrap();
    let (host, port) = (s.addr.ip().to_string(), s.addr.port().to_string());
    let fetch = |extra: &[&str], path: &str| {
        let out = Command::new(&gtls)
            .args(["--quiet", "--exit-on-all-streams-close", "--timeout=10s"])
            .arg(format!("--download={}", dir.display()))
            .args(extra)
            .args([host.as_str(), port.as_str(), &format!("https://localhost:{port}{path}")])
            .output()
            .expect("run gtlsclient");
        assert!(out.status.success(), "gtlsclient {path}: {}", String::from_utf8_lossy(&out.stderr));
    };
    fetch(&[], "/healthz");
    assert_eq!(std::fs::read_to_string(dir.join("healthz")).unwrap_or_default(), "ok");
    fetch(&["-m", "POST", "-d", data.to_str().unwrap_or_default()], "/v1/saju");
    let body = std::fs::read(dir.join("saju")).unwrap_or_default();
    let _ = std::fs::remove_dir_all(&dir);
    let v: Value = serde_json::from_slice(&body).expect("chart JSON from gtlsclient");
    assert_eq!(v["four_pillars"]["day"]["hanja"], "庚辰");
    assert_eq!(body, s.request("POST", "/v1/saju", Some(SAJU)).body, "same chart over HTTP/1.1");
}

/// RFC 9114 §4.1: a DATA frame before HEADERS on a request stream is H3_FRAME_UNEXPECTED
/// (0x105), a connection error; it is counted once as a protocol error in /metrics.
#[test]
fn bad_frame_gets_h3_frame_unexpected_and_is_counted() {
    let Some(py) = python() else { return };
    let s = Server::start(&["--shards", "1", "--h3", "true", "--inference", "false"]);
    let r = h3(&py, &s, &json!([{"bad": "data_before_headers"}]));
    assert_eq!(r[0]["closed_with"].as_u64(), Some(0x105), "{r:?}");
    let m = s.request("GET", "/metrics", None).text();
    assert!(m.contains("hypercube_requests_total{route=\"protocol_error\",status=\"400\"} 1"), "{m}");
}

#[test]
fn sigterm_with_h3_exits_cleanly() {
    let Some(py) = python() else { return };
    let mut s = Server::start(&["--shards", "2", "--h3", "true", "--inference", "false"]);
    assert_eq!(h3(&py, &s, &json!([{"path": "/healthz"}]))[0]["status"], 200);
    s.signal(libc::SIGTERM);
    assert_eq!(s.wait_exit(std::time::Duration::from_secs(15)), Some(0));
}

/// Bodies over the limit get 413 and the shard keeps serving. (h3-quinn's `stop_sending` panics
/// when h3 has a read in flight; the server used to call it here and lost the shard about once in
/// 40 such requests, which is what stalled the route table above.)
#[test]
fn many_oversized_bodies_get_413_and_no_task_panics() {
    let Some(py) = python() else { return };
    let s = Server::start(&["--shards", "1", "--h3", "true", "--inference", "false", "--max-body-bytes", "1024"]);
    let reqs: Vec<Value> = (0..60).map(|k| json!({"method": "POST", "path": "/v1/saju", "body": "y".repeat(1500 + 97 * k)})).collect();
    for round in 0..3 {
        let r = h3(&py, &s, &Value::Array(reqs.clone()));
        assert!(r.iter().all(|x| x["status"] == 413), "round {round}: {r:?}");
    }
    assert_eq!(h3(&py, &s, &json!([{"path": "/healthz"}]))[0]["status"], 200);
    let m = s.request("GET", "/metrics", None).text();
    assert!(m.contains("hypercube_task_panics_total{shard=\"0\"} 0"), "{m}");
}
