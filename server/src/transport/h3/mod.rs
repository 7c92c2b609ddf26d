//! HTTP/3 glue: one quinn endpoint per shard on the shard's own SO_REUSEPORT UDP socket (same
//! port number as TCP), h3 on top, every request answered by the one request path
//! ([`route::handle`]).
//!
//! Off unless `--h3 true`. Limits are explicit settings ([`H3Config`]): concurrent request
//! streams per connection, idle timeout, request body size (the HTTP/1.1 `max_body_bytes`),
//! connections per shard. Protocol violations (bad frames, bad streams) are answered by h3 with
//! the RFC 9114 error codes; the connection or stream ends and the request is counted as a
//! `protocol_error` in `/metrics`.
//!
//! # Layout
//! - `steer`: connection IDs that name the shard, and the reuseport BPF program that reads them.
//! - `baseline` (feature `h3-baseline`): the same requests on quinn + tokio, for the benchmark.
#[cfg(feature = "h3-baseline")]
pub(crate) mod baseline;
pub(crate) mod steer;

use crate::config::H3Config;
use crate::http::{ApiError, Method, Req, Resp};
use crate::route;
use crate::shard_parts::Shard;
use crate::stats::RouteId;
use bytes::{Buf, Bytes, BytesMut};
use h3::error::Code;
use h3::server::RequestStream;
use shard::Stop;
use std::rc::Rc;
use std::sync::Arc;
use tracing::{debug, info, warn};

/// What the accept loop needs, built once before the shards start.
pub(crate) struct Endpoint {
    server: quinn::ServerConfig,
}

impl Endpoint {
    /// Build the QUIC server configuration (TLS + transport limits) shared by every shard.
    pub(crate) fn new(cfg: &H3Config) -> Result<Self, String> {
        let tls = crate::tls::server_config(&cfg.tls, &[b"h3"])?;
        let crypto = quinn::crypto::rustls::QuicServerConfig::try_from(tls).map_err(|e| format!("tls for quic: {e}"))?;
        let mut server = quinn::ServerConfig::with_crypto(Arc::new(crypto));
        let mut transport = quinn::TransportConfig::default();
        transport.max_concurrent_bidi_streams(cfg.max_streams.into());
        // The peer's control stream and two QPACK streams (RFC 9114 §6.2), plus grease room.
        transport.max_concurrent_uni_streams(8u32.into());
        let idle = quinn::IdleTimeout::try_from(cfg.idle_timeout).map_err(|e| format!("h3_idle_timeout: {e}"))?;
        transport.max_idle_timeout(Some(idle));
        server.transport_config(Arc::new(transport));
        Ok(Self { server })
    }
}

/// Run the shard's HTTP/3 endpoint on `sock` until the shard stops, then close its connections
/// with H3_NO_ERROR and wait (up to the drain timeout) for the peers to acknowledge.
pub(crate) async fn serve(st: Rc<Shard>, stop: Stop, sock: std::net::UdpSocket, ep: Arc<Endpoint>) {
    let Some(h3) = st.cfg.h3.clone() else { return };
    let mut ep_cfg = quinn::EndpointConfig::default();
    if h3.steer {
        let shard = u8::try_from(st.id).unwrap_or(u8::MAX);
        ep_cfg.cid_generator(move || Box::new(steer::ShardCid::new(shard)));
    }
    let endpoint = match quinn::Endpoint::new(
        ep_cfg,
        Some(ep.server.clone()),
        sock,
        // SAFETY: `serve` runs on a shard thread; the endpoint, its connections and the h3
        // handles built on them are created and used only by tasks spawned on this shard.
        Arc::new(unsafe { shard::quic::MonoioRuntime::new() }),
    ) {
        Ok(e) => e,
        Err(e) => {
            warn!(shard = st.id, error = %e, "http/3 endpoint");
            return;
        }
    };
    let open = Rc::new(std::cell::Cell::new(0usize));
    let waiter = stop.waiter();
    loop {
        monoio::select! {
            inc = endpoint.accept() => match inc {
                Some(incoming) if open.get() >= h3.max_conns => {
                    st.stats.conns_rejected.add(1);
                    st.stats.count(RouteId::Rejected, 503);
                    incoming.refuse();
                }
                Some(incoming) => {
                    let slot = OpenSlot::take(&open);
                    let (st2, stop, h3) = (st.clone(), stop.clone(), h3.clone());
                    drop(shard::rt::spawn("http/3 connection", async move {
                        let _slot = slot;
                        connection(&st2, &stop, incoming, &h3).await;
                    }));
                }
                None => break,
            },
            _ = waiter.stopped() => break,
        }
    }
    endpoint.close(Code::H3_NO_ERROR.value().try_into().unwrap_or_default(), b"shutting down");
    if shard::rt::timeout(st.cfg.drain_timeout, endpoint.wait_idle()).await.is_err() {
        warn!(shard = st.id, "http/3 drain deadline passed");
    }
    debug!(shard = st.id, "http/3 endpoint stopped");
}

async fn connection(st: &Rc<Shard>, stop: &Stop, incoming: quinn::Incoming, cfg: &H3Config) {
    let conn = match incoming.await {
        Ok(c) => c,
        Err(e) => {
            debug!(shard = st.id, error = %e, "http/3 handshake failed");
            return;
        }
    };
    st.stats.conns_accepted.add(1);
    let built =
        h3::server::builder().max_field_section_size(cfg.max_field_section).build::<_, Bytes>(h3_quinn::Connection::new(conn)).await;
    let mut h3c = match built {
        Ok(c) => c,
        Err(e) => {
            protocol_error(st, &e);
            return;
        }
    };
    loop {
        let accepted = if stop.is_stopped() {
            break;
        } else {
            h3c.accept().await
        };
        match accepted {
            Ok(Some(resolver)) => {
                let st2 = st.clone();
                drop(shard::rt::spawn("http/3 request", async move {
                    let st = st2;
                    match resolver.resolve_request().await {
                        Ok((req, stream)) => request(&st, req, stream).await,
                        // A connection-level error is counted once, by the accept loop below.
                        Err(e) if e.is_h3_no_error() || matches!(e, h3::error::StreamError::ConnectionError { .. }) => {}
                        Err(e) => {
                            st.stats.count(RouteId::Protocol, 400);
                            debug!(shard = st.id, error = %e, "http/3 bad request stream");
                        }
                    }
                }));
            }
            Ok(None) => break,
            Err(e) => {
                protocol_error(st, &e);
                break;
            }
        }
    }
    // Graceful close: GOAWAY, let accepted requests finish.
    let _ = h3c.shutdown(0).await;
    st.stats.conns_closed.add(1);
}

/// One of the shard's HTTP/3 connection slots (`h3_max_conns`), given back when dropped, also
/// when the connection's task panicked.
struct OpenSlot(Rc<std::cell::Cell<usize>>);

impl OpenSlot {
    fn take(open: &Rc<std::cell::Cell<usize>>) -> Self {
        open.set(open.get() + 1);
        Self(open.clone())
    }
}

impl Drop for OpenSlot {
    fn drop(&mut self) {
        self.0.set(self.0.get().saturating_sub(1));
    }
}

/// Count a connection that h3 closed because the peer broke RFC 9114 (h3 sends the error code).
/// The peer's own close, with any code, and idle timeouts are not errors of ours to count.
fn protocol_error(st: &Shard, e: &h3::error::ConnectionError) {
    if e.is_h3_no_error() || !matches!(e, h3::error::ConnectionError::Local { .. }) {
        return;
    }
    st.stats.count(RouteId::Protocol, 400);
    debug!(shard = st.id, error = %e, "http/3 connection error");
}

/// One request stream: read the body (bounded), route, answer.
async fn request<S>(st: &Rc<Shard>, req: http::Request<()>, mut stream: RequestStream<S, Bytes>)
where
    S: h3::quic::BidiStream<Bytes>,
{
    let Some(body) = read_body(st, &mut stream).await else { return };
    let method = Method::from_token(req.method().as_str().as_bytes());
    let resp = match body {
        Body::Complete(body) => {
            st.stats.bytes_in.add(body.len() as u64);
            let header = |name| req.headers().get(name).map(|v: &http::HeaderValue| v.as_bytes());
            let r = Req {
                method,
                path: req.uri().path(),
                query: req.uri().query().unwrap_or(""),
                content_type: header(http::header::CONTENT_TYPE),
                accept_encoding: header(http::header::ACCEPT_ENCODING),
                body: &body,
            };
            route::handle(st, &r).await
        }
        Body::TooBig => {
            // RFC 9114 §4.1.1: a complete response may be sent before the request is read, and
            // the client told to stop sending. Not with `stop_sending` here: h3-quinn 0.0.10
            // unwraps a stream that an in-flight read has taken (and h3 leaves one in flight
            // whenever it returns buffered data), so it panics about once in 40 such requests.
            // Dropping the stream after the response has quinn send STOP_SENDING itself, with
            // code 0 (which HTTP/3 leaves undefined) instead of H3_NO_ERROR.
            st.stats.count(RouteId::Protocol, 413);
            ApiError::new(413, "payload_too_large", "request body too large").into()
        }
    };
    if let Err(e) = respond(st, &mut stream, resp, method == Method::Head).await {
        debug!(shard = st.id, error = %e, "http/3 respond");
    }
}

/// A request body as read.
enum Body {
    Complete(BytesMut),
    /// Larger than `max_body_bytes`.
    TooBig,
}

/// Read the whole body, up to the limit. None: the stream failed (counted when it is the
/// peer's protocol error).
async fn read_body<S>(st: &Shard, stream: &mut RequestStream<S, Bytes>) -> Option<Body>
where
    S: h3::quic::BidiStream<Bytes>,
{
    let max_body = st.cfg.limits.max_body;
    let mut body = BytesMut::new();
    loop {
        match stream.recv_data().await {
            Ok(Some(mut chunk)) => {
                if body.len() + chunk.remaining() > max_body {
                    return Some(Body::TooBig);
                }
                while chunk.has_remaining() {
                    let c = chunk.chunk();
                    body.extend_from_slice(c);
                    let n = c.len();
                    chunk.advance(n);
                }
            }
            Ok(None) => return Some(Body::Complete(body)),
            Err(e) => {
                if !e.is_h3_no_error() {
                    st.stats.count(RouteId::Protocol, 400);
                    debug!(shard = st.id, error = %e, "http/3 request body");
                }
                return None;
            }
        }
    }
}

async fn respond<S>(st: &Shard, stream: &mut RequestStream<S, Bytes>, r: Resp, head_only: bool) -> Result<(), h3::error::StreamError>
where
    S: h3::quic::BidiStream<Bytes>,
{
    let mut b = http::Response::builder().status(r.status).header(http::header::CONTENT_TYPE, r.content_type);
    // A HEAD response may omit Content-Length (RFC 9110 §8.6); aioquic's client checks it against
    // the (empty) body and closes the connection when they differ, so HEAD goes without it.
    if !head_only {
        b = b.header(http::header::CONTENT_LENGTH, r.body.len());
    }
    b = b.header(http::header::DATE, http::HeaderValue::from_maybe_shared(st.date.get()).unwrap_or(http::HeaderValue::from_static("")));
    for (name, value) in &r.headers {
        if let Ok(v) = http::HeaderValue::from_maybe_shared(value.clone()) {
            b = b.header(*name, v);
        }
    }
    // Every value above is a valid header value; should one not be, answer 500 rather than panic.
    let resp = b.body(()).unwrap_or_else(|_| {
        let mut x = http::Response::new(());
        *x.status_mut() = http::StatusCode::INTERNAL_SERVER_ERROR;
        x
    });
    stream.send_response(resp).await?;
    if !head_only && !r.body.is_empty() {
        st.stats.bytes_out.add(r.body.len() as u64);
        stream.send_data(r.body).await?;
    }
    stream.finish().await
}

/// Log once per process that HTTP/3 is on.
pub(crate) fn log_enabled(port: u16, cfg: &H3Config) {
    info!(port, max_streams = cfg.max_streams, max_conns = cfg.max_conns, "http/3 enabled (udp, same port as tcp)");
}
