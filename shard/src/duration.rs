//! The one duration grammar of every hypercube flag, environment variable and TOML file:
//! `250ms`, `1.5s`, `10s`, `2m`, `1h`, `1d`, or a bare number of seconds (`30`, `0.25`).
//!
//! Shared by the server (`hypercube serve`) and the load generator (`hypercube-load`), so a
//! duration written for one reads the same in the other.
use std::time::Duration;

/// The longest duration accepted: one year. Longer is almost surely a typo (`10000h`).
pub const MAX: Duration = Duration::from_secs(86_400 * 365);

/// Parse a duration: a non-negative decimal number, then an optional unit `us`, `ms`, `s`, `m`,
/// `h` or `d` (none means seconds). Whitespace around the number and unit is allowed.
///
/// # Errors
/// A message naming the text and the grammar, for a bad number, a bad unit, or a value above
/// [`MAX`].
pub fn parse(s: &str) -> Result<Duration, String> {
    let t = s.trim();
    let split = t.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let n: f64 = match num.parse() {
        Ok(n) if !num.is_empty() => n,
        _ => return Err(format!("bad duration {s:?}: want a number and a unit, e.g. 500ms, 10s, 2m")),
    };
    let secs = match unit.trim() {
        "us" | "µs" => n / 1e6,
        "ms" => n / 1e3,
        "" | "s" => n,
        "m" | "min" => n * 60.0,
        "h" => n * 3600.0,
        "d" => n * 86_400.0,
        u => return Err(format!("bad duration unit {u:?} in {s:?}: use us, ms, s, m, h or d")),
    };
    from_secs(secs).ok_or_else(|| format!("duration {s:?} out of range (0 ..= 365 days)"))
}

/// A bare number of seconds (a TOML integer or float), checked like [`parse`].
pub fn from_secs(secs: f64) -> Option<Duration> {
    (secs.is_finite() && (0.0..=MAX.as_secs_f64()).contains(&secs)).then(|| Duration::from_secs_f64(secs))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units_and_bare_seconds() {
        assert_eq!(parse("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse("10"), Ok(Duration::from_secs(10)));
        assert_eq!(parse(" 1.5s "), Ok(Duration::from_millis(1500)));
        assert_eq!(parse("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(parse("1h"), Ok(Duration::from_secs(3600)));
        assert_eq!(parse("1d"), Ok(Duration::from_secs(86_400)));
        assert_eq!(parse("20us"), Ok(Duration::from_micros(20)));
        assert_eq!(parse("0"), Ok(Duration::ZERO));
    }

    #[test]
    fn errors_name_the_text() {
        for bad in ["", "ten", "5x", "-1s", "1e3", "400d", ".", "s"] {
            let e = parse(bad).unwrap_err();
            assert!(e.contains(&format!("{bad:?}")), "{bad}: {e}");
        }
        assert_eq!(from_secs(f64::NAN), None);
        assert_eq!(from_secs(30.0), Some(Duration::from_secs(30)));
    }
}
