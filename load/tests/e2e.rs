//! The harness against the real `hypercube` binary on loopback: bounded by request counts (not
//! time), and asserting counts and kinds only — never timings.
use load::http::{self, HttpConfig};
use load::request::RequestTemplate;
use std::net::SocketAddr;
use std::process::Command;
use std::time::Duration;

mod common;
use common::Server;

fn cfg(addr: SocketAddr, method: &str, path: &str, body: Option<&str>) -> HttpConfig {
    HttpConfig {
        addr,
        request: RequestTemplate::new(method, &addr.to_string(), path, &[], body).unwrap().into(),
        target: path.into(),
        connections: 4,
        threads: 2,
        cpus: None,
        // Generous: the request caps below end every run long before this.
        duration: Duration::from_secs(120),
        requests: Some(400),
        rate: None,
        pipeline: 1,
        sources: vec![],
        timeout: Duration::from_secs(30),
        ramp: None,
    }
}

#[test]
fn closed_open_templated_and_errors() {
    let s = Server::start();

    // Closed loop, pipelined: every request answered, counted once, no errors.
    let c = HttpConfig { pipeline: 8, ..cfg(s.addr, "GET", "/healthz", None) };
    let (st, _) = http::run(c.clone(), |_| {}).unwrap();
    assert_eq!((st.responses, st.status[2], st.error_total(), st.connects), (400, 400, 0, 4), "{:?}", st.errors);
    assert_eq!(st.latency.len(), 400);
    assert_eq!(st.bytes % 400, 0, "every /healthz response has the same size");
    let rep = http::report(&c, &st, Duration::from_secs(1));
    assert_eq!((rep.mode.as_str(), rep.responses, rep.pipeline), ("closed", 400, 8));

    // Open loop over two source addresses: same counts; latencies recorded both ways.
    let o = HttpConfig {
        rate: Some(4000),
        requests: Some(200),
        sources: vec!["127.0.0.2".parse().unwrap(), "127.0.0.3".parse().unwrap()],
        ..cfg(s.addr, "GET", "/healthz", None)
    };
    let (st, _) = http::run(o.clone(), |_| {}).unwrap();
    assert_eq!((st.responses, st.status[2], st.error_total()), (200, 200, 0), "{:?}", st.errors);
    assert_eq!((st.latency.len(), st.uncorrected.len()), (200, 200));
    assert_eq!(http::report(&o, &st, Duration::from_secs(1)).mode, "open");
    assert!(st.templates.is_empty(), "one template: no breakdown");

    // POST with random birth data: the server accepts every generated chart request.
    let body = r#"{"datetime":"{{datetime}}","zone":"Asia/Seoul","gender":"{{gender}}","luck_year":{{year}}}"#;
    let p = HttpConfig { requests: Some(100), ..cfg(s.addr, "POST", "/v1/saju", Some(body)) };
    let (st, _) = http::run(p, |_| {}).unwrap();
    assert_eq!((st.responses, st.status[2], st.error_total()), (100, 100, 0), "{:?} {:?}", st.status, st.errors);

    // 404s are responses by status class, not errors.
    let (st, _) = http::run(HttpConfig { requests: Some(40), ..cfg(s.addr, "GET", "/nope", None) }, |_| {}).unwrap();
    assert_eq!((st.responses, st.status[4], st.error_total()), (40, 40, 0));

    // The harness's counts are the server's counts: nothing lost, nothing counted twice.
    assert_eq!(s.served("/healthz", 200), 400 + 200);
    assert_eq!(s.served("/v1/saju", 200), 100);
}

#[test]
fn refused_connections_are_counted_by_kind() {
    // A TCP port bound but never listened on: every connect is refused.
    let l = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
    l.bind(&"127.0.0.1:0".parse::<SocketAddr>().unwrap().into()).unwrap();
    let addr = l.local_addr().unwrap().as_socket().unwrap();
    let c = HttpConfig { duration: Duration::from_millis(200), requests: None, ..cfg(addr, "GET", "/", None) };
    let (st, _) = http::run(c, |_| {}).unwrap();
    assert_eq!(st.responses, 0);
    assert!(st.errors.get("connect").copied().unwrap_or(0) >= 4, "{:?}", st.errors);
    assert_eq!(st.errors.len(), 1, "{:?}", st.errors);
}

#[test]
fn cli_writes_a_json_report() {
    let s = Server::start();
    let out = Command::new(env!("CARGO_BIN_EXE_hypercube-load"))
        .args(["http", &format!("http://{}/healthz", s.addr), "-c", "2", "-n", "100", "-p", "2", "-q", "--json", "-"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["responses"], 100);
    assert_eq!(v["errors_total"], 0);
    assert_eq!(v["status"]["2xx"], 100);
    for k in ["p50", "p90", "p99", "p999", "p9999", "max"] {
        assert!(v["latency_us"][k].as_f64().unwrap() > 0.0, "{k}");
    }
    assert!(String::from_utf8_lossy(&out.stderr).contains("http closed:"), "summary line");

    // The same run from a TOML scenario file.
    let file = std::env::temp_dir().join(format!("hypercube-load-e2e-{}.toml", std::process::id()));
    std::fs::write(
        &file,
        format!(
            "scenario = \"http\"\nurl = \"http://{}/healthz\"\nconnections = 2\nrequests = 60\nrate = 2000\nquiet = true\njson = \"-\"\n",
            s.addr
        ),
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_hypercube-load")).arg("run").arg(&file).output().unwrap();
    let _ = std::fs::remove_file(&file);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!((v["responses"].as_u64(), v["mode"].as_str(), v["rate"].as_u64()), (Some(60), Some("open"), Some(2000)));
}

#[test]
fn ws_hold_establishes_and_counts() {
    let s = Server::start();
    let cfg = load::ws::WsHoldConfig {
        addr: s.addr,
        host: s.addr.to_string(),
        path: "/v1/ws".into(),
        subprotocol: Some("hypercube.v1".into()),
        connections: 50,
        threads: 2,
        cpus: None,
        hold: Duration::from_millis(300),
        ping_interval: Some(Duration::from_millis(100)),
        sources: vec!["127.0.0.2".parse().unwrap()],
        timeout: Duration::from_secs(30),
        server_pid: Some(s.child.id()),
        ramp: None,
    };
    let rep = load::ws::hold(cfg.clone(), |_, _, _| {}).unwrap();
    assert_eq!((rep.established, rep.closed_early), (50, 0), "{:?}", rep.errors);
    assert!(rep.errors.is_empty(), "{:?}", rep.errors);
    assert!(rep.server_rss_kb_held.is_some());
    // A path that does not upgrade is a handshake error, by kind.
    let rep = load::ws::hold(load::ws::WsHoldConfig { path: "/healthz".into(), connections: 3, ..cfg }, |_, _, _| {}).unwrap();
    assert_eq!(rep.established, 0);
    assert_eq!(rep.errors.get("handshake_status"), Some(&3), "{:?}", rep.errors);
}

#[test]
fn ws_hold_over_worker_processes_adds_up() {
    let s = Server::start();
    let out = Command::new(env!("CARGO_BIN_EXE_hypercube-load"))
        .args([
            "ws-hold",
            &format!("ws://{}/v1/ws", s.addr),
            "-c",
            "21",
            "--workers",
            "3",
            "--hold",
            "200ms",
            "--sources",
            "2",
            "--json",
            "-",
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!((v["established"].as_u64(), v["closed_early"].as_u64()), (Some(21), Some(0)), "{v}");
    assert_eq!(v["per_worker"].as_array().map(Vec::len), Some(3));
    assert_eq!(v["per_worker"][0]["connections"], 7);
}
