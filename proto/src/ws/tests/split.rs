//! The same byte stream, cut at every offset (and byte by byte), gives the same messages
//! and the same output.

use super::*;

/// Frames exercising every length encoding, fragmentation with a code point straddling
/// fragments, control frames between fragments, and a closing handshake.
fn script() -> Vec<u8> {
    let mut s = Vec::new();
    s.extend(cf(true, 1, "hello".as_bytes()));
    s.extend(cf(false, 1, &"가나".as_bytes()[..4])); // "가" + first byte of "나"
    s.extend(cf(true, 9, b"ping!"));
    s.extend(cf(false, 0, &"가나".as_bytes()[4..]));
    s.extend(cf(true, 10, b"unsolicited pong"));
    s.extend(cf(true, 0, "다".as_bytes()));
    s.extend(cf(true, 2, &[7u8; 300]));
    s.extend(cf(true, 2, &[]));
    s.extend(cf(true, 1, &[]));
    s.extend(close_frame(1000, "bye ✓".as_bytes()));
    s
}

fn expected() -> (Vec<Message>, Vec<(u8, Vec<u8>)>) {
    let msgs = vec![text("hello"), text("가나다"), Message::Binary(vec![7u8; 300].into()), Message::Binary(bytes::Bytes::new()), text("")];
    let out = vec![(10, b"ping!".to_vec()), (8, 1000u16.to_be_bytes().to_vec())];
    (msgs, out)
}

fn check(h: &mut Harness, what: &str) {
    let (msgs, out) = expected();
    assert_eq!(h.msgs, msgs, "{what}");
    assert_eq!(h.frames(), out, "{what}");
    assert!(h.conn.is_closed(), "{what}");
    assert_eq!(h.take_close(), Some(Close { code: CloseCode::NORMAL, by_peer: true }), "{what}");
}

#[test]
fn every_two_way_split() {
    let s = script();
    for cut in 0..=s.len() {
        let mut h = Harness::new(Limits::default());
        h.feed(&s[..cut]);
        h.feed(&s[cut..]);
        check(&mut h, &format!("cut at {cut}"));
    }
}

#[test]
fn byte_by_byte() {
    let s = script();
    let mut h = Harness::new(Limits::default());
    for b in &s {
        assert!(h.conn.wants_read());
        h.feed(std::slice::from_ref(b));
    }
    check(&mut h, "byte by byte");
}

#[test]
fn every_three_way_split_of_a_fragmented_message() {
    let mut s = cf(false, 1, "αβ".as_bytes());
    s.extend(cf(false, 0, "γ".as_bytes()));
    s.extend(cf(true, 0, "δ".as_bytes()));
    for a in 0..=s.len() {
        for b in a..=s.len() {
            let mut h = Harness::new(Limits::default());
            h.feed(&s[..a]);
            h.feed(&s[a..b]);
            h.feed(&s[b..]);
            assert_eq!(h.msgs, vec![text("αβγδ")], "cuts {a} {b}");
            assert!(h.conn.is_idle(), "cuts {a} {b}");
        }
    }
}

#[test]
fn idle_connection_holds_no_buffers() {
    let mut h = Harness::new(Limits::default());
    h.feed(&cf(true, 1, b"x"));
    h.feed(&cf(true, 9, b"p"));
    assert!(h.conn.is_idle());
    h.conn.send_text("reply");
    h.drain();
    assert!(h.conn.is_idle());
    assert_eq!(h.frames(), vec![(10, b"p".to_vec()), (1, b"reply".to_vec())]);
}
