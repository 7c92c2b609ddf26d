//! # engine — the hypercube saju (四柱) engine
//!
//! Pure computation, no I/O: solar terms, the four pillars, the Korean lunar calendar and the
//! full chart (ten gods, hidden stems, 12 life stages, nayin, void branches, element counts,
//! luck pillars, yearly pillar), with every name in hanja, hangul and romanization.
//!
//! ```
//! use engine::{BirthInput, Calendar, Chart, Options, TimeBasis, Zone};
//! let input = BirthInput {
//!     year: 1990, month: 5, day: 15, hour: 14, minute: 30, second: 0,
//!     time: TimeBasis::Zone(Zone::AsiaSeoul), longitude: None,
//!     calendar: Calendar::Solar, gender: None,
//! };
//! let chart = Chart::compute(&input, &Options::default()).unwrap();
//! assert_eq!(chart.four_pillars.day.hanja(), "庚辰");
//! ```
//!
//! ## Conventions
//! - **Year** changes at 立春 (apparent solar longitude 315°), **month** at each of the 12 節
//!   (315° + 30°k), both by the absolute instant. Month stem: 寅 month stem = 2·(year stem mod 5) + 2.
//! - **Day** = (JDN + 49) mod 60 of the chosen clock's date (0 = 甲子); **hour** branch =
//!   ⌊(h + 1)/2⌋ mod 12, hour stem by 五鼠遁 from the day the 子 hour opens.
//! - 子時 ([`ZiConvention`]): `split` (default, 야자시: 23:00–23:59 keeps the day, stem of the next
//!   day), `day_changes_at_23`, `midnight` (23:00–23:59 uses its own day's stem).
//! - Clock for day/hour ([`SolarTime`]): `civil` (default), `local_mean` (UTC + 4 min/°),
//!   `apparent` (local mean + equation of time, Meeus ch. 28).
//! - Time zones ([`Zone`]): Asia/Seoul with its full IANA history (LMT +8:27:52 before
//!   1908-04-01). Skipped / repeated wall clocks are rejected unless [`TransitionPolicy`] says
//!   `earlier` / `later`.
//! - Luck pillars: see [`chart::luck`] (lunar-javascript sect 2, minute-exact).
//!
//! ## Ranges
//! Charts: civil dates 1900-01-01 ..= 2100-12-31 (solar-term table 1899–2101). Korean lunar
//! calendar: 1900-01-01 ..= 2100-12-31 — KASI's table through lunar 2049, then computed with
//! KASI's rules (which reproduce KASI's table exactly for 1912–2049).
//!
//! ## Accuracy
//! Solar terms vs JPL DE421 (1900–2050): median 0.17 s, max 0.75 s in TT; max 1.6 s in UT with
//! the ΔT model. Every row of the reference vectors matches outside the ephemeris tolerance
//! (see `engine/README.md` for the figures and the ambiguous rows).
//!
//! ## Deliberately not here
//! No I/O, no clocks (the only environment read is `HYPERCUBE_KERNEL`, once, in
//! [`arch::choose`]), no time zones other than Asia/Seoul, no Chinese lunar calendar, no
//! interpretation text.
//!
//! # Layout
//! - [`arch`]: the batch pillar kernels (scalar, AVX2, AVX-512) and their run-time choice;
//!   [`batch`]: the batch API over them (struct of arrays, resolve pre-pass, ten gods and
//!   element counts); [`search`]: the auspicious-time (택일) scan.
//! - [`astro`]: ΔT, nutation, VSOP87 solar longitude, the solar-term table and its lookups,
//!   equation of time.
//! - [`calendar`]: Gregorian day arithmetic and [`calendar::DateTime`].
//! - [`zone`]: time zones and wall clock → UTC.
//! - [`ganzhi`]: stems, branches, the sexagenary cycle; [`names`]: hanja/hangul/romanization.
//! - [`input`]: [`BirthInput`], [`Options`] and their enums; [`error`]: [`EngineError`].
//! - [`pillars`]: [`four_pillars`], the cheap path.
//! - [`lunar`]: Korean lunar calendar.
//! - [`chart`]: [`Chart::compute`] and its tables and luck pillars.
//! - [`csv`]: the CSV contracts of `hypercube chart --csv` / `hypercube lunar --csv`, line by line.

pub mod arch;
pub mod astro;
pub mod batch;
pub mod calendar;
pub mod chart;
pub mod csv;
pub mod error;
pub mod ganzhi;
pub mod input;
pub mod lunar;
pub mod names;
pub mod pillars;
pub mod search;
pub mod zone;

pub use chart::Chart;
pub use error::EngineError;
pub use ganzhi::GanZhi;
pub use input::{BirthInput, Calendar, Gender, Options, SolarTime, TimeBasis, TransitionPolicy, ZiConvention};
pub use lunar::{lunar_to_solar, solar_to_lunar, LunarDate};
pub use pillars::{four_pillars, FourPillars};
pub use zone::Zone;
