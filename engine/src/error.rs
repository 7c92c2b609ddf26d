//! The engine's one error type. Every variant names the input field at fault ([`EngineError::field`]);
//! none is retryable: the same input always gives the same error.

/// Why a chart, pillar set or calendar conversion could not be computed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EngineError {
    /// The date or time is not a valid Gregorian (or lunar) wall clock, e.g. 2023-02-30.
    #[error("invalid date/time: {0}")]
    InvalidDateTime(String),
    /// The instant lies outside the supported range.
    #[error("date out of supported range: {0}")]
    OutOfRange(String),
    /// The wall clock was skipped by a clock change in the zone (e.g. a DST start).
    #[error("local time {0} does not exist in {1} (clocks moved forward)")]
    NonexistentLocalTime(String, &'static str),
    /// The wall clock occurred twice in the zone (e.g. a DST end).
    #[error("local time {0} is ambiguous in {1} (clocks moved back)")]
    AmbiguousLocalTime(String, &'static str),
    /// The UTC offset is outside ±18 hours.
    #[error("UTC offset {0} min is outside ±1080 min")]
    InvalidOffset(i32),
    /// The time-zone name is not supported.
    #[error("unknown or unsupported time zone {0:?} (supported: Asia/Seoul)")]
    UnknownZone(String),
    /// The longitude is missing (needed by local-mean / apparent solar time) or out of range.
    #[error("longitude {0}")]
    InvalidLongitude(String),
    /// Unknown solar-time option.
    #[error("unknown solar time {0:?} (civil, local_mean, apparent)")]
    InvalidSolarTime(String),
    /// Unknown 子時 convention.
    #[error("unknown zi convention {0:?} (split, day_changes_at_23, midnight)")]
    InvalidZi(String),
    /// Unknown gender.
    #[error("unknown gender {0:?} (m, f, male, female)")]
    InvalidGender(String),
    /// The lunar date does not exist (e.g. day 30 of a 29-day month, month 13).
    #[error("no such lunar date: {0}")]
    InvalidLunarDate(String),
    /// The lunar year has no leap month with that number.
    #[error("lunar year {0} has no leap month {1}")]
    NoSuchLeapMonth(i32, u8),
    /// The yearly-luck year is outside the supported range.
    #[error("luck year {0} outside 1900..=2100")]
    InvalidLuckYear(i32),
}

impl EngineError {
    /// The input field at fault: one of `datetime`, `offset`, `zone`, `lon`, `solar_time`, `zi`,
    /// `gender`, `lunar`, `leap`, `luck_year`.
    #[must_use]
    pub fn field(&self) -> &'static str {
        match self {
            Self::InvalidDateTime(_) | Self::OutOfRange(_) | Self::NonexistentLocalTime(..) | Self::AmbiguousLocalTime(..) => "datetime",
            Self::InvalidOffset(_) => "offset",
            Self::UnknownZone(_) => "zone",
            Self::InvalidLongitude(_) => "lon",
            Self::InvalidSolarTime(_) => "solar_time",
            Self::InvalidZi(_) => "zi",
            Self::InvalidGender(_) => "gender",
            Self::InvalidLunarDate(_) => "lunar",
            Self::NoSuchLeapMonth(..) => "leap",
            Self::InvalidLuckYear(_) => "luck_year",
        }
    }
}
