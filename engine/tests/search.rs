//! `engine::search` against a brute-force scan with `four_pillars`, and pagination.
use engine::arch::{self, Kernel};
use engine::calendar::DateTime;
use engine::search::{search, Clock, Pattern, PillarPattern, Run, Scan};
use engine::{BirthInput, Calendar, Options, TimeBasis, ZiConvention, Zone};

fn brute(scan: &Scan, keep: impl Fn(&engine::FourPillars) -> bool) -> Vec<Run> {
    let mut runs: Vec<Run> = Vec::new();
    for k in 0..scan.points {
        let t = scan.instant(k);
        let (time, off) = match scan.clock {
            Clock::Offset(o) => (TimeBasis::Offset(o / 60), o),
            Clock::Zone(z) => (TimeBasis::Zone(z), z.offset_at(t * 1000)),
        };
        let l = DateTime::from_ms(t * 1000 + i64::from(off) * 1000);
        let input = BirthInput {
            year: l.year,
            month: l.month,
            day: l.day,
            hour: l.hour,
            minute: l.minute,
            second: l.second,
            time,
            longitude: None,
            calendar: Calendar::Solar,
            gender: None,
        };
        let opts = Options { zi: scan.zi, transition: engine::TransitionPolicy::Later, ..Options::default() };
        let fp = engine::four_pillars(&input, &opts).unwrap();
        if !keep(&fp) {
            continue;
        }
        match runs.last_mut() {
            Some(r) if r.last + 1 == k && r.pillars == fp => r.last = k,
            _ => runs.push(Run { first: k, last: k, pillars: fp }),
        }
    }
    runs
}

#[test]
fn search_equals_brute_force_and_pages_concatenate() {
    // 甲子 day, hour branch 午, day stem ten god 正財/偏財 (bits 4, 5) for day master 庚 (6),
    // day branch not clashing with 午 (6).
    let pattern = Pattern {
        day: PillarPattern { ten_gods: Some(0b11_0000), no_clash_with: Some(6), ..Default::default() },
        hour: PillarPattern { branch: Some(6), ..Default::default() },
        day_master: Some(6),
        ..Default::default()
    };
    let keep = |fp: &engine::FourPillars| {
        let dg = engine::chart::tables::TenGod::of(6, fp.day.stem()).0;
        fp.hour.branch() == 6 && (dg == 4 || dg == 5) && (fp.day.branch() + 12 - 6) % 12 != 6
    };
    for (clock, zi, start, step, points) in [
        (Clock::Offset(32_400), ZiConvention::Split, 1_700_000_000, 600, 20_000u64),
        (Clock::Zone(Zone::AsiaSeoul), ZiConvention::DayChangesAt23, -700_000_000, 1800, 12_000),
        (Clock::Offset(-18_000), ZiConvention::Midnight, 0, 60, 9000),
    ] {
        let scan = Scan { start_utc_s: start, step_s: step, points, clock, zi };
        let want = brute(&scan, keep);
        assert!(!want.is_empty());
        for k in Kernel::available() {
            let all = search(k, &scan, &pattern, 0, usize::MAX).unwrap();
            assert_eq!(all.runs, want, "{}", k.name());
            assert_eq!(all.next, None);
            // Pages of 3 concatenate to the whole.
            let (mut from, mut got) = (0, Vec::new());
            loop {
                let page = search(k, &scan, &pattern, from, 3).unwrap();
                assert!(page.runs.len() <= 3);
                got.extend(page.runs);
                match page.next {
                    Some(n) => from = n,
                    None => break,
                }
            }
            assert_eq!(got, want, "{} pages", k.name());
            // Resumable in slices of one chunk: the same page.
            let mut s = engine::search::Searcher::new(scan, &pattern, 0, 5).unwrap();
            let page = loop {
                if let Some(p) = s.step(k, 1) {
                    break p;
                }
            };
            assert_eq!(page, search(k, &scan, &pattern, 0, 5).unwrap(), "{} resumable", k.name());
        }
    }
    let _ = arch::active();
}

#[test]
fn search_rejects_out_of_range_and_bad_step() {
    let p = Pattern::default();
    let scan = Scan { start_utc_s: 4_165_000_000, step_s: 86_400, points: 100, clock: Clock::Offset(0), zi: ZiConvention::Split };
    assert!(search(Kernel::scalar(), &scan, &p, 0, 10).is_err());
    let scan = Scan { step_s: 0, start_utc_s: 0, ..scan };
    assert!(search(Kernel::scalar(), &scan, &p, 0, 10).is_err());
}
