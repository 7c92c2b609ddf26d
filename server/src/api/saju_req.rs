//! The `/v1/saju` request schema and its validation, shared by every route and transport that
//! takes a birth (POST JSON, GET query, batch items, `/v1/interpret`'s `chart`, the WebSocket
//! `chart` message). Field names match the `hypercube chart` flags.
use super::input::{Fields, InputError};

/// Every accepted field.
pub(crate) const FIELDS: &[&str] =
    &["datetime", "offset", "zone", "lon", "solar_time", "zi", "gender", "lunar", "leap", "luck_year", "transition"];

/// Where the wall clock is.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Tz {
    /// Minutes east of UTC, −720..=840.
    Offset(i32),
    /// An IANA zone name (checked by the engine).
    Zone(String),
}

/// A validated `/v1/saju` request (enum-valued strings are checked when mapped to the engine).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct SajuRequest {
    pub(crate) year: i32,
    pub(crate) month: u8,
    pub(crate) day: u8,
    pub(crate) hour: u8,
    pub(crate) minute: u8,
    pub(crate) second: u8,
    pub(crate) tz: Tz,
    pub(crate) lon: Option<f64>,
    pub(crate) solar_time: Option<String>,
    pub(crate) zi: Option<String>,
    pub(crate) gender: Option<String>,
    pub(crate) lunar: bool,
    pub(crate) leap: bool,
    pub(crate) luck_year: Option<i32>,
    /// What to do with a wall clock the zone skips or repeats: `reject` (default), `earlier`,
    /// `later`.
    pub(crate) transition: Option<String>,
}

impl SajuRequest {
    pub(crate) fn from_fields(f: &Fields<'_>) -> Result<Self, InputError> {
        f.only(FIELDS)?;
        let dt = f.str("datetime")?.ok_or_else(|| InputError::field("datetime", "required, e.g. 1990-05-15T14:30:00"))?;
        let lunar = f.bool("lunar")?.unwrap_or(false);
        let (year, month, day, hour, minute, second) = parse_datetime(dt, lunar)?;
        let tz = match (f.int("offset")?, f.str("zone")?) {
            (Some(_), Some(_)) => return Err(InputError::field("offset", "give offset or zone, not both")),
            (None, None) => return Err(InputError::field("offset", "required (minutes east of UTC) unless zone is given")),
            (Some(o), None) if !(-720..=840).contains(&o) => return Err(InputError::field("offset", "must be within -720..=840 minutes")),
            (Some(o), None) => Tz::Offset(o as i32),
            (None, Some(z)) => Tz::Zone(z.to_string()),
        };
        let lon = f.float("lon")?;
        if lon.is_some_and(|l| !(-180.0..=180.0).contains(&l)) {
            return Err(InputError::field("lon", "must be within -180..=180 degrees"));
        }
        let leap = f.bool("leap")?.unwrap_or(false);
        if leap && !lunar {
            return Err(InputError::field("leap", "only meaningful with lunar=true"));
        }
        let luck_year = match f.int("luck_year")? {
            Some(y) if !(1..=9999).contains(&y) => return Err(InputError::field("luck_year", "must be within 1..=9999")),
            y => y.map(|y| y as i32),
        };
        let s = |k: &'static str| f.str(k).map(|o| o.map(str::to_string));
        let transition = s("transition")?;
        if let Some(t) = &transition {
            if t.parse::<engine::TransitionPolicy>().is_err() {
                return Err(InputError::field("transition", "must be reject, earlier or later"));
            }
        }
        Ok(Self {
            year,
            month,
            day,
            hour,
            minute,
            second,
            tz,
            lon,
            solar_time: s("solar_time")?,
            zi: s("zi")?,
            gender: s("gender")?,
            lunar,
            leap,
            luck_year,
            transition,
        })
    }

    /// The engine's input and options (enum-valued strings parsed here; errors name the field).
    pub(crate) fn to_engine(&self) -> Result<(engine::BirthInput, engine::Options), engine::EngineError> {
        let time = match &self.tz {
            Tz::Offset(m) => engine::TimeBasis::Offset(*m),
            Tz::Zone(z) => engine::TimeBasis::Zone(z.parse()?),
        };
        let input = engine::BirthInput {
            year: self.year,
            month: self.month,
            day: self.day,
            hour: self.hour,
            minute: self.minute,
            second: self.second,
            time,
            longitude: self.lon,
            calendar: if self.lunar { engine::Calendar::Lunar { leap: self.leap } } else { engine::Calendar::Solar },
            gender: self.gender.as_deref().map(str::parse).transpose()?,
        };
        let mut opts = engine::Options { luck_year: self.luck_year, ..Default::default() };
        if let Some(z) = &self.zi {
            opts.zi = z.parse()?;
        }
        if let Some(s) = &self.solar_time {
            opts.solar_time = s.parse()?;
        }
        if let Some(t) = &self.transition {
            opts.transition = t.parse()?;
        }
        Ok((input, opts))
    }
}

/// `YYYY-MM-DDTHH:MM[:SS]` (a space may replace `T`). Solar dates must exist; lunar days may be
/// 1..=30 (the engine checks the month's real length).
fn parse_datetime(s: &str, lunar: bool) -> Result<(i32, u8, u8, u8, u8, u8), InputError> {
    let bad = || InputError::field("datetime", format!("{s:?} is not YYYY-MM-DDTHH:MM[:SS]"));
    let (date, time) = s.split_once(['T', ' ']).ok_or_else(bad)?;
    let mut d = date.split('-');
    let (y, m, dd) = (d.next().ok_or_else(bad)?, d.next().ok_or_else(bad)?, d.next().ok_or_else(bad)?);
    if d.next().is_some() || y.len() != 4 || m.len() != 2 || dd.len() != 2 {
        return Err(bad());
    }
    let mut t = time.split(':');
    let (h, mi) = (t.next().ok_or_else(bad)?, t.next().ok_or_else(bad)?);
    let sec = t.next().unwrap_or("00");
    if t.next().is_some() || h.len() != 2 || mi.len() != 2 || sec.len() != 2 {
        return Err(bad());
    }
    let num = |x: &str| -> Result<u32, InputError> {
        if x.bytes().all(|c| c.is_ascii_digit()) {
            x.parse().map_err(|_| bad())
        } else {
            Err(bad())
        }
    };
    let (year, month, day) = (num(y)? as i32, num(m)?, num(dd)?);
    let (hour, minute, second) = (num(h)?, num(mi)?, num(sec)?);
    let range =
        |ok: bool, what: &str| if ok { Ok(()) } else { Err(InputError::field("datetime", format!("{what} out of range in {s:?}"))) };
    range((1..=12).contains(&month), "month")?;
    let max_day = if lunar { 30 } else { u32::from(engine::calendar::days_in_month(year, month as u8)) };
    range((1..=max_day).contains(&day), "day")?;
    range(hour < 24, "hour")?;
    range(minute < 60, "minute")?;
    range(second < 60, "second")?;
    Ok((year, month as u8, day as u8, hour as u8, minute as u8, second as u8))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(q: &str) -> Result<SajuRequest, InputError> {
        SajuRequest::from_fields(&Fields::from_query(q).unwrap())
    }

    fn field_of(r: Result<SajuRequest, InputError>) -> String {
        match r {
            Err(InputError::Field { field, .. }) => field.into_owned(),
            other => panic!("expected a field error, got {other:?}"),
        }
    }

    #[test]
    fn valid_requests() {
        let r = req("datetime=1990-05-15T14:30:00&offset=540&lon=126.98&zi=split").unwrap();
        assert_eq!((r.year, r.month, r.day, r.hour, r.minute, r.second), (1990, 5, 15, 14, 30, 0));
        assert_eq!(r.tz, Tz::Offset(540));
        let r = req("datetime=2000-02-29 23:59&zone=Asia/Seoul&lunar=true&leap=true").unwrap();
        assert_eq!((r.day, r.second, r.lunar, r.leap), (29, 0, true, true));
        assert_eq!(r.tz, Tz::Zone("Asia/Seoul".into()));
        assert_eq!(req("datetime=2023-02-30T00:00&offset=0&lunar=1").unwrap().day, 30);
    }

    #[test]
    fn each_bad_field_is_named() {
        let cases = [
            ("offset=540", "datetime"),
            ("datetime=1990-5-15T14:30&offset=540", "datetime"),
            ("datetime=1990-02-30T14:30&offset=540", "datetime"),
            ("datetime=1900-02-29T14:30&offset=540", "datetime"),
            ("datetime=1990-05-15T24:00&offset=540", "datetime"),
            ("datetime=1990-05-15T14:60&offset=540", "datetime"),
            ("datetime=1990-05-15T14:30", "offset"),
            ("datetime=1990-05-15T14:30&offset=900", "offset"),
            ("datetime=1990-05-15T14:30&offset=abc", "offset"),
            ("datetime=1990-05-15T14:30&offset=540&zone=Asia/Seoul", "offset"),
            ("datetime=1990-05-15T14:30&offset=540&lon=181", "lon"),
            ("datetime=1990-05-15T14:30&offset=540&lon=x", "lon"),
            ("datetime=1990-05-15T14:30&offset=540&leap=true", "leap"),
            ("datetime=1990-05-15T14:30&offset=540&luck_year=0", "luck_year"),
            ("datetime=1990-05-15T14:30&offset=540&lunar=maybe", "lunar"),
            ("datetime=1990-05-15T14:30&offset=540&colour=red", "colour"),
            ("datetime=1990-05-15T14:30&offset=540&transition=maybe", "transition"),
        ];
        for (q, field) in cases {
            assert_eq!(field_of(req(q)), field, "{q}");
        }
    }
}
