//! `/v1/interpret` end to end: the real binary with the real model (ranked passages, 504 past
//! the deadline, 503 + Retry-After when the queue is full), and with no library at all (the
//! rest of the server works; /readyz and /v1/interpret say why inference is off).
mod common;
mod wsclient;
use common::Server;
use std::path::PathBuf;
use std::time::{Duration, Instant};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Flags pointing at scripts/setup's files, or None (a failure when HYPERCUBE_REQUIRE_INFERENCE=1).
fn model_flags(test: &str) -> Option<Vec<String>> {
    let lib = std::env::var_os("HYPERCUBE_ORT_LIB").map_or_else(|| root().join(".deps/onnxruntime/libonnxruntime.so"), PathBuf::from);
    let dir = std::env::var_os("HYPERCUBE_MODEL_DIR").map_or_else(|| root().join(".deps/models/minilm"), PathBuf::from);
    if !(lib.is_file() && dir.join("model.onnx").is_file() && dir.join("tokenizer.json").is_file()) {
        let msg = format!("{test}: onnxruntime ({}) or model ({}) missing; run scripts/setup", lib.display(), dir.display());
        assert!(std::env::var("HYPERCUBE_REQUIRE_INFERENCE").map_or(true, |v| v != "1"), "{msg} (HYPERCUBE_REQUIRE_INFERENCE=1)");
        eprintln!("SKIPPED {msg}");
        return None;
    }
    let s = |p: PathBuf| p.to_string_lossy().into_owned();
    Some(vec![
        "--ort-lib".into(),
        s(lib),
        "--model-dir".into(),
        s(dir),
        "--corpus-cache".into(),
        s(root().join(".deps/cache")),
        "--ep".into(),
        "auto".into(),
    ])
}

fn start_with_model(test: &str, extra: &[&str]) -> Option<Server> {
    let flags = model_flags(test)?;
    let mut args: Vec<&str> = flags.iter().map(String::as_str).collect();
    args.extend(extra);
    let s = Server::start(&args);
    // The server listens at once and loads the model in the background (the first run on a
    // machine also embeds the corpus, ~15 s on one core).
    let end = Instant::now() + Duration::from_secs(240);
    loop {
        let r = s.request("GET", "/readyz", None);
        let body = r.text();
        if body.contains(r#""state":"ready""#) {
            assert!(body.contains(r#""ep":"cpu""#) || body.contains(r#""ep":"cuda""#), "{body}");
            return Some(s);
        }
        assert!(body.contains(r#""state":"loading""#), "inference did not load: {body}\n{}", s.drain_log().join("\n"));
        assert!(Instant::now() < end, "inference still loading after 240 s");
        std::thread::sleep(Duration::from_millis(200));
    }
}

const CHART: &str = r#"{"datetime":"1990-05-15T14:30:00","offset":540,"gender":"m","luck_year":2026}"#;

fn ask(s: &Server, question: &str, extra: &str) -> common::Response {
    ask_at(s.addr, question, extra)
}

/// One POST on a new connection (by address, so threads can share it).
fn ask_at(addr: std::net::SocketAddr, question: &str, extra: &str) -> common::Response {
    use std::io::{Read, Write};
    let body = format!(r#"{{"question":{},"chart":{CHART}{extra}}}"#, serde_json::to_string(question).unwrap());
    let raw = format!(
        "POST /v1/interpret HTTP/1.1\r\nHost: t\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    let mut c = std::net::TcpStream::connect(addr).unwrap();
    c.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    c.write_all(raw.as_bytes()).unwrap();
    let mut out = Vec::new();
    let _ = c.read_to_end(&mut out);
    let mut rs = common::parse_responses(&out, false);
    assert_eq!(rs.len(), 1, "{}", String::from_utf8_lossy(&out));
    rs.remove(0)
}

#[test]
fn interpret_ranks_passages_for_a_chart_and_question() {
    let Some(s) = start_with_model("interpret_ranks_passages_for_a_chart_and_question", &["--shards", "2"]) else { return };
    for (q, lang, domain) in
        [("올해 직장운은 어떤가요? 승진할 수 있을까요?", "ko", "domain:career"), ("How is my money this year?", "en", "domain:wealth")]
    {
        let r = ask(&s, q, r#","top_k":4"#);
        assert_eq!(r.status, 200, "{}", r.text());
        let v: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
        assert_eq!(v["lang"], lang);
        assert_eq!(v["ep"], "cpu");
        let passages = v["passages"].as_array().unwrap();
        assert_eq!(passages.len(), 4);
        let scores: Vec<f64> = passages.iter().map(|p| p["score"].as_f64().unwrap()).collect();
        assert!(scores.windows(2).all(|w| w[0] >= w[1]), "not sorted: {scores:?}");
        for p in passages {
            assert_eq!(p["lang"], lang, "{p}");
            let sim = p["similarity"].as_f64().unwrap();
            assert!((-1.0..=1.0).contains(&sim));
        }
        // Each boost names the chart or question fact that caused it.
        let tags: Vec<&str> = passages.iter().flat_map(|p| p["facts"].as_array().unwrap()).map(|f| f["tag"].as_str().unwrap()).collect();
        assert!(tags.contains(&domain), "{q}: no passage on {domain}: {}", r.text());
        let facts = v["facts"].as_array().unwrap();
        assert!(facts.iter().any(|f| f["tag"].as_str().unwrap().starts_with("luck:god:")), "{}", r.text());
        assert!(v["chart"]["four_pillars"]["day"]["hanja"].is_string());
    }
    // Input errors name the field, before any inference.
    let r = s.request("POST", "/v1/interpret", Some(&format!(r#"{{"chart":{CHART}}}"#)));
    assert_eq!(r.status, 422);
    assert!(r.text().contains(r#""field":"question""#), "{}", r.text());
    let r = s.request("POST", "/v1/interpret", Some(r#"{"question":"hi","chart":{"datetime":"1990-13-01T00:00","offset":540}}"#));
    assert_eq!(r.status, 422);
    assert!(r.text().contains(r#""field":"chart.datetime""#), "{}", r.text());
    let r = ask(&s, "hi", r#","top_k":99"#);
    assert!(r.status == 422 && r.text().contains("top_k"), "{}", r.text());
    let r = s.request("GET", "/v1/interpret", None);
    assert_eq!((r.status, r.header("allow")), (405, Some("POST")));
    let m = s.request("GET", "/metrics", None).text();
    for needle in [
        r#"hypercube_inference_info{state="ready",ep="cpu"} 1"#,
        r#"hypercube_requests_total{route="/v1/interpret",status="200"} 2"#,
        "hypercube_inference_batch_size_count",
        "hypercube_inference_jobs_total 2",
    ] {
        assert!(m.contains(needle), "metrics lack {needle}:\n{m}");
    }
}

#[test]
fn interpret_past_its_deadline_is_504() {
    let Some(s) = start_with_model("interpret_past_its_deadline_is_504", &["--shards", "1", "--infer-deadline", "1ms"]) else { return };
    let r = ask(&s, "Will my career grow?", "");
    assert_eq!(r.status, 504, "{}", r.text());
    assert!(r.text().contains("deadline_exceeded"));
}

#[test]
fn interpret_with_a_full_queue_is_503_with_retry_after() {
    let Some(s) = start_with_model(
        "interpret_with_a_full_queue_is_503_with_retry_after",
        &["--shards", "2", "--infer-queue", "1", "--max-batch", "1", "--infer-deadline", "20s"],
    ) else {
        return;
    };
    let addr = s.addr;
    let threads: Vec<_> = (0..24)
        .map(|i| {
            std::thread::spawn(move || ask_at(addr, &format!("question number {i} about my career and my health in the coming years"), ""))
        })
        .collect();
    let rs: Vec<_> = threads.into_iter().map(|t| t.join().unwrap()).collect();
    let full: Vec<_> = rs.iter().filter(|r| r.status == 503).collect();
    assert!(rs.iter().all(|r| r.status == 200 || r.status == 503), "{:?}", rs.iter().map(|r| r.status).collect::<Vec<_>>());
    assert!(!full.is_empty(), "24 concurrent questions never overflowed a queue of 1");
    assert!(rs.iter().any(|r| r.status == 200));
    for r in full {
        assert_eq!(r.header("retry-after"), Some("1"));
        assert!(r.text().contains("overloaded"), "{}", r.text());
    }
}

#[test]
fn without_the_library_the_server_serves_and_says_why() {
    let s = Server::start(&["--shards", "1", "--ort-lib", "/nonexistent/libonnxruntime.so"]);
    let r = s.request("GET", "/healthz", None);
    assert_eq!(r.status, 200);
    let r = s.request("GET", "/v1/saju?datetime=1990-05-15T14%3A30%3A00&offset=540", None);
    assert_eq!(r.status, 200);
    // The failure is reported once loading gives up (at once: the file is not there).
    let end = Instant::now() + Duration::from_secs(20);
    let ready = loop {
        let r = s.request("GET", "/readyz", None);
        if !r.text().contains("loading") || Instant::now() > end {
            break r;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(ready.status, 200, "the server is ready for everything else: {}", ready.text());
    assert!(ready.text().contains(r#""state":"disabled""#) && ready.text().contains("/nonexistent"), "{}", ready.text());
    let r = ask(&s, "How is my career?", "");
    assert_eq!(r.status, 503, "{}", r.text());
    assert!(r.text().contains("inference_disabled") && r.text().contains("/nonexistent"), "{}", r.text());
    assert_eq!(r.header("retry-after"), None, "a disabled service will not come back by retrying");
    let m = s.request("GET", "/metrics", None).text();
    assert!(m.contains(r#"hypercube_inference_info{state="disabled",ep="none"} 1"#), "{m}");
    std::thread::sleep(Duration::from_millis(100));
    let log = [s.startup.clone(), s.drain_log()].concat().join("\n");
    assert_eq!(log.matches("inference disabled").count(), 1, "one clear log line:\n{log}");
}

#[test]
fn interpret_over_websocket_answers_later_without_blocking_other_requests() {
    let Some(s) = start_with_model("interpret_over_websocket", &["--shards", "1"]) else { return };
    let mut ws = wsclient::Ws::connect(s.addr, "/v1/ws", "Sec-WebSocket-Protocol: hypercube.v1\r\n");
    let chart: serde_json::Value = serde_json::from_str(CHART).unwrap();
    let ask = serde_json::json!({"id": "q1", "type": "interpret", "question": "How is my career this year?", "chart": chart, "top_k": 3});
    ws.send_text(&ask.to_string());
    ws.send_text(r#"{"id":"p1","type":"ping"}"#);
    let mut got = Vec::new();
    while got.len() < 2 {
        got.push(ws.recv_json());
    }
    // The ping is answered while the model runs; the interpretation arrives as its own reply.
    assert_eq!(got[0]["id"], "p1", "{got:?}");
    let answer = &got[1];
    assert_eq!((answer["id"].as_str(), answer["type"].as_str()), (Some("q1"), Some("interpret")), "{answer}");
    let passages = answer["result"]["passages"].as_array().expect("passages");
    assert_eq!(passages.len(), 3, "{answer}");
    // Errors keep the socket open and carry the id.
    ws.send_text(r#"{"id":"q2","type":"interpret","chart":{"datetime":"1990-05-15T14:30:00","offset":540}}"#);
    let err = ws.recv_json();
    assert_eq!((err["id"].as_str(), err["type"].as_str(), err["status"].as_u64()), (Some("q2"), Some("error"), Some(422)), "{err}");
    assert_eq!(ws.call(serde_json::json!({"id": 3, "type": "ping"}))["type"], "pong");
}
