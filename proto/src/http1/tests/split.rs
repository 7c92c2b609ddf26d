//! Every corpus request fed whole, split at every offset, and byte by byte must give
//! the same requests and the same output.

use proptest::prelude::*;

use super::super::{Limits, Version};
use super::{run, text_200};

const GET: &[u8] = b"GET /hello?x=1 HTTP/1.1\r\nHost: example.com\r\nUser-Agent: t/1\r\nAccept: */*\r\n\r\n";
const HEAD: &[u8] = b"HEAD /hello HTTP/1.1\r\nHost: a\r\n\r\n";
const POST_CL: &[u8] = b"POST /submit HTTP/1.1\r\nHost: a\r\nContent-Length: 11\r\n\r\nhello world";
const CHUNKED: &[u8] = b"POST /c HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n\
5;name=val\r\nhello\r\n6 ; ext ; x=\"q\"\r\n world\r\nA\r\n0123456789\r\n0\r\nX-Trailer: 1\r\nY: two\r\n\r\n";
const PIPELINED: &[u8] = b"GET /1 HTTP/1.1\r\nHost: a\r\n\r\n\
POST /2 HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc\
GET /3 HTTP/1.1\r\nHost: a\r\n\r\n";
const HTTP10_KA: &[u8] = b"GET /a HTTP/1.0\r\nConnection: keep-alive\r\n\r\nGET /b HTTP/1.0\r\n\r\n";
const EXPECT: &[u8] = b"POST /e HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\nping";

const CONTINUE: &str = "HTTP/1.1 100 Continue\r\n\r\n";

fn corpus() -> Vec<(&'static str, &'static [u8])> {
    vec![
        ("get", GET),
        ("head", HEAD),
        ("post_cl", POST_CL),
        ("chunked", CHUNKED),
        ("pipelined", PIPELINED),
        ("http10_keep_alive", HTTP10_KA),
        ("expect_continue", EXPECT),
    ]
}

/// `100 Continue` depends on where the split falls (it is only sent when the body has
/// not arrived yet), so it is removed before comparing.
fn strip_continue(out: &[u8]) -> String {
    String::from_utf8_lossy(out).replace(CONTINUE, "")
}

#[test]
fn whole_inputs_give_the_expected_output() {
    let l = Limits::default();
    let (seen, out, closed) = run(&l, &[GET]);
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].target, b"/hello?x=1");
    assert_eq!(seen[0].headers.len(), 3);
    assert_eq!(String::from_utf8_lossy(&out), text_200("GET /hello?x=1 ", None));
    assert!(!closed);

    let (_, out, _) = run(&l, &[HEAD]);
    let full = text_200("HEAD /hello ", None);
    let head_only = &full[..full.len() - "HEAD /hello ".len()];
    assert_eq!(String::from_utf8_lossy(&out), head_only, "HEAD keeps Content-Length, drops the body");

    let (seen, _, _) = run(&l, &[POST_CL]);
    assert_eq!(seen[0].body, b"hello world");

    let (seen, out, closed) = run(&l, &[CHUNKED]);
    assert_eq!(seen[0].body, b"hello world0123456789");
    assert!(seen[0].headers.iter().all(|(n, _)| n != b"X-Trailer"), "trailers are discarded");
    assert_eq!(String::from_utf8_lossy(&out), text_200("POST /c hello world0123456789", None));
    assert!(!closed);

    let (seen, out, closed) = run(&l, &[PIPELINED]);
    let targets: Vec<_> = seen.iter().map(|s| s.target.clone()).collect();
    assert_eq!(targets, [b"/1".to_vec(), b"/2".to_vec(), b"/3".to_vec()]);
    let want = text_200("GET /1 ", None) + &text_200("POST /2 abc", None) + &text_200("GET /3 ", None);
    assert_eq!(String::from_utf8_lossy(&out), want);
    assert!(!closed);

    let (seen, out, closed) = run(&l, &[HTTP10_KA]);
    assert_eq!(seen.len(), 2);
    assert_eq!(seen[0].version, Version::Http10);
    let want = text_200("GET /a ", Some("keep-alive")) + &text_200("GET /b ", Some("close"));
    assert_eq!(String::from_utf8_lossy(&out), want);
    assert!(closed, "HTTP/1.0 without keep-alive closes");

    let (seen, out, _) = run(&l, &[EXPECT]);
    assert_eq!(seen[0].body, b"ping");
    assert_eq!(String::from_utf8_lossy(&out), text_200("POST /e ping", None), "body arrived with the head: no 100");
    let (_, out, _) = run(&l, &[&EXPECT[..EXPECT.len() - 4], b"ping"]);
    assert_eq!(String::from_utf8_lossy(&out), format!("{CONTINUE}{}", text_200("POST /e ping", None)));
}

#[test]
fn every_split_offset_matches_whole() {
    let l = Limits::default();
    for (name, input) in corpus() {
        let (seen, out, closed) = run(&l, &[input]);
        assert!(!seen.is_empty(), "{name}");
        for i in 0..=input.len() {
            let (s2, o2, c2) = run(&l, &[&input[..i], &input[i..]]);
            assert_eq!(s2, seen, "{name} split at {i}");
            assert_eq!(strip_continue(&o2), strip_continue(&out), "{name} split at {i}");
            assert_eq!(c2, closed, "{name} split at {i}");
        }
    }
}

#[test]
fn byte_by_byte_matches_whole() {
    let l = Limits::default();
    for (name, input) in corpus() {
        let (seen, out, closed) = run(&l, &[input]);
        let chunks: Vec<&[u8]> = input.chunks(1).collect();
        let (s2, o2, c2) = run(&l, &chunks);
        assert_eq!(s2, seen, "{name}");
        assert_eq!(strip_continue(&o2), strip_continue(&out), "{name}");
        assert_eq!(c2, closed, "{name}");
    }
}

#[test]
fn whole_corpus_concatenated_splits_everywhere() {
    // All keep-alive items back to back on one connection, split at every offset.
    let l = Limits::default();
    let input: Vec<u8> = [GET, HEAD, POST_CL, CHUNKED, PIPELINED, EXPECT].concat();
    let (seen, out, _) = run(&l, &[&input]);
    assert_eq!(seen.len(), 8);
    for i in 0..=input.len() {
        let (s2, o2, _) = run(&l, &[&input[..i], &input[i..]]);
        assert_eq!(s2, seen, "split at {i}");
        assert_eq!(strip_continue(&o2), strip_continue(&out), "split at {i}");
    }
}

/// Malformed inputs: whatever follows them is never read.
const BAD: &[&[u8]] = &[
    b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nx",
    b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcX",
    b"GET / HTTP/1.1\r\nHost a\r\n\r\n",
    b"GET / HTTP/2.0\r\n\r\n",
];

fn sequence() -> impl Strategy<Value = Vec<u8>> {
    let good = prop::sample::select(vec![GET, HEAD, POST_CL, CHUNKED, PIPELINED, EXPECT]);
    let item = prop_oneof![6 => good, 1 => prop::sample::select(BAD.to_vec())];
    prop::collection::vec(item, 1..6).prop_map(|v| v.concat())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    /// Any sequence of requests (good ones, possibly ending at a bad one), cut at any
    /// handful of places, gives the same requests and output as fed whole.
    #[test]
    fn random_cuts_match_whole(input in sequence(), cuts in prop::collection::vec(any::<prop::sample::Index>(), 0..6)) {
        let l = Limits::default();
        let (seen, out, closed) = run(&l, &[&input]);
        let mut points: Vec<usize> = cuts.iter().map(|c| c.index(input.len() + 1)).collect();
        points.sort_unstable();
        let mut chunks = Vec::new();
        let mut prev = 0;
        for p in points {
            chunks.push(&input[prev..p]);
            prev = p;
        }
        chunks.push(&input[prev..]);
        let (s2, o2, c2) = run(&l, &chunks);
        prop_assert_eq!(s2, seen);
        prop_assert_eq!(strip_continue(&o2), strip_continue(&out));
        prop_assert_eq!(c2, closed);
    }
}
