//! [`Response`] and its serializer (status line from a table, `itoa` lengths, one
//! reused output `Vec`).

use std::borrow::Cow;

use bytes::Bytes;

/// A response given to [`Conn::respond`](super::Conn::respond).
///
/// proto owns the framing headers: `Content-Length`, `Transfer-Encoding` and
/// `Connection` in `headers` are ignored, and the serializer writes `Content-Length`
/// (except for 1xx/204/304) and `Connection` itself. `Date` and `Server` are never
/// added: put them in `headers` (cloning a per-shard cached `Bytes` is cheap).
/// Header fields with an invalid name, or a value containing CR, LF or NUL, are
/// dropped rather than allowed to split the response.
///
/// Only final responses: a 1xx status is written without a body and counts as the
/// answer, which the client will not understand (proto sends `100 Continue` itself),
/// except `101` to an upgrade request, which switches protocols (see `Conn::respond`).
/// To close the connection after a response, call
/// [`Conn::start_shutdown`](super::Conn::start_shutdown): a `Connection: close` set
/// here is ignored like the other framing headers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(Cow<'static, str>, Bytes)>,
    pub body: Bytes,
}

impl Response {
    /// Empty response with `status` (a status outside 100..=999 is sent as 500).
    pub fn new(status: u16) -> Self {
        Self { status, headers: Vec::new(), body: Bytes::new() }
    }

    /// Append a header field.
    #[must_use]
    pub fn header(mut self, name: impl Into<Cow<'static, str>>, value: impl Into<Bytes>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// Set the body and its `Content-Type`.
    #[must_use]
    pub fn body(self, content_type: &'static str, body: impl Into<Bytes>) -> Self {
        let mut r = self.header("Content-Type", Bytes::from_static(content_type.as_bytes()));
        r.body = body.into();
        r
    }

    /// `application/json` response.
    pub fn json(status: u16, body: impl Into<Bytes>) -> Self {
        Self::new(status).body("application/json", body)
    }

    /// `text/plain; charset=utf-8` response.
    pub fn text(status: u16, body: impl Into<Bytes>) -> Self {
        Self::new(status).body("text/plain; charset=utf-8", body)
    }
}

/// Which `Connection` header the serializer adds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ConnHeader {
    None,
    KeepAlive,
    Close,
    /// `101 Switching Protocols`.
    Upgrade,
}

/// The interim response sent for `Expect: 100-continue`.
pub(crate) const CONTINUE: &[u8] = b"HTTP/1.1 100 Continue\r\n\r\n";

/// Serialize `resp` onto `out`. `head_request`: keep `Content-Length`, omit the body.
pub(crate) fn write_response(out: &mut Vec<u8>, resp: &Response, head_request: bool, conn: ConnHeader) {
    let status = if (100..=999).contains(&resp.status) { resp.status } else { 500 };
    let no_body = matches!(status, 100..=199 | 204 | 304);
    let extra = resp.headers.iter().map(|(k, v)| k.len() + v.len() + 4).sum::<usize>();
    out.reserve(64 + extra + if no_body || head_request { 0 } else { resp.body.len() });

    match status_line(status) {
        Some(line) => out.extend_from_slice(line),
        None => {
            out.extend_from_slice(b"HTTP/1.1 ");
            out.extend_from_slice(itoa::Buffer::new().format(status).as_bytes());
            out.push(b' ');
            out.extend_from_slice(reason(status).as_bytes());
            out.extend_from_slice(b"\r\n");
        }
    }
    for (name, value) in &resp.headers {
        if is_framing_header(name) || !valid_name(name) || !valid_value(value) {
            continue;
        }
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(value);
        out.extend_from_slice(b"\r\n");
    }
    match conn {
        ConnHeader::None => {}
        ConnHeader::KeepAlive => out.extend_from_slice(b"Connection: keep-alive\r\n"),
        ConnHeader::Close => out.extend_from_slice(b"Connection: close\r\n"),
        ConnHeader::Upgrade => out.extend_from_slice(b"Connection: upgrade\r\n"),
    }
    if !no_body {
        out.extend_from_slice(b"Content-Length: ");
        out.extend_from_slice(itoa::Buffer::new().format(resp.body.len()).as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"\r\n");
    if !no_body && !head_request {
        out.extend_from_slice(&resp.body);
    }
}

fn is_framing_header(name: &str) -> bool {
    match name.len() {
        10 => name.eq_ignore_ascii_case("connection"),
        14 => name.eq_ignore_ascii_case("content-length"),
        17 => name.eq_ignore_ascii_case("transfer-encoding"),
        _ => false,
    }
}

/// RFC 9110 token.
fn valid_name(name: &str) -> bool {
    !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

fn valid_value(value: &[u8]) -> bool {
    !value.iter().any(|&b| matches!(b, b'\r' | b'\n' | 0))
}

/// Full status lines for the statuses a server sends all the time.
fn status_line(status: u16) -> Option<&'static [u8]> {
    Some(match status {
        200 => b"HTTP/1.1 200 OK\r\n",
        201 => b"HTTP/1.1 201 Created\r\n",
        202 => b"HTTP/1.1 202 Accepted\r\n",
        204 => b"HTTP/1.1 204 No Content\r\n",
        301 => b"HTTP/1.1 301 Moved Permanently\r\n",
        302 => b"HTTP/1.1 302 Found\r\n",
        304 => b"HTTP/1.1 304 Not Modified\r\n",
        400 => b"HTTP/1.1 400 Bad Request\r\n",
        401 => b"HTTP/1.1 401 Unauthorized\r\n",
        403 => b"HTTP/1.1 403 Forbidden\r\n",
        404 => b"HTTP/1.1 404 Not Found\r\n",
        405 => b"HTTP/1.1 405 Method Not Allowed\r\n",
        408 => b"HTTP/1.1 408 Request Timeout\r\n",
        413 => b"HTTP/1.1 413 Content Too Large\r\n",
        417 => b"HTTP/1.1 417 Expectation Failed\r\n",
        429 => b"HTTP/1.1 429 Too Many Requests\r\n",
        431 => b"HTTP/1.1 431 Request Header Fields Too Large\r\n",
        500 => b"HTTP/1.1 500 Internal Server Error\r\n",
        501 => b"HTTP/1.1 501 Not Implemented\r\n",
        502 => b"HTTP/1.1 502 Bad Gateway\r\n",
        503 => b"HTTP/1.1 503 Service Unavailable\r\n",
        504 => b"HTTP/1.1 504 Gateway Timeout\r\n",
        505 => b"HTTP/1.1 505 HTTP Version Not Supported\r\n",
        _ => return None,
    })
}

/// Reason phrases for the less common statuses (empty is allowed by RFC 9112).
fn reason(status: u16) -> &'static str {
    match status {
        100 => "Continue",
        101 => "Switching Protocols",
        203 => "Non-Authoritative Information",
        205 => "Reset Content",
        206 => "Partial Content",
        303 => "See Other",
        307 => "Temporary Redirect",
        308 => "Permanent Redirect",
        402 => "Payment Required",
        406 => "Not Acceptable",
        409 => "Conflict",
        410 => "Gone",
        411 => "Length Required",
        412 => "Precondition Failed",
        414 => "URI Too Long",
        415 => "Unsupported Media Type",
        416 => "Range Not Satisfiable",
        422 => "Unprocessable Content",
        426 => "Upgrade Required",
        428 => "Precondition Required",
        _ => "",
    }
}
