//! Typed protocol errors: what the peer did wrong, and how it is answered.

/// Why a connection stopped accepting requests because of the peer.
///
/// Every variant originates from the peer (bad bytes or too slow), so retrying the
/// same bytes on a new connection cannot help. Each one is answered with
/// [`status()`](Self::status) and a small JSON body built from [`code()`](Self::code)
/// and [`detail()`](Self::detail) (except timeouts with requests in flight, see the
/// module docs), then the connection closes. [`Conn::take_error`](super::Conn::take_error)
/// hands it to the glue so it can be counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
#[non_exhaustive]
pub enum ProtoError {
    /// Request line or header syntax rejected by the head parser.
    #[error("malformed request head")]
    BadHead,
    /// The request line names a version other than HTTP/1.0 or HTTP/1.1 and not HTTP/2+.
    #[error("unsupported HTTP version")]
    BadVersion,
    /// HTTP/2 or later spoken on an HTTP/1 connection (includes the h2 prior-knowledge preface).
    #[error("HTTP version not supported")]
    VersionNotSupported,
    /// An HTTP/1.1 request without exactly one `Host` header.
    #[error("missing or duplicate Host")]
    BadHost,
    /// `Content-Length` that is not a plain decimal number.
    #[error("invalid Content-Length")]
    InvalidContentLength,
    /// Several `Content-Length` values that disagree.
    #[error("conflicting Content-Length")]
    ConflictingContentLength,
    /// Both `Content-Length` and `Transfer-Encoding` (request smuggling vector).
    #[error("both Content-Length and Transfer-Encoding")]
    ContentLengthAndTransferEncoding,
    /// `Transfer-Encoding` whose final coding is not `chunked`, `chunked` applied twice,
    /// or any `Transfer-Encoding` on an HTTP/1.0 request.
    #[error("invalid Transfer-Encoding")]
    BadTransferEncoding,
    /// `Transfer-Encoding: <coding>, chunked` with a coding other than chunked: we do not decode it.
    #[error("unsupported Transfer-Encoding")]
    UnsupportedTransferEncoding,
    /// Bad chunk-size line (not hex, overflow, bad extension, missing CRLF) or bad trailer.
    #[error("invalid chunked encoding")]
    BadChunk,
    /// The declared or accumulated body exceeds `Limits::max_body`.
    #[error("request body too large")]
    BodyTooLarge,
    /// The request head (or the chunked trailer section) exceeds `Limits::max_head`.
    #[error("request head too large")]
    HeadTooLarge,
    /// More header fields than `Limits::max_headers`.
    #[error("too many header fields")]
    TooManyHeaders,
    /// An `Expect` value other than `100-continue`.
    #[error("unsupported expectation")]
    ExpectationFailed,
    /// The head did not complete within `Limits::header_timeout` of its first byte.
    #[error("request head timeout")]
    HeaderTimeout,
    /// The body did not complete within `Limits::body_timeout` of the end of the head.
    #[error("request body timeout")]
    BodyTimeout,
    /// The glue kept calling `recv` while `wants_read()` was false and the unparsed
    /// backlog passed its bound (see the module docs).
    #[error("input backlog overflow")]
    InputOverflow,
}

impl ProtoError {
    /// The HTTP status this error is answered with.
    pub const fn status(self) -> u16 {
        match self {
            Self::BadHead
            | Self::BadVersion
            | Self::BadHost
            | Self::InvalidContentLength
            | Self::ConflictingContentLength
            | Self::ContentLengthAndTransferEncoding
            | Self::BadTransferEncoding
            | Self::BadChunk
            | Self::InputOverflow => 400,
            Self::VersionNotSupported => 505,
            Self::UnsupportedTransferEncoding => 501,
            Self::BodyTooLarge => 413,
            Self::HeadTooLarge | Self::TooManyHeaders => 431,
            Self::ExpectationFailed => 417,
            Self::HeaderTimeout | Self::BodyTimeout => 408,
        }
    }

    /// Stable machine-readable code: the `"error"` field of the JSON body, and a metric label.
    pub const fn code(self) -> &'static str {
        match self {
            Self::BadHead
            | Self::BadVersion
            | Self::BadHost
            | Self::InvalidContentLength
            | Self::ConflictingContentLength
            | Self::ContentLengthAndTransferEncoding
            | Self::BadTransferEncoding
            | Self::BadChunk
            | Self::InputOverflow => "bad_request",
            Self::VersionNotSupported => "version_not_supported",
            Self::UnsupportedTransferEncoding => "not_implemented",
            Self::BodyTooLarge => "payload_too_large",
            Self::HeadTooLarge | Self::TooManyHeaders => "header_too_large",
            Self::ExpectationFailed => "expectation_failed",
            Self::HeaderTimeout | Self::BodyTimeout => "timeout",
        }
    }

    /// Human-readable detail: the `"detail"` field of the JSON body (same as `Display`).
    pub const fn detail(self) -> &'static str {
        match self {
            Self::BadHead => "malformed request head",
            Self::BadVersion => "unsupported HTTP version",
            Self::VersionNotSupported => "HTTP version not supported",
            Self::BadHost => "missing or duplicate Host",
            Self::InvalidContentLength => "invalid Content-Length",
            Self::ConflictingContentLength => "conflicting Content-Length",
            Self::ContentLengthAndTransferEncoding => "both Content-Length and Transfer-Encoding",
            Self::BadTransferEncoding => "invalid Transfer-Encoding",
            Self::UnsupportedTransferEncoding => "unsupported Transfer-Encoding",
            Self::BadChunk => "invalid chunked encoding",
            Self::BodyTooLarge => "request body too large",
            Self::HeadTooLarge => "request head too large",
            Self::TooManyHeaders => "too many header fields",
            Self::ExpectationFailed => "unsupported expectation",
            Self::HeaderTimeout => "request head timeout",
            Self::BodyTimeout => "request body timeout",
            Self::InputOverflow => "input backlog overflow",
        }
    }

    /// True for the two timeout variants.
    pub const fn is_timeout(self) -> bool {
        matches!(self, Self::HeaderTimeout | Self::BodyTimeout)
    }

    /// The JSON error body: `{"error":"<code>","detail":"<detail>"}`.
    pub(crate) fn json_body(self) -> Vec<u8> {
        let (code, detail) = (self.code(), self.detail());
        let mut v = Vec::with_capacity(24 + code.len() + detail.len());
        v.extend_from_slice(b"{\"error\":\"");
        v.extend_from_slice(code.as_bytes());
        v.extend_from_slice(b"\",\"detail\":\"");
        v.extend_from_slice(detail.as_bytes());
        v.extend_from_slice(b"\"}");
        v
    }
}

/// Misuse of [`Conn::respond`](super::Conn::respond) by the glue (never caused by the peer).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum RespondError {
    /// The id was never handed out, or its response was already written, or the
    /// connection was closed and its pending requests dropped.
    #[error("unknown or finished request id")]
    UnknownRequest,
    /// `respond` was already called for this id.
    #[error("request already answered")]
    AlreadyAnswered,
}
