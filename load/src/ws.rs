//! The `ws-hold` scenario: open N WebSocket connections (HTTP/1.1 upgrade, optional
//! subprotocol), hold them idle for a while (optionally pinging), and report how many were
//! established, errors by kind, handshake latency and — given the server's pid — the server's
//! RSS per held connection.
//!
//! One process: RLIMIT_NOFILE (20000 here) caps it near 19,990 connections. To go past that,
//! the binary's `ws-hold --workers K` runs K processes of this and adds up their reports.

use crate::http::connect_to;
use crate::http1::{parse_response, Parse};
use crate::report::Percentiles;
use hdrhistogram::Histogram;
use monoio::buf::IoBufMut;
use monoio::io::{AsyncReadRent, AsyncWriteRentExt};
use serde::Serialize;
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::rc::Rc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

#[derive(Debug, Clone)]
pub struct WsHoldConfig {
    pub addr: SocketAddr,
    pub host: String,
    pub path: String,
    pub subprotocol: Option<String>,
    pub connections: usize,
    pub threads: usize,
    pub cpus: Option<Vec<usize>>,
    /// How long each connection stays open after its handshake — and, with a ramp, at least
    /// this long after the ramp's last connection is due, so that all are held together.
    pub hold: Duration,
    /// Send a (masked, empty) ping this often while holding; `None`: silent.
    pub ping_interval: Option<Duration>,
    pub sources: Vec<IpAddr>,
    /// For the handshake.
    pub timeout: Duration,
    /// Read this process's VmRSS before and with all connections held.
    pub server_pid: Option<u32>,
    /// Open connections at this many per second (connection `i` starts `i / ramp` s after the
    /// first); `None`: as fast as the client can.
    pub ramp: Option<f64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct WsHoldReport {
    pub scenario: &'static str,
    pub target: String,
    pub connections: usize,
    pub established: u64,
    /// Established connections the server closed before the hold ended.
    pub closed_early: u64,
    pub errors: BTreeMap<&'static str, u64>,
    /// From the first connect until every connection was established or failed.
    pub ramp_s: f64,
    /// The requested ramp, connections/s (`None`: unpaced).
    pub ramp_rate: Option<f64>,
    /// Achieved: established ÷ `ramp_s`.
    pub ramp_achieved_per_s: f64,
    pub handshake_us: Percentiles,
    /// The handshake histogram as `[[value_ns, count], …]` ([`crate::hist`]), for plots.
    pub handshake_hist_ns: Vec<[u64; 2]>,
    pub server_rss_kb_before: Option<u64>,
    pub server_rss_kb_held: Option<u64>,
    /// (held − before) ÷ established, bytes; user-space only (kernel socket memory is not in RSS).
    pub server_rss_per_conn_bytes: Option<f64>,
}

#[derive(Default)]
struct Shared {
    established: AtomicU64,
    failed: AtomicU64,
}

struct ShardOut {
    handshake: Histogram<u64>,
    errors: BTreeMap<&'static str, u64>,
    closed_early: u64,
}

/// VmRSS of `pid` in KiB.
pub fn rss_kb(pid: u32) -> Option<u64> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    s.lines().find_map(|l| l.strip_prefix("VmRSS:")).and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

pub fn hold(cfg: WsHoldConfig, mut on_tick: impl FnMut(Duration, u64, u64)) -> io::Result<WsHoldReport> {
    if cfg.connections == 0 {
        return Err(io::Error::new(io::ErrorKind::InvalidInput, "need at least one connection"));
    }
    let threads = cfg.threads.clamp(1, cfg.connections);
    let cfg = Arc::new(WsHoldConfig { threads, ..cfg });
    let rss_before = cfg.server_pid.and_then(rss_kb);
    let shared: Arc<Vec<Shared>> = Arc::new((0..threads).map(|_| Shared::default()).collect());
    let (tx, rx) = mpsc::channel::<ShardOut>();
    let placement = match &cfg.cpus {
        Some(c) if !c.is_empty() => shard::Placement::Pinned(c.clone()),
        _ => shard::Placement::Unpinned,
    };
    let t0 = Instant::now();
    let (c2, s2) = (cfg.clone(), shared.clone());
    let sharded = shard::Builder::new().shards(threads).placement(placement).name("ws-hold").start(
        |_ctx| Ok(()),
        move |_state: Rc<()>, ctx: shard::ShardCtx<()>| {
            let (cfg, shared, tx) = (c2.clone(), s2.clone(), tx.clone());
            async move {
                let _ = tx.send(shard_main(cfg, ctx.id, shared, t0).await);
            }
        },
    )?;
    let (mut ramp, mut rss_held, mut got) = (None, None, Vec::new());
    while got.len() < threads {
        match rx.recv_timeout(Duration::from_millis(250)) {
            Ok(o) => got.push(o),
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
            Err(mpsc::RecvTimeoutError::Timeout) => {}
        }
        let est: u64 = shared.iter().map(|s| s.established.load(Ordering::Relaxed)).sum();
        let failed: u64 = shared.iter().map(|s| s.failed.load(Ordering::Relaxed)).sum();
        if ramp.is_none() && est + failed >= cfg.connections as u64 {
            ramp = Some(t0.elapsed());
            rss_held = cfg.server_pid.and_then(rss_kb);
        }
        on_tick(t0.elapsed(), est, failed);
    }
    sharded.join();
    if got.len() < threads {
        return Err(io::Error::other("a client shard died before reporting"));
    }
    let mut handshake = Histogram::<u64>::new_with_bounds(1, crate::report::MAX_LATENCY_NS, 3).expect("bounds");
    let mut errors = BTreeMap::new();
    let mut closed_early = 0;
    for o in &got {
        let _ = handshake.add(&o.handshake);
        for (k, v) in &o.errors {
            *errors.entry(*k).or_default() += v;
        }
        closed_early += o.closed_early;
    }
    let established: u64 = shared.iter().map(|s| s.established.load(Ordering::Relaxed)).sum();
    let per_conn = match (rss_before, rss_held) {
        (Some(a), Some(b)) if established > 0 => Some((b as f64 - a as f64) * 1024.0 / established as f64),
        _ => None,
    };
    let ramp_s = ramp.unwrap_or_else(|| t0.elapsed()).as_secs_f64();
    Ok(WsHoldReport {
        scenario: "ws-hold",
        target: format!("ws://{}{}", cfg.host, cfg.path),
        connections: cfg.connections,
        established,
        closed_early,
        errors,
        ramp_s,
        ramp_rate: cfg.ramp,
        ramp_achieved_per_s: established as f64 / ramp_s.max(1e-9),
        handshake_us: Percentiles::of(&handshake),
        handshake_hist_ns: crate::hist::to_pairs(&handshake),
        server_rss_kb_before: rss_before,
        server_rss_kb_held: rss_held,
        server_rss_per_conn_bytes: per_conn,
    })
}

/// The error kind for a failed connect: `connect_emfile` (this process's fd limit),
/// `connect_no_port` (the source address ran out of ephemeral ports) or `connect`.
pub(crate) fn connect_error_kind(e: &io::Error) -> &'static str {
    match e.raw_os_error() {
        Some(libc::EMFILE) | Some(libc::ENFILE) => "connect_emfile",
        Some(libc::EADDRNOTAVAIL) => "connect_no_port",
        _ => "connect",
    }
}

/// When connection `i` should open under a ramp of `rate` connections/s started at `t0`.
pub(crate) fn ramp_due(t0: Instant, rate: Option<f64>, i: usize) -> Option<Instant> {
    let r = rate.filter(|r| r.is_finite() && *r > 0.0)?;
    Some(t0 + Duration::from_secs_f64(i as f64 / r))
}

/// The HTTP/1.1 upgrade request.
pub(crate) fn upgrade_request(host: &str, path: &str, subprotocol: Option<&str>) -> Vec<u8> {
    let mut r = format!(
        "GET {path} HTTP/1.1\r\nhost: {host}\r\nupgrade: websocket\r\nconnection: Upgrade\r\nsec-websocket-key: dGhlIHNhbXBsZSBub25jZQ==\r\nsec-websocket-version: 13\r\n"
    );
    if let Some(p) = subprotocol {
        r.push_str(&format!("sec-websocket-protocol: {p}\r\n"));
    }
    r.push_str("\r\n");
    r.into_bytes()
}

/// An empty client ping: FIN + opcode 9, masked, zero length, mask key 0.
const PING: [u8; 6] = [0x89, 0x80, 0, 0, 0, 0];

async fn shard_main(cfg: Arc<WsHoldConfig>, id: usize, shared: Arc<Vec<Shared>>, t0: Instant) -> ShardOut {
    let out = Rc::new(RefCell::new(ShardOut {
        handshake: Histogram::new_with_bounds(1, crate::report::MAX_LATENCY_NS, 3).expect("bounds"),
        errors: BTreeMap::new(),
        closed_early: 0,
    }));
    let req = Rc::new(upgrade_request(&cfg.host, &cfg.path, cfg.subprotocol.as_deref()));
    let mut tasks = Vec::new();
    for i in (id..cfg.connections).step_by(cfg.threads) {
        if let Some(due) = ramp_due(t0, cfg.ramp, i) {
            if due > Instant::now() {
                monoio::time::sleep_until(monoio::time::Instant::from_std(due)).await;
            }
        }
        let t = Instant::now();
        let fail = |kind: &'static str| {
            *out.borrow_mut().errors.entry(kind).or_default() += 1;
            shared[id].failed.fetch_add(1, Ordering::Relaxed);
        };
        let s = match connect_to(cfg.addr, &cfg.sources, i) {
            Ok(s) => s,
            Err(e) => {
                fail(connect_error_kind(&e));
                continue;
            }
        };
        let (cfg, shared, out, req) = (cfg.clone(), shared.clone(), out.clone(), req.clone());
        tasks.push(monoio::spawn(async move {
            let r = conn(s, &cfg, &req, t, t0, &shared[id], &out).await;
            if let Err(kind) = r {
                *out.borrow_mut().errors.entry(kind).or_default() += 1;
                shared[id].failed.fetch_add(1, Ordering::Relaxed);
            }
        }));
        // Let handshakes progress while this shard keeps connecting.
        if tasks.len() % 64 == 0 {
            monoio::time::sleep(Duration::ZERO).await;
        }
    }
    for t in tasks {
        t.await;
    }
    Rc::try_unwrap(out).ok().map(RefCell::into_inner).expect("tasks done")
}

/// Send the upgrade request and read up to the end of a `101` answer. `Ok(rest)`: whatever the
/// server sent after it (frames already on their way). `Err(kind)`: the error kind to count.
pub(crate) async fn handshake(s: &mut monoio::net::TcpStream, req: &[u8], timeout: Duration) -> Result<Vec<u8>, &'static str> {
    match monoio::time::timeout(timeout, s.write_all(req.to_vec())).await {
        Ok((Ok(_), _)) => {}
        Ok((Err(_), _)) => return Err("write"),
        Err(_) => return Err("timeout"),
    }
    let mut buf: Vec<u8> = Vec::with_capacity(1024);
    loop {
        match parse_response(&buf, false) {
            Ok(Parse::Done { status: 101, len, .. }) => {
                buf.drain(..len);
                return Ok(buf);
            }
            Ok(Parse::Done { .. }) => return Err("handshake_status"),
            Ok(Parse::Incomplete) => {}
            Err(e) => return Err(e.as_str()),
        }
        buf.reserve(1024);
        let (len, cap) = (buf.len(), buf.capacity());
        match monoio::time::timeout(timeout, s.read(buf.slice_mut(len..cap))).await {
            Ok((Ok(0), _)) => return Err("closed"),
            Ok((Ok(_), b)) => buf = b.into_inner(),
            Ok((Err(_), _)) => return Err("read"),
            Err(_) => return Err("timeout"),
        }
    }
}

/// Handshake then hold. `Err(kind)` if it never got established.
async fn conn(
    mut s: monoio::net::TcpStream,
    cfg: &WsHoldConfig,
    req: &[u8],
    t: Instant,
    t0: Instant,
    sh: &Shared,
    out: &RefCell<ShardOut>,
) -> Result<(), &'static str> {
    let buf = handshake(&mut s, req, cfg.timeout).await?;
    out.borrow_mut().handshake.saturating_record((t.elapsed().as_nanos() as u64).max(1));
    sh.established.fetch_add(1, Ordering::Relaxed);
    drop(buf);
    // Hold: wait for the server (reads only matter if it closes), pinging if asked.
    let ramp_end = ramp_due(t0, cfg.ramp, cfg.connections.saturating_sub(1)).unwrap_or(t0);
    let end = (Instant::now() + cfg.hold).max(ramp_end + cfg.hold);
    let mut rbuf: Vec<u8> = Vec::with_capacity(64);
    loop {
        let now = Instant::now();
        if now >= end {
            return Ok(());
        }
        let wait = cfg.ping_interval.map_or(end - now, |p| p.min(end - now));
        match monoio::time::timeout(wait, s.read(rbuf)).await {
            Ok((Ok(0), _)) | Ok((Err(_), _)) => {
                out.borrow_mut().closed_early += 1;
                return Ok(());
            }
            Ok((Ok(_), b)) => rbuf = b,
            Err(_) => {
                // The read was cancelled with its buffer; a fresh small one.
                rbuf = Vec::with_capacity(64);
                if cfg.ping_interval.is_some() && Instant::now() < end {
                    if let (Err(_), _) = s.write_all(PING.to_vec()).await {
                        out.borrow_mut().closed_early += 1;
                        return Ok(());
                    }
                }
            }
        }
    }
}
