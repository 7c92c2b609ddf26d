//! Shared helpers of the vector tests: read a committed CSV as header → value maps.
#![allow(dead_code, unreachable_pub)]

use std::collections::HashMap;

pub struct Table {
    pub header: Vec<String>,
    pub lines: Vec<String>,
    pub rows: Vec<HashMap<String, String>>,
}

/// Whether the tests run on the committed vectors (not on a `HYPERCUBE_VECTORS` directory).
pub fn committed() -> bool {
    std::env::var_os("HYPERCUBE_VECTORS").is_none()
}

/// Loads `name` from `engine/tests/data`, or from the directory in `HYPERCUBE_VECTORS` (to run the
/// same checks on freshly generated vectors, e.g. other seeds of the generators).
pub fn load(name: &str) -> Table {
    let dir = std::env::var("HYPERCUBE_VECTORS").unwrap_or_else(|_| format!("{}/tests/data", env!("CARGO_MANIFEST_DIR")));
    let path = format!("{dir}/{name}");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let mut lines = text.lines().map(str::to_owned);
    let head = lines.next().expect("header");
    let header: Vec<String> = engine::csv::split_line(&head);
    let lines: Vec<String> = lines.filter(|l| !l.is_empty()).collect();
    let rows = lines.iter().map(|l| header.iter().cloned().zip(engine::csv::split_line(l)).collect()).collect();
    Table { header: header.clone(), lines: std::iter::once(head).chain(lines).collect(), rows }
}

/// Unix ms of an ISO instant like `2003-11-22T17:43:21.295Z`.
pub fn parse_instant_ms(s: &str) -> i64 {
    let s = s.trim_end_matches('Z');
    let (main, frac) = s.split_once('.').unwrap_or((s, "0"));
    let t = engine::calendar::parse_datetime(main).expect("instant");
    let ms: i64 = format!("{frac:0<3}")[..3].parse().expect("ms");
    t.as_ms() + ms
}
