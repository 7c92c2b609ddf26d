//! The `http` scenario: HTTP/1.1 keep-alive connections spread over client shards (one pinned
//! thread + monoio runtime each, from the `shard` crate), in closed loop (each connection keeps
//! `pipeline` requests in flight, like wrk) or open loop (a fixed global rate, latency measured
//! from the scheduled send time — see [`crate::sched`]). Each request is made from one template
//! of a [`Mix`] (just one for `http`; weighted for `mix`). Connections are all opened before the
//! clock starts, or with `ramp` at a fixed rate after it.
//!
//! This is the only module that touches sockets and clocks; parsing, pacing and statistics are
//! sans-IO.

use crate::http1::{parse_response, Parse};
use crate::report::{Report, RunInfo, Stats};
use crate::request::{Mix, Rng};
use crate::sched::{ramp_offset, Pacer, Sample, Schedule};
use monoio::buf::IoBufMut;
use monoio::io::{AsyncReadRent, AsyncWriteRentExt};
use socket2::{Domain, Socket, Type};
use std::cell::RefCell;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::rc::Rc;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{mpsc, Arc, Barrier};
use std::time::{Duration, Instant};

/// What to run.
#[derive(Debug, Clone)]
pub struct HttpConfig {
    pub addr: SocketAddr,
    /// What to send: one template, or a weighted mix (each request picks one).
    pub request: Mix,
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
    /// Closed loop: requests in flight per connection (open loop always sends one at a time).
    pub pipeline: usize,
    /// Source addresses, connection `i` binds `sources[i % len]` (with IP_BIND_ADDRESS_NO_PORT,
    /// so each address has its own ephemeral port range). Empty: the kernel picks.
    pub sources: Vec<IpAddr>,
    /// Per read/write; a connection that times out is counted, closed and reopened.
    pub timeout: Duration,
    /// Open connection `i` at `i / ramp` seconds after the clock starts (connections per second,
    /// over all shards), instead of all before it. In open loop a connection's share of the rate
    /// starts when it opens, so the offered rate ramps up with the connections.
    pub ramp: Option<f64>,
}

/// Progress counters one shard publishes for the live line (written by that shard only).
#[derive(Debug, Default)]
pub struct Progress {
    pub responses: AtomicU64,
    pub errors: AtomicU64,
    /// Connections open now.
    pub open: AtomicI64,
}

/// What the live line shows, about once a second.
#[derive(Debug, Clone, Copy, Default)]
pub struct Tick {
    pub elapsed: Duration,
    pub responses: u64,
    pub errors: u64,
    pub open: u64,
}

impl Tick {
    /// The sum of every shard's counters, `elapsed` after the clock started.
    pub fn of(progress: &[Progress], elapsed: Duration) -> Self {
        let responses = progress.iter().map(|p| p.responses.load(Ordering::Relaxed)).sum();
        let errors = progress.iter().map(|p| p.errors.load(Ordering::Relaxed)).sum();
        let open = progress.iter().map(|p| p.open.load(Ordering::Relaxed)).sum::<i64>().max(0) as u64;
        Self { elapsed, responses, errors, open }
    }
}

/// Receive each client shard's result (`each`), calling `idle` about once a second meanwhile (the
/// live line); then join the shards. Fails when a shard ended without sending its result. Used by
/// every scenario that sends one result per client shard (`http`/`mix`, `ws`, `h3`).
pub(crate) fn gather<S: 'static, T>(
    sharded: shard::Sharded<S>,
    rx: &mpsc::Receiver<T>,
    mut idle: impl FnMut(),
    mut each: impl FnMut(T),
) -> io::Result<()> {
    let threads = sharded.len();
    let mut got = 0;
    while got < threads {
        match rx.recv_timeout(Duration::from_secs(1)) {
            Ok(v) => {
                each(v);
                got += 1;
            }
            Err(mpsc::RecvTimeoutError::Timeout) => idle(),
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
        }
    }
    sharded.join();
    if got < threads {
        return Err(io::Error::other("a client shard died before reporting"));
    }
    Ok(())
}

/// Run the scenario; `on_tick` is called about once a second from the calling thread. Returns the
/// merged statistics and the measured duration.
pub fn run(cfg: HttpConfig, mut on_tick: impl FnMut(Tick)) -> io::Result<(Stats, Duration)> {
    if cfg.connections == 0 {
        return Err(io::Error::new(io::ErrorKind::InvalidInput, "need at least one connection"));
    }
    let threads = cfg.threads.clamp(1, cfg.connections);
    let cfg = Arc::new(HttpConfig { threads, ..cfg });
    let progress: Arc<Vec<Progress>> = Arc::new((0..threads).map(|_| Progress::default()).collect());
    let barrier = Arc::new(Barrier::new(threads + 1));
    let (tx, rx) = mpsc::channel::<(Stats, Duration)>();
    let placement = match &cfg.cpus {
        Some(c) if !c.is_empty() => shard::Placement::Pinned(c.clone()),
        _ => shard::Placement::Unpinned,
    };
    let (c2, p2, b2) = (cfg.clone(), progress.clone(), barrier.clone());
    let sharded = shard::Builder::new().shards(threads).placement(placement).name("load").start(
        |_ctx| Ok(()),
        move |_state: Rc<()>, ctx: shard::ShardCtx<()>| {
            let (cfg, progress, barrier, tx) = (c2.clone(), p2.clone(), b2.clone(), tx.clone());
            async move {
                let out = shard_main(cfg, ctx.id, progress, barrier).await;
                let _ = tx.send(out);
            }
        },
    )?;
    // Every shard has connected: the clock starts for all at once.
    barrier.wait();
    let mut merged = Stats::for_templates(cfg.request.entries.len());
    let mut elapsed = Duration::ZERO;
    let t0 = Instant::now();
    gather(
        sharded,
        &rx,
        || on_tick(Tick::of(&progress, t0.elapsed())),
        |(s, d)| {
            merged.merge(&s);
            elapsed = elapsed.max(d);
        },
    )?;
    Ok((merged, elapsed))
}

/// What the report says about the run (scenario `mix` when the templates are named).
pub fn run_info(cfg: &HttpConfig) -> RunInfo {
    let named = cfg.request.entries.iter().any(|e| !e.name.is_empty());
    RunInfo {
        scenario: if named { "mix" } else { "http" }.into(),
        target: cfg.target.clone(),
        rate: cfg.rate,
        connections: cfg.connections,
        threads: cfg.threads.clamp(1, cfg.connections.max(1)),
        pipeline: cfg.pipeline,
        workers: 1,
        ramp: cfg.ramp,
        templates: cfg.request.entries.iter().map(|e| (e.name.clone(), e.weight)).collect(),
    }
}

/// Build the report from a run's results.
pub fn report(cfg: &HttpConfig, stats: &Stats, elapsed: Duration) -> Report {
    Report::new(&run_info(cfg), stats, elapsed)
}

/// Connection `i`'s share of a total request cap.
fn cap_for(total: Option<u64>, conns: usize, i: usize) -> u64 {
    match total {
        None => u64::MAX,
        Some(t) => t / conns as u64 + u64::from((i as u64) < t % conns as u64),
    }
}

async fn shard_main(cfg: Arc<HttpConfig>, id: usize, progress: Arc<Vec<Progress>>, barrier: Arc<Barrier>) -> (Stats, Duration) {
    let stats = Rc::new(RefCell::new(Stats::for_templates(cfg.request.entries.len())));
    let mine: Vec<usize> = (id..cfg.connections).step_by(cfg.threads).collect();
    // Without a ramp, connect everything before the clock starts (blocking connects: loopback,
    // start-up only); with one, each connection opens itself when its time comes.
    let mut streams = Vec::with_capacity(mine.len());
    for &i in &mine {
        let s = match cfg.ramp {
            Some(_) => None,
            None => match connect(&cfg, i) {
                Ok(s) => {
                    stats.borrow_mut().connects += 1;
                    progress[id].open.fetch_add(1, Ordering::Relaxed);
                    Some(s)
                }
                Err(_) => {
                    stats.borrow_mut().error("connect");
                    None
                }
            },
        };
        streams.push((i, s));
    }
    // Blocking here is fine: nothing else runs on this shard yet.
    barrier.wait();
    let start = Instant::now();
    let end = start + cfg.duration;
    let tasks: Vec<_> = streams
        .into_iter()
        .map(|(i, s)| {
            let base = start + ramp_offset(cfg.ramp, i);
            let conn = Conn { cfg: cfg.clone(), i, start, base, end, stats: stats.clone(), progress: progress.clone(), shard: id };
            monoio::spawn(conn.run(s))
        })
        .collect();
    for t in tasks {
        t.await;
    }
    let elapsed = start.elapsed();
    let s = stats.borrow().clone();
    (s, elapsed)
}

fn connect(cfg: &HttpConfig, i: usize) -> io::Result<monoio::net::TcpStream> {
    connect_to(cfg.addr, &cfg.sources, i)
}

/// Connection `i` to `addr`, from `sources[i % len]` if any. A blocking connect (loopback:
/// immediate), then handed to the shard's runtime.
pub(crate) fn connect_to(addr: SocketAddr, sources: &[IpAddr], i: usize) -> io::Result<monoio::net::TcpStream> {
    let sock = Socket::new(Domain::for_address(addr), Type::STREAM, None)?;
    if !sources.is_empty() {
        let src = sources[i % sources.len()];
        set_bind_address_no_port(&sock)?;
        sock.bind(&SocketAddr::new(src, 0).into())?;
    }
    sock.connect(&addr.into())?;
    sock.set_nodelay(true)?;
    sock.set_nonblocking(true)?;
    monoio::net::TcpStream::from_std(sock.into())
}

/// Let bind() pick only the address and defer the port to connect(), which can then reuse a port
/// for different destinations and gives each source address its own ~28k ports.
fn set_bind_address_no_port(sock: &Socket) -> io::Result<()> {
    use std::os::fd::AsRawFd;
    let one: libc::c_int = 1;
    // SAFETY: setsockopt on a valid, owned socket fd with a pointer to a live c_int and its size.
    let rc = unsafe {
        libc::setsockopt(
            sock.as_raw_fd(),
            libc::IPPROTO_IP,
            libc::IP_BIND_ADDRESS_NO_PORT,
            (&one as *const libc::c_int).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

struct Conn {
    cfg: Arc<HttpConfig>,
    i: usize,
    start: Instant,
    /// When this connection opens (= `start` without a ramp); its open-loop schedule counts from
    /// here.
    base: Instant,
    end: Instant,
    stats: Rc<RefCell<Stats>>,
    progress: Arc<Vec<Progress>>,
    shard: usize,
}

/// Why a connection's loop returned.
enum Exit {
    /// Time is up or the cap is reached.
    Finished,
    /// The server asked to close (`connection: close`); reconnect without counting an error.
    Closed,
    /// Counted as this kind; reconnect.
    Error(&'static str),
}

impl Conn {
    async fn run(self, mut stream: Option<monoio::net::TcpStream>) {
        let cap = cap_for(self.cfg.requests, self.cfg.connections, self.i);
        let mut rng = Rng::new(self.i as u64 + 1);
        let mut pacer = self.cfg.rate.map(|r| Pacer::new(Schedule::new(r, self.cfg.connections as u64, self.i as u64)));
        let mut done = 0u64;
        if self.base > self.start {
            if self.base >= self.end {
                return;
            }
            monoio::time::sleep_until(monoio::time::Instant::from_std(self.base)).await;
        }
        loop {
            if done >= cap || Instant::now() >= self.end {
                if stream.is_some() {
                    self.progress[self.shard].open.fetch_sub(1, Ordering::Relaxed);
                }
                return;
            }
            let mut s = match stream.take() {
                Some(s) => s,
                None => match connect(&self.cfg, self.i) {
                    Ok(s) => {
                        self.stats.borrow_mut().connects += 1;
                        self.progress[self.shard].open.fetch_add(1, Ordering::Relaxed);
                        s
                    }
                    Err(_) => {
                        self.error("connect");
                        monoio::time::sleep(Duration::from_millis(10)).await;
                        continue;
                    }
                },
            };
            let exit = self.drive(&mut s, cap, &mut done, &mut rng, pacer.as_mut()).await;
            drop(s);
            self.progress[self.shard].open.fetch_sub(1, Ordering::Relaxed);
            match exit {
                Exit::Finished => return,
                Exit::Closed => {}
                Exit::Error(kind) => self.error(kind),
            }
            if let Some(p) = pacer.as_mut() {
                // A request lost with its connection has no answer; drop it from the pacer.
                let _ = p.on_response(0);
            }
        }
    }

    fn error(&self, kind: &'static str) {
        self.stats.borrow_mut().error(kind);
        self.progress[self.shard].errors.fetch_add(1, Ordering::Relaxed);
    }

    /// Pacer time: ns since this connection's schedule began.
    fn ns_since_base(&self, t: Instant) -> u64 {
        t.saturating_duration_since(self.base).as_nanos() as u64
    }

    /// Send and receive on one connection until finished or broken.
    async fn drive(&self, s: &mut monoio::net::TcpStream, cap: u64, done: &mut u64, rng: &mut Rng, mut pacer: Option<&mut Pacer>) -> Exit {
        let depth = if pacer.is_some() { 1 } else { self.cfg.pipeline.max(1) as u64 };
        let timeout = self.cfg.timeout;
        let mut wbuf: Vec<u8> = Vec::with_capacity(1024);
        let mut rbuf: Vec<u8> = Vec::with_capacity(16 * 1024);
        let mut pos = 0usize;
        // The template of each request in flight, in order.
        let mut picks: Vec<usize> = Vec::with_capacity(depth as usize);
        loop {
            let now = Instant::now();
            if now >= self.end || *done >= cap {
                return Exit::Finished;
            }
            if let Some(p) = pacer.as_deref() {
                let due = self.base + Duration::from_nanos(p.next_due());
                if due >= self.end {
                    return Exit::Finished;
                }
                if due > now {
                    monoio::time::sleep_until(monoio::time::Instant::from_std(due)).await;
                }
            }
            let n = depth.min(cap - *done);
            wbuf.clear();
            picks.clear();
            for _ in 0..n {
                let t = self.cfg.request.pick(rng);
                picks.push(t);
                self.cfg.request.template(t).render(rng, &mut wbuf);
            }
            let sent = Instant::now();
            if let Some(p) = pacer.as_deref_mut() {
                p.on_send(self.ns_since_base(sent));
            }
            match monoio::time::timeout(timeout, s.write_all(wbuf)).await {
                Ok((Ok(_), b)) => wbuf = b,
                Ok((Err(_), _)) => return Exit::Error("write"),
                Err(_) => return Exit::Error("timeout"),
            }
            let mut close = false;
            for &t in &picks {
                let is_head = self.cfg.request.template(t).is_head;
                let (status, len) = loop {
                    match parse_response(&rbuf[pos..], is_head) {
                        Ok(Parse::Done { status, len, close: c }) => {
                            close |= c;
                            break (status, len);
                        }
                        Ok(Parse::Incomplete) => {}
                        Err(e) => return Exit::Error(e.as_str()),
                    }
                    if pos == rbuf.len() {
                        rbuf.clear();
                        pos = 0;
                    } else if pos > 0 {
                        rbuf.drain(..pos);
                        pos = 0;
                    }
                    rbuf.reserve(16 * 1024);
                    let (len, cap) = (rbuf.len(), rbuf.capacity());
                    match monoio::time::timeout(timeout, s.read(rbuf.slice_mut(len..cap))).await {
                        Ok((Ok(0), _)) => return Exit::Error("closed"),
                        Ok((Ok(_), b)) => rbuf = b.into_inner(),
                        Ok((Err(_), _)) => return Exit::Error("read"),
                        Err(_) => return Exit::Error("timeout"),
                    }
                };
                pos += len;
                let now = Instant::now();
                let sample = match pacer.as_deref_mut() {
                    Some(p) => p.on_response(self.ns_since_base(now)).unwrap_or(Sample { corrected: 0, uncorrected: 0 }),
                    None => {
                        let d = now.duration_since(sent).as_nanos() as u64;
                        Sample { corrected: d, uncorrected: d }
                    }
                };
                {
                    let mut st = self.stats.borrow_mut();
                    st.record(t, status, sample);
                    st.bytes += len as u64;
                }
                self.progress[self.shard].responses.fetch_add(1, Ordering::Relaxed);
                *done += 1;
                if close {
                    // Responses after a `connection: close` one will not come.
                    return Exit::Closed;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::cap_for;

    #[test]
    fn cap_splits_exactly() {
        for total in [0u64, 1, 7, 100, 1001] {
            for conns in [1usize, 3, 8] {
                let sum: u64 = (0..conns).map(|i| cap_for(Some(total), conns, i)).sum();
                assert_eq!(sum, total);
            }
        }
        assert_eq!(cap_for(None, 4, 0), u64::MAX);
    }
}
