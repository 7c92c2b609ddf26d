//! Inputs and options of a chart: [`BirthInput`], [`Options`] and their enums, each parseable
//! from the CLI / HTTP spelling with `FromStr`.

use crate::error::EngineError;
use crate::zone::Zone;
use serde::Serialize;
use std::str::FromStr;

/// How the wall clock maps to UTC.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TimeBasis {
    /// A fixed total offset, minutes east of UTC (DST included).
    Offset(i32),
    /// A time zone with its full offset history.
    Zone(Zone),
}

/// Calendar of the input date.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Calendar {
    /// Gregorian.
    Solar,
    /// Korean lunar calendar (KASI); `leap` marks the intercalary month (윤달).
    Lunar {
        /// The date is in the leap month.
        leap: bool,
    },
}

/// Gender, which sets the direction of the luck pillars.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Gender {
    /// 男 / 건명.
    Male,
    /// 女 / 곤명.
    Female,
}

impl FromStr for Gender {
    type Err = EngineError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "m" | "male" | "1" => Ok(Self::Male),
            "f" | "female" | "0" => Ok(Self::Female),
            _ => Err(EngineError::InvalidGender(s.to_owned())),
        }
    }
}

/// A birth: wall clock (Gregorian, or lunar when `calendar` says so), how it maps to UTC, an
/// optional longitude (needed for local-mean / apparent solar time) and an optional gender
/// (needed for the luck pillars).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct BirthInput {
    /// Year (lunar year when `calendar` is lunar).
    pub year: i32,
    /// Month 1–12.
    pub month: u8,
    /// Day of month.
    pub day: u8,
    /// Hour 0–23.
    pub hour: u8,
    /// Minute 0–59.
    pub minute: u8,
    /// Second 0–59.
    pub second: u8,
    /// UTC offset or zone.
    pub time: TimeBasis,
    /// Degrees east of Greenwich, −180..=180.
    pub longitude: Option<f64>,
    /// Calendar of year/month/day.
    pub calendar: Calendar,
    /// Gender, for the luck pillars.
    pub gender: Option<Gender>,
}

impl BirthInput {
    /// A Gregorian wall clock at `time`, with no longitude and no gender (fill those in with
    /// struct-update syntax when needed).
    #[must_use]
    pub fn solar(t: crate::calendar::DateTime, time: TimeBasis) -> Self {
        Self {
            year: t.year,
            month: t.month,
            day: t.day,
            hour: t.hour,
            minute: t.minute,
            second: t.second,
            time,
            longitude: None,
            calendar: Calendar::Solar,
            gender: None,
        }
    }
}

/// Where the day and the 子 hour turn over.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ZiConvention {
    /// 야자시 split (default): 23:00–23:59 keeps the calendar day, and the hour stem comes from
    /// the next day (lunar-javascript sect 2).
    #[default]
    Split,
    /// The day changes at 23:00 (子正 / 조자시 day change; lunar-javascript sect 1).
    DayChangesAt23,
    /// The day changes at 00:00 and 23:00–23:59 takes the 子 hour of the same day (its own stem).
    Midnight,
}

impl FromStr for ZiConvention {
    type Err = EngineError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "split" => Ok(Self::Split),
            "day_changes_at_23" => Ok(Self::DayChangesAt23),
            "midnight" => Ok(Self::Midnight),
            _ => Err(EngineError::InvalidZi(s.to_owned())),
        }
    }
}

/// Which clock decides the day and hour pillars (year and month always follow the instant).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SolarTime {
    /// The civil wall clock as given (default).
    #[default]
    Civil,
    /// Local mean time: UTC + 4 min per degree of longitude.
    LocalMean,
    /// Apparent solar time: local mean time + equation of time (Meeus ch. 28).
    Apparent,
}

impl FromStr for SolarTime {
    type Err = EngineError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "civil" => Ok(Self::Civil),
            "local_mean" => Ok(Self::LocalMean),
            "apparent" => Ok(Self::Apparent),
            _ => Err(EngineError::InvalidSolarTime(s.to_owned())),
        }
    }
}

/// What to do with a wall clock that a zone's clock change skipped or repeated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TransitionPolicy {
    /// Refuse with [`EngineError::NonexistentLocalTime`] / [`EngineError::AmbiguousLocalTime`].
    #[default]
    Reject,
    /// Repeated time: the earlier instant. Skipped time: read it with the offset in force
    /// before the change.
    Earlier,
    /// Repeated time: the later instant. Skipped time: read it with the offset in force after
    /// the change.
    Later,
}

impl FromStr for TransitionPolicy {
    type Err = EngineError;
    /// `reject`, `earlier` or `later`; an unknown policy is an error on `datetime` (the field
    /// whose reading it governs).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "reject" => Ok(Self::Reject),
            "earlier" => Ok(Self::Earlier),
            "later" => Ok(Self::Later),
            _ => Err(EngineError::InvalidDateTime(format!("unknown transition policy {s:?} (reject, earlier, later)"))),
        }
    }
}

/// Chart options. `Options::default()` is split 子時, civil time, no yearly luck, reject
/// skipped/repeated wall clocks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct Options {
    /// 子時 convention.
    pub zi: ZiConvention,
    /// Clock used for the day and hour pillars.
    pub solar_time: SolarTime,
    /// Gregorian year whose yearly pillar (세운) to add to the chart.
    pub luck_year: Option<i32>,
    /// Policy for wall clocks at a zone's transitions.
    pub transition: TransitionPolicy,
}
