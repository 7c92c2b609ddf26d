//! The public API contract: error fields, option parsing, lunar inputs, solar-time options,
//! the chart's serialization.

use engine::{BirthInput, Calendar, Chart, EngineError, Gender, Options, SolarTime, TimeBasis, ZiConvention};

fn input() -> BirthInput {
    BirthInput {
        year: 1990,
        month: 5,
        day: 15,
        hour: 14,
        minute: 30,
        second: 0,
        time: TimeBasis::Offset(540),
        longitude: None,
        calendar: Calendar::Solar,
        gender: Some(Gender::Male),
    }
}

fn field(i: &BirthInput, o: &Options) -> &'static str {
    Chart::compute(i, o).unwrap_err().field()
}

#[test]
fn errors_name_their_field() {
    let o = Options::default();
    assert_eq!(field(&BirthInput { month: 13, ..input() }, &o), "datetime");
    assert_eq!(field(&BirthInput { hour: 24, ..input() }, &o), "datetime");
    assert_eq!(field(&BirthInput { year: 1899, ..input() }, &o), "datetime");
    assert_eq!(field(&BirthInput { year: 2101, ..input() }, &o), "datetime");
    assert_eq!(field(&BirthInput { time: TimeBasis::Offset(2000), ..input() }, &o), "offset");
    let lm = Options { solar_time: SolarTime::LocalMean, ..o };
    assert_eq!(field(&input(), &lm), "lon");
    assert_eq!(field(&BirthInput { longitude: Some(200.0), ..input() }, &o), "lon");
    assert_eq!(field(&BirthInput { longitude: Some(f64::NAN), ..input() }, &lm), "lon");
    assert_eq!(field(&input(), &Options { luck_year: Some(3000), ..o }), "luck_year");
    let lunar = |y, m, d, leap| BirthInput { year: y, month: m, day: d, calendar: Calendar::Lunar { leap }, ..input() };
    assert_eq!(field(&lunar(2024, 2, 1, true), &o), "leap");
    assert_eq!(field(&lunar(2024, 13, 1, false), &o), "lunar");
    assert_eq!("x".parse::<ZiConvention>().unwrap_err().field(), "zi");
    assert_eq!("x".parse::<SolarTime>().unwrap_err().field(), "solar_time");
    assert_eq!("x".parse::<Gender>().unwrap_err().field(), "gender");
    assert_eq!("x".parse::<engine::Zone>().unwrap_err().field(), "zone");
    assert!(matches!("1987-05-10".parse::<engine::Zone>(), Err(EngineError::UnknownZone(_))));
}

#[test]
fn options_parse() {
    assert_eq!("split".parse::<ZiConvention>().unwrap(), ZiConvention::Split);
    assert_eq!("day_changes_at_23".parse::<ZiConvention>().unwrap(), ZiConvention::DayChangesAt23);
    assert_eq!("midnight".parse::<ZiConvention>().unwrap(), ZiConvention::Midnight);
    assert_eq!("local_mean".parse::<SolarTime>().unwrap(), SolarTime::LocalMean);
    assert_eq!("apparent".parse::<SolarTime>().unwrap(), SolarTime::Apparent);
    assert_eq!("female".parse::<Gender>().unwrap(), Gender::Female);
    assert_eq!("m".parse::<Gender>().unwrap(), Gender::Male);
}

#[test]
fn lunar_birth_equals_its_solar_date() {
    // Lunar 1990-04-21 is 1990-05-15.
    let l = BirthInput { month: 4, day: 21, calendar: Calendar::Lunar { leap: false }, ..input() };
    let a = Chart::compute(&l, &Options::default()).unwrap();
    let b = Chart::compute(&input(), &Options::default()).unwrap();
    assert_eq!(a.four_pillars, b.four_pillars);
    assert_eq!(a.luck, b.luck);
}

#[test]
fn chart_serializes_with_names() {
    let o = Options { luck_year: Some(2026), ..Options::default() };
    let c = Chart::compute(&input(), &o).unwrap();
    let j = serde_json::to_value(&c).unwrap();
    assert_eq!(j["four_pillars"]["day"]["hanja"], "庚辰");
    assert_eq!(j["four_pillars"]["day"]["hangul"], "경진");
    assert_eq!(j["four_pillars"]["day"]["roman"], "gyeongjin");
    assert_eq!(j["pillars"][3]["stem"]["ten_god"]["hangul"], "상관");
    assert_eq!(j["moment"]["utc"], "1990-05-15T05:30:00");
    assert_eq!(j["pillars"][0]["stem"]["element"]["hanja"], "金");
    assert_eq!(j["pillars"][0]["stem"]["element"]["roman"], "geum");
    assert_eq!(j["pillars"][2]["label"]["hangul"], "일주");
    assert_eq!(j["pillars"][2]["nayin"]["roman"], "baekrapgeum");
    assert_eq!(j["luck"]["pillars"].as_array().unwrap().len(), 10);
    assert_eq!(j["year_luck"]["ganzhi"]["hanja"], "丙午");
    let total: u64 = ["wood", "fire", "earth", "metal", "water"].iter().map(|k| j["elements"][k].as_u64().unwrap()).sum();
    assert_eq!(total, 8);
}

#[test]
fn solar_time_moves_the_hour() {
    // 23:50 civil at 135°E-zone offset but longitude 127°: LMT is 23:18 (still 子), AST near it.
    let i = BirthInput { hour: 0, minute: 20, longitude: Some(126.98), ..input() };
    let civil = engine::four_pillars(&i, &Options::default()).unwrap();
    let lmt = engine::four_pillars(&i, &Options { solar_time: SolarTime::LocalMean, ..Options::default() }).unwrap();
    // 00:20 KST at 126.98°E is 23:48 LMT of the previous day.
    assert_eq!(lmt.day, civil.day.shift(-1));
    assert_eq!(lmt.hour.branch(), 0);
}
