//! The route table and the one request path. Every transport (HTTP/1.1, HTTP/3) turns its
//! request into a [`Req`] and calls [`handle`], which counts it in flight, routes it to its
//! typed handler, renders the answer (a 200 JSON body or the [`ApiError`]), compresses it when
//! the client asks, and records its status and latency. The transports only convert.
use crate::api::{batch, interpret, publish, saju, search};
use crate::http::{ApiError, Json, MediaType, Method, Req, Resp, JSON, PROMETHEUS, TEXT};
use crate::shard_parts::Shard;
use crate::stats::{RouteId, Snapshot};
use bytes::Bytes;
use std::rc::Rc;
use std::time::{Duration, Instant};

/// How long a cross-shard question (`/readyz`, `/metrics`, publish) waits for every shard.
const CROSS_SHARD_TIMEOUT: Duration = Duration::from_secs(2);

/// A WebSocket endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum WsEndpoint {
    /// `/v1/ws`: the `hypercube.v1` protocol.
    Api,
    /// `/v1/ws/echo`: echoes every message (conformance tests, benchmarks).
    Echo,
}

/// Every path the server answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Route {
    Healthz,
    Readyz,
    Metrics,
    OpenApi,
    Saju,
    SajuBatch,
    SajuSearch,
    Interpret,
    Publish,
    Ws(WsEndpoint),
}

impl Route {
    /// The route of `path`, and the methods it takes (`Allow`). `/internal/publish` exists only
    /// with `--ws-publish-api true`.
    pub(crate) fn of(path: &str, publish_api: bool) -> Option<(Self, &'static str)> {
        Some(match path {
            "/healthz" => (Self::Healthz, "GET, HEAD"),
            "/readyz" => (Self::Readyz, "GET, HEAD"),
            "/metrics" => (Self::Metrics, "GET, HEAD"),
            "/openapi.json" => (Self::OpenApi, "GET, HEAD"),
            "/v1/saju" => (Self::Saju, "GET, HEAD, POST"),
            "/v1/saju/batch" => (Self::SajuBatch, "POST"),
            "/v1/saju/search" => (Self::SajuSearch, "POST"),
            "/v1/interpret" => (Self::Interpret, "POST"),
            "/internal/publish" if publish_api => (Self::Publish, "POST"),
            "/v1/ws" => (Self::Ws(WsEndpoint::Api), "GET"),
            "/v1/ws/echo" => (Self::Ws(WsEndpoint::Echo), "GET"),
            _ => return None,
        })
    }

    /// How the route is counted in metrics.
    pub(crate) fn id(self) -> RouteId {
        match self {
            Self::Healthz => RouteId::Healthz,
            Self::Readyz => RouteId::Readyz,
            Self::Metrics => RouteId::Metrics,
            Self::OpenApi => RouteId::OpenApi,
            Self::Saju => RouteId::Saju,
            Self::SajuBatch => RouteId::SajuBatch,
            Self::SajuSearch => RouteId::SajuSearch,
            Self::Interpret => RouteId::Interpret,
            Self::Publish => RouteId::Publish,
            Self::Ws(_) => RouteId::Ws,
        }
    }
}

/// The one request path. Never panics on input; every outcome is a status code.
pub(crate) async fn handle(shard: &Rc<Shard>, req: &Req<'_>) -> Resp {
    let t0 = Instant::now();
    shard.stats.in_flight.add(1);
    let (route, resp) = route(shard, req).await;
    shard.stats.in_flight.sub(1);
    let resp = crate::compress::negotiate(req, resp, shard.cfg.compress_min_bytes, &shard.stats);
    shard.stats.record(route, resp.status, t0.elapsed().as_nanos() as u64);
    resp
}

/// A handler's answer as a response.
fn answer<T: Json>(r: Result<T, ApiError>) -> Resp {
    match r {
        Ok(v) => Resp::json(&v),
        Err(e) => e.into(),
    }
}

async fn route(shard: &Rc<Shard>, req: &Req<'_>) -> (RouteId, Resp) {
    use Method::{Get, Head, Post};
    let Some((route, allow)) = Route::of(req.path, shard.cfg.ws.publish_api) else {
        return (RouteId::NotFound, ApiError::not_found().into());
    };
    let media = MediaType::of(req.content_type);
    let cfg = &shard.cfg;
    let resp = match (route, req.method) {
        (Route::Healthz, Get | Head) => Resp::new(200, TEXT, Bytes::from_static(b"ok")),
        // Boxed: their cross-shard state would otherwise sit inline in every connection's task,
        // idle or not (it measured 4.6 KB per connection inline).
        (Route::Readyz, Get | Head) => Box::pin(readyz(shard)).await,
        (Route::Metrics, Get | Head) => Box::pin(metrics(shard)).await,
        (Route::OpenApi, Get | Head) => Resp::new(200, JSON, crate::api::openapi::document()),
        (Route::Saju, Get | Head) => answer(saju::from_query(req.query).and_then(|r| saju::chart(&r))),
        (Route::Saju, Post) => answer(saju::from_body(media, req.body).and_then(|r| saju::chart(&r))),
        (Route::SajuBatch, Post) => answer(batch::batch(media, req.query, req.body, cfg.batch_max_items)),
        // Boxed, like readyz: the search state would otherwise sit in every connection's task.
        (Route::SajuSearch, Post) => answer(Box::pin(search::search(media, req.body, cfg.search)).await),
        (Route::Interpret, Post) => {
            let inference = shard.services.inference.as_ref();
            let run = async {
                let obj = interpret::body_object(media, req.body)?;
                interpret::interpret(inference, obj, cfg.infer_deadline).await
            };
            answer(Box::pin(run).await)
        }
        (Route::Publish, Post) => answer(Box::pin(publish(shard, req.query, req.body)).await),
        (Route::Ws(_), Get | Head) => upgrade_required(),
        _ => ApiError::method(allow).into(),
    };
    (route.id(), resp)
}

/// A WebSocket endpoint asked without a WebSocket handshake (no `Upgrade: websocket`, or over
/// HTTP/3, which has no WebSocket here): 426 naming the protocol to upgrade to (RFC 9110 §15.5.22).
fn upgrade_required() -> Resp {
    let e = ApiError::new(426, "upgrade_required", "this path takes a WebSocket handshake: GET over HTTP/1.1 with Upgrade: websocket");
    Resp::from(e).with("upgrade", Bytes::from_static(b"websocket"))
}

/// Ready while no shard drains. The body also says whether inference is loading, ready (and
/// on which EP) or disabled (and why); inference being off does not make the server unready.
async fn readyz(shard: &Shard) -> Resp {
    let body = |status: &str| {
        let v = serde_json::json!({ "status": status, "inference": shard.services.inference_readiness() });
        serde_json::to_vec(&v).unwrap_or_default()
    };
    if shard.is_draining() {
        return Resp::new(503, JSON, body("draining"));
    }
    let all = shard.sharded.map_reduce(|s: &Shard| !s.is_draining(), true, |a, b| a && b);
    match shard::rt::timeout(CROSS_SHARD_TIMEOUT, all).await {
        Ok(Ok(true)) => Resp::new(200, JSON, body("ready")),
        _ => Resp::new(503, JSON, body("draining")),
    }
}

async fn metrics(shard: &Shard) -> Resp {
    let all = shard.sharded.map_reduce(Shard::snapshot, Snapshot::empty(), Snapshot::merge);
    match shard::rt::timeout(CROSS_SHARD_TIMEOUT, all).await {
        Ok(Ok(snap)) => {
            let mut text = crate::metrics::render(&snap, env!("CARGO_PKG_VERSION"), engine::arch::active().name());
            text.push_str(&shard.services.metrics());
            Resp::new(200, PROMETHEUS, text)
        }
        _ => ApiError::new(503, "unavailable", "a shard did not answer").into(),
    }
}

/// Push the event to the topic's subscribers on every shard (one shard message each).
async fn publish(shard: &Shard, query: &str, body: &[u8]) -> Result<publish::Delivered, ApiError> {
    let p = publish::parse(query, body)?;
    let bound = shard.cfg.ws.send_queue_bytes;
    let fanout = shard.sharded.map_reduce(
        move |s: &Shard| {
            let n = s.hub.deliver(&p.topic, &p.event, bound);
            s.stats.ws.pushes.add(n);
            n
        },
        0u64,
        |a, b| a + b,
    );
    match shard::rt::timeout(CROSS_SHARD_TIMEOUT, fanout).await {
        Ok(Ok(n)) => Ok(publish::Delivered(n)),
        _ => Err(ApiError::new(503, "unavailable", "a shard did not take the message")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table() {
        assert_eq!(Route::of("/v1/saju", false), Some((Route::Saju, "GET, HEAD, POST")));
        assert_eq!(Route::of("/internal/publish", false), None);
        assert_eq!(Route::of("/internal/publish", true).map(|r| r.0), Some(Route::Publish));
        assert_eq!(Route::of("/v1/ws", false), Some((Route::Ws(WsEndpoint::Api), "GET")));
        assert_eq!(Route::of("/v1/saju/", false), None);
    }
}
