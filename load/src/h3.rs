//! The `h3` scenario: HTTP/3 over QUIC from client shards (one pinned thread + monoio runtime
//! each, from the `shard` crate). Every connection is its own quinn client endpoint (its own UDP
//! socket, so a SO_REUSEPORT server spreads connections over its shards as it would real
//! clients) on [`shard::quic::MonoioRuntime`], with an h3 client on top.
//!
//! Closed loop: each connection keeps `streams` request streams busy, one request each at a time
//! (HTTP/3 multiplexes, so this is the HTTP/1.1 pipeline depth's counterpart). Open loop: each
//! connection runs `streams` lanes that share the global rate (lane `j` of connection `i` is
//! schedule slot `i·streams + j` of [`crate::sched::Schedule`]); latency counts from the
//! scheduled send time. Connections are all handshaken before the clock starts, or with `ramp`
//! opened at a fixed rate after it ([`crate::sched::ramp_offset`], as in `http`); in open loop a
//! connection's lanes start their share of the rate when it opens.
//!
//! TLS: without a CA file the server's certificate is NOT verified (the server's self-signed
//! development certificate is the normal target); handshake signatures still are.
//!
//! Errors by kind: `connect` (no socket/endpoint), `handshake` (QUIC/TLS or h3 set-up failed),
//! `connection` (an established connection died), `stream_reset` (the server reset or stopped a
//! request stream), `stream` (another stream-level error), `timeout` (no complete response within
//! the timeout). Non-2xx responses are counted by status class, as in `http`.

use crate::http::{Progress, Tick};
use crate::report::{Report, RunInfo, Stats};
use crate::request::{RequestTemplate, Rng};
use crate::sched::{ramp_offset, Pacer, Sample, Schedule};
use bytes::{Buf, Bytes};
use http::header::{HeaderName, HeaderValue};
use std::cell::RefCell;
use std::io;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::rc::Rc;
use std::sync::atomic::Ordering;
use std::sync::{mpsc, Arc, Barrier};
use std::time::{Duration, Instant};

/// What to run.
#[derive(Debug, Clone)]
pub struct H3Config {
    pub addr: SocketAddr,
    /// TLS server name (SNI, and what a `--cafile` certificate must name).
    pub server_name: String,
    /// The request: method, `https://authority/path` URI, extra headers, body template.
    pub request: H3Request,
    /// For the report.
    pub target: String,
    pub connections: usize,
    pub threads: usize,
    /// Pin client shard `i` to `cpus[i % len]`; `None` leaves threads unpinned.
    pub cpus: Option<Vec<usize>>,
    /// Stop after this long…
    pub duration: Duration,
    /// …or after this many responses in total, whichever comes first.
    pub requests: Option<u64>,
    /// Open loop at this many requests/s in total; `None` is closed loop.
    pub rate: Option<u64>,
    /// Concurrent request streams per connection (open loop: lanes per connection).
    pub streams: usize,
    /// Handshake and per-request timeout.
    pub timeout: Duration,
    /// Verify the server against these PEM certificates; `None`: no certificate verification.
    pub cafile: Option<PathBuf>,
    /// Open connection `i` at `i / ramp` seconds after the clock starts (connections per second,
    /// over all shards), instead of handshaking all before it. In open loop a connection's share
    /// of the rate starts when it opens.
    pub ramp: Option<f64>,
    /// The client shards' I/O driver.
    pub driver: shard::Driver,
}

/// One request, ready to send many times.
#[derive(Debug, Clone)]
pub struct H3Request {
    pub method: http::Method,
    pub uri: http::Uri,
    pub headers: Vec<(HeaderName, HeaderValue)>,
    /// Renders the body (through the HTTP/1.1 template, whose head is ignored).
    body: Option<RequestTemplate>,
}

impl H3Request {
    /// `headers` are `Name: value` lines; a body gets `content-type: application/json` unless
    /// they name one. `body` may hold `{{datetime}}`, `{{gender}}`, `{{year}}` placeholders.
    pub fn new(method: &str, authority: &str, path: &str, headers: &[String], body: Option<&str>) -> Result<Self, String> {
        let m = http::Method::from_bytes(method.as_bytes()).map_err(|_| format!("bad method {method:?}"))?;
        let uri: http::Uri = format!("https://{authority}{path}").parse().map_err(|e| format!("bad URL https://{authority}{path}: {e}"))?;
        let mut hs = Vec::with_capacity(headers.len() + 1);
        for h in headers {
            let (n, v) = h.split_once(':').ok_or_else(|| format!("bad header {h:?}: want `Name: value`"))?;
            let name = HeaderName::from_bytes(n.trim().as_bytes()).map_err(|_| format!("bad header name in {h:?}"))?;
            let value = HeaderValue::from_str(v.trim()).map_err(|_| format!("bad header value in {h:?}"))?;
            hs.push((name, value));
        }
        if body.is_some() && !hs.iter().any(|(n, _)| n == http::header::CONTENT_TYPE) {
            hs.push((http::header::CONTENT_TYPE, HeaderValue::from_static("application/json")));
        }
        // The HTTP/1.1 template renders the body; its head (with `host`) is split off again.
        let body = body.map(|b| RequestTemplate::new(method, authority, path, &[], Some(b))).transpose()?;
        Ok(Self { method: m, uri, headers: hs, body })
    }

    /// The request head for one send.
    pub fn head(&self) -> http::Request<()> {
        let mut r = http::Request::new(());
        *r.method_mut() = self.method.clone();
        *r.uri_mut() = self.uri.clone();
        let h = r.headers_mut();
        for (n, v) in &self.headers {
            h.append(n.clone(), v.clone());
        }
        r
    }

    /// A fresh body (random birth data where the template asks), empty when there is none.
    pub fn body(&self, rng: &mut Rng, scratch: &mut Vec<u8>) -> Bytes {
        let Some(t) = &self.body else { return Bytes::new() };
        scratch.clear();
        t.render(rng, scratch);
        Bytes::copy_from_slice(body_of(scratch))
    }
}

/// The body of a rendered HTTP/1.1 request (everything after the blank line).
fn body_of(rendered: &[u8]) -> &[u8] {
    match rendered.windows(4).position(|w| w == b"\r\n\r\n") {
        Some(i) => &rendered[i + 4..],
        None => &[],
    }
}

/// `https://host[:port]/path` → (host, port, authority, path). Sans-IO: no name resolution.
pub fn parse_url(url: &str) -> Result<(String, u16, String, String), String> {
    let rest = url.strip_prefix("https://").ok_or_else(|| format!("only https:// URLs: {url:?}"))?;
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
        let (h, after) = v6.split_once(']').ok_or_else(|| format!("bad IPv6 host in {url:?}"))?;
        let port = match after.strip_prefix(':') {
            Some(p) => p.parse::<u16>().map_err(|_| format!("bad port in {url:?}"))?,
            None if after.is_empty() => 443,
            None => return Err(format!("bad authority in {url:?}")),
        };
        (h.to_string(), port)
    } else {
        match authority.rsplit_once(':') {
            Some((h, p)) => (h.to_string(), p.parse::<u16>().map_err(|_| format!("bad port in {url:?}"))?),
            None => (authority.to_string(), 443),
        }
    };
    if host.is_empty() {
        return Err(format!("no host in {url:?}"));
    }
    Ok((host, port, authority.to_string(), path.to_string()))
}

/// Lane `i`'s share of a total request cap over `lanes` lanes.
fn cap_for(total: Option<u64>, lanes: usize, i: usize) -> u64 {
    match total {
        None => u64::MAX,
        Some(t) => t / lanes as u64 + u64::from((i as u64) < t % lanes as u64),
    }
}

/// What went wrong with one request, as an error kind; `conn` if the connection is gone.
fn classify(e: &::h3::error::StreamError) -> (&'static str, bool) {
    use ::h3::error::StreamError as E;
    match e {
        E::RemoteTerminate { .. } => ("stream_reset", false),
        E::ConnectionError { .. } if e.is_h3_no_error() => ("closed", true),
        E::ConnectionError { .. } => ("connection", true),
        _ => ("stream", false),
    }
}

/// QUIC counters of the client's connections (quinn's `ConnectionStats`), summed: loss and
/// congestion events explain a slow run that neither side's CPU does; datagrams per I/O call
/// show GSO/GRO batching.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct QuicCounters {
    pub sent_packets: u64,
    pub lost_packets: u64,
    pub congestion_events: u64,
    pub udp_tx_datagrams: u64,
    pub udp_tx_ios: u64,
    pub udp_rx_datagrams: u64,
    pub udp_rx_ios: u64,
}

impl QuicCounters {
    pub fn add(&mut self, o: &Self) {
        self.sent_packets += o.sent_packets;
        self.lost_packets += o.lost_packets;
        self.congestion_events += o.congestion_events;
        self.udp_tx_datagrams += o.udp_tx_datagrams;
        self.udp_tx_ios += o.udp_tx_ios;
        self.udp_rx_datagrams += o.udp_rx_datagrams;
        self.udp_rx_ios += o.udp_rx_ios;
    }

    fn of(s: &quinn::ConnectionStats) -> Self {
        Self {
            sent_packets: s.path.sent_packets,
            lost_packets: s.path.lost_packets,
            congestion_events: s.path.congestion_events,
            udp_tx_datagrams: s.udp_tx.datagrams,
            udp_tx_ios: s.udp_tx.ios,
            udp_rx_datagrams: s.udp_rx.datagrams,
            udp_rx_ios: s.udp_rx.ios,
        }
    }

    /// The `quic` block of an `h3` JSON report (a worker's `--json -` output).
    pub fn of_report(json: &[u8]) -> Result<Self, String> {
        #[derive(serde::Deserialize)]
        struct Doc {
            quic: QuicCounters,
        }
        serde_json::from_slice::<Doc>(json).map(|d| d.quic).map_err(|e| format!("report's quic counters: {e}"))
    }

    /// One line for humans.
    pub fn summary(&self) -> String {
        let per = |a: u64, b: u64| a as f64 / b.max(1) as f64;
        format!(
            "quic (client side): {} packets sent, {} lost, {} congestion events; udp tx {:.2} datagrams per sendmsg, rx {:.2} per recv",
            self.sent_packets,
            self.lost_packets,
            self.congestion_events,
            per(self.udp_tx_datagrams, self.udp_tx_ios),
            per(self.udp_rx_datagrams, self.udp_rx_ios)
        )
    }
}

/// Run the scenario; `on_tick` is called about once a second from the calling thread. Returns
/// the merged statistics, the measured duration and the QUIC counters.
pub fn run(cfg: H3Config, mut on_tick: impl FnMut(Tick)) -> io::Result<(Stats, Duration, QuicCounters)> {
    if cfg.connections == 0 || cfg.streams == 0 {
        return Err(io::Error::new(io::ErrorKind::InvalidInput, "need at least one connection and one stream"));
    }
    let client = tls::client_config(cfg.cafile.as_deref()).map_err(io::Error::other)?;
    let threads = cfg.threads.clamp(1, cfg.connections);
    let cfg = Arc::new(H3Config { threads, ..cfg });
    let progress: Arc<Vec<Progress>> = Arc::new((0..threads).map(|_| Progress::default()).collect());
    let barrier = Arc::new(Barrier::new(threads + 1));
    let (tx, rx) = mpsc::channel::<(Stats, Duration, QuicCounters)>();
    let placement = match &cfg.cpus {
        Some(c) if !c.is_empty() => shard::Placement::Pinned(c.clone()),
        _ => shard::Placement::Unpinned,
    };
    let (c2, p2, b2) = (cfg.clone(), progress.clone(), barrier.clone());
    let sharded = shard::Builder::new().driver(cfg.driver).shards(threads).placement(placement).name("load-h3").start(
        |_ctx| Ok(()),
        move |_state: Rc<()>, ctx: shard::ShardCtx<()>| {
            let (cfg, progress, barrier, tx, client) = (c2.clone(), p2.clone(), b2.clone(), tx.clone(), client.clone());
            async move {
                let out = shard_main(cfg, client, ctx.id, progress, barrier).await;
                let _ = tx.send(out);
            }
        },
    )?;
    barrier.wait();
    let mut merged = Stats::default();
    let mut quic = QuicCounters::default();
    let mut elapsed = Duration::ZERO;
    let t0 = Instant::now();
    crate::http::gather(
        sharded,
        &rx,
        || on_tick(Tick::of(&progress, t0.elapsed())),
        |(s, d, q)| {
            merged.merge(&s);
            quic.add(&q);
            elapsed = elapsed.max(d);
        },
    )?;
    Ok((merged, elapsed, quic))
}

/// What the report says about the run (one process; a `--workers` parent sets `workers`).
pub fn run_info(cfg: &H3Config) -> RunInfo {
    RunInfo {
        scenario: "h3".into(),
        target: cfg.target.clone(),
        rate: cfg.rate,
        connections: cfg.connections,
        threads: cfg.threads.clamp(1, cfg.connections.max(1)),
        pipeline: cfg.streams,
        workers: 1,
        ramp: cfg.ramp,
        templates: vec![(cfg.target.clone(), 1)],
    }
}

/// Build the report from a run's results (the same document as `http`'s, histograms included).
pub fn report(cfg: &H3Config, stats: &Stats, elapsed: Duration) -> Report {
    report_of(cfg, &run_info(cfg), stats, elapsed)
}

/// [`report`] with the run described by `info` (e.g. merged from worker processes).
pub fn report_of(cfg: &H3Config, info: &RunInfo, stats: &Stats, elapsed: Duration) -> Report {
    let mut r = Report::new(info, stats, elapsed);
    // Open loop too: `streams` lanes per connection (http's open loop has one request in flight).
    r.pipeline = cfg.streams.max(1);
    r
}

type SendRequest = ::h3::client::SendRequest<h3_quinn::OpenStreams, Bytes>;

/// One established connection.
struct Live {
    endpoint: quinn::Endpoint,
    conn: quinn::Connection,
    send: SendRequest,
}

/// What one shard's connections share.
struct Ctx {
    cfg: Arc<H3Config>,
    client: quinn::ClientConfig,
    start: Instant,
    end: Instant,
    stats: RefCell<Stats>,
    quic: std::cell::Cell<QuicCounters>,
    /// When the last connection's lanes finished (before the connections close).
    finished: std::cell::Cell<Option<Instant>>,
    progress: Arc<Vec<Progress>>,
    shard: usize,
}

impl Ctx {
    fn error(&self, kind: &'static str) {
        self.stats.borrow_mut().error(kind);
        self.progress[self.shard].errors.fetch_add(1, Ordering::Relaxed);
    }

    /// This connection is done with: its QUIC counters are added and it no longer counts as open.
    fn retire(&self, conn: &quinn::Connection) {
        let mut q = self.quic.get();
        q.add(&QuicCounters::of(&conn.stats()));
        self.quic.set(q);
        self.progress[self.shard].open.fetch_sub(1, Ordering::Relaxed);
    }

    /// Close a connection whose lanes are finished, and let the close reach the server.
    async fn close(&self, l: Live) {
        let Live { endpoint, conn, send } = l;
        drop(send);
        self.retire(&conn);
        conn.close(quinn::VarInt::from_u32(0x100), b"done");
        // Do not wait out the whole drain period.
        let _ = monoio::time::timeout(Duration::from_millis(100), endpoint.wait_idle()).await;
    }

    /// A new endpoint + connection + h3 session, or the error kind.
    async fn connect(&self) -> Result<Live, &'static str> {
        let bind: SocketAddr = if self.cfg.addr.is_ipv4() { ([0, 0, 0, 0], 0).into() } else { (std::net::Ipv6Addr::UNSPECIFIED, 0).into() };
        let sock = std::net::UdpSocket::bind(bind).map_err(|_| "connect")?;
        // SAFETY: we are on a client shard's monoio thread, and the endpoint, its connection and
        // the h3 handles built on them are created, used and dropped only by this shard's tasks
        // (`Live` is neither sent nor shared across threads).
        let rt = Arc::new(unsafe { shard::quic::MonoioRuntime::new() });
        let endpoint = quinn::Endpoint::new(quinn::EndpointConfig::default(), None, sock, rt).map_err(|_| "connect")?;
        let connecting = endpoint.connect_with(self.client.clone(), self.cfg.addr, &self.cfg.server_name).map_err(|_| "connect")?;
        let conn = match monoio::time::timeout(self.cfg.timeout, connecting).await {
            Ok(Ok(c)) => c,
            Ok(Err(_)) => return Err("handshake"),
            Err(_) => return Err("timeout"),
        };
        let (mut driver, send) =
            match monoio::time::timeout(self.cfg.timeout, ::h3::client::new(h3_quinn::Connection::new(conn.clone()))).await {
                Ok(Ok(x)) => x,
                Ok(Err(_)) => return Err("handshake"),
                Err(_) => return Err("timeout"),
            };
        // The h3 connection driver (control stream, GOAWAY); it ends when the connection does.
        monoio::spawn(async move {
            let _ = std::future::poll_fn(|cx| driver.poll_close(cx)).await;
        });
        self.stats.borrow_mut().connects += 1;
        self.progress[self.shard].open.fetch_add(1, Ordering::Relaxed);
        Ok(Live { endpoint, conn, send })
    }
}

async fn shard_main(
    cfg: Arc<H3Config>,
    client: quinn::ClientConfig,
    id: usize,
    progress: Arc<Vec<Progress>>,
    barrier: Arc<Barrier>,
) -> (Stats, Duration, QuicCounters) {
    let mine: Vec<usize> = (id..cfg.connections).step_by(cfg.threads).collect();
    let now = Instant::now();
    let ctx = Rc::new(Ctx {
        cfg: cfg.clone(),
        client,
        start: now,
        end: now,
        stats: RefCell::new(Stats::default()),
        quic: Default::default(),
        finished: Default::default(),
        progress,
        shard: id,
    });
    // Without a ramp, handshake everything (concurrently) before the clock starts; with one, each
    // connection opens itself when its time comes.
    let pending: Vec<_> = mine
        .iter()
        .map(|&i| {
            let ctx = ctx.clone();
            monoio::spawn(async move { (i, if ctx.cfg.ramp.is_some() { None } else { Some(ctx.connect().await) }) })
        })
        .collect();
    let mut conns = Vec::with_capacity(pending.len());
    for p in pending {
        let (i, r) = p.await;
        let live = match r {
            Some(Ok(l)) => Some(l),
            Some(Err(kind)) => {
                ctx.error(kind);
                None
            }
            None => None,
        };
        conns.push((i, live));
    }
    // Blocking here is fine: the connections' timers and drivers just wait a moment.
    barrier.wait();
    let start = Instant::now();
    let ctx = Rc::new(Ctx {
        cfg: cfg.clone(),
        client: ctx.client.clone(),
        start,
        end: start + cfg.duration,
        stats: RefCell::new(ctx.stats.borrow().clone()),
        quic: Default::default(),
        finished: Default::default(),
        progress: ctx.progress.clone(),
        shard: id,
    });
    let tasks: Vec<_> = conns.into_iter().map(|(i, live)| monoio::spawn(connection(ctx.clone(), i, live))).collect();
    for t in tasks {
        t.await;
    }
    // The run ends when the last lane does; closing the connections is not part of it.
    let elapsed = ctx.finished.get().unwrap_or_else(Instant::now).saturating_duration_since(start);
    let s = ctx.stats.borrow().clone();
    (s, elapsed, ctx.quic.get())
}

/// A lane's state, kept across reconnects.
struct Lane {
    /// When its connection first opens (= the start without a ramp); the pacer counts from here.
    base: Instant,
    cap: u64,
    done: u64,
    rng: Rng,
    pacer: Option<Pacer>,
}

/// Why a lane returned.
enum Exit {
    /// Time is up or the cap is reached.
    Finished,
    /// The connection is gone (this kind); reconnect.
    Lost(&'static str),
}

/// Connection `i`: its lanes, reconnecting after the connection is lost.
async fn connection(ctx: Rc<Ctx>, i: usize, mut live: Option<Live>) {
    let cfg = &ctx.cfg;
    let base = ctx.start + ramp_offset(cfg.ramp, i);
    let lanes_total = cfg.connections * cfg.streams;
    let mut lanes: Vec<Lane> = (0..cfg.streams)
        .map(|j| {
            let slot = i * cfg.streams + j;
            Lane {
                base,
                cap: cap_for(cfg.requests, lanes_total, slot),
                done: 0,
                rng: Rng::new(slot as u64 + 1),
                pacer: cfg.rate.map(|r| Pacer::new(Schedule::new(r, lanes_total as u64, slot as u64))),
            }
        })
        .collect();
    if base > ctx.start {
        if base >= ctx.end {
            return;
        }
        monoio::time::sleep_until(monoio::time::Instant::from_std(base)).await;
    }
    loop {
        if Instant::now() >= ctx.end || lanes.iter().all(|l| l.done >= l.cap) {
            ctx.finished.set(ctx.finished.get().max(Some(Instant::now())));
            if let Some(l) = live.take() {
                ctx.close(l).await;
            }
            break;
        }
        let l = match live.take() {
            Some(l) => l,
            None => match ctx.connect().await {
                Ok(l) => l,
                Err(kind) => {
                    ctx.error(kind);
                    monoio::time::sleep(Duration::from_millis(10)).await;
                    continue;
                }
            },
        };
        let tasks: Vec<_> = lanes
            .drain(..)
            .map(|lane| {
                let (ctx, send) = (ctx.clone(), l.send.clone());
                monoio::spawn(run_lane(ctx, send, lane))
            })
            .collect();
        let mut lost = None;
        for t in tasks {
            let (lane, exit) = t.await;
            lanes.push(lane);
            if let Exit::Lost(kind) = exit {
                lost.get_or_insert(kind);
            }
        }
        match lost {
            // One loss per connection, however many lanes saw it; a server's graceful close
            // (H3_NO_ERROR) is not an error.
            Some(kind) => {
                let Live { conn, send, .. } = l;
                drop(send);
                ctx.retire(&conn);
                if kind != "closed" {
                    ctx.error(kind);
                }
            }
            None => {
                ctx.finished.set(ctx.finished.get().max(Some(Instant::now())));
                ctx.close(l).await;
                break;
            }
        }
    }
}

/// One lane: one request stream at a time until finished or the connection is lost.
async fn run_lane(ctx: Rc<Ctx>, mut send: SendRequest, mut lane: Lane) -> (Lane, Exit) {
    let mut scratch = Vec::with_capacity(512);
    loop {
        let now = Instant::now();
        if now >= ctx.end || lane.done >= lane.cap {
            return (lane, Exit::Finished);
        }
        if let Some(p) = lane.pacer.as_ref() {
            let due = lane.base + Duration::from_nanos(p.next_due());
            if due >= ctx.end {
                return (lane, Exit::Finished);
            }
            if due > now {
                monoio::time::sleep_until(monoio::time::Instant::from_std(due)).await;
            }
        }
        let head = ctx.cfg.request.head();
        let body = ctx.cfg.request.body(&mut lane.rng, &mut scratch);
        let sent = Instant::now();
        if let Some(p) = lane.pacer.as_mut() {
            p.on_send(ns_since(lane.base, sent));
        }
        let r = monoio::time::timeout(ctx.cfg.timeout, exchange(&mut send, head, body)).await;
        let now = Instant::now();
        let sample = match lane.pacer.as_mut() {
            Some(p) => p.on_response(ns_since(lane.base, now)),
            None => {
                let d = now.duration_since(sent).as_nanos() as u64;
                Some(Sample { corrected: d, uncorrected: d })
            }
        };
        match r {
            Ok(Ok((status, bytes))) => {
                let mut st = ctx.stats.borrow_mut();
                st.record(0, status, sample.unwrap_or(Sample { corrected: 0, uncorrected: 0 }));
                st.bytes += bytes;
                drop(st);
                ctx.progress[ctx.shard].responses.fetch_add(1, Ordering::Relaxed);
                lane.done += 1;
            }
            // The stream is dropped (and so reset); the connection may still be fine.
            Err(_) => ctx.error("timeout"),
            Ok(Err(e)) => match classify(&e) {
                (kind, true) => return (lane, Exit::Lost(kind)),
                (kind, false) => ctx.error(kind),
            },
        }
    }
}

/// Pacer time: ns from `base` to `t`.
fn ns_since(base: Instant, t: Instant) -> u64 {
    t.saturating_duration_since(base).as_nanos() as u64
}

/// Send one request and read its whole response: (status, body bytes).
async fn exchange(send: &mut SendRequest, head: http::Request<()>, body: Bytes) -> Result<(u16, u64), ::h3::error::StreamError> {
    let mut s = send.send_request(head).await?;
    if !body.is_empty() {
        s.send_data(body).await?;
    }
    s.finish().await?;
    let resp = s.recv_response().await?;
    let mut n = 0u64;
    while let Some(chunk) = s.recv_data().await? {
        n += chunk.remaining() as u64;
    }
    Ok((resp.status().as_u16(), n))
}

/// The client's TLS: rustls (ring) with ALPN `h3`, verifying against a CA file or not at all.
mod tls {
    use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
    use rustls::crypto::CryptoProvider;
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
    use rustls::{DigitallySignedStruct, SignatureScheme};
    use std::path::Path;
    use std::sync::Arc;

    pub(super) fn client_config(cafile: Option<&Path>) -> Result<quinn::ClientConfig, String> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
            .with_protocol_versions(&[&rustls::version::TLS13])
            .map_err(|e| format!("tls: {e}"))?;
        let mut tls = match cafile {
            Some(p) => {
                let mut roots = rustls::RootCertStore::empty();
                let certs = CertificateDer::pem_file_iter(p)
                    .and_then(|it| it.collect::<Result<Vec<_>, _>>())
                    .map_err(|e| format!("cafile {}: {e}", p.display()))?;
                if certs.is_empty() {
                    return Err(format!("cafile {}: no certificate in the file", p.display()));
                }
                for c in certs {
                    roots.add(c).map_err(|e| format!("cafile {}: {e}", p.display()))?;
                }
                builder.with_root_certificates(roots).with_no_client_auth()
            }
            None => builder.dangerous().with_custom_certificate_verifier(Arc::new(NoCertVerify(provider))).with_no_client_auth(),
        };
        tls.alpn_protocols = vec![b"h3".to_vec()];
        let quic = quinn::crypto::rustls::QuicClientConfig::try_from(Arc::new(tls)).map_err(|e| format!("tls: {e}"))?;
        Ok(quinn::ClientConfig::new(Arc::new(quic)))
    }

    /// Accepts any server certificate (a load generator against a dev server's self-signed one);
    /// the handshake signatures are still checked, so the peer must hold the certificate's key.
    #[derive(Debug)]
    struct NoCertVerify(Arc<CryptoProvider>);

    impl ServerCertVerifier for NoCertVerify {
        fn verify_server_cert(
            &self,
            _end_entity: &CertificateDer<'_>,
            _intermediates: &[CertificateDer<'_>],
            _server_name: &ServerName<'_>,
            _ocsp: &[u8],
            _now: UnixTime,
        ) -> Result<ServerCertVerified, rustls::Error> {
            Ok(ServerCertVerified::assertion())
        }

        fn verify_tls12_signature(
            &self,
            message: &[u8],
            cert: &CertificateDer<'_>,
            dss: &DigitallySignedStruct,
        ) -> Result<HandshakeSignatureValid, rustls::Error> {
            rustls::crypto::verify_tls12_signature(message, cert, dss, &self.0.signature_verification_algorithms)
        }

        fn verify_tls13_signature(
            &self,
            message: &[u8],
            cert: &CertificateDer<'_>,
            dss: &DigitallySignedStruct,
        ) -> Result<HandshakeSignatureValid, rustls::Error> {
            rustls::crypto::verify_tls13_signature(message, cert, dss, &self.0.signature_verification_algorithms)
        }

        fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
            self.0.signature_verification_algorithms.supported_schemes()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        assert_eq!(
            parse_url("https://127.0.0.1:8443/v1/saju").unwrap(),
            ("127.0.0.1".into(), 8443, "127.0.0.1:8443".into(), "/v1/saju".into())
        );
        assert_eq!(parse_url("https://localhost").unwrap(), ("localhost".into(), 443, "localhost".into(), "/".into()));
        assert_eq!(parse_url("https://[::1]:9/x?y=1").unwrap(), ("::1".into(), 9, "[::1]:9".into(), "/x?y=1".into()));
        assert!(parse_url("http://h/").is_err());
        assert!(parse_url("https://h:notaport/").is_err());
        assert!(parse_url("https://:80/").is_err());
    }

    #[test]
    fn request_head_and_templated_body() {
        let r = H3Request::new("POST", "h:1", "/v1/saju", &["x-a: 1".into()], Some(r#"{"datetime":"{{datetime}}"}"#)).unwrap();
        let head = r.head();
        assert_eq!(head.method(), http::Method::POST);
        assert_eq!(head.uri().to_string(), "https://h:1/v1/saju");
        assert_eq!(head.headers()["x-a"], "1");
        assert_eq!(head.headers()[http::header::CONTENT_TYPE], "application/json");
        let mut rng = Rng::new(5);
        let mut scratch = Vec::new();
        let (a, b) = (r.body(&mut rng, &mut scratch), r.body(&mut rng, &mut scratch));
        assert_ne!(a, b, "birth data varies");
        for x in [a, b] {
            let s = std::str::from_utf8(&x).unwrap();
            assert!(s.starts_with(r#"{"datetime":""#) && s.ends_with(r#""}"#) && s.len() == 31, "{s}");
        }
    }

    #[test]
    fn get_has_no_body_and_bad_input_is_refused() {
        let r = H3Request::new("GET", "h", "/healthz", &["content-type: text/plain".into()], None).unwrap();
        assert!(r.body(&mut Rng::new(1), &mut Vec::new()).is_empty());
        assert_eq!(r.head().headers().len(), 1);
        assert!(H3Request::new("GET", "h", "/", &["nocolon".into()], None).is_err());
        assert!(H3Request::new("G T", "h", "/", &[], None).is_err());
        assert!(H3Request::new("POST", "h", "/", &[], Some("{{nope}}")).is_err());
        // A user content-type is kept, not doubled.
        let r = H3Request::new("POST", "h", "/", &["Content-Type: text/plain".into()], Some("x")).unwrap();
        assert_eq!(r.head().headers().get_all(http::header::CONTENT_TYPE).iter().count(), 1);
        assert_eq!(&r.body(&mut Rng::new(1), &mut Vec::new())[..], b"x");
    }

    #[test]
    fn quic_counters_add_up() {
        let one = QuicCounters {
            sent_packets: 10,
            lost_packets: 1,
            congestion_events: 1,
            udp_tx_datagrams: 10,
            udp_tx_ios: 5,
            udp_rx_datagrams: 8,
            udp_rx_ios: 8,
        };
        let mut sum = QuicCounters::default();
        sum.add(&one);
        sum.add(&one);
        assert_eq!(sum.sent_packets, 20);
        assert_eq!(sum.lost_packets, 2);
        let line = sum.summary();
        assert!(
            line.contains("20 packets sent, 2 lost, 2 congestion events") && line.contains("tx 2.00") && line.contains("rx 1.00"),
            "{line}"
        );
        // No I/O yet: no division by zero.
        assert!(QuicCounters::default().summary().contains("tx 0.00"));
    }

    #[test]
    fn body_split_and_caps() {
        assert_eq!(body_of(b"POST / HTTP/1.1\r\nhost: h\r\n\r\nabc"), b"abc");
        assert_eq!(body_of(b"GET / HTTP/1.1\r\n\r\n"), b"");
        assert_eq!(body_of(b"junk"), b"");
        for total in [0u64, 1, 7, 1001] {
            for lanes in [1usize, 3, 8] {
                assert_eq!((0..lanes).map(|i| cap_for(Some(total), lanes, i)).sum::<u64>(), total);
            }
        }
        assert_eq!(cap_for(None, 4, 0), u64::MAX);
    }
}
