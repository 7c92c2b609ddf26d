//! Every row and column of public-charts.csv through the same code as
//! `hypercube chart --csv --full` (input at UTC+8, lunar-javascript's frame).
//!
//! The luck start is minute-exact, so it depends on the 節 instant to the second: a row whose
//! adjacent 節 (as a UTC+8 wall clock) lies within 10 s of a minute boundary is ambiguous for
//! `luck_start` / `luck_start_solar` (and the luck years when that crosses New Year); after 2050
//! the tolerance is 120 s, as for the pillar vectors, so every post-2050 luck start is ambiguous. Such rows are
//! counted and listed, never skipped silently. A birth within that tolerance of a 節 itself is
//! ambiguous in every column (year/month pillars and all that follows from them).

mod common;

use engine::astro::terms::{jie_after, jie_at_or_before};
use engine::csv::{CsvJob, Mode};

/// Whether the birth is within the ephemeris tolerance of a 節 (then every column may differ).
fn pillars_ambiguous(local: &str) -> bool {
    let t = engine::calendar::parse_datetime(local).expect("datetime");
    let utc = t.as_ms() - 8 * 3_600_000;
    let prev = jie_at_or_before(utc).expect("jie");
    let next = jie_after(utc).expect("jie");
    let tol = |y: i32| if y > 2050 { 120_000 } else { 10_000 };
    utc - prev.ms < tol(prev.year) || next.ms - utc < tol(next.year)
}

fn luck_ambiguous(local: &str, forward: bool) -> bool {
    let t = engine::calendar::parse_datetime(local).expect("datetime");
    let utc = t.as_ms() - 8 * 3_600_000;
    let jie = if forward { jie_after(utc) } else { jie_at_or_before(utc) }.expect("jie");
    let wall_s = (jie.ms + 8 * 3_600_000) as f64 / 1000.0;
    let into_minute = wall_s.rem_euclid(60.0);
    // The vectors' ephemeris tolerance: 10 s, 120 s after 2050 (ΔT forecasts diverge).
    let tol = if jie.year > 2050 { 120.0 } else { 10.0 };
    into_minute < tol || into_minute > 60.0 - tol || tol >= 60.0 || (utc - jie.ms).abs() < 10_000
}

#[test]
fn public_charts_every_column() {
    let t = common::load("public-charts.csv");
    let job = CsvJob::new(Mode::Full, &t.lines[0]).expect("header");
    assert_eq!(job.output_header(), t.lines[0], "output header must equal the vector header");
    let (mut ambiguous, mut failures) = (Vec::new(), Vec::new());
    for (i, row) in t.rows.iter().enumerate() {
        let out = job.row(&t.lines[i + 1], i + 2).unwrap_or_else(|e| panic!("{e}"));
        if out == t.lines[i + 1] {
            continue;
        }
        let got = engine::csv::split_line(&out);
        let diff: Vec<String> =
            t.header.iter().zip(&got).filter(|(h, g)| &row[*h] != *g).map(|(h, g)| format!("{h}: want {} got {g}", row[h])).collect();
        let only_luck = t
            .header
            .iter()
            .zip(&got)
            .all(|(h, g)| &row[h] == g || matches!(h.as_str(), "luck_start" | "luck_start_solar" | "luck_pillars"));
        let msg = format!("line {} {}: {}", i + 2, row["local_datetime"], diff.join("; "));
        let dt = &row["local_datetime"];
        if (only_luck && luck_ambiguous(dt, row["luck_forward"] == "1")) || pillars_ambiguous(dt) {
            ambiguous.push(msg);
        } else {
            failures.push(msg);
        }
    }
    eprintln!("public-charts.csv: {} rows, {} ambiguous (luck start within 10 s of a minute edge)", t.rows.len(), ambiguous.len());
    for a in &ambiguous {
        eprintln!("  ambiguous: {a}");
    }
    assert!(failures.is_empty(), "{} mismatches:\n{}", failures.len(), failures.join("\n"));
}
