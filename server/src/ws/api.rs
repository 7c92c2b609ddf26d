//! The `hypercube.v1` protocol: JSON text frames `{id, type, ...}` in, JSON text frames out.
//!
//! | request `type` | fields | reply `type` |
//! |---|---|---|
//! | `chart` | the `/v1/saju` input fields inline (`datetime`, `offset`/`zone`, …) | `chart` with `result` (the `/v1/saju` body) |
//! | `subscribe` | `topics: [..]` (or `topic`) | `subscribed` with `topics`; `daily` then pushes today's event |
//! | `unsubscribe` | `topics: [..]` (or `topic`) | `unsubscribed` with `topics` |
//! | `ping` | — | `pong` |
//!
//! Every reply carries the request's `id` (any JSON value; `null` when absent). An error is
//! `{"id", "type":"error", "code", "message"}` (plus `status` and `field` for chart input
//! errors) and leaves the socket open. Only a malformed frame closes it: a text frame that is not
//! a JSON object → 1008, a binary frame → 1003. Pushes are `{"type":"event","topic","data"}`.
use super::daily;
use super::hub::{ConnId, Hub, SubError};
use crate::state::ShardState;
use proto::ws::CloseCode;
use serde_json::{json, Map, Value};
use std::rc::Rc;

/// Most topics one connection may hold.
pub(crate) const MAX_TOPICS: usize = 32;
/// Longest topic name.
const MAX_TOPIC_LEN: usize = 64;

/// What the connection does with a request.
pub(crate) enum Outcome {
    /// Send this text frame.
    Reply(String),
    /// Close with this code (the frame was malformed).
    Close(CloseCode, &'static str),
}

/// Handle one text message of the `hypercube.v1` protocol.
pub(crate) fn handle(st: &ShardState, hub: &Rc<Hub>, conn: ConnId, text: &[u8]) -> Outcome {
    let Ok(Value::Object(mut req)) = serde_json::from_slice::<Value>(text) else {
        return Outcome::Close(CloseCode::POLICY, "malformed request: expected a JSON object");
    };
    let id = req.remove("id").unwrap_or(Value::Null);
    let kind = match req.remove("type") {
        Some(Value::String(t)) => t,
        _ => return error(&id, "bad_request", "\"type\" is required: chart, subscribe, unsubscribe or ping"),
    };
    match kind.as_str() {
        "ping" => reply(json!({"id": id, "type": "pong"})),
        "chart" => chart(&id, req),
        "subscribe" | "unsubscribe" => {
            let topics = match topics(&req) {
                Ok(t) => t,
                Err(msg) => return error(&id, "invalid_topic", msg),
            };
            if kind == "subscribe" {
                for (i, t) in topics.iter().enumerate() {
                    if hub.subscribe(conn, t, MAX_TOPICS) == Err(SubError::TooMany) {
                        for t in &topics[..i] {
                            hub.unsubscribe(conn, t);
                        }
                        return error(&id, "too_many_topics", "at most 32 topics per connection");
                    }
                }
                if topics.iter().any(|t| t == daily::TOPIC) {
                    daily::on_subscribe(st, hub, conn);
                }
                reply(json!({"id": id, "type": "subscribed", "topics": topics}))
            } else {
                topics.iter().for_each(|t| hub.unsubscribe(conn, t));
                reply(json!({"id": id, "type": "unsubscribed", "topics": topics}))
            }
        }
        _ => error(&id, "unknown_type", "type must be chart, subscribe, unsubscribe or ping"),
    }
}

fn reply(v: Value) -> Outcome {
    Outcome::Reply(v.to_string())
}

fn error(id: &Value, code: &str, message: &str) -> Outcome {
    reply(json!({"id": id, "type": "error", "code": code, "message": message}))
}

/// A valid topic name: 1–64 of `[A-Za-z0-9._:-]`.
pub(crate) fn valid_topic(t: &str) -> bool {
    !t.is_empty() && t.len() <= MAX_TOPIC_LEN && t.bytes().all(|b| b.is_ascii_alphanumeric() || b"._:-".contains(&b))
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
            Value::String(s) if valid_topic(s) => Ok(s.clone()),
            _ => Err("a topic is 1-64 characters of A-Z a-z 0-9 . _ : -"),
        })
        .collect()
}

/// `chart`: the request's other fields are the `/v1/saju` input, answered by the same code.
fn chart(id: &Value, input: Map<String, Value>) -> Outcome {
    let body = Value::Object(input).to_string();
    let resp = crate::api::saju::post(None, body.as_bytes());
    if resp.status == 200 {
        let result: Value = serde_json::from_slice(&resp.body).unwrap_or(Value::Null);
        return reply(json!({"id": id, "type": "chart", "result": result}));
    }
    let err: Value = serde_json::from_slice(&resp.body).unwrap_or(Value::Null);
    let mut v = json!({
        "id": id,
        "type": "error",
        "status": resp.status,
        "code": err.get("error").cloned().unwrap_or_else(|| "error".into()),
        "message": err.get("detail").cloned().unwrap_or_else(|| "".into()),
    });
    if let Some(f) = err.get("field") {
        v["field"] = f.clone();
    }
    reply(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn topic_names() {
        assert!(valid_topic("daily") && valid_topic("room:42.a-b_c"));
        assert!(!valid_topic("") && !valid_topic("a b") && !valid_topic(&"x".repeat(65)) && !valid_topic("é"));
        let req = |v: Value| v.as_object().cloned().unwrap();
        assert_eq!(topics(&req(json!({"topics": ["a", "b"]}))), Ok(vec!["a".into(), "b".into()]));
        assert_eq!(topics(&req(json!({"topic": "a"}))), Ok(vec!["a".into()]));
        assert!(topics(&req(json!({"topics": []}))).is_err());
        assert!(topics(&req(json!({"topics": [1]}))).is_err());
        assert!(topics(&req(json!({}))).is_err());
    }

    #[test]
    fn chart_errors_carry_id_status_and_field() {
        let Outcome::Reply(r) = chart(&json!(7), json!({"datetime": "1990-13-01T00:00:00", "offset": 540}).as_object().cloned().unwrap()) else {
            panic!("reply expected")
        };
        let v: Value = serde_json::from_str(&r).unwrap();
        assert_eq!((v["id"].clone(), v["type"].clone(), v["status"].clone()), (json!(7), json!("error"), json!(422)));
        assert_eq!(v["field"], json!("datetime"));
    }
}
