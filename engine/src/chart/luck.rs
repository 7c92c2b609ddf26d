//! Luck pillars (大運) and the yearly pillar (歲運).
//!
//! Direction: forward for a yang year stem and a man or a yin year stem and a woman, else
//! backward. Start: the interval from birth to the next 節 (forward) or from the previous 節 to
//! birth (backward), both read as wall clocks at the birth's UTC offset and truncated to the
//! minute; 3 days (4320 min) count as one year, 6 h as a month, 12 min as a day and 1 min as
//! 2 hours (lunar-javascript sect 2). The first pillar starts at birth plus that span (years,
//! then months with the day clamped to the month, then days and hours); pillar i starts 10·(i−1)
//! years later. Ages count the birth year as 1.

use crate::astro::terms::{jie_after, jie_at_or_before};
use crate::calendar::{days_in_month, is_leap, DateTime, MS_PER_DAY};
use crate::error::EngineError;
use crate::ganzhi::{stem_is_yang, year_ganzhi, GanZhi};
use crate::input::Gender;
use serde::Serialize;

/// Number of luck pillars in a chart.
pub const LUCK_PILLARS: u8 = 10;

/// The span from birth to the first luck pillar.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct LuckStart {
    /// Years.
    pub years: i64,
    /// Months.
    pub months: i64,
    /// Days.
    pub days: i64,
    /// Hours.
    pub hours: i64,
}

/// One luck pillar.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct LuckPillar {
    /// 1-based position.
    pub index: u8,
    /// The pillar: the month pillar stepped forward or backward `index` times.
    pub ganzhi: GanZhi,
    /// Gregorian year it starts.
    pub start_year: i32,
    /// Age (birth year = 1) at its start.
    pub start_age: i32,
}

/// The luck cycle of a chart.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Luck {
    /// Pillars step forward through the cycle.
    pub forward: bool,
    /// Span from birth to the first pillar.
    pub start: LuckStart,
    /// Wall clock (at the birth's offset) when the first pillar starts.
    pub start_datetime: DateTime,
    /// The pillars, in order.
    pub pillars: Vec<LuckPillar>,
}

/// The yearly pillar (세운) of a requested year.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct YearLuck {
    /// Gregorian year.
    pub year: i32,
    /// Its pillar (the 立春 year beginning in it).
    pub ganzhi: GanZhi,
    /// Age in that year (birth year = 1).
    pub age: i32,
    /// Index of the luck pillar in force that year, if any has started.
    pub luck_pillar: Option<u8>,
}

fn floor_minutes(ms: i64) -> i64 {
    ms.div_euclid(60_000)
}

/// Adds the luck-start span to a wall clock, as lunar-javascript's `Solar.next*` do.
fn add_span(t: &DateTime, s: &LuckStart) -> DateTime {
    let mut y = t.year + i32::try_from(s.years).unwrap_or(0);
    let mut d = t.day;
    if t.month == 2 && d > 28 && !is_leap(y) {
        d = 28;
    }
    let total = i64::from(y) * 12 + i64::from(t.month) - 1 + s.months;
    y = i32::try_from(total.div_euclid(12)).unwrap_or(y);
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let m = (total.rem_euclid(12) + 1) as u8;
    d = d.min(days_in_month(y, m));
    let base = DateTime { year: y, month: m, day: d, ..*t };
    DateTime::from_ms(base.as_ms() + s.days * MS_PER_DAY + s.hours * 3_600_000)
}

/// The luck cycle of a birth: instant `utc_ms`, civil wall clock `local` at `offset_s`.
///
/// # Errors
/// [`EngineError::OutOfRange`] if the adjacent 節 is outside the term table.
pub fn luck(utc_ms: i64, local: &DateTime, offset_s: i32, year: GanZhi, month: GanZhi, gender: Gender) -> Result<Luck, EngineError> {
    let forward = stem_is_yang(year.stem()) == (gender == Gender::Male);
    let range = || EngineError::OutOfRange(format!("{local}: adjacent 節 outside the term table"));
    let jie = if forward { jie_after(utc_ms) } else { jie_at_or_before(utc_ms) }.ok_or_else(range)?;
    // The term as a wall clock at the birth's offset, rounded to the second like the reference.
    let term_wall = (jie.ms + i64::from(offset_s) * 1000 + 500).div_euclid(1000) * 1000;
    let birth_wall = local.as_ms();
    let minutes =
        if forward { floor_minutes(term_wall) - floor_minutes(birth_wall) } else { floor_minutes(birth_wall) - floor_minutes(term_wall) };
    let start = LuckStart { years: minutes / 4320, months: minutes % 4320 / 360, days: minutes % 360 / 12, hours: minutes % 12 * 2 };
    let start_datetime = add_span(local, &start);
    let pillars = (1..=LUCK_PILLARS)
        .map(|i| {
            let start_year = start_datetime.year + 10 * (i32::from(i) - 1);
            let step = if forward { i64::from(i) } else { -i64::from(i) };
            LuckPillar { index: i, ganzhi: month.shift(step), start_year, start_age: start_year - local.year + 1 }
        })
        .collect();
    Ok(Luck { forward, start, start_datetime, pillars })
}

/// The yearly pillar of `year` for a birth in Gregorian year `birth_year`.
///
/// # Errors
/// [`EngineError::InvalidLuckYear`] outside 1900..=2100.
pub fn year_luck(year: i32, birth_year: i32, luck: Option<&Luck>) -> Result<YearLuck, EngineError> {
    if !(1900..=2100).contains(&year) {
        return Err(EngineError::InvalidLuckYear(year));
    }
    let luck_pillar = luck.and_then(|l| l.pillars.iter().rev().find(|p| p.start_year <= year).map(|p| p.index));
    Ok(YearLuck { year, ganzhi: year_ganzhi(year), age: year - birth_year + 1, luck_pillar })
}
