//! The opening handshake (RFC 6455 §4.2): check an HTTP/1.1 upgrade request and build the
//! `101 Switching Protocols` answer, or say which 4xx refuses it.

use bytes::Bytes;

use crate::http1::{Method, Request, Response, Version};

const GUID: &[u8] = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/// What the server accepts in a handshake.
#[derive(Debug, Clone, Copy)]
pub struct Policy<'a> {
    /// Allowed `Origin` values (exact, ASCII case-insensitive). Empty: any origin.
    /// A request without `Origin` (not a browser) is always allowed.
    pub origins: &'a [String],
    /// Subprotocols the endpoint speaks, in preference order.
    pub protocols: &'a [&'static str],
}

/// A refused handshake: the HTTP status to answer and why.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("websocket handshake refused ({status}): {detail}")]
pub struct Refused {
    pub status: u16,
    pub detail: &'static str,
}

/// An accepted handshake.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Accepted {
    /// The subprotocol chosen (the first of the client's offers that the policy lists).
    pub protocol: Option<&'static str>,
    /// The `101` to give to [`crate::http1::Conn::respond`]; add headers as needed.
    pub response: Response,
}

/// Does this request ask for an upgrade to WebSocket at all (`Upgrade: websocket`)?
pub fn is_upgrade(req: &Request) -> bool {
    req.headers_named("upgrade").any(|v| has_token(v, b"websocket"))
}

/// Check `req` against RFC 6455 §4.2.1 and `policy`.
/// Version other than 13 → 426 (the response must then carry `Sec-WebSocket-Version: 13`);
/// bad origin → 403; anything else malformed → 400.
pub fn accept(req: &Request, policy: &Policy<'_>) -> Result<Accepted, Refused> {
    let bad = |detail| Refused { status: 400, detail };
    if req.method != Method::Get || req.version != Version::Http11 {
        return Err(bad("websocket needs GET over HTTP/1.1"));
    }
    if !is_upgrade(req) {
        return Err(bad("missing Upgrade: websocket"));
    }
    if !req.headers_named("connection").any(|v| has_token(v, b"upgrade")) {
        return Err(bad("missing Connection: upgrade"));
    }
    if req.header("sec-websocket-version") != Some(b"13") {
        return Err(Refused { status: 426, detail: "only Sec-WebSocket-Version 13 is supported" });
    }
    let key = req.header("sec-websocket-key").filter(|k| valid_key(k)).ok_or(bad("missing or malformed Sec-WebSocket-Key"))?;
    if let Some(origin) = req.header("origin") {
        if !policy.origins.is_empty() && !policy.origins.iter().any(|o| o.as_bytes().eq_ignore_ascii_case(origin)) {
            return Err(Refused { status: 403, detail: "origin not allowed" });
        }
    }
    let protocol = req
        .headers_named("sec-websocket-protocol")
        .flat_map(|v| v.split(|&b| b == b','))
        .map(<[u8]>::trim_ascii)
        .find_map(|offer| policy.protocols.iter().find(|p| p.as_bytes() == offer).copied());
    let mut response =
        Response::new(101).header("Upgrade", Bytes::from_static(b"websocket")).header("Sec-WebSocket-Accept", Bytes::from(accept_key(key)));
    if let Some(p) = protocol {
        response = response.header("Sec-WebSocket-Protocol", Bytes::from_static(p.as_bytes()));
    }
    Ok(Accepted { protocol, response })
}

/// `Sec-WebSocket-Accept` for a client key: base64(SHA-1(key ‖ GUID)).
pub fn accept_key(key: &[u8]) -> String {
    let mut h = sha1_smol::Sha1::new();
    h.update(key);
    h.update(GUID);
    base64(&h.digest().bytes())
}

/// A key is the base64 of 16 bytes: 22 alphabet characters and `==`.
fn valid_key(k: &[u8]) -> bool {
    k.len() == 24 && k[22..] == *b"==" && k[..22].iter().all(|b| b.is_ascii_alphanumeric() || *b == b'+' || *b == b'/')
}

fn has_token(value: &[u8], token: &[u8]) -> bool {
    value.split(|&b| b == b',').any(|t| t.trim_ascii().eq_ignore_ascii_case(token))
}

fn base64(data: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut s = String::with_capacity(data.len().div_ceil(3) * 4);
    for c in data.chunks(3) {
        let n = (u32::from(c[0]) << 16) | (u32::from(*c.get(1).unwrap_or(&0)) << 8) | u32::from(*c.get(2).unwrap_or(&0));
        for i in 0..4 {
            if i <= c.len() {
                s.push(char::from(A[(n >> (18 - 6 * i)) as usize & 63]));
            } else {
                s.push('=');
            }
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http1::{Conn, Limits};
    use std::time::Instant;

    fn req(extra: &str) -> Request {
        let mut c = Conn::new(Limits::default(), Instant::now());
        let raw = format!("GET /v1/ws HTTP/1.1\r\nHost: x\r\n{extra}\r\n");
        c.recv(raw.as_bytes(), Instant::now());
        c.poll_request().expect("a request").1
    }

    const OK: &str = "Upgrade: websocket\r\nConnection: keep-alive, Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n";

    #[test]
    fn rfc_example_key() {
        assert_eq!(accept_key(b"dGhlIHNhbXBsZSBub25jZQ=="), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
        assert_eq!(base64(b"f"), "Zg==");
        assert_eq!(base64(b"fo"), "Zm8=");
        assert_eq!(base64(b"foo"), "Zm9v");
    }

    #[test]
    fn accepts_and_negotiates() {
        let origins = vec!["https://app.example".to_string()];
        let p = Policy { origins: &origins, protocols: &["hypercube.v1"] };
        let r = req(&format!("{OK}Sec-WebSocket-Protocol: chat, hypercube.v1\r\nOrigin: https://APP.example\r\n"));
        let a = accept(&r, &p).unwrap();
        assert_eq!(a.protocol, Some("hypercube.v1"));
        assert_eq!(a.response.status, 101);
        let r = req(OK);
        assert_eq!(accept(&r, &p).unwrap().protocol, None);
    }

    #[test]
    fn refusals() {
        let origins = vec!["https://app.example".to_string()];
        let p = Policy { origins: &origins, protocols: &[] };
        let status = |extra: &str| accept(&req(extra), &p).err().map(|e| e.status);
        assert_eq!(status(&format!("{OK}Origin: https://evil.example\r\n")), Some(403));
        assert_eq!(status(&OK.replace("13", "8")), Some(426));
        assert_eq!(status(&OK.replace("dGhlIHNhbXBsZSBub25jZQ==", "short")), Some(400));
        assert_eq!(status(&OK.replace("Connection: keep-alive, Upgrade", "Connection: keep-alive")), Some(400));
        assert_eq!(status("Connection: upgrade\r\n"), Some(400));
    }
}
