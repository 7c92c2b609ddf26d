//! Server push end to end: fan-out to subscribers on every shard, the daily topic, and
//! backpressure closing a stalled reader while the others keep up.
mod common;
mod wsclient;
use common::Server;
use serde_json::{json, Value};
use std::time::{Duration, Instant};
use wsclient::Ws;

fn publish(s: &Server, topic: &str, data: &Value) -> Value {
    let r = s.request("POST", &format!("/internal/publish?topic={topic}"), Some(&data.to_string()));
    assert_eq!(r.status, 200, "{}", r.text());
    serde_json::from_slice(&r.body).unwrap()
}

fn open_per_shard(s: &Server) -> Vec<(usize, u64)> {
    let m = s.request("GET", "/metrics", None).text();
    m.lines()
        .filter_map(|l| l.strip_prefix("hypercube_connections_open{shard=\""))
        .filter_map(|l| l.split_once("\"} "))
        .map(|(sh, n)| (sh.parse().unwrap(), n.parse().unwrap()))
        .collect()
}

#[test]
fn publish_reaches_subscribers_on_every_shard() {
    // Without SO_INCOMING_CPU the kernel hashes connections over both shards' listeners.
    let s = Server::start(&["--shards", "2", "--incoming-cpu", "false", "--ws-publish-api", "true"]);
    let mut subs = Vec::new();
    loop {
        for _ in 0..4 {
            let mut ws = Ws::connect(s.addr, "/v1/ws", "");
            let r = ws.call(json!({"id": subs.len(), "type": "subscribe", "topics": ["news", "other"]}));
            assert_eq!(r["type"], json!("subscribed"));
            subs.push(ws);
        }
        // The metrics request's own connection counts once on one shard.
        let per = open_per_shard(&s);
        if per.len() == 2 && per.iter().all(|(_, n)| *n >= 2) {
            break;
        }
        assert!(subs.len() < 64, "connections never reached both shards: {per:?}");
    }
    let mut bystander = Ws::connect(s.addr, "/v1/ws", "");
    let r = publish(&s, "news", &json!({"headline": "일진"}));
    assert_eq!(r["delivered"], json!(subs.len()), "every subscriber on every shard");
    for ws in &mut subs {
        assert_eq!(ws.recv_json(), json!({"type": "event", "topic": "news", "data": {"headline": "일진"}}));
    }
    assert_eq!(bystander.call(json!({"id": 1, "type": "ping"}))["type"], json!("pong"), "no event for a non-subscriber");
    // Unsubscribed or closed connections get nothing.
    let u = subs[0].call(json!({"id": "u", "type": "unsubscribe", "topics": ["news"]}));
    assert_eq!(u["type"], json!("unsubscribed"));
    drop(subs.pop());
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(publish(&s, "news", &json!(1))["delivered"], json!(subs.len() - 1));
    assert_eq!(publish(&s, "nobody", &json!(1))["delivered"], json!(0));
    let bad = s.request("POST", "/internal/publish?topic=bad%20name", Some("{}"));
    assert_eq!(bad.status, 422);
}

#[test]
fn publish_api_is_off_by_default() {
    let s = Server::start(&["--shards", "1"]);
    assert_eq!(s.request("POST", "/internal/publish?topic=x", Some("{}")).status, 404);
}

#[test]
fn daily_is_pushed_on_subscribe() {
    let s = Server::start(&["--shards", "1"]);
    let mut ws = Ws::connect(s.addr, "/v1/ws", "Sec-WebSocket-Protocol: hypercube.v1\r\n");
    let r = ws.call(json!({"id": 1, "type": "subscribe", "topic": "daily"}));
    assert_eq!(r, json!({"id": 1, "type": "subscribed", "topics": ["daily"]}));
    let e = ws.recv_json();
    assert_eq!((e["type"].clone(), e["topic"].clone()), (json!("event"), json!("daily")));
    assert_eq!(e["data"]["tz"], json!("Asia/Seoul"));
    let date = e["data"]["date"].as_str().unwrap().to_string();
    assert!(date.len() == 10 && date.as_bytes()[4] == b'-' && date.as_bytes()[7] == b'-', "{date}");
    let day = &e["data"]["day"];
    assert_eq!(day["pillar"]["hanja"].as_str().map(|h| h.chars().count()), Some(2), "{e}");
    assert!(day["stem_element"]["key"].is_string() && day["branch_element"]["key"].is_string(), "{e}");
}

#[test]
fn backpressure_closes_a_stalled_reader_and_others_keep_their_latency() {
    let s = Server::start(&["--shards", "1", "--ws-publish-api", "true", "--ws-send-queue-bytes", "262144", "--ws-close-timeout", "500ms"]);
    let mut stalled = Ws::connect(s.addr, "/v1/ws", "");
    stalled.call(json!({"id": 1, "type": "subscribe", "topic": "firehose"}));
    let mut active = Ws::connect(s.addr, "/v1/ws", "");
    active.call(json!({"id": 1, "type": "subscribe", "topic": "firehose"}));
    const N: usize = 300;
    let reader = std::thread::spawn(move || {
        let mut got = 0;
        while got < N {
            if active.recv_json()["topic"] == json!("firehose") {
                got += 1;
            }
        }
        got
    });
    let mut prober = Ws::connect(s.addr, "/v1/ws", "");
    let blob = "x".repeat(100_000);
    let mut worst = Duration::ZERO;
    for i in 0..N {
        publish(&s, "firehose", &json!({"seq": i, "blob": blob}));
        if i % 10 == 0 {
            let t0 = Instant::now();
            assert_eq!(prober.call(json!({"id": i, "type": "ping"}))["type"], json!("pong"));
            worst = worst.max(t0.elapsed());
        }
    }
    assert_eq!(reader.join().unwrap(), N, "the reading subscriber got every message");
    eprintln!("worst ping round trip while a reader was stalled: {worst:?}");
    assert!(worst < Duration::from_secs(1), "ping took {worst:?}");
    // The stalled reader: closed, so it finds the end of its stream (after what was buffered).
    let t0 = Instant::now();
    let mut events = 0;
    let mut close = None;
    while let Some((op, p)) = stalled.recv() {
        match op {
            1 => events += 1,
            8 => close = Some(u16::from_be_bytes([p[0], p[1]])),
            _ => {}
        }
    }
    assert!(events < N, "the stalled reader did not get everything ({events})");
    assert!(close.is_none() || close == Some(1013), "{close:?}");
    assert!(t0.elapsed() < Duration::from_secs(10));
    let m = s.request("GET", "/metrics", None).text();
    assert!(m.contains("hypercube_ws_backpressure_closes_total 1"), "{m}");
    assert!(m.contains("hypercube_ws_closes_total{code=\"1013\",by=\"server\"} 1"), "{m}");
}
