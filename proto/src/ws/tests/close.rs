//! Every way a connection closes, and the code it closes with.

use super::*;

/// Feed `bytes` to a fresh connection (in one piece and cut at every offset) and check
/// that it fails with `code`, stops reading, and closes after the close timeout.
fn fails_with(bytes: &[u8], code: u16, limits: Limits) {
    for cut in 0..=bytes.len() {
        let mut h = Harness::new(limits.clone());
        h.feed(&bytes[..cut]);
        h.feed(&bytes[cut..]);
        assert_eq!(h.sent_close(), Some(code), "cut {cut}: {:?}", h.frames());
        assert_eq!(h.take_close(), Some(Close { code: CloseCode(code), by_peer: false }));
        assert_eq!(h.take_close(), None, "reported once");
        assert!(h.conn.wants_shutdown_write());
        h.feed(&cf(true, 1, b"ignored"));
        assert!(h.msgs.iter().all(|m| *m != text("ignored")));
        assert!(!h.conn.is_closed());
        h.advance(limits.close_timeout);
        assert!(h.conn.is_closed());
    }
}

#[test]
fn protocol_errors_close_1002() {
    let l = Limits::default();
    let mut unmasked = cf(true, 1, b"hi");
    unmasked[1] &= 0x7F;
    fails_with(&unmasked[..2], 1002, l.clone());
    fails_with(&[0xC1, 0x80, 0, 0, 0, 0], 1002, l.clone()); // RSV1 without an extension
    fails_with(&cf(true, 3, b""), 1002, l.clone()); // reserved opcode
    fails_with(&cf(true, 0xB, b""), 1002, l.clone()); // reserved control opcode
    fails_with(&cf(true, 0, b"x"), 1002, l.clone()); // continuation of nothing
    let mut two = cf(false, 1, b"a");
    two.extend(cf(true, 1, b"b"));
    fails_with(&two, 1002, l.clone()); // new message inside a fragmented one
    fails_with(&cf(false, 9, b""), 1002, l.clone()); // fragmented ping
    fails_with(&cf(true, 9, &[0; 126]), 1002, l.clone()); // ping over 125 bytes
    fails_with(&cf(true, 8, &[3]), 1002, l.clone()); // 1-byte close payload
    for bad in [0u16, 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000] {
        fails_with(&close_frame(bad, b""), 1002, l.clone());
    }
}

#[test]
fn messages_before_an_error_are_delivered_before_the_close() {
    let mut s = cf(true, 1, b"first");
    s.extend(cf(true, 9, b"p"));
    s.extend([0xC1, 0x80, 0, 0, 0, 0]); // RSV1
    s.extend(cf(true, 1, b"after the error"));
    let mut h = Harness::new(Limits::default());
    h.conn.recv(&s, h.now);
    assert!(!h.conn.wants_read(), "nothing more is read");
    let m = h.conn.poll_message().expect("the message before the error");
    h.conn.send(&m); // the reply goes out before the close
    assert_eq!(h.conn.poll_message(), None);
    h.drain();
    assert_eq!(h.frames(), vec![(10, b"p".to_vec()), (1, b"first".to_vec()), (8, 1002u16.to_be_bytes().to_vec())]);
    assert!(h.conn.wants_shutdown_write());
}

#[test]
fn invalid_utf8_closes_1007() {
    let l = Limits::default();
    fails_with(&cf(true, 1, b"\xce\xba\xe1\xbd"), 1007, l.clone()); // truncated at the end
    fails_with(&cf(true, 1, b"a\xffb"), 1007, l.clone());
    fails_with(&cf(true, 1, b"\xed\xa0\x80"), 1007, l.clone()); // a surrogate
    fails_with(&close_frame(1000, b"\xff"), 1007, l.clone());
    // Fail fast: the bad fragment fails before the message ends.
    let mut s = cf(false, 1, "ok".as_bytes());
    s.extend(cf(false, 0, b"\xf4\x90\x80\x80"));
    fails_with(&s, 1007, l.clone());
    // A code point cut across fragments is fine, cut at the final fragment is not.
    let mut s = cf(false, 1, b"\xe2\x82");
    s.extend(cf(true, 0, b"\xac"));
    let mut h = Harness::new(l.clone());
    h.feed(&s);
    assert_eq!(h.msgs, vec![text("€")]);
    let mut s = cf(false, 1, b"a");
    s.extend(cf(true, 0, b"\xe2\x82"));
    fails_with(&s, 1007, l);
}

#[test]
fn invalid_utf8_fails_before_the_frame_is_complete() {
    // Autobahn 6.4.3/6.4.4: the invalid bytes arrive, the rest of the frame never does.
    let text = "κόσμε\u{10FFFF}".as_bytes().to_vec();
    for (first, second) in [
        (&b"\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5"[..], &b"\xf4\x90\x80\x80"[..]),
        (&b"\xce\xba\xe1"[..], &b"\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xf4\x90\x80\x80"[..]),
    ] {
        let mut payload = first.to_vec();
        payload.extend_from_slice(second);
        payload.extend_from_slice(b"edited-and-more-bytes-that-never-come");
        let frame = cf(true, 1, &payload);
        let hdr = frame.len() - payload.len();
        let cut = hdr + first.len() + second.len();
        for step in 1..=cut {
            // Deliver the frame up to the invalid bytes in pieces of `step` bytes.
            let mut h = Harness::new(Limits::default());
            for piece in frame[..cut].chunks(step) {
                h.feed(piece);
            }
            assert_eq!(h.sent_close(), Some(1007), "step {step}");
        }
    }
    // Valid text split anywhere, fragments included, is not failed early.
    let mut s = cf(false, 1, &text[..3]);
    s.extend(cf(true, 0, &text[3..]));
    for cut in 0..s.len() {
        let mut h = Harness::new(Limits::default());
        h.feed(&s[..cut]);
        assert_eq!(h.sent_close(), None, "cut {cut}");
        h.feed(&s[cut..]);
        assert_eq!(h.msgs, vec![Message::Text(bytes::Bytes::from(text.clone()))]);
    }
    // A code point split between a fragment and a continuation still arriving.
    let mut s = cf(false, 1, b"a\xf0\x9f");
    let c = cf(true, 0, b"\x98\x80 and \xff");
    s.extend_from_slice(&c[..c.len() - 1]);
    let mut h = Harness::new(Limits::default());
    for b in &s {
        h.feed(std::slice::from_ref(b));
    }
    assert_eq!(h.sent_close(), None, "valid so far");
    h.feed(&c[c.len() - 1..]);
    assert_eq!(h.sent_close(), Some(1007));
}

#[test]
fn too_big_closes_1009() {
    let l = Limits { max_frame: 100, max_message: 150, ..Limits::default() };
    fails_with(&cf(true, 2, &[0; 101])[..4], 1009, l.clone()); // only the header is needed
    let mut s = cf(false, 2, &[0; 100]);
    s.extend(cf(false, 0, &[0; 40]));
    s.extend(cf(true, 0, &[0; 11]));
    fails_with(&s, 1009, l.clone());
    let mut h = Harness::new(l);
    h.feed(&cf(true, 2, &[1; 100]));
    assert_eq!(h.msgs.len(), 1);
}

#[test]
fn peer_close_is_echoed() {
    for (frame, echo, code) in [
        (close_frame(1000, b""), Some(1000u16), 1000u16),
        (close_frame(4000, b"app"), Some(4000), 4000),
        (close_frame(1001, b"gone"), Some(1001), 1001),
        (cf(true, 8, b""), None, 1005),
    ] {
        let mut h = Harness::new(Limits::default());
        h.feed(&frame);
        let sent: Vec<u8> = echo.map(|c| c.to_be_bytes().to_vec()).unwrap_or_default();
        assert_eq!(h.frames(), vec![(8, sent)]);
        assert!(h.conn.is_closed() && !h.conn.wants_read());
        assert_eq!(h.take_close(), Some(Close { code: CloseCode(code), by_peer: true }));
    }
}

#[test]
fn our_close_waits_for_the_peer_or_the_timeout() {
    for code in [CloseCode::POLICY, CloseCode::TRY_AGAIN, CloseCode::GOING_AWAY, CloseCode::INTERNAL] {
        let mut h = Harness::new(Limits::default());
        h.conn.close(code, "bye", h.now);
        h.drain();
        assert_eq!(h.sent_close(), Some(code.0));
        assert_eq!(h.frames()[0].1[2..], *b"bye");
        h.conn.send_text("not sent after close");
        h.feed(&cf(true, 1, b"discarded"));
        h.feed(&cf(true, 9, b"no pong after close"));
        assert!(h.msgs.is_empty());
        assert_eq!(h.frames().len(), 1);
        assert!(!h.conn.is_closed());
        h.feed(&close_frame(1000, b""));
        assert!(h.conn.is_closed());
        assert_eq!(h.take_close(), Some(Close { code, by_peer: false }));
    }
    let mut h = Harness::new(Limits::default());
    h.conn.close(CloseCode::NORMAL, &"é".repeat(100), h.now); // reason cut to ≤ 123 bytes
    h.drain();
    assert!(h.frames()[0].1.len() <= 125);
    h.advance(Limits::default().close_timeout);
    assert!(h.conn.is_closed());
}

#[test]
fn close_timeout_drops_unsent_output_of_a_stalled_peer() {
    let mut h = Harness::new(Limits::default());
    h.conn.send_text(&"x".repeat(10_000));
    h.conn.close(CloseCode::TRY_AGAIN, "send queue full", h.now);
    assert!(!h.conn.transmit().is_empty(), "nothing written: the peer does not read");
    h.now += Limits::default().close_timeout;
    h.conn.handle_timeout(h.now);
    assert!(h.conn.is_closed() && h.conn.transmit().is_empty());
    assert_eq!(h.take_close(), Some(Close { code: CloseCode::TRY_AGAIN, by_peer: false }));
    let mut h = Harness::new(Limits::default());
    h.conn.send_text("unsent");
    h.conn.abort();
    assert!(h.conn.is_closed() && !h.conn.wants_read());
    assert_eq!(h.take_close(), Some(Close { code: CloseCode::ABNORMAL, by_peer: true }));
}

#[test]
fn keepalive_ping_then_idle_close_1001() {
    let l = Limits { ping_interval: Duration::from_secs(10), idle_timeout: Duration::from_secs(25), ..Limits::default() };
    let mut h = Harness::new(l);
    assert_eq!(h.conn.deadline(), Some(h.now + Duration::from_secs(10)));
    h.advance(Duration::from_secs(9));
    assert!(h.out.is_empty(), "no ping before the interval");
    h.advance(Duration::from_secs(1));
    assert_eq!(h.frames(), vec![(9, vec![])]);
    h.feed(&cf(true, 10, b"")); // the pong resets the clock
    h.advance(Duration::from_secs(10));
    assert_eq!(h.frames().len(), 2, "pinged again after another silent interval");
    h.advance(Duration::from_secs(15));
    assert_eq!(h.sent_close(), Some(1001));
    assert_eq!(h.take_close(), Some(Close { code: CloseCode::GOING_AWAY, by_peer: false }));
}

#[test]
fn eof_is_abnormal_closure() {
    let mut h = Harness::new(Limits::default());
    h.feed(&cf(false, 1, b"partial"));
    h.conn.peer_closed(h.now);
    assert!(h.conn.is_closed());
    assert!(h.msgs.is_empty());
    assert_eq!(h.take_close(), Some(Close { code: CloseCode::ABNORMAL, by_peer: true }));
}
