//! The server end to end over real sockets: routes, pipelining order, limits and error codes,
//! the epoll driver, and graceful shutdown under load.
mod common;
use common::{parse_responses, Server};
use std::io::{Read, Write};
use std::time::{Duration, Instant};

#[test]
fn routes_answer() {
    let s = Server::start(&["--shards", "2"]);
    let r = s.request("GET", "/healthz", None);
    assert_eq!((r.status, r.text().as_str()), (200, "ok"));
    let r = s.request("GET", "/readyz", None);
    assert_eq!(r.status, 200, "{}", r.text());
    let r = s.request("HEAD", "/healthz", None);
    assert_eq!((r.status, r.header("content-length")), (200, Some("2")));
    let r = s.request("GET", "/nope", None);
    assert_eq!(r.status, 404);
    assert!(r.text().contains("not_found"));
    let r = s.request("DELETE", "/healthz", None);
    assert_eq!((r.status, r.header("allow")), (405, Some("GET, HEAD")));
    let r = s.request("PUT", "/v1/saju", Some("{}"));
    assert_eq!((r.status, r.header("allow")), (405, Some("GET, HEAD, POST")));
    let m = s.request("GET", "/metrics", None);
    assert_eq!(m.status, 200);
    let text = m.text();
    for needle in [
        "hypercube_requests_total{route=\"/healthz\",status=\"200\"} 2",
        "hypercube_requests_total{route=\"unmatched\",status=\"404\"} 1",
        "hypercube_shard_info{shard=\"1\"",
        "hypercube_connections_open{shard=\"0\"}",
        "hypercube_request_latency_seconds{quantile=\"0.99\"}",
        "hypercube_request_duration_seconds_bucket{le=\"+Inf\"}",
        "hypercube_build_info{version=",
    ] {
        assert!(text.contains(needle), "metrics lack {needle}:\n{text}");
    }
}

#[test]
fn saju_input_errors_name_the_field() {
    let s = Server::start(&["--shards", "1"]);
    let r = s.request("POST", "/v1/saju", Some(r#"{"datetime":"1990-13-15T14:30:00","offset":540}"#));
    assert_eq!(r.status, 422, "{}", r.text());
    assert!(r.text().contains(r#""field":"datetime""#), "{}", r.text());
    let r = s.request("POST", "/v1/saju", Some(r#"{"datetime":"1990-05-15T14:30:00","offset":9999}"#));
    assert_eq!(r.status, 422);
    assert!(r.text().contains(r#""field":"offset""#));
    let r = s.request("POST", "/v1/saju", Some("{not json"));
    assert_eq!(r.status, 400);
    let r = s.request("GET", "/v1/saju?datetime=1990-05-15T14%3A30%3A00&offset=540&lon=500", None);
    assert_eq!(r.status, 422);
    assert!(r.text().contains(r#""field":"lon""#));
}

#[test]
fn pipelined_responses_come_in_request_order() {
    let s = Server::start(&["--shards", "2"]);
    let paths = ["/healthz", "/nope", "/readyz", "/healthz", "/v1/saju?offset=1", "/metrics", "/healthz"];
    let mut raw = Vec::new();
    let mut expect = Vec::new();
    for i in 0..60 {
        let p = paths[i % paths.len()];
        raw.extend_from_slice(format!("GET {p} HTTP/1.1\r\nHost: t\r\n\r\n").as_bytes());
        expect.push(match p {
            "/nope" => 404,
            "/v1/saju?offset=1" => 422,
            _ => 200,
        });
    }
    raw.extend_from_slice(b"GET /healthz HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
    expect.push(200);
    let out = s.exchange(&raw);
    let got: Vec<u16> = parse_responses(&out, false).iter().map(|r| r.status).collect();
    assert_eq!(got, expect);
}

#[test]
fn limits_and_bad_requests() {
    let s = Server::start(&["--shards", "1", "--header-timeout", "300ms", "--max-body-bytes", "1000"]);
    let check = |raw: &[u8], status: u16| {
        let out = s.exchange(raw);
        let rs = parse_responses(&out, false);
        let last = rs.last().unwrap_or_else(|| panic!("no response to {:?}", String::from_utf8_lossy(raw)));
        assert_eq!(last.status, status, "{:?} → {:?}", String::from_utf8_lossy(&raw[..raw.len().min(80)]), String::from_utf8_lossy(&out));
        assert_eq!(last.header("connection"), Some("close"));
        assert!(last.text().starts_with('{'), "JSON error body");
    };
    let big_header = format!("GET /healthz HTTP/1.1\r\nHost: t\r\nX-Big: {}\r\n\r\n", "a".repeat(20_000));
    check(big_header.as_bytes(), 431);
    check(b"POST /v1/saju HTTP/1.1\r\nHost: t\r\nContent-Length: 5000\r\n\r\n", 413);
    check(b"GARBAGE\r\n\r\n", 400);
    check(b"POST /v1/saju HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400);
    check(b"POST /v1/saju HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd", 400);
    check(b"POST /v1/saju HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", 400);
    // A good request before a bad one is still answered first.
    let out = s.exchange(b"GET /healthz HTTP/1.1\r\nHost: t\r\n\r\nBAD LINE\r\n\r\n");
    let st: Vec<u16> = parse_responses(&out, false).iter().map(|r| r.status).collect();
    assert_eq!(st, vec![200, 400]);
    // Header timeout: half a head, then silence.
    let mut c = s.connect();
    c.write_all(b"GET /healthz HTTP/1.1\r\nHost:").unwrap();
    let t0 = Instant::now();
    let mut out = Vec::new();
    let _ = c.read_to_end(&mut out);
    assert!(t0.elapsed() < Duration::from_secs(5));
    assert_eq!(parse_responses(&out, false)[0].status, 408);
    let m = s.request("GET", "/metrics", None).text();
    for code in ["400", "408", "413", "431"] {
        assert!(m.contains(&format!("route=\"protocol_error\",status=\"{code}\"")), "{code} not counted:\n{m}");
    }
}

#[test]
fn chunked_body_and_expect_continue() {
    let s = Server::start(&["--shards", "1"]);
    let body = r#"{"datetime":"1990-05-15T14:30:00","offset":99999}"#;
    let (a, b) = body.split_at(20);
    let raw = format!("POST /v1/saju HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n{:x};ext=1\r\n{a}\r\n{:x}\r\n{b}\r\n0\r\nTrailer: x\r\n\r\n", a.len(), b.len());
    let r = &parse_responses(&s.exchange(raw.as_bytes()), false)[0];
    assert_eq!(r.status, 422, "chunked body reached the handler: {}", r.text());
    let mut c = s.connect();
    c.write_all(
        format!("POST /v1/saju HTTP/1.1\r\nHost: t\r\nContent-Length: {}\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n", body.len())
            .as_bytes(),
    )
    .unwrap();
    let mut buf = [0u8; 64];
    let n = c.read(&mut buf).unwrap();
    assert!(buf[..n].starts_with(b"HTTP/1.1 100 Continue\r\n\r\n"), "{:?}", String::from_utf8_lossy(&buf[..n]));
    c.write_all(body.as_bytes()).unwrap();
    let mut out = Vec::new();
    let _ = c.read_to_end(&mut out);
    assert_eq!(parse_responses(&out, false)[0].status, 422);
}

#[test]
fn epoll_driver_forced_and_fallback() {
    for args in [&["--shards", "2", "--driver", "epoll"][..], &["--shards", "1", "--ring-entries", "65536"][..]] {
        let s = Server::start(args);
        assert_eq!(s.request("GET", "/healthz", None).status, 200);
        let m = s.request("GET", "/metrics", None).text();
        assert!(m.contains("driver=\"epoll\""), "{args:?}: {m}");
        assert!(!m.contains("driver=\"io_uring\""));
    }
}

#[test]
fn start_log_has_one_pinned_shard_per_core_on_io_uring() {
    let s = Server::start(&[]);
    let m = s.request("GET", "/metrics", None).text();
    let n = m.lines().filter(|l| l.starts_with("hypercube_shard_info{")).count();
    assert_eq!(n, shard::cpus::allowed().len());
    assert!(m.lines().filter(|l| l.starts_with("hypercube_shard_info{")).all(|l| l.contains("io_uring") && !l.contains("cpu=\"none\"")));
    let mut started: Vec<String> = s.startup.iter().filter(|l| l.contains("shard started")).cloned().collect();
    let end = Instant::now() + Duration::from_secs(5);
    while started.len() < n && Instant::now() < end {
        if let Ok(l) = s.log.recv_timeout(Duration::from_millis(100)) {
            if l.contains("shard started") {
                started.push(l);
            }
        }
    }
    assert_eq!(started.len(), n, "{started:?}");
    assert!(started.iter().all(|l| l.contains("\"driver\":\"io_uring\"")), "{started:?}");
}

#[test]
fn connection_limit_gives_503() {
    let s = Server::start(&["--shards", "1", "--max-conns", "2"]);
    let _a = s.connect();
    let _b = s.connect();
    std::thread::sleep(Duration::from_millis(200));
    let r = s.request("GET", "/healthz", None);
    assert_eq!(r.status, 503);
    assert_eq!(r.header("connection"), Some("close"));
}

#[test]
fn saju_chart_over_post_get_and_form() {
    let s = Server::start(&["--shards", "2"]);
    let body = r#"{"datetime":"1990-05-15T14:30:00","zone":"Asia/Seoul","lon":126.98,"gender":"m","luck_year":2026}"#;
    let post = s.request("POST", "/v1/saju", Some(body));
    assert_eq!(post.status, 200, "{}", post.text());
    assert_eq!(post.header("content-type"), Some("application/json"));
    let v: serde_json::Value = serde_json::from_slice(&post.body).unwrap();
    let fp = &v["four_pillars"];
    let hanja: Vec<&str> = ["year", "month", "day", "hour"].iter().map(|k| fp[k]["hanja"].as_str().unwrap()).collect();
    assert_eq!(hanja, ["庚午", "辛巳", "庚辰", "癸未"]);
    let get = s.request("GET", "/v1/saju?datetime=1990-05-15T14%3A30%3A00&zone=Asia%2FSeoul&lon=126.98&gender=m&luck_year=2026", None);
    assert_eq!(get.status, 200);
    assert_eq!(get.body, post.body, "GET and POST give the same chart");
    // curl -d sends the form content type: JSON bodies and real form bodies both work.
    let raw = |ct: &str, b: &str| {
        format!("POST /v1/saju HTTP/1.1\r\nHost: t\r\nContent-Type: {ct}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{b}", b.len())
    };
    let form_json = &parse_responses(&s.exchange(raw("application/x-www-form-urlencoded", body).as_bytes()), false)[0];
    assert_eq!(form_json.body, post.body);
    let form =
        raw("application/x-www-form-urlencoded", "datetime=1990-05-15T14%3A30%3A00&zone=Asia%2FSeoul&lon=126.98&gender=m&luck_year=2026");
    assert_eq!(parse_responses(&s.exchange(form.as_bytes()), false)[0].body, post.body);
    assert_eq!(parse_responses(&s.exchange(raw("text/xml", "<a/>").as_bytes()), false)[0].status, 415);
    let head = s.request("HEAD", "/v1/saju?datetime=1990-05-15T14:30:00&offset=540", None);
    assert_eq!(head.status, 200);
    assert!(head.body.is_empty());
    // Engine-side validation also names the field.
    for (q, field) in [
        ("datetime=1990-05-15T14:30:00&zone=Mars/Base", "zone"),
        ("datetime=1990-05-15T14:30:00&offset=540&zi=bogus", "zi"),
        ("datetime=1990-05-15T14:30:00&offset=540&solar_time=apparent", "lon"),
        ("datetime=1990-05-15T14:30:00&offset=540&gender=x", "gender"),
        ("datetime=1800-05-15T14:30:00&offset=540", "datetime"),
    ] {
        let r = s.request("GET", &format!("/v1/saju?{q}"), None);
        assert_eq!(r.status, 422, "{q}: {}", r.text());
        assert!(r.text().contains(&format!("\"field\":\"{field}\"")), "{q}: {}", r.text());
    }
}

#[test]
fn client_that_never_reads_is_dropped_after_write_timeout() {
    let s = Server::start(&["--shards", "1", "--write-timeout", "300ms"]);
    let mut c = s.connect();
    c.set_write_timeout(Some(Duration::from_secs(5))).unwrap();
    let writer = std::thread::spawn(move || {
        // ~4 KB responses; far more than the socket buffers hold. Never read.
        let req = b"GET /metrics HTTP/1.1\r\nHost: t\r\n\r\n".repeat(200);
        for _ in 0..100 {
            if c.write_all(&req).is_err() {
                break;
            }
        }
        c
    });
    let open = |s: &Server| -> u64 {
        let m = s.request("GET", "/metrics", None).text();
        let line = m.lines().find(|l| l.starts_with("hypercube_connections_open{shard=\"0\"}")).unwrap().to_string();
        line.rsplit(' ').next().unwrap().parse().unwrap()
    };
    let end = Instant::now() + Duration::from_secs(10);
    let mut dropped = false;
    while Instant::now() < end {
        std::thread::sleep(Duration::from_millis(200));
        // Only the /metrics probe itself is open once the stalled client is gone.
        if open(&s) == 1 {
            dropped = true;
            break;
        }
    }
    let _ = writer.join();
    assert!(dropped, "stalled reader still connected");
}
