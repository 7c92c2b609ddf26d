//! The `ws` scenario: N WebSocket connections (opened at a ramp rate or all at once) each send
//! text messages and wait for the matching reply, in closed loop (each connection keeps
//! `pipeline` messages in flight) or open loop at a fixed total rate with coordinated-omission
//! correction (latency from the *scheduled* send time, [`crate::sched`], like `http`).
//!
//! Targets: the server's `/v1/ws/echo` (the reply must equal the message) and `/v1/ws`, the
//! `hypercube.v1` JSON API (the reply must carry the message's `"id"`; a `"type":"error"` reply
//! counts as `reply_error`). Messages come from a template: `{{id}}` becomes the message's
//! sequence number on its connection, and `{{datetime}}`, `{{gender}}`, `{{year}}` random birth
//! data ([`crate::request::BodyTemplate`]).
//!
//! Like [`crate::http`], this module is the one with sockets and clocks; framing
//! ([`crate::ws_frame`]), pacing and statistics are sans-IO.

use crate::hist;
use crate::http::connect_to;
use crate::report::{Percentiles, Report, Stats};
use crate::request::{BodyTemplate, Rng};
use crate::sched::{Pacer, Sample, Schedule};
use crate::ws::{connect_error_kind, handshake, ramp_due, upgrade_request};
use crate::ws_frame::{self, op};
use hdrhistogram::Histogram;
use monoio::buf::IoBufMut;
use monoio::io::{AsyncReadRent, AsyncWriteRentExt};
use serde::Serialize;
use std::cell::RefCell;
use std::collections::{BTreeMap, VecDeque};
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::rc::Rc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{mpsc, Arc, Barrier};
use std::time::{Duration, Instant};

/// How a reply is matched to the message it answers (replies come back in order).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expect {
    /// The reply equals the message (`/v1/ws/echo`).
    Echo,
    /// The reply's first `"id":` is the `{{id}}` of a message in flight, in any order (`/v1/ws`);
    /// pushes (`"type":"event"`) are skipped.
    Id,
    /// Any text or binary message answers the oldest one in flight.
    Any,
}

impl Expect {
    pub fn parse(s: &str) -> Result<Self, String> {
        match s {
            "echo" => Ok(Self::Echo),
            "id" => Ok(Self::Id),
            "any" => Ok(Self::Any),
            _ => Err(format!("--expect {s:?}: echo, id or any")),
        }
    }
}

/// A message template: [`BodyTemplate`] pieces with the message id between them.
#[derive(Debug, Clone)]
pub struct MessageTemplate {
    pieces: Vec<BodyTemplate>,
    pub has_id: bool,
}

impl MessageTemplate {
    pub fn new(template: &str) -> Result<Self, String> {
        let raw: Vec<&str> = template.split("{{id}}").collect();
        let pieces = raw.iter().map(|p| BodyTemplate::new(p)).collect::<Result<Vec<_>, _>>()?;
        Ok(Self { has_id: pieces.len() > 1, pieces })
    }

    /// Append message `id` to `out`.
    pub fn render(&self, rng: &mut Rng, id: u64, out: &mut Vec<u8>) {
        for (k, p) in self.pieces.iter().enumerate() {
            if k > 0 {
                out.extend_from_slice(id.to_string().as_bytes());
            }
            p.render(rng, out);
        }
    }
}

/// The first `"id":N` in a reply (the top-level one in the server's sorted-key JSON, where only
/// `code` and `field` sort before it).
pub fn reply_id(text: &[u8]) -> Option<u64> {
    let key = b"\"id\":";
    let at = text.windows(key.len()).position(|w| w == key)? + key.len();
    let digits: &[u8] = &text[at..];
    let digits = &digits[..digits.iter().position(|b| !b.is_ascii_digit()).unwrap_or(digits.len())];
    std::str::from_utf8(digits).ok()?.parse().ok()
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

/// Every error kind this scenario counts: `connect*` (before the handshake), `timeout`, `read`,
/// `write`, `closed` (the server closed or sent a close frame), `handshake_status` and `parse_*`
/// (the upgrade answer), `protocol` (a bad frame), `mismatch` (a reply that is not the
/// message's), `unexpected` (a message with none in flight), `reply_error` (`"type":"error"`).
pub const ERROR_KINDS: [&str; 17] = [
    "connect",
    "connect_emfile",
    "connect_no_port",
    "timeout",
    "read",
    "write",
    "closed",
    "handshake_status",
    "parse_head",
    "parse_content_length",
    "parse_chunk",
    "parse_no_length",
    "parse_too_large",
    "protocol",
    "mismatch",
    "unexpected",
    "reply_error",
];

/// The static name of an error kind read back from a worker's report (`other` if unknown).
pub fn error_kind(name: &str) -> &'static str {
    ERROR_KINDS.iter().find(|k| **k == name).copied().unwrap_or("other")
}

/// What to run.
#[derive(Debug, Clone)]
pub struct WsConfig {
    pub addr: SocketAddr,
    pub host: String,
    pub path: String,
    pub subprotocol: Option<String>,
    /// For the report.
    pub target: String,
    pub message: MessageTemplate,
    pub expect: Expect,
    pub connections: usize,
    pub threads: usize,
    pub cpus: Option<Vec<usize>>,
    /// Measured run time, counted from when every connection is open.
    pub duration: Duration,
    /// Stop after this many replies in total.
    pub messages: Option<u64>,
    /// Open loop at this many messages/s in total; `None` is closed loop.
    pub rate: Option<u64>,
    /// Closed loop: messages in flight per connection.
    pub pipeline: usize,
    pub sources: Vec<IpAddr>,
    /// Handshake timeout, and how long a message may wait for its reply.
    pub timeout: Duration,
    /// Open connections at this many per second; `None`: as fast as possible.
    pub ramp: Option<f64>,
    /// Refuse server frames longer than this.
    pub max_frame: u64,
}

/// Live counters one shard publishes (written by that shard only).
#[derive(Debug, Default)]
pub struct Progress {
    pub replies: AtomicU64,
    pub errors: AtomicU64,
    pub opened: AtomicU64,
    pub dropped: AtomicU64,
}

/// What one shard (or the merged run) measured beyond [`Stats`].
#[derive(Debug, Clone)]
pub struct WsStats {
    pub stats: Stats,
    pub handshake: Histogram<u64>,
    pub sent: u64,
    /// Open when the measured run started.
    pub established: u64,
}

impl Default for WsStats {
    fn default() -> Self {
        Self { stats: Stats::default(), handshake: hist::new(), sent: 0, established: 0 }
    }
}

impl WsStats {
    pub fn merge(&mut self, o: &Self) {
        self.stats.merge(&o.stats);
        let _ = self.handshake.add(&o.handshake);
        self.sent += o.sent;
        self.established += o.established;
    }

    fn record(&mut self, s: Sample, bytes: usize) {
        let st = &mut self.stats;
        st.latency.saturating_record(s.corrected.max(1));
        st.uncorrected.saturating_record(s.uncorrected.max(1));
        st.responses += 1;
        st.bytes += bytes as u64;
    }
}

/// The `ws` report: the `http` report's fields (`responses` = replies, `rps` = replies/s) plus
/// the connection ramp, handshake latency, and the histograms themselves so that reports from
/// worker processes merge exactly and a plot can draw the whole percentile spectrum.
#[derive(Debug, Clone, Serialize)]
pub struct WsReport {
    #[serde(flatten)]
    pub base: Report,
    pub expect: &'static str,
    pub sent: u64,
    pub established: u64,
    /// From the first connect until every connection was open (or failed).
    pub ramp_s: f64,
    pub ramp_rate: Option<f64>,
    pub handshake_us: Percentiles,
    /// `(percentile, µs)` of the corrected latency, for plots ([`hist::SPECTRUM`]).
    pub latency_spectrum_us: Vec<(f64, f64)>,
    /// The histograms as `[[value_ns, count], …]` ([`hist::to_pairs`]).
    pub latency_hist_ns: Vec<[u64; 2]>,
    pub latency_uncorrected_hist_ns: Vec<[u64; 2]>,
    pub handshake_hist_ns: Vec<[u64; 2]>,
}

impl WsReport {
    /// The human table: the `http` table plus a line for connections.
    pub fn table(&self) -> String {
        let mut s = self.base.table();
        s.push_str(&format!(
            "connections {}/{} open in {:.2} s{}, handshake p50 {:.0} µs p99 {:.0} µs, sent {}\n",
            self.established,
            self.base.connections,
            self.ramp_s,
            self.ramp_rate.map(|r| format!(" (ramp {r:.0}/s)")).unwrap_or_default(),
            self.handshake_us.p50,
            self.handshake_us.p99,
            self.sent
        ));
        s
    }

    pub fn summary(&self) -> String {
        format!("{}, {}/{} connections", self.base.summary().replacen(" rps", " msg/s", 1), self.established, self.base.connections)
    }
}

/// Build the report. `rps` is given because merged worker reports add their rates.
pub fn report(cfg: &WsConfig, workers: usize, s: &WsStats, elapsed: Duration, rps: Option<f64>, ramp_s: f64) -> WsReport {
    let secs = elapsed.as_secs_f64().max(1e-9);
    let base = Report {
        scenario: "ws".into(),
        target: cfg.target.clone(),
        mode: if cfg.rate.is_some() { "open" } else { "closed" }.into(),
        rate: cfg.rate,
        connections: cfg.connections,
        threads: cfg.threads.clamp(1, cfg.connections.max(1)),
        pipeline: if cfg.rate.is_some() { 1 } else { cfg.pipeline.max(1) },
        workers,
        ramp: cfg.ramp,
        duration_s: secs,
        responses: s.stats.responses,
        rps: rps.unwrap_or(s.stats.responses as f64 / secs),
        bytes: s.stats.bytes,
        connects: s.stats.connects,
        status: BTreeMap::new(),
        errors: s.stats.errors.iter().map(|(k, v)| (k.to_string(), *v)).collect(),
        errors_total: s.stats.error_total(),
        latency_us: Percentiles::of(&s.stats.latency),
        latency_uncorrected_us: Percentiles::of(&s.stats.uncorrected),
        // The ws report carries its histograms as JSON buckets (below).
        templates: Vec::new(),
        histograms: None,
    };
    WsReport {
        base,
        expect: match cfg.expect {
            Expect::Echo => "echo",
            Expect::Id => "id",
            Expect::Any => "any",
        },
        sent: s.sent,
        established: s.established,
        ramp_s,
        ramp_rate: cfg.ramp,
        handshake_us: Percentiles::of(&s.handshake),
        latency_spectrum_us: hist::spectrum_us(&s.stats.latency),
        latency_hist_ns: hist::to_pairs(&s.stats.latency),
        latency_uncorrected_hist_ns: hist::to_pairs(&s.stats.uncorrected),
        handshake_hist_ns: hist::to_pairs(&s.handshake),
    }
}

/// The run's results: merged statistics, the measured duration, and the ramp time.
pub struct WsRun {
    pub stats: WsStats,
    pub elapsed: Duration,
    pub ramp: Duration,
}

/// Run the scenario. `on_tick(elapsed, replies, errors, open connections)` is called about once
/// a second from the calling thread, during the ramp as well.
pub fn run(cfg: WsConfig, mut on_tick: impl FnMut(Duration, u64, u64, u64)) -> io::Result<WsRun> {
    if cfg.connections == 0 {
        return Err(io::Error::new(io::ErrorKind::InvalidInput, "need at least one connection"));
    }
    if cfg.expect == Expect::Id && !cfg.message.has_id {
        return Err(io::Error::new(io::ErrorKind::InvalidInput, "--expect id needs {{id}} in the message template"));
    }
    let threads = cfg.threads.clamp(1, cfg.connections);
    let cfg = Arc::new(WsConfig { threads, ..cfg });
    let progress: Arc<Vec<Progress>> = Arc::new((0..threads).map(|_| Progress::default()).collect());
    let barrier = Arc::new(Barrier::new(threads + 1));
    let (tx, rx) = mpsc::channel::<(WsStats, Duration)>();
    let placement = match &cfg.cpus {
        Some(c) if !c.is_empty() => shard::Placement::Pinned(c.clone()),
        _ => shard::Placement::Unpinned,
    };
    let t_ramp = Instant::now();
    let (c2, p2, b2) = (cfg.clone(), progress.clone(), barrier.clone());
    let sharded = shard::Builder::new().shards(threads).placement(placement).name("ws").start(
        |_ctx| Ok(()),
        move |_state: Rc<()>, ctx: shard::ShardCtx<()>| {
            let (cfg, progress, barrier, tx) = (c2.clone(), p2.clone(), b2.clone(), tx.clone());
            async move {
                let out = shard_main(cfg, ctx.id, progress, barrier, t_ramp).await;
                let _ = tx.send(out);
            }
        },
    )?;
    let tick = |on_tick: &mut dyn FnMut(Duration, u64, u64, u64), t: Duration| {
        let sum = |f: fn(&Progress) -> &AtomicU64| progress.iter().map(|p| f(p).load(Ordering::Relaxed)).sum::<u64>();
        let open = sum(|p| &p.opened).saturating_sub(sum(|p| &p.dropped));
        on_tick(t, sum(|p| &p.replies), sum(|p| &p.errors), open);
    };
    // Ramp: tick from here while the shards connect, until they all reach the barrier.
    let (btx, brx) = mpsc::channel();
    let b3 = barrier.clone();
    let waiter = std::thread::spawn(move || {
        b3.wait();
        let _ = btx.send(Instant::now());
    });
    let t0 = loop {
        match brx.recv_timeout(Duration::from_secs(1)) {
            Ok(t) => break t,
            Err(mpsc::RecvTimeoutError::Timeout) => tick(&mut on_tick, t_ramp.elapsed()),
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                sharded.join();
                return Err(io::Error::other("a client shard died while connecting"));
            }
        }
    };
    let _ = waiter.join();
    let ramp = t0 - t_ramp;
    let mut merged = WsStats::default();
    let mut elapsed = Duration::ZERO;
    crate::http::gather(
        sharded,
        &rx,
        || tick(&mut on_tick, t0.elapsed()),
        |(s, d)| {
            merged.merge(&s);
            elapsed = elapsed.max(d);
        },
    )?;
    Ok(WsRun { stats: merged, elapsed, ramp })
}

/// Connection `i`'s share of a total message cap.
fn cap_for(total: Option<u64>, conns: usize, i: usize) -> u64 {
    match total {
        None => u64::MAX,
        Some(t) => t / conns as u64 + u64::from((i as u64) < t % conns as u64),
    }
}

/// An open connection: its stream and whatever the server sent after the handshake.
type Open = (monoio::net::TcpStream, Vec<u8>);

async fn shard_main(
    cfg: Arc<WsConfig>,
    id: usize,
    progress: Arc<Vec<Progress>>,
    barrier: Arc<Barrier>,
    t_ramp: Instant,
) -> (WsStats, Duration) {
    let stats = Rc::new(RefCell::new(WsStats::default()));
    let req: Rc<[u8]> = upgrade_request(&cfg.host, &cfg.path, cfg.subprotocol.as_deref()).into();
    let mine: Vec<usize> = (id..cfg.connections).step_by(cfg.threads).collect();
    // Ramp: connect at the schedule's pace, handshakes run concurrently.
    let mut pending = Vec::with_capacity(mine.len());
    for (k, &i) in mine.iter().enumerate() {
        if let Some(due) = ramp_due(t_ramp, cfg.ramp, i) {
            if due > Instant::now() {
                monoio::time::sleep_until(monoio::time::Instant::from_std(due)).await;
            }
        }
        let (cfg, stats, progress, req) = (cfg.clone(), stats.clone(), progress.clone(), req.clone());
        pending.push(monoio::spawn(async move {
            let r = open(&cfg, i, &req, &stats).await;
            match &r {
                Ok(_) => progress[id].opened.fetch_add(1, Ordering::Relaxed),
                Err(_) => progress[id].errors.fetch_add(1, Ordering::Relaxed),
            };
            r.ok()
        }));
        if k % 64 == 63 {
            monoio::time::sleep(Duration::ZERO).await;
        }
    }
    let mut conns = Vec::with_capacity(mine.len());
    for (t, &i) in pending.into_iter().zip(&mine) {
        conns.push((i, t.await));
    }
    stats.borrow_mut().established = conns.iter().filter(|(_, c)| c.is_some()).count() as u64;
    // Every shard has its connections: the measured run starts for all at once. Blocking is
    // fine: nothing else runs on this shard until it returns.
    barrier.wait();
    let start = Instant::now();
    let end = start + cfg.duration;
    let tasks: Vec<_> = conns
        .into_iter()
        .map(|(i, c)| {
            let conn =
                Conn { cfg: cfg.clone(), i, start, end, stats: stats.clone(), progress: progress.clone(), shard: id, req: req.clone() };
            monoio::spawn(conn.run(c))
        })
        .collect();
    for t in tasks {
        t.await;
    }
    // The measured window: closing thousands of connections after the end is not part of it.
    let elapsed = start.elapsed().min(cfg.duration);
    let s = stats.borrow().clone();
    (s, elapsed)
}

/// Connect and upgrade connection `i`; counts the handshake or the error.
async fn open(cfg: &WsConfig, i: usize, req: &[u8], stats: &RefCell<WsStats>) -> Result<Open, &'static str> {
    let t = Instant::now();
    let r = async {
        let mut s = connect_to(cfg.addr, &cfg.sources, i).map_err(|e| connect_error_kind(&e))?;
        let rest = handshake(&mut s, req, cfg.timeout).await?;
        Ok((s, rest))
    }
    .await;
    let mut st = stats.borrow_mut();
    match r {
        Ok(o) => {
            st.handshake.saturating_record((t.elapsed().as_nanos() as u64).max(1));
            st.stats.connects += 1;
            Ok(o)
        }
        Err(kind) => {
            st.stats.error(kind);
            Err(kind)
        }
    }
}

struct Conn {
    cfg: Arc<WsConfig>,
    i: usize,
    start: Instant,
    end: Instant,
    stats: Rc<RefCell<WsStats>>,
    progress: Arc<Vec<Progress>>,
    shard: usize,
    req: Rc<[u8]>,
}

/// Why a connection's loop returned.
enum Exit {
    /// Time is up or the cap is reached.
    Finished,
    /// Counted as this kind; reconnect.
    Error(&'static str),
}

/// A message waiting for its reply.
struct InFlight {
    id: u64,
    /// ns since the start: when it was due (open loop) or sent (closed loop), and when sent.
    due: u64,
    sent: u64,
    /// Echo: the message, to compare with the reply.
    body: Vec<u8>,
}

/// One connection's state that survives reconnects.
struct Seq {
    rng: Rng,
    next_id: u64,
    done: u64,
    cap: u64,
    pacer: Option<Pacer>,
}

impl Conn {
    async fn run(self, mut first: Option<Open>) {
        let mut seq = Seq {
            rng: Rng::new(self.i as u64 + 1),
            next_id: 1,
            done: 0,
            cap: cap_for(self.cfg.messages, self.cfg.connections, self.i),
            pacer: self.cfg.rate.map(|r| Pacer::new(Schedule::new(r, self.cfg.connections as u64, self.i as u64))),
        };
        loop {
            if seq.done >= seq.cap || Instant::now() >= self.end {
                break;
            }
            let (mut s, rest) = match first.take() {
                Some(o) => o,
                None => {
                    // Reconnect: a fresh handshake (counted; its errors too).
                    match open(&self.cfg, self.i, &self.req, &self.stats).await {
                        Ok(o) => {
                            self.progress[self.shard].opened.fetch_add(1, Ordering::Relaxed);
                            o
                        }
                        Err(_) => {
                            self.progress[self.shard].errors.fetch_add(1, Ordering::Relaxed);
                            monoio::time::sleep(Duration::from_millis(10)).await;
                            continue;
                        }
                    }
                }
            };
            let exit = self.drive(&mut s, rest, &mut seq).await;
            if let Exit::Error(kind) = exit {
                self.error(kind);
                if let Some(p) = seq.pacer.as_mut() {
                    // The message lost with its connection has no reply; drop it from the pacer.
                    let _ = p.on_response(0);
                }
            } else {
                // A polite close; the reply is not awaited.
                let mut close = Vec::with_capacity(8);
                ws_frame::encode(op::CLOSE, &1000u16.to_be_bytes(), self.mask(&mut seq.rng), &mut close);
                let _ = monoio::time::timeout(Duration::from_millis(100), s.write_all(close)).await;
            }
            self.progress[self.shard].dropped.fetch_add(1, Ordering::Relaxed);
            if matches!(exit, Exit::Finished) {
                return;
            }
        }
        if first.is_some() {
            // Opened but time was up before it sent anything.
            self.progress[self.shard].dropped.fetch_add(1, Ordering::Relaxed);
        }
    }

    fn error(&self, kind: &'static str) {
        self.stats.borrow_mut().stats.error(kind);
        self.progress[self.shard].errors.fetch_add(1, Ordering::Relaxed);
    }

    fn ns_since_start(&self, t: Instant) -> u64 {
        t.saturating_duration_since(self.start).as_nanos() as u64
    }

    fn mask(&self, rng: &mut Rng) -> [u8; 4] {
        (rng.next_u64() as u32).to_ne_bytes()
    }

    /// Queue message `seq.next_id` in `wbuf` and remember it.
    fn queue(&self, seq: &mut Seq, wbuf: &mut Vec<u8>, in_flight: &mut VecDeque<InFlight>, now: Instant) {
        let id = seq.next_id;
        seq.next_id += 1;
        let start = wbuf.len();
        self.cfg.message.render(&mut seq.rng, id, wbuf);
        let body = if self.cfg.expect == Expect::Echo { wbuf[start..].to_vec() } else { Vec::new() };
        let mask = self.mask(&mut seq.rng);
        ws_frame::frame_in_place(op::TEXT, mask, wbuf, start);
        let sent = self.ns_since_start(now);
        let due = match seq.pacer.as_mut() {
            Some(p) => {
                let due = p.next_due();
                p.on_send(sent);
                due
            }
            None => sent,
        };
        in_flight.push_back(InFlight { id, due, sent, body });
        self.stats.borrow_mut().sent += 1;
    }

    /// Send and receive on one connection until finished or broken.
    async fn drive(&self, s: &mut monoio::net::TcpStream, mut rbuf: Vec<u8>, seq: &mut Seq) -> Exit {
        let depth = if seq.pacer.is_some() { 1 } else { self.cfg.pipeline.max(1) };
        let mut wbuf: Vec<u8> = Vec::with_capacity(512);
        let mut in_flight: VecDeque<InFlight> = VecDeque::with_capacity(depth);
        let mut msg: Vec<u8> = Vec::new();
        let mut pos = 0usize;
        loop {
            // Send what is due.
            let now = Instant::now();
            if now >= self.end || seq.done >= seq.cap {
                return Exit::Finished;
            }
            if let Some(p) = seq.pacer.as_ref() {
                if in_flight.is_empty() {
                    let due = self.start + Duration::from_nanos(p.next_due());
                    if due >= self.end {
                        return Exit::Finished;
                    }
                    if due > now {
                        monoio::time::sleep_until(monoio::time::Instant::from_std(due)).await;
                    }
                    self.queue(seq, &mut wbuf, &mut in_flight, Instant::now());
                }
            } else {
                let now = Instant::now();
                while in_flight.len() < depth && seq.done + (in_flight.len() as u64) < seq.cap {
                    self.queue(seq, &mut wbuf, &mut in_flight, now);
                }
            }
            if !wbuf.is_empty() {
                match monoio::time::timeout(self.cfg.timeout, s.write_all(wbuf)).await {
                    Ok((Ok(_), mut b)) => {
                        b.clear();
                        wbuf = b;
                    }
                    Ok((Err(_), _)) => return Exit::Error("write"),
                    Err(_) => return Exit::Error("timeout"),
                }
            }
            // Take every complete frame already read; read more if none answered a message.
            let mut answered = false;
            loop {
                let f = match ws_frame::parse(&rbuf[pos..], self.cfg.max_frame) {
                    Ok(Some(f)) => f,
                    Ok(None) => {
                        if answered {
                            break;
                        }
                        if pos == rbuf.len() {
                            rbuf.clear();
                            pos = 0;
                        } else if pos > 0 {
                            rbuf.drain(..pos);
                            pos = 0;
                        }
                        rbuf.reserve(4096);
                        let oldest = in_flight.front().map_or(self.start, |m| self.start + Duration::from_nanos(m.sent));
                        let deadline = (oldest + self.cfg.timeout).min(self.end);
                        let wait = deadline.saturating_duration_since(Instant::now());
                        let (len, cap) = (rbuf.len(), rbuf.capacity());
                        match monoio::time::timeout(wait, s.read(rbuf.slice_mut(len..cap))).await {
                            Ok((Ok(0), _)) => return Exit::Error("closed"),
                            Ok((Ok(_), b)) => rbuf = b.into_inner(),
                            Ok((Err(_), _)) => return Exit::Error("read"),
                            Err(_) if Instant::now() >= self.end => return Exit::Finished,
                            Err(_) => return Exit::Error("timeout"),
                        }
                        continue;
                    }
                    Err(e) => return Exit::Error(e.as_str()),
                };
                let payload = f.payload(&rbuf[pos..]);
                let complete: Option<&[u8]> = match f.opcode {
                    op::PING => {
                        let mut pong = Vec::with_capacity(payload.len() + 6);
                        ws_frame::encode(op::PONG, payload, self.mask(&mut seq.rng), &mut pong);
                        if let (Err(_), _) = s.write_all(pong).await {
                            return Exit::Error("write");
                        }
                        None
                    }
                    op::PONG => None,
                    op::CLOSE => return Exit::Error("closed"),
                    op::TEXT | op::BINARY if f.fin && msg.is_empty() => Some(payload),
                    _ => {
                        // A fragment: gather the message.
                        msg.extend_from_slice(payload);
                        if f.fin {
                            Some(&msg[..])
                        } else {
                            None
                        }
                    }
                };
                if let Some(m) = complete {
                    match self.on_message(m, &mut in_flight, seq) {
                        Ok(true) => answered = true,
                        Ok(false) => {}
                        Err(kind) => return Exit::Error(kind),
                    }
                    msg.clear();
                }
                pos += f.len;
            }
        }
    }

    /// A complete message arrived. `Ok(true)`: it answered the oldest one in flight.
    fn on_message(&self, m: &[u8], in_flight: &mut VecDeque<InFlight>, seq: &mut Seq) -> Result<bool, &'static str> {
        let is_push = || self.cfg.expect == Expect::Id && contains(m, b"\"type\":\"event\"");
        let Some(front) = in_flight.front() else {
            return if is_push() { Ok(false) } else { Err("unexpected") };
        };
        // Which message this answers: the oldest (echo, any), or the one with its id — replies
        // of the API may overtake each other (an `interpret` reply comes when the model answers).
        let at = match self.cfg.expect {
            Expect::Echo if m != front.body.as_slice() => return Err("mismatch"),
            Expect::Id => match reply_id(m).and_then(|id| in_flight.iter().position(|f| f.id == id)) {
                Some(at) => at,
                None if is_push() => return Ok(false),
                None => return Err("mismatch"),
            },
            _ => 0,
        };
        let now = self.ns_since_start(Instant::now());
        let f = in_flight.remove(at).expect("index found above");
        let sample = match seq.pacer.as_mut() {
            Some(p) => p.on_response(now).unwrap_or(Sample { corrected: 0, uncorrected: 0 }),
            None => Sample { corrected: now.saturating_sub(f.due), uncorrected: now.saturating_sub(f.sent) },
        };
        seq.done += 1;
        if self.cfg.expect == Expect::Id && contains(m, b"\"type\":\"error\"") {
            self.error("reply_error");
            return Ok(true);
        }
        self.stats.borrow_mut().record(sample, m.len());
        self.progress[self.shard].replies.fetch_add(1, Ordering::Relaxed);
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_template_numbers_and_randomizes() {
        let t = MessageTemplate::new(r#"{"id":{{id}},"type":"chart","datetime":"{{datetime}}","zone":"Asia/Seoul","gender":"{{gender}}"}"#)
            .unwrap();
        assert!(t.has_id);
        let mut rng = Rng::new(3);
        let mut v = Vec::new();
        t.render(&mut rng, 42, &mut v);
        let j: serde_json::Value = serde_json::from_slice(&v).unwrap();
        assert_eq!(j["id"], 42);
        assert_eq!(j["datetime"].as_str().unwrap().len(), 16);
        assert_eq!(reply_id(&v), Some(42));
        let plain = MessageTemplate::new("hello").unwrap();
        assert!(!plain.has_id);
        let mut w = Vec::new();
        plain.render(&mut rng, 1, &mut w);
        assert_eq!(w, b"hello");
        assert!(MessageTemplate::new("{{nope}}").is_err());
    }

    #[test]
    fn reply_ids_as_the_server_writes_them() {
        assert_eq!(reply_id(br#"{"id":7,"result":{"x":1},"type":"chart"}"#), Some(7));
        assert_eq!(reply_id(br#"{"code":"invalid_input","field":"offset","id":12,"message":"m","type":"error"}"#), Some(12));
        assert_eq!(reply_id(br#"{"id":null,"type":"pong"}"#), None);
        assert_eq!(reply_id(br#"{"type":"event","topic":"daily"}"#), None);
        assert_eq!(reply_id(br#"{"id":123"#), Some(123));
    }

    #[test]
    fn cap_splits_exactly() {
        for total in [0u64, 1, 7, 1001] {
            for conns in [1usize, 3, 8] {
                assert_eq!((0..conns).map(|i| cap_for(Some(total), conns, i)).sum::<u64>(), total);
            }
        }
    }
}
