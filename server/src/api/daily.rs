//! Topic `daily`: today's day pillar (日辰, 일진) in Asia/Seoul and its elements, pushed to a
//! connection when it subscribes and to every subscriber at 00:00 Asia/Seoul.
//!
//! Each shard runs its own midnight timer ([`run`], a per-shard service started with the shard)
//! for its own subscribers, so the midnight push needs no cross-shard message at all.
use crate::hub::{ConnId, Hub};
use bytes::Bytes;
use serde_json::{json, Value};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

pub(crate) const TOPIC: &str = "daily";
/// Asia/Seoul is UTC+9 all year (no DST since 1988).
const KST: i64 = 9 * 3600;

/// Push today's event to a new subscriber.
pub(crate) fn on_subscribe(hub: &Hub, conn: ConnId, bound: usize) {
    hub.push_to(conn, &event(unix_now()), bound);
}

/// The shard's midnight timer: at every 00:00 Asia/Seoul, push the new day to this shard's
/// subscribers (`pushed` counts them), until `done` is raised.
pub(crate) async fn run(hub: &Hub, bound: usize, pushed: impl Fn(u64), done: &shard::stop::Waiter) {
    while !done.is_stopped() {
        // 50 ms late rather than early: the new day has surely begun.
        let wait = Duration::from_secs(secs_to_midnight(unix_now())) + Duration::from_millis(50);
        let sleep = std::pin::pin!(shard::rt::sleep(wait));
        let stopped = std::pin::pin!(done.stopped());
        if let futures_util::future::Either::Left(_) = futures_util::future::select(sleep, stopped).await {
            pushed(hub.deliver(TOPIC, &event(unix_now()), bound));
        }
    }
}

fn unix_now() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64)
}

/// Seconds from `unix` until the next 00:00 in Asia/Seoul (1..=86400).
pub(crate) fn secs_to_midnight(unix: i64) -> u64 {
    (86_400 - (unix + KST).rem_euclid(86_400)) as u64
}

/// The Asia/Seoul civil date at `unix` seconds.
pub(crate) fn seoul_date(unix: i64) -> (i32, u8, u8) {
    engine::calendar::civil_from_days((unix + KST).div_euclid(86_400))
}

/// The day pillar (日柱) of a Seoul civil date and its stem and branch elements, from the
/// engine (`engine::four_pillars` at noon, Asia/Seoul, civil clock). None outside the engine's
/// range (1900–2100).
fn day_pillar(year: i32, month: u8, day: u8) -> Option<Value> {
    let input = engine::BirthInput {
        year,
        month,
        day,
        hour: 12,
        minute: 0,
        second: 0,
        time: engine::TimeBasis::Zone(engine::Zone::AsiaSeoul),
        longitude: None,
        calendar: engine::Calendar::Solar,
        gender: None,
    };
    let day = engine::four_pillars(&input, &engine::Options::default()).ok()?.day;
    Some(json!({
        "pillar": day,
        "stem_element": engine::ganzhi::stem_element(day.stem()),
        "branch_element": engine::ganzhi::branch_element(day.branch()),
    }))
}

/// The `daily` event JSON for the Seoul date at `unix`.
pub(crate) fn event(unix: i64) -> Bytes {
    let (y, m, d) = seoul_date(unix);
    let pillar = day_pillar(y, m, d);
    let v = json!({
        "type": "event",
        "topic": TOPIC,
        "data": {"date": format!("{y:04}-{m:02}-{d:02}"), "tz": "Asia/Seoul", "day": pillar},
    });
    Bytes::from(v.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seoul_midnight() {
        // 2026-11-27T15:00:00Z is 2026-11-28T00:00:00+09:00.
        let midnight = 1_795_791_600;
        assert_eq!(seoul_date(midnight), (2026, 11, 28));
        assert_eq!(seoul_date(midnight - 1), (2026, 11, 27));
        assert_eq!(secs_to_midnight(midnight - 1), 1);
        assert_eq!(secs_to_midnight(midnight), 86_400);
        assert_eq!(seoul_date(0), (1970, 1, 1));
        assert_eq!(seoul_date(951_782_400 - KST), (2000, 2, 29));
    }

    #[test]
    fn day_pillar_from_the_engine() {
        // 2000-01-01 is 戊午 (JDN 2451545); 1990-05-15 is 庚辰 (the engine's doc example).
        let v = day_pillar(2000, 1, 1).unwrap();
        assert_eq!(v["pillar"]["hanja"], "戊午");
        assert_eq!((v["stem_element"]["key"].as_str(), v["branch_element"]["key"].as_str()), (Some("earth"), Some("fire")));
        assert_eq!(day_pillar(1990, 5, 15).unwrap()["pillar"]["hangul"], "경진");
        assert!(day_pillar(2200, 1, 1).is_none());
    }
}
