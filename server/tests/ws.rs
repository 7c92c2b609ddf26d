//! WebSocket end to end over real sockets: handshake refusals, echo, the hypercube.v1
//! protocol, each close path the server takes, keepalive, and shutdown with 1001.
mod common;
mod wsclient;
use common::Server;
use serde_json::json;
use std::io::Write;
use std::time::Duration;
use wsclient::{handshake, upgrade_request, Ws};

#[test]
fn handshake_accepts_and_refuses() {
    let s = Server::start(&["--shards", "1", "--ws-origins", "https://app.example"]);
    let ws = Ws::connect(s.addr, "/v1/ws", "Sec-WebSocket-Protocol: chat, hypercube.v1\r\nOrigin: https://app.example\r\n");
    assert_eq!(ws.header("sec-websocket-accept").as_deref(), Some("s3pPLMBiTxaQ9kYGzzhZRbK+xOo="));
    assert_eq!(ws.header("sec-websocket-protocol").as_deref(), Some("hypercube.v1"));
    assert_eq!(ws.header("connection").as_deref(), Some("upgrade"));
    assert_eq!(ws.header("sec-websocket-extensions"), None, "permessage-deflate is declined");
    let status = |raw: String| handshake(s.addr, raw.as_bytes()).0;
    assert_eq!(status(upgrade_request("/v1/ws", "Origin: https://evil.example\r\n")), 403);
    assert_eq!(status(upgrade_request("/v1/ws/nope", "")), 404);
    // Elsewhere an Upgrade header is ignored and the request served as HTTP.
    assert_eq!(status(upgrade_request("/healthz", "")), 200);
    let (st, old) = handshake(s.addr, upgrade_request("/v1/ws", "").replace(": 13", ": 8").as_bytes());
    assert_eq!(st, 426);
    assert_eq!(old.header("sec-websocket-version").as_deref(), Some("13"));
    let m = s.request("GET", "/metrics", None).text();
    assert!(m.contains("hypercube_ws_upgrades_total 1") && m.contains("hypercube_ws_handshakes_refused_total 3"), "{m}");
}

#[test]
fn echo_with_first_frames_behind_the_handshake() {
    let s = Server::start(&["--shards", "2"]);
    // The client's first frames arrive in the same segment as the upgrade request.
    let mut raw = upgrade_request("/v1/ws/echo", "").into_bytes();
    raw.extend(proto::ws::client_frame(true, 1, "첫 메시지".as_bytes(), [9, 8, 7, 6]));
    raw.extend(proto::ws::client_frame(false, 2, &[1, 2], [0; 4]));
    raw.extend(proto::ws::client_frame(true, 9, b"mid", [0; 4]));
    raw.extend(proto::ws::client_frame(true, 0, &[3], [0; 4]));
    let (st, mut ws) = handshake(s.addr, &raw);
    assert_eq!(st, 101);
    // Pongs go out as the input is parsed, so before the echoes of the same read.
    let mut got = vec![ws.recv(), ws.recv(), ws.recv()];
    got.sort();
    let want = vec![Some((1, "첫 메시지".as_bytes().to_vec())), Some((2, vec![1, 2, 3])), Some((10, b"mid".to_vec()))];
    assert_eq!(got, want, "echoes, and the ping between fragments answered");
    let big = vec![b'x'; 200_000];
    ws.send_frame(true, 1, &big);
    assert_eq!(ws.recv(), Some((1, big)));
    ws.send_close(1000);
    assert_eq!(ws.recv_close(), Some(1000));
    ws.expect_eof();
}

#[test]
fn protocol_requests_replies_and_errors() {
    let s = Server::start(&["--shards", "1"]);
    let mut ws = Ws::connect(s.addr, "/v1/ws", "Sec-WebSocket-Protocol: hypercube.v1\r\n");
    assert_eq!(ws.call(json!({"id": 1, "type": "ping"})), json!({"id": 1, "type": "pong"}));
    let e = ws.call(json!({"id": "a", "type": "chart", "datetime": "1990-05-15T14:30:00", "offset": 99999}));
    assert_eq!((e["type"].clone(), e["status"].clone(), e["field"].clone()), (json!("error"), json!(422), json!("offset")));
    assert_eq!(e["code"], json!("invalid_input"));
    // Whatever /v1/saju answers, chart answers the same.
    let http = s.request("POST", "/v1/saju", Some(r#"{"datetime":"1990-05-15T14:30:00","offset":540}"#));
    let c = ws.call(json!({"id": 2, "type": "chart", "datetime": "1990-05-15T14:30:00", "offset": 540}));
    if http.status == 200 {
        assert_eq!(c["result"], serde_json::from_slice::<serde_json::Value>(&http.body).unwrap());
    } else {
        assert_eq!(c["status"], json!(http.status));
    }
    let e = ws.call(json!({"id": 3, "type": "launch"}));
    assert_eq!((e["type"].clone(), e["code"].clone()), (json!("error"), json!("unknown_type")));
    let e = ws.call(json!({"id": 4, "type": "subscribe", "topics": ["no spaces"]}));
    assert_eq!(e["code"], json!("invalid_topic"));
    let e = ws.call(json!({"id": 5, "type": "subscribe", "topics": (0..33).map(|i| format!("t{i}")).collect::<Vec<_>>()}));
    assert_eq!(e["code"], json!("invalid_topic"));
    let ok = ws.call(json!({"id": 6, "type": "unsubscribe", "topic": "x"}));
    assert_eq!(ok, json!({"id": 6, "type": "unsubscribed", "topics": ["x"]}));
    let e = ws.call(json!({"type": "ping"}));
    assert_eq!(e, json!({"id": null, "type": "pong"}));
    // Errors did not close the socket; a malformed frame does.
    ws.send_text("{not json");
    assert_eq!(ws.recv_close(), Some(1008));
    let mut ws = Ws::connect(s.addr, "/v1/ws", "");
    ws.send_frame(true, 2, b"\x00");
    assert_eq!(ws.recv_close(), Some(1003));
}

#[test]
fn protocol_violations_close_with_their_codes() {
    let s = Server::start(&["--shards", "1", "--ws-max-message-bytes", "1000"]);
    let cases: [(&str, Vec<u8>, u16); 5] = [
        ("unmasked", vec![0x81, 0x01, b'a'], 1002),
        ("bad utf-8", proto::ws::client_frame(true, 1, b"\xff", [1; 4]), 1007),
        ("too big", proto::ws::client_frame(true, 2, &[0; 1001], [1; 4]), 1009),
        ("bad close code", proto::ws::client_frame(true, 8, &1005u16.to_be_bytes(), [1; 4]), 1002),
        ("continuation of nothing", proto::ws::client_frame(true, 0, b"x", [1; 4]), 1002),
    ];
    for (what, frame, code) in cases {
        let mut ws = Ws::connect(s.addr, "/v1/ws/echo", "");
        ws.s.write_all(&frame).unwrap();
        assert_eq!(ws.recv_close(), Some(code), "{what}");
        ws.expect_eof();
    }
    let m = s.request("GET", "/metrics", None).text();
    for needle in [
        "hypercube_ws_closes_total{code=\"1002\",by=\"server\"} 3",
        "hypercube_ws_closes_total{code=\"1007\",by=\"server\"} 1",
        "hypercube_ws_closes_total{code=\"1009\",by=\"server\"} 1",
        "hypercube_ws_connections_open 0",
    ] {
        assert!(m.contains(needle), "metrics lack {needle}:\n{m}");
    }
}

#[test]
fn keepalive_ping_then_idle_close() {
    let s = Server::start(&["--shards", "1", "--ws-ping-interval", "300ms", "--ws-idle-timeout", "900ms"]);
    let mut ws = Ws::connect(s.addr, "/v1/ws/echo", "");
    let t0 = std::time::Instant::now();
    assert_eq!(ws.recv(), Some((9, vec![])), "ping after silence");
    assert!(t0.elapsed() >= Duration::from_millis(250));
    // Not answering: closed with 1001 once the idle timeout passes.
    assert_eq!(ws.recv_close(), Some(1001));
    assert!(t0.elapsed() >= Duration::from_millis(800));
    // A peer that answers pings stays open.
    let mut ws = Ws::connect(s.addr, "/v1/ws", "");
    for _ in 0..4 {
        assert_eq!(ws.recv().map(|f| f.0), Some(9));
        ws.send_frame(true, 10, b"");
    }
    assert_eq!(ws.call(json!({"id": 1, "type": "ping"}))["type"], json!("pong"));
}

#[test]
fn shutdown_closes_with_1001_and_exits_zero() {
    let mut s = Server::start(&["--shards", "2", "--ws-close-timeout", "300ms", "--drain-timeout", "20s"]);
    let mut clients: Vec<Ws> = (0..6).map(|_| Ws::connect(s.addr, "/v1/ws", "")).collect();
    for (i, c) in clients.iter_mut().enumerate() {
        assert_eq!(c.call(json!({"id": i, "type": "ping"}))["type"], json!("pong"));
    }
    // serve.rs logs "listening" before it installs its SIGTERM handler; give it time.
    std::thread::sleep(Duration::from_millis(300));
    let t0 = std::time::Instant::now();
    s.signal(15);
    for (i, c) in clients.iter_mut().enumerate() {
        assert_eq!(c.recv_close(), Some(1001));
        // Half answer the close; the others are dropped after the close timeout.
        if i % 2 == 0 {
            c.send_close(1001);
        }
        c.expect_eof();
    }
    assert_eq!(s.wait_exit(Duration::from_secs(10)), Some(0));
    assert!(t0.elapsed() < Duration::from_secs(5), "silent peers held the drain: {:?}", t0.elapsed());
}
