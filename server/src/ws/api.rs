//! The `hypercube.v1` protocol: JSON text frames `{id, type, ...}` in, JSON text frames out.
//!
//! | request `type` | fields | reply `type` |
//! |---|---|---|
//! | `chart` | the `/v1/saju` input fields inline (`datetime`, `offset`/`zone`, …) | `chart` with `result` (the `/v1/saju` body) |
//! | `subscribe` | `topics: [..]` (or `topic`) | `subscribed` with `topics`; `daily` then pushes today's event |
//! | `unsubscribe` | `topics: [..]` (or `topic`) | `unsubscribed` with `topics` |
//! | `interpret` | `question`, `chart` (the `/v1/saju` fields), `top_k` — as `/v1/interpret` | `interpret` with `result` (the `/v1/interpret` body), sent when the model answers; other requests are served meanwhile |
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
    /// The reply comes later through the connection's push queue.
    Later,
}

/// Handle one text message of the `hypercube.v1` protocol.
pub(crate) fn handle(st: &ShardState, hub: &Rc<Hub>, conn: ConnId, text: &[u8]) -> Outcome {
    let Ok(Value::Object(mut req)) = serde_json::from_slice::<Value>(text) else {
        return Outcome::Close(CloseCode::POLICY, "malformed request: expected a JSON object");
    };
    let id = req.remove("id").unwrap_or(Value::Null);
    let kind = match req.remove("type") {
        Some(Value::String(t)) => t,
        _ => return error(&id, "bad_request", "\"type\" is required: chart, interpret, subscribe, unsubscribe or ping"),
    };
    match kind.as_str() {
        "ping" => reply(json!({"id": id, "type": "pong"})),
        "chart" => chart(&id, req),
        "interpret" => interpret(st, hub, conn, id, req),
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
        _ => error(&id, "unknown_type", "type must be chart, interpret, subscribe, unsubscribe or ping"),
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
    Outcome::Reply(from_http(id, "chart", &crate::api::saju::post(None, body.as_bytes())))
}

/// `interpret`: the `/v1/interpret` body inline. The model answers after an await, so the reply
/// is pushed through the connection's bounded queue when it is ready (to this registration
/// only), while the connection goes on serving other requests.
fn interpret(st: &ShardState, hub: &Rc<Hub>, conn: ConnId, id: Value, input: Map<String, Value>) -> Outcome {
    let body = Value::Object(input).to_string();
    let (hub, serial) = (hub.clone(), hub.serial(conn));
    let (bound, budget) = (st.cfg.ws.send_queue, st.cfg.infer_deadline);
    monoio::spawn(async move {
        let resp = crate::api::interpret::post(None, body.as_bytes(), budget).await;
        let text = from_http(&id, "interpret", &resp);
        hub.push_to_serial(conn, serial, &bytes::Bytes::from(text), bound);
    });
    Outcome::Later
}

/// A `{id, type, result}` reply text from an HTTP handler's response, or the error form.
///
/// A 200 body is JSON our own handler just wrote, so it is spliced in as it is: parsing the
/// chart's ~7.5 KB back into a `Value` to serialize it again cost more than computing it.
fn from_http(id: &Value, kind: &str, resp: &crate::router::Resp) -> String {
    if resp.status != 200 {
        return from_http_error(id, resp).to_string();
    }
    match std::str::from_utf8(&resp.body) {
        Ok(result) if resp.content_type.starts_with("application/json") => {
            format!("{{\"id\":{id},\"type\":{},\"result\":{result}}}", Value::from(kind))
        }
        _ => json!({"id": id, "type": kind, "result": Value::Null}).to_string(),
    }
}

fn from_http_error(id: &Value, resp: &crate::router::Resp) -> Value {
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
    v
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
    fn chart_reply_splices_the_http_body_as_json() {
        let input = json!({"datetime": "1990-05-15T14:30:00", "zone": "Asia/Seoul", "gender": "m"});
        let Outcome::Reply(r) = chart(&json!("a\"b"), input.as_object().cloned().unwrap()) else { panic!("reply expected") };
        let v: Value = serde_json::from_str(&r).expect("valid JSON");
        assert_eq!((v["id"].clone(), v["type"].clone()), (json!("a\"b"), json!("chart")));
        let http = crate::api::saju::post(None, input.to_string().as_bytes());
        assert_eq!(v["result"], serde_json::from_slice::<Value>(&http.body).unwrap());
        assert_eq!(v["result"]["four_pillars"]["day"]["hanja"], json!("庚辰"));
    }

    #[test]
    fn chart_errors_carry_id_status_and_field() {
        let Outcome::Reply(r) = chart(&json!(7), json!({"datetime": "1990-13-01T00:00:00", "offset": 540}).as_object().cloned().unwrap())
        else {
            panic!("reply expected")
        };
        let v: Value = serde_json::from_str(&r).unwrap();
        assert_eq!((v["id"].clone(), v["type"].clone(), v["status"].clone()), (json!(7), json!("error"), json!(422)));
        assert_eq!(v["field"], json!("datetime"));
    }
}
