//! The one router: transport-neutral requests in, responses out. HTTP/1.1 today; the WebSocket
//! and HTTP/3 front ends call the same [`handle`].
use crate::metrics;
use crate::state::ShardState;
use crate::stats::{RouteId, Snapshot};
use bytes::Bytes;
use std::time::Duration;

/// Request methods the router distinguishes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Method {
    Get,
    Head,
    Post,
    Other,
}

/// A request as the router sees it.
pub(crate) struct Req<'a> {
    pub(crate) method: Method,
    pub(crate) path: &'a str,
    pub(crate) query: &'a str,
    pub(crate) content_type: Option<&'a [u8]>,
    pub(crate) body: &'a [u8],
}

/// A response as the router produces it.
#[derive(Debug, Clone)]
pub(crate) struct Resp {
    pub(crate) status: u16,
    pub(crate) content_type: &'static str,
    pub(crate) body: Bytes,
    pub(crate) allow: Option<&'static str>,
    /// `Retry-After` seconds (503 from an overloaded queue).
    pub(crate) retry_after: Option<u32>,
}

impl Resp {
    pub(crate) fn new(status: u16, content_type: &'static str, body: impl Into<Bytes>) -> Self {
        Self { status, content_type, body: body.into(), allow: None, retry_after: None }
    }

    /// A JSON error `{"error": code, "detail": detail}` (and `"field"` when given).
    pub(crate) fn error(status: u16, code: &str, detail: &str, field: Option<&str>) -> Self {
        let mut v = serde_json::json!({ "error": code, "detail": detail });
        if let Some(f) = field {
            v["field"] = f.into();
        }
        Self::new(status, JSON, serde_json::to_vec(&v).unwrap_or_default())
    }
}

pub(crate) const JSON: &str = "application/json";
const TEXT: &str = "text/plain; charset=utf-8";
const PROM: &str = "text/plain; version=0.0.4; charset=utf-8";
const CROSS_SHARD_TIMEOUT: Duration = Duration::from_secs(2);

/// Route a request. Never panics; every outcome is a status code.
pub(crate) async fn handle(st: &ShardState, req: &Req<'_>) -> (RouteId, Resp) {
    use Method::{Get, Head, Post};
    let (route, allow): (RouteId, &'static str) = match req.path {
        "/healthz" => (RouteId::Healthz, "GET, HEAD"),
        "/readyz" => (RouteId::Readyz, "GET, HEAD"),
        "/metrics" => (RouteId::Metrics, "GET, HEAD"),
        "/v1/saju" => (RouteId::Saju, "GET, HEAD, POST"),
        "/v1/saju/batch" => (RouteId::SajuBatch, "POST"),
        "/v1/saju/search" => (RouteId::SajuSearch, "POST"),
        "/internal/publish" if st.cfg.ws.publish_api => (RouteId::Publish, "POST"),
        "/v1/interpret" => (RouteId::Interpret, "POST"),
        _ => return (RouteId::NotFound, Resp::error(404, "not_found", "no such path", None)),
    };
    let resp = match (route, req.method) {
        (RouteId::Healthz, Get | Head) => Resp::new(200, TEXT, Bytes::from_static(b"ok")),
        // Boxed: their cross-shard state would otherwise sit inline in every connection's task,
        // idle or not (it measured 4.6 KB per connection inline).
        (RouteId::Readyz, Get | Head) => Box::pin(readyz(st)).await,
        (RouteId::Metrics, Get | Head) => Box::pin(metrics(st)).await,
        (RouteId::Saju, Get | Head) => crate::api::saju::get(req.query),
        (RouteId::Saju, Post) => crate::api::saju::post(req.content_type, req.body),
        (RouteId::SajuBatch, Post) => crate::api::saju_batch::post(req.content_type, req.query, req.body, st.cfg.batch_max_items),
        // Boxed: the search state (pattern tables, cursor) would otherwise sit inline in every
        // connection's task future, idle or not.
        (RouteId::SajuSearch, Post) => Box::pin(crate::api::saju_search::post(req.content_type, req.body, st.cfg.search)).await,
        (RouteId::Publish, Post) => Box::pin(crate::ws::publish(st, req.query, req.body)).await,
        (RouteId::Interpret, Post) => crate::api::interpret::post(req.content_type, req.body, st.cfg.infer_deadline).await,
        _ => Resp { allow: Some(allow), ..Resp::error(405, "method_not_allowed", "method not allowed here", None) },
    };
    (route, resp)
}

/// Ready while no shard drains. The body also says whether inference is loading, ready (and
/// on which EP) or disabled (and why); inference being off does not make the server unready.
async fn readyz(st: &ShardState) -> Resp {
    let body = |status: &str| {
        let v = serde_json::json!({ "status": status, "inference": crate::api::interpret::readiness() });
        serde_json::to_vec(&v).unwrap_or_default()
    };
    if st.is_draining() {
        return Resp::new(503, JSON, body("draining"));
    }
    let all = st.sharded.map_reduce(|s: &ShardState| !s.is_draining(), true, |a, b| a && b);
    match monoio::time::timeout(CROSS_SHARD_TIMEOUT, all).await {
        Ok(Ok(true)) => Resp::new(200, JSON, body("ready")),
        _ => Resp::new(503, JSON, body("draining")),
    }
}

async fn metrics(st: &ShardState) -> Resp {
    let all = st.sharded.map_reduce(ShardState::snapshot, Snapshot::empty(), Snapshot::merge);
    match monoio::time::timeout(CROSS_SHARD_TIMEOUT, all).await {
        Ok(Ok(snap)) => {
            let mut text = metrics::render(&snap, env!("CARGO_PKG_VERSION"), crate::kernel_name());
            text.push_str(&crate::api::interpret::metrics());
            Resp::new(200, PROM, text)
        }
        _ => Resp::error(503, "unavailable", "a shard did not answer", None),
    }
}
