//! The Korean lunar calendar (음력) as published by KASI (한국천문연구원), extended
//! astronomically with KASI's rules.
//!
//! - Lunar years 1899–2049: a compact per-year table (`kr_table.rs`) generated from
//!   korean-lunar-calendar 0.4.0, which carries KASI's tables, by
//!   `engine/tools/kr-lunar/gen_table.js`; `engine/tools/kr-lunar/check.sh` re-checks every day
//!   1900-01-01..=2050-12-31 in both directions against that package.
//! - Lunar years 2050–2100: computed by [`astro`] (new moons and principal terms at UTC+9) into
//!   the committed `kr_ext_table.rs` (`examples/gen_kr_lunar_ext.rs`). The same computation
//!   reproduces KASI's table exactly for 1912–2049 and the published part of 2050
//!   (`tests/lunar_astro.rs`); before 1912 KASI follows the historical calendar of the time,
//!   which differs in month lengths in 7 of those 12 years, so the table is used there.
//!
//! Range: Gregorian 1900-01-01 ..= 2100-12-31 (from lunar 1899-12-01). Dates after 2050 that a
//! ~2 min ΔT error could move are listed at the top of `kr_ext_table.rs` (5 new moons or
//! principal terms within 2 min of midnight).
//!
//! The Korean calendar is reckoned at UTC+9 (135°E), the Chinese at UTC+8, so the two differ on
//! some months; this module is the Korean one.

pub mod astro;
mod kr_ext_table;
mod kr_table;

use crate::calendar::{civil_from_days, days_from_civil, days_in_month};
use crate::error::EngineError;
use kr_ext_table::YEARS_EXT;
use kr_table::YEARS;
use serde::Serialize;

/// First lunar year in the table.
const FIRST_YEAR: i32 = 1899;
/// First supported Gregorian date.
pub const MIN_SOLAR: (i32, u8, u8) = (1900, 1, 1);
/// Last supported Gregorian date.
pub const MAX_SOLAR: (i32, u8, u8) = (2100, 12, 31);
/// First lunar year taken from the astronomical extension (KASI's table ends within 2050).
const EXT_FIRST_YEAR: i32 = 2050;

/// A Korean lunar date.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct LunarDate {
    /// Lunar year (the Gregorian year in which its month 1 mostly falls).
    pub year: i32,
    /// Month 1–12.
    pub month: u8,
    /// Day 1–30.
    pub day: u8,
    /// Intercalary (leap) month, 윤달.
    pub leap: bool,
}

/// KASI's table rows from lunar year 1899: (day number of 1/1, leap month or 0, months, 30-day
/// bit mask); for checks and tools.
#[must_use]
pub fn kasi_rows() -> &'static [(i32, u8, u8, u16)] {
    &YEARS
}

struct YearInfo {
    new_year: i64,
    leap_month: u8,
    months: u8,
    long_bits: u16,
}

fn year_info(year: i32) -> Option<YearInfo> {
    let &(new_year, leap_month, months, long_bits) = if year >= EXT_FIRST_YEAR {
        YEARS_EXT.get(usize::try_from(year - EXT_FIRST_YEAR).ok()?)?
    } else {
        YEARS.get(usize::try_from(year.checked_sub(FIRST_YEAR)?).ok()?)?
    };
    Some(YearInfo { new_year: i64::from(new_year), leap_month, months, long_bits })
}

impl YearInfo {
    fn month_len(&self, j: u8) -> u8 {
        29 + u8::from(self.long_bits >> j & 1 == 1)
    }

    /// (month, leap) of the `j`-th month of the year (0-based, leap month in place).
    fn month_at(&self, j: u8) -> (u8, bool) {
        match self.leap_month {
            0 => (j + 1, false),
            l if j < l => (j + 1, false),
            l if j == l => (l, true),
            _ => (j, false),
        }
    }
}

fn solar_range() -> (i64, i64) {
    (days_from_civil(MIN_SOLAR.0, MIN_SOLAR.1, MIN_SOLAR.2), days_from_civil(MAX_SOLAR.0, MAX_SOLAR.1, MAX_SOLAR.2))
}

fn out_of_range(what: String) -> EngineError {
    EngineError::OutOfRange(format!("{what}: the Korean lunar calendar is supported for 1900-01-01..=2100-12-31"))
}

/// The Korean lunar date of a Gregorian date.
///
/// # Errors
/// [`EngineError::InvalidDateTime`] for a date that does not exist, [`EngineError::OutOfRange`]
/// outside 1900-01-01..=2100-12-31.
pub fn solar_to_lunar(year: i32, month: u8, day: u8) -> Result<LunarDate, EngineError> {
    if !(1..=12).contains(&month) || day == 0 || day > days_in_month(year, month) {
        return Err(EngineError::InvalidDateTime(format!("{year:04}-{month:02}-{day:02} is not a valid date")));
    }
    let z = days_from_civil(year, month, day);
    let (lo, hi) = solar_range();
    if z < lo || z > hi {
        return Err(out_of_range(format!("{year:04}-{month:02}-{day:02}")));
    }
    let lyear = if z >= i64::from(YEARS_EXT[0].0) {
        EXT_FIRST_YEAR + i32::try_from(YEARS_EXT.partition_point(|&(ny, ..)| i64::from(ny) <= z)).unwrap_or(0) - 1
    } else {
        FIRST_YEAR + i32::try_from(YEARS.partition_point(|&(ny, ..)| i64::from(ny) <= z)).unwrap_or(0) - 1
    };
    let info = year_info(lyear).ok_or_else(|| out_of_range(format!("{year:04}-{month:02}-{day:02}")))?;
    let mut offset = z - info.new_year;
    for j in 0..info.months {
        let len = i64::from(info.month_len(j));
        if offset < len {
            let (m, leap) = info.month_at(j);
            // offset < 30 here.
            #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
            let d = offset as u8 + 1;
            return Ok(LunarDate { year: lyear, month: m, day: d, leap });
        }
        offset -= len;
    }
    Err(out_of_range(format!("{year:04}-{month:02}-{day:02}")))
}

/// The Gregorian date of a Korean lunar date.
///
/// # Errors
/// [`EngineError::InvalidLunarDate`] (no such month or day, e.g. day 30 of a 29-day month),
/// [`EngineError::NoSuchLeapMonth`] (`leap` set but the year has no such leap month),
/// [`EngineError::OutOfRange`] outside the table.
pub fn lunar_to_solar(d: LunarDate) -> Result<(i32, u8, u8), EngineError> {
    let show = || format!("{:04}-{:02}-{:02}{}", d.year, d.month, d.day, if d.leap { " (leap)" } else { "" });
    if !(1..=12).contains(&d.month) || !(1..=30).contains(&d.day) {
        return Err(EngineError::InvalidLunarDate(show()));
    }
    let info = year_info(d.year).ok_or_else(|| out_of_range(show()))?;
    if d.leap && info.leap_month != d.month {
        return Err(EngineError::NoSuchLeapMonth(d.year, d.month));
    }
    let after_leap = info.leap_month != 0 && (d.month > info.leap_month || d.leap);
    let j = d.month - 1 + u8::from(after_leap);
    if j >= info.months {
        return Err(out_of_range(show()));
    }
    if d.day > info.month_len(j) {
        return Err(EngineError::InvalidLunarDate(format!("{}: that month has {} days", show(), info.month_len(j))));
    }
    let z = info.new_year + (0..j).map(|k| i64::from(info.month_len(k))).sum::<i64>() + i64::from(d.day) - 1;
    let (lo, hi) = solar_range();
    if z < lo || z > hi {
        return Err(out_of_range(show()));
    }
    Ok(civil_from_days(z))
}
