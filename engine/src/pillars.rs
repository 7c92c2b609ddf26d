//! The four pillars (四柱): year at 立春 and month at each 節 from the absolute instant; day by
//! JDN and hour by two-hour branches from the chosen clock (civil, local mean or apparent).

use crate::astro::{equation_of_time_min, terms};
use crate::calendar::DateTime;
use crate::error::EngineError;
use crate::ganzhi::{day_ganzhi, hour_branch, hour_ganzhi, month_ganzhi, year_ganzhi, GanZhi};
use crate::input::{BirthInput, Calendar, Options, SolarTime, TimeBasis, ZiConvention};
use crate::lunar::{lunar_to_solar, LunarDate};
use serde::Serialize;

/// First supported Gregorian year (civil date of the birth).
pub const MIN_YEAR: i32 = 1900;
/// Last supported Gregorian year.
pub const MAX_YEAR: i32 = 2100;

/// Year, month, day and hour pillars.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct FourPillars {
    /// 年柱 (changes at 立春).
    pub year: GanZhi,
    /// 月柱 (changes at each 節).
    pub month: GanZhi,
    /// 日柱.
    pub day: GanZhi,
    /// 時柱.
    pub hour: GanZhi,
}

/// A birth input resolved to an instant and the clocks that decide the pillars.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Resolved {
    /// Civil wall clock, Gregorian (converted from the lunar date if needed).
    pub local: DateTime,
    /// UTC offset in force, seconds east (includes DST; LMT offsets are not whole minutes).
    pub offset_s: i32,
    /// The instant, Unix milliseconds.
    pub utc_ms: i64,
    /// The clock that decides the day and hour pillars (local, LMT or apparent solar time).
    pub day_clock: DateTime,
    /// Equation of time used for apparent solar time, minutes (absent otherwise).
    pub eot_min: Option<f64>,
}

/// Checks a longitude option: finite and within ±180°.
///
/// # Errors
/// [`EngineError::InvalidLongitude`].
pub fn check_longitude(lon: Option<f64>, required: bool) -> Result<Option<f64>, EngineError> {
    match lon {
        Some(l) if l.is_finite() && (-180.0..=180.0).contains(&l) => Ok(Some(l)),
        Some(l) => Err(EngineError::InvalidLongitude(format!("{l} is outside -180..=180"))),
        None if required => Err(EngineError::InvalidLongitude("is required for local_mean / apparent solar time".to_owned())),
        None => Ok(None),
    }
}

/// The Gregorian wall clock of an input (lunar dates converted), validated and range-checked.
///
/// # Errors
/// Invalid or out-of-range dates, impossible lunar dates.
pub fn civil_wall_clock(input: &BirthInput) -> Result<DateTime, EngineError> {
    let (year, month, day) = match input.calendar {
        Calendar::Solar => (input.year, input.month, input.day),
        Calendar::Lunar { leap } => lunar_to_solar(LunarDate { year: input.year, month: input.month, day: input.day, leap })?,
    };
    let local = DateTime { year, month, day, hour: input.hour, minute: input.minute, second: input.second };
    if !local.is_valid() {
        return Err(EngineError::InvalidDateTime(format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02} is not a valid date and time",
            year, month, day, input.hour, input.minute, input.second
        )));
    }
    if !(MIN_YEAR..=MAX_YEAR).contains(&local.year) {
        return Err(EngineError::OutOfRange(format!("{local}: supported years are {MIN_YEAR}..={MAX_YEAR}")));
    }
    Ok(local)
}

/// Resolves an input to its instant and pillar clocks.
///
/// # Errors
/// Any input error ([`EngineError::field`] names the field).
pub fn resolve(input: &BirthInput, opts: &Options) -> Result<Resolved, EngineError> {
    let local = civil_wall_clock(input)?;
    let lon = check_longitude(input.longitude, opts.solar_time != SolarTime::Civil)?;
    let (utc_ms, offset_s) = match input.time {
        TimeBasis::Offset(min) if (-1080..=1080).contains(&min) => (local.as_ms() - i64::from(min) * 60_000, min * 60),
        TimeBasis::Offset(min) => return Err(EngineError::InvalidOffset(min)),
        TimeBasis::Zone(z) => z.resolve(&local, opts.transition)?,
    };
    let (day_clock, eot_min) = match (opts.solar_time, lon) {
        (SolarTime::LocalMean, Some(l)) => (DateTime::from_ms(lmt_ms(utc_ms, l)), None),
        (SolarTime::Apparent, Some(l)) => {
            let eot = equation_of_time_min(utc_ms);
            (DateTime::from_ms(ast_ms(utc_ms, l, eot)), Some(eot))
        }
        _ => (local, None),
    };
    Ok(Resolved { local, offset_s, utc_ms, day_clock, eot_min })
}

/// Local mean time of `utc_ms` at longitude `lon` (4 min per degree, rounded to the ms), as
/// wall-clock milliseconds.
#[must_use]
#[allow(clippy::cast_possible_truncation)]
pub fn lmt_ms(utc_ms: i64, lon: f64) -> i64 {
    utc_ms + (lon * 240_000.0).round() as i64
}

/// Apparent solar time: local mean time plus the equation of time `eot_min` (rounded to the ms).
#[must_use]
#[allow(clippy::cast_possible_truncation)]
pub fn ast_ms(utc_ms: i64, lon: f64, eot_min: f64) -> i64 {
    lmt_ms(utc_ms, lon) + (eot_min * 60_000.0).round() as i64
}

/// Year and month pillars of an instant.
///
/// # Errors
/// [`EngineError::OutOfRange`] outside the solar-term table.
pub fn year_month(utc_ms: i64) -> Result<(GanZhi, GanZhi), EngineError> {
    let jie = terms::jie_at_or_before(utc_ms)
        .ok_or_else(|| EngineError::OutOfRange(format!("{} UTC is outside the solar-term table", DateTime::from_ms(utc_ms))))?;
    // 小寒 (k = 0) still belongs to the previous 立春 year.
    let year = if jie.k == 0 { jie.year - 1 } else { jie.year };
    let y = year_ganzhi(year);
    Ok((y, month_ganzhi(y.stem(), jie.month_branch())))
}

/// Day and hour pillars of a clock under a 子時 convention.
#[must_use]
pub fn day_hour(clock: &DateTime, zi: ZiConvention) -> (GanZhi, GanZhi) {
    let jdn = clock.jdn();
    let day = day_ganzhi(jdn);
    let branch = hour_branch(clock.hour);
    if clock.hour < 23 {
        return (day, hour_ganzhi(day.stem(), branch));
    }
    let next = day_ganzhi(jdn + 1);
    match zi {
        ZiConvention::Split => (day, hour_ganzhi(next.stem(), branch)),
        ZiConvention::DayChangesAt23 => (next, hour_ganzhi(next.stem(), branch)),
        ZiConvention::Midnight => (day, hour_ganzhi(day.stem(), branch)),
    }
}

/// The four pillars of a resolved input.
///
/// # Errors
/// [`EngineError::OutOfRange`] outside the solar-term table.
pub fn pillars_of(r: &Resolved, zi: ZiConvention) -> Result<FourPillars, EngineError> {
    let (year, month) = year_month(r.utc_ms)?;
    let (day, hour) = day_hour(&r.day_clock, zi);
    Ok(FourPillars { year, month, day, hour })
}

/// The four pillars of a birth — the cheap path (no chart details).
///
/// # Errors
/// Any input error ([`EngineError::field`] names the field).
pub fn four_pillars(input: &BirthInput, opts: &Options) -> Result<FourPillars, EngineError> {
    pillars_of(&resolve(input, opts)?, opts.zi)
}
