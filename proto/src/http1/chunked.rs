//! Incremental `Transfer-Encoding: chunked` decoder (RFC 9112 §7.1).
//!
//! Strict on purpose: every line must end in CRLF, sizes are hex with overflow
//! checks, extensions are skipped, trailers are checked for a `:` and discarded.

use bytes::{Buf, BytesMut};

use super::ProtoError;

/// Longest chunk-size line we accept, extensions included.
pub(crate) const MAX_CHUNK_LINE: usize = 4096;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Expecting `chunk-size [; ext] CRLF`.
    Size,
    /// Inside chunk data, this many bytes left.
    Data(u64),
    /// Expecting the CRLF that ends chunk data.
    DataEnd,
    /// Inside the trailer section, this many bytes seen so far.
    Trailer(usize),
}

#[derive(Debug)]
pub(crate) struct Decoder {
    state: State,
    body: BytesMut,
}

impl Decoder {
    pub(crate) fn new() -> Self {
        Self { state: State::Size, body: BytesMut::new() }
    }

    /// Consume what it can from `input`. `Ok(true)`: the body is complete (take it
    /// with [`Decoder::take_body`]); `Ok(false)`: need more input.
    pub(crate) fn decode(&mut self, input: &mut BytesMut, max_body: usize, max_trailer: usize) -> Result<bool, ProtoError> {
        loop {
            match self.state {
                State::Size => {
                    let Some(line) = take_line(input, MAX_CHUNK_LINE, ProtoError::BadChunk)? else {
                        return Ok(false);
                    };
                    let size = parse_size_line(&line)?;
                    if size == 0 {
                        self.state = State::Trailer(0);
                    } else {
                        let total = (self.body.len() as u64).saturating_add(size);
                        if total > max_body as u64 {
                            return Err(ProtoError::BodyTooLarge);
                        }
                        self.body.reserve(size as usize);
                        self.state = State::Data(size);
                    }
                }
                State::Data(left) => {
                    if input.is_empty() {
                        return Ok(false);
                    }
                    let n = input.len().min(usize::try_from(left).unwrap_or(usize::MAX));
                    self.body.extend_from_slice(&input[..n]);
                    input.advance(n);
                    let left = left - n as u64;
                    self.state = if left == 0 { State::DataEnd } else { State::Data(left) };
                }
                State::DataEnd => {
                    if input.len() < 2 {
                        // A wrong first byte can be rejected right away.
                        if input.first().is_some_and(|&b| b != b'\r') {
                            return Err(ProtoError::BadChunk);
                        }
                        return Ok(false);
                    }
                    if &input[..2] != b"\r\n" {
                        return Err(ProtoError::BadChunk);
                    }
                    input.advance(2);
                    self.state = State::Size;
                }
                State::Trailer(seen) => {
                    // `.max(2)`: the final empty line always fits.
                    let room = max_trailer.saturating_sub(seen).max(2);
                    let Some(line) = take_line(input, room, ProtoError::HeadTooLarge)? else {
                        return Ok(false);
                    };
                    if line.len() == 2 {
                        return Ok(true); // the empty line ending the message
                    }
                    // A trailer field: `name ":" value`; name must be a non-empty token.
                    let colon = line.iter().position(|&b| b == b':').ok_or(ProtoError::BadChunk)?;
                    if colon == 0 || !line[..colon].iter().all(|&b| is_tchar(b)) {
                        return Err(ProtoError::BadChunk);
                    }
                    self.state = State::Trailer(seen + line.len());
                }
            }
        }
    }

    pub(crate) fn take_body(&mut self) -> bytes::Bytes {
        std::mem::take(&mut self.body).freeze()
    }
}

/// Split one CRLF-terminated line (CRLF included) off `input`. A bare LF is an error.
/// If no LF is found within `max` bytes, fails with `too_long`.
fn take_line(input: &mut BytesMut, max: usize, too_long: ProtoError) -> Result<Option<BytesMut>, ProtoError> {
    match input.iter().take(max).position(|&b| b == b'\n') {
        Some(i) => {
            if i == 0 || input[i - 1] != b'\r' {
                return Err(ProtoError::BadChunk);
            }
            Ok(Some(input.split_to(i + 1)))
        }
        None if !input.is_empty() && input.len() >= max => Err(too_long),
        None => Ok(None),
    }
}

/// `1*HEXDIG [BWS ";" ext...] CRLF` → size. `line` includes the CRLF.
fn parse_size_line(line: &[u8]) -> Result<u64, ProtoError> {
    let line = &line[..line.len() - 2];
    let digits = line.iter().take_while(|b| b.is_ascii_hexdigit()).count();
    if digits == 0 {
        return Err(ProtoError::BadChunk);
    }
    let mut size: u64 = 0;
    for &b in &line[..digits] {
        let d = match b {
            b'0'..=b'9' => b - b'0',
            b'a'..=b'f' => b - b'a' + 10,
            _ => b - b'A' + 10,
        };
        size = size.checked_mul(16).and_then(|s| s.checked_add(u64::from(d))).ok_or(ProtoError::BadChunk)?;
    }
    let rest = &line[digits..];
    let rest_trimmed = {
        let ws = rest.iter().take_while(|&&b| b == b' ' || b == b'\t').count();
        &rest[ws..]
    };
    match rest_trimmed.first() {
        None if rest.is_empty() => Ok(size),
        Some(b';') if rest_trimmed.iter().all(|&b| b == b'\t' || (b' '..=b'~').contains(&b) || b >= 0x80) => Ok(size),
        _ => Err(ProtoError::BadChunk),
    }
}

fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}
