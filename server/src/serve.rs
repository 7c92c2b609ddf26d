//! `hypercube serve`, the composition root: build the process-wide services, bind the
//! listeners, start one shard per core, run each shard's parts in their declared order, stop
//! gracefully.
//!
//! Shutdown: the first SIGTERM/SIGINT raises every shard's stop signal. Each shard then closes
//! its listener (no new connections), marks itself draining (`/readyz` → 503), lets
//! connections finish what they have read (answered with `Connection: close`), closes idle
//! keep-alive connections at once and WebSockets with 1001, and waits for its connections up to
//! the drain deadline. The process exits 0 when every shard is done. A second signal exits at
//! once with status 130.
use crate::config::{Config, DriverName};
use crate::logging;
use crate::services::Services;
use crate::shard_parts::{Background, Shard};
use crate::transport::{self, h3};
use bytes::Bytes;
use shard::listener::{self, ListenOpts};
use shard::{Builder, Driver, Placement, ShardCtx, Sharded};
use signal_hook::consts::{SIGINT, SIGTERM};
use std::io;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::rc::Rc;
use std::sync::Arc;
use tracing::{error, info, warn};

/// What a shard's run takes at start and consumes: its sockets.
pub(crate) struct Boot {
    listener: std::net::TcpListener,
    /// The shard's UDP socket and the shared QUIC config, when HTTP/3 is on.
    h3: Option<(std::net::UdpSocket, Arc<h3::Endpoint>)>,
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
    let services = Services::start(inference_settings(&cfg));
    let sharded = match start(cfg, services.clone()) {
        Ok(s) => s,
        Err(e) => {
            error!(error = %e, "could not start");
            services.shutdown();
            return ExitCode::FAILURE;
        }
    };
    let handle = sharded.clone();
    if let Err(e) = watch_signals(signals, move || handle.stop()) {
        error!(error = %e, "could not start the signal watcher");
        sharded.stop();
    }
    let panicked = sharded.join();
    services.shutdown();
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
    if s.enabled {
        if s.batcher.pin.is_empty() {
            info!(workers = s.workers, "inference workers unpinned (every CPU runs a shard, or --pin false)");
        } else {
            info!(workers = s.workers, cpus = ?s.batcher.pin, "inference workers pinned to the CPUs no shard uses");
        }
    }
    s
}

/// Bind, start every shard, and return their handle.
pub(crate) fn start(cfg: Config, services: Services) -> io::Result<Sharded<Shard>> {
    if !cfg.share_port && cfg.listen.port() != 0 {
        refuse_busy_port(cfg.listen, cfg.h3.is_some())?;
    }
    // Port 0: pick one port that every shard then binds with SO_REUSEPORT.
    let (addr, reserved) = listener::reserve(cfg.listen)?;
    let mut cfg = cfg;
    let h3 = match &mut cfg.h3 {
        Some(h) => {
            if h.steer && cfg.shards > h3::steer::MAX_SHARDS {
                warn!(shards = cfg.shards, "http/3 steering addresses at most 256 shards: off");
                h.steer = false;
            }
            let ep = Arc::new(h3::Endpoint::new(h).map_err(io::Error::other)?);
            let socks = udp_group(addr, cfg.shards, h.steer)?;
            h3::log_enabled(addr.port(), h);
            Some((ep, socks))
        }
        None => None,
    };
    let alt_svc = h3.as_ref().map(|_| Bytes::from(format!("h3=\":{}\"", addr.port())));
    let cfg = Arc::new(cfg);
    let placement = if cfg.pin { Placement::Pinned(cfg.cpus.clone()) } else { Placement::Unpinned };
    let driver = match cfg.driver {
        DriverName::Auto => Driver::Auto,
        DriverName::IoUring => Driver::IoUring,
        DriverName::Epoll => Driver::Epoll,
    };
    let c1 = cfg.clone();
    let sharded =
        Builder::new().shards(cfg.shards).placement(placement).driver(driver).ring_entries(cfg.ring_entries).name("hypercube").start_with(
            move |ctx| {
                let opts = ListenOpts { backlog: c1.backlog, incoming_cpu: ctx.cpu.filter(|_| c1.incoming_cpu) };
                let listener = listener::tcp(addr, opts).map_err(|e| io::Error::new(e.kind(), format!("bind {addr}: {e}")))?;
                let h3 = match &h3 {
                    Some((ep, socks)) => {
                        let u = socks.get(ctx.id).and_then(|m| m.lock().ok()?.take());
                        Some((u.ok_or_else(|| io::Error::other("no udp socket for this shard"))?, ep.clone()))
                    }
                    None => None,
                };
                Ok((Shard::new(ctx, c1.clone(), services.clone(), alt_svc.clone()), Boot { listener, h3 }))
            },
            shard_main,
        )?;
    drop(reserved);
    info!(%addr, shards = sharded.len(), engine_kernel = engine::arch::active().name(), "listening");
    Ok(sharded)
}

/// One shard's life, in its declared order.
///
/// Start: (1) background services (the hub's sweeper, the `daily` timer), (2) the HTTP/3
/// endpoint, (3) the TCP accept loop. Stop, once the stop signal is raised: (1) the accept loop
/// returns and the listener closes, (2) the shard drains (`/readyz` 503), (3) pending HTTP/1.1
/// reads are cancelled (idle keep-alive connections close after their grace), (4) WebSockets
/// are told to close with 1001, (5) the shard waits for its connections up to `drain_timeout`,
/// (6) the HTTP/3 endpoint (which closed its connections with H3_NO_ERROR at the stop) finishes,
/// (7) the background services stop.
async fn shard_main(shard: Rc<Shard>, boot: Boot, ctx: ShardCtx<Shard>) {
    let cpu = ctx.cpu.map_or_else(|| "none".to_string(), |c| c.to_string());
    info!(shard = ctx.id, cpu = %cpu, driver = ctx.driver.as_str(), "shard started");
    let background = Background::start(&shard);
    let h3 = boot.h3.map(|(sock, ep)| shard::rt::spawn("http/3 endpoint", h3::serve(shard.clone(), ctx.stop.clone(), sock, ep)));
    transport::accept_tcp(shard.clone(), boot.listener, ctx.stop.clone()).await;
    shard.set_draining();
    shard.reads.cancel_all();
    shard.hub.shutdown();
    info!(shard = ctx.id, open = shard.stats.conns_open.get(), "draining");
    if shard::rt::timeout(shard.cfg.drain_timeout, shard.all_closed()).await.is_err() {
        warn!(shard = ctx.id, open = shard.stats.conns_open.get(), "drain deadline passed; closing the rest");
    }
    if let Some(h3) = h3 {
        let _ = h3.await;
    }
    background.stop().await;
    info!(shard = ctx.id, "shard stopped");
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
        listener::attach_reuseport_cbpf(&socks[0], &h3::steer::PROGRAM)
            .map_err(|e| io::Error::new(e.kind(), format!("attach the http/3 steering program (try --h3-steer false): {e}")))?;
    }
    Ok(socks.into_iter().map(|s| std::sync::Mutex::new(Some(s))).collect())
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
