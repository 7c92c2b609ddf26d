//! The API: typed, transport-neutral handlers. Each takes a decoded request and answers
//! `Result<T, ApiError>` (`T:` [`crate::http::Json`]); HTTP/1.1 and HTTP/3 render it through the
//! one request path (`route`), the WebSocket API through [`ws_v1`]. Runtime-free but for the
//! awaits of `search` (yields) and `interpret` (the model's reply), which use `shard::rt`.
//!
//! # Layout
//! - [`input`]: raw fields from JSON, a query or a WebSocket message, typed accessors that name
//!   the field; [`saju_req`]: the `/v1/saju` request schema shared by every route.
//! - [`saju`], [`batch`], [`search`], [`interpret`], [`publish`]: the handlers.
//! - [`chart_json`]: the chart's JSON without serde (same bytes, a fraction of the CPU).
//! - [`ws_v1`]: the `hypercube.v1` WebSocket protocol; [`daily`]: its `daily` topic.
//! - [`openapi`]: the OpenAPI 3.1 document, generated from these types.
pub(crate) mod batch;
pub(crate) mod chart_json;
pub(crate) mod daily;
pub(crate) mod input;
pub(crate) mod interpret;
pub(crate) mod openapi;
pub(crate) mod publish;
pub(crate) mod saju;
pub(crate) mod saju_req;
pub(crate) mod search;
pub(crate) mod ws_v1;
