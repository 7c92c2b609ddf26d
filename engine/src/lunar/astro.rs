//! The Korean lunar calendar computed astronomically, used past the end of KASI's published table
//! (2050) and checked against that table for 1912–2050 (`tests/lunar_astro.rs`).
//!
//! Rules (KASI's, as for the published years): dates are reckoned at UTC+9 (135°E); a month
//! starts on the day of the new moon; the month holding the winter solstice (冬至) is month 11;
//! in a solstice-to-solstice span with 13 months, the first month holding no principal term (中氣)
//! is the leap month and repeats the previous month's number.
//!
//! New moons: Meeus, *Astronomical Algorithms* ch. 49 (mean error a few seconds against ELP
//! 2000-82), converted to UT with this crate's ΔT. Principal terms: the solar-term table.

use crate::astro::{decimal_year, delta_t::delta_t, terms::term_ms, JD_UNIX_EPOCH};
use crate::calendar::MS_PER_DAY;

const KST_MS: i64 = 9 * 3_600_000;

/// (coefficient in days, multiples of E, M, M', F, Ω) of the new-moon periodic terms.
const PERIODIC: [(f64, u8, i8, i8, i8, i8); 25] = [
    (-0.40720, 0, 0, 1, 0, 0),
    (0.17241, 1, 1, 0, 0, 0),
    (0.01608, 0, 0, 2, 0, 0),
    (0.01039, 0, 0, 0, 2, 0),
    (0.00739, 1, -1, 1, 0, 0),
    (-0.00514, 1, 1, 1, 0, 0),
    (0.00208, 2, 2, 0, 0, 0),
    (-0.00111, 0, 0, 1, -2, 0),
    (-0.00057, 0, 0, 1, 2, 0),
    (0.00056, 1, 1, 2, 0, 0),
    (-0.00042, 0, 0, 3, 0, 0),
    (0.00042, 1, 1, 0, 2, 0),
    (0.00038, 1, 1, 0, -2, 0),
    (-0.00024, 1, -1, 2, 0, 0),
    (-0.00017, 0, 0, 0, 0, 1),
    (-0.00007, 0, 2, 1, 0, 0),
    (0.00004, 0, 0, 2, -2, 0),
    (0.00004, 0, 3, 0, 0, 0),
    (0.00003, 0, 1, 1, -2, 0),
    (0.00003, 0, 0, 2, 2, 0),
    (-0.00003, 0, 1, 1, 2, 0),
    (0.00003, 0, -1, 1, 2, 0),
    (-0.00002, 0, -1, 1, -2, 0),
    (-0.00002, 0, 1, 3, 0, 0),
    (0.00002, 0, 0, 4, 0, 0),
];

/// (coefficient in days, argument at k = 0 in degrees, rate per lunation) of the planetary terms.
const PLANETARY: [(f64, f64, f64); 14] = [
    (0.000325, 299.77, 0.107408),
    (0.000165, 251.88, 0.016321),
    (0.000164, 251.83, 26.651886),
    (0.000126, 349.42, 36.412478),
    (0.000110, 84.66, 18.206239),
    (0.000062, 141.74, 53.303771),
    (0.000060, 207.14, 2.453732),
    (0.000056, 154.84, 7.306860),
    (0.000047, 34.52, 27.261239),
    (0.000042, 207.19, 0.121824),
    (0.000040, 291.34, 1.844379),
    (0.000037, 161.72, 24.198154),
    (0.000035, 239.56, 25.513099),
    (0.000023, 331.55, 3.592518),
];

/// Julian Ephemeris Day (TT) of new moon number `k` (k = 0 is the new moon of 2000-01-06).
#[must_use]
pub fn new_moon_jde(k: i64) -> f64 {
    #[allow(clippy::cast_precision_loss)]
    let k = k as f64;
    let t = k / 1236.85;
    let (t2, t3, t4) = (t * t, t * t * t, t * t * t * t);
    let mut jde = 2_451_550.097_66 + 29.530_588_861 * k + 0.000_154_37 * t2 - 0.000_000_150 * t3 + 0.000_000_000_73 * t4;
    let e = 1.0 - 0.002_516 * t - 0.000_007_4 * t2;
    let m = (2.5534 + 29.105_356_70 * k - 0.000_001_4 * t2 - 0.000_000_11 * t3).to_radians();
    let mp = (201.5643 + 385.816_935_28 * k + 0.010_758_2 * t2 + 0.000_012_38 * t3 - 0.000_000_058 * t4).to_radians();
    let f = (160.7108 + 390.670_502_84 * k - 0.001_611_8 * t2 - 0.000_002_27 * t3 + 0.000_000_011 * t4).to_radians();
    let om = (124.7746 - 1.563_755_88 * k + 0.002_067_2 * t2 + 0.000_002_15 * t3).to_radians();
    for &(c, ep, cm, cmp, cf, co) in &PERIODIC {
        let arg = f64::from(cm) * m + f64::from(cmp) * mp + f64::from(cf) * f + f64::from(co) * om;
        jde += c * e.powi(i32::from(ep)) * arg.sin();
    }
    for (i, &(c, a0, rate)) in PLANETARY.iter().enumerate() {
        let quadratic = if i == 0 { -0.009_173 * t2 } else { 0.0 };
        jde += c * (a0 + rate * k + quadratic).to_radians().sin();
    }
    jde
}

/// Unix milliseconds (UT) of new moon `k`.
#[must_use]
#[allow(clippy::cast_possible_truncation)]
pub fn new_moon_ms(k: i64) -> i64 {
    let jde = new_moon_jde(k);
    let jd = jde - delta_t(decimal_year(jde)) / 86_400.0;
    ((jd - JD_UNIX_EPOCH) * MS_PER_DAY as f64).round() as i64
}

/// Korean (UTC+9) day number (days since 1970-01-01) of new moon `k`.
#[must_use]
pub fn new_moon_day(k: i64) -> i64 {
    (new_moon_ms(k) + KST_MS).div_euclid(MS_PER_DAY)
}

/// New moons and principal terms between Gregorian `from_year` and `to_year` that fall within
/// `window_ms` of a Korean (UTC+9) midnight: the dates a ΔT or ephemeris error of that size could
/// move. Returns (what, UTC+9 wall clock).
#[must_use]
pub fn near_midnight(from_year: i32, to_year: i32, window_ms: i64) -> Vec<(&'static str, crate::calendar::DateTime)> {
    use crate::calendar::{days_from_civil, DateTime};
    let near = |ms: i64| {
        let into = (ms + KST_MS).rem_euclid(MS_PER_DAY);
        into < window_ms || MS_PER_DAY - into < window_ms
    };
    let mut out = Vec::new();
    let lo = days_from_civil(from_year, 1, 1) * MS_PER_DAY;
    let hi = days_from_civil(to_year + 1, 1, 1) * MS_PER_DAY;
    #[allow(clippy::cast_possible_truncation, clippy::cast_precision_loss)]
    let mut k = ((lo / MS_PER_DAY - 10_962) as f64 / 29.530_588_861).floor() as i64 - 1;
    loop {
        let ms = new_moon_ms(k);
        if ms >= hi {
            break;
        }
        if ms >= lo && near(ms) {
            out.push(("new moon", DateTime::from_ms(ms + KST_MS)));
        }
        k += 1;
    }
    for y in from_year..=to_year {
        for t in (1..24).step_by(2) {
            if let Some(ms) = term_ms(y, t) {
                if near(ms) {
                    out.push(("principal term", DateTime::from_ms(ms + KST_MS)));
                }
            }
        }
    }
    out
}

/// Korean day number of principal term `k` (odd, 1 = 大寒 … 23 = 冬至) of Gregorian `year`.
fn zhongqi_day(year: i32, k: usize) -> Option<i64> {
    Some((term_ms(year, k)? + KST_MS).div_euclid(MS_PER_DAY))
}

/// One computed lunar month.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Month {
    /// Lunar year.
    pub year: i32,
    /// Month number 1–12.
    pub month: u8,
    /// Leap month.
    pub leap: bool,
    /// Korean day number of its first day.
    pub start: i64,
    /// 29 or 30.
    pub len: u8,
}

/// Every lunar month whose solstice-to-solstice span starts with the 冬至 of `from_year − 1`
/// and ends with the 冬至 of `to_year`, in order; `None` outside the term table.
#[must_use]
pub fn months(from_year: i32, to_year: i32) -> Option<Vec<Month>> {
    // New moons from well before the first solstice to well after the last one.
    let first = zhongqi_day(from_year - 1, 23)? - 40;
    #[allow(clippy::cast_possible_truncation)]
    let mut k = ((first - 10_962) as f64 / 29.530_588_861).floor() as i64; // 2000-01-06 = day 10962
    while new_moon_day(k) > first {
        k -= 1;
    }
    let last = zhongqi_day(to_year, 23)? + 70;
    let mut starts = Vec::new();
    loop {
        let d = new_moon_day(k);
        starts.push(d);
        k += 1;
        if d > last {
            break;
        }
    }
    // The principal-term days over the range.
    let zq: Vec<i64> = (from_year - 1..=to_year + 1).flat_map(|y| (1..24).step_by(2).filter_map(move |t| zhongqi_day(y, t))).collect();
    let holds_zq = |i: usize| zq.iter().any(|&d| d >= starts[i] && d < starts[i + 1]);
    let month_of = |day: i64| starts.iter().rposition(|&s| s <= day);
    let mut out: Vec<(u8, bool, i64, u8)> = Vec::new();
    for y in from_year - 1..to_year {
        let a = month_of(zhongqi_day(y, 23)?)?;
        let b = month_of(zhongqi_day(y + 1, 23)?)?;
        let mut leap_at = None;
        if b - a == 13 {
            leap_at = (a + 1..b).find(|&i| !holds_zq(i));
        }
        let mut number = 11u8;
        for i in a..b {
            let leap = Some(i) == leap_at;
            if i > a && !leap {
                number = number % 12 + 1;
            }
            let len = u8::try_from(starts[i + 1] - starts[i]).ok()?;
            out.push((number, leap, starts[i], len));
        }
    }
    // Assign lunar years: a year starts at each (non-leap) month 1.
    let mut year = from_year - 1;
    let mut result = Vec::new();
    for (month, leap, start, len) in out {
        if month == 1 && !leap {
            year += 1;
        }
        result.push(Month { year, month, leap, start, len });
    }
    Some(result)
}

/// A table row: (lunar year, new-year day number, leap month or 0, months, 30-day bit mask).
pub type YearRow = (i32, i32, u8, u8, u16);

/// Table rows for lunar years `from_year..=to_year`, in the format of the KASI table.
#[must_use]
pub fn year_rows(from_year: i32, to_year: i32) -> Option<Vec<YearRow>> {
    let all = months(from_year, to_year + 1)?;
    let mut rows = Vec::new();
    for y in from_year..=to_year {
        let ms: Vec<&Month> = all.iter().filter(|m| m.year == y).collect();
        let first = ms.first()?;
        let leap = ms.iter().find(|m| m.leap).map_or(0, |m| m.month);
        let bits = ms.iter().enumerate().fold(0u16, |b, (i, m)| b | (u16::from(m.len == 30) << i));
        rows.push((y, i32::try_from(first.start).ok()?, leap, u8::try_from(ms.len()).ok()?, bits));
    }
    Some(rows)
}
