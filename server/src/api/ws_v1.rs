//! The `hypercube.v1` WebSocket application protocol: JSON text frames `{id, type, ...}` in,
//! JSON text frames out. The transport (`transport::ws`) hands each text message to [`handle`]
//! and sends what it answers; the typed handlers are the ones HTTP uses, rendered here as reply
//! objects (no HTTP response is made or parsed).
//!
//! | request `type` | fields | reply `type` |
//! |---|---|---|
//! | `chart` | the `/v1/saju` input fields inline (`datetime`, `offset`/`zone`, …) | `chart` with `result` (the `/v1/saju` body) |
//! | `subscribe` | `topics: [..]` (or `topic`) | `subscribed` with `topics`; `daily` then pushes today's event |
//! | `unsubscribe` | `topics: [..]` (or `topic`) | `unsubscribed` with `topics` |
//! | `interpret` | `question`, `chart` (the `/v1/saju` fields), `top_k` — as `/v1/interpret` | `interpret` with `result` (the `/v1/interpret` body), sent when the model answers; other requests are served meanwhile |
//! | `ping` | — | `pong` |
//!
//! Every reply carries the request's `id` (any JSON value; `null` when absent). A handler error
//! is `{"id", "type":"error", "status", "code", "message", "field"?}` (the HTTP status and error
//! code the same input gets over HTTP); a protocol error (`bad_request`, `unknown_type`,
//! `invalid_topic`, `too_many_topics`) is `{"id", "type":"error", "code", "message"}`. Both leave
//! the socket open. Only a malformed frame closes it: a text frame that is not a JSON object →
//! 1008, a binary frame → 1003 (the transport). Pushes are `{"type":"event","topic","data"}`.
use super::daily;
use super::input::Fields;
use super::saju_req::SajuRequest;
use crate::http::{write_str, ApiError, Json};
use crate::hub::{ConnId, Hub, SubError};
use bytes::Bytes;
use inference::service::Service;
use proto::ws::CloseCode;
use serde_json::{Map, Value};
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

/// Most topics one connection may hold.
pub(crate) const MAX_TOPICS: usize = 32;

/// What one connection's messages are served with.
pub(crate) struct Session<'a> {
    pub(crate) hub: &'a Rc<Hub>,
    pub(crate) conn: ConnId,
    pub(crate) inference: Option<&'a Arc<Service>>,
    /// The bound on this connection's queued pushes plus unsent output, in bytes.
    pub(crate) send_queue_bytes: usize,
    /// The time budget of one `interpret`.
    pub(crate) infer_deadline: Duration,
}

/// What the connection does with a request.
pub(crate) enum Outcome {
    /// Send this text frame.
    Reply(Vec<u8>),
    /// Close with this code (the frame was malformed).
    Close(CloseCode, &'static str),
    /// The reply comes later through the connection's push queue.
    Later,
}

/// Handle one text message.
pub(crate) fn handle(s: &Session<'_>, text: &[u8]) -> Outcome {
    let Ok(Value::Object(mut req)) = serde_json::from_slice::<Value>(text) else {
        return Outcome::Close(CloseCode::POLICY, "malformed request: expected a JSON object");
    };
    let id = req.remove("id").unwrap_or(Value::Null);
    let kind = match req.remove("type") {
        Some(Value::String(t)) => t,
        _ => return protocol_error(&id, "bad_request", "\"type\" is required: chart, interpret, subscribe, unsubscribe or ping"),
    };
    match kind.as_str() {
        "ping" => Outcome::Reply(format!("{{\"id\":{id},\"type\":\"pong\"}}").into_bytes()),
        "chart" => {
            let answer = SajuRequest::from_fields(&Fields::from_map(&req)).map_err(ApiError::from).and_then(|r| super::saju::chart(&r));
            Outcome::Reply(reply(&id, "chart", &answer))
        }
        "interpret" => interpret(s, id, req),
        "subscribe" => subscribe(s, &id, &req),
        "unsubscribe" => match topics(&req) {
            Ok(topics) => {
                topics.iter().for_each(|t| s.hub.unsubscribe(s.conn, t));
                Outcome::Reply(serde_json::json!({"id": id, "type": "unsubscribed", "topics": topics}).to_string().into_bytes())
            }
            Err(msg) => protocol_error(&id, "invalid_topic", msg),
        },
        _ => protocol_error(&id, "unknown_type", "type must be chart, interpret, subscribe, unsubscribe or ping"),
    }
}

fn subscribe(s: &Session<'_>, id: &Value, req: &Map<String, Value>) -> Outcome {
    let topics = match topics(req) {
        Ok(t) => t,
        Err(msg) => return protocol_error(id, "invalid_topic", msg),
    };
    for (i, t) in topics.iter().enumerate() {
        if s.hub.subscribe(s.conn, t, MAX_TOPICS) == Err(SubError::TooMany) {
            for t in &topics[..i] {
                s.hub.unsubscribe(s.conn, t);
            }
            return protocol_error(id, "too_many_topics", "at most 32 topics per connection");
        }
    }
    if topics.iter().any(|t| t == daily::TOPIC) {
        daily::on_subscribe(s.hub, s.conn, s.send_queue_bytes);
    }
    Outcome::Reply(serde_json::json!({"id": id, "type": "subscribed", "topics": topics}).to_string().into_bytes())
}

/// `interpret`: the model answers after an await, so the reply is pushed through the
/// connection's bounded queue when it is ready (to this registration only), while the connection
/// goes on serving other requests. Should the task fail (a panic, caught and counted by
/// `shard::rt::spawn`), the asker still gets an `internal` error reply.
fn interpret(s: &Session<'_>, id: Value, req: Map<String, Value>) -> Outcome {
    let reply_to = ReplyTo { hub: s.hub.clone(), conn: s.conn, serial: s.hub.serial(s.conn), bound: s.send_queue_bytes, id, sent: false };
    let (svc, budget) = (s.inference.cloned(), s.infer_deadline);
    drop(shard::rt::spawn("ws interpret", async move {
        let mut reply_to = reply_to;
        let answer = super::interpret::interpret(svc.as_ref(), req, budget).await;
        fault::maybe_panic();
        let text = reply(&reply_to.id, "interpret", &answer);
        reply_to.send(&text);
    }));
    Outcome::Later
}

/// Where a later reply goes; if dropped unsent (its task panicked), it sends an error instead.
struct ReplyTo {
    hub: Rc<Hub>,
    conn: ConnId,
    serial: u32,
    bound: usize,
    id: Value,
    sent: bool,
}

impl ReplyTo {
    fn send(&mut self, text: &[u8]) {
        self.sent = true;
        self.hub.push_to_serial(self.conn, self.serial, &Bytes::copy_from_slice(text), self.bound);
    }
}

impl Drop for ReplyTo {
    fn drop(&mut self) {
        if !self.sent {
            let e = ApiError::internal("the request failed; it was logged");
            let text = reply::<NoResult>(&self.id, "interpret", &Err(e));
            self.send(&text);
        }
    }
}

/// A result type for error-only replies.
enum NoResult {}

impl Json for NoResult {
    fn write_json(&self, _out: &mut Vec<u8>) {
        match *self {}
    }
}

/// `{"id", "type": kind, "result"}` for an answer, the error object for an error.
pub(crate) fn reply<T: Json>(id: &Value, kind: &str, answer: &Result<T, ApiError>) -> Vec<u8> {
    let mut out = Vec::with_capacity(answer.as_ref().map_or(128, |v| v.size_hint() + 64));
    out.extend_from_slice(b"{\"id\":");
    out.extend_from_slice(id.to_string().as_bytes());
    match answer {
        Ok(v) => {
            out.extend_from_slice(b",\"type\":");
            write_str(&mut out, kind);
            out.extend_from_slice(b",\"result\":");
            v.write_json(&mut out);
        }
        Err(e) => {
            out.extend_from_slice(b",\"type\":\"error\",\"status\":");
            out.extend_from_slice(e.status.to_string().as_bytes());
            out.extend_from_slice(b",\"code\":");
            write_str(&mut out, e.code);
            out.extend_from_slice(b",\"message\":");
            write_str(&mut out, &e.detail);
            if let Some(f) = &e.field {
                out.extend_from_slice(b",\"field\":");
                write_str(&mut out, f);
            }
        }
    }
    out.push(b'}');
    out
}

fn protocol_error(id: &Value, code: &str, message: &str) -> Outcome {
    Outcome::Reply(serde_json::json!({"id": id, "type": "error", "code": code, "message": message}).to_string().into_bytes())
}

fn topics(req: &Map<String, Value>) -> Result<Vec<String>, &'static str> {
    let list: Vec<&Value> = match (req.get("topics"), req.get("topic")) {
        (Some(Value::Array(a)), None) => a.iter().collect(),
        (None, Some(t)) => vec![t],
        _ => return Err("give \"topics\": [names] (or one \"topic\")"),
    };
    if list.is_empty() || list.len() > MAX_TOPICS {
        return Err("between 1 and 32 topics");
    }
    list.into_iter()
        .map(|v| match v {
            Value::String(s) if crate::hub::valid_topic(s) => Ok(s.clone()),
            _ => Err("a topic is 1-64 characters of A-Z a-z 0-9 . _ : -"),
        })
        .collect()
}

/// Fault injection for the panic-guard test (debug builds only): with
/// `HYPERCUBE_FAULT=ws_interpret_panic` in the environment, every `interpret` task panics after
/// its answer is computed. Release builds compile it to nothing.
mod fault {
    #[cfg(debug_assertions)]
    pub(super) fn maybe_panic() {
        static ON: std::sync::LazyLock<bool> =
            std::sync::LazyLock::new(|| std::env::var("HYPERCUBE_FAULT").is_ok_and(|v| v == "ws_interpret_panic"));
        assert!(!*ON, "injected fault: ws_interpret_panic");
    }

    #[cfg(not(debug_assertions))]
    pub(super) fn maybe_panic() {}
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::Resp;

    #[test]
    fn topic_names() {
        let req = |v: Value| v.as_object().cloned().unwrap();
        assert_eq!(topics(&req(serde_json::json!({"topics": ["a", "b"]}))), Ok(vec!["a".into(), "b".into()]));
        assert_eq!(topics(&req(serde_json::json!({"topic": "a"}))), Ok(vec!["a".into()]));
        assert!(topics(&req(serde_json::json!({"topics": []}))).is_err());
        assert!(topics(&req(serde_json::json!({"topics": [1]}))).is_err());
        assert!(topics(&req(serde_json::json!({}))).is_err());
    }

    fn chart_reply(id: Value, input: Value) -> Value {
        let hub = Rc::new(Hub::default());
        let s =
            Session { hub: &hub, conn: hub.register(), inference: None, send_queue_bytes: 1 << 20, infer_deadline: Duration::from_secs(1) };
        let mut msg = input.as_object().cloned().unwrap();
        msg.insert("id".into(), id);
        msg.insert("type".into(), "chart".into());
        let Outcome::Reply(r) = handle(&s, Value::Object(msg).to_string().as_bytes()) else { panic!("reply expected") };
        serde_json::from_slice(&r).expect("valid JSON")
    }

    #[test]
    fn chart_reply_is_the_http_body() {
        let input = serde_json::json!({"datetime": "1990-05-15T14:30:00", "zone": "Asia/Seoul", "gender": "m"});
        let v = chart_reply(serde_json::json!("a\"b"), input.clone());
        assert_eq!((v["id"].clone(), v["type"].clone()), (serde_json::json!("a\"b"), serde_json::json!("chart")));
        let http = Resp::json(
            &super::super::saju::chart(&super::super::saju::from_body(crate::http::MediaType::Json, input.to_string().as_bytes()).unwrap())
                .unwrap(),
        );
        assert_eq!(v["result"], serde_json::from_slice::<Value>(&http.body).unwrap());
        assert_eq!(v["result"]["four_pillars"]["day"]["hanja"], serde_json::json!("庚辰"));
    }

    #[test]
    fn chart_errors_carry_id_status_and_field() {
        let v = chart_reply(serde_json::json!(7), serde_json::json!({"datetime": "1990-13-01T00:00:00", "offset": 540}));
        assert_eq!(
            (v["id"].clone(), v["type"].clone(), v["status"].clone()),
            (serde_json::json!(7), serde_json::json!("error"), serde_json::json!(422))
        );
        assert_eq!((v["field"].clone(), v["code"].clone()), (serde_json::json!("datetime"), serde_json::json!("invalid_input")));
    }
}
