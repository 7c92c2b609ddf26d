//! WebSocket endpoints: `/v1/ws` (protocol `hypercube.v1`, see [`api`]) and `/v1/ws/echo`
//! (echoes every message; for Autobahn|Testsuite and benchmarks).
//!
//! The HTTP/1.1 glue (`crate::conn`) answers the upgrade with [`handshake`]; once the `101` is
//! written it spawns [`run`] with the bytes read past the request and ends its own task, so none
//! of the HTTP connection's buffers outlive the handshake. The codec is `proto::ws::Conn`.
//!
//! # Idle cost
//! A connection is one task, one [`hub`] slot and one pending readiness poll. It holds no read
//! buffer: it waits for readability and then reads with `recv(MSG_DONTWAIT)` into the shard's
//! one scratch buffer ([`sys`]); its output buffer is freed once written; it owns no timer (the
//! shard's sweeper wakes it when its protocol deadline passes).
//!
//! # Backpressure
//! Server pushes go through the connection's bounded queue in its hub slot; queued plus unsent
//! bytes past `ws_send_queue_bytes` close the connection with 1013 (counted), and the close
//! timeout then drops it even if it never reads again. Replies to a client's own requests are
//! bounded differently: reading pauses while 64 KiB of output is unsent, so a client that sends
//! without reading is slowed by TCP, not buffered.
//!
//! # Layout
//! - `hub`: per-shard slots, topics, sweeper; `api`: the `hypercube.v1` requests;
//!   `daily`: the `daily` topic; `sys`: non-blocking socket calls; `metrics`: counters.
pub(crate) mod api;
pub(crate) mod daily;
pub(crate) mod hub;
pub(crate) mod metrics;
mod sys;

use crate::router::{Resp, JSON};
use crate::state::ShardState;
use bytes::{Bytes, BytesMut};
use hub::{ConnId, Hub};
use metrics::Counters;
use monoio::net::TcpStream;
use proto::http1;
use proto::ws::{handshake, CloseCode, Conn, Message};
use std::future::Future;
use std::os::fd::AsRawFd;
use std::rc::Rc;
use std::task::Poll;
use std::time::{Duration, Instant};
use sys::Io;

/// Output left unsent above which the connection stops reading (TCP then slows the client).
const READ_PAUSE: usize = 64 * 1024;
const CROSS_SHARD_TIMEOUT: Duration = Duration::from_secs(2);
/// The subprotocol of `/v1/ws`.
pub(crate) const PROTOCOL: &str = "hypercube.v1";

/// WebSocket settings (see `config::Settings` for their docs and defaults).
#[derive(Debug, Clone, Default)]
pub(crate) struct WsConfig {
    pub(crate) origins: Vec<String>,
    pub(crate) limits: std::sync::Arc<proto::ws::Limits>,
    pub(crate) send_queue: usize,
    pub(crate) publish_api: bool,
}

/// Which endpoint a connection was upgraded on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Api,
    Echo,
}

/// Answer an upgrade request: a `101` and the endpoint, or a 4xx and `None`.
pub(crate) fn handshake(st: &ShardState, req: &http1::Request) -> (http1::Response, Option<Kind>) {
    let counters = &st.ws.counters;
    let (kind, protocols): (Kind, &[&'static str]) = match req.path() {
        b"/v1/ws" => (Kind::Api, &[PROTOCOL]),
        b"/v1/ws/echo" => (Kind::Echo, &[]),
        _ => {
            Counters::add(&counters.refused, 1);
            return (refusal(404, "no websocket endpoint here"), None);
        }
    };
    let policy = handshake::Policy { origins: &st.cfg.ws.origins, protocols };
    match handshake::accept(req, &policy) {
        Ok(a) => {
            Counters::add(&counters.upgrades, 1);
            (a.response.header("date", st.date.get()), Some(kind))
        }
        Err(r) => {
            Counters::add(&counters.refused, 1);
            let mut resp = refusal(r.status, r.detail).header("date", st.date.get());
            if r.status == 426 {
                resp = resp.header("Sec-WebSocket-Version", Bytes::from_static(b"13"));
            }
            (resp, None)
        }
    }
}

fn refusal(status: u16, detail: &str) -> http1::Response {
    let body = serde_json::json!({"error": "websocket_handshake", "detail": detail}).to_string();
    http1::Response::json(status, body)
}

/// Serve one upgraded connection until it closes. `input`: bytes read past the handshake.
///
/// A plain fn returning an `async move` block rather than an `async fn`: an async fn moves its
/// arguments into locals and keeps both copies in the future (the stream alone is 80 bytes),
/// and the task of an idle connection is most of what it costs.
pub(crate) fn run(st: Rc<ShardState>, stop: shard::Stop, stream: TcpStream, input: BytesMut, kind: Kind) -> impl Future<Output = ()> {
    st.ws.start_sweeper(&stop);
    drop(stop);
    let id = st.ws.register();
    let mut conn = Conn::new(st.cfg.ws.limits.clone(), Instant::now());
    conn.recv(&input, Instant::now());
    drop(input);
    async move {
        let hub = &st.ws;
        let mut shut_wr = false;
        let mut more = false;
        loop {
            step(&st, hub, id, kind, &mut conn);
            let blocked = flush(&st, stream.as_raw_fd(), &mut conn);
            hub.set_unsent(id, conn.transmit().len());
            if let Some(c) = conn.take_close() {
                hub.counters.close(c.code.0, c.by_peer);
            }
            if conn.wants_shutdown_write() && !shut_wr {
                sys::shutdown_write(stream.as_raw_fd());
                shut_wr = true;
            }
            if conn.is_closed() {
                break;
            }
            hub.set_deadline(id, conn.deadline());
            let can_read = conn.wants_read() && conn.transmit().len() < READ_PAUSE;
            if more && can_read {
                more = read(&st, hub, stream.as_raw_fd(), &mut conn);
                continue;
            }
            match wait(&stream, hub, id, can_read, blocked).await {
                Event::Readable(Ok(())) => more = read(&st, hub, stream.as_raw_fd(), &mut conn),
                Event::Readable(Err(_)) => conn.abort(),
                Event::Writable => {}
                Event::Notified => conn.handle_timeout(Instant::now()),
            }
        }
        hub.unregister(id);
        drop(stream);
        st.conn_closed();
    }
}

enum Event {
    Readable(std::io::Result<()>),
    Writable,
    Notified,
}

/// Wait for the hub's notification, readability (if `can_read`) or writability (if `blocked`).
/// Hand-rolled rather than `select!`: an idle connection then carries one readiness poll and
/// nothing else (the writable poll is boxed, and created only while blocked).
async fn wait(stream: &TcpStream, hub: &Hub, id: ConnId, can_read: bool, blocked: bool) -> Event {
    let mut readable = std::pin::pin!(async {
        if can_read {
            stream.readable(false).await
        } else {
            std::future::pending().await
        }
    });
    let mut writable = blocked.then(|| Box::pin(stream.writable(false)));
    std::future::poll_fn(|cx| {
        if hub.poll_notified(id, cx).is_ready() {
            return Poll::Ready(Event::Notified);
        }
        if let Some(w) = writable.as_mut() {
            if w.as_mut().poll(cx).is_ready() {
                return Poll::Ready(Event::Writable);
            }
        }
        readable.as_mut().poll(cx).map(Event::Readable)
    })
    .await
}

/// Handle received messages, queued pushes, backpressure and shutdown.
fn step(st: &ShardState, hub: &Rc<Hub>, id: ConnId, kind: Kind, conn: &mut Conn) {
    let c = &hub.counters;
    while let Some(msg) = conn.poll_message() {
        Counters::add(&c.msgs_in, 1);
        match (kind, msg) {
            (Kind::Echo, m) => conn.send(&m),
            (Kind::Api, Message::Binary(_)) => {
                conn.close(CloseCode::UNSUPPORTED, "hypercube.v1 is JSON text frames", Instant::now());
            }
            (Kind::Api, Message::Text(t)) => match api::handle(st, hub, id, &t) {
                api::Outcome::Reply(r) => conn.send_text(&r),
                api::Outcome::Close(code, why) => conn.close(code, why, Instant::now()),
                api::Outcome::Later => continue,
            },
        }
        if conn.is_open() {
            Counters::add(&c.msgs_out, 1);
        }
    }
    let (pushes, overflow) = hub.take_pushes(id, conn.transmit().len());
    if overflow && conn.is_open() {
        Counters::add(&c.backpressure, 1);
        conn.close(CloseCode::TRY_AGAIN, "send queue full", Instant::now());
    }
    for p in pushes {
        conn.send(&Message::Text(p));
        Counters::add(&c.msgs_out, 1);
    }
    if hub.is_closing() && conn.is_open() {
        conn.close(CloseCode::GOING_AWAY, "server shutting down", Instant::now());
    }
}

/// Write as much as the socket takes. Returns true when it would block with output left.
fn flush(st: &ShardState, fd: i32, conn: &mut Conn) -> bool {
    while !conn.transmit().is_empty() {
        match sys::send(fd, conn.transmit()) {
            Ok(Io::Done(n)) => {
                conn.consume(n);
                crate::stats::Stats::add(&st.stats.bytes_out, n as u64);
            }
            Ok(Io::WouldBlock) => return true,
            Err(_) => conn.abort(),
        }
    }
    false
}

/// One non-blocking read into the shard's scratch buffer. Returns true when it filled the
/// buffer (more may be waiting).
fn read(st: &ShardState, hub: &Hub, fd: i32, conn: &mut Conn) -> bool {
    let mut scratch = hub.scratch.borrow_mut();
    if scratch.len() < hub::SCRATCH {
        scratch.resize(hub::SCRATCH, 0);
    }
    match sys::recv(fd, &mut scratch) {
        Ok(Io::Done(0)) => conn.peer_closed(Instant::now()),
        Ok(Io::Done(n)) => {
            crate::stats::Stats::add(&st.stats.bytes_in, n as u64);
            conn.recv(&scratch[..n], Instant::now());
            return n == scratch.len();
        }
        Ok(Io::WouldBlock) => {}
        Err(_) => conn.abort(),
    }
    false
}

/// `POST /internal/publish?topic=NAME` with a JSON body: push `{"type":"event","topic","data"}`
/// to the topic's subscribers on every shard (one shard message each). Answers how many
/// connections it was queued to.
pub(crate) async fn publish(st: &ShardState, query: &str, body: &[u8]) -> Resp {
    if !st.cfg.ws.publish_api {
        return Resp::error(404, "not_found", "no such path", None);
    }
    let topic = query.split('&').find_map(|kv| kv.strip_prefix("topic=")).unwrap_or("");
    if !api::valid_topic(topic) {
        return Resp::error(422, "invalid_input", "topic: 1-64 characters of A-Z a-z 0-9 . _ : -", Some("topic"));
    }
    let Ok(data) = serde_json::from_slice::<serde_json::Value>(body) else {
        return Resp::error(400, "bad_json", "the body is the event data, as JSON", None);
    };
    let msg = Bytes::from(serde_json::json!({"type": "event", "topic": topic, "data": data}).to_string());
    let (topic, bound) = (topic.to_string(), st.cfg.ws.send_queue);
    let fanout = st.sharded.map_reduce(
        move |s: &ShardState| {
            let n = s.ws.deliver(&topic, &msg, bound);
            Counters::add(&s.ws.counters.pushes, n);
            n
        },
        0u64,
        |a, b| a + b,
    );
    match monoio::time::timeout(CROSS_SHARD_TIMEOUT, fanout).await {
        Ok(Ok(n)) => Resp::new(200, JSON, serde_json::json!({"delivered": n}).to_string()),
        _ => Resp::error(503, "unavailable", "a shard did not take the message", None),
    }
}
