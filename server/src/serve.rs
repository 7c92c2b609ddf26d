//! `hypercube serve`: start one shard per core, accept on every shard, stop gracefully.
//!
//! Shutdown: the first SIGTERM/SIGINT raises every shard's stop signal. Each shard then closes
//! its listener (no new connections), marks itself draining (`/readyz` → 503), lets
//! connections finish what they have read (answered with `Connection: close`), closes idle
//! keep-alive connections at once, and waits for its connections up to the drain deadline. The
//! process exits 0 when every shard is done. A second signal exits at once with status 130.
use crate::config::{Config, DriverName};
use crate::state::ShardState;
use crate::{conn, logging};
use shard::listener::{self, ListenOpts};
use shard::{Builder, Driver, Placement, ShardCtx, Sharded};
use signal_hook::consts::{SIGINT, SIGTERM};
use std::cell::RefCell;
use std::io;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;
use tracing::{error, info, warn};

/// Per-shard state plus the listener the shard's accept loop takes at start.
pub(crate) struct Boot {
    listener: RefCell<Option<std::net::TcpListener>>,
    /// The shard's UDP socket and the shared QUIC config, when HTTP/3 is on.
    h3: RefCell<Option<(std::net::UdpSocket, Arc<crate::h3::Endpoint>)>>,
}

/// Run the server until a signal stops it.
pub(crate) fn run(cfg: Config) -> ExitCode {
    logging::init(cfg.log_format, &cfg.log);
    // Handlers go in before anything listens: a SIGTERM that arrives while the shards start is
    // held by signal-hook and acted on as soon as the watcher runs, never the default action.
    let signals = match signal_hook::iterator::Signals::new([SIGTERM, SIGINT]) {
        Ok(s) => s,
        Err(e) => {
            error!(error = %e, "could not install signal handlers");
            return ExitCode::FAILURE;
        }
    };
    crate::api::interpret::start(inference_settings(&cfg));
    let sharded = match start(cfg) {
        Ok(s) => s,
        Err(e) => {
            error!(error = %e, "could not start");
            return ExitCode::FAILURE;
        }
    };
    let handle = sharded.clone();
    if let Err(e) = watch_signals(signals, move || handle.stop()) {
        error!(error = %e, "could not start the signal watcher");
        sharded.stop();
    }
    let panicked = sharded.join();
    crate::api::interpret::shutdown();
    if panicked > 0 {
        error!(panicked, "shard threads panicked");
        return ExitCode::FAILURE;
    }
    info!("stopped");
    ExitCode::SUCCESS
}

/// Inference settings with worker placement: pinned to CPUs that no shard uses when there are
/// any (shards never run the model, and a model run must not steal a shard's core); unpinned
/// otherwise, left to the kernel.
fn inference_settings(cfg: &Config) -> inference::service::Settings {
    let mut s = cfg.inference.clone();
    if cfg.pin && !cfg.cpus.is_empty() {
        let used: Vec<usize> = (0..cfg.shards).map(|i| cfg.cpus[i % cfg.cpus.len()]).collect();
        s.batcher.pin = shard::cpus::allowed().into_iter().filter(|c| !used.contains(c)).collect();
    }
    info!(workers = s.workers, cpus = ?s.batcher.pin, "inference workers (no cpus listed: unpinned)");
    s
}

/// Bind, start every shard, and return their handle (used by tests too).
pub(crate) fn start(mut cfg: Config) -> io::Result<Sharded<ShardState>> {
    if !cfg.share_port && cfg.listen.port() != 0 {
        refuse_busy_port(cfg.listen, cfg.h3.is_some())?;
    }
    // Port 0: pick one port that every shard then binds with SO_REUSEPORT.
    let (addr, reserved) = listener::reserve(cfg.listen)?;
    let h3 = match &mut cfg.h3 {
        Some(h) => {
            if h.steer && cfg.shards > crate::h3::steer::MAX_SHARDS {
                warn!(shards = cfg.shards, "http/3 steering addresses at most 256 shards: off");
                h.steer = false;
            }
            let ep = Arc::new(crate::h3::Endpoint::new(h).map_err(io::Error::other)?);
            let socks = udp_group(addr, cfg.shards, h.steer)?;
            cfg.alt_svc = Some(format!("h3=\":{}\"", addr.port()).into());
            crate::h3::log_enabled(addr.port(), h);
            Some((ep, socks))
        }
        None => None,
    };
    let cfg = Arc::new(cfg);
    let placement = if cfg.pin { Placement::Pinned(cfg.cpus.clone()) } else { Placement::Unpinned };
    let driver = match cfg.driver {
        DriverName::Auto => Driver::Auto,
        DriverName::IoUring => Driver::IoUring,
        DriverName::Epoll => Driver::Epoll,
    };
    let (c1, c2) = (cfg.clone(), cfg.clone());
    let sharded =
        Builder::new().shards(cfg.shards).placement(placement).driver(driver).ring_entries(cfg.ring_entries).name("hypercube").start(
            move |ctx| {
                let opts = ListenOpts { backlog: c1.backlog, incoming_cpu: ctx.cpu.filter(|_| c1.incoming_cpu) };
                let l = listener::tcp(addr, opts).map_err(|e| io::Error::new(e.kind(), format!("bind {addr}: {e}")))?;
                let st = ShardState::new(ctx, c1.clone());
                st.boot.listener.replace(Some(l));
                if let Some((ep, socks)) = &h3 {
                    let u = socks.get(ctx.id).and_then(|m| m.lock().ok()?.take());
                    let u = u.ok_or_else(|| io::Error::other("no udp socket for this shard"))?;
                    st.boot.h3.replace(Some((u, ep.clone())));
                }
                Ok(st)
            },
            move |st, ctx| accept_loop(st, ctx, c2.clone()),
        )?;
    drop(reserved);
    info!(%addr, shards = sharded.len(), engine_kernel = crate::kernel_name(), "listening");
    Ok(sharded)
}

/// Fail when another socket (another process) already holds the TCP port, or the UDP port when
/// HTTP/3 is on: SO_REUSEPORT would let us join it and split its traffic without a word.
fn refuse_busy_port(addr: SocketAddr, udp: bool) -> io::Result<()> {
    let busy = |stream: bool, what: &str| -> io::Result<()> {
        if listener::in_use(addr, stream)? {
            return Err(io::Error::new(
                io::ErrorKind::AddrInUse,
                format!("{what} {addr} is already in use by another socket (--share-port true to join it deliberately)"),
            ));
        }
        Ok(())
    };
    busy(true, "tcp")?;
    if udp {
        busy(false, "udp")?;
    }
    Ok(())
}

/// Every shard's UDP socket, bound in shard order from this thread so that socket `i` of the
/// reuseport group is shard `i`'s, which the steering program relies on (`h3::steer`). No
/// SO_INCOMING_CPU on UDP: it makes the kernel prefer the socket of the CPU a datagram arrived
/// on, so one QUIC connection's packets would hop between shards (observed on loopback as the
/// client thread migrates).
fn udp_group(addr: SocketAddr, shards: usize, steer: bool) -> io::Result<Vec<std::sync::Mutex<Option<std::net::UdpSocket>>>> {
    let socks =
        listener::udp_group(addr, shards, ListenOpts::default()).map_err(|e| io::Error::new(e.kind(), format!("bind udp {addr}: {e}")))?;
    if steer {
        listener::attach_reuseport_cbpf(&socks[0], &crate::h3::steer::PROGRAM)
            .map_err(|e| io::Error::new(e.kind(), format!("attach the http/3 steering program (try --h3-steer false): {e}")))?;
    }
    Ok(socks.into_iter().map(|s| std::sync::Mutex::new(Some(s))).collect())
}

impl Boot {
    pub(crate) fn new() -> Self {
        Self { listener: RefCell::new(None), h3: RefCell::new(None) }
    }
}

async fn accept_loop(st: Rc<ShardState>, ctx: ShardCtx<ShardState>, cfg: Arc<Config>) {
    let cpu = ctx.cpu.map_or_else(|| "none".to_string(), |c| c.to_string());
    info!(shard = ctx.id, cpu = %cpu, driver = ctx.driver.as_str(), "shard started");
    let Some(std_listener) = st.boot.listener.take() else { return };
    let listener = match monoio::net::TcpListener::from_std(std_listener) {
        Ok(l) => l,
        Err(e) => {
            error!(shard = ctx.id, error = %e, "listener");
            return;
        }
    };
    let h3 = st.boot.h3.take().map(|(sock, ep)| monoio::spawn(crate::h3::serve(st.clone(), ctx.stop.clone(), sock, ep)));
    let stop = ctx.stop.waiter();
    loop {
        monoio::select! {
            r = listener.accept() => match r {
                Ok((stream, _peer)) => {
                    let _ = stream.set_nodelay(true);
                    if st.stats.conns_open.get() >= cfg.max_conns as u64 {
                        st.spawn("http reject", false, conn::reject(st.clone(), stream));
                    } else {
                        st.conn_opened();
                        st.spawn("http connection", true, conn::serve(st.clone(), ctx.stop.clone(), stream));
                    }
                }
                Err(e) => {
                    // EMFILE/ENFILE and friends: back off instead of spinning.
                    warn!(shard = ctx.id, error = %e, "accept failed");
                    monoio::time::sleep(Duration::from_millis(20)).await;
                }
            },
            _ = stop.stopped() => break,
        }
    }
    drop(listener);
    st.set_draining();
    st.cancel_reads();
    let open = st.stats.conns_open.get();
    info!(shard = ctx.id, open, "draining");
    if monoio::time::timeout(cfg.drain_timeout, st.all_closed()).await.is_err() {
        warn!(shard = ctx.id, open = st.stats.conns_open.get(), "drain deadline passed; closing the rest");
    }
    if let Some(h3) = h3 {
        h3.await;
    }
    info!(shard = ctx.id, "shard stopped");
}

/// First SIGTERM/SIGINT: `on_first()`. Second: exit 130 at once.
fn watch_signals(mut signals: signal_hook::iterator::Signals, on_first: impl FnOnce() + Send + 'static) -> io::Result<()> {
    std::thread::Builder::new().name("signals".into()).spawn(move || {
        let mut first = Some(on_first);
        for sig in signals.forever() {
            match first.take() {
                Some(f) => {
                    info!(signal = sig, "shutting down: draining connections (signal again to exit now)");
                    f();
                }
                None => {
                    warn!(signal = sig, "second signal: exiting now");
                    std::process::exit(130);
                }
            }
        }
    })?;
    Ok(())
}
