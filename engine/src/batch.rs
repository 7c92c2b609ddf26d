//! The batch API: many charts' pillars in one kernel call, struct of arrays in and out.
//!
//! ```
//! use engine::batch::{PillarBatch, clock_shifts};
//! use engine::{SolarTime, ZiConvention};
//! // 1990-05-15T14:30:00 at UTC+9 and 2000-01-01T23:30:00 at UTC+8, civil time.
//! let utc_s = [642_749_400_i64, 946_740_600];
//! let offset_s = [32_400, 28_800];
//! let shift_ms = clock_shifts(&utc_s, &offset_s, None, SolarTime::Civil).unwrap();
//! let b = PillarBatch::compute(&utc_s, &shift_ms).unwrap();
//! assert_eq!(b.get(0, ZiConvention::Split).day.hanja(), "庚辰");
//! assert_ne!(b.get(1, ZiConvention::Split).day, b.get(1, ZiConvention::DayChangesAt23).day);
//! ```
//!
//! # Stages
//! 1. **Resolve** (scalar pre-pass): a wall clock and a zone (Asia/Seoul history, DST,
//!    transitions) or a lunar date become an instant; the clock that decides day and hour
//!    becomes a shift in ms from the instant ([`clock_shifts`]: offset × 1000, or the
//!    local-mean shift `round(lon × 240 000)`, plus the equation of time for apparent solar
//!    time). [`four_pillars_batch`] does this from [`BirthInput`]s.
//! 2. **Kernel** ([`crate::arch`]): year, month, day, hour and the 23:00-day variant, SIMD.
//! 3. **Chart fields that vectorize** ([`ten_gods`], [`element_counts`]): table lookups over
//!    the pillar arrays, written as straight loops without branches (the compiler vectorizes
//!    them; no hand-written SIMD yet).
use crate::arch::{self, Inputs, Kernel, Outputs, MAX_SHIFT_MS, MAX_UTC_S, MIN_UTC_S};
use crate::astro::equation_of_time_min;
use crate::chart::tables::{TenGod, HIDDEN};
use crate::error::EngineError;
use crate::ganzhi::{branch_element, stem_element, GanZhi};
use crate::input::{BirthInput, Options, SolarTime, ZiConvention};
use crate::pillars::{resolve, FourPillars};

/// Pillar indices of a batch, struct of arrays (each `Vec` as long as the batch).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PillarBatch {
    /// Year pillar indices (0 = 甲子).
    pub year: Vec<u8>,
    /// Month pillar indices.
    pub month: Vec<u8>,
    /// Day pillar indices of the clock's date (`split`, `midnight`).
    pub day: Vec<u8>,
    /// Hour pillar indices under `split` / `day_changes_at_23`.
    pub hour: Vec<u8>,
    /// Day pillar indices under `day_changes_at_23`.
    pub day23: Vec<u8>,
}

impl PillarBatch {
    /// A zeroed batch of `n` items.
    #[must_use]
    pub fn zeroed(n: usize) -> Self {
        Self { year: vec![0; n], month: vec![0; n], day: vec![0; n], hour: vec![0; n], day23: vec![0; n] }
    }

    /// Number of items.
    #[must_use]
    pub fn len(&self) -> usize {
        self.year.len()
    }

    /// Whether the batch is empty.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.year.is_empty()
    }

    /// The kernel's output view of this batch.
    pub fn outputs(&mut self) -> Outputs<'_> {
        Outputs { year: &mut self.year, month: &mut self.month, day: &mut self.day, hour: &mut self.hour, day23: &mut self.day23 }
    }

    /// Pillars of every item with the [active](arch::active) kernel, after checking the domain.
    ///
    /// # Errors
    /// The first item outside the domain: its index and [`EngineError::OutOfRange`].
    ///
    /// # Panics
    /// If the two slices' lengths differ.
    pub fn compute(utc_s: &[i64], shift_ms: &[i32]) -> Result<Self, (usize, EngineError)> {
        Self::compute_with(arch::active(), utc_s, shift_ms)
    }

    /// As [`Self::compute`] with a given kernel.
    ///
    /// # Errors
    /// The first item outside the domain.
    ///
    /// # Panics
    /// If the two slices' lengths differ.
    pub fn compute_with(k: Kernel, utc_s: &[i64], shift_ms: &[i32]) -> Result<Self, (usize, EngineError)> {
        if let Some(i) = utc_s.iter().zip(shift_ms).position(|(&t, &s)| !in_domain(t, s)) {
            return Err((i, out_of_range(utc_s[i])));
        }
        let mut b = Self::zeroed(utc_s.len());
        k.pillars(&Inputs { utc_s, shift_ms }, &mut b.outputs());
        Ok(b)
    }

    /// Item `i` as [`FourPillars`] under a 子時 convention.
    ///
    /// # Panics
    /// If `i` is out of bounds.
    #[must_use]
    pub fn get(&self, i: usize, zi: ZiConvention) -> FourPillars {
        let (day, hour) = match zi {
            ZiConvention::Split => (self.day[i], self.hour[i]),
            ZiConvention::DayChangesAt23 => (self.day23[i], self.hour[i]),
            // 23:00–23:59 (the only time day23 ≠ day): 子 hour with its own day's stem.
            ZiConvention::Midnight if self.day23[i] != self.day[i] => (self.day[i], self.day[i] % 5 * 12),
            ZiConvention::Midnight => (self.day[i], self.hour[i]),
        };
        FourPillars { year: GanZhi(self.year[i]), month: GanZhi(self.month[i]), day: GanZhi(day), hour: GanZhi(hour) }
    }
}

/// Whether an item is inside the kernels' domain (see [`crate::arch`]).
#[must_use]
pub fn in_domain(utc_s: i64, shift_ms: i32) -> bool {
    (MIN_UTC_S..=MAX_UTC_S).contains(&utc_s) && (-MAX_SHIFT_MS..=MAX_SHIFT_MS).contains(&shift_ms)
}

fn out_of_range(utc_s: i64) -> EngineError {
    EngineError::OutOfRange(format!("{utc_s} (Unix seconds) is outside {MIN_UTC_S}..={MAX_UTC_S}"))
}

/// The clock shift of one item (ms from the instant to the clock that decides day and hour).
///
/// # Errors
/// A bad offset (beyond ±18 h), a missing or bad longitude for local-mean / apparent time.
pub fn clock_shift(utc_s: i64, offset_s: i32, lon: Option<f64>, solar_time: SolarTime) -> Result<i32, EngineError> {
    if !(-64_800..=64_800).contains(&offset_s) {
        return Err(EngineError::InvalidOffset(offset_s / 60));
    }
    let lon = crate::pillars::check_longitude(lon, solar_time != SolarTime::Civil)?;
    let utc_ms = utc_s.saturating_mul(1000);
    let shift = match (solar_time, lon) {
        (SolarTime::LocalMean, Some(l)) => crate::pillars::lmt_ms(utc_ms, l) - utc_ms,
        (SolarTime::Apparent, Some(l)) => crate::pillars::ast_ms(utc_ms, l, equation_of_time_min(utc_ms)) - utc_ms,
        _ => i64::from(offset_s) * 1000,
    };
    // |shift| ≤ 18 h + 17 min here.
    i32::try_from(shift).map_err(|_| EngineError::InvalidOffset(offset_s / 60))
}

/// The scalar pre-pass over a batch: [`clock_shift`] of every item.
///
/// # Errors
/// The first bad item: its index and the error.
///
/// # Panics
/// If the slices' lengths differ.
pub fn clock_shifts(utc_s: &[i64], offset_s: &[i32], lon: Option<&[f64]>, solar_time: SolarTime) -> Result<Vec<i32>, (usize, EngineError)> {
    assert_eq!(utc_s.len(), offset_s.len(), "clock_shifts: utc_s and offset_s lengths differ");
    if let Some(l) = lon {
        assert_eq!(l.len(), utc_s.len(), "clock_shifts: lon length differs");
    }
    if solar_time == SolarTime::Civil {
        // The common case, a plain vectorizable map.
        if let Some(i) = offset_s.iter().position(|o| !(-64_800..=64_800).contains(o)) {
            return Err((i, EngineError::InvalidOffset(offset_s[i] / 60)));
        }
        return Ok(offset_s.iter().map(|&o| o * 1000).collect());
    }
    (0..utc_s.len()).map(|i| clock_shift(utc_s[i], offset_s[i], lon.map(|l| l[i]), solar_time).map_err(|e| (i, e))).collect()
}

/// [`crate::four_pillars`] of every input: the scalar resolve pre-pass, then one kernel call
/// for all the items that resolved. Each item's result equals `four_pillars(input, opts)`.
#[must_use]
pub fn four_pillars_batch(inputs: &[BirthInput], opts: &Options) -> Vec<Result<FourPillars, EngineError>> {
    four_pillars_batch_with(arch::active(), inputs, opts)
}

/// As [`four_pillars_batch`] with a given kernel.
#[must_use]
pub fn four_pillars_batch_with(k: Kernel, inputs: &[BirthInput], opts: &Options) -> Vec<Result<FourPillars, EngineError>> {
    let (b, errors) = pillar_batch_with(k, inputs, opts);
    errors
        .into_iter()
        .enumerate()
        .map(|(i, e)| match e {
            Some(e) => Err(e),
            None => Ok(b.get(i, opts.zi)),
        })
        .collect()
}

/// The resolve pre-pass and one kernel call: the whole [`PillarBatch`] (every 子時 variant)
/// and, per item, the error that rejected it (its pillars are then meaningless).
#[must_use]
pub fn pillar_batch_with(k: Kernel, inputs: &[BirthInput], opts: &Options) -> (PillarBatch, Vec<Option<EngineError>>) {
    pillar_batch_each(k, inputs.iter().map(|i| (i, opts)))
}

/// [`crate::four_pillars`] of items that each carry their own options (clock, 子時, transition
/// policy), still one kernel call: options only change the resolve pre-pass and which of the
/// kernel's outputs an item reads.
#[must_use]
pub fn four_pillars_each(k: Kernel, items: &[(BirthInput, Options)]) -> Vec<Result<FourPillars, EngineError>> {
    let (b, errors) = pillar_batch_each(k, items.iter().map(|(i, o)| (i, o)));
    errors
        .into_iter()
        .enumerate()
        .map(|(i, e)| match e {
            Some(e) => Err(e),
            None => Ok(b.get(i, items[i].1.zi)),
        })
        .collect()
}

fn pillar_batch_each<'a>(
    k: Kernel,
    items: impl ExactSizeIterator<Item = (&'a BirthInput, &'a Options)>,
) -> (PillarBatch, Vec<Option<EngineError>>) {
    let n = items.len();
    let mut utc_s = Vec::with_capacity(n);
    let mut shift_ms = Vec::with_capacity(n);
    let mut errors: Vec<Option<EngineError>> = Vec::with_capacity(n);
    for (input, opts) in items {
        let item = resolve(input, opts).and_then(|r| {
            let utc = r.utc_ms.div_euclid(1000);
            let shift = i32::try_from(r.day_clock.as_ms() - utc * 1000).ok().filter(|s| in_domain(utc, *s));
            shift.map(|s| (utc, s)).ok_or_else(|| out_of_range(utc))
        });
        let (u, s, e) = match item {
            Ok((u, s)) => (u, s, None),
            // A placeholder inside the domain keeps the arrays dense; its result is ignored.
            Err(e) => (0, 0, Some(e)),
        };
        utc_s.push(u);
        shift_ms.push(s);
        errors.push(e);
    }
    let mut b = PillarBatch::zeroed(n);
    k.pillars(&Inputs { utc_s: &utc_s, shift_ms: &shift_ms }, &mut b.outputs());
    (b, errors)
}

/// Ten-god indices (`TenGod` order: 0 比肩 … 9 正印) of a batch relative to each day master,
/// struct of arrays: the year, month and hour stems and the main hidden stem of the year,
/// month, day and hour branches.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TenGodBatch {
    /// Stems of year, month, hour.
    pub stem: [Vec<u8>; 3],
    /// Branches (main qi) of year, month, day, hour.
    pub branch: [Vec<u8>; 4],
}

/// Ten gods of stems (10 × 10) and of branches' main qi (10 × 12), by day master.
type TenGodTables = ([[u8; 10]; 10], [[u8; 12]; 10]);

fn ten_god_tables() -> &'static TenGodTables {
    static T: std::sync::OnceLock<TenGodTables> = std::sync::OnceLock::new();
    T.get_or_init(|| {
        let mut s = [[0; 10]; 10];
        let mut b = [[0; 12]; 10];
        for dm in 0..10u8 {
            for x in 0..10u8 {
                s[usize::from(dm)][usize::from(x)] = TenGod::of(dm, x).0;
            }
            for x in 0..12u8 {
                b[usize::from(dm)][usize::from(x)] = TenGod::of(dm, HIDDEN[usize::from(x)][0]).0;
            }
        }
        (s, b)
    })
}

/// Ten gods of every item of a batch (split convention: `day` and `hour` as given).
#[must_use]
pub fn ten_gods(year: &[u8], month: &[u8], day: &[u8], hour: &[u8]) -> TenGodBatch {
    let (ts, tb) = ten_god_tables();
    let n = day.len();
    let mut out = TenGodBatch::default();
    for v in out.stem.iter_mut().chain(out.branch.iter_mut()) {
        *v = vec![0; n];
    }
    for i in 0..n {
        let dm = usize::from(day[i] % 60 % 10);
        let st = &ts[dm];
        let br = &tb[dm];
        let p = [year[i] % 60, month[i] % 60, day[i] % 60, hour[i] % 60];
        out.stem[0][i] = st[usize::from(p[0] % 10)];
        out.stem[1][i] = st[usize::from(p[1] % 10)];
        out.stem[2][i] = st[usize::from(p[3] % 10)];
        for (k, &g) in p.iter().enumerate() {
            out.branch[k][i] = br[usize::from(g % 12)];
        }
    }
    out
}

/// Element counts (wood, fire, earth, metal, water) over the 8 stems and branches of every
/// item: `counts[e][i]`.
#[must_use]
pub fn element_counts(year: &[u8], month: &[u8], day: &[u8], hour: &[u8]) -> [Vec<u8>; 5] {
    let n = day.len();
    // Per sexagenary index: its stem's and branch's elements as one-hot nibbles in a u32, so
    // a chart's counts are a sum of four table entries (no count exceeds 8 < 16).
    static T: std::sync::OnceLock<[u32; 60]> = std::sync::OnceLock::new();
    let t = T.get_or_init(|| {
        let mut t = [0u32; 60];
        for (g, slot) in t.iter_mut().enumerate() {
            #[allow(clippy::cast_possible_truncation)]
            let gz = GanZhi(g as u8);
            *slot = (1 << (4 * stem_element(gz.stem()).index())) + (1 << (4 * branch_element(gz.branch()).index()));
        }
        t
    });
    let mut out: [Vec<u8>; 5] = Default::default();
    for v in &mut out {
        *v = vec![0; n];
    }
    for i in 0..n {
        let s = t[usize::from(year[i] % 60)] + t[usize::from(month[i] % 60)] + t[usize::from(day[i] % 60)] + t[usize::from(hour[i] % 60)];
        for (e, v) in out.iter_mut().enumerate() {
            #[allow(clippy::cast_possible_truncation)]
            {
                v[i] = (s >> (4 * e) & 0xf) as u8;
            }
        }
    }
    out
}
