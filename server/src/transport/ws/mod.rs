//! WebSocket transport: the upgrade (decided here, in one place), the session loop of an
//! upgraded connection, and the endpoints' message handling: `/v1/ws` hands text messages to the
//! `hypercube.v1` protocol (`api::ws_v1`), `/v1/ws/echo` echoes them. The per-shard registry of
//! connections and topics is `crate::hub`; the codec is `proto::ws::Conn`.
//!
//! The HTTP/1.1 glue asks [`upgrade`] about every request; once a `101` is written it spawns
//! [`run`] with the bytes read past the request and ends its own task, so none of the HTTP
//! connection's buffers outlive the handshake.
//!
//! # Idle cost
//! A connection is one task, one hub slot and one pending readiness poll. It holds no read
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
mod sys;

use crate::api::ws_v1::{self, Outcome, Session};
use crate::hub::{ConnId, Hub};
use crate::route::{Route, WsEndpoint};
use crate::shard_parts::{ConnSlot, Shard, WS_SCRATCH};
use bytes::{Bytes, BytesMut};
use monoio::net::TcpStream;
use proto::http1;
use proto::ws::{handshake, CloseCode, Conn, Message};
use std::future::Future;
use std::os::fd::AsRawFd;
use std::rc::Rc;
use std::task::Poll;
use std::time::Instant;
use sys::Io;

/// Output left unsent above which the connection stops reading (TCP then slows the client).
const READ_PAUSE: usize = 64 * 1024;
/// The subprotocol of `/v1/ws`.
pub(crate) const PROTOCOL: &str = "hypercube.v1";

/// Whether `req` is a WebSocket handshake, and the answer if it is: a `101` and the endpoint,
/// or a 4xx refusal and `None`. `None` at the top: not a handshake, route it as HTTP (a
/// WebSocket path asked without `Upgrade` gets its 426 from the router). An upgrade request for
/// an unknown path under `/v1/ws` is a refused handshake (404), counted as one.
pub(crate) fn upgrade(shard: &Shard, req: &http1::Request) -> Option<(http1::Response, Option<WsEndpoint>)> {
    let path = std::str::from_utf8(req.path()).unwrap_or("");
    if !path.starts_with("/v1/ws") || !handshake::is_upgrade(req) {
        return None;
    }
    let counters = &shard.stats.ws;
    let endpoint = match Route::of(path, false) {
        Some((Route::Ws(e), _)) => e,
        _ => {
            counters.refused.add(1);
            return Some((refusal(404, "no websocket endpoint here").header("date", shard.date.get()), None));
        }
    };
    let protocols: &[&'static str] = match endpoint {
        WsEndpoint::Api => &[PROTOCOL],
        WsEndpoint::Echo => &[],
    };
    let policy = handshake::Policy { origins: &shard.cfg.ws.origins, protocols };
    Some(match handshake::accept(req, &policy) {
        Ok(a) => {
            counters.upgrades.add(1);
            (a.response.header("date", shard.date.get()), Some(endpoint))
        }
        Err(r) => {
            counters.refused.add(1);
            let mut resp = refusal(r.status, r.detail).header("date", shard.date.get());
            if r.status == 426 {
                resp = resp.header("Sec-WebSocket-Version", Bytes::from_static(b"13"));
            }
            (resp, None)
        }
    })
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
pub(crate) fn run(shard: Rc<Shard>, slot: ConnSlot, stream: TcpStream, input: BytesMut, endpoint: WsEndpoint) -> impl Future<Output = ()> {
    let id = shard.hub.register();
    let mut conn = Conn::new(shard.cfg.ws.limits.clone(), Instant::now());
    conn.recv(&input, Instant::now());
    drop(input);
    async move {
        let hub = &shard.hub;
        let mut shut_wr = false;
        let mut more = false;
        loop {
            step(&shard, id, endpoint, &mut conn);
            let blocked = flush(&shard, stream.as_raw_fd(), &mut conn);
            hub.set_unsent(id, conn.transmit().len());
            if let Some(c) = conn.take_close() {
                shard.stats.ws.close(c.code.0, c.by_peer);
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
                more = read(&shard, stream.as_raw_fd(), &mut conn);
                continue;
            }
            match wait(&stream, hub, id, can_read, blocked).await {
                Event::Readable(Ok(())) => more = read(&shard, stream.as_raw_fd(), &mut conn),
                Event::Readable(Err(_)) => conn.abort(),
                Event::Writable => {}
                Event::Notified => conn.handle_timeout(Instant::now()),
            }
        }
        hub.unregister(id);
        drop(stream);
        drop(slot);
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
fn step(shard: &Shard, id: ConnId, endpoint: WsEndpoint, conn: &mut Conn) {
    let (hub, c) = (&shard.hub, &shard.stats.ws);
    let session = Session {
        hub,
        conn: id,
        inference: shard.services.inference.as_ref(),
        send_queue_bytes: shard.cfg.ws.send_queue_bytes,
        infer_deadline: shard.cfg.infer_deadline,
    };
    while let Some(msg) = conn.poll_message() {
        c.msgs_in.add(1);
        match (endpoint, msg) {
            (WsEndpoint::Echo, m) => conn.send(&m),
            (WsEndpoint::Api, Message::Binary(_)) => {
                conn.close(CloseCode::UNSUPPORTED, "hypercube.v1 is JSON text frames", Instant::now());
            }
            (WsEndpoint::Api, Message::Text(t)) => match ws_v1::handle(&session, &t) {
                Outcome::Reply(r) => conn.send(&Message::Text(Bytes::from(r))),
                Outcome::Close(code, why) => conn.close(code, why, Instant::now()),
                Outcome::Later => continue,
            },
        }
        if conn.is_open() {
            c.msgs_out.add(1);
        }
    }
    let (pushes, overflow) = hub.take_pushes(id, conn.transmit().len());
    if overflow && conn.is_open() {
        c.backpressure.add(1);
        conn.close(CloseCode::TRY_AGAIN, "send queue full", Instant::now());
    }
    for p in pushes {
        conn.send(&Message::Text(p));
        c.msgs_out.add(1);
    }
    if hub.is_closing() && conn.is_open() {
        conn.close(CloseCode::GOING_AWAY, "server shutting down", Instant::now());
    }
}

/// Write as much as the socket takes. Returns true when it would block with output left.
fn flush(shard: &Shard, fd: i32, conn: &mut Conn) -> bool {
    while !conn.transmit().is_empty() {
        match sys::send(fd, conn.transmit()) {
            Ok(Io::Done(n)) => {
                conn.consume(n);
                shard.stats.bytes_out.add(n as u64);
            }
            Ok(Io::WouldBlock) => return true,
            Err(_) => conn.abort(),
        }
    }
    false
}

/// One non-blocking read into the shard's scratch buffer. Returns true when it filled the
/// buffer (more may be waiting).
fn read(shard: &Shard, fd: i32, conn: &mut Conn) -> bool {
    let mut scratch = shard.ws_scratch.borrow_mut();
    if scratch.len() < WS_SCRATCH {
        scratch.resize(WS_SCRATCH, 0);
    }
    match sys::recv(fd, &mut scratch) {
        Ok(Io::Done(0)) => conn.peer_closed(Instant::now()),
        Ok(Io::Done(n)) => {
            shard.stats.bytes_in.add(n as u64);
            conn.recv(&scratch[..n], Instant::now());
            return n == scratch.len();
        }
        Ok(Io::WouldBlock) => {}
        Err(_) => conn.abort(),
    }
    false
}
