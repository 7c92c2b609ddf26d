//! Deadlines with a simulated clock.

use std::time::Duration;

use super::super::{Limits, ProtoError, Response};
use super::{error_response, text_200, Harness};

const GET: &[u8] = b"GET / HTTP/1.1\r\nHost: a\r\n\r\n";

fn limits() -> Limits {
    Limits {
        header_timeout: Duration::from_secs(10),
        body_timeout: Duration::from_secs(30),
        idle_timeout: Duration::from_secs(60),
        ..Limits::default()
    }
}

#[test]
fn header_timeout_answers_408_and_closes() {
    let mut h = Harness::new(limits());
    h.at(1.0);
    h.feed(b"GET / HT");
    assert_eq!(h.conn.deadline(), Some(h.base + Duration::from_secs(11)));
    // More bytes do not extend it (slowloris).
    h.at(5.0);
    h.feed(b"TP/1.1\r\nHost");
    assert_eq!(h.conn.deadline(), Some(h.base + Duration::from_secs(11)));
    h.conn.handle_timeout(h.base + Duration::from_millis(10_999));
    assert!(h.conn.transmit().is_empty() && !h.conn.is_closed());
    h.tick(11.0);
    h.drain();
    assert_eq!(h.out_str(), error_response(ProtoError::HeaderTimeout));
    assert!(h.conn.is_closed());
    assert_eq!(h.conn.take_error(), Some(ProtoError::HeaderTimeout));
    assert_eq!(h.conn.deadline(), None);
}

#[test]
fn empty_lines_start_the_header_timer() {
    let mut h = Harness::new(limits());
    h.at(2.0);
    h.feed(b"\r\n");
    assert_eq!(h.conn.deadline(), Some(h.base + Duration::from_secs(12)));
}

#[test]
fn idle_keep_alive_closes_silently() {
    let mut h = Harness::new(limits());
    assert_eq!(h.conn.deadline(), Some(h.base + Duration::from_secs(60)), "idle from accept");
    assert!(h.conn.is_idle());
    h.at(5.0);
    h.feed(GET);
    assert_eq!(h.conn.deadline(), None, "in flight: the handler's time is not ours to bound");
    let (id, _) = h.conn.poll_request().expect("request");
    h.at(7.0);
    h.conn.respond(id, Response::text(200, "ok"), h.now).expect("respond");
    assert_eq!(h.conn.deadline(), None, "unsent output: the glue bounds writes");
    h.drain();
    assert!(h.conn.is_idle());
    assert_eq!(h.conn.deadline(), Some(h.base + Duration::from_secs(67)), "idle from the last response");
    h.tick(66.9);
    assert!(!h.conn.is_closed());
    let before = h.out.len();
    h.tick(67.0);
    assert!(h.conn.is_closed());
    assert!(h.conn.transmit().is_empty());
    assert_eq!(h.out.len(), before, "no 408 for an idle connection");
    assert_eq!(h.conn.take_error(), None, "idle close is not an error");
}

#[test]
fn body_timeout_answers_408() {
    let mut h = Harness::new(limits());
    h.at(1.0);
    h.feed(b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\n");
    h.at(2.0);
    h.feed(b"01234");
    assert_eq!(h.conn.deadline(), Some(h.base + Duration::from_secs(31)), "from the end of the head");
    h.tick(30.0);
    assert!(h.conn.transmit().is_empty());
    h.tick(31.0);
    h.drain();
    assert_eq!(h.out_str(), error_response(ProtoError::BodyTimeout));
    assert!(h.conn.is_closed());
    assert_eq!(h.conn.take_error(), Some(ProtoError::BodyTimeout));
}

#[test]
fn chunked_body_timeout() {
    let mut h = Harness::new(limits());
    h.feed(b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel");
    assert_eq!(h.conn.deadline(), Some(h.base + Duration::from_secs(30)));
    h.tick(30.0);
    h.drain();
    assert_eq!(h.out_str(), error_response(ProtoError::BodyTimeout));
}

#[test]
fn header_timeout_with_requests_in_flight_closes_without_408() {
    let mut h = Harness::new(limits());
    h.feed(GET);
    h.feed(b"GET /next HTTP/1.1\r\n");
    let (id, _) = h.conn.poll_request().expect("first");
    assert_eq!(h.conn.deadline(), Some(h.base + Duration::from_secs(10)));
    h.tick(10.0);
    assert!(!h.conn.wants_read());
    assert!(!h.conn.is_closed(), "the in-flight request is still answered");
    assert_eq!(h.conn.take_error(), Some(ProtoError::HeaderTimeout));
    h.conn.respond(id, Response::text(200, "ok"), h.now).expect("respond");
    h.drain();
    assert_eq!(h.out_str(), text_200("ok", Some("close")));
    assert!(h.conn.is_closed());
}

#[test]
fn no_timer_while_paused_and_timer_restarts_on_resume() {
    let l = Limits { max_pipelined: 1, ..limits() };
    let mut h = Harness::new(l);
    h.feed(GET);
    h.feed(b"GET /2 HT");
    assert!(!h.conn.wants_read());
    assert_eq!(h.conn.deadline(), None, "paused: buffered bytes are not timed");
    let (id, _) = h.conn.poll_request().expect("first");
    h.at(100.0);
    h.conn.respond(id, Response::text(200, "ok"), h.now).expect("respond");
    assert!(h.conn.wants_read());
    assert_eq!(h.conn.deadline(), Some(h.base + Duration::from_secs(110)), "head timer from resume");
}

#[test]
fn handle_timeout_before_deadline_is_a_no_op() {
    let mut h = Harness::new(limits());
    h.tick(59.0);
    assert!(!h.conn.is_closed());
    h.recv_pump(GET);
    assert_eq!(h.seen.len(), 1);
}

#[test]
fn huge_timeouts_mean_no_deadline() {
    let l = Limits { header_timeout: Duration::MAX, body_timeout: Duration::MAX, idle_timeout: Duration::MAX, ..Limits::default() };
    let mut h = Harness::new(l);
    assert_eq!(h.conn.deadline(), None);
    h.feed(b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n\r\n");
    assert_eq!(h.conn.deadline(), None);
    h.tick(1e9);
    h.recv_pump(b"ok");
    assert_eq!(h.seen.len(), 1);
}
