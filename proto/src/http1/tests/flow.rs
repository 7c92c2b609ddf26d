//! Pipelining, backpressure, ordering, HEAD, 100-continue, shutdown, EOF, serializer.

use super::super::{Limits, Method, ProtoError, RespondError, Response};
use super::{error_response, run, text_200, Harness};

const GET1: &[u8] = b"GET /1 HTTP/1.1\r\nHost: a\r\n\r\n";
const GET2: &[u8] = b"GET /2 HTTP/1.1\r\nHost: a\r\n\r\n";
const GET3: &[u8] = b"GET /3 HTTP/1.1\r\nHost: a\r\n\r\n";
const GET4: &[u8] = b"GET /4 HTTP/1.1\r\nHost: a\r\n\r\n";
const CONTINUE: &str = "HTTP/1.1 100 Continue\r\n\r\n";

#[test]
fn max_pipelined_backpressure() {
    let mut h = Harness::new(Limits { max_pipelined: 2, ..Limits::default() });
    h.feed(&[GET1, GET2, GET3, GET4].concat());
    assert!(!h.conn.wants_read(), "paused at max_pipelined");
    assert_eq!(h.conn.in_flight(), 2);
    let (a, ra) = h.conn.poll_request().expect("1");
    let (b, _) = h.conn.poll_request().expect("2");
    assert!(h.conn.poll_request().is_none(), "third not parsed while paused");
    assert_eq!(ra.target(), b"/1");
    h.conn.respond(b, Response::text(200, "2"), h.now).expect("respond");
    assert!(h.conn.poll_request().is_none(), "slot 1 still owed: still paused");
    h.conn.respond(a, Response::text(200, "1"), h.now).expect("respond");
    let (c, rc) = h.conn.poll_request().expect("3 after resume");
    let (d, rd) = h.conn.poll_request().expect("4 after resume");
    assert_eq!((rc.target(), rd.target()), (&b"/3"[..], &b"/4"[..]));
    assert!(!h.conn.wants_read());
    h.conn.respond(c, Response::text(200, "3"), h.now).expect("respond");
    h.conn.respond(d, Response::text(200, "4"), h.now).expect("respond");
    assert!(h.conn.wants_read());
    h.drain();
    let want: String = ["1", "2", "3", "4"].iter().map(|b| text_200(b, None)).collect();
    assert_eq!(h.out_str(), want);
    assert!(h.conn.is_idle());
}

#[test]
fn out_of_order_respond_is_written_in_order() {
    let mut h = Harness::new(Limits::default());
    h.feed(&[GET1, GET2, GET3].concat());
    let ids: Vec<_> = std::iter::from_fn(|| h.conn.poll_request().map(|(id, _)| id)).collect();
    assert_eq!(ids.len(), 3);
    assert!(ids[0] < ids[1] && ids[1] < ids[2]);
    h.conn.respond(ids[2], Response::text(200, "c"), h.now).expect("respond");
    h.conn.respond(ids[1], Response::text(200, "b"), h.now).expect("respond");
    assert!(h.conn.transmit().is_empty());
    assert_eq!(h.conn.in_flight(), 3);
    h.conn.respond(ids[0], Response::text(200, "a"), h.now).expect("respond");
    assert_eq!(h.conn.in_flight(), 0);
    h.drain();
    assert_eq!(h.out_str(), text_200("a", None) + &text_200("b", None) + &text_200("c", None));
    assert_eq!(h.conn.respond(ids[0], Response::new(200), h.now), Err(RespondError::UnknownRequest));
}

#[test]
fn respond_misuse_is_reported() {
    let mut h = Harness::new(Limits::default());
    h.feed(&[GET1, GET2].concat());
    let (a, _) = h.conn.poll_request().expect("1");
    let (b, _) = h.conn.poll_request().expect("2");
    h.conn.respond(b, Response::new(204), h.now).expect("respond");
    assert_eq!(h.conn.respond(b, Response::new(204), h.now), Err(RespondError::AlreadyAnswered));
    h.conn.respond(a, Response::new(204), h.now).expect("respond");
    assert_eq!(h.conn.respond(a, Response::new(204), h.now), Err(RespondError::UnknownRequest));
}

#[test]
fn head_keeps_content_length_and_drops_body() {
    let mut h = Harness::new(Limits::default());
    h.feed(b"HEAD /x HTTP/1.1\r\nHost: a\r\n\r\n");
    let (id, req) = h.conn.poll_request().expect("head");
    assert_eq!(req.method, Method::Head);
    h.conn.respond(id, Response::json(200, "{\"a\":1}"), h.now).expect("respond");
    h.drain();
    assert_eq!(h.out_str(), "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 7\r\n\r\n");
}

#[test]
fn expect_continue_sent_before_the_body() {
    let mut h = Harness::new(Limits::default());
    h.feed(b"POST /up HTTP/1.1\r\nHost: a\r\nExpect: 100-Continue\r\nContent-Length: 3\r\n\r\n");
    assert_eq!(String::from_utf8_lossy(h.conn.transmit()), CONTINUE);
    assert!(h.conn.poll_request().is_none());
    h.recv_pump(b"abc");
    assert_eq!(h.out_str(), format!("{CONTINUE}{}", text_200("POST /up abc", None)));
}

#[test]
fn expect_continue_chunked() {
    let mut h = Harness::new(Limits::default());
    h.feed(b"POST /up HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nTransfer-Encoding: chunked\r\n\r\n");
    assert_eq!(String::from_utf8_lossy(h.conn.transmit()), CONTINUE);
    h.recv_pump(b"3\r\nabc\r\n0\r\n\r\n");
    assert_eq!(h.seen[0].body, b"abc");
}

#[test]
fn expect_continue_too_large_is_413_without_reading_the_body() {
    let l = Limits { max_body: 4, ..Limits::default() };
    let mut h = Harness::new(l);
    h.recv_pump(b"POST /up HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n");
    assert_eq!(h.out_str(), error_response(ProtoError::BodyTooLarge));
    assert!(h.conn.is_closed());
    assert!(!h.out_str().contains("100 Continue"));
}

#[test]
fn expect_continue_waits_for_earlier_responses() {
    let mut h = Harness::new(Limits::default());
    h.feed(GET1);
    h.feed(b"POST /up HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n");
    assert!(h.conn.transmit().is_empty(), "100 must not overtake the response to /1");
    assert_eq!(h.conn.deadline(), None, "the client waits for us: no body timer yet");
    let (id, _) = h.conn.poll_request().expect("1");
    h.at(50.0);
    h.conn.respond(id, Response::text(200, "one"), h.now).expect("respond");
    assert_eq!(String::from_utf8_lossy(h.conn.transmit()), text_200("one", None) + CONTINUE);
    let body_timeout = Limits::default().body_timeout;
    assert_eq!(h.conn.deadline(), Some(h.now + body_timeout), "body timer from the 100");
}

#[test]
fn expect_continue_ignored_on_http10() {
    let (_, out, _) = run(&Limits::default(), &[b"POST / HTTP/1.0\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n", b"hi"]);
    assert!(!String::from_utf8_lossy(&out).contains("100 Continue"));
}

#[test]
fn connection_close_from_client() {
    let mut h = Harness::new(Limits::default());
    h.recv_pump(&[b"GET /1 HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n".as_slice(), GET2].concat());
    assert_eq!(h.seen.len(), 1, "nothing after Connection: close is read");
    assert_eq!(h.out_str(), text_200("GET /1 ", Some("close")));
    assert!(h.conn.is_closed());
    assert_eq!(h.conn.take_error(), None);
}

#[test]
fn http10_without_keep_alive_closes() {
    let (seen, out, closed) = run(&Limits::default(), &[b"GET / HTTP/1.0\r\n\r\n"]);
    assert_eq!(seen.len(), 1);
    assert_eq!(String::from_utf8_lossy(&out), text_200("GET / ", Some("close")));
    assert!(closed);
}

#[test]
fn shutdown_while_idle_closes_now() {
    let mut h = Harness::new(Limits::default());
    h.recv_pump(GET1);
    assert!(h.conn.is_idle());
    h.conn.start_shutdown();
    assert!(h.conn.is_closed());
    assert!(!h.conn.wants_read());
}

#[test]
fn shutdown_with_requests_in_flight_drains() {
    let mut h = Harness::new(Limits::default());
    h.feed(&[GET1, GET2, b"GET /partial".as_slice()].concat());
    let (a, _) = h.conn.poll_request().expect("1");
    let (b, _) = h.conn.poll_request().expect("2");
    h.conn.start_shutdown();
    assert!(!h.conn.is_closed() && !h.conn.wants_read());
    h.conn.respond(b, Response::text(200, "b"), h.now).expect("respond");
    h.conn.respond(a, Response::text(200, "a"), h.now).expect("respond");
    assert!(!h.conn.is_closed(), "output not flushed yet");
    h.drain();
    assert_eq!(h.out_str(), text_200("a", None) + &text_200("b", Some("close")));
    assert!(h.conn.is_closed());
}

#[test]
fn shutdown_mid_body_finishes_that_request() {
    let mut h = Harness::new(Limits::default());
    h.feed(b"POST /up HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\n\r\nab");
    h.conn.start_shutdown();
    assert!(!h.conn.is_closed());
    h.recv_pump(&[b"cd".as_slice(), GET1].concat());
    assert_eq!(h.seen.len(), 1, "nothing new after the drained request");
    assert_eq!(h.out_str(), text_200("POST /up abcd", Some("close")));
    assert!(h.conn.is_closed());
}

#[test]
fn peer_closed_answers_in_flight_then_closes() {
    let mut h = Harness::new(Limits::default());
    h.feed(&[GET1, b"GET /half".as_slice()].concat());
    h.conn.peer_closed(h.now);
    assert!(!h.conn.wants_read());
    assert!(!h.conn.is_closed());
    h.pump();
    assert_eq!(h.seen.len(), 1, "the partial request is dropped");
    assert_eq!(h.out_str(), text_200("GET /1 ", Some("close")));
    assert!(h.conn.is_closed());
    assert_eq!(h.conn.take_error(), None);
}

#[test]
fn peer_closed_while_paused_still_answers_buffered_requests() {
    let mut h = Harness::new(Limits { max_pipelined: 1, ..Limits::default() });
    h.feed(&[GET1, GET2, GET3].concat());
    h.conn.peer_closed(h.now);
    h.pump();
    assert_eq!(h.seen.len(), 3);
    assert_eq!(h.out_str(), text_200("GET /1 ", None) + &text_200("GET /2 ", None) + &text_200("GET /3 ", Some("close")));
    assert!(h.conn.is_closed());
}

#[test]
fn peer_closed_when_idle_closes() {
    let mut h = Harness::new(Limits::default());
    h.conn.peer_closed(h.now);
    assert!(h.conn.is_closed());
}

#[test]
fn request_accessors() {
    let mut h = Harness::new(Limits::default());
    h.feed(b"PURGE /a/b?c=d&e HTTP/1.1\r\nHost: x\r\nX-Multi: 1\r\nx-multi:  2 \r\n\r\n");
    let (_, r) = h.conn.poll_request().expect("request");
    assert_eq!(r.method, Method::Other(bytes::Bytes::from_static(b"PURGE")));
    assert_eq!(r.method.as_bytes(), b"PURGE");
    assert_eq!(r.path(), b"/a/b");
    assert_eq!(r.query(), Some(&b"c=d&e"[..]));
    assert_eq!(r.header("HOST"), Some(&b"x"[..]));
    assert_eq!(r.headers_named("x-multi").collect::<Vec<_>>(), [&b"1"[..], &b"2"[..]]);
    assert_eq!(r.header("missing"), None);
    assert_eq!(r.header_count(), 3);
}

#[test]
fn serializer_rules() {
    let mut h = Harness::new(Limits::default());
    h.feed(&[GET1, GET2, GET3, GET4].concat());
    let ids: Vec<_> = std::iter::from_fn(|| h.conn.poll_request().map(|(id, _)| id)).collect();
    let now = h.now;
    // 204: no Content-Length; framing headers from the handler are ignored.
    let r = Response::new(204)
        .header("Content-Length", "99")
        .header("Connection", "upgrade")
        .header("Transfer-Encoding", "chunked")
        .header("date", "Fri, 27 Nov 2026 17:00:00 GMT");
    h.conn.respond(ids[0], r, now).expect("respond");
    // Invalid header fields are dropped, not allowed to split the response.
    let r = Response::new(404).header("X-Evil", "a\r\nSet-Cookie: x").header("Bad Name", "v").header("X-Ok", "1");
    h.conn.respond(ids[1], r, now).expect("respond");
    // Uncommon and out-of-range statuses.
    h.conn.respond(ids[2], Response::new(299), now).expect("respond");
    h.conn.respond(ids[3], Response::new(42), now).expect("respond");
    h.drain();
    assert_eq!(
        h.out_str(),
        "HTTP/1.1 204 No Content\r\ndate: Fri, 27 Nov 2026 17:00:00 GMT\r\n\r\n\
HTTP/1.1 404 Not Found\r\nX-Ok: 1\r\nContent-Length: 0\r\n\r\n\
HTTP/1.1 299 \r\nContent-Length: 0\r\n\r\n\
HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\n\r\n"
    );
}

#[test]
fn partial_consume_keeps_order() {
    let mut h = Harness::new(Limits::default());
    h.feed(GET1);
    let (a, _) = h.conn.poll_request().expect("1");
    h.conn.respond(a, Response::text(200, "first"), h.now).expect("respond");
    let first = h.conn.transmit().to_vec();
    h.conn.consume(5);
    h.feed(GET2);
    let (b, _) = h.conn.poll_request().expect("2");
    h.conn.respond(b, Response::text(200, "second"), h.now).expect("respond");
    let mut all = first[..5].to_vec();
    all.extend_from_slice(h.conn.transmit());
    assert_eq!(String::from_utf8_lossy(&all), text_200("first", None) + &text_200("second", None));
}

#[test]
fn leading_empty_lines_are_ignored() {
    let (seen, _, _) = run(&Limits::default(), &[b"\r\n\r\n\n", GET1]);
    assert_eq!(seen.len(), 1);
}

#[test]
fn idle_connection_keeps_no_input_buffer() {
    // Idle keep-alive connections are most of a large server's connections: between requests
    // the connection must not hold on to a receive buffer.
    let mut h = Harness::new(Limits::default());
    h.feed(GET1);
    let (id, req) = h.conn.poll_request().expect("request");
    assert_eq!(h.conn.input_capacity(), 0, "nothing left in the input buffer");
    drop(req);
    h.conn.respond(id, Response::text(200, "ok"), h.now).expect("respond");
    h.feed(&GET2[..10]);
    assert!(h.conn.input_capacity() >= 10, "a partial request is kept");
    h.feed(&GET2[10..]);
    assert!(h.conn.poll_request().is_some());
    assert_eq!(h.conn.input_capacity(), 0);
}
