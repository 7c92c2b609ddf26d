//! Parsed requests: [`Method`], [`Version`], [`Request`], and the head parser that builds
//! them from the input buffer without copying (header bytes stay in one shared `Bytes`).

use std::mem::MaybeUninit;

use bytes::Bytes;

use super::ProtoError;

/// Hard cap on header fields per request; `Limits::max_headers` is clamped to it so the
/// httparse scratch array can live on the stack.
pub(crate) const MAX_HEADERS_CAP: usize = 128;

/// Request method. Standard methods are variants; anything else is kept verbatim.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Method {
    Get,
    Head,
    Post,
    Put,
    Delete,
    Options,
    Patch,
    Connect,
    Trace,
    /// Any other method token, exactly as sent (case-sensitive, as in RFC 9110).
    Other(Bytes),
}

impl Method {
    fn from_token(tok: &[u8], head: &Bytes, off: usize) -> Self {
        match tok {
            b"GET" => Self::Get,
            b"HEAD" => Self::Head,
            b"POST" => Self::Post,
            b"PUT" => Self::Put,
            b"DELETE" => Self::Delete,
            b"OPTIONS" => Self::Options,
            b"PATCH" => Self::Patch,
            b"CONNECT" => Self::Connect,
            b"TRACE" => Self::Trace,
            _ => Self::Other(head.slice(off..off + tok.len())),
        }
    }

    /// The method token as bytes.
    pub fn as_bytes(&self) -> &[u8] {
        match self {
            Self::Get => b"GET",
            Self::Head => b"HEAD",
            Self::Post => b"POST",
            Self::Put => b"PUT",
            Self::Delete => b"DELETE",
            Self::Options => b"OPTIONS",
            Self::Patch => b"PATCH",
            Self::Connect => b"CONNECT",
            Self::Trace => b"TRACE",
            Self::Other(b) => b,
        }
    }
}

/// Protocol version of a request (the only two an HTTP/1 parser accepts).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Version {
    Http10,
    Http11,
}

/// Byte range inside `Request::head` (u32: heads are bounded by `max_head`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Span {
    start: u32,
    end: u32,
}

impl Span {
    fn of(base: &[u8], part: &[u8]) -> Self {
        // Both slices come from the same buffer; compute the offset from the addresses.
        let start = (part.as_ptr() as usize).wrapping_sub(base.as_ptr() as usize);
        Self { start: start as u32, end: (start + part.len()) as u32 }
    }
    fn get(self, buf: &[u8]) -> &[u8] {
        buf.get(self.start as usize..self.end as usize).unwrap_or_default()
    }
}

/// One complete request. The head is kept as a single `Bytes` (a slice of the
/// connection's input buffer, not a copy); accessors return slices of it.
#[derive(Debug, Clone)]
pub struct Request {
    pub method: Method,
    pub version: Version,
    /// The whole body, de-chunked. For Content-Length bodies this is a zero-copy slice
    /// of the input buffer.
    pub body: Bytes,
    head: Bytes,
    target: Span,
    headers: Vec<(Span, Span)>,
}

impl Request {
    /// The request-target exactly as sent (origin-form `/path?query` in the common case).
    pub fn target(&self) -> &[u8] {
        self.target.get(&self.head)
    }

    /// The target up to (excluding) the first `?`.
    pub fn path(&self) -> &[u8] {
        let t = self.target();
        match t.iter().position(|&b| b == b'?') {
            Some(i) => &t[..i],
            None => t,
        }
    }

    /// The part after the first `?`, if any (may be empty).
    pub fn query(&self) -> Option<&[u8]> {
        let t = self.target();
        t.iter().position(|&b| b == b'?').map(|i| &t[i + 1..])
    }

    /// First value of the header `name` (ASCII case-insensitive), without surrounding whitespace.
    pub fn header(&self, name: &str) -> Option<&[u8]> {
        self.headers().find(|(n, _)| n.eq_ignore_ascii_case(name.as_bytes())).map(|(_, v)| v)
    }

    /// All values of the header `name`, in order.
    pub fn headers_named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a [u8]> + 'a {
        self.headers().filter(move |(n, _)| n.eq_ignore_ascii_case(name.as_bytes())).map(|(_, v)| v)
    }

    /// All header fields as `(name, value)`, in the order received.
    pub fn headers(&self) -> impl Iterator<Item = (&[u8], &[u8])> + '_ {
        self.headers.iter().map(move |&(n, v)| (n.get(&self.head), v.get(&self.head)))
    }

    /// Number of header fields.
    pub fn header_count(&self) -> usize {
        self.headers.len()
    }
}

/// How the body of a parsed head is framed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Framing {
    Length(u64),
    Chunked,
}

/// Everything the connection needs from a parsed head besides the `Request` itself.
#[derive(Debug)]
pub(crate) struct Head {
    pub(crate) request: Request,
    pub(crate) framing: Framing,
    /// The client wants the connection closed after this request.
    pub(crate) close: bool,
    /// HTTP/1.0 keep-alive: echo `Connection: keep-alive`.
    pub(crate) keep_alive_echo: bool,
    /// `Expect: 100-continue` on an HTTP/1.1 request.
    pub(crate) expect_continue: bool,
}

/// A validated head, as spans into the buffer it was parsed from. Turned into a
/// [`Head`] once those bytes have been split off the input buffer (one parse, no copy).
#[derive(Debug)]
pub(crate) struct ParsedHead {
    /// Length of the head in bytes, including the final empty line.
    pub(crate) len: usize,
    method: Span,
    version: Version,
    target: Span,
    headers: Vec<(Span, Span)>,
    framing: Framing,
    close: bool,
    keep_alive_echo: bool,
    expect_continue: bool,
}

impl ParsedHead {
    /// `head` must be the first `self.len` bytes of the buffer that was parsed.
    pub(crate) fn into_head(self, head: Bytes) -> Head {
        let method = Method::from_token(self.method.get(&head), &head, self.method.start as usize);
        Head {
            request: Request { method, version: self.version, body: Bytes::new(), head, target: self.target, headers: self.headers },
            framing: self.framing,
            close: self.close,
            keep_alive_echo: self.keep_alive_echo,
            expect_continue: self.expect_continue,
        }
    }
}

fn map_httparse_error(e: httparse::Error, buf: &[u8]) -> ProtoError {
    match e {
        httparse::Error::TooManyHeaders => ProtoError::TooManyHeaders,
        httparse::Error::Version => {
            // "HTTP/<digit >= 2>" in the request line: a newer protocol.
            let line_end = buf.iter().position(|&b| b == b'\n').unwrap_or(buf.len());
            let newer = buf[..line_end].windows(6).any(|w| w.starts_with(b"HTTP/") && matches!(w[5], b'2'..=b'9'));
            if newer {
                ProtoError::VersionNotSupported
            } else {
                ProtoError::BadVersion
            }
        }
        _ => ProtoError::BadHead,
    }
}

/// Parse a head at the start of `buf` and validate its framing (RFC 9112 §6).
/// `Ok(None)`: incomplete, need more bytes.
pub(crate) fn parse_head(buf: &[u8], max_headers: usize, max_body: usize) -> Result<Option<ParsedHead>, ProtoError> {
    let mut scratch = [const { MaybeUninit::<httparse::Header<'_>>::uninit() }; MAX_HEADERS_CAP];
    let mut req = httparse::Request::new(&mut []);
    let n = max_headers.min(MAX_HEADERS_CAP);
    let len = match req.parse_with_uninit_headers(buf, &mut scratch[..n]) {
        Ok(httparse::Status::Complete(len)) => len,
        Ok(httparse::Status::Partial) => return Ok(None),
        Err(e) => return Err(map_httparse_error(e, buf)),
    };
    let (Some(method), Some(path), Some(version)) = (req.method, req.path, req.version) else {
        return Err(ProtoError::BadHead);
    };
    let version = if version == 0 { Version::Http10 } else { Version::Http11 };

    let mut headers = Vec::with_capacity(req.headers.len());
    let mut content_length: Option<u64> = None;
    let mut cl_invalid = false;
    let mut cl_conflict = false;
    let mut te_seen = false;
    let mut te_chunked_last = false;
    let mut te_chunked_count = 0u32;
    let mut te_tokens = 0u32;
    let mut conn_close = false;
    let mut conn_keep_alive = false;
    let mut expect: Option<bool> = None; // Some(true) = only 100-continue seen
    let mut hosts = 0u32;

    for h in req.headers.iter() {
        let name = h.name.as_bytes();
        let value = trim(h.value);
        headers.push((Span::of(buf, name), Span::of(buf, value)));
        match name.len() {
            4 if name.eq_ignore_ascii_case(b"host") => hosts += 1,
            6 if name.eq_ignore_ascii_case(b"expect") => {
                let ok = value.eq_ignore_ascii_case(b"100-continue");
                expect = Some(expect.unwrap_or(true) && ok);
            }
            10 if name.eq_ignore_ascii_case(b"connection") => {
                for tok in value.split(|&b| b == b',').map(trim) {
                    if tok.eq_ignore_ascii_case(b"close") {
                        conn_close = true;
                    } else if tok.eq_ignore_ascii_case(b"keep-alive") {
                        conn_keep_alive = true;
                    }
                }
            }
            14 if name.eq_ignore_ascii_case(b"content-length") => {
                for tok in value.split(|&b| b == b',').map(trim) {
                    match parse_decimal(tok) {
                        Some(v) => match content_length {
                            Some(prev) if prev != v => cl_conflict = true,
                            _ => content_length = Some(v),
                        },
                        None => cl_invalid = true,
                    }
                }
            }
            17 if name.eq_ignore_ascii_case(b"transfer-encoding") => {
                te_seen = true;
                for tok in value.split(|&b| b == b',').map(trim) {
                    if tok.is_empty() {
                        continue; // empty list elements are allowed and ignored
                    }
                    te_tokens += 1;
                    te_chunked_last = tok.eq_ignore_ascii_case(b"chunked");
                    te_chunked_count += u32::from(te_chunked_last);
                }
            }
            _ => {}
        }
    }

    // Framing, in the order that keeps request smuggling impossible (RFC 9112 §6.3).
    let framing = if te_seen {
        if content_length.is_some() || cl_invalid {
            return Err(ProtoError::ContentLengthAndTransferEncoding);
        }
        if version == Version::Http10 || !te_chunked_last || te_chunked_count != 1 {
            return Err(ProtoError::BadTransferEncoding);
        }
        if te_tokens != 1 {
            return Err(ProtoError::UnsupportedTransferEncoding);
        }
        Framing::Chunked
    } else if cl_invalid {
        return Err(ProtoError::InvalidContentLength);
    } else if cl_conflict {
        return Err(ProtoError::ConflictingContentLength);
    } else {
        let body_len = content_length.unwrap_or(0);
        if body_len > max_body as u64 {
            return Err(ProtoError::BodyTooLarge);
        }
        Framing::Length(body_len)
    };
    if version == Version::Http11 && hosts != 1 {
        return Err(ProtoError::BadHost);
    }
    // RFC 9110 §10.1.1: ignore Expect on HTTP/1.0; reject unknown expectations.
    let expect_continue = match (version, expect) {
        (Version::Http11, Some(false)) => return Err(ProtoError::ExpectationFailed),
        (Version::Http11, Some(true)) => true,
        _ => false,
    };
    let (close, keep_alive_echo) = match version {
        Version::Http11 => (conn_close, false),
        Version::Http10 => {
            let ka = conn_keep_alive && !conn_close;
            (!ka, ka)
        }
    };
    Ok(Some(ParsedHead {
        len,
        method: Span::of(buf, method.as_bytes()),
        version,
        target: Span::of(buf, path.as_bytes()),
        headers,
        framing,
        close,
        keep_alive_echo,
        expect_continue,
    }))
}

/// Strip optional whitespace (SP / HTAB) from both ends.
fn trim(mut s: &[u8]) -> &[u8] {
    while let [b' ' | b'\t', rest @ ..] = s {
        s = rest;
    }
    while let [rest @ .., b' ' | b'\t'] = s {
        s = rest;
    }
    s
}

/// `1*DIGIT`; values beyond u64 saturate (they are then rejected as too large, 413).
fn parse_decimal(s: &[u8]) -> Option<u64> {
    if s.is_empty() || !s.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(s.iter().fold(0u64, |acc, &d| acc.saturating_mul(10).saturating_add(u64::from(d - b'0'))))
}
