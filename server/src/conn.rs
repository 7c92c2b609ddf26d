//! HTTP/1.1 connection glue: moves bytes between a monoio TCP stream and the sans-IO
//! [`proto::http1::Conn`], routes each request, and keeps the shard's counters.
//!
//! Timers are lazy: one `Sleep` per connection, re-armed only when the protocol's deadline moves
//! earlier or when it fires early, so a keep-alive request costs no timer operation.
use crate::router::{self, Method, Req, Resp};
use crate::state::{DateCache, ShardState};
use crate::stats::{RouteId, Stats};
use monoio::io::{AsyncWriteRent, AsyncWriteRentExt, CancelableAsyncReadRent};
use monoio::net::TcpStream;
use proto::http1::{self, Conn};
use shard::Stop;
use std::rc::Rc;
use std::time::{Duration, Instant};
use tracing::debug;

/// Read buffer while waiting for a new request: big enough for a typical API request in one
/// read, small because an io_uring read pins its buffer for as long as the connection idles.
const IDLE_READ_BUF: usize = 1024;
/// Read buffer in the middle of a request (large heads, bodies).
const BUSY_READ_BUF: usize = 16 * 1024;
const ECANCELED: i32 = 125;
const FAR: Duration = Duration::from_secs(86_400 * 365);

/// Serve one accepted connection until it closes.
///
/// Shutdown: reads are cancelable through the shard's read canceller. When the shard stops it
/// cancels them all; a read that had already received bytes still returns them (no request
/// the kernel accepted is dropped). A request already read, or arriving within the idle grace
/// (`drain_idle_grace`), is answered with `Connection: close`; a connection still idle when the
/// grace ends is closed. The grace closes the race where a keep-alive client sends its next
/// request just as the server would close the idle connection.
pub(crate) async fn serve(st: Rc<ShardState>, stop: Stop, mut stream: TcpStream) {
    let now = Instant::now();
    let mut conn = Conn::new(st.cfg.limits.clone(), now);
    let mut shut = false;
    let mut grace: Option<Instant> = None;
    let mut rbuf: Option<Vec<u8>> = None;
    let mut wbuf = Vec::new();
    let mut armed = conn.deadline().unwrap_or(now + FAR);
    let mut timer = Box::pin(monoio::time::sleep_until(armed.into()));
    let mut upgrade = None;
    loop {
        dispatch(&st, &mut conn, &stop, &mut shut, &mut upgrade).await;
        if stop.is_stopped() && !shut {
            let now = Instant::now();
            let until = *grace.get_or_insert(now + st.cfg.drain_idle_grace);
            if conn.is_idle() && now >= until {
                conn.start_shutdown();
                shut = true;
            } else if now < until && until < armed {
                armed = until;
                timer.as_mut().reset(until.into());
            }
        }
        if let Some(err) = conn.take_error() {
            st.stats.count(RouteId::Protocol, err.status());
            debug!(shard = st.id, error = %err, "bad request");
        }
        if !conn.transmit().is_empty() {
            wbuf.clear();
            wbuf.extend_from_slice(conn.transmit());
            // A client that stops reading must not hold the connection forever.
            let Ok((res, b)) = monoio::time::timeout(st.cfg.write_timeout, stream.write_all(wbuf)).await else {
                debug!(shard = st.id, "write timed out");
                break;
            };
            wbuf = b;
            match res {
                Ok(n) => {
                    conn.consume(n);
                    Stats::add(&st.stats.bytes_out, n as u64);
                }
                Err(_) => break,
            }
            continue;
        }
        if conn.is_upgraded() {
            // The 101 is out: the WebSocket task takes the stream, this task and its buffers end.
            if let Some(kind) = upgrade.take() {
                let input = conn.take_upgraded_input();
                st.clone().spawn("websocket", true, crate::ws::run(st, stop, stream, input, kind));
                return;
            }
            break;
        }
        if conn.is_closed() {
            break;
        }
        match conn.deadline() {
            Some(d) if d < armed => {
                armed = d;
                timer.as_mut().reset(d.into());
            }
            _ => {}
        }
        let want = if conn.is_idle() { IDLE_READ_BUF } else { BUSY_READ_BUF };
        let buf = match rbuf.take() {
            Some(b) if b.capacity() == want => b,
            _ => Vec::with_capacity(want),
        };
        let cancel = st.read_cancel_handle();
        monoio::select! {
            r = stream.cancelable_read(buf, cancel), if conn.wants_read() => {
                let (res, mut b) = r;
                match res {
                    Ok(0) => conn.peer_closed(Instant::now()),
                    Ok(n) => {
                        Stats::add(&st.stats.bytes_in, n as u64);
                        conn.recv(&b[..n], Instant::now());
                    }
                    Err(e) if e.raw_os_error() == Some(ECANCELED) => {}
                    Err(_) => break,
                }
                b.clear();
                rbuf = Some(b);
            }
            _ = &mut timer => {
                let now = Instant::now();
                conn.handle_timeout(now);
                armed = conn.deadline().unwrap_or(now + FAR);
                if let Some(g) = grace.filter(|g| !shut && *g > now) {
                    armed = armed.min(g);
                }
                // Never re-arm in the past: a ready timer would not yield and would starve the shard.
                armed = armed.max(now + Duration::from_millis(1));
                timer.as_mut().reset(armed.into());
            }
        }
    }
    st.conn_closed();
}

/// Route every request the protocol has parsed, in order. Once the shard is stopping, the
/// connection is told to shut down before the response is given, so it says `Connection: close`.
async fn dispatch(st: &ShardState, conn: &mut Conn, stop: &Stop, shut: &mut bool, upgrade: &mut Option<crate::ws::Kind>) {
    while let Some((id, req)) = conn.poll_request() {
        if !*shut && stop.is_stopped() {
            conn.start_shutdown();
            *shut = true;
        }
        if !*shut && req.path().starts_with(b"/v1/ws") && proto::ws::handshake::is_upgrade(&req) {
            let (resp, kind) = crate::ws::handshake(st, &req);
            *upgrade = kind;
            if let Err(e) = conn.respond(id, resp, Instant::now()) {
                debug!(shard = st.id, error = %e, "respond");
            }
            continue;
        }
        let t0 = Instant::now();
        Stats::add(&st.stats.in_flight, 1);
        let method = match req.method {
            http1::Method::Get => Method::Get,
            http1::Method::Head => Method::Head,
            http1::Method::Post => Method::Post,
            _ => Method::Other,
        };
        let path = std::str::from_utf8(req.path()).unwrap_or("");
        let query = req.query().and_then(|q| std::str::from_utf8(q).ok()).unwrap_or("");
        let r = Req { method, path, query, content_type: req.header("content-type"), body: &req.body };
        let (route, resp) = router::handle(st, &r).await;
        st.stats.in_flight.set(st.stats.in_flight.get().saturating_sub(1));
        st.stats.record(route, resp.status, t0.elapsed().as_nanos() as u64);
        let mut out = to_http1(resp, &st.date);
        if let Some(alt) = &st.cfg.alt_svc {
            out = out.header("alt-svc", alt.clone());
        }
        if let Err(e) = conn.respond(id, out, Instant::now()) {
            debug!(shard = st.id, error = %e, "respond");
        }
    }
}

fn to_http1(r: Resp, date: &DateCache) -> http1::Response {
    let mut out = http1::Response::new(r.status).header("date", date.get()).body(r.content_type, r.body);
    if let Some(allow) = r.allow {
        out = out.header("allow", allow);
    }
    if let Some(secs) = r.retry_after {
        out = out.header("retry-after", secs.to_string());
    }
    out
}

/// Over the connection limit: a canned 503, then close.
pub(crate) async fn reject(st: Rc<ShardState>, mut stream: TcpStream) {
    const BODY: &[u8] = b"HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\ncontent-length: 51\r\nretry-after: 1\r\nconnection: close\r\n\r\n{\"error\":\"overloaded\",\"detail\":\"connection limit\"}\n";
    Stats::add(&st.stats.conns_rejected, 1);
    st.stats.count(RouteId::Rejected, 503);
    let _ = stream.write_all(BODY).await;
    let _ = stream.shutdown().await;
}
