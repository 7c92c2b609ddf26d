//! Astronomy: apparent geocentric solar longitude, ΔT, the 24 solar-term instants and the
//! equation of time.
//!
//! The apparent longitude of the Sun is the full VSOP87D Earth series (heliocentric, mean
//! ecliptic and equinox of date; `vsop87` crate) turned geocentric, corrected to the DE405 frame
//! ([`de405_correction_arcsec`]), with IAU 1980 nutation in longitude ([`nutation`]) and annual aberration
//! (−20.4898″/R). Term instants are solved by Newton iteration in TT and converted to UT with
//! [`delta_t`]. They are computed once, offline, by `examples/gen_terms.rs` into the committed
//! table `terms_table.rs` (1899–2101); the chart path only reads that table ([`terms`]), and a
//! test recomputes a sample of it.

pub mod delta_t;
pub mod nutation;
pub mod terms;
mod terms_table;

use crate::calendar::MS_PER_DAY;

/// Julian Day of the Unix epoch (1970-01-01T00:00 UT).
pub const JD_UNIX_EPOCH: f64 = 2_440_587.5;
/// Julian Day of J2000.0.
pub const J2000: f64 = 2_451_545.0;

/// Julian Day (UT) of a Unix-millisecond instant.
#[must_use]
#[allow(clippy::cast_precision_loss)]
pub fn jd_from_ms(ms: i64) -> f64 {
    ms as f64 / MS_PER_DAY as f64 + JD_UNIX_EPOCH
}

/// Decimal Gregorian year of a Julian Day (accurate to a day; only for ΔT).
#[must_use]
pub fn decimal_year(jd: f64) -> f64 {
    2000.0 + (jd - J2000) / 365.2425
}

/// Correction in arcseconds from the VSOP87 longitude to the JPL DE405 frame, `tau` Julian
/// millennia (TT) from J2000.0: the cubic fitted by 許劍偉 (寿星天文历), also used by the
/// reference implementation. It replaces Meeus' constant FK5 shift (−0.09033″), which leaves a
/// drift of ~0.28″ (≈ 7 s of term time) per century against DE4xx.
#[must_use]
pub fn de405_correction_arcsec(tau: f64) -> f64 {
    -0.0728 - 2.7702 * tau - 1.1019 * tau * tau - 0.0996 * tau * tau * tau
}

/// Apparent geocentric ecliptic longitude of the Sun, degrees in [0, 360), at `jde` (TT).
#[must_use]
pub fn apparent_solar_longitude(jde: f64) -> f64 {
    let earth = vsop87::vsop87d::earth(jde);
    let t = (jde - J2000) / 36_525.0;
    let geometric = earth.longitude().to_degrees() + 180.0;
    let frame = de405_correction_arcsec(t / 10.0) / 3600.0;
    let aberration = -20.4898 / 3600.0 / earth.distance();
    (geometric + frame + nutation::nutation_longitude_deg(t) + aberration).rem_euclid(360.0)
}

/// Signed difference `a − b` of two angles in degrees, in (−180, 180].
fn angle_diff(a: f64, b: f64) -> f64 {
    let d = (a - b).rem_euclid(360.0);
    if d > 180.0 {
        d - 360.0
    } else {
        d
    }
}

/// The instant (Julian Ephemeris Day, TT) at which the apparent solar longitude reaches
/// `lon_deg`, searched near `jde_guess` (within ±10 days). Newton iteration on the longitude,
/// converged to better than 0.1 ms.
#[must_use]
pub fn solve_longitude_tt(lon_deg: f64, jde_guess: f64) -> f64 {
    const MEAN_RATE: f64 = 360.0 / 365.242_19; // degrees per day
    let mut jde = jde_guess;
    for _ in 0..20 {
        let step = angle_diff(lon_deg, apparent_solar_longitude(jde)) / MEAN_RATE;
        jde += step;
        if step.abs() < 1e-9 {
            break;
        }
    }
    jde
}

/// The UT instant (Julian Day) at which the apparent solar longitude reaches `lon_deg`, searched
/// near `jd_guess`: [`solve_longitude_tt`] minus [`delta_t::delta_t`].
#[must_use]
pub fn solve_longitude(lon_deg: f64, jd_guess: f64) -> f64 {
    let jde = solve_longitude_tt(lon_deg, jd_guess + delta_t::delta_t(decimal_year(jd_guess)) / 86_400.0);
    jde - delta_t::delta_t(decimal_year(jde)) / 86_400.0
}

/// Longitude (degrees) of term `k` of a Gregorian year, `k` = 0 for 小寒 (285°) … 23 for 冬至.
#[must_use]
pub fn term_longitude(k: usize) -> f64 {
    #[allow(clippy::cast_precision_loss)]
    let k = k as f64;
    (285.0 + 15.0 * k).rem_euclid(360.0)
}

/// Unix milliseconds (UT, rounded) of solar term `k` (0 = 小寒 … 23 = 冬至) of Gregorian `year`,
/// computed from the ephemeris (slow: ~3 VSOP87 evaluations). The chart path uses
/// [`terms::term_ms`] instead.
#[must_use]
#[allow(clippy::cast_possible_truncation, clippy::cast_precision_loss)]
pub fn compute_term_ms(year: i32, k: usize) -> i64 {
    let jan6 = crate::calendar::days_from_civil(year, 1, 6) as f64 + JD_UNIX_EPOCH;
    let guess = jan6 + 15.218_4 * k as f64;
    let jd = solve_longitude(term_longitude(k), guess);
    ((jd - JD_UNIX_EPOCH) * MS_PER_DAY as f64).round() as i64
}

/// Equation of time (apparent − mean solar time) in minutes at a UT instant: Meeus,
/// *Astronomical Algorithms* ch. 28 (Smart's series), the convention of the `*_ast` columns of the
/// reference vectors (agrees with the full theory to a few seconds).
#[must_use]
pub fn equation_of_time_min(ms: i64) -> f64 {
    let t = (jd_from_ms(ms) - J2000) / 36_525.0;
    let l0 = (280.466_46 + 36_000.769_83 * t + 0.000_303_2 * t * t).to_radians();
    let m = (357.529_11 + 35_999.050_29 * t - 0.000_153_7 * t * t).to_radians();
    let e = 0.016_708_634 - 0.000_042_037 * t - 0.000_000_126_7 * t * t;
    let eps = (23.0 + 26.0 / 60.0 + 21.448 / 3600.0 - (46.815 * t + 0.000_59 * t * t - 0.001_813 * t * t * t) / 3600.0).to_radians();
    let y = (eps / 2.0).tan().powi(2);
    let eot = y * (2.0 * l0).sin() - 2.0 * e * m.sin() + 4.0 * e * y * m.sin() * (2.0 * l0).cos()
        - 0.5 * y * y * (4.0 * l0).sin()
        - 1.25 * e * e * (2.0 * m).sin();
    eot.to_degrees() * 4.0
}
