//! Protocol upgrade: nothing after an upgrade request is parsed as HTTP; a `101` hands the
//! rest of the input over; any other answer resumes HTTP.

use super::*;
use crate::http1::Conn;

const UPGRADE: &[u8] = b"GET /v1/ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n";
/// Bytes of the next protocol, which would be a 400 if parsed as HTTP.
const AFTER: &[u8] = b"\x81\x85\x00\x00\x00\x00hello\x00\xff";

#[test]
fn switch_at_every_split() {
    let mut all = UPGRADE.to_vec();
    all.extend_from_slice(AFTER);
    for cut in 0..=all.len() {
        let now = Instant::now();
        let mut c = Conn::new(Limits::default(), now);
        c.recv(&all[..cut], now);
        let mut got = c.poll_request();
        c.recv(&all[cut..], now);
        if got.is_none() {
            got = c.poll_request();
        }
        let (id, req) = got.expect("upgrade request");
        assert_eq!(req.path(), b"/v1/ws");
        assert!(c.poll_request().is_none() && !c.wants_read(), "cut {cut}: paused after the upgrade request");
        assert!(c.take_error().is_none());
        c.respond(id, Response::new(101).header("Upgrade", "websocket"), now).unwrap();
        assert!(!c.is_upgraded(), "the 101 is not written yet");
        let out = String::from_utf8(c.transmit().to_vec()).unwrap();
        assert!(out.starts_with("HTTP/1.1 101 Switching Protocols\r\n"), "{out}");
        assert!(out.contains("Connection: upgrade\r\n") && out.contains("Upgrade: websocket\r\n"), "{out}");
        assert!(!out.contains("Content-Length"), "{out}");
        let n = c.transmit().len();
        c.consume(n);
        assert!(c.is_upgraded() && !c.is_closed() && !c.wants_read());
        assert_eq!(c.deadline(), None);
        assert_eq!(&c.take_upgraded_input()[..], AFTER, "cut {cut}");
    }
}

#[test]
fn refused_upgrade_resumes_http() {
    let now = Instant::now();
    let mut c = Conn::new(Limits::default(), now);
    let mut all = UPGRADE.to_vec();
    all.extend_from_slice(b"GET /next HTTP/1.1\r\nHost: x\r\n\r\n");
    c.recv(&all, now);
    let (id, _) = c.poll_request().unwrap();
    assert!(c.poll_request().is_none());
    c.respond(id, Response::text(400, "no"), now).unwrap();
    let (id2, req) = c.poll_request().expect("parsing resumed");
    assert_eq!(req.path(), b"/next");
    c.respond(id2, Response::text(200, "ok"), now).unwrap();
    assert!(!c.is_upgraded());
    let out = String::from_utf8(c.transmit().to_vec()).unwrap();
    assert!(out.starts_with("HTTP/1.1 400") && out.contains("HTTP/1.1 200"), "{out}");
}

#[test]
fn upgrade_header_on_post_or_with_close_is_plain_http() {
    let now = Instant::now();
    let mut c = Conn::new(Limits::default(), now);
    c.recv(b"POST /x HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nContent-Length: 0\r\n\r\nGET /y HTTP/1.1\r\nHost: x\r\n\r\n", now);
    assert!(c.poll_request().is_some() && c.poll_request().is_some(), "POST does not pause");
}
