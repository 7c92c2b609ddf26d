//! Property tests: arbitrary frames and bytes, cut anywhere, never panic, only ever deliver
//! valid UTF-8 text, and give the same messages and output however they are cut.

use std::time::Duration;

use proptest::prelude::*;

use super::*;

/// A client frame: valid, or with a random opcode/flags/mask, or raw bytes.
fn piece() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        4 => (any::<bool>(), prop::sample::select(vec![0u8, 1, 2, 8, 9, 10]), prop::collection::vec(any::<u8>(), 0..300), any::<[u8; 4]>())
            .prop_map(|(fin, op, p, m)| client_frame(fin, op, &p, m)),
        2 => (any::<bool>(), 0u8..16, "[a-zé가]{0,40}").prop_map(|(fin, op, s)| client_frame(fin, op, s.as_bytes(), MASK)),
        1 => prop::collection::vec(any::<u8>(), 0..20),
    ]
}

fn limits() -> Limits {
    Limits { max_frame: 200, max_message: 400, ..Limits::default() }
}

/// Feed `bytes` in the given cuts (1 ms apart if `tick`); returns the messages and the output.
fn run(bytes: &[u8], cuts: &[usize], tick: bool) -> (Vec<Message>, Vec<u8>) {
    let mut h = Harness::new(limits());
    let mut at = 0;
    for &c in cuts.iter().chain(std::iter::once(&bytes.len())) {
        let c = c.min(bytes.len()).max(at);
        h.feed(&bytes[at..c]);
        at = c;
        if tick {
            h.advance(Duration::from_millis(1));
        }
    }
    (h.msgs, h.out)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn any_input_any_cuts(frames in prop::collection::vec(piece(), 0..12), cuts in prop::collection::vec(0usize..4000, 0..8)) {
        let bytes = frames.concat();
        let mut cuts = cuts;
        cuts.sort_unstable();
        let whole = run(&bytes, &[], false);
        let split = run(&bytes, &cuts, true);
        prop_assert_eq!(&whole.0, &split.0, "messages depend on the cuts");
        for m in &whole.0 {
            if let Message::Text(t) = m {
                prop_assert!(std::str::from_utf8(t).is_ok());
            }
        }
        // The ticking run advances 1 ms per cut, far from any timer: same output too.
        prop_assert_eq!(whole.1, split.1);
    }
}
