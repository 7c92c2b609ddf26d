//! A sans-IO HTTP/1.1 *response* parser for the client side: how long is the response at the
//! front of this buffer, and what is its status? Headers via `httparse`; bodies by
//! `Content-Length` or chunked transfer coding. It never copies the body: the harness only needs
//! to know where the next response starts.
//!
//! It does NOT handle responses delimited by connection close (no length), 1xx interim responses
//! or HTTP/1.0; those are reported as errors, which is what a load generator should do with them.

/// The response at the front of the buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Parse {
    /// More bytes are needed.
    Incomplete,
    /// A complete response of `len` bytes (head and body) with this status.
    Done { status: u16, len: usize, close: bool },
}

/// Why a response could not be parsed. `as_str` is the error kind in reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParseError {
    Head,
    Length,
    Chunk,
    NoLength,
    TooLarge,
}

impl ParseError {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Head => "parse_head",
            Self::Length => "parse_content_length",
            Self::Chunk => "parse_chunk",
            Self::NoLength => "parse_no_length",
            Self::TooLarge => "parse_too_large",
        }
    }
}

/// Largest response head accepted.
pub const MAX_HEAD: usize = 64 * 1024;

/// Parse the response at the front of `buf`. `head_request`: it answers a HEAD (no body).
pub fn parse_response(buf: &[u8], head_request: bool) -> Result<Parse, ParseError> {
    let mut headers = [httparse::EMPTY_HEADER; 48];
    let mut resp = httparse::Response::new(&mut headers);
    let head_len = match resp.parse(buf) {
        Ok(httparse::Status::Complete(n)) => n,
        Ok(httparse::Status::Partial) if buf.len() > MAX_HEAD => return Err(ParseError::TooLarge),
        Ok(httparse::Status::Partial) => return Ok(Parse::Incomplete),
        Err(_) => return Err(ParseError::Head),
    };
    let status = resp.code.ok_or(ParseError::Head)?;
    let (mut length, mut chunked, mut close) = (None, false, false);
    for h in resp.headers.iter() {
        if h.name.eq_ignore_ascii_case("content-length") {
            let v = std::str::from_utf8(h.value).map_err(|_| ParseError::Length)?.trim();
            let n: usize = v.parse().map_err(|_| ParseError::Length)?;
            if length.is_some_and(|l| l != n) {
                return Err(ParseError::Length);
            }
            length = Some(n);
        } else if h.name.eq_ignore_ascii_case("transfer-encoding") {
            chunked = h.value.trim_ascii().eq_ignore_ascii_case(b"chunked");
        } else if h.name.eq_ignore_ascii_case("connection") {
            close = h.value.trim_ascii().eq_ignore_ascii_case(b"close");
        }
    }
    if head_request || status == 204 || status == 304 || (100..200).contains(&status) {
        return Ok(Parse::Done { status, len: head_len, close });
    }
    if chunked {
        return Ok(match chunked_len(&buf[head_len..])? {
            Some(n) => Parse::Done { status, len: head_len + n, close },
            None => Parse::Incomplete,
        });
    }
    let body = length.ok_or(ParseError::NoLength)?;
    if buf.len() - head_len >= body {
        Ok(Parse::Done { status, len: head_len + body, close })
    } else {
        Ok(Parse::Incomplete)
    }
}

/// Length of a complete chunked body at the front of `buf` (through the final CRLF after any
/// trailers), or `None` if incomplete.
fn chunked_len(buf: &[u8]) -> Result<Option<usize>, ParseError> {
    let mut pos = 0;
    loop {
        let Some(eol) = find_crlf(&buf[pos..]) else {
            return if buf.len() - pos > 1024 { Err(ParseError::Chunk) } else { Ok(None) };
        };
        let line = &buf[pos..pos + eol];
        let hex = line.split(|&b| b == b';').next().unwrap_or(b"").trim_ascii();
        if hex.is_empty() || hex.len() > 15 {
            return Err(ParseError::Chunk);
        }
        let mut size = 0usize;
        for &b in hex {
            let d = (b as char).to_digit(16).ok_or(ParseError::Chunk)?;
            size = size * 16 + d as usize;
        }
        pos += eol + 2;
        if size == 0 {
            // Trailers: lines until an empty one.
            loop {
                let Some(eol) = find_crlf(&buf[pos..]) else { return Ok(None) };
                pos += eol + 2;
                if eol == 0 {
                    return Ok(Some(pos));
                }
            }
        }
        if buf.len() < pos + size + 2 {
            return Ok(None);
        }
        if &buf[pos + size..pos + size + 2] != b"\r\n" {
            return Err(ParseError::Chunk);
        }
        pos += size + 2;
    }
}

fn find_crlf(b: &[u8]) -> Option<usize> {
    b.windows(2).position(|w| w == b"\r\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    const HYPERCUBE: &[u8] = b"HTTP/1.1 200 OK\r\ncontent-type: text/plain; charset=utf-8\r\ncontent-length: 2\r\n\r\nok";
    const NGINX: &[u8] = b"HTTP/1.1 200 OK\r\nServer: nginx/1.22.1\r\nDate: Fri, 27 Nov 2026 18:00:00 GMT\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 2\r\nConnection: keep-alive\r\n\r\nok";
    const CHUNKED: &[u8] =
        b"HTTP/1.1 404 Not Found\r\nTransfer-Encoding: chunked\r\n\r\n4;ext=1\r\nWiki\r\n5\r\npedia\r\n0\r\nX-Trailer: 1\r\n\r\n";
    const EMPTY: &[u8] = b"HTTP/1.1 204 No Content\r\n\r\n";
    const CLOSE: &[u8] = b"HTTP/1.1 503 Service Unavailable\r\nconnection: close\r\ncontent-length: 0\r\n\r\n";

    /// Every prefix is Incomplete; the whole is Done with the right length; a pipelined second
    /// response after it does not change the answer.
    #[test]
    fn split_at_every_offset() {
        for (resp, status, close) in
            [(HYPERCUBE, 200, false), (NGINX, 200, false), (CHUNKED, 404, false), (EMPTY, 204, false), (CLOSE, 503, true)]
        {
            for cut in 0..resp.len() {
                assert_eq!(parse_response(&resp[..cut], false), Ok(Parse::Incomplete), "cut {cut} of {:?}", String::from_utf8_lossy(resp));
            }
            let done = Ok(Parse::Done { status, len: resp.len(), close });
            assert_eq!(parse_response(resp, false), done);
            let mut two = resp.to_vec();
            two.extend_from_slice(NGINX);
            for cut in resp.len()..=two.len() {
                assert_eq!(parse_response(&two[..cut], false), done);
            }
            assert_eq!(parse_response(&two[resp.len()..], false), Ok(Parse::Done { status: 200, len: NGINX.len(), close: false }));
        }
    }

    #[test]
    fn head_has_no_body() {
        let head = b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n";
        assert_eq!(parse_response(head, true), Ok(Parse::Done { status: 200, len: head.len(), close: false }));
        assert_eq!(parse_response(head, false), Ok(Parse::Incomplete));
    }

    #[test]
    fn bad_responses_name_their_kind() {
        let cases: [(&[u8], ParseError); 5] = [
            (b"HTTX/1.1 200 OK\r\n\r\n", ParseError::Head),
            (b"HTTP/1.1 200 OK\r\ncontent-length: x\r\n\r\n", ParseError::Length),
            (b"HTTP/1.1 200 OK\r\ncontent-length: 1\r\ncontent-length: 2\r\n\r\n", ParseError::Length),
            (b"HTTP/1.1 200 OK\r\n\r\n", ParseError::NoLength),
            (b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\nzz\r\n", ParseError::Chunk),
        ];
        for (b, e) in cases {
            assert_eq!(parse_response(b, false), Err(e), "{:?}", String::from_utf8_lossy(b));
        }
        let mut huge = b"HTTP/1.1 200 OK\r\n".to_vec();
        huge.resize(MAX_HEAD + 10, b'a');
        assert_eq!(parse_response(&huge, false), Err(ParseError::TooLarge));
    }
}
