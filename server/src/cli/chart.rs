//! `hypercube chart`: one chart from flags (text, or JSON with `--json`), or CSV batches
//! (`--csv`, `--csv --full`) whose formats are fixed by `engine::csv` and checked by other tools.
use engine::csv::{CsvJob, Mode};
use engine::{BirthInput, Calendar, Chart, EngineError, Options, TimeBasis, TransitionPolicy};
use std::io::{BufRead, Write};
use std::process::ExitCode;

mod text;

#[derive(clap::Args)]
pub(crate) struct ChartArgs {
    /// Birth wall clock, YYYY-MM-DDTHH:MM[:SS] (a Korean lunar date with --lunar).
    #[arg(long, required_unless_present = "csv")]
    datetime: Option<String>,
    /// UTC offset in minutes east (DST included), e.g. 540.
    #[arg(long, allow_hyphen_values = true, conflicts_with = "zone", required_unless_present_any = ["zone", "csv"])]
    offset: Option<i32>,
    /// IANA time zone with its offset history (Asia/Seoul).
    #[arg(long)]
    zone: Option<String>,
    /// Longitude in degrees east (needed by --solar-time local_mean|apparent).
    #[arg(long, allow_hyphen_values = true)]
    lon: Option<f64>,
    /// Clock for the day and hour pillars: civil, local_mean or apparent.
    #[arg(long, default_value = "civil")]
    solar_time: String,
    /// 子時 convention: split, day_changes_at_23 or midnight.
    #[arg(long, default_value = "split")]
    zi: String,
    /// m or f (sets the direction of the luck pillars; without it there are none).
    #[arg(long)]
    gender: Option<String>,
    /// The date is a Korean lunar date.
    #[arg(long)]
    lunar: bool,
    /// The lunar date is in the leap month (윤달).
    #[arg(long, requires = "lunar")]
    leap: bool,
    /// Add the yearly pillar (세운) of this year.
    #[arg(long)]
    luck_year: Option<i32>,
    /// Wall clocks skipped or repeated by a zone's clock change: reject, earlier or later.
    #[arg(long, default_value = "reject")]
    transition: String,
    /// Print the chart as JSON.
    #[arg(long)]
    json: bool,
    /// Batch: CSV on stdin (local_datetime,utc_offset_min[,longitude_deg]) to pillars on stdout.
    #[arg(long, conflicts_with_all = ["datetime", "json"])]
    csv: bool,
    /// With --csv: input local_datetime,gender[,utc_offset_min]; output the full-chart columns.
    #[arg(long, requires = "csv")]
    full: bool,
}

pub(crate) fn run(args: ChartArgs) -> ExitCode {
    if args.csv {
        return run_csv(if args.full { Mode::Full } else { Mode::Pillars }, "chart --csv");
    }
    let transition: TransitionPolicy = match args.transition.parse() {
        Ok(t) => t,
        Err(_) => return fail(&format!("--transition: unknown policy {:?} (reject, earlier, later)", args.transition)),
    };
    match build(&args, transition).and_then(|(input, opts)| Chart::compute(&input, &opts)) {
        Ok(chart) if args.json => match serde_json::to_string_pretty(&chart) {
            Ok(s) => {
                println!("{s}");
                ExitCode::SUCCESS
            }
            Err(e) => fail(&format!("cannot serialize: {e}")),
        },
        Ok(chart) => {
            print!("{}", text::render(&chart));
            ExitCode::SUCCESS
        }
        Err(e) => fail(&format!("--{}: {e}", e.field().replace('_', "-"))),
    }
}

fn fail(msg: &str) -> ExitCode {
    eprintln!("hypercube chart: {msg}");
    ExitCode::FAILURE
}

fn build(a: &ChartArgs, transition: TransitionPolicy) -> Result<(BirthInput, Options), EngineError> {
    let dt = a.datetime.as_deref().unwrap_or_default();
    let t =
        engine::calendar::parse_datetime(dt).ok_or_else(|| EngineError::InvalidDateTime(format!("{dt:?} (want YYYY-MM-DDTHH:MM[:SS])")))?;
    let time = match (&a.zone, a.offset) {
        (Some(z), _) => TimeBasis::Zone(z.parse()?),
        (None, Some(o)) => TimeBasis::Offset(o),
        (None, None) => return Err(EngineError::UnknownZone("(give --offset or --zone)".into())),
    };
    let input = BirthInput {
        longitude: a.lon,
        calendar: if a.lunar { Calendar::Lunar { leap: a.leap } } else { Calendar::Solar },
        gender: a.gender.as_deref().map(str::parse).transpose()?,
        ..BirthInput::solar(t, time)
    };
    let opts = Options { zi: a.zi.parse()?, solar_time: a.solar_time.parse()?, luck_year: a.luck_year, transition };
    Ok((input, opts))
}

/// Runs a CSV contract over stdin → stdout. Stops at the first bad line with its number on stderr
/// and a non-zero exit; the rows before it have been written. Lines go to the engine in blocks
/// of [`CSV_BLOCK`] (`CsvJob::rows`: the pillar contract runs the batch kernels).
pub(crate) fn run_csv(mode: Mode, what: &str) -> ExitCode {
    let stdin = std::io::stdin().lock();
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    let mut job: Option<CsvJob> = None;
    let mut block: Vec<(usize, String)> = Vec::with_capacity(CSV_BLOCK);
    for (i, line) in stdin.lines().enumerate() {
        let line_no = i + 1;
        let line = match line {
            Ok(l) => l,
            Err(e) => {
                if let Some(code) = flush_block(job.as_ref(), &mut block, &mut out, what) {
                    return code;
                }
                return csv_fail(what, &format!("line {line_no}: cannot read: {e}"));
            }
        };
        if line.trim().is_empty() {
            continue;
        }
        match &job {
            None => match CsvJob::new(mode, &line) {
                Ok(j) => {
                    if writeln!(out, "{}", j.output_header()).is_err() {
                        return ExitCode::FAILURE;
                    }
                    job = Some(j);
                }
                Err(e) => return csv_fail(what, &e.to_string()),
            },
            Some(_) => {
                block.push((line_no, line));
                if block.len() == CSV_BLOCK {
                    if let Some(code) = flush_block(job.as_ref(), &mut block, &mut out, what) {
                        return code;
                    }
                }
            }
        }
    }
    if job.is_none() {
        return csv_fail(what, "line 1: empty input (expected a header)");
    }
    if let Some(code) = flush_block(job.as_ref(), &mut block, &mut out, what) {
        return code;
    }
    if out.flush().is_err() {
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}

/// Lines per engine call in `run_csv`.
const CSV_BLOCK: usize = 4096;

/// Writes a block's rows; at the first bad row, flushes what came before and returns the exit.
fn flush_block(job: Option<&CsvJob>, block: &mut Vec<(usize, String)>, out: &mut impl Write, what: &str) -> Option<ExitCode> {
    let job = job?;
    let lines: Vec<(usize, &str)> = block.iter().map(|(n, l)| (*n, l.as_str())).collect();
    let rows = job.rows(&lines);
    block.clear();
    for row in rows {
        match row {
            Ok(row) => {
                if writeln!(out, "{row}").is_err() {
                    return Some(ExitCode::FAILURE);
                }
            }
            Err(e) => {
                let _ = out.flush();
                return Some(csv_fail(what, &e.to_string()));
            }
        }
    }
    None
}

fn csv_fail(what: &str, msg: &str) -> ExitCode {
    eprintln!("hypercube {what}: {msg}");
    ExitCode::FAILURE
}
