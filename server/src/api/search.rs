//! `POST /v1/saju/search`: auspicious-time search (택일) — scan `start..=end` (wall clocks at
//! `offset` minutes or in `zone`) every `step`, and return the runs of instants whose pillars
//! match the pattern, a page at a time.
//!
//! Fields (a JSON object; all but `start`, `end` and `offset`/`zone` optional):
//! - `start`, `end`: `YYYY-MM-DDTHH:MM[:SS]`. A wall clock a zone skips or repeats is refused
//!   (422) like everywhere else, unless `transition` (`reject`, `earlier`, `later`) says which
//!   instant it means; the same policy reads `birth_datetime`. `step`: seconds, or `"30m"`,
//!   `"2h"`, `"1d"` (60 s ..= 1 day; default 3600 s).
//! - `zi`: 子時 convention (as `/v1/saju`).
//! - Pattern, per pillar `P` in `year`, `month`, `day`, `hour`: `P` (a pillar, `"甲子"` or
//!   0..59), `P_stem` (`"甲"`/`"갑"` or 0..9), `P_branch` (`"子"`/`"자"` or 0..11),
//!   `P_ten_gods` (comma-separated ten gods of that stem relative to the birth day master,
//!   hanja or hangul, e.g. `"正財,偏財"` or `"정재,편재"`; needs `birth_datetime`).
//! - Birth chart: `birth_datetime` with `birth_offset` or `birth_zone`; `avoid_clash` (bool):
//!   the day branch must not clash (沖) with the birth day's branch.
//! - Paging: `cursor` (a point index from `next_cursor`), `limit` (runs per page; default
//!   100, at most `search_max_page`).
//!
//! Each match carries its first and last wall clock and their UTC offsets (`start_offset_s`,
//! `end_offset_s`), so two instants of a repeated hour are told apart.
//!
//! Limits (flags): the range (`search_max_years`), the number of points
//! (`search_max_points`), the page size (`search_max_page`). Bad fields → 422 naming the field.
use super::input::{Fields, InputError};
use crate::config::SearchLimits as Limits;
use crate::http::{ApiError, MediaType, Serde};
use engine::search::{Clock, Pattern, PillarPattern, Scan};
use engine::{BirthInput, GanZhi, Options, TimeBasis, TransitionPolicy, ZiConvention};
use serde::Serialize;

const POS: [&str; 4] = ["year", "month", "day", "hour"];
const FIELDS: &[&str] = &[
    "start",
    "end",
    "offset",
    "zone",
    "step",
    "zi",
    "cursor",
    "limit",
    "birth_datetime",
    "birth_offset",
    "birth_zone",
    "avoid_clash",
    "year",
    "year_stem",
    "year_branch",
    "year_ten_gods",
    "month",
    "month_stem",
    "month_branch",
    "month_ten_gods",
    "day",
    "day_stem",
    "day_branch",
    "day_ten_gods",
    "hour",
    "hour_stem",
    "hour_branch",
    "hour_ten_gods",
];

/// One page of a search.
#[derive(Serialize)]
pub(crate) struct Out {
    points: u64,
    step_s: i64,
    scanned: u64,
    kernel: &'static str,
    matches: Vec<Match>,
    next_cursor: Option<u64>,
}

#[derive(Serialize)]
struct Match {
    start: String,
    start_offset_s: i32,
    end: String,
    end_offset_s: i32,
    points: u64,
    four_pillars: engine::FourPillars,
}

/// Points scanned between yields to the shard's event loop (≈ 0.5–1 ms in release), so a long
/// search does not stall the shard's other connections.
const SLICE_POINTS: u64 = 1 << 16;

/// `POST /v1/saju/search`.
pub(crate) async fn search(media: MediaType, body: &[u8], limits: Limits) -> Result<Serde<Out>, ApiError> {
    if !matches!(media, MediaType::Absent | MediaType::Json) {
        return Err(ApiError::media_type("send application/json"));
    }
    let mut scratch = body.to_vec();
    let plan = Fields::from_json(&mut scratch).and_then(|f| plan(&f, limits))?;
    let kernel = engine::arch::active();
    let mut searcher = engine::search::Searcher::new(plan.scan, &plan.pattern, plan.cursor, plan.limit)
        .map_err(|e| ApiError::field("start", e.to_string()))?;
    let page = loop {
        if let Some(page) = searcher.step(kernel, SLICE_POINTS) {
            break page;
        }
        shard::rt::yield_now().await;
    };
    Ok(Serde(answer(&plan, &page, kernel.name())))
}

/// A validated search.
struct Plan {
    scan: Scan,
    pattern: Pattern,
    cursor: u64,
    limit: usize,
}

/// The instant (Unix s) of a wall clock at an offset (minutes) or in a zone.
fn instant(
    f: &Fields<'_>,
    dt_key: &'static str,
    off_key: &'static str,
    zone_key: &'static str,
    transition: TransitionPolicy,
) -> Result<(i64, Clock), InputError> {
    let dt = f.str(dt_key)?.ok_or_else(|| InputError::field(dt_key, "required, e.g. 2027-01-01T00:00"))?;
    let t = engine::calendar::parse_datetime(dt)
        .filter(engine::calendar::DateTime::is_valid)
        .ok_or_else(|| InputError::field(dt_key, format!("{dt:?} is not a valid YYYY-MM-DDTHH:MM[:SS]")))?;
    let (time, clock) = match (f.int(off_key)?, f.str(zone_key)?) {
        (Some(_), Some(_)) => return Err(InputError::field(off_key, format!("give {off_key} or {zone_key}, not both"))),
        (Some(m), None) => {
            let m = i32::try_from(m).ok().filter(|m| (-720..=840).contains(m));
            let m = m.ok_or_else(|| InputError::field(off_key, "minutes east of UTC, -720..=840"))?;
            (TimeBasis::Offset(m), Clock::Offset(m * 60))
        }
        (None, Some(z)) => {
            let z: engine::Zone = z.parse().map_err(|e: engine::EngineError| InputError::field(zone_key, e.to_string()))?;
            (TimeBasis::Zone(z), Clock::Zone(z))
        }
        (None, None) => return Err(InputError::field(off_key, format!("{off_key} (minutes) or {zone_key} is required"))),
    };
    let input = BirthInput::solar(t, time);
    let opts = Options { transition, ..Options::default() };
    let r = engine::pillars::resolve(&input, &opts).map_err(|e| InputError::field(dt_key, e.to_string()))?;
    Ok((r.utc_ms.div_euclid(1000), clock))
}

fn step_s(f: &Fields<'_>) -> Result<i64, InputError> {
    let bad = || InputError::field("step", "seconds (60..=86400) or e.g. \"1m\", \"30m\", \"2h\", \"1d\"");
    let s = match (f.int("step"), f.str("step")) {
        (Ok(Some(n)), _) => n,
        (_, Ok(Some(s))) => {
            let s = s.trim();
            let (num, unit) = s.split_at(s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len()));
            let n: i64 = num.parse().map_err(|_| bad())?;
            let mul = match unit {
                "" | "s" => 1,
                "m" | "min" => 60,
                "h" => 3600,
                "d" => 86_400,
                _ => return Err(bad()),
            };
            n.checked_mul(mul).ok_or_else(bad)?
        }
        (_, Ok(None)) => 3600,
        _ => return Err(bad()),
    };
    if (60..=86_400).contains(&s) {
        Ok(s)
    } else {
        Err(bad())
    }
}

/// A pillar (`"甲子"` or 0..59), stem or branch (hanja, hangul or index).
fn index_of(f: &Fields<'_>, key: &'static str, names: Option<&[engine::names::Name]>, n: i64) -> Result<Option<u8>, InputError> {
    let bad = |d: String| InputError::field(key, d);
    if let Ok(Some(i)) = f.int(key) {
        return if (0..n).contains(&i) { Ok(u8::try_from(i).ok()) } else { Err(bad(format!("an index 0..{n}"))) };
    }
    let Some(s) = f.str(key)? else { return Ok(None) };
    let s = s.trim();
    let found = match names {
        None => GanZhi::parse_hanja(s).map(|g| g.0),
        Some(names) => names.iter().position(|x| x.hanja == s || x.hangul == s).and_then(|i| u8::try_from(i).ok()),
    };
    found.map(Some).ok_or_else(|| bad(format!("{s:?} is not a known name (hanja, hangul or an index 0..{n})")))
}

fn ten_gods(f: &Fields<'_>, key: &'static str) -> Result<Option<u16>, InputError> {
    let Some(list) = f.str(key)? else { return Ok(None) };
    let mut mask = 0u16;
    for name in list.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let i = (0..10u8)
            .find(|&i| {
                let n = engine::chart::tables::TenGod(i).name();
                n.hanja == name || n.hangul == name || engine::chart::tables::TenGod(i).reference() == name
            })
            .ok_or_else(|| InputError::field(key, format!("{name:?} is not a ten god (e.g. 正財 or 정재)")))?;
        mask |= 1 << i;
    }
    Ok(Some(mask))
}

fn plan(f: &Fields<'_>, limits: Limits) -> Result<Plan, InputError> {
    f.only(FIELDS)?;
    let transition: TransitionPolicy = match f.str("transition")? {
        Some(t) => t.parse().map_err(|_| InputError::field("transition", "must be reject, earlier or later"))?,
        None => TransitionPolicy::Reject,
    };
    let (start, clock) = instant(f, "start", "offset", "zone", transition)?;
    let (end, _) = instant(f, "end", "offset", "zone", transition)?;
    if end < start {
        return Err(InputError::field("end", "must not be before start"));
    }
    let max_s = i64::from(limits.max_years) * 31_556_952; // Gregorian mean year
    if end - start > max_s {
        return Err(InputError::field("end", format!("the range is limited to {} years", limits.max_years)));
    }
    let step = step_s(f)?;
    let points = u64::try_from((end - start) / step + 1).unwrap_or(u64::MAX);
    if points > limits.max_points {
        return Err(InputError::field("step", format!("{points} points; at most {} per search (use a larger step)", limits.max_points)));
    }
    let zi: ZiConvention = match f.str("zi")? {
        Some(z) => z.parse().map_err(|e: engine::EngineError| InputError::field("zi", e.to_string()))?,
        None => ZiConvention::default(),
    };
    let cursor = match f.int("cursor")? {
        Some(c) => u64::try_from(c).ok().filter(|c| *c <= points).ok_or_else(|| InputError::field("cursor", format!("0..={points}")))?,
        None => 0,
    };
    let limit = match f.int("limit")? {
        Some(l) => usize::try_from(l)
            .ok()
            .filter(|l| (1..=limits.max_page).contains(l))
            .ok_or_else(|| InputError::field("limit", format!("1..={}", limits.max_page)))?,
        None => limits.max_page.min(100),
    };

    let mut pattern = Pattern::default();
    let birth = match f.str("birth_datetime")? {
        Some(_) => {
            let (t, clock) = instant(f, "birth_datetime", "birth_offset", "birth_zone", transition)?;
            let off = match clock {
                Clock::Offset(o) => o,
                Clock::Zone(z) => z.offset_at(t * 1000),
            };
            let b = engine::batch::PillarBatch::compute(&[t], &[off * 1000])
                .map_err(|(_, e)| InputError::field("birth_datetime", e.to_string()))?;
            let fp = b.get(0, zi);
            pattern.day_master = Some(fp.day.stem());
            Some(fp)
        }
        None => None,
    };
    for (k, pos) in POS.iter().enumerate() {
        const KEYS: [[&str; 4]; 4] = [
            ["year", "year_stem", "year_branch", "year_ten_gods"],
            ["month", "month_stem", "month_branch", "month_ten_gods"],
            ["day", "day_stem", "day_branch", "day_ten_gods"],
            ["hour", "hour_stem", "hour_branch", "hour_ten_gods"],
        ];
        let [g, s, b, tg] = KEYS[k];
        let p = PillarPattern {
            ganzhi: index_of(f, g, None, 60)?,
            stem: index_of(f, s, Some(&engine::ganzhi::STEMS), 10)?,
            branch: index_of(f, b, Some(&engine::ganzhi::BRANCHES), 12)?,
            ten_gods: ten_gods(f, tg)?,
            no_clash_with: None,
        };
        if p.ten_gods.is_some() && birth.is_none() {
            return Err(InputError::field(tg, "needs birth_datetime (the day master)"));
        }
        match *pos {
            "year" => pattern.year = p,
            "month" => pattern.month = p,
            "day" => pattern.day = p,
            _ => pattern.hour = p,
        }
    }
    if f.bool("avoid_clash")?.unwrap_or(false) {
        let b = birth.ok_or_else(|| InputError::field("avoid_clash", "needs birth_datetime"))?;
        pattern.day.no_clash_with = Some(b.day.branch());
    }

    let scan = Scan { start_utc_s: start, step_s: step, points, clock, zi };
    Ok(Plan { scan, pattern, cursor, limit })
}

fn answer(plan: &Plan, page: &engine::search::Page, kernel: &'static str) -> Out {
    let scan = &plan.scan;
    let local = |k: u64| {
        let t = scan.instant(k);
        let off = match scan.clock {
            Clock::Offset(o) => o,
            Clock::Zone(z) => z.offset_at(t * 1000),
        };
        (engine::calendar::DateTime::from_ms((t + i64::from(off)) * 1000).to_string(), off)
    };
    let matches = page
        .runs
        .iter()
        .map(|r| {
            let ((start, start_offset_s), (end, end_offset_s)) = (local(r.first), local(r.last));
            Match { start, start_offset_s, end, end_offset_s, points: r.last - r.first + 1, four_pillars: r.pillars }
        })
        .collect();
    Out { points: scan.points, step_s: scan.step_s, scanned: page.scanned, kernel, matches, next_cursor: page.next }
}
