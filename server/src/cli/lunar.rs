//! `hypercube lunar`: Gregorian ↔ Korean lunar (KASI) dates, one from the command line or a CSV
//! batch (`--csv`, `--to-solar --csv`; formats in `engine::csv`).
use engine::csv::Mode;
use engine::{lunar_to_solar, solar_to_lunar, EngineError, LunarDate};
use std::process::ExitCode;

#[derive(clap::Args)]
pub(crate) struct LunarArgs {
    /// Convert lunar → solar (default: solar → lunar).
    #[arg(long)]
    to_solar: bool,
    /// Batch: CSV on stdin (solar_date, or kr_lunar_year,kr_lunar_month,kr_lunar_day,kr_leap
    /// with --to-solar) to solar_date,kr_lunar_year,kr_lunar_month,kr_lunar_day,kr_leap.
    #[arg(long, conflicts_with = "date")]
    csv: bool,
    /// With --to-solar: the lunar date is in the leap month.
    #[arg(long, requires = "to_solar")]
    leap: bool,
    /// A date, YYYY-MM-DD (a lunar date with --to-solar).
    #[arg(required_unless_present = "csv")]
    date: Option<String>,
}

pub(crate) fn run(args: LunarArgs) -> ExitCode {
    if args.csv {
        let mode = if args.to_solar { Mode::LunarToSolar } else { Mode::Lunar };
        return super::chart::run_csv(mode, "lunar --csv");
    }
    let date = args.date.as_deref().unwrap_or_default();
    let Some((y, m, d)) = engine::calendar::parse_date(date) else {
        eprintln!("hypercube lunar: bad date {date:?} (want YYYY-MM-DD)");
        return ExitCode::FAILURE;
    };
    let res: Result<String, EngineError> = if args.to_solar {
        lunar_to_solar(LunarDate { year: y, month: m, day: d, leap: args.leap }).map(|(sy, sm, sd)| format!("{sy:04}-{sm:02}-{sd:02}"))
    } else {
        solar_to_lunar(y, m, d).map(|l| format!("{:04}-{:02}-{:02}{}", l.year, l.month, l.day, if l.leap { " (leap)" } else { "" }))
    };
    match res {
        Ok(s) => {
            println!("{s}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("hypercube lunar: {e}");
            ExitCode::FAILURE
        }
    }
}
