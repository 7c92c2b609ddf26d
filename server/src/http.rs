//! LEAF: the request and response every transport converts to and from, the one content-type
//! parser, and the API error. Imports nothing of this crate.
//!
//! A transport (HTTP/1.1, HTTP/3) turns its request into a [`Req`], hands it to the one request
//! path (`route`), and turns the [`Resp`] it gets back into its own response. Handlers answer
//! `Result<T, ApiError>` with `T:` [`Json`]; HTTP renders `T` as a 200 JSON body and the error as
//! [`ApiError::to_json`], the WebSocket API renders both into its own reply objects.
use bytes::Bytes;
use std::borrow::Cow;
use std::fmt;

/// Request methods the router distinguishes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Method {
    Get,
    Head,
    Post,
    Other,
}

impl Method {
    /// From the method token as sent (case-sensitive, RFC 9110 §9.1).
    pub(crate) fn from_token(t: &[u8]) -> Self {
        match t {
            b"GET" => Self::Get,
            b"HEAD" => Self::Head,
            b"POST" => Self::Post,
            _ => Self::Other,
        }
    }
}

/// A request as the router sees it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Req<'a> {
    pub(crate) method: Method,
    /// The path, percent-encoded as sent, without the query.
    pub(crate) path: &'a str,
    pub(crate) query: &'a str,
    pub(crate) content_type: Option<&'a [u8]>,
    /// The `Accept-Encoding` field value, if any.
    pub(crate) accept_encoding: Option<&'a [u8]>,
    pub(crate) body: &'a [u8],
}

/// A response as the router produces it.
#[derive(Debug, Clone)]
pub(crate) struct Resp {
    pub(crate) status: u16,
    pub(crate) content_type: &'static str,
    pub(crate) body: Bytes,
    /// Fields beyond the content type and the framing (`Allow`, `Retry-After`,
    /// `Content-Encoding`, `Vary`, `Upgrade`), in order.
    pub(crate) headers: Vec<(&'static str, Bytes)>,
}

pub(crate) const JSON: &str = "application/json";
pub(crate) const TEXT: &str = "text/plain; charset=utf-8";
pub(crate) const PROMETHEUS: &str = "text/plain; version=0.0.4; charset=utf-8";

impl Resp {
    pub(crate) fn new(status: u16, content_type: &'static str, body: impl Into<Bytes>) -> Self {
        Self { status, content_type, body: body.into(), headers: Vec::new() }
    }

    /// A 200 JSON response with `v` as its body.
    pub(crate) fn json(v: &impl Json) -> Self {
        let mut out = Vec::with_capacity(v.size_hint());
        v.write_json(&mut out);
        Self::new(200, JSON, out)
    }

    /// Add a header field.
    #[must_use]
    pub(crate) fn with(mut self, name: &'static str, value: impl Into<Bytes>) -> Self {
        self.headers.push((name, value.into()));
        self
    }

    /// The first value of header `name` (ASCII case-insensitive).
    pub(crate) fn header(&self, name: &str) -> Option<&[u8]> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| &v[..])
    }
}

impl From<ApiError> for Resp {
    fn from(e: ApiError) -> Self {
        let mut r = Self::new(e.status, JSON, e.to_json());
        if let Some(allow) = e.allow {
            r = r.with("allow", Bytes::from_static(allow.as_bytes()));
        }
        if let Some(secs) = e.retry_after {
            r = r.with("retry-after", secs.to_string());
        }
        r
    }
}

/// A result a handler can answer with: it writes itself as JSON.
pub(crate) trait Json {
    /// Append the JSON text of `self` to `out`.
    fn write_json(&self, out: &mut Vec<u8>);

    /// A guess of the JSON length, to size the buffer once.
    fn size_hint(&self) -> usize {
        256
    }
}

/// Any `Serialize` value rendered by serde (simd-json's writer): for results without a faster
/// hand-written writer.
pub(crate) struct Serde<T>(pub(crate) T);

impl<T: serde::Serialize> Json for Serde<T> {
    fn write_json(&self, out: &mut Vec<u8>) {
        // Our result types have string keys and finite numbers, so serializing cannot fail; should
        // it ever, the body is a JSON null rather than half an object.
        let start = out.len();
        if simd_json::to_writer(&mut *out, &self.0).is_err() {
            out.truncate(start);
            out.extend_from_slice(b"null");
        }
    }
}

/// An error answer: HTTP status, a stable machine-readable `code`, a human `detail`, and the
/// request `field` it is about (422s name it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ApiError {
    pub(crate) status: u16,
    pub(crate) code: &'static str,
    pub(crate) detail: Cow<'static, str>,
    pub(crate) field: Option<Cow<'static, str>>,
    /// `Retry-After` seconds (503s from a full queue or a model still loading).
    pub(crate) retry_after: Option<u32>,
    /// `Allow` (405s).
    pub(crate) allow: Option<&'static str>,
}

impl ApiError {
    pub(crate) fn new(status: u16, code: &'static str, detail: impl Into<Cow<'static, str>>) -> Self {
        Self { status, code, detail: detail.into(), field: None, retry_after: None, allow: None }
    }

    /// 422 `invalid_input` about `field`.
    pub(crate) fn field(field: impl Into<Cow<'static, str>>, detail: impl Into<Cow<'static, str>>) -> Self {
        Self { field: Some(field.into()), ..Self::new(422, "invalid_input", detail) }
    }

    /// 400 `bad_json`: the body is not JSON (or not the JSON shape the route takes).
    pub(crate) fn bad_json(detail: impl Into<Cow<'static, str>>) -> Self {
        Self::new(400, "bad_json", detail)
    }

    /// 415 for a content type the route does not take; `accepted` is what to send instead.
    pub(crate) fn media_type(accepted: &'static str) -> Self {
        Self::new(415, "unsupported_media_type", accepted)
    }

    /// 405 with the methods the path takes.
    pub(crate) fn method(allow: &'static str) -> Self {
        Self { allow: Some(allow), ..Self::new(405, "method_not_allowed", "method not allowed here") }
    }

    /// 404 `not_found`.
    pub(crate) fn not_found() -> Self {
        Self::new(404, "not_found", "no such path")
    }

    /// 500 `internal`: a bug of ours, said without internals.
    pub(crate) fn internal(detail: impl Into<Cow<'static, str>>) -> Self {
        Self::new(500, "internal", detail)
    }

    #[must_use]
    pub(crate) fn retry_after(mut self, secs: u32) -> Self {
        self.retry_after = Some(secs);
        self
    }

    /// Prefix the field name (a nested object: `chart.datetime`).
    #[must_use]
    pub(crate) fn in_object(mut self, prefix: &str) -> Self {
        if let Some(f) = self.field.take() {
            self.field = Some(format!("{prefix}.{f}").into());
        }
        self
    }

    /// `{"error": code, "detail": detail}` plus `"field"` when there is one.
    pub(crate) fn to_json(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(64 + self.detail.len());
        out.extend_from_slice(b"{\"error\":");
        write_str(&mut out, self.code);
        out.extend_from_slice(b",\"detail\":");
        write_str(&mut out, &self.detail);
        if let Some(f) = &self.field {
            out.extend_from_slice(b",\"field\":");
            write_str(&mut out, f);
        }
        out.push(b'}');
        out
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.field {
            Some(field) => write!(f, "{} {}: {field}: {}", self.status, self.code, self.detail),
            None => write!(f, "{} {}: {}", self.status, self.code, self.detail),
        }
    }
}

/// A JSON string literal of `s` (RFC 8259 escapes; non-ASCII passes through as UTF-8).
pub(crate) fn write_str(out: &mut Vec<u8>, s: &str) {
    out.push(b'"');
    let b = s.as_bytes();
    let mut start = 0;
    for (i, &c) in b.iter().enumerate() {
        let esc: &[u8] = match c {
            b'"' => b"\\\"",
            b'\\' => b"\\\\",
            b'\n' => b"\\n",
            b'\r' => b"\\r",
            b'\t' => b"\\t",
            0..=0x1f => {
                out.extend_from_slice(&b[start..i]);
                out.extend_from_slice(format!("\\u{c:04x}").as_bytes());
                start = i + 1;
                continue;
            }
            _ => continue,
        };
        out.extend_from_slice(&b[start..i]);
        out.extend_from_slice(esc);
        start = i + 1;
    }
    out.extend_from_slice(&b[start..]);
    out.push(b'"');
}

/// The media types the API tells apart. [`MediaType::of`] is the one content-type parser.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum MediaType {
    /// No `Content-Type` at all.
    Absent,
    /// `application/json`.
    Json,
    /// `application/x-www-form-urlencoded`.
    Form,
    /// `application/x-ndjson` (also `application/jsonl`, `application/json-seq`).
    Ndjson,
    /// Anything else.
    Other,
}

impl MediaType {
    /// The type of a `Content-Type` value: its `type/subtype`, case-insensitive, parameters
    /// (`; charset=utf-8`) ignored.
    pub(crate) fn of(content_type: Option<&[u8]>) -> Self {
        let Some(ct) = content_type else { return Self::Absent };
        let essence = ct.split(|b| *b == b';').next().unwrap_or(b"").trim_ascii();
        let is = |name: &[u8]| essence.eq_ignore_ascii_case(name);
        if is(b"application/json") {
            Self::Json
        } else if is(b"application/x-www-form-urlencoded") {
            Self::Form
        } else if is(b"application/x-ndjson") || is(b"application/jsonl") || is(b"application/json-seq") {
            Self::Ndjson
        } else {
            Self::Other
        }
    }
}

/// Content codings the server can produce, best first when the client weighs them equally.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Coding {
    Br,
    Gzip,
}

impl Coding {
    pub(crate) fn token(self) -> &'static str {
        match self {
            Self::Br => "br",
            Self::Gzip => "gzip",
        }
    }

    /// The coding to answer with for an `Accept-Encoding` value (RFC 9110 §12.5.3): the
    /// highest-weighted of ours with q > 0, `br` before `gzip` on a tie; `*` names both.
    pub(crate) fn negotiate(accept: Option<&[u8]>) -> Option<Self> {
        let accept = std::str::from_utf8(accept?).ok()?;
        let (mut br, mut gzip, mut star) = (None::<f32>, None::<f32>, None::<f32>);
        for item in accept.split(',') {
            let mut parts = item.split(';');
            let name = parts.next().unwrap_or("").trim();
            let q = parts
                .filter_map(|p| p.trim().strip_prefix("q=").or_else(|| p.trim().strip_prefix("Q=")))
                .find_map(|v| v.trim().parse::<f32>().ok())
                .unwrap_or(1.0);
            if name.eq_ignore_ascii_case("br") {
                br = Some(q);
            } else if name.eq_ignore_ascii_case("gzip") || name.eq_ignore_ascii_case("x-gzip") {
                gzip = Some(q);
            } else if name == "*" {
                star = Some(q);
            }
        }
        let br = br.or(star).unwrap_or(0.0);
        let gzip = gzip.or(star).unwrap_or(0.0);
        if br <= 0.0 && gzip <= 0.0 {
            None
        } else if br >= gzip {
            Some(Self::Br)
        } else {
            Some(Self::Gzip)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn media_types() {
        assert_eq!(MediaType::of(None), MediaType::Absent);
        assert_eq!(MediaType::of(Some(b"application/json")), MediaType::Json);
        assert_eq!(MediaType::of(Some(b" Application/JSON ; charset=utf-8")), MediaType::Json);
        assert_eq!(MediaType::of(Some(b"application/x-www-form-urlencoded")), MediaType::Form);
        assert_eq!(MediaType::of(Some(b"application/x-ndjson")), MediaType::Ndjson);
        assert_eq!(MediaType::of(Some(b"text/xml")), MediaType::Other);
        assert_eq!(MediaType::of(Some(b"")), MediaType::Other);
    }

    #[test]
    fn error_json_escapes_and_names_the_field() {
        let e = ApiError::field("datetime", "\"x\"\n is bad");
        assert_eq!(e.status, 422);
        let v: serde_json::Value = serde_json::from_slice(&e.to_json()).unwrap();
        assert_eq!(v, serde_json::json!({"error": "invalid_input", "detail": "\"x\"\n is bad", "field": "datetime"}));
        let v: serde_json::Value = serde_json::from_slice(&ApiError::not_found().to_json()).unwrap();
        assert_eq!(v, serde_json::json!({"error": "not_found", "detail": "no such path"}));
        let mut s = Vec::new();
        write_str(&mut s, "a\u{1}b한");
        assert_eq!(String::from_utf8(s).unwrap(), "\"a\\u0001b한\"");
        assert_eq!(ApiError::field("x", "y").in_object("chart").field.as_deref(), Some("chart.x"));
    }

    #[test]
    fn accept_encoding() {
        assert_eq!(Coding::negotiate(None), None);
        assert_eq!(Coding::negotiate(Some(b"gzip, deflate, br")), Some(Coding::Br));
        assert_eq!(Coding::negotiate(Some(b"gzip")), Some(Coding::Gzip));
        assert_eq!(Coding::negotiate(Some(b"br;q=0.5, gzip")), Some(Coding::Gzip));
        assert_eq!(Coding::negotiate(Some(b"br;q=0, gzip;q=0")), None);
        assert_eq!(Coding::negotiate(Some(b"identity")), None);
        assert_eq!(Coding::negotiate(Some(b"*")), Some(Coding::Br));
        assert_eq!(Coding::negotiate(Some(b"*;q=0.1, br;q=0")), Some(Coding::Gzip));
    }
}
