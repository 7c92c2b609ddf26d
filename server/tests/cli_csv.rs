//! The built `hypercube` binary's CSV modes on the committed vectors: its stdout must equal, line
//! for line, what `engine::csv` gives (the engine's vector tests check those lines against the
//! reference columns), and bad rows must fail with the line number on stderr, never a panic.

use engine::csv::{CsvJob, Mode};
use std::io::Write;
use std::process::{Command, Stdio};

fn data(name: &str) -> String {
    let path = format!("{}/../engine/tests/data/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn run(args: &[&str], stdin: &str) -> (bool, String, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_hypercube"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn hypercube");
    let mut pipe = child.stdin.take().expect("stdin");
    let input = stdin.to_owned();
    let writer = std::thread::spawn(move || pipe.write_all(input.as_bytes()));
    let out = child.wait_with_output().expect("wait");
    writer.join().expect("writer").expect("write stdin");
    (out.status.success(), String::from_utf8(out.stdout).expect("utf8"), String::from_utf8(out.stderr).expect("utf8"))
}

fn expected(mode: Mode, input: &str) -> String {
    let mut lines = input.lines();
    let job = CsvJob::new(mode, lines.next().expect("header")).expect("header");
    let mut out = format!("{}\n", job.output_header());
    for (i, l) in lines.enumerate() {
        out += &job.row(l, i + 2).expect("row");
        out.push('\n');
    }
    out
}

#[test]
fn chart_csv_matches_engine_on_vectors() {
    for file in ["public-mixed.csv", "public-korea.csv"] {
        let input = data(file);
        let (ok, out, err) = run(&["chart", "--csv"], &input);
        assert!(ok, "{file}: {err}");
        assert!(out.starts_with(
            "local_datetime,utc_offset_min,year_gz,month_gz,day_gz,hour_gz,day_gz_zi23,day_gz_lmt,hour_gz_lmt,day_gz_ast,hour_gz_ast\n"
        ));
        assert_eq!(out, expected(Mode::Pillars, &input), "{file}");
    }
}

#[test]
fn chart_csv_full_matches_engine_on_vectors() {
    let input = data("public-charts.csv");
    let (ok, out, err) = run(&["chart", "--csv", "--full"], &input);
    assert!(ok, "{err}");
    assert_eq!(out.lines().next(), input.lines().next(), "header equals public-charts.csv's");
    assert_eq!(out, expected(Mode::Full, &input));
}

#[test]
fn lunar_csv_both_directions() {
    let input = data("public-lunar.csv");
    let (ok, out, err) = run(&["lunar", "--csv"], &input);
    assert!(ok, "{err}");
    let want: String = input.lines().map(|l| l.split(',').take(5).collect::<Vec<_>>().join(",") + "\n").collect();
    assert_eq!(out, want);
    let (ok, back, err) = run(&["lunar", "--to-solar", "--csv"], &input);
    assert!(ok, "{err}");
    assert_eq!(back, want);
}

#[test]
fn bad_rows_name_their_line() {
    let (ok, out, err) = run(&["chart", "--csv"], "local_datetime,utc_offset_min\n2000-01-01T00:00:00,540\n2000-02-30T00:00:00,540\n");
    assert!(!ok);
    assert_eq!(out.lines().count(), 2);
    assert!(err.contains("line 3"), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    let (ok, _, err) = run(&["lunar", "--to-solar", "--csv"], "kr_lunar_year,kr_lunar_month,kr_lunar_day,kr_leap\n2024,2,1,1\n");
    assert!(!ok);
    assert!(err.contains("line 2") && err.contains("leap"), "{err}");
    let (ok, _, err) = run(&["chart", "--csv"], "nothing,here\n");
    assert!(!ok);
    assert!(err.contains("line 1"), "{err}");
}

/// The acceptance check of issue 4: `HYPERCUBE_KERNEL=scalar|avx2|avx512 hypercube chart --csv`
/// give identical output (every kernel this CPU has; the others are skipped and said so), and
/// a kernel the CPU lacks or an unknown name is an error, not a silent fallback.
#[test]
fn chart_csv_is_identical_under_every_kernel() {
    let mut input = data("public-mixed.csv");
    input += &data("public-korea.csv").lines().skip(1).map(|l| format!("{l}\n")).collect::<String>();
    let mut outputs = Vec::new();
    for k in ["scalar", "avx2", "avx512"] {
        if engine::arch::Kernel::by_name(k).is_err() {
            eprintln!("skipping kernel {k}: not available on this CPU or build");
            let out =
                Command::new(env!("CARGO_BIN_EXE_hypercube")).args(["chart", "--csv"]).env("HYPERCUBE_KERNEL", k).output().expect("run");
            assert_eq!(out.status.code(), Some(2), "{k} must be refused");
            continue;
        }
        let mut child = Command::new(env!("CARGO_BIN_EXE_hypercube"))
            .args(["chart", "--csv"])
            .env("HYPERCUBE_KERNEL", k)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn");
        let mut pipe = child.stdin.take().expect("stdin");
        let text = input.clone();
        let w = std::thread::spawn(move || pipe.write_all(text.as_bytes()));
        let out = child.wait_with_output().expect("wait");
        w.join().expect("join").expect("write");
        assert!(out.status.success(), "{k}: {}", String::from_utf8_lossy(&out.stderr));
        outputs.push((k, String::from_utf8(out.stdout).expect("utf8")));
    }
    assert!(outputs[0].1.lines().count() > 6000);
    for (k, o) in &outputs[1..] {
        assert!(o == &outputs[0].1, "{k} differs from scalar");
    }
    let out = Command::new(env!("CARGO_BIN_EXE_hypercube")).args(["chart", "--csv"]).env("HYPERCUBE_KERNEL", "sse9").output().expect("run");
    assert_eq!(out.status.code(), Some(2));
}
