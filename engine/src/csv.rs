//! The CSV contracts of the `hypercube` CLI, one line at a time (the caller does the I/O), so
//! tests run the very code the CLI runs.
//!
//! | mode | input columns (any order, extras ignored) | output header |
//! |---|---|---|
//! | [`Mode::Pillars`] | `local_datetime`, `utc_offset_min`, optional `longitude_deg` | [`PILLARS_HEADER`] |
//! | [`Mode::Full`] | `local_datetime`, `gender` (1/m/male, 0/f/female), optional `utc_offset_min` (default 480) | [`FULL_HEADER`] |
//! | [`Mode::Lunar`] | `solar_date` | [`LUNAR_HEADER`] |
//! | [`Mode::LunarToSolar`] | `kr_lunar_year`, `kr_lunar_month`, `kr_lunar_day`, `kr_leap` | [`LUNAR_HEADER`] |

use crate::calendar::{parse_date, parse_datetime};
use crate::chart::tables::{nayin_reference, TenGod};
use crate::chart::{Chart, Pillar};
use crate::ganzhi::STEMS;
use crate::input::{BirthInput, Calendar, Gender, Options, SolarTime, TimeBasis, ZiConvention};
use crate::lunar::{lunar_to_solar, solar_to_lunar, LunarDate};
use crate::pillars::four_pillars;

/// Output header of [`Mode::Pillars`].
pub const PILLARS_HEADER: &str =
    "local_datetime,utc_offset_min,year_gz,month_gz,day_gz,hour_gz,day_gz_zi23,day_gz_lmt,hour_gz_lmt,day_gz_ast,hour_gz_ast";
/// Output header of [`Mode::Full`] (the columns of public-charts.csv).
pub const FULL_HEADER: &str = "local_datetime,gender,pillars,stem_ten_gods,branch_main_ten_gods,hidden_stems,hidden_ten_gods,life_stages,nayin,void_day,luck_forward,luck_start,luck_start_solar,luck_pillars";
/// Output header of both lunar modes.
pub const LUNAR_HEADER: &str = "solar_date,kr_lunar_year,kr_lunar_month,kr_lunar_day,kr_leap";

/// Which contract.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// `hypercube chart --csv`.
    Pillars,
    /// `hypercube chart --csv --full`.
    Full,
    /// `hypercube lunar --csv`.
    Lunar,
    /// `hypercube lunar --to-solar --csv`.
    LunarToSolar,
}

/// A bad line: its 1-based number (the header is line 1) and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {message}")]
pub struct CsvError {
    /// 1-based line number.
    pub line: usize,
    /// What is wrong.
    pub message: String,
}

/// Splits one CSV line (RFC 4180 quoting, no embedded newlines).
#[must_use]
pub fn split_line(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    let mut chars = line.trim_end_matches(['\r', '\n']).chars().peekable();
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                cur.push('"');
                chars.next();
            }
            ('"', _) => quoted = !quoted,
            (',', false) => out.push(std::mem::take(&mut cur)),
            _ => cur.push(c),
        }
    }
    out.push(cur);
    out
}

/// A CSV job: the input header's column positions for one mode.
#[derive(Debug, Clone)]
pub struct CsvJob {
    mode: Mode,
    cols: Vec<Option<usize>>,
}

const fn wanted(mode: Mode) -> &'static [(&'static str, bool)] {
    match mode {
        Mode::Pillars => &[("local_datetime", true), ("utc_offset_min", true), ("longitude_deg", false)],
        Mode::Full => &[("local_datetime", true), ("gender", true), ("utc_offset_min", false)],
        Mode::Lunar => &[("solar_date", true)],
        Mode::LunarToSolar => &[("kr_lunar_year", true), ("kr_lunar_month", true), ("kr_lunar_day", true), ("kr_leap", true)],
    }
}

impl CsvJob {
    /// Reads the input header (line 1).
    ///
    /// # Errors
    /// A required column is missing.
    pub fn new(mode: Mode, header: &str) -> Result<Self, CsvError> {
        let names = split_line(header);
        let mut cols = Vec::new();
        for &(name, required) in wanted(mode) {
            let pos = names.iter().position(|n| n.trim().trim_start_matches('\u{feff}') == name);
            if required && pos.is_none() {
                return Err(CsvError { line: 1, message: format!("header lacks the column {name:?}") });
            }
            cols.push(pos);
        }
        Ok(Self { mode, cols })
    }

    /// The output header.
    #[must_use]
    pub fn output_header(&self) -> &'static str {
        match self.mode {
            Mode::Pillars => PILLARS_HEADER,
            Mode::Full => FULL_HEADER,
            Mode::Lunar | Mode::LunarToSolar => LUNAR_HEADER,
        }
    }

    /// Turns many input lines (each with its 1-based line number) into output lines, in order, with
    /// the same results as [`Self::row`] on each. [`Mode::Pillars`] parses every line, then
    /// computes all the pillars with the batch kernels ([`crate::batch`]): one kernel call per
    /// clock (civil, and local-mean and apparent when a row has a longitude).
    #[must_use]
    pub fn rows(&self, lines: &[(usize, &str)]) -> Vec<Result<String, CsvError>> {
        if self.mode != Mode::Pillars {
            return lines.iter().map(|&(n, l)| self.row(l, n)).collect();
        }
        let err = |i: usize, message: String| CsvError { line: lines[i].0, message };
        // Parse: (datetime, offset) text for the output, and the input, or the line's error.
        let parsed: Vec<Result<(String, String, BirthInput), CsvError>> = lines
            .iter()
            .enumerate()
            .map(|(i, &(_, line))| {
                let fields = split_line(line);
                let get =
                    |c: usize| -> Option<&str> { self.cols[c].and_then(|p| fields.get(p)).map(|s| s.trim()).filter(|s| !s.is_empty()) };
                let need = |c: usize| get(c).ok_or_else(|| err(i, format!("missing {}", wanted(self.mode)[c].0)));
                let (dt, off) = (need(0)?, need(1)?);
                let input = birth(dt, off, get(2)).map_err(|m| err(i, m))?;
                Ok((dt.to_owned(), off.to_owned(), input))
            })
            .collect();
        let placeholder = BirthInput {
            year: 2000,
            month: 1,
            day: 1,
            hour: 0,
            minute: 0,
            second: 0,
            time: TimeBasis::Offset(0),
            longitude: Some(0.0),
            calendar: Calendar::Solar,
            gender: None,
        };
        let inputs: Vec<BirthInput> = parsed.iter().map(|p| p.as_ref().map_or(placeholder, |(_, _, b)| *b)).collect();
        let kernel = crate::arch::active();
        let run = |solar_time| crate::batch::pillar_batch_with(kernel, &inputs, &Options { solar_time, ..Options::default() });
        let civil = run(SolarTime::Civil);
        let any_lon = inputs.iter().any(|b| b.longitude.is_some());
        let (lmt, ast) = if any_lon { (Some(run(SolarTime::LocalMean)), Some(run(SolarTime::Apparent))) } else { (None, None) };
        parsed
            .into_iter()
            .enumerate()
            .map(|(i, p)| {
                let (dt, off, input) = p?;
                let fail = |e: &Option<crate::EngineError>| e.as_ref().map(|e| err(i, e.to_string()));
                if let Some(e) = fail(&civil.1[i]) {
                    return Err(e);
                }
                let c = civil.0.get(i, ZiConvention::Split);
                let mut out = format!(
                    "{dt},{off},{},{},{},{},{}",
                    c.year.hanja(),
                    c.month.hanja(),
                    c.day.hanja(),
                    c.hour.hanja(),
                    crate::GanZhi(civil.0.day23[i]).hanja()
                );
                match (&lmt, &ast, input.longitude) {
                    (Some(l), Some(a), Some(_)) => {
                        for e in [&l.1[i], &a.1[i]] {
                            if let Some(e) = fail(e) {
                                return Err(e);
                            }
                        }
                        let (l, a) = (l.0.get(i, ZiConvention::Split), a.0.get(i, ZiConvention::Split));
                        out += &format!(",{},{},{},{}", l.day.hanja(), l.hour.hanja(), a.day.hanja(), a.hour.hanja());
                    }
                    _ => out += ",,,,",
                }
                Ok(out)
            })
            .collect()
    }

    /// Turns one input line (number `line_no`, 1-based) into one output line (no newline).
    ///
    /// # Errors
    /// The line is malformed or its input is rejected by the engine; the message says why.
    pub fn row(&self, line: &str, line_no: usize) -> Result<String, CsvError> {
        let fields = split_line(line);
        let get = |i: usize| -> Option<&str> { self.cols[i].and_then(|p| fields.get(p)).map(|s| s.trim()).filter(|s| !s.is_empty()) };
        let err = |message: String| CsvError { line: line_no, message };
        let need = |i: usize| get(i).ok_or_else(|| err(format!("missing {}", wanted(self.mode)[i].0)));
        match self.mode {
            Mode::Pillars => pillars_row(need(0)?, need(1)?, get(2)).map_err(err),
            Mode::Full => full_row(need(0)?, need(1)?, get(2).unwrap_or("480")).map_err(err),
            Mode::Lunar => lunar_row(need(0)?).map_err(err),
            Mode::LunarToSolar => to_solar_row([need(0)?, need(1)?, need(2)?, need(3)?]).map_err(err),
        }
    }
}

fn birth(dt: &str, offset: &str, lon: Option<&str>) -> Result<BirthInput, String> {
    let t = parse_datetime(dt).ok_or_else(|| format!("bad local_datetime {dt:?} (want YYYY-MM-DDTHH:MM:SS)"))?;
    let off: i32 = offset.parse().map_err(|_| format!("bad utc_offset_min {offset:?}"))?;
    let longitude = lon.map(|l| l.parse::<f64>().map_err(|_| format!("bad longitude_deg {l:?}"))).transpose()?;
    Ok(BirthInput { longitude, ..BirthInput::solar(t, TimeBasis::Offset(off)) })
}

fn pillars_row(dt: &str, offset: &str, lon: Option<&str>) -> Result<String, String> {
    let input = birth(dt, offset, lon)?;
    let run = |zi, solar_time| four_pillars(&input, &Options { zi, solar_time, ..Options::default() }).map_err(|e| e.to_string());
    let civil = run(ZiConvention::Split, SolarTime::Civil)?;
    let zi23 = run(ZiConvention::DayChangesAt23, SolarTime::Civil)?;
    let mut out = format!(
        "{dt},{offset},{},{},{},{},{}",
        civil.year.hanja(),
        civil.month.hanja(),
        civil.day.hanja(),
        civil.hour.hanja(),
        zi23.day.hanja()
    );
    if input.longitude.is_some() {
        let lmt = run(ZiConvention::Split, SolarTime::LocalMean)?;
        let ast = run(ZiConvention::Split, SolarTime::Apparent)?;
        out += &format!(",{},{},{},{}", lmt.day.hanja(), lmt.hour.hanja(), ast.day.hanja(), ast.hour.hanja());
    } else {
        out += ",,,,";
    }
    Ok(out)
}

fn full_row(dt: &str, gender: &str, offset: &str) -> Result<String, String> {
    let g: Gender = gender.parse().map_err(|e: crate::EngineError| e.to_string())?;
    let input = BirthInput { gender: Some(g), ..birth(dt, offset, None)? };
    let c = Chart::compute(&input, &Options::default()).map_err(|e| e.to_string())?;
    let luck = c.luck.as_ref().ok_or("no luck pillars")?;
    // One column: a value per pillar, joined with '|'.
    let per_pillar = |f: &dyn Fn(&Pillar) -> String| c.pillars.iter().map(f).collect::<Vec<_>>().join("|");
    let spaced = |v: Vec<&str>| v.join(" ");
    let s = &luck.start;
    let luck_pillars: Vec<String> =
        luck.pillars.iter().take(8).map(|p| format!("{}:{}:{}", p.ganzhi.hanja(), p.start_year, p.start_age)).collect();
    Ok([
        dt.to_owned(),
        if g == Gender::Male { "1" } else { "0" }.to_owned(),
        per_pillar(&|p| p.ganzhi.hanja()),
        per_pillar(&|p| p.stem.ten_god.map_or("日主", TenGod::reference).to_owned()),
        per_pillar(&|p| p.branch.ten_god.reference().to_owned()),
        per_pillar(&|p| spaced(p.branch.hidden.iter().map(|h| STEMS[usize::from(h.index)].hanja).collect())),
        per_pillar(&|p| spaced(p.branch.hidden.iter().filter_map(|h| h.ten_god).map(TenGod::reference).collect())),
        per_pillar(&|p| p.life_stage.reference().to_owned()),
        per_pillar(&|p| nayin_reference(p.ganzhi).to_owned()),
        format!("{}{}", c.void_branches[0].hanja, c.void_branches[1].hanja),
        u8::from(luck.forward).to_string(),
        format!("{}-{}-{}-{}", s.years, s.months, s.days, s.hours),
        luck.start_datetime.to_string(),
        luck_pillars.join("|"),
    ]
    .join(","))
}

fn lunar_line(solar: (i32, u8, u8), l: &LunarDate) -> String {
    format!("{:04}-{:02}-{:02},{},{},{},{}", solar.0, solar.1, solar.2, l.year, l.month, l.day, u8::from(l.leap))
}

fn lunar_row(date: &str) -> Result<String, String> {
    let (y, m, d) = parse_date(date).ok_or_else(|| format!("bad solar_date {date:?} (want YYYY-MM-DD)"))?;
    let l = solar_to_lunar(y, m, d).map_err(|e| e.to_string())?;
    Ok(lunar_line((y, m, d), &l))
}

fn to_solar_row(f: [&str; 4]) -> Result<String, String> {
    let bad = |what: &str, v: &str| format!("bad {what} {v:?}");
    let year = f[0].parse().map_err(|_| bad("kr_lunar_year", f[0]))?;
    let month = f[1].parse().map_err(|_| bad("kr_lunar_month", f[1]))?;
    let day = f[2].parse().map_err(|_| bad("kr_lunar_day", f[2]))?;
    let leap = match f[3] {
        "0" | "false" => false,
        "1" | "true" => true,
        v => return Err(bad("kr_leap", v)),
    };
    let l = LunarDate { year, month, day, leap };
    let solar = lunar_to_solar(l).map_err(|e| e.to_string())?;
    Ok(lunar_line(solar, &l))
}
