//! The full chart: pillars with ten gods, hidden stems, life stages and nayin; void branches;
//! element counts; the adjacent 節; luck pillars and the yearly pillar.

pub mod luck;
pub mod tables;

use crate::astro::terms::{jie_after, jie_at_or_before, Jie, TERM_NAMES};
use crate::calendar::DateTime;
use crate::error::EngineError;
use crate::ganzhi::{branch_element, stem_element, stem_is_yang, Element, GanZhi, BRANCHES, STEMS};
use crate::input::{BirthInput, Options, TimeBasis};
use crate::lunar::{solar_to_lunar, LunarDate};
use crate::names::Name;
use crate::pillars::{pillars_of, resolve, FourPillars};
use luck::{Luck, YearLuck};
use serde::Serialize;
use tables::{nayin, void_branches, Stage, TenGod, HIDDEN};

/// A stem of a pillar.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct StemInfo {
    /// 0..10.
    pub index: u8,
    /// Name.
    pub name: Name,
    /// Element.
    pub element: Element,
    /// Yang (陽) or yin.
    pub yang: bool,
    /// Ten god relative to the day master; `None` for the day master itself (日主).
    pub ten_god: Option<TenGod>,
}

/// A branch of a pillar.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BranchInfo {
    /// 0..12.
    pub index: u8,
    /// Name.
    pub name: Name,
    /// Element.
    pub element: Element,
    /// Ten god of the main hidden stem (本氣).
    pub ten_god: TenGod,
    /// Hidden stems, main qi first.
    pub hidden: Vec<StemInfo>,
}

/// One pillar with its details.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Pillar {
    /// `year`, `month`, `day` or `hour`.
    pub position: &'static str,
    /// 年柱 연주, 月柱 월주, 日柱 일주 or 時柱 시주.
    pub label: Name,
    /// The sexagenary pillar.
    pub ganzhi: GanZhi,
    /// Heavenly stem.
    pub stem: StemInfo,
    /// Earthly branch.
    pub branch: BranchInfo,
    /// 12운성 of the day master on this branch.
    pub life_stage: Stage,
    /// 납음.
    pub nayin: Name,
}

/// Counts of the five elements.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct ElementCounts {
    /// 木
    pub wood: u8,
    /// 火
    pub fire: u8,
    /// 土
    pub earth: u8,
    /// 金
    pub metal: u8,
    /// 水
    pub water: u8,
}

impl ElementCounts {
    fn add(&mut self, e: Element) {
        let slot = match e {
            Element::Wood => &mut self.wood,
            Element::Fire => &mut self.fire,
            Element::Earth => &mut self.earth,
            Element::Metal => &mut self.metal,
            Element::Water => &mut self.water,
        };
        *slot += 1;
    }
}

/// A solar term instant.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct TermAt {
    /// Name of the term.
    pub name: Name,
    /// Apparent solar longitude, degrees.
    pub longitude: u16,
    /// Instant, UTC.
    pub utc: DateTime,
    /// Wall clock at the birth's offset.
    pub local: DateTime,
}

/// Where and how the chart was read.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Moment {
    /// Civil wall clock (Gregorian).
    pub local: DateTime,
    /// Korean lunar date of the civil date (present for every supported date).
    pub lunar: Option<LunarDate>,
    /// Time zone, if given by zone.
    pub zone: Option<&'static str>,
    /// UTC offset in force, seconds east.
    pub utc_offset_s: i32,
    /// The instant, UTC.
    pub utc: DateTime,
    /// Longitude, degrees east.
    pub longitude: Option<f64>,
    /// Clock that decided the day and hour pillars.
    pub day_clock: DateTime,
    /// Equation of time applied (apparent solar time only), minutes.
    pub eot_min: Option<f64>,
}

/// A full saju chart. Serializes to JSON for the API.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Chart {
    /// The input as resolved.
    pub moment: Moment,
    /// The options used.
    pub options: Options,
    /// The four pillars (indices and names).
    pub four_pillars: FourPillars,
    /// Year, month, day and hour pillars with their details.
    pub pillars: [Pillar; 4],
    /// Day master (日主 / 일간).
    pub day_master: StemInfo,
    /// Void branches (공망) of the day pillar.
    pub void_branches: [Name; 2],
    /// Elements of the eight visible characters.
    pub elements: ElementCounts,
    /// Elements of the hidden stems.
    pub elements_hidden: ElementCounts,
    /// The 節 at or before the birth (start of the month pillar).
    pub previous_jie: TermAt,
    /// The next 節.
    pub next_jie: TermAt,
    /// Luck pillars (needs a gender).
    pub luck: Option<Luck>,
    /// Yearly pillar of `options.luck_year`.
    pub year_luck: Option<YearLuck>,
}

fn stem_info(dm: u8, s: u8, is_dm: bool) -> StemInfo {
    StemInfo {
        index: s,
        name: STEMS[usize::from(s)],
        element: stem_element(s),
        yang: stem_is_yang(s),
        ten_god: (!is_dm).then(|| TenGod::of(dm, s)),
    }
}

fn pillar(position: &'static str, g: GanZhi, dm: u8) -> Pillar {
    let b = g.branch();
    let hidden: Vec<StemInfo> = HIDDEN[usize::from(b)].iter().map(|&s| stem_info(dm, s, false)).collect();
    let label = match position {
        "year" => Name { hanja: "年柱", hangul: "연주" },
        "month" => Name { hanja: "月柱", hangul: "월주" },
        "day" => Name { hanja: "日柱", hangul: "일주" },
        _ => Name { hanja: "時柱", hangul: "시주" },
    };
    Pillar {
        position,
        label,
        ganzhi: g,
        stem: stem_info(dm, g.stem(), position == "day"),
        branch: BranchInfo {
            index: b,
            name: BRANCHES[usize::from(b)],
            element: branch_element(b),
            ten_god: TenGod::of(dm, HIDDEN[usize::from(b)][0]),
            hidden,
        },
        life_stage: Stage::of(dm, b),
        nayin: nayin(g),
    }
}

fn term_at(j: Jie, offset_s: i32) -> TermAt {
    let (h, k) = (TERM_NAMES[j.k].0, TERM_NAMES[j.k].1);
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let longitude = ((285 + 15 * j.k) % 360) as u16;
    TermAt {
        name: Name { hanja: h, hangul: k },
        longitude,
        utc: DateTime::from_ms(j.ms),
        local: DateTime::from_ms(j.ms + i64::from(offset_s) * 1000),
    }
}

impl Chart {
    /// Computes the full chart of a birth.
    ///
    /// # Errors
    /// Any input error; [`EngineError::field`] names the field.
    pub fn compute(input: &BirthInput, opts: &Options) -> Result<Self, EngineError> {
        let r = resolve(input, opts)?;
        let four = pillars_of(&r, opts.zi)?;
        let dm = four.day.stem();
        let pillars =
            [pillar("year", four.year, dm), pillar("month", four.month, dm), pillar("day", four.day, dm), pillar("hour", four.hour, dm)];
        let mut elements = ElementCounts::default();
        let mut elements_hidden = ElementCounts::default();
        for p in &pillars {
            elements.add(p.stem.element);
            elements.add(p.branch.element);
            p.branch.hidden.iter().for_each(|h| elements_hidden.add(h.element));
        }
        let range = || EngineError::OutOfRange(format!("{}: outside the solar-term table", r.local));
        let prev = jie_at_or_before(r.utc_ms).ok_or_else(range)?;
        let next = jie_after(r.utc_ms).ok_or_else(range)?;
        let luck = input.gender.map(|g| luck::luck(r.utc_ms, &r.local, r.offset_s, four.year, four.month, g)).transpose()?;
        let year_luck = opts.luck_year.map(|y| luck::year_luck(y, r.local.year, luck.as_ref())).transpose()?;
        let [v0, v1] = void_branches(four.day);
        Ok(Self {
            moment: Moment {
                local: r.local,
                lunar: solar_to_lunar(r.local.year, r.local.month, r.local.day).ok(),
                zone: match input.time {
                    TimeBasis::Zone(z) => Some(z.name()),
                    TimeBasis::Offset(_) => None,
                },
                utc_offset_s: r.offset_s,
                utc: DateTime::from_ms(r.utc_ms),
                longitude: input.longitude,
                day_clock: r.day_clock,
                eot_min: r.eot_min,
            },
            options: *opts,
            four_pillars: four,
            day_master: stem_info(dm, dm, true),
            void_branches: [BRANCHES[usize::from(v0)], BRANCHES[usize::from(v1)]],
            elements,
            elements_hidden,
            previous_jie: term_at(prev, r.offset_s),
            next_jie: term_at(next, r.offset_s),
            luck,
            year_luck,
            pillars,
        })
    }
}
