//! Prints every term of the table as `year,k,jde_tt,unix_ms_ut` for external comparison (e.g.
//! against JPL DE421 with `engine/tools/de421_check.py`):
//! `cargo run --release -p engine --example term_check > terms.csv`.
use engine::astro::{
    compute_term_ms, solve_longitude_tt, term_longitude,
    terms::{FIRST_YEAR, LAST_YEAR},
    JD_UNIX_EPOCH,
};

fn main() {
    println!("year,k,jde_tt,unix_ms_ut");
    for year in FIRST_YEAR..=LAST_YEAR {
        for k in 0..24 {
            let ms = compute_term_ms(year, k);
            #[allow(clippy::cast_precision_loss)]
            let jd = ms as f64 / 86_400_000.0 + JD_UNIX_EPOCH;
            let jde = solve_longitude_tt(term_longitude(k), jd + 70.0 / 86_400.0);
            println!("{year},{k},{jde:.8},{ms}");
        }
    }
}
