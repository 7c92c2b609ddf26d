//! `POST /v1/saju/batch` and `POST /v1/saju/search` end to end: results against `/v1/saju`,
//! per-item errors, NDJSON, pagination, every limit and bad input.
mod common;
use common::Server;
use serde_json::Value;

fn json(r: &common::Response) -> Value {
    serde_json::from_slice(&r.body).unwrap_or_else(|e| panic!("{e}: {}", r.text()))
}

fn post_typed(s: &Server, path: &str, ctype: &str, body: &str) -> common::Response {
    let raw = format!(
        "POST {path} HTTP/1.1\r\nHost: t\r\nConnection: close\r\nContent-Type: {ctype}\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    let out = s.exchange(raw.as_bytes());
    common::parse_responses(&out, false).remove(0)
}

#[test]
fn batch_equals_single_requests_and_reports_item_errors() {
    let s = Server::start(&["--shards", "1"]);
    let items = [
        r#"{"datetime":"1990-05-15T14:30:00","offset":540}"#,
        r#"{"datetime":"2000-01-01T23:30:00","zone":"Asia/Seoul","zi":"day_changes_at_23"}"#,
        r#"{"datetime":"1955-06-01T12:00:00","zone":"Asia/Seoul","lon":126.98,"solar_time":"apparent"}"#,
        r#"{"datetime":"2023-02-15T08:00","offset":540,"lunar":true}"#,
        r#"{"datetime":"1990-13-15T14:30:00","offset":540}"#,
        r#"{"datetime":"1990-05-15T14:30:00","offset":540,"colour":"red"}"#,
        r#""not an object""#,
        r#"{"datetime":"1990-05-15T14:30:00","offset":540,"solar_time":"local_mean"}"#,
        r#"{"datetime":"1988-05-08T02:30:00","zone":"Asia/Seoul"}"#,
    ];
    let body = format!("[{}]", items.join(","));
    let r = s.request("POST", "/v1/saju/batch", Some(&body));
    assert_eq!(r.status, 200, "{}", r.text());
    let v = json(&r);
    assert_eq!(v["count"], 9);
    assert_eq!(v["errors"], 5, "{v}");
    assert!(v["kernel"].is_string());
    let res = v["results"].as_array().unwrap();
    for (i, item) in items.iter().enumerate() {
        assert_eq!(res[i]["index"], i);
        let single = s.request("POST", "/v1/saju", Some(item));
        if single.status == 200 {
            assert_eq!(res[i]["four_pillars"], json(&single)["four_pillars"], "item {i}");
        } else {
            assert!(res[i]["error"].is_string(), "item {i}: {}", res[i]);
            if single.status == 422 {
                assert_eq!(res[i]["field"], json(&single)["field"], "item {i}");
            }
        }
    }
    assert_eq!(res[4]["field"], "datetime");
    assert_eq!(res[5]["field"], "colour");
    assert_eq!(res[6]["field"], Value::Null);
    assert_eq!(res[7]["field"], "lon");
    assert_eq!(res[8]["field"], "datetime", "1988-05-08T02:30 is skipped by Seoul DST");

    // NDJSON: the same items, one per line, blank lines skipped.
    let nd = format!("{}\n\n", items.join("\n"));
    let r2 = post_typed(&s, "/v1/saju/batch", "application/x-ndjson", &nd);
    assert_eq!(r2.status, 200, "{}", r2.text());
    assert_eq!(json(&r2)["results"], v["results"]);
    // Compact: the same pillars as indices.
    let rc = s.request("POST", "/v1/saju/batch?format=compact", Some(&body));
    let vc = json(&rc);
    assert_eq!((rc.status, vc["errors"].as_u64()), (200, Some(5)));
    for (i, r) in res.iter().enumerate() {
        if let Some(fp) = r.get("four_pillars") {
            let idx: Vec<Value> = ["year", "month", "day", "hour"].iter().map(|k| fp[k]["index"].clone()).collect();
            assert_eq!(vc["results"][i]["pillars"], Value::Array(idx), "item {i}");
        } else {
            assert_eq!(vc["results"][i], res[i]);
        }
    }
    let r = s.request("POST", "/v1/saju/batch?format=xml", Some(&body));
    assert_eq!((r.status, json(&r)["field"].as_str()), (422, Some("format")));
    // Empty array.
    let r = s.request("POST", "/v1/saju/batch", Some("[]"));
    assert_eq!((r.status, json(&r)["count"].as_u64()), (200, Some(0)));
}

#[test]
fn batch_limits_and_bad_bodies() {
    let s = Server::start(&["--shards", "1", "--batch-max-items", "3"]);
    let one = r#"{"datetime":"1990-05-15T14:30:00","offset":540}"#;
    let r = s.request("POST", "/v1/saju/batch", Some(&format!("[{one},{one},{one}]")));
    assert_eq!(r.status, 200);
    let r = s.request("POST", "/v1/saju/batch", Some(&format!("[{one},{one},{one},{one}]")));
    assert_eq!(r.status, 413, "{}", r.text());
    assert!(r.text().contains("too_many_items"));
    let r = post_typed(&s, "/v1/saju/batch", "application/x-ndjson", &format!("{one}\n{one}\n{one}\n{one}\n"));
    assert_eq!(r.status, 413);
    let r = s.request("POST", "/v1/saju/batch", Some("[{not json"));
    assert_eq!(r.status, 400);
    let r = s.request("POST", "/v1/saju/batch", Some(one));
    assert_eq!(r.status, 400, "an object, not an array");
    let r = post_typed(&s, "/v1/saju/batch", "text/plain", "[]");
    assert_eq!(r.status, 415);
    let r = s.request("GET", "/v1/saju/batch", None);
    assert_eq!((r.status, r.header("allow")), (405, Some("POST")));
    // NDJSON with a broken line: that item fails, the others do not.
    let r = post_typed(&s, "/v1/saju/batch", "application/x-ndjson", &format!("{one}\n{{oops\n{one}\n"));
    let v = json(&r);
    assert_eq!((r.status, v["errors"].as_u64()), (200, Some(1)));
    assert_eq!(v["results"][1]["field"], Value::Null);
    let m = s.request("GET", "/metrics", None).text();
    assert!(m.contains("hypercube_requests_total{route=\"/v1/saju/batch\",status=\"413\"} 2"), "{m}");
}

#[test]
fn batch_of_ten_thousand() {
    let s = Server::start(&["--shards", "1"]);
    let mut items = Vec::new();
    for i in 0..10_000 {
        let (y, m, d, h) = (1900 + i % 201, 1 + i % 12, 1 + i % 28, i % 24);
        items.push(format!(r#"{{"datetime":"{y:04}-{m:02}-{d:02}T{h:02}:{:02}:00","offset":{}}}"#, i % 60, (i % 25) * 60 - 720));
    }
    let body = format!("[{}]", items.join(","));
    let r = s.request("POST", "/v1/saju/batch", Some(&body));
    assert_eq!(r.status, 200, "{}", &r.text()[..200.min(r.text().len())]);
    let v = json(&r);
    assert_eq!((v["count"].as_u64(), v["errors"].as_u64()), (Some(10_000), Some(0)));
    for i in [0usize, 1, 4999, 9999] {
        let single = json(&s.request("POST", "/v1/saju", Some(&items[i])));
        assert_eq!(v["results"][i]["four_pillars"], single["four_pillars"], "item {i}");
    }
    let r = s.request("POST", "/v1/saju/batch", Some(&format!("[{}]", vec![items[0].as_str(); 10_001].join(","))));
    assert_eq!(r.status, 413);
}

fn search(s: &Server, body: &str) -> (u16, Value) {
    let r = s.request("POST", "/v1/saju/search", Some(body));
    let v = serde_json::from_slice(&r.body).unwrap_or(Value::Null);
    (r.status, v)
}

#[test]
fn search_finds_pattern_and_pages() {
    let s = Server::start(&["--shards", "1"]);
    // 甲子 days, 午 hours, one year at 10-minute steps in Seoul.
    let q = r#""start":"2027-01-01T00:00","end":"2027-12-31T23:50","zone":"Asia/Seoul","step":"10m","day":"甲子","hour_branch":"午""#;
    let (st, all) = search(&s, &format!("{{{q},\"limit\":1000}}"));
    assert_eq!(st, 200, "{all}");
    let matches = all["matches"].as_array().unwrap();
    // 365 days hold 6 or 7 甲子 days; each gives one run: 11:00..12:50.
    assert!((6..=7).contains(&matches.len()), "{all}");
    for m in matches {
        assert_eq!(m["four_pillars"]["day"]["hanja"], "甲子");
        assert_eq!(m["four_pillars"]["hour"]["hanja"].as_str().unwrap().chars().nth(1), Some('午'));
        assert!(m["start"].as_str().unwrap().ends_with("T11:00:00"), "{m}");
        assert!(m["end"].as_str().unwrap().ends_with("T12:50:00"), "{m}");
        assert_eq!(m["points"], 12);
        // The single-chart endpoint agrees at the run's start.
        let one = s.request("GET", &format!("/v1/saju?datetime={}&zone=Asia/Seoul", m["start"].as_str().unwrap()), None);
        assert_eq!(json(&one)["four_pillars"], m["four_pillars"]);
    }
    assert_eq!(all["points"], 52_560);
    assert_eq!(all["next_cursor"], Value::Null);
    // Pages of 2 concatenate to the whole.
    let (mut cursor, mut got) = (0u64, Vec::new());
    loop {
        let (st, page) = search(&s, &format!("{{{q},\"limit\":2,\"cursor\":{cursor}}}"));
        assert_eq!(st, 200, "{page}");
        got.extend(page["matches"].as_array().unwrap().iter().cloned());
        match page["next_cursor"].as_u64() {
            Some(c) => cursor = c,
            None => break,
        }
    }
    assert_eq!(&got, matches);

    // Relative to a birth chart: day stem a wealth star (正財/偏財) of the day master, no clash.
    let (st, v) = search(
        &s,
        r#"{"start":"2027-03-01T00:00","end":"2027-03-31T00:00","offset":540,"step":"1d","birth_datetime":"1990-05-15T14:30","birth_offset":540,"day_ten_gods":"정재,偏財","avoid_clash":true}"#,
    );
    assert_eq!(st, 200, "{v}");
    let ms = v["matches"].as_array().unwrap();
    assert!(!ms.is_empty());
    // 1990-05-15 is 庚辰: wealth stems are 甲/乙; 辰 clashes with 戌.
    for m in ms {
        let day = m["four_pillars"]["day"]["hanja"].as_str().unwrap();
        assert!(day.starts_with('甲') || day.starts_with('乙'), "{day}");
        assert!(!day.ends_with('戌'), "{day}");
    }
}

#[test]
fn search_limits_and_bad_input() {
    let s = Server::start(&["--shards", "1", "--search-max-points", "100000", "--search-max-page", "50"]);
    let base = r#""start":"2027-01-01T00:00","offset":540"#;
    for (body, field) in [
        (format!(r#"{{{base},"end":"2038-01-01T00:00","step":"1d"}}"#), "end"),
        (format!(r#"{{{base},"end":"2026-01-01T00:00"}}"#), "end"),
        (format!(r#"{{{base},"end":"2028-01-01T00:00","step":"1m"}}"#), "step"),
        (format!(r#"{{{base},"end":"2027-02-01T00:00","step":30}}"#), "step"),
        (format!(r#"{{{base},"end":"2027-02-01T00:00","step":"2d"}}"#), "step"),
        (format!(r#"{{{base},"end":"2027-02-01T00:00","step":"soon"}}"#), "step"),
        (format!(r#"{{{base},"end":"2027-02-01T00:00","limit":51}}"#), "limit"),
        (format!(r#"{{{base},"end":"2027-02-01T00:00","limit":0}}"#), "limit"),
        (format!(r#"{{{base},"end":"2027-02-01T00:00","cursor":-1}}"#), "cursor"),
        (format!(r#"{{{base},"end":"2027-02-01T00:00","day":"甲丑"}}"#), "day"),
        (format!(r#"{{{base},"end":"2027-02-01T00:00","hour_branch":12}}"#), "hour_branch"),
        (format!(r#"{{{base},"end":"2027-02-01T00:00","day_ten_gods":"정재"}}"#), "day_ten_gods"),
        (format!(r#"{{{base},"end":"2027-02-01T00:00","avoid_clash":true}}"#), "avoid_clash"),
        (format!(r#"{{{base},"end":"2027-02-01T00:00","colour":1}}"#), "colour"),
        (r#"{"start":"2027-01-01T00:00","end":"2027-02-01T00:00"}"#.to_owned(), "offset"),
        (r#"{"start":"2027-02-30T00:00","end":"2027-03-01T00:00","offset":0}"#.to_owned(), "start"),
        (r#"{"start":"2100-12-01T00:00","end":"2101-12-01T00:00","offset":0}"#.to_owned(), "end"),
        (r#"{"start":"1899-12-01T00:00","end":"1900-02-01T00:00","offset":0}"#.to_owned(), "start"),
    ] {
        let (st, v) = search(&s, &body);
        assert_eq!(st, 422, "{body}: {v}");
        assert_eq!(v["field"], field, "{body}: {v}");
    }
    let (st, _) = search(&s, "{nope");
    assert_eq!(st, 400);
    let r = post_typed(&s, "/v1/saju/search", "text/csv", "{}");
    assert_eq!(r.status, 415);
    // At the limit exactly: 100,000 points is allowed.
    let (st, v) = search(&s, &format!(r#"{{{base},"end":"2027-03-11T10:39","step":60,"hour":"甲子","limit":50}}"#));
    assert_eq!((st, v["points"].as_u64()), (200, Some(100_000)), "{v}");
    let (st, v) = search(&s, &format!(r#"{{{base},"end":"2027-03-11T10:40","step":60}}"#));
    assert_eq!((st, v["field"].as_str()), (422, Some("step")), "{v}");
}

#[test]
fn metrics_and_version_report_the_kernel() {
    let s = Server::start(&["--shards", "1"]);
    let m = s.request("GET", "/metrics", None).text();
    let want = std::env::var("HYPERCUBE_KERNEL").ok().filter(|k| !k.is_empty());
    let line = m.lines().find(|l| l.starts_with("hypercube_build_info")).unwrap().to_owned();
    match &want {
        Some(k) => assert!(line.contains(&format!("engine_kernel=\"{k}\"")), "{line}"),
        None => assert!(!line.contains("engine_kernel=\"\""), "{line}"),
    }
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_hypercube")).arg("--version").output().unwrap();
    let v = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(v.contains("engine kernel: "), "{v}");
    let kernel = line.split("engine_kernel=\"").nth(1).unwrap().split('"').next().unwrap();
    assert!(v.contains(&format!("engine kernel: {kernel}")), "{v} vs {line}");
    // A forced kernel that does not exist is refused at start.
    let out =
        std::process::Command::new(env!("CARGO_BIN_EXE_hypercube")).arg("--version").env("HYPERCUBE_KERNEL", "avx9").output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown kernel"));
}

/// A long search yields to the shard's event loop between slices: a /healthz sent while it runs
/// on the same (only) shard is answered before the search. Checked only when the search takes
/// long enough for the order to mean something (≈ 0.6 s in the test profile here).
#[test]
fn long_search_does_not_stall_the_shard() {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;
    let s = Server::start(&["--shards", "1", "--search-max-years", "50", "--search-max-points", "30000000"]);
    let done = Arc::new(AtomicBool::new(false));
    let (addr, d2) = (s.addr, done.clone());
    let t0 = std::time::Instant::now();
    let search = std::thread::spawn(move || {
        // 50 years at 1 min (raised limits), a pattern nothing matches (甲子 day with stem 乙):
        // a full scan of 26 M points.
        let body = r#"{"start":"2000-01-01T00:00","end":"2049-12-31T00:00","offset":540,"step":"1m","day":"甲子","day_stem":"乙"}"#;
        let raw = format!(
            "POST /v1/saju/search HTTP/1.1\r\nHost: t\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        );
        let mut c = std::net::TcpStream::connect(addr).unwrap();
        std::io::Write::write_all(&mut c, raw.as_bytes()).unwrap();
        let mut out = Vec::new();
        let _ = std::io::Read::read_to_end(&mut c, &mut out);
        d2.store(true, Ordering::SeqCst);
        common::parse_responses(&out, false).remove(0)
    });
    std::thread::sleep(std::time::Duration::from_millis(50));
    let h = s.request("GET", "/healthz", None);
    let healthz_first = !done.load(Ordering::SeqCst);
    let r = search.join().unwrap();
    let took = t0.elapsed();
    assert_eq!((h.status, r.status), (200, 200), "{}", r.text());
    assert_eq!(json(&r)["scanned"], 26_297_281);
    if took > std::time::Duration::from_millis(300) {
        assert!(healthz_first, "/healthz waited for a {took:?} search");
    } else {
        eprintln!("search took {took:?}: too fast to check the order");
    }
}
