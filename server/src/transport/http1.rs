//! HTTP/1.1 glue: moves bytes between a monoio TCP stream and the sans-IO
//! [`proto::http1::Conn`], hands each request to the one request path (`route::handle`), and
//! hands a WebSocket upgrade to `transport::ws`.
//!
//! Timers are lazy: one [`Timer`] per connection, re-armed only when the protocol's deadline
//! moves earlier or when it fires, so a keep-alive request costs no timer operation.
//!
//! Shutdown: reads are cancelable through the shard's read canceller. When the shard stops it
//! cancels them all; a read that had already received bytes still returns them (no request the
//! kernel accepted is dropped). A request already read, being answered, or arriving within the
//! idle grace (`drain_idle_grace`) is answered with `Connection: close`; a connection still idle
//! when the grace ends is closed. The grace closes the race where a keep-alive client sends its
//! next request just as the server would close the idle connection.
use crate::http::{Method, Req, Resp};
use crate::route::{self, WsEndpoint};
use crate::shard_parts::{ConnSlot, Shard};
use crate::stats::RouteId;
use monoio::io::{AsyncWriteRent, AsyncWriteRentExt, CancelableAsyncReadRent};
use monoio::net::TcpStream;
use proto::http1::{self, Conn};
use shard::rt::Timer;
use shard::Stop;
use std::rc::Rc;
use std::time::Instant;
use tracing::debug;

/// Read buffer while waiting for a new request: big enough for a typical API request in one
/// read, small because an io_uring read pins its buffer for as long as the connection idles.
const IDLE_READ_BUF: usize = 1024;
/// Read buffer in the middle of a request (large heads, bodies).
const BUSY_READ_BUF: usize = 16 * 1024;
const ECANCELED: i32 = 125;

/// One connection's state between reads.
struct Http1 {
    conn: Conn,
    /// The drain has told the protocol to shut down (the next response says `Connection: close`).
    shut: bool,
    /// When an idle connection is closed during the drain (set at the first turn after stop).
    grace: Option<Instant>,
    /// The read buffer, kept between reads while its size fits.
    rbuf: Option<Vec<u8>>,
    /// The write buffer (io_uring takes ownership during a write).
    wbuf: Vec<u8>,
    timer: Timer,
    /// The endpoint a `101` just went out for.
    upgrade: Option<WsEndpoint>,
}

/// Serve one accepted connection until it closes (or becomes a WebSocket).
pub(crate) async fn serve(shard: Rc<Shard>, slot: ConnSlot, stop: Stop, mut stream: TcpStream) {
    let now = Instant::now();
    let conn = Conn::new(shard.cfg.limits.clone(), now);
    let timer = Timer::new(conn.deadline());
    let mut c = Http1 { conn, shut: false, grace: None, rbuf: None, wbuf: Vec::new(), timer, upgrade: None };
    loop {
        dispatch(&shard, &mut c, &stop).await;
        if stop.is_stopped() && !c.shut {
            drain_turn(&shard, &mut c);
        }
        if let Some(err) = c.conn.take_error() {
            shard.stats.count(RouteId::Protocol, err.status());
            debug!(shard = shard.id, error = %err, "bad request");
        }
        if !c.conn.transmit().is_empty() {
            if !write(&shard, &mut c, &mut stream).await {
                break;
            }
            continue;
        }
        if c.conn.is_upgraded() {
            // The 101 is out: the WebSocket task takes the stream and the connection slot; this
            // task and its buffers end.
            if let Some(endpoint) = c.upgrade.take() {
                let input = c.conn.take_upgraded_input();
                drop(shard::rt::spawn("websocket", super::ws::run(shard, slot, stream, input, endpoint)));
                return;
            }
            break;
        }
        if c.conn.is_closed() {
            break;
        }
        if let Some(d) = c.conn.deadline() {
            c.timer.arm_earlier(d);
        }
        if !read(&shard, &mut c, &mut stream).await {
            break;
        }
    }
    drop(slot);
}

/// During the drain: close the connection once it is idle and its grace is over, else make sure
/// the timer wakes it when the grace ends.
fn drain_turn(shard: &Shard, c: &mut Http1) {
    let now = Instant::now();
    let until = *c.grace.get_or_insert(now + shard.cfg.drain_idle_grace);
    if c.conn.is_idle() && now >= until {
        c.conn.start_shutdown();
        c.shut = true;
    } else if now < until {
        c.timer.arm_earlier(until);
    }
}

/// Write what the protocol has for the socket. False: the connection is gone.
async fn write(shard: &Shard, c: &mut Http1, stream: &mut TcpStream) -> bool {
    let mut wbuf = std::mem::take(&mut c.wbuf);
    wbuf.clear();
    wbuf.extend_from_slice(c.conn.transmit());
    // A client that stops reading must not hold the connection forever.
    let Ok((res, b)) = shard::rt::timeout(shard.cfg.write_timeout, stream.write_all(wbuf)).await else {
        debug!(shard = shard.id, "write timed out");
        return false;
    };
    c.wbuf = b;
    match res {
        Ok(n) => {
            c.conn.consume(n);
            shard.stats.bytes_out.add(n as u64);
            true
        }
        Err(_) => false,
    }
}

/// Wait for bytes (or the protocol's timer). False: the connection is gone.
async fn read(shard: &Shard, c: &mut Http1, stream: &mut TcpStream) -> bool {
    let want = if c.conn.is_idle() { IDLE_READ_BUF } else { BUSY_READ_BUF };
    let buf = match c.rbuf.take() {
        Some(b) if b.capacity() == want => b,
        _ => Vec::with_capacity(want),
    };
    let cancel = shard.reads.handle();
    monoio::select! {
        r = stream.cancelable_read(buf, cancel), if c.conn.wants_read() => {
            let (res, mut b) = r;
            match res {
                Ok(0) => c.conn.peer_closed(Instant::now()),
                Ok(n) => {
                    shard.stats.bytes_in.add(n as u64);
                    c.conn.recv(&b[..n], Instant::now());
                }
                Err(e) if e.raw_os_error() == Some(ECANCELED) => {}
                Err(_) => return false,
            }
            b.clear();
            c.rbuf = Some(b);
        }
        _ = c.timer.fired() => {
            let now = Instant::now();
            c.conn.handle_timeout(now);
            let grace = c.grace.filter(|g| !c.shut && *g > now);
            let next = match (c.conn.deadline(), grace) {
                (Some(d), Some(g)) => Some(d.min(g)),
                (d, g) => d.or(g),
            };
            c.timer.rearm(next);
        }
    }
    true
}

/// Answer every request the protocol has parsed, in order. Once the shard is stopping, the
/// connection is told to shut down before the response is given, so it says `Connection: close`
/// — also for a request whose handler was still running when the stop came.
async fn dispatch(shard: &Rc<Shard>, c: &mut Http1, stop: &Stop) {
    while let Some((id, req)) = c.conn.poll_request() {
        let resp = if let Some((resp, endpoint)) = (!c.shut).then(|| super::ws::upgrade(shard, &req)).flatten() {
            c.upgrade = endpoint;
            resp
        } else {
            let path = std::str::from_utf8(req.path()).unwrap_or("");
            let query = req.query().and_then(|q| std::str::from_utf8(q).ok()).unwrap_or("");
            let r = Req {
                method: Method::from_token(req.method.as_bytes()),
                path,
                query,
                content_type: req.header("content-type"),
                accept_encoding: req.header("accept-encoding"),
                body: &req.body,
            };
            let resp = route::handle(shard, &r).await;
            to_http1(resp, shard)
        };
        if !c.shut && stop.is_stopped() {
            c.conn.start_shutdown();
            c.shut = true;
        }
        if let Err(e) = c.conn.respond(id, resp, Instant::now()) {
            debug!(shard = shard.id, error = %e, "respond");
        }
    }
}

fn to_http1(r: Resp, shard: &Shard) -> http1::Response {
    let mut out = http1::Response::new(r.status).header("date", shard.date.get()).body(r.content_type, r.body);
    for (name, value) in r.headers {
        out = out.header(name, value);
    }
    if let Some(alt) = &shard.alt_svc {
        out = out.header("alt-svc", alt.clone());
    }
    out
}

/// Over the connection limit: a canned 503, then close.
pub(crate) async fn reject(shard: Rc<Shard>, mut stream: TcpStream) {
    const BODY: &[u8] = b"HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\ncontent-length: 51\r\nretry-after: 1\r\nconnection: close\r\n\r\n{\"error\":\"overloaded\",\"detail\":\"connection limit\"}\n";
    shard.stats.conns_rejected.add(1);
    shard.stats.count(RouteId::Rejected, 503);
    let _ = stream.write_all(BODY).await;
    let _ = stream.shutdown().await;
}
