//! Every error path: exact status and JSON body, `Connection: close`, closed after
//! the flush, error reported once, earlier pipelined requests answered first.

use super::super::{Limits, ProtoError};
use super::{error_response, run, text_200, Harness};

fn req(head_tail: &str, body: &str) -> Vec<u8> {
    format!("POST /x HTTP/1.1\r\nHost: a\r\n{head_tail}\r\n{body}").into_bytes()
}

fn check(limits: &Limits, input: &[u8], want: ProtoError) {
    let mut h = Harness::new(limits.clone());
    h.recv_pump(input);
    assert_eq!(h.out_str(), error_response(want), "input {:?}", String::from_utf8_lossy(input));
    assert!(h.conn.is_closed(), "closed after flush: {input:?}");
    assert!(!h.conn.wants_read());
    assert_eq!(h.conn.take_error(), Some(want));
    assert_eq!(h.conn.take_error(), None, "reported once");
    assert!(h.seen.is_empty());
    assert_eq!(h.conn.deadline(), None);
    // Whatever comes next is ignored.
    h.recv_pump(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n");
    assert!(h.seen.is_empty() && h.conn.is_closed());
}

#[test]
fn framing_errors() {
    use ProtoError::*;
    let l = Limits::default();
    let cases: Vec<(Vec<u8>, ProtoError)> = vec![
        (req("Content-Length: 5\r\nTransfer-Encoding: chunked\r\n", "hello"), ContentLengthAndTransferEncoding),
        (req("Transfer-Encoding: chunked\r\nContent-Length: 5\r\n", "hello"), ContentLengthAndTransferEncoding),
        (req("Content-Length: 5\r\nContent-Length: 6\r\n", "hello"), ConflictingContentLength),
        (req("Content-Length: 5, 6\r\n", "hello"), ConflictingContentLength),
        (req("Content-Length: +5\r\n", "hello"), InvalidContentLength),
        (req("Content-Length: -1\r\n", ""), InvalidContentLength),
        (req("Content-Length: 0x5\r\n", "hello"), InvalidContentLength),
        (req("Content-Length: 5 5\r\n", "hello"), InvalidContentLength),
        (req("Content-Length:\r\n", ""), InvalidContentLength),
        (req("Content-Length: 99999999999999999999999999\r\n", ""), BodyTooLarge),
        (req("Transfer-Encoding: gzip, chunked\r\n", "0\r\n\r\n"), UnsupportedTransferEncoding),
        (req("Transfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n", "0\r\n\r\n"), UnsupportedTransferEncoding),
        (req("Transfer-Encoding: chunked, gzip\r\n", "0\r\n\r\n"), BadTransferEncoding),
        (req("Transfer-Encoding: identity\r\n", ""), BadTransferEncoding),
        (req("Transfer-Encoding: chunked, chunked\r\n", "0\r\n\r\n"), BadTransferEncoding),
        (b"POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n".to_vec(), BadTransferEncoding),
        (req("Transfer-Encoding: chunked\r\n", "zz\r\n"), BadChunk),
        (req("Transfer-Encoding: chunked\r\n", "\r\n"), BadChunk),
        (req("Transfer-Encoding: chunked\r\n", "5\r\nhelloXY"), BadChunk),
        (req("Transfer-Encoding: chunked\r\n", "5\nhello\r\n0\r\n\r\n"), BadChunk),
        (req("Transfer-Encoding: chunked\r\n", "5 x\r\nhello\r\n"), BadChunk),
        (req("Transfer-Encoding: chunked\r\n", "10000000000000000\r\n"), BadChunk),
        (req("Transfer-Encoding: chunked\r\n", "0\r\nno colon here\r\n\r\n"), BadChunk),
        (req("Transfer-Encoding: chunked\r\n", "ffffffffffffffff\r\n"), BodyTooLarge),
        (req("Content-Length: 1048577\r\n", ""), BodyTooLarge),
        (req("Expect: teapot\r\nContent-Length: 1\r\n", "x"), ExpectationFailed),
        (b"GET / HTTP/1.1\r\n\r\n".to_vec(), BadHost),
        (b"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n".to_vec(), BadHost),
    ];
    for (input, want) in cases {
        check(&l, &input, want);
    }
}

#[test]
fn syntax_and_version_errors() {
    use ProtoError::*;
    let l = Limits::default();
    check(&l, b"GET / HTTP/1.1\r\nHost a\r\n\r\n", BadHead);
    check(&l, b"GET / HTTP/1.1\r\nHost : a\r\n\r\n", BadHead);
    check(&l, b"GET / HTTP/1.1\r\nHost: a\r\n folded\r\n\r\n", BadHead);
    check(&l, b"GET  / HTTP/1.1\r\nHost: a\r\n\r\n", BadHead);
    check(&l, b"GET /a b HTTP/1.1\r\nHost: a\r\n\r\n", BadVersion);
    check(&l, b"G(T / HTTP/1.1\r\nHost: a\r\n\r\n", BadHead);
    check(&l, b"GET / HTTP/1.2\r\nHost: a\r\n\r\n", BadVersion);
    check(&l, b"GET / FTP/1.1\r\n\r\n", BadVersion);
    check(&l, b"GET / HTTP/2.0\r\nHost: a\r\n\r\n", VersionNotSupported);
    check(&l, b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", VersionNotSupported);
    // TLS ClientHello on a plain port: rejected on the first read, no terminator needed.
    check(&l, b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", BadHead);
}

#[test]
fn size_limits() {
    use ProtoError::*;
    let l = Limits { max_head: 256, max_headers: 4, max_body: 10, ..Limits::default() };
    // Head never terminated and over the limit.
    let big = format!("GET /{} HTTP/1.1\r\n", "a".repeat(300));
    check(&l, big.as_bytes(), HeadTooLarge);
    // Complete head, but over the limit.
    let big = format!("GET / HTTP/1.1\r\nHost: a\r\nX: {}\r\n\r\n", "b".repeat(300));
    check(&l, big.as_bytes(), HeadTooLarge);
    check(&l, b"GET / HTTP/1.1\r\nHost: a\r\nA: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\n\r\n", TooManyHeaders);
    check(&l, &req("Content-Length: 11\r\n", "hello world"), BodyTooLarge);
    // Chunks that add up past max_body.
    check(&l, &req("Transfer-Encoding: chunked\r\n", "6\r\nhello \r\n5\r\nworld\r\n0\r\n\r\n"), BodyTooLarge);
    // Trailers count against max_head.
    let trailers = format!("0\r\nX: {}\r\n\r\n", "t".repeat(300));
    check(&l, &req("Transfer-Encoding: chunked\r\n", &trailers), HeadTooLarge);
    // Exactly at the limits is fine.
    let (seen, _, closed) = run(&l, &[&req("Content-Length: 10\r\n", "0123456789")]);
    assert_eq!(seen[0].body, b"0123456789");
    assert!(!closed);
    let (seen, _, _) = run(&l, &[b"GET / HTTP/1.1\r\nHost: a\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n"]);
    assert_eq!(seen.len(), 1);
}

#[test]
fn byte_by_byte_errors_match_whole() {
    let l = Limits { max_head: 256, ..Limits::default() };
    let inputs: Vec<Vec<u8>> = vec![
        req("Content-Length: 5\r\nContent-Length: 6\r\n", "hello"),
        req("Transfer-Encoding: chunked\r\n", "5\r\nhelloXY"),
        format!("GET /{} HTTP/1.1\r\n", "a".repeat(300)).into_bytes(),
        b"GET / HTTP/1.1\r\nHost a\r\n\r\n".to_vec(),
    ];
    for input in inputs {
        let whole = run(&l, &[&input]);
        let chunks: Vec<&[u8]> = input.chunks(1).collect();
        assert_eq!(run(&l, &chunks), whole, "{:?}", String::from_utf8_lossy(&input));
    }
}

#[test]
fn good_requests_before_a_bad_one_are_answered_first() {
    let l = Limits::default();
    let input =
        b"GET /1 HTTP/1.1\r\nHost: a\r\n\r\nGET /2 HTTP/1.1\r\nHost: a\r\n\r\nGET /3 HTTP/1.1\r\nHost: a\r\nContent-Length: x\r\n\r\n";
    let mut h = Harness::new(l);
    h.feed(input);
    let (id1, _) = h.conn.poll_request().expect("first");
    let (id2, _) = h.conn.poll_request().expect("second");
    assert!(h.conn.poll_request().is_none());
    assert!(h.conn.transmit().is_empty(), "the 400 waits for the earlier responses");
    assert_eq!(h.conn.take_error(), Some(ProtoError::InvalidContentLength));
    h.conn.respond(id2, super::super::Response::text(200, "two"), h.now).expect("respond");
    assert!(h.conn.transmit().is_empty());
    h.conn.respond(id1, super::super::Response::text(200, "one"), h.now).expect("respond");
    h.drain();
    let want = text_200("one", None) + &text_200("two", None) + &error_response(ProtoError::InvalidContentLength);
    assert_eq!(h.out_str(), want);
    assert!(h.conn.is_closed());
}

#[test]
fn closed_only_after_the_error_is_flushed() {
    let mut h = Harness::new(Limits::default());
    h.feed(b"BAD\r\n\r\n");
    assert!(!h.conn.is_closed(), "error response still unsent");
    let n = h.conn.transmit().len();
    h.conn.consume(n - 1);
    assert!(!h.conn.is_closed());
    h.conn.consume(1);
    assert!(h.conn.is_closed());
}
