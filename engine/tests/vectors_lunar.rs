//! public-lunar.csv: the Korean columns through the same code as `hypercube lunar --csv` and
//! back through `--to-solar`; where the file's Chinese date differs, assert ours differs too.

mod common;

use engine::csv::{CsvJob, Mode};

#[test]
fn public_lunar_korean_columns_both_directions() {
    let t = common::load("public-lunar.csv");
    let to_lunar = CsvJob::new(Mode::Lunar, &t.lines[0]).expect("header");
    let to_solar = CsvJob::new(Mode::LunarToSolar, &t.lines[0]).expect("header");
    let (mut cn_differs, mut failures) = (0, Vec::new());
    for (i, row) in t.rows.iter().enumerate() {
        let want =
            format!("{},{},{},{},{}", row["solar_date"], row["kr_lunar_year"], row["kr_lunar_month"], row["kr_lunar_day"], row["kr_leap"]);
        let got = to_lunar.row(&t.lines[i + 1], i + 2).unwrap_or_else(|e| panic!("{e}"));
        let back = to_solar.row(&t.lines[i + 1], i + 2).unwrap_or_else(|e| panic!("{e}"));
        if got != want || back != want {
            failures.push(format!("line {}: want {want} got {got} / back {back}", i + 2));
        }
        let cn = [&row["cn_lunar_year"], &row["cn_lunar_month"], &row["cn_lunar_day"], &row["cn_leap"]];
        let kr = [&row["kr_lunar_year"], &row["kr_lunar_month"], &row["kr_lunar_day"], &row["kr_leap"]];
        if cn != kr {
            cn_differs += 1;
            let ours: Vec<String> = engine::csv::split_line(&got)[1..].to_vec();
            assert_ne!(ours.iter().collect::<Vec<_>>(), cn, "line {}: we gave the Chinese date", i + 2);
        }
    }
    assert!(failures.is_empty(), "{} mismatches:\n{}", failures.len(), failures.join("\n"));
    if common::committed() {
        assert_eq!(cn_differs, 87, "the file says 87 rows differ from the Chinese calendar");
    }
}

#[test]
fn impossible_lunar_dates_are_errors() {
    use engine::{lunar_to_solar, EngineError, LunarDate};
    // 2023 has a leap 2nd month; 2024 has none.
    assert!(lunar_to_solar(LunarDate { year: 2023, month: 2, day: 1, leap: true }).is_ok());
    let e = lunar_to_solar(LunarDate { year: 2024, month: 2, day: 1, leap: true }).unwrap_err();
    assert_eq!(e, EngineError::NoSuchLeapMonth(2024, 2));
    assert_eq!(e.field(), "leap");
    // Find a 29-day month and ask for its day 30.
    let short = (1..=12)
        .find(|&m| lunar_to_solar(LunarDate { year: 2000, month: m, day: 30, leap: false }).is_err())
        .expect("a 29-day month in 2000");
    let e = lunar_to_solar(LunarDate { year: 2000, month: short, day: 30, leap: false }).unwrap_err();
    assert_eq!(e.field(), "lunar");
    assert_eq!(lunar_to_solar(LunarDate { year: 2000, month: 13, day: 1, leap: false }).unwrap_err().field(), "lunar");
    assert_eq!(lunar_to_solar(LunarDate { year: 1800, month: 1, day: 1, leap: false }).unwrap_err().field(), "datetime");
    assert_eq!(engine::solar_to_lunar(2101, 1, 1).unwrap_err().field(), "datetime");
    assert_eq!(engine::solar_to_lunar(2023, 2, 29).unwrap_err().field(), "datetime");
}
