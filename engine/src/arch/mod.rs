//! Batch pillar kernels: one pure function over struct-of-arrays, in three implementations with
//! bit-identical results — [`scalar`] (the oracle), and on x86-64 [`x86_64::avx2`] and
//! [`x86_64::avx512`] — chosen once at run time.
//!
//! # What a kernel computes
//! For item `i`, from the instant `utc_s[i]` (Unix seconds) and the clock shift `shift_ms[i]`
//! (milliseconds added to UTC to get the clock that decides the day and hour: the UTC offset ×
//! 1000 for civil time, or the local-mean / apparent-solar shift), it writes five sexagenary
//! indices (0 = 甲子): `year` (立春 year), `month` (節 month), `day` (date of the clock), `hour`
//! (子時 `split`: 23:00–23:59 takes the next day's stem), and `day23` (the day under
//! `day_changes_at_23`). `midnight`'s hour follows from these (see `crate::batch`).
//!
//! - Year and month: the index of the last 節 at or before the instant, in one flat sorted
//!   array of the 2436 節 of 1899–2101 (plus a +∞ sentinel). The index is *estimated*
//!   linearly, `⌊(t − A) / B⌋` with `B` the mean 節 spacing, then corrected by one compare on
//!   each side; the estimate is provably within ±1 of the answer (the test
//!   `estimate_within_one` checks every interval), so a gather and a compare replace a search.
//! - Day: `(⌊clock / 86 400 000⌋ + 17) mod 60` (1970-01-01 = 辛巳); hour from the clock's time of
//!   day: branch `⌊(h + 1)/2⌋ mod 12`, index `(12·D + branch) mod 60` where `D` is the day the
//!   子 hour opens.
//!
//! # Domain
//! Results are defined for [`MIN_UTC_S`] ≤ `utc_s` ≤ [`MAX_UTC_S`] and |`shift_ms`| ≤
//! [`MAX_SHIFT_MS`]; every chart the engine accepts (civil dates 1900–2100 at offsets ±18 h) is
//! inside. Outside, a kernel never reads out of bounds and never panics, but its output is
//! unspecified (and kernels may disagree). `crate::batch` checks the domain before calling.
//!
//! # Dispatch
//! [`active`] picks once — `HYPERCUBE_KERNEL=scalar|avx2|avx512` if set, else the best the CPU
//! has — and caches the [`Kernel`] (a name and a function pointer). With the cargo feature
//! `no-simd` only the scalar kernel is compiled.

pub mod scalar;
#[cfg(all(target_arch = "x86_64", not(feature = "no-simd")))]
pub mod x86_64;

use std::sync::OnceLock;

/// Kernel inputs, struct of arrays; both slices have the same length.
#[derive(Debug, Clone, Copy)]
pub struct Inputs<'a> {
    /// The instant, Unix seconds (UT).
    pub utc_s: &'a [i64],
    /// Milliseconds to add to the instant to get the day/hour clock (UTC offset × 1000 for civil time).
    pub shift_ms: &'a [i32],
}

impl Inputs<'_> {
    /// Number of items.
    #[must_use]
    pub fn len(&self) -> usize {
        self.utc_s.len()
    }

    /// Whether there are no items.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.utc_s.is_empty()
    }
}

/// Kernel outputs, struct of arrays of sexagenary indices (0..60); each as long as the inputs.
#[derive(Debug)]
pub struct Outputs<'a> {
    /// Year pillar (立春 year).
    pub year: &'a mut [u8],
    /// Month pillar (節 month).
    pub month: &'a mut [u8],
    /// Day pillar of the clock's date (`split` and `midnight`).
    pub day: &'a mut [u8],
    /// Hour pillar under `split` and `day_changes_at_23`.
    pub hour: &'a mut [u8],
    /// Day pillar under `day_changes_at_23` (the next day from 23:00).
    pub day23: &'a mut [u8],
}

/// Checks the lengths of a kernel call.
///
/// # Panics
/// If any slice's length differs from `inp.utc_s.len()`.
pub(crate) fn check_lengths(inp: &Inputs<'_>, out: &Outputs<'_>) {
    let n = inp.utc_s.len();
    assert_eq!(inp.shift_ms.len(), n, "batch kernel: shift_ms has length {}, utc_s {n}", inp.shift_ms.len());
    for (name, len) in
        [("year", out.year.len()), ("month", out.month.len()), ("day", out.day.len()), ("hour", out.hour.len()), ("day23", out.day23.len())]
    {
        assert_eq!(len, n, "batch kernel: output {name} has length {len}, inputs {n}");
    }
}

/// The signature every kernel has.
pub type PillarsFn = fn(&Inputs<'_>, &mut Outputs<'_>);

/// A kernel: its name (`scalar`, `avx2`, `avx512`) and its entry point.
#[derive(Clone, Copy)]
pub struct Kernel {
    name: &'static str,
    f: PillarsFn,
}

impl std::fmt::Debug for Kernel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("Kernel").field(&self.name).finish()
    }
}

impl Kernel {
    /// `scalar`, `avx2` or `avx512`.
    #[must_use]
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// Runs the kernel.
    ///
    /// # Panics
    /// If the slices' lengths differ.
    pub fn pillars(&self, inp: &Inputs<'_>, out: &mut Outputs<'_>) {
        (self.f)(inp, out);
    }

    /// The scalar kernel (always available).
    #[must_use]
    pub fn scalar() -> Self {
        Self { name: "scalar", f: scalar::pillars }
    }

    /// A kernel by name, if compiled in and supported by this CPU.
    ///
    /// # Errors
    /// [`KernelError::Unknown`] for another name, [`KernelError::Unavailable`] when this CPU
    /// (or this build, with `no-simd`) lacks it.
    pub fn by_name(name: &str) -> Result<Self, KernelError> {
        match name {
            "scalar" => Ok(Self::scalar()),
            "avx2" => Self::avx2().ok_or(KernelError::Unavailable("avx2")),
            "avx512" => Self::avx512().ok_or(KernelError::Unavailable("avx512")),
            other => Err(KernelError::Unknown(other.to_owned())),
        }
    }

    /// The AVX2 kernel, if this CPU has AVX2 (and SIMD is compiled in).
    #[must_use]
    pub fn avx2() -> Option<Self> {
        #[cfg(all(target_arch = "x86_64", not(feature = "no-simd")))]
        {
            x86_64::avx2::Avx2::new().map(|k| Self { name: "avx2", f: k.as_fn() })
        }
        #[cfg(not(all(target_arch = "x86_64", not(feature = "no-simd"))))]
        {
            None
        }
    }

    /// The AVX-512 kernel, if this CPU has AVX-512 F/DQ/VL/BW (and SIMD is compiled in).
    #[must_use]
    pub fn avx512() -> Option<Self> {
        #[cfg(all(target_arch = "x86_64", not(feature = "no-simd")))]
        {
            x86_64::avx512::Avx512::new().map(|k| Self { name: "avx512", f: k.as_fn() })
        }
        #[cfg(not(all(target_arch = "x86_64", not(feature = "no-simd"))))]
        {
            None
        }
    }

    /// Every kernel this build and CPU can run, best last.
    #[must_use]
    pub fn available() -> Vec<Self> {
        [Some(Self::scalar()), Self::avx2(), Self::avx512()].into_iter().flatten().collect()
    }

    /// The best kernel this CPU can run.
    #[must_use]
    pub fn best() -> Self {
        Self::avx512().or_else(Self::avx2).unwrap_or_else(Self::scalar)
    }
}

/// Why a requested kernel cannot run.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KernelError {
    /// Not a kernel name.
    #[error("unknown kernel {0:?} (want scalar, avx2 or avx512)")]
    Unknown(String),
    /// This CPU or build lacks it.
    #[error("kernel {0} is not available on this CPU or in this build")]
    Unavailable(&'static str),
}

/// The environment variable that forces a kernel.
pub const KERNEL_ENV: &str = "HYPERCUBE_KERNEL";

static CHOICE: OnceLock<Result<Kernel, KernelError>> = OnceLock::new();

/// The kernel chosen for this process: `HYPERCUBE_KERNEL` if set (an error if unknown or
/// unavailable), else [`Kernel::best`]. Decided on the first call and cached.
///
/// # Errors
/// The forced kernel is unknown or unavailable. Binaries call this at start and stop there.
pub fn choose() -> Result<Kernel, KernelError> {
    CHOICE
        .get_or_init(|| match std::env::var(KERNEL_ENV) {
            Ok(name) if !name.is_empty() => Kernel::by_name(name.trim()),
            _ => Ok(Kernel::best()),
        })
        .clone()
}

/// The kernel in use: [`choose`]'s, or scalar if the forced one cannot run (binaries refuse to
/// start in that case, so this fallback is only reachable from code that ignored the error).
#[must_use]
pub fn active() -> Kernel {
    choose().unwrap_or_else(|_| Kernel::scalar())
}

/// First instant in the kernels' domain (Unix seconds): the first 節 of the table (1899-01-05).
pub const MIN_UTC_S: i64 = -2_240_134_953;
/// Last instant in the kernels' domain (Unix seconds): 2101-12-31T23:59:59 UTC.
pub const MAX_UTC_S: i64 = 4_165_516_799;
/// Largest clock shift (18 h + the equation of time's largest magnitude, with margin).
pub const MAX_SHIFT_MS: i32 = 19 * 3_600_000;

/// The flat 節 table and the per-節 year/month indices the kernels share.
pub(crate) struct Tables {
    /// 節 instants, Unix ms, increasing, then an `i64::MAX` sentinel.
    pub(crate) jie_ms: Vec<i64>,
    /// The same as f64 (exact: all below 2^53), sentinel `+∞` (read by the SIMD kernels only).
    #[cfg_attr(not(all(target_arch = "x86_64", not(feature = "no-simd"))), allow(dead_code))]
    pub(crate) jie_f64: Vec<f64>,
    /// Per 節 index: year index | month index << 8.
    pub(crate) ym: Vec<i32>,
}

/// Number of 節 in the table (12 per year, 1899–2101).
pub(crate) const NJIE: usize = 12 * 203;
/// The index estimate's origin and slope (ms): `est = ⌊(t − JIE_A) / JIE_B⌋`. `JIE_B` is the mean
/// spacing (last − first)/(n − 1) and `JIE_A` half a spacing before the first 節.
pub(crate) const JIE_B: i64 = 2_629_781_946;
pub(crate) const JIE_A: i64 = -2_240_134_953_370 - JIE_B / 2;

pub(crate) fn tables() -> &'static Tables {
    static T: OnceLock<Tables> = OnceLock::new();
    T.get_or_init(|| {
        let all = crate::astro::terms::all_terms_ms();
        let mut jie_ms: Vec<i64> = all.iter().step_by(2).copied().collect();
        debug_assert_eq!(jie_ms.len(), NJIE);
        let ym = (0..jie_ms.len())
            .map(|i| {
                // Index i is term k = 2·(i mod 12) of Gregorian year 1899 + i / 12; 小寒 (k = 0)
                // still belongs to the previous 立春 year — as in `pillars::year_month`.
                let year = crate::astro::terms::FIRST_YEAR + i32::try_from(i / 12).unwrap_or(0);
                let k = 2 * (i % 12);
                let jie = crate::astro::terms::Jie { year, k, ms: 0 };
                let y = crate::ganzhi::year_ganzhi(if k == 0 { year - 1 } else { year });
                let m = crate::ganzhi::month_ganzhi(y.stem(), jie.month_branch());
                i32::from(y.0) | i32::from(m.0) << 8
            })
            .collect();
        jie_ms.push(i64::MAX);
        #[allow(clippy::cast_precision_loss)] // all finite entries are below 2^53
        let jie_f64 = jie_ms.iter().map(|&t| if t == i64::MAX { f64::INFINITY } else { t as f64 }).collect();
        Tables { jie_ms, jie_f64, ym }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The linear estimate is within ±1 of the true 節 index over every interval (it is
    /// monotone, so the two ends of each interval suffice), with a margin of > 0.3 of a month on
    /// both sides, so a floating-point or integer floor of it is too.
    #[test]
    fn estimate_within_one() {
        let t = tables();
        #[allow(clippy::cast_precision_loss)]
        for i in 0..NJIE - 1 {
            let lo = (t.jie_ms[i] - JIE_A) as f64 / JIE_B as f64 - i as f64;
            let hi = (t.jie_ms[i + 1] - 1 - JIE_A) as f64 / JIE_B as f64 - i as f64;
            assert!(lo > -0.7 && hi < 1.7, "interval {i}: {lo} {hi}");
        }
        assert_eq!(t.jie_ms[0], MIN_UTC_S * 1000 - 370);
        assert_eq!(JIE_B, (t.jie_ms[NJIE - 1] - t.jie_ms[0]) / (NJIE as i64 - 1));
    }

    /// The SIMD kernels compute year and month from the 節 index arithmetically.
    #[test]
    fn ym_is_linear() {
        let t = tables();
        for (i, &ym) in t.ym.iter().enumerate() {
            let i = i64::try_from(i).unwrap();
            let (y, m) = ((35 + (i - 1).div_euclid(12)).rem_euclid(60), (i + 1).rem_euclid(60));
            assert_eq!(i64::from(ym), y | m << 8, "jie {i}");
        }
    }

    #[test]
    fn ym_table_matches_year_month() {
        let t = tables();
        for i in 0..NJIE {
            let (y, m) = crate::pillars::year_month(t.jie_ms[i]).unwrap();
            assert_eq!(t.ym[i], i32::from(y.0) | i32::from(m.0) << 8, "jie {i}");
        }
    }
}
