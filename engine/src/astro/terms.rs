//! O(1) / O(log 12) lookups in the committed solar-term table.
//!
//! Terms are numbered within a Gregorian year from 0 = 小寒 (285°) to 23 = 冬至 (270°); even
//! numbers are the 12 節 (jie) that start the months, odd numbers the 中氣.

use super::terms_table::TERMS_MS;
use crate::calendar::{civil_from_days, MS_PER_DAY};

/// First Gregorian year in the table.
pub const FIRST_YEAR: i32 = 1899;
/// Last Gregorian year in the table.
pub const LAST_YEAR: i32 = 2101;

/// Names of the 24 terms, table order (小寒 first): hanja, hangul, romanization.
pub const TERM_NAMES: [(&str, &str, &str); 24] = [
    ("小寒", "소한", "sohan"),
    ("大寒", "대한", "daehan"),
    ("立春", "입춘", "ipchun"),
    ("雨水", "우수", "usu"),
    ("驚蟄", "경칩", "gyeongchip"),
    ("春分", "춘분", "chunbun"),
    ("淸明", "청명", "cheongmyeong"),
    ("穀雨", "곡우", "gogu"),
    ("立夏", "입하", "ipha"),
    ("小滿", "소만", "soman"),
    ("芒種", "망종", "mangjong"),
    ("夏至", "하지", "haji"),
    ("小暑", "소서", "soseo"),
    ("大暑", "대서", "daeseo"),
    ("立秋", "입추", "ipchu"),
    ("處暑", "처서", "cheoseo"),
    ("白露", "백로", "baengno"),
    ("秋分", "추분", "chubun"),
    ("寒露", "한로", "hallo"),
    ("霜降", "상강", "sanggang"),
    ("立冬", "입동", "ipdong"),
    ("小雪", "소설", "soseol"),
    ("大雪", "대설", "daeseol"),
    ("冬至", "동지", "dongji"),
];

/// Unix milliseconds (UT) of term `k` (0..24) of Gregorian `year`, if in the table.
#[must_use]
pub fn term_ms(year: i32, k: usize) -> Option<i64> {
    if !(FIRST_YEAR..=LAST_YEAR).contains(&year) || k >= 24 {
        return None;
    }
    let i = usize::try_from(year - FIRST_YEAR).ok()? * 24 + k;
    TERMS_MS.get(i).copied()
}

/// A 節 instant: Gregorian year, term number (even, 0..24) and Unix milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Jie {
    /// Gregorian year of the term.
    pub year: i32,
    /// Term number in that year (0 = 小寒, 2 = 立春, …, 22 = 大雪).
    pub k: usize,
    /// Instant, Unix milliseconds UT.
    pub ms: i64,
}

impl Jie {
    /// Earthly branch (0 = 子) of the month this 節 opens: 小寒 → 丑, 立春 → 寅, … 大雪 → 子.
    #[must_use]
    pub fn month_branch(&self) -> u8 {
        // k is even and < 24, so k / 2 + 1 fits in u8.
        #[allow(clippy::cast_possible_truncation)]
        let j = (self.k / 2 + 1) as u8;
        j % 12
    }

    fn prev(self) -> Option<Self> {
        let (year, k) = if self.k == 0 { (self.year - 1, 22) } else { (self.year, self.k - 2) };
        Some(Self { year, k, ms: term_ms(year, k)? })
    }

    fn next(self) -> Option<Self> {
        let (year, k) = if self.k == 22 { (self.year + 1, 0) } else { (self.year, self.k + 2) };
        Some(Self { year, k, ms: term_ms(year, k)? })
    }
}

/// The last 節 at or before `ms`, or `None` outside the table.
#[must_use]
pub fn jie_at_or_before(ms: i64) -> Option<Jie> {
    let (year, _, _) = civil_from_days(ms.div_euclid(MS_PER_DAY));
    // The 12 節 of `year` in increasing order; find the last one <= ms.
    let mut found = None;
    for k in (0..24).step_by(2) {
        let t = term_ms(year, k)?;
        if t <= ms {
            found = Some(Jie { year, k, ms: t });
        } else {
            break;
        }
    }
    match found {
        Some(j) => Some(j),
        None => {
            let k = 22;
            Some(Jie { year: year - 1, k, ms: term_ms(year - 1, k)? })
        }
    }
}

/// The first 節 strictly after `ms`.
#[must_use]
pub fn jie_after(ms: i64) -> Option<Jie> {
    jie_at_or_before(ms)?.next()
}

/// The 節 before `jie`.
#[must_use]
pub fn jie_before(jie: Jie) -> Option<Jie> {
    jie.prev()
}

/// The nearest of all 24 terms to `ms`: (year, k, instant ms).
#[must_use]
pub fn nearest_term(ms: i64) -> Option<(i32, usize, i64)> {
    let (year, _, _) = civil_from_days(ms.div_euclid(MS_PER_DAY));
    let mut best: Option<(i32, usize, i64)> = None;
    for y in [year - 1, year, year + 1] {
        for k in 0..24 {
            if let Some(t) = term_ms(y, k) {
                if best.is_none_or(|(_, _, b)| (t - ms).abs() < (b - ms).abs()) {
                    best = Some((y, k, t));
                }
            }
        }
    }
    best
}

/// The whole table: 24 terms per year 1899–2101, 小寒 first, Unix milliseconds. The batch
/// kernels (`crate::arch`) flatten its 節 into one sorted array.
pub(crate) fn all_terms_ms() -> &'static [i64] {
    &TERMS_MS
}
