//! Property tests: arbitrary bytes, arbitrary splits, arbitrary answering never panic
//! and never grow buffers past their bounds.

use std::time::Duration;

use proptest::prelude::*;

use super::super::{Conn, Limits, Response};

/// Fragments that steer random input into the interesting parser states.
const FRAGMENTS: &[&[u8]] = &[
    b"GET / HTTP/1.1\r\n",
    b"POST /p HTTP/1.1\r\n",
    b"HEAD / HTTP/1.0\r\n",
    b"Host: a\r\n",
    b"Content-Length: 5\r\n",
    b"Content-Length: 99999999\r\n",
    b"Transfer-Encoding: chunked\r\n",
    b"Expect: 100-continue\r\n",
    b"Connection: close\r\n",
    b"Connection: keep-alive\r\n",
    b"\r\n",
    b"\n",
    b"5\r\nhello\r\n",
    b"0\r\n\r\n",
    b"ffffffffffffffffff\r\n",
    b"X: y\r\n",
    b"hello",
    b" ",
    b":",
    b";",
];

fn input() -> impl Strategy<Value = Vec<u8>> {
    let piece = prop_oneof![
        3 => prop::sample::select(FRAGMENTS).prop_map(<[u8]>::to_vec),
        1 => prop::collection::vec(any::<u8>(), 0..40),
    ];
    prop::collection::vec(piece, 0..40).prop_map(|v| v.concat())
}

#[derive(Debug, Clone)]
enum Step {
    /// Feed the next `n` bytes.
    Recv(usize),
    /// Answer the `k`-th oldest unanswered request (modulo).
    Respond(usize),
    /// Write `n` bytes.
    Write(usize),
    /// Advance the clock by `s` seconds and fire timers.
    Tick(u64),
    Shutdown,
    Eof,
}

fn steps() -> impl Strategy<Value = Vec<Step>> {
    let step = prop_oneof![
        6 => (1usize..64).prop_map(Step::Recv),
        3 => (0usize..4).prop_map(Step::Respond),
        2 => (0usize..200).prop_map(Step::Write),
        1 => (0u64..40).prop_map(Step::Tick),
        1 => Just(Step::Shutdown),
        1 => Just(Step::Eof),
    ];
    prop::collection::vec(step, 0..80)
}

fn small_limits() -> Limits {
    Limits {
        max_head: 128,
        max_headers: 8,
        max_body: 64,
        header_timeout: Duration::from_secs(10),
        body_timeout: Duration::from_secs(20),
        idle_timeout: Duration::from_secs(30),
        max_pipelined: 3,
    }
}

/// Largest serialized response in this test: a 3-byte body, or a JSON error, or 100.
const MAX_RESPONSE: usize = 256;

fn exercise(limits: Limits, data: &[u8], steps: &[Step], respect_wants_read: bool) {
    let base = std::time::Instant::now();
    let mut now = base;
    let mut conn = Conn::new(limits.clone(), now);
    let mut pending = Vec::new();
    let mut pos = 0;
    let mut answered = 0usize;
    for step in steps {
        match *step {
            Step::Recv(n) => {
                if respect_wants_read && !conn.wants_read() {
                    continue;
                }
                let end = (pos + n).min(data.len());
                conn.recv(&data[pos..end], now);
                pos = end;
            }
            Step::Respond(k) => {
                if !pending.is_empty() {
                    let id = pending.remove(k % pending.len());
                    conn.respond(id, Response::text(200, "abc"), now).expect("valid id");
                    answered += 1;
                }
            }
            Step::Write(n) => {
                let n = n.min(conn.transmit().len());
                conn.consume(n);
            }
            Step::Tick(s) => {
                now += Duration::from_secs(s);
                if conn.deadline().is_some_and(|d| d <= now) {
                    conn.handle_timeout(now);
                }
            }
            Step::Shutdown => conn.start_shutdown(),
            Step::Eof => conn.peer_closed(now),
        }
        while let Some((id, req)) = conn.poll_request() {
            assert!(req.body.len() <= limits.max_body);
            pending.push(id);
        }
        // Bounded memory, whatever the input.
        let (slots, ready) = conn.queued();
        assert!(slots <= limits.max_pipelined + 1, "slots {slots}");
        assert!(ready <= limits.max_pipelined);
        assert!(conn.buffered_input() <= conn.input_limit(), "input {}", conn.buffered_input());
        assert!(conn.transmit().len() <= (answered + 2) * MAX_RESPONSE, "output {} for {answered} answers", conn.transmit().len());
        assert!(conn.in_flight() >= pending.len());
        if let Some(d) = conn.deadline() {
            assert!(d >= base);
        }
        let _ = conn.take_error();
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2048, ..ProptestConfig::default() })]

    #[test]
    fn random_input_never_panics_and_stays_bounded(data in input(), steps in steps()) {
        exercise(small_limits(), &data, &steps, true);
        exercise(small_limits(), &data, &steps, false);
        exercise(Limits::default(), &data, &steps, true);
    }

    #[test]
    fn pure_noise_never_panics(data in prop::collection::vec(any::<u8>(), 0..600), cut in 0usize..600) {
        let base = std::time::Instant::now();
        let mut conn = Conn::new(small_limits(), base);
        let cut = cut.min(data.len());
        conn.recv(&data[..cut], base);
        conn.recv(&data[cut..], base);
        while let Some((id, _)) = conn.poll_request() {
            conn.respond(id, Response::new(200), base).expect("valid id");
        }
        prop_assert!(conn.buffered_input() <= conn.input_limit());
        conn.handle_timeout(base + Duration::from_secs(100));
        conn.peer_closed(base + Duration::from_secs(100));
    }
}
