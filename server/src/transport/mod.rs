//! Transport glue: between bytes on the wire and the one request path (`route`). With the
//! runtime surface (`shard::rt`), the only place that names monoio.
//!
//! # Layout
//! - [`accept_tcp`]: a shard's TCP accept loop (connection limit, hand-off to HTTP/1.1).
//! - [`http1`]: a TCP connection through `proto::http1`, WebSocket upgrades handed to [`ws`].
//! - [`ws`]: the upgrade decision, the WebSocket session loop, the endpoints.
//! - [`h3`]: a shard's quinn endpoint and h3 connections, connection-ID steering.
pub(crate) mod h3;
pub(crate) mod http1;
pub(crate) mod ws;

use crate::shard_parts::Shard;
use shard::Stop;
use std::rc::Rc;
use std::time::Duration;
use tracing::{error, warn};

/// Accept TCP connections on the shard's listener until the shard stops; the listener is closed
/// when this returns (no new connections), the open ones go on.
pub(crate) async fn accept_tcp(shard: Rc<Shard>, listener: std::net::TcpListener, stop: Stop) {
    let listener = match monoio::net::TcpListener::from_std(listener) {
        Ok(l) => l,
        Err(e) => {
            error!(shard = shard.id, error = %e, "listener");
            return;
        }
    };
    let waiter = stop.waiter();
    loop {
        monoio::select! {
            r = listener.accept() => match r {
                Ok((stream, _peer)) => {
                    let _ = stream.set_nodelay(true);
                    if shard.stats.conns_open.get() >= shard.cfg.max_conns as u64 {
                        drop(shard::rt::spawn("http reject", http1::reject(shard.clone(), stream)));
                    } else {
                        let slot = shard.conn_opened();
                        drop(shard::rt::spawn("http connection", http1::serve(shard.clone(), slot, stop.clone(), stream)));
                    }
                }
                Err(e) => {
                    // EMFILE/ENFILE and friends: back off instead of spinning.
                    warn!(shard = shard.id, error = %e, "accept failed");
                    shard::rt::sleep(Duration::from_millis(20)).await;
                }
            },
            _ = waiter.stopped() => break,
        }
    }
}
