//! Proleptic Gregorian calendar arithmetic: civil date ↔ day number, Julian Day Number, and
//! Unix-millisecond instants. Day numbers count days since 1970-01-01 (that day is 0).

/// Milliseconds per day.
pub const MS_PER_DAY: i64 = 86_400_000;
/// Julian Day Number of 1970-01-01.
pub const JDN_UNIX_EPOCH: i64 = 2_440_588;

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
#[must_use]
pub fn days_from_civil(y: i32, m: u8, d: u8) -> i64 {
    let y = i64::from(y) - i64::from(m <= 2);
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (i64::from(m) + 9) % 12;
    let doy = (153 * mp + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The proleptic Gregorian date of a day number (inverse of [`days_from_civil`]).
#[must_use]
#[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
pub fn civil_from_days(z: i64) -> (i32, u8, u8) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u8;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u8;
    let y = (yoe + era * 400 + i64::from(m <= 2)) as i32;
    (y, m, d)
}

/// Whether `y` is a Gregorian leap year.
#[must_use]
pub fn is_leap(y: i32) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

/// Number of days in month `m` of year `y`.
#[must_use]
pub fn days_in_month(y: i32, m: u8) -> u8 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if is_leap(y) => 29,
        2 => 28,
        _ => 0,
    }
}

/// A wall-clock (or UTC) date and time, seconds resolution.
/// Serializes as `YYYY-MM-DDTHH:MM:SS`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct DateTime {
    /// Gregorian year.
    pub year: i32,
    /// Month 1–12.
    pub month: u8,
    /// Day 1–31.
    pub day: u8,
    /// Hour 0–23.
    pub hour: u8,
    /// Minute 0–59.
    pub minute: u8,
    /// Second 0–59.
    pub second: u8,
}

impl DateTime {
    /// Whether every field is in range (the date exists in the proleptic Gregorian calendar).
    #[must_use]
    pub fn is_valid(&self) -> bool {
        (1..=12).contains(&self.month)
            && self.day >= 1
            && self.day <= days_in_month(self.year, self.month)
            && self.hour < 24
            && self.minute < 60
            && self.second < 60
    }

    /// Milliseconds since 1970-01-01T00:00 of this wall clock read as if it were UTC.
    #[must_use]
    pub fn as_ms(&self) -> i64 {
        days_from_civil(self.year, self.month, self.day) * MS_PER_DAY
            + (i64::from(self.hour) * 3600 + i64::from(self.minute) * 60 + i64::from(self.second)) * 1000
    }

    /// The wall clock of `ms` (floored to the second).
    #[must_use]
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    pub fn from_ms(ms: i64) -> Self {
        let days = ms.div_euclid(MS_PER_DAY);
        let secs = ms.rem_euclid(MS_PER_DAY) / 1000;
        let (year, month, day) = civil_from_days(days);
        Self { year, month, day, hour: (secs / 3600) as u8, minute: (secs / 60 % 60) as u8, second: (secs % 60) as u8 }
    }

    /// Julian Day Number of the date part.
    #[must_use]
    pub fn jdn(&self) -> i64 {
        days_from_civil(self.year, self.month, self.day) + JDN_UNIX_EPOCH
    }
}

impl serde::Serialize for DateTime {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl std::fmt::Display for DateTime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}", self.year, self.month, self.day, self.hour, self.minute, self.second)
    }
}

/// Parses `YYYY-MM-DD`, `YYYY-MM-DDTHH:MM[:SS]` or the same with a space for `T`. Fields are
/// parsed, not range-checked (see [`DateTime::is_valid`]).
#[must_use]
pub fn parse_datetime(s: &str) -> Option<DateTime> {
    let s = s.trim();
    let (date, time) = match s.find(['T', ' ']) {
        Some(i) => (&s[..i], Some(&s[i + 1..])),
        None => (s, None),
    };
    let (year, month, day) = parse_date(date)?;
    let (hour, minute, second) = match time {
        None => (0, 0, 0),
        Some(t) => {
            let mut it = t.split(':');
            let h = it.next()?.parse().ok()?;
            let m = it.next()?.parse().ok()?;
            let sec = it.next().map_or(Some(0), |x| x.parse().ok())?;
            if it.next().is_some() {
                return None;
            }
            (h, m, sec)
        }
    };
    Some(DateTime { year, month, day, hour, minute, second })
}

/// Parses `YYYY-MM-DD` (a leading `-` for negative years is not accepted).
#[must_use]
pub fn parse_date(s: &str) -> Option<(i32, u8, u8)> {
    let mut it = s.trim().split('-');
    let y = it.next()?;
    if y.len() < 4 || !y.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let m = it.next()?.parse().ok()?;
    let d = it.next()?.parse().ok()?;
    if it.next().is_some() {
        return None;
    }
    Some((y.parse().ok()?, m, d))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_days() {
        for z in -100_000..100_000 {
            let (y, m, d) = civil_from_days(z);
            assert_eq!(days_from_civil(y, m, d), z);
        }
        assert_eq!(days_from_civil(2000, 1, 1) + JDN_UNIX_EPOCH, 2_451_545);
    }
}
