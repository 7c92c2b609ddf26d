//! The chart's JSON, fast: the same bytes as serializing [`engine::Chart`] with serde, without
//! serde.
//!
//! Most of a chart's 7.9 KB are names (hanja, hangul, romanization) from small finite tables: 60
//! sexagenary pillars, 10 × 10 stem readings, 10 × 12 branch readings, 12 life stages, 30 nayin,
//! 24 solar terms. Through serde every name is romanized again and every pillar name allocated,
//! which cost ~20 µs a chart (the chart itself takes ~1 µs). Here each such piece is serialized
//! once per shard thread, by serde from the engine's own value the first time it is met, and
//! copied afterwards; the rest (numbers, instants, booleans) is written directly.
//!
//! A memoized piece is keyed by what determines it in the engine (a stem info by day master,
//! stem and whether it is the day master itself; a branch info by day master and branch; …), so
//! it equals what serde would write for every chart. `tests::same_bytes_as_serde` checks that
//! byte for byte over thousands of random charts, and fails as soon as the engine adds a field
//! that this writer does not know.
use crate::http::write_str;
use engine::calendar::DateTime;
use engine::chart::luck::{Luck, YearLuck};
use engine::chart::{Chart, ElementCounts, Moment, Pillar, StemInfo, TermAt};
use std::cell::RefCell;

/// A chart rendered by [`write`].
pub(crate) struct ChartJson(pub(crate) Chart);

impl crate::http::Json for ChartJson {
    fn write_json(&self, out: &mut Vec<u8>) {
        write(&self.0, out);
    }

    fn size_hint(&self) -> usize {
        9 * 1024
    }
}

/// Serialized pieces, filled on first use. Sizes are the engine's table sizes; a key outside
/// them (an engine change) falls back to serde for that piece.
struct Memo {
    ganzhi: Vec<Option<Box<[u8]>>>,
    /// (day master × 10 + stem) × 2 + is-day-master.
    stem: Vec<Option<Box<[u8]>>>,
    /// day master × 12 + branch: the branch info with its hidden stems.
    branch: Vec<Option<Box<[u8]>>>,
    /// day master × 12 + branch.
    stage: Vec<Option<Box<[u8]>>>,
    /// By pillar (the nayin of a pillar).
    nayin: Vec<Option<Box<[u8]>>>,
    /// By position, 0..4.
    label: Vec<Option<Box<[u8]>>>,
    /// By day pillar: the two void branches.
    void: Vec<Option<Box<[u8]>>>,
    /// By solar longitude / 15.
    term: Vec<Option<Box<[u8]>>>,
    /// Option enums by discriminant: zi, solar_time, transition.
    zi: Vec<Option<Box<[u8]>>>,
    solar_time: Vec<Option<Box<[u8]>>>,
    transition: Vec<Option<Box<[u8]>>>,
}

impl Memo {
    fn new() -> Self {
        let slots = |n: usize| vec![None; n];
        Self {
            ganzhi: slots(60),
            stem: slots(200),
            branch: slots(120),
            stage: slots(120),
            nayin: slots(60),
            label: slots(4),
            void: slots(60),
            term: slots(24),
            zi: slots(8),
            solar_time: slots(8),
            transition: slots(8),
        }
    }
}

thread_local! {
    static MEMO: RefCell<Memo> = RefCell::new(Memo::new());
}

/// Append `v`'s piece from `table[key]`, serializing it there on first use.
fn piece<T: serde::Serialize + ?Sized>(out: &mut Vec<u8>, table: &mut [Option<Box<[u8]>>], key: usize, v: &T) {
    match table.get_mut(key) {
        Some(Some(bytes)) => out.extend_from_slice(bytes),
        Some(slot) => {
            let bytes = serde(v);
            out.extend_from_slice(&bytes);
            *slot = Some(bytes.into_boxed_slice());
        }
        None => out.extend_from_slice(&serde(v)),
    }
}

/// One value through serde (simd-json's writer, as the chart was always written).
fn serde<T: serde::Serialize + ?Sized>(v: &T) -> Vec<u8> {
    simd_json::to_vec(v).unwrap_or_else(|_| b"null".to_vec())
}

/// Append the chart's JSON to `out`.
pub(crate) fn write(c: &Chart, out: &mut Vec<u8>) {
    MEMO.with(|m| write_with(&mut m.borrow_mut(), c, out));
}

fn write_with(m: &mut Memo, c: &Chart, out: &mut Vec<u8>) {
    let dm = usize::from(c.day_master.index);
    out.extend_from_slice(b"{\"moment\":");
    moment(out, &c.moment);
    out.extend_from_slice(b",\"options\":");
    options(m, out, &c.options);
    out.extend_from_slice(b",\"four_pillars\":{");
    let fp = &c.four_pillars;
    for (i, (key, g)) in [("year", fp.year), ("month", fp.month), ("day", fp.day), ("hour", fp.hour)].into_iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        write_str(out, key);
        out.push(b':');
        piece(out, &mut m.ganzhi, usize::from(g.0), &g);
    }
    out.extend_from_slice(b"},\"pillars\":[");
    for (i, p) in c.pillars.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        pillar(m, out, i, dm, p);
    }
    out.extend_from_slice(b"],\"day_master\":");
    stem(m, out, dm, &c.day_master);
    out.extend_from_slice(b",\"void_branches\":");
    piece(out, &mut m.void, usize::from(fp.day.0), &c.void_branches);
    out.extend_from_slice(b",\"elements\":");
    elements(out, &c.elements);
    out.extend_from_slice(b",\"elements_hidden\":");
    elements(out, &c.elements_hidden);
    out.extend_from_slice(b",\"previous_jie\":");
    term(m, out, &c.previous_jie);
    out.extend_from_slice(b",\"next_jie\":");
    term(m, out, &c.next_jie);
    out.extend_from_slice(b",\"luck\":");
    match &c.luck {
        Some(l) => luck(m, out, l),
        None => out.extend_from_slice(b"null"),
    }
    out.extend_from_slice(b",\"year_luck\":");
    match &c.year_luck {
        Some(y) => year_luck(m, out, y),
        None => out.extend_from_slice(b"null"),
    }
    out.push(b'}');
}

fn pillar(m: &mut Memo, out: &mut Vec<u8>, pos: usize, dm: usize, p: &Pillar) {
    let (g, b) = (usize::from(p.ganzhi.0), usize::from(p.branch.index));
    out.extend_from_slice(b"{\"position\":");
    write_str(out, p.position);
    out.extend_from_slice(b",\"label\":");
    piece(out, &mut m.label, pos, &p.label);
    out.extend_from_slice(b",\"ganzhi\":");
    piece(out, &mut m.ganzhi, g, &p.ganzhi);
    out.extend_from_slice(b",\"stem\":");
    stem(m, out, dm, &p.stem);
    out.extend_from_slice(b",\"branch\":");
    piece(out, &mut m.branch, dm * 12 + b, &p.branch);
    out.extend_from_slice(b",\"life_stage\":");
    piece(out, &mut m.stage, dm * 12 + b, &p.life_stage);
    out.extend_from_slice(b",\"nayin\":");
    piece(out, &mut m.nayin, g, &p.nayin);
    out.push(b'}');
}

fn stem(m: &mut Memo, out: &mut Vec<u8>, dm: usize, s: &StemInfo) {
    let key = (dm * 10 + usize::from(s.index)) * 2 + usize::from(s.ten_god.is_none());
    piece(out, &mut m.stem, key, s);
}

fn moment(out: &mut Vec<u8>, mo: &Moment) {
    out.extend_from_slice(b"{\"local\":");
    datetime(out, &mo.local);
    out.extend_from_slice(b",\"lunar\":");
    match &mo.lunar {
        Some(l) => {
            out.extend_from_slice(b"{\"year\":");
            int(out, l.year);
            out.extend_from_slice(b",\"month\":");
            int(out, l.month);
            out.extend_from_slice(b",\"day\":");
            int(out, l.day);
            out.extend_from_slice(if l.leap { b",\"leap\":true}" } else { b",\"leap\":false}" });
        }
        None => out.extend_from_slice(b"null"),
    }
    out.extend_from_slice(b",\"zone\":");
    match mo.zone {
        Some(z) => write_str(out, z),
        None => out.extend_from_slice(b"null"),
    }
    out.extend_from_slice(b",\"utc_offset_s\":");
    int(out, mo.utc_offset_s);
    out.extend_from_slice(b",\"utc\":");
    datetime(out, &mo.utc);
    out.extend_from_slice(b",\"longitude\":");
    float(out, mo.longitude);
    out.extend_from_slice(b",\"day_clock\":");
    datetime(out, &mo.day_clock);
    out.extend_from_slice(b",\"eot_min\":");
    float(out, mo.eot_min);
    out.push(b'}');
}

fn options(m: &mut Memo, out: &mut Vec<u8>, o: &engine::Options) {
    out.extend_from_slice(b"{\"zi\":");
    piece(out, &mut m.zi, o.zi as usize, &o.zi);
    out.extend_from_slice(b",\"solar_time\":");
    piece(out, &mut m.solar_time, o.solar_time as usize, &o.solar_time);
    out.extend_from_slice(b",\"luck_year\":");
    match o.luck_year {
        Some(y) => int(out, y),
        None => out.extend_from_slice(b"null"),
    }
    out.extend_from_slice(b",\"transition\":");
    piece(out, &mut m.transition, o.transition as usize, &o.transition);
    out.push(b'}');
}

fn elements(out: &mut Vec<u8>, e: &ElementCounts) {
    out.extend_from_slice(b"{\"wood\":");
    int(out, e.wood);
    out.extend_from_slice(b",\"fire\":");
    int(out, e.fire);
    out.extend_from_slice(b",\"earth\":");
    int(out, e.earth);
    out.extend_from_slice(b",\"metal\":");
    int(out, e.metal);
    out.extend_from_slice(b",\"water\":");
    int(out, e.water);
    out.push(b'}');
}

fn term(m: &mut Memo, out: &mut Vec<u8>, t: &TermAt) {
    out.extend_from_slice(b"{\"name\":");
    piece(out, &mut m.term, usize::from(t.longitude / 15), &t.name);
    out.extend_from_slice(b",\"longitude\":");
    int(out, t.longitude);
    out.extend_from_slice(b",\"utc\":");
    datetime(out, &t.utc);
    out.extend_from_slice(b",\"local\":");
    datetime(out, &t.local);
    out.push(b'}');
}

fn luck(m: &mut Memo, out: &mut Vec<u8>, l: &Luck) {
    out.extend_from_slice(if l.forward { b"{\"forward\":true" } else { b"{\"forward\":false" });
    out.extend_from_slice(b",\"start\":{\"years\":");
    int(out, l.start.years);
    out.extend_from_slice(b",\"months\":");
    int(out, l.start.months);
    out.extend_from_slice(b",\"days\":");
    int(out, l.start.days);
    out.extend_from_slice(b",\"hours\":");
    int(out, l.start.hours);
    out.extend_from_slice(b"},\"start_datetime\":");
    datetime(out, &l.start_datetime);
    out.extend_from_slice(b",\"pillars\":[");
    for (i, p) in l.pillars.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.extend_from_slice(b"{\"index\":");
        int(out, p.index);
        out.extend_from_slice(b",\"ganzhi\":");
        piece(out, &mut m.ganzhi, usize::from(p.ganzhi.0), &p.ganzhi);
        out.extend_from_slice(b",\"start_year\":");
        int(out, p.start_year);
        out.extend_from_slice(b",\"start_age\":");
        int(out, p.start_age);
        out.push(b'}');
    }
    out.extend_from_slice(b"]}");
}

fn year_luck(m: &mut Memo, out: &mut Vec<u8>, y: &YearLuck) {
    out.extend_from_slice(b"{\"year\":");
    int(out, y.year);
    out.extend_from_slice(b",\"ganzhi\":");
    piece(out, &mut m.ganzhi, usize::from(y.ganzhi.0), &y.ganzhi);
    out.extend_from_slice(b",\"age\":");
    int(out, y.age);
    out.extend_from_slice(b",\"luck_pillar\":");
    match y.luck_pillar {
        Some(i) => int(out, i),
        None => out.extend_from_slice(b"null"),
    }
    out.push(b'}');
}

fn int(out: &mut Vec<u8>, n: impl itoa::Integer) {
    out.extend_from_slice(itoa::Buffer::new().format(n).as_bytes());
}

/// A finite float as serde writes it (ryu), or null.
fn float(out: &mut Vec<u8>, x: Option<f64>) {
    match x {
        Some(x) if x.is_finite() => out.extend_from_slice(ryu::Buffer::new().format_finite(x).as_bytes()),
        _ => out.extend_from_slice(b"null"),
    }
}

/// `"YYYY-MM-DDTHH:MM:SS"` (the engine's `Display`), digits written directly.
fn datetime(out: &mut Vec<u8>, t: &DateTime) {
    if !(0..=9999).contains(&t.year) {
        write_str(out, &t.to_string());
        return;
    }
    let two = |out: &mut Vec<u8>, v: u8| out.extend_from_slice(&[b'0' + v / 10 % 10, b'0' + v % 10]);
    let y = t.year as u32;
    out.extend_from_slice(&[
        b'"',
        b'0' + (y / 1000) as u8,
        b'0' + (y / 100 % 10) as u8,
        b'0' + (y / 10 % 10) as u8,
        b'0' + (y % 10) as u8,
        b'-',
    ]);
    two(out, t.month);
    out.push(b'-');
    two(out, t.day);
    out.push(b'T');
    two(out, t.hour);
    out.push(b':');
    two(out, t.minute);
    out.push(b':');
    two(out, t.second);
    out.push(b'"');
}

#[cfg(test)]
mod tests {
    use super::*;
    use engine::{BirthInput, Calendar, Gender, Options, SolarTime, TimeBasis, TransitionPolicy, ZiConvention};

    /// A small deterministic generator (xorshift64*), so failures reproduce.
    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
        }
        fn below(&mut self, n: u64) -> u64 {
            self.next() % n
        }
    }

    fn random_chart(r: &mut Rng) -> Option<Chart> {
        let input = BirthInput {
            year: 1901 + r.below(198) as i32,
            month: 1 + r.below(12) as u8,
            day: 1 + r.below(28) as u8,
            hour: r.below(24) as u8,
            minute: r.below(60) as u8,
            second: r.below(60) as u8,
            time: if r.below(3) == 0 { TimeBasis::Zone("Asia/Seoul".parse().ok()?) } else { TimeBasis::Offset(r.below(1561) as i32 - 720) },
            longitude: (r.below(2) == 0).then(|| (r.below(36_000) as f64) / 100.0 - 180.0),
            calendar: if r.below(5) == 0 { Calendar::Lunar { leap: false } } else { Calendar::Solar },
            gender: [None, Some(Gender::Male), Some(Gender::Female)][r.below(3) as usize],
        };
        let opts = Options {
            zi: [ZiConvention::Split, ZiConvention::DayChangesAt23, ZiConvention::Midnight][r.below(3) as usize],
            solar_time: if input.longitude.is_some() {
                [SolarTime::Civil, SolarTime::LocalMean, SolarTime::Apparent][r.below(3) as usize]
            } else {
                SolarTime::Civil
            },
            luck_year: (r.below(2) == 0).then(|| 1900 + r.below(200) as i32),
            transition: [TransitionPolicy::Reject, TransitionPolicy::Earlier, TransitionPolicy::Later][r.below(3) as usize],
        };
        Chart::compute(&input, &opts).ok()
    }

    #[test]
    fn same_bytes_as_serde() {
        let mut r = Rng(0x9e37_79b9_7f4a_7c15);
        let mut n = 0;
        while n < 3000 {
            let Some(c) = random_chart(&mut r) else { continue };
            let mut fast = Vec::new();
            write(&c, &mut fast);
            let reference = simd_json::to_vec(&c).unwrap();
            assert_eq!(String::from_utf8_lossy(&fast), String::from_utf8_lossy(&reference), "chart {n}");
            n += 1;
        }
    }
}
