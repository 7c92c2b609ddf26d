//! Auspicious-time search (택일): scan evenly spaced instants through the batch kernel and keep
//! those whose pillars match a [`Pattern`], as runs of consecutive matching points with the same
//! four pillars, resumable from any point (pagination).
//!
//! The scan works in chunks of [`CHUNK`] points: fill the instants and clock shifts (the
//! zone's offset per point, a scalar pre-pass; a fixed offset is a constant), one kernel call,
//! then a filter of four byte-table lookups per point ([`Pattern`] is compiled into one
//! 60-entry table per pillar). Civil time only (the clock is the wall clock of the offset or zone).
use crate::arch::{Inputs, Kernel};
use crate::batch::{in_domain, PillarBatch};
use crate::chart::tables::TenGod;
use crate::error::EngineError;
use crate::ganzhi::GanZhi;
use crate::input::ZiConvention;
use crate::pillars::FourPillars;
use crate::zone::Zone;

/// Points per kernel call.
pub const CHUNK: usize = 4096;

/// Constraints on one pillar (all that are set must hold).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PillarPattern {
    /// The whole pillar (sexagenary index 0..60).
    pub ganzhi: Option<u8>,
    /// Its stem (0..10).
    pub stem: Option<u8>,
    /// Its branch (0..12).
    pub branch: Option<u8>,
    /// Allowed ten gods of its stem relative to [`Pattern::day_master`], as a bit mask over
    /// `TenGod` indices (bit 0 比肩 … bit 9 正印); ignored without a day master.
    pub ten_gods: Option<u16>,
    /// Excludes the branch that clashes (沖, six apart) with this branch — e.g. the birth day's.
    pub no_clash_with: Option<u8>,
}

/// What to look for: a pattern per pillar, and the birth chart's day master for ten-god
/// constraints (element relations to the person).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Pattern {
    /// Year pillar.
    pub year: PillarPattern,
    /// Month pillar.
    pub month: PillarPattern,
    /// Day pillar.
    pub day: PillarPattern,
    /// Hour pillar.
    pub hour: PillarPattern,
    /// Stem (0..10) of the birth chart's day master.
    pub day_master: Option<u8>,
}

impl PillarPattern {
    fn table(&self, dm: Option<u8>) -> [bool; 60] {
        let mut t = [false; 60];
        for (i, slot) in t.iter_mut().enumerate() {
            #[allow(clippy::cast_possible_truncation)]
            let g = GanZhi(i as u8);
            *slot = self.ganzhi.is_none_or(|x| x == g.0)
                && self.stem.is_none_or(|x| x == g.stem())
                && self.branch.is_none_or(|x| x == g.branch())
                && self.no_clash_with.is_none_or(|b| (g.branch() + 12 - b % 12) % 12 != 6)
                && match (self.ten_gods, dm) {
                    (Some(mask), Some(dm)) => mask >> TenGod::of(dm, g.stem()).0 & 1 == 1,
                    _ => true,
                };
        }
        t
    }
}

/// An evenly spaced scan.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Scan {
    /// First instant, Unix seconds.
    pub start_utc_s: i64,
    /// Step, seconds (> 0).
    pub step_s: i64,
    /// Number of points (point `k` is `start + k·step`).
    pub points: u64,
    /// The wall clock: a fixed offset (seconds east) or a zone.
    pub clock: Clock,
    /// 子時 convention.
    pub zi: ZiConvention,
}

/// Which wall clock decides day and hour.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Clock {
    /// A fixed UTC offset, seconds east.
    Offset(i32),
    /// A zone's offset at each instant.
    Zone(Zone),
}

/// A run of consecutive matching points with the same four pillars.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Run {
    /// Index of its first point.
    pub first: u64,
    /// Index of its last point.
    pub last: u64,
    /// The pillars (under the scan's 子時 convention).
    pub pillars: FourPillars,
}

/// One page of results.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page {
    /// Runs found, in time order.
    pub runs: Vec<Run>,
    /// Where the next page starts (a point index), if the scan stopped early.
    pub next: Option<u64>,
    /// Points scanned for this page.
    pub scanned: u64,
}

impl Scan {
    /// Instant of point `k`, Unix seconds.
    #[must_use]
    pub fn instant(&self, k: u64) -> i64 {
        self.start_utc_s + i64::try_from(k).unwrap_or(i64::MAX / 2).saturating_mul(self.step_s)
    }

    fn offset_s(&self, utc_s: i64) -> i32 {
        match self.clock {
            Clock::Offset(o) => o,
            Clock::Zone(z) => z.offset_at(utc_s.saturating_mul(1000)),
        }
    }

    /// Checks that every point is inside the kernels' domain.
    ///
    /// # Errors
    /// [`EngineError::OutOfRange`] (a step ≤ 0 is [`EngineError::InvalidDateTime`]).
    pub fn check(&self) -> Result<(), EngineError> {
        if self.step_s <= 0 {
            return Err(EngineError::InvalidDateTime("the step must be positive".into()));
        }
        let last = self.instant(self.points.saturating_sub(1));
        for t in [self.start_utc_s, last] {
            if !in_domain(t, self.offset_s(t).saturating_mul(1000)) {
                return Err(EngineError::OutOfRange(format!("{t} (Unix seconds) is outside the supported range")));
            }
        }
        Ok(())
    }
}

/// Scans from point `from` and returns up to `max_runs` runs. A run still open at a chunk's end
/// continues into the next; the page stops at the first run beyond `max_runs` (`next` is its
/// first point), so pages never split a run.
///
/// # Errors
/// The scan leaves the supported range ([`Scan::check`]).
pub fn search(k: Kernel, scan: &Scan, pattern: &Pattern, from: u64, max_runs: usize) -> Result<Page, EngineError> {
    let mut s = Searcher::new(*scan, pattern, from, max_runs)?;
    loop {
        if let Some(page) = s.step(k, u64::MAX) {
            return Ok(page);
        }
    }
}

/// A search that can stop and resume between chunks, so a caller on an event loop can yield
/// to other work every so many points ([`Searcher::step`]); same results as [`search`].
#[derive(Debug)]
pub struct Searcher {
    scan: Scan,
    tables: [[bool; 60]; 4],
    from: u64,
    p: u64,
    max_runs: usize,
    runs: Vec<Run>,
    open: Option<Run>,
    utc: Vec<i64>,
    shift: Vec<i32>,
    b: PillarBatch,
}

impl Searcher {
    /// A search from point `from` for up to `max_runs` runs.
    ///
    /// # Errors
    /// The scan leaves the supported range ([`Scan::check`]).
    pub fn new(scan: Scan, pattern: &Pattern, from: u64, max_runs: usize) -> Result<Self, EngineError> {
        scan.check()?;
        let tables = [
            pattern.year.table(pattern.day_master),
            pattern.month.table(pattern.day_master),
            pattern.day.table(pattern.day_master),
            pattern.hour.table(pattern.day_master),
        ];
        Ok(Self {
            scan,
            tables,
            from,
            p: from,
            max_runs,
            runs: Vec::new(),
            open: None,
            utc: vec![0; CHUNK],
            shift: vec![if let Clock::Offset(o) = scan.clock { o * 1000 } else { 0 }; CHUNK],
            b: PillarBatch::zeroed(CHUNK),
        })
    }

    /// Scans at least `budget` more points (whole chunks of [`CHUNK`]) or to the end of the
    /// page; returns the page once it is complete, `None` if there is more to scan.
    pub fn step(&mut self, k: Kernel, budget: u64) -> Option<Page> {
        let (scan, tables) = (self.scan, &self.tables);
        let stop_at = self.p.saturating_add(budget);
        while self.p < scan.points {
            if self.p >= stop_at {
                return None;
            }
            let p = self.p;
            let n = usize::try_from((scan.points - p).min(CHUNK as u64)).unwrap_or(CHUNK);
            let base = scan.instant(p);
            for (j, u) in self.utc[..n].iter_mut().enumerate() {
                *u = base + j as i64 * scan.step_s;
            }
            match scan.clock {
                // A fixed offset: the shift is constant (filled once, in `new`).
                Clock::Offset(_) => {}
                Clock::Zone(z) => {
                    for (s, &u) in self.shift[..n].iter_mut().zip(&self.utc[..n]) {
                        *s = z.offset_at(u * 1000) * 1000;
                    }
                }
            }
            if n < self.b.len() {
                self.b = PillarBatch::zeroed(n);
            }
            let b = &mut self.b;
            k.pillars(&Inputs { utc_s: &self.utc[..n], shift_ms: &self.shift[..n] }, &mut b.outputs());
            // Split and day_changes_at_23 read the kernel's arrays directly; midnight's hour
            // needs `PillarBatch::get`.
            let day_arr = if scan.zi == ZiConvention::DayChangesAt23 { &b.day23 } else { &b.day };
            for j in 0..n {
                let hit = if scan.zi == ZiConvention::Midnight {
                    let fp = b.get(j, scan.zi);
                    tables[0][usize::from(fp.year.0)]
                        & tables[1][usize::from(fp.month.0)]
                        & tables[2][usize::from(fp.day.0)]
                        & tables[3][usize::from(fp.hour.0)]
                } else {
                    tables[0][usize::from(b.year[j] % 60)]
                        & tables[1][usize::from(b.month[j] % 60)]
                        & tables[2][usize::from(day_arr[j] % 60)]
                        & tables[3][usize::from(b.hour[j] % 60)]
                };
                if !hit {
                    if let Some(r) = self.open.take() {
                        self.runs.push(r);
                    }
                    continue;
                }
                let fp = b.get(j, scan.zi);
                let point = p + j as u64;
                match &mut self.open {
                    Some(r) if r.pillars == fp && r.last + 1 == point => r.last = point,
                    _ => {
                        if let Some(r) = self.open.take() {
                            self.runs.push(r);
                        }
                        if self.runs.len() >= self.max_runs {
                            let runs = std::mem::take(&mut self.runs);
                            self.p = scan.points;
                            return Some(Page { runs, next: Some(point), scanned: point - self.from });
                        }
                        self.open = Some(Run { first: point, last: point, pillars: fp });
                    }
                }
            }
            self.p += n as u64;
        }
        if let Some(r) = self.open.take() {
            self.runs.push(r);
        }
        Some(Page { runs: std::mem::take(&mut self.runs), next: None, scanned: scan.points.saturating_sub(self.from) })
    }
}
