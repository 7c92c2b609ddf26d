//! `hypercube h3-baseline` (cargo feature `h3-baseline`, hidden): the baseline of the HTTP/3
//! benchmark (`bench/h3-vs-quinn-tokio`). One quinn endpoint + h3 on tokio's current_thread
//! runtime — quinn's own tokio runtime, the stack as its users run it — answering every request
//! with the very same code as `hypercube serve --h3 true`: the parent module's `request` (body
//! limit, [`route::handle`](crate::route::handle), stats, response head), the same
//! `quinn::ServerConfig` (TLS, stream and idle limits from the same flags).
//!
//! `route::handle` takes a `Shard`, which only a shard can build. So the baseline starts
//! ONE shard (the `shard` crate, pinned like `serve`) only to build that state on its thread, and
//! then blocks that thread in tokio's `block_on`: from there on the thread runs tokio, never
//! monoio. Requests use the state's config, stats and date cache, which need no runtime. Routes
//! that wait on the shard runtime (`/readyz`, `/metrics`: messages between shards; `/v1/interpret`:
//! monoio timers) never complete here; the benchmark uses `/healthz` and `POST /v1/saju`.
use super::{protocol_error, request, Endpoint, H3Config};
use crate::config::Config;
use crate::shard_parts::Shard;
use bytes::Bytes;
use shard::{Builder, Placement};
use std::process::ExitCode;
use std::rc::Rc;
use std::sync::Arc;
use tracing::{debug, error, info};

/// Run the baseline server until killed.
pub(crate) fn run(cfg: Config) -> ExitCode {
    crate::logging::init(cfg.log_format, &cfg.log);
    let Some(h3) = cfg.h3.clone() else {
        error!("h3-baseline needs the HTTP/3 settings");
        return ExitCode::FAILURE;
    };
    let ep = match Endpoint::new(&h3) {
        Ok(e) => Arc::new(e),
        Err(e) => {
            error!(error = %e, "h3-baseline");
            return ExitCode::FAILURE;
        }
    };
    let listen = cfg.listen;
    let cfg = Arc::new(Config { shards: 1, ..cfg });
    let placement = if cfg.pin { Placement::Pinned(cfg.cpus.clone()) } else { Placement::Unpinned };
    let c1 = cfg.clone();
    let started = Builder::new().shards(1).placement(placement).name("h3-baseline").start(
        move |ctx| Ok(Shard::new(ctx, c1.clone(), crate::services::Services::default(), None)),
        move |st, _ctx| {
            let (ep, h3) = (ep.clone(), h3.clone());
            async move {
                if let Err(e) = on_tokio(st, ep, h3, listen) {
                    error!(error = %e, "h3-baseline");
                }
            }
        },
    );
    match started {
        Ok(sharded) => {
            sharded.join();
            ExitCode::SUCCESS
        }
        Err(e) => {
            error!(error = %e, "h3-baseline: start");
            ExitCode::FAILURE
        }
    }
}

/// Block this (shard) thread in a tokio current_thread runtime serving HTTP/3 on `listen`.
fn on_tokio(st: Rc<Shard>, ep: Arc<Endpoint>, h3: H3Config, listen: std::net::SocketAddr) -> std::io::Result<()> {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    // `Shard` is not `Send`: request tasks go on a LocalSet (tokio's way for such state).
    let local = tokio::task::LocalSet::new();
    local.block_on(&rt, async move {
        // The socket as `serve` makes it (shard::listener::udp: SO_REUSEPORT, no extra options).
        let sock = shard::listener::udp(listen, shard::listener::ListenOpts { backlog: 0, incoming_cpu: None })?;
        let endpoint =
            quinn::Endpoint::new(quinn::EndpointConfig::default(), Some(ep.server.clone()), sock, Arc::new(quinn::TokioRuntime))?;
        info!(addr = %endpoint.local_addr()?, "h3-baseline: quinn + h3 on tokio current_thread");
        while let Some(incoming) = endpoint.accept().await {
            let (st, h3) = (st.clone(), h3.clone());
            tokio::task::spawn_local(async move { connection(st, incoming, &h3).await });
        }
        Ok(())
    })
}

/// `super::connection` with tokio's spawn (and no drain on stop: the baseline is killed).
async fn connection(st: Rc<Shard>, incoming: quinn::Incoming, cfg: &H3Config) {
    let conn = match incoming.await {
        Ok(c) => c,
        Err(e) => {
            debug!(error = %e, "http/3 handshake failed");
            return;
        }
    };
    st.stats.conns_accepted.add(1);
    let built =
        ::h3::server::builder().max_field_section_size(cfg.max_field_section).build::<_, Bytes>(h3_quinn::Connection::new(conn)).await;
    let mut h3c = match built {
        Ok(c) => c,
        Err(e) => {
            protocol_error(&st, &e);
            return;
        }
    };
    loop {
        match h3c.accept().await {
            Ok(Some(resolver)) => {
                let st = st.clone();
                tokio::task::spawn_local(async move {
                    if let Ok((req, stream)) = resolver.resolve_request().await {
                        request(&st, req, stream).await;
                    }
                });
            }
            Ok(None) => break,
            Err(e) => {
                protocol_error(&st, &e);
                break;
            }
        }
    }
    st.stats.conns_closed.add(1);
}
