//! Time zones with their offset history, and the mapping of a wall clock to UTC.
//!
//! Asia/Seoul follows IANA tzdata 2025b: local mean time +8:27:52 until 1908-04-01, +8:30 until
//! 1912, +9:00, DST (+10:00) in 1948–51, +8:30 from 1954-03-21 with DST (+9:30) in 1955–60,
//! +9:00 from 1961-08-10, DST (+10:00) in 1987–88.

use crate::calendar::{days_from_civil, DateTime, MS_PER_DAY};
use crate::error::EngineError;
use crate::input::TransitionPolicy;
use serde::Serialize;
use std::str::FromStr;

/// A supported time zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum Zone {
    /// Asia/Seoul (Korea), full history since 1900.
    #[serde(rename = "Asia/Seoul")]
    AsiaSeoul,
}

impl FromStr for Zone {
    type Err = EngineError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "Asia/Seoul" | "ROK" => Ok(Self::AsiaSeoul),
            _ => Err(EngineError::UnknownZone(s.to_owned())),
        }
    }
}

/// (UTC instant the offset starts, as `YYYY, M, D, h, m, s` UTC; offset in seconds east).
type Transition = ((i32, u8, u8, u8, u8, u8), i32);

const SEOUL_LMT: i32 = 8 * 3600 + 27 * 60 + 52;
const SEOUL: [Transition; 29] = [
    ((1908, 3, 31, 15, 32, 8), 30_600),
    ((1911, 12, 31, 15, 30, 0), 32_400),
    ((1945, 9, 7, 15, 0, 0), 32_400),
    ((1948, 5, 31, 15, 0, 0), 36_000),
    ((1948, 9, 12, 14, 0, 0), 32_400),
    ((1949, 4, 2, 15, 0, 0), 36_000),
    ((1949, 9, 10, 14, 0, 0), 32_400),
    ((1950, 3, 31, 15, 0, 0), 36_000),
    ((1950, 9, 9, 14, 0, 0), 32_400),
    ((1951, 5, 5, 15, 0, 0), 36_000),
    ((1951, 9, 8, 14, 0, 0), 32_400),
    ((1954, 3, 20, 15, 0, 0), 30_600),
    ((1955, 5, 4, 15, 30, 0), 34_200),
    ((1955, 9, 8, 14, 30, 0), 30_600),
    ((1956, 5, 19, 15, 30, 0), 34_200),
    ((1956, 9, 29, 14, 30, 0), 30_600),
    ((1957, 5, 4, 15, 30, 0), 34_200),
    ((1957, 9, 21, 14, 30, 0), 30_600),
    ((1958, 5, 3, 15, 30, 0), 34_200),
    ((1958, 9, 20, 14, 30, 0), 30_600),
    ((1959, 5, 2, 15, 30, 0), 34_200),
    ((1959, 9, 19, 14, 30, 0), 30_600),
    ((1960, 4, 30, 15, 30, 0), 34_200),
    ((1960, 9, 17, 14, 30, 0), 30_600),
    ((1961, 8, 9, 15, 30, 0), 32_400),
    ((1987, 5, 9, 17, 0, 0), 36_000),
    ((1987, 10, 10, 17, 0, 0), 32_400),
    ((1988, 5, 7, 17, 0, 0), 36_000),
    ((1988, 10, 8, 17, 0, 0), 32_400),
];

fn transition_ms(t: &Transition) -> i64 {
    let (y, mo, d, h, mi, s) = t.0;
    days_from_civil(y, mo, d) * MS_PER_DAY + (i64::from(h) * 3600 + i64::from(mi) * 60 + i64::from(s)) * 1000
}

impl Zone {
    /// IANA name.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Self::AsiaSeoul => "Asia/Seoul",
        }
    }

    /// Offset (seconds east of UTC) in force at the UTC instant `utc_ms`.
    #[must_use]
    pub fn offset_at(self, utc_ms: i64) -> i32 {
        match self {
            Self::AsiaSeoul => {
                let n = SEOUL.partition_point(|t| transition_ms(t) <= utc_ms);
                if n == 0 {
                    SEOUL_LMT
                } else {
                    SEOUL[n - 1].1
                }
            }
        }
    }

    /// Every offset the zone has used (candidates when reading a wall clock).
    fn offsets(self) -> &'static [i32] {
        match self {
            Self::AsiaSeoul => &[SEOUL_LMT, 30_600, 32_400, 34_200, 36_000],
        }
    }

    /// The UTC instant (ms) and offset (s) of wall clock `local`, applying `policy` to wall
    /// clocks that a transition skipped or repeated.
    ///
    /// # Errors
    /// [`EngineError::NonexistentLocalTime`] / [`EngineError::AmbiguousLocalTime`] under
    /// [`TransitionPolicy::Reject`].
    pub fn resolve(self, local: &DateTime, policy: TransitionPolicy) -> Result<(i64, i32), EngineError> {
        let wall = local.as_ms();
        // The distinct instants whose offset reads back as `local` (0, 1 or 2 of them), sorted.
        let mut hits = [(0_i64, 0_i32); 2];
        let mut n = 0;
        for &o in self.offsets() {
            let utc = wall - i64::from(o) * 1000;
            if self.offset_at(utc) == o && !hits[..n].iter().any(|h| h.0 == utc) && n < hits.len() {
                hits[n] = (utc, o);
                n += 1;
            }
        }
        let hits = &mut hits[..n];
        hits.sort_unstable();
        match (&*hits, policy) {
            ([one], _) => Ok(*one),
            ([first, _], TransitionPolicy::Earlier) => Ok(*first),
            ([_, last], TransitionPolicy::Later) => Ok(*last),
            ([], TransitionPolicy::Reject) => Err(EngineError::NonexistentLocalTime(local.to_string(), self.name())),
            ([], p) => {
                // In a gap: the offsets before and after the transition that made it.
                let before = self.offset_at(wall - 36 * 3_600_000);
                let after = self.offset_at(wall + 36 * 3_600_000);
                let o = if p == TransitionPolicy::Earlier { before } else { after };
                Ok((wall - i64::from(o) * 1000, o))
            }
            _ => Err(EngineError::AmbiguousLocalTime(local.to_string(), self.name())),
        }
    }
}
