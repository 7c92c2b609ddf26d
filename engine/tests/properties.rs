//! Property tests: stem/branch parity, the month-stem rule, the 60-day period of the day pillar,
//! the lunar round trip, and hour/zi conventions.

use engine::calendar::{civil_from_days, days_from_civil};
use engine::ganzhi::{month_ganzhi, GanZhi};
use engine::{four_pillars, lunar_to_solar, solar_to_lunar, BirthInput, Calendar, Options, TimeBasis, ZiConvention};
use proptest::prelude::*;

fn input(day_number: i64, secs: u32, offset: i32) -> BirthInput {
    let (year, month, day) = civil_from_days(day_number);
    BirthInput {
        year,
        month,
        day,
        hour: u8::try_from(secs / 3600).unwrap(),
        minute: u8::try_from(secs / 60 % 60).unwrap(),
        second: u8::try_from(secs % 60).unwrap(),
        time: TimeBasis::Offset(offset),
        longitude: None,
        calendar: Calendar::Solar,
        gender: None,
    }
}

fn days() -> impl Strategy<Value = i64> {
    days_from_civil(1900, 1, 2)..days_from_civil(2100, 12, 30)
}

proptest! {
    #[test]
    fn pillars_have_matching_parity_and_month_rule(z in days(), secs in 0u32..86_400, off in -720i32..=840) {
        let p = four_pillars(&input(z, secs, off), &Options::default()).unwrap();
        for g in [p.year, p.month, p.day, p.hour] {
            prop_assert!(g.0 < 60);
            prop_assert_eq!(g.stem() % 2, g.branch() % 2);
        }
        prop_assert_eq!(p.month, month_ganzhi(p.year.stem(), p.month.branch()));
        // 寅 month stem = 2·(year stem mod 5) + 2.
        let yin = p.month.shift(-i64::from((p.month.branch() + 10) % 12));
        prop_assert_eq!(yin.branch(), 2);
        prop_assert_eq!(yin.stem(), (2 * (p.year.stem() % 5) + 2) % 10);
    }

    #[test]
    fn day_pillar_has_period_60(z in days_from_civil(1900, 1, 2)..days_from_civil(2100, 10, 1), secs in 0u32..82_800) {
        let o = Options::default();
        let a = four_pillars(&input(z, secs, 540), &o).unwrap();
        let b = four_pillars(&input(z + 60, secs, 540), &o).unwrap();
        let c = four_pillars(&input(z + 1, secs, 540), &o).unwrap();
        prop_assert_eq!(a.day, b.day);
        prop_assert_eq!(a.hour, b.hour);
        prop_assert_eq!(c.day, a.day.shift(1));
    }

    #[test]
    fn zi_conventions_agree_outside_23h(z in days(), secs in 0u32..82_800) {
        let base = four_pillars(&input(z, secs, 540), &Options::default()).unwrap();
        for zi in [ZiConvention::DayChangesAt23, ZiConvention::Midnight] {
            let p = four_pillars(&input(z, secs, 540), &Options { zi, ..Options::default() }).unwrap();
            prop_assert_eq!(p, base);
        }
    }

    #[test]
    fn zi_conventions_at_23h(z in days(), secs in 82_800u32..86_400) {
        let run = |zi| four_pillars(&input(z, secs, 540), &Options { zi, ..Options::default() }).unwrap();
        let (split, at23, mid) = (run(ZiConvention::Split), run(ZiConvention::DayChangesAt23), run(ZiConvention::Midnight));
        prop_assert_eq!(at23.day, split.day.shift(1));
        prop_assert_eq!(split.hour, at23.hour);
        prop_assert_eq!(mid.day, split.day);
        prop_assert_eq!(mid.hour.branch(), 0);
        prop_assert_eq!(mid.hour.stem(), (2 * (split.day.stem() % 5)) % 10);
    }

    #[test]
    fn lunar_round_trip(z in days_from_civil(1900, 1, 1)..=days_from_civil(2100, 12, 31)) {
        let (y, m, d) = civil_from_days(z);
        let l = solar_to_lunar(y, m, d).unwrap();
        prop_assert_eq!(lunar_to_solar(l).unwrap(), (y, m, d));
        let next = solar_to_lunar(civil_from_days(z + 1).0, civil_from_days(z + 1).1, civil_from_days(z + 1).2);
        if let Ok(n) = next {
            prop_assert!(n > l || (n.day == 1 && (n.month != l.month || n.leap != l.leap)));
        }
    }

    #[test]
    fn ganzhi_parts_round_trip(i in 0u8..60) {
        let g = GanZhi(i);
        prop_assert_eq!(GanZhi::from_parts(g.stem(), g.branch()), g);
        prop_assert_eq!(GanZhi::parse_hanja(&g.hanja()), Some(g));
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    /// Any input whatsoever gives a chart or an error — never a panic.
    #[test]
    fn never_panics(
        year in prop_oneof![1890i32..2110, any::<i32>()],
        month in 0u8..15, day in 0u8..33, hour in 0u8..26, minute in 0u8..62, second in 0u8..62,
        offset in prop_oneof![-1200i32..1200, any::<i32>()],
        zone in any::<bool>(),
        lon in prop_oneof![Just(None), (-200.0f64..200.0).prop_map(Some), Just(Some(f64::NAN)), Just(Some(f64::INFINITY))],
        lunar in 0u8..3, male in any::<bool>(), zi in 0u8..3, st in 0u8..3, tr in 0u8..3,
        luck_year in prop_oneof![Just(None), (1800i32..2200).prop_map(Some)],
    ) {
        use engine::{Gender, SolarTime, TransitionPolicy, Zone};
        let input = BirthInput {
            year, month, day, hour, minute, second,
            time: if zone { TimeBasis::Zone(Zone::AsiaSeoul) } else { TimeBasis::Offset(offset) },
            longitude: lon,
            calendar: match lunar { 0 => Calendar::Solar, 1 => Calendar::Lunar { leap: false }, _ => Calendar::Lunar { leap: true } },
            gender: Some(if male { Gender::Male } else { Gender::Female }),
        };
        let opts = Options {
            zi: [ZiConvention::Split, ZiConvention::DayChangesAt23, ZiConvention::Midnight][usize::from(zi)],
            solar_time: [SolarTime::Civil, SolarTime::LocalMean, SolarTime::Apparent][usize::from(st)],
            luck_year,
            transition: [TransitionPolicy::Reject, TransitionPolicy::Earlier, TransitionPolicy::Later][usize::from(tr)],
        };
        match engine::Chart::compute(&input, &opts) {
            Ok(c) => prop_assert_eq!(c.four_pillars, four_pillars(&input, &opts).unwrap()),
            Err(e) => prop_assert!(!e.to_string().is_empty() && !e.field().is_empty()),
        }
    }

    /// Arbitrary CSV lines give a row or a line-numbered error — never a panic.
    #[test]
    fn csv_never_panics(line in "[0-9T:,. -]{0,60}", mode in 0u8..4) {
        use engine::csv::{CsvJob, Mode};
        let (mode, header) = [
            (Mode::Pillars, "local_datetime,utc_offset_min,longitude_deg"),
            (Mode::Full, "local_datetime,gender,utc_offset_min"),
            (Mode::Lunar, "solar_date"),
            (Mode::LunarToSolar, "kr_lunar_year,kr_lunar_month,kr_lunar_day,kr_leap"),
        ][usize::from(mode)];
        let job = CsvJob::new(mode, header).unwrap();
        if let Err(e) = job.row(&line, 7) {
            prop_assert_eq!(e.line, 7);
        }
    }
}

proptest! {
    /// Consecutive solar terms are strictly increasing, 14–17 days apart, and the 節 lookup
    /// brackets every instant.
    #[test]
    fn term_instants_strictly_increasing(year in 1899i32..2101, k in 0usize..24, frac in 0.0f64..1.0) {
        use engine::astro::terms::{jie_after, jie_at_or_before, term_ms};
        let t = term_ms(year, k).unwrap();
        let next = if k == 23 { term_ms(year + 1, 0) } else { term_ms(year, k + 1) }.unwrap();
        prop_assert!(next > t);
        let gap_days = (next - t) as f64 / 86_400_000.0;
        prop_assert!((14.0..17.0).contains(&gap_days), "{} days", gap_days);
        #[allow(clippy::cast_possible_truncation)]
        let inside = t + ((next - t) as f64 * frac) as i64;
        if let (Some(a), Some(b)) = (jie_at_or_before(inside), jie_after(inside)) {
            prop_assert!(a.ms <= inside && inside < b.ms);
            prop_assert_eq!((a.month_branch() + 1) % 12, b.month_branch());
        }
    }
}
