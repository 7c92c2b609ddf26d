//! `POST /internal/publish?topic=NAME` (only with `--ws-publish-api true`): the JSON body becomes
//! `{"type":"event","topic","data"}` for the topic's WebSocket subscribers on every shard. This
//! module decodes and checks the request; the fan-out to the shards is the router's.
use super::input::Fields;
use crate::http::{ApiError, Json};
use bytes::Bytes;

/// A checked publish: the topic and the event text every subscriber gets.
#[derive(Debug)]
pub(crate) struct Publish {
    pub(crate) topic: String,
    pub(crate) event: Bytes,
}

/// The answer: how many connections the event was queued to, over every shard.
pub(crate) struct Delivered(pub(crate) u64);

impl Json for Delivered {
    fn write_json(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(format!("{{\"delivered\":{}}}", self.0).as_bytes());
    }
}

/// Decode `?topic=NAME` and the body (any JSON value: the event's `data`).
pub(crate) fn parse(query: &str, body: &[u8]) -> Result<Publish, ApiError> {
    let f = Fields::from_query(query)?;
    f.only(&["topic"])?;
    let topic = f.str("topic")?.filter(|t| crate::hub::valid_topic(t));
    let topic = topic.ok_or_else(|| ApiError::field("topic", "topic: 1-64 characters of A-Z a-z 0-9 . _ : -"))?.to_string();
    if serde_json::from_slice::<serde::de::IgnoredAny>(body).is_err() {
        return Err(ApiError::bad_json("the body is the event data, as JSON"));
    }
    // The body is valid JSON (and so UTF-8): it is spliced in as sent, not re-serialized.
    let mut event = Vec::with_capacity(body.len() + topic.len() + 40);
    event.extend_from_slice(b"{\"type\":\"event\",\"topic\":");
    crate::http::write_str(&mut event, &topic);
    event.extend_from_slice(b",\"data\":");
    event.extend_from_slice(body.trim_ascii());
    event.push(b'}');
    Ok(Publish { topic, event: event.into() })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checks_topic_and_body_and_splices_the_data() {
        let p = parse("topic=room%3A1", br#" {"a": [1, 2]} "#).unwrap();
        assert_eq!(p.topic, "room:1");
        let v: serde_json::Value = serde_json::from_slice(&p.event).unwrap();
        assert_eq!(v, serde_json::json!({"type": "event", "topic": "room:1", "data": {"a": [1, 2]}}));
        assert_eq!(parse("topic=a b", b"1").unwrap_err().field.as_deref(), Some("topic"));
        assert_eq!(parse("", b"1").unwrap_err().field.as_deref(), Some("topic"));
        assert_eq!(parse("topic=a&x=1", b"1").unwrap_err().field.as_deref(), Some("x"));
        assert_eq!(parse("topic=a", b"{").unwrap_err().status, 400);
    }
}
