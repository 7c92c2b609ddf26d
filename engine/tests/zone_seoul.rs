//! Asia/Seoul: every public-korea.csv row's wall clock resolves to the file's utc_offset_min
//! (rows before 1908-04-01 are labelled KST* there: the generator assumed +9:00 where IANA has
//! LMT +8:27:52, which we follow); and the exact transition instants.

mod common;

use engine::calendar::parse_datetime;
use engine::input::TransitionPolicy;
use engine::{BirthInput, Calendar, EngineError, Options, TimeBasis, Zone};

#[test]
fn korea_rows_resolve_to_their_offsets() {
    let t = common::load("public-korea.csv");
    let (mut lmt_rows, mut ambiguous) = (0, 0);
    for row in &t.rows {
        let local = parse_datetime(&row["local_datetime"]).expect("datetime");
        let want: i32 = row["utc_offset_min"].parse().expect("offset");
        if row["tz_label"] == "KST*" {
            let (_, off) = Zone::AsiaSeoul.resolve(&local, TransitionPolicy::Reject).expect("LMT");
            assert_eq!(off, 8 * 3600 + 27 * 60 + 52);
            lmt_rows += 1;
            continue;
        }
        match Zone::AsiaSeoul.resolve(&local, TransitionPolicy::Reject) {
            Ok((_, off)) => assert_eq!(off, want * 60, "id {} {}", row["id"], row["local_datetime"]),
            Err(EngineError::AmbiguousLocalTime(..)) => {
                ambiguous += 1;
                let e = Zone::AsiaSeoul.resolve(&local, TransitionPolicy::Earlier).expect("earlier").1;
                let l = Zone::AsiaSeoul.resolve(&local, TransitionPolicy::Later).expect("later").1;
                assert!(e == want * 60 || l == want * 60, "id {}", row["id"]);
            }
            Err(e) => panic!("id {}: {e}", row["id"]),
        }
    }
    eprintln!("public-korea.csv: {lmt_rows} rows before 1908-04-01 (LMT here, +9:00 in the file), {ambiguous} in a repeated hour");
}

fn seoul(s: &str, policy: TransitionPolicy) -> Result<(i64, i32), EngineError> {
    Zone::AsiaSeoul.resolve(&parse_datetime(s).expect("datetime"), policy)
}

#[test]
fn seoul_transitions_are_exact() {
    use TransitionPolicy::{Earlier, Later, Reject};
    // LMT -> +8:30 at 1908-04-01 00:00 local: 00:00:00..00:02:07 was skipped.
    assert_eq!(seoul("1908-03-31T23:59:59", Reject).unwrap().1, 30_472);
    assert!(matches!(seoul("1908-04-01T00:01:00", Reject), Err(EngineError::NonexistentLocalTime(..))));
    assert_eq!(seoul("1908-04-01T00:02:08", Reject).unwrap().1, 30_600);
    // 1912-01-01: +8:30 -> +9:00, 00:00..00:29 skipped.
    assert!(seoul("1912-01-01T00:15:00", Reject).is_err());
    assert_eq!(seoul("1912-01-01T00:30:00", Reject).unwrap().1, 32_400);
    // DST 1987: 1987-05-10 02:00 -> 03:00; ends 1987-10-11 03:00 -> 02:00.
    let e = seoul("1987-05-10T02:30:00", Reject).unwrap_err();
    assert_eq!(e.field(), "datetime");
    assert_eq!(seoul("1987-05-10T02:30:00", Earlier).unwrap().1, 32_400);
    assert_eq!(seoul("1987-05-10T02:30:00", Later).unwrap().1, 36_000);
    assert_eq!(seoul("1987-05-10T03:00:00", Reject).unwrap().1, 36_000);
    assert!(matches!(seoul("1987-10-11T02:30:00", Reject), Err(EngineError::AmbiguousLocalTime(..))));
    let (a, _) = seoul("1987-10-11T02:30:00", Earlier).unwrap();
    let (b, _) = seoul("1987-10-11T02:30:00", Later).unwrap();
    assert_eq!(b - a, 3_600_000);
    // 1954-03-21: +9:00 -> +8:30, 23:30..24:00 of 03-20 repeated.
    assert!(seoul("1954-03-20T23:45:00", Reject).is_err());
    // 1955 DST at +9:30, 1961-08-10 back to +9:00.
    assert_eq!(seoul("1955-07-01T12:00:00", Reject).unwrap().1, 34_200);
    assert_eq!(seoul("1961-08-09T12:00:00", Reject).unwrap().1, 30_600);
    assert_eq!(seoul("1961-08-10T12:00:00", Reject).unwrap().1, 32_400);
    assert_eq!(seoul("2024-01-01T00:00:00", Reject).unwrap().1, 32_400);
}

#[test]
fn chart_by_zone_equals_chart_by_offset() {
    let by = |time| BirthInput {
        year: 1988,
        month: 7,
        day: 1,
        hour: 23,
        minute: 30,
        second: 0,
        time,
        longitude: None,
        calendar: Calendar::Solar,
        gender: None,
    };
    let o = Options::default();
    let z = engine::four_pillars(&by(TimeBasis::Zone(Zone::AsiaSeoul)), &o).unwrap();
    let f = engine::four_pillars(&by(TimeBasis::Offset(600)), &o).unwrap();
    assert_eq!(z, f);
    assert_eq!("Asia/Seoul".parse::<Zone>().unwrap(), Zone::AsiaSeoul);
    assert_eq!("Mars/Olympus".parse::<Zone>().unwrap_err().field(), "zone");
}
