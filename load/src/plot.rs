//! PNG plots from reports, with `plotters` (bitmap backend, pure Rust: PNG through the `image`
//! crate, text through `ab_glyph` from a TTF file read at run time, so no fontconfig/freetype).
//!
//! - [`spectrum`]: the HDR-style latency percentile spectrum of one or more reports: x is the
//!   percentile on a "nines" scale (0%, 90%, 99%, 99.9%, … equally spaced: x = −log10(1 − q)),
//!   y the latency in ms (log scale), from the histograms the reports carry.
//! - [`sweep`]: p50/p99/p99.9 (coordinated-omission corrected) against the offered rate of
//!   open-loop reports, the uncorrected p99 beside them, and the closed-loop run's rps and
//!   percentiles marked — the plot that shows latency rising past capacity where the closed-loop
//!   numbers alone hide it.
//!
//! Without a font ([`Font::None`]) the plots are drawn without any text.

use crate::report::{decode_histogram, Report};
use plotters::coord::Shift;
use plotters::prelude::*;
use std::path::Path;

/// Where the plots' text comes from.
#[derive(Debug, Clone)]
pub enum Font {
    /// A TTF/OTF file (e.g. DejaVuSans from Debian's `fonts-dejavu-core`).
    File(std::path::PathBuf),
    /// No text at all.
    None,
}

/// The font `scripts/setup` installs.
pub const DEFAULT_FONT: &str = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf";

/// The family name plots ask for; [`Font::File`] is registered under it.
const FAMILY: &str = "sans-serif";

type Result<T> = std::result::Result<T, String>;

fn err<E: std::fmt::Debug>(e: E) -> String {
    format!("plot: {e:?}")
}

/// Register the font (once per process; later calls re-register, which is harmless). `Ok(true)`
/// when text can be drawn.
fn load_font(font: &Font) -> Result<bool> {
    match font {
        Font::None => Ok(false),
        Font::File(p) => {
            let bytes = std::fs::read(p).map_err(|e| {
                format!("font {}: {e} (scripts/setup installs fonts-dejavu-core; --font none draws without text)", p.display())
            })?;
            // plotters keeps fonts for the life of the process: leak the bytes once per call
            // (a CLI draws a handful of plots).
            let bytes: &'static [u8] = Box::leak(bytes.into_boxed_slice());
            plotters::style::register_font(FAMILY, FontStyle::Normal, bytes)
                .map_err(|_| format!("font {}: not a TrueType/OpenType font", p.display()))?;
            Ok(true)
        }
    }
}

const COLORS: [RGBColor; 6] = [
    RGBColor(31, 119, 180),
    RGBColor(214, 39, 40),
    RGBColor(44, 160, 44),
    RGBColor(255, 127, 14),
    RGBColor(148, 103, 189),
    RGBColor(23, 190, 207),
];

/// The "nines" value of a quantile: 0 → 0, 0.9 → 1, 0.99 → 2, …
pub fn nines(q: f64) -> f64 {
    -(1.0 - q).max(1e-12).log10()
}

/// The percentile label at nines `x`: 0 → "0%", 1 → "90%", 3 → "99.9%", 1.5 → "96.8%".
pub fn nines_label(x: f64) -> String {
    let pct = 100.0 * (1.0 - 10f64.powf(-x));
    if (x - x.round()).abs() < 1e-6 {
        let k = x.round() as usize;
        return match k {
            0 => "0%".into(),
            1 => "90%".into(),
            _ => format!("99.{}%", "9".repeat(k - 2)).replace("99.%", "99%"),
        };
    }
    format!("{pct:.*}%", (x.ceil() as usize).saturating_sub(1).max(1))
}

/// (nines, latency ms) points of a histogram, every 0.02 nines up to what its sample count can
/// resolve (at most 6 nines), then the max.
fn spectrum_points(h: &hdrhistogram::Histogram<u64>) -> (Vec<(f64, f64)>, f64) {
    let top = (h.len().max(10) as f64).log10().min(6.0);
    let mut pts = Vec::new();
    let mut x = 0.0;
    while x <= top + 1e-9 {
        let q = 1.0 - 10f64.powf(-x);
        pts.push((x, h.value_at_quantile(q).max(1) as f64 / 1e6));
        x += 0.02;
    }
    pts.push((top, h.max().max(1) as f64 / 1e6));
    (pts, top)
}

fn log_range(lo: f64, hi: f64) -> std::ops::Range<f64> {
    let lo = lo.max(1e-3);
    let hi = hi.max(lo * 1.5);
    10f64.powf(lo.log10().floor())..10f64.powf(hi.log10().ceil())
}

fn ms_label(v: f64) -> String {
    if v >= 1000.0 {
        format!("{:.0} s", v / 1000.0)
    } else if v >= 1.0 {
        format!("{v:.0} ms")
    } else {
        format!("{:.0} µs", v * 1000.0)
    }
}

/// The latency histogram (ns) of a report, for [`spectrum`].
pub fn latency_histogram(label: &str, r: &Report) -> Result<hdrhistogram::Histogram<u64>> {
    let h = r.histograms.as_ref().ok_or_else(|| format!("plot: report {label:?} has no histograms (made by an older hypercube-load?)"))?;
    decode_histogram(&h.latency)
}

/// Draw the percentile spectrum of labelled latency histograms (ns) into a PNG at `out`.
pub fn spectrum(histograms: &[(String, hdrhistogram::Histogram<u64>)], title: &str, font: &Font, out: &Path) -> Result<()> {
    if histograms.is_empty() {
        return Err("plot: no reports".into());
    }
    let text = load_font(font)?;
    let mut series = Vec::new();
    let (mut top, mut lo, mut hi) = (1.0f64, f64::MAX, 0f64);
    for (label, h) in histograms {
        if h.is_empty() {
            return Err(format!("plot: report {label:?} has no responses"));
        }
        let (pts, t) = spectrum_points(h);
        top = top.max(t);
        for &(_, y) in &pts {
            lo = lo.min(y);
            hi = hi.max(y);
        }
        series.push((label.clone(), pts));
    }
    let root = BitMapBackend::new(out, (900, 560)).into_drawing_area();
    root.fill(&WHITE).map_err(err)?;
    let x_max = top.ceil();
    let draw = |root: &DrawingArea<BitMapBackend, Shift>| -> std::result::Result<(), Box<dyn std::error::Error + '_>> {
        let mut b = ChartBuilder::on(root);
        b.margin(16).margin_right(40).x_label_area_size(if text { 44 } else { 4 }).y_label_area_size(if text { 70 } else { 4 });
        if text {
            b.caption(title, (FAMILY, 22));
        }
        let mut chart = b.build_cartesian_2d(0f64..x_max, log_range(lo, hi).log_scale())?;
        // Without a font there is no mesh at all: plotters measures label text even for none.
        if text {
            chart
                .configure_mesh()
                .x_desc("percentile")
                .y_desc("latency")
                .x_labels(x_max as usize + 1)
                .x_label_formatter(&|x| nines_label(*x))
                .y_label_formatter(&|y| ms_label(*y))
                .label_style((FAMILY, 15))
                .draw()?;
        }
        for (i, (label, pts)) in series.iter().enumerate() {
            let c = COLORS[i % COLORS.len()];
            let s = chart.draw_series(LineSeries::new(pts.iter().copied(), c.stroke_width(2)))?;
            if text {
                s.label(label.as_str()).legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], c.stroke_width(2)));
            }
        }
        if text {
            chart
                .configure_series_labels()
                .position(SeriesLabelPosition::UpperLeft)
                .background_style(WHITE.mix(0.85))
                .border_style(BLACK)
                .label_font((FAMILY, 15))
                .draw()?;
        }
        Ok(())
    };
    draw(&root).map_err(|e| format!("plot: {e}"))?;
    root.present().map_err(|e| format!("plot {}: {e}", out.display()))?;
    Ok(())
}

/// Draw latency against offered rate for open-loop `reports` (any order), with the closed-loop
/// report (if any) marked at its achieved rps.
pub fn sweep(reports: &[Report], title: &str, font: &Font, out: &Path) -> Result<()> {
    let mut open: Vec<&Report> = reports.iter().filter(|r| r.mode == "open" && r.rate.is_some()).collect();
    open.sort_by_key(|r| r.rate);
    let closed = reports.iter().find(|r| r.mode == "closed");
    if open.is_empty() {
        return Err("plot sweep: no open-loop reports (with a rate)".into());
    }
    let text = load_font(font)?;
    let ms = |us: f64| (us / 1000.0).max(1e-3);
    type Pick = fn(&Report) -> f64;
    let lines: [(&str, Pick, RGBColor); 3] =
        [("p50", |r| r.latency_us.p50, COLORS[0]), ("p99", |r| r.latency_us.p99, COLORS[1]), ("p99.9", |r| r.latency_us.p999, COLORS[2])];
    let (mut lo, mut hi, mut x_max) = (f64::MAX, 0f64, 0f64);
    for r in open.iter().copied().chain(closed) {
        for v in [r.latency_us.p50, r.latency_us.p999, r.latency_us.max, r.latency_uncorrected_us.p99] {
            lo = lo.min(ms(v));
            hi = hi.max(ms(v));
        }
        x_max = x_max.max(r.rate.map_or(r.rps, |x| x as f64));
    }
    let root = BitMapBackend::new(out, (900, 560)).into_drawing_area();
    root.fill(&WHITE).map_err(err)?;
    let draw = |root: &DrawingArea<BitMapBackend, Shift>| -> std::result::Result<(), Box<dyn std::error::Error + '_>> {
        let mut b = ChartBuilder::on(root);
        b.margin(16).margin_right(40).x_label_area_size(if text { 44 } else { 4 }).y_label_area_size(if text { 70 } else { 4 });
        if text {
            b.caption(title, (FAMILY, 22));
        }
        let y = log_range(lo, hi);
        let mut chart = b.build_cartesian_2d(0f64..x_max * 1.08, y.clone().log_scale())?;
        if text {
            chart
                .configure_mesh()
                .x_desc("offered rate (requests/s, open loop)")
                .y_desc("latency (from the scheduled send)")
                .x_label_formatter(&|x| format!("{:.0}k", x / 1000.0))
                .y_label_formatter(&|y| ms_label(*y))
                .label_style((FAMILY, 15))
                .draw()?;
        }
        for (name, pick, c) in lines {
            let pts: Vec<(f64, f64)> = open.iter().map(|r| (r.rate.unwrap_or(0) as f64, ms(pick(r)))).collect();
            let s = chart.draw_series(LineSeries::new(pts.iter().copied(), c.stroke_width(2)))?;
            if text {
                s.label(format!("open loop {name}")).legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], c.stroke_width(2)));
            }
            chart.draw_series(pts.iter().map(|&p| Circle::new(p, 4, c.filled())))?;
        }
        let grey = RGBColor(120, 120, 120);
        let unc: Vec<(f64, f64)> = open.iter().map(|r| (r.rate.unwrap_or(0) as f64, ms(r.latency_uncorrected_us.p99))).collect();
        let s = chart.draw_series(DashedLineSeries::new(unc, 6, 4, grey.stroke_width(2)))?;
        if text {
            s.label("open loop p99, uncorrected").legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], grey.stroke_width(2)));
        }
        if let Some(c) = closed {
            let x = c.rps;
            chart.draw_series(DashedLineSeries::new(vec![(x, y.start), (x, y.end)], 4, 4, BLACK.stroke_width(1)))?;
            for (_, pick, col) in lines {
                chart.draw_series(std::iter::once(Cross::new((x, ms(pick(c))), 7, col.stroke_width(3))))?;
            }
            if text {
                // A legend entry only: the crosses are drawn above in the line colours.
                chart
                    .draw_series(std::iter::empty::<Cross<(f64, f64), i32>>())?
                    .label(format!("closed loop ({} conns): {:.0} rps, ×: p50/p99/p99.9", c.connections, c.rps))
                    .legend(|(x, y)| Cross::new((x + 10, y), 6, BLACK.stroke_width(2)));
            }
        }
        if text {
            chart
                .configure_series_labels()
                .position(SeriesLabelPosition::UpperLeft)
                .background_style(WHITE.mix(0.85))
                .border_style(BLACK)
                .label_font((FAMILY, 15))
                .draw()?;
        }
        Ok(())
    };
    draw(&root).map_err(|e| format!("plot: {e}"))?;
    root.present().map_err(|e| format!("plot {}: {e}", out.display()))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nines_scale() {
        assert_eq!(nines(0.0), 0.0);
        assert!((nines(0.99) - 2.0).abs() < 1e-9);
        assert!((nines(0.999) - 3.0).abs() < 1e-9);
        assert_eq!(nines_label(0.0), "0%");
        assert_eq!(nines_label(1.0), "90%");
        assert_eq!(nines_label(2.0), "99%");
        assert_eq!(nines_label(4.0), "99.99%");
        assert_eq!(nines_label(0.5), "68.4%");
    }

    fn report(rate: Option<u64>, base_us: u64) -> Report {
        let mut st = crate::report::Stats::default();
        for i in 1..=2000u64 {
            st.record(0, 200, crate::sched::Sample { corrected: base_us * 1000 + i * 1000, uncorrected: base_us * 500 + i * 100 });
        }
        let info = crate::report::RunInfo {
            scenario: "http".into(),
            target: "GET /".into(),
            rate,
            connections: 8,
            threads: 1,
            pipeline: 1,
            workers: 1,
            ramp: None,
            templates: vec![(String::new(), 1)],
        };
        Report::new(&info, &st, std::time::Duration::from_secs(1))
    }

    fn is_png(p: &Path) -> bool {
        std::fs::read(p).is_ok_and(|b| b.len() > 1000 && b.starts_with(b"\x89PNG\r\n\x1a\n"))
    }

    /// Both plots render to PNG files, without a font and (where it is installed) with the default
    /// one; bad input is refused with a message.
    #[test]
    fn plots_render_to_png() {
        let dir = std::env::temp_dir().join(format!("hypercube-load-plot-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let reports = vec![report(None, 100), report(Some(1000), 50), report(Some(2000), 80), report(Some(3000), 5000)];
        let mut fonts = vec![Font::None];
        if Path::new(DEFAULT_FONT).exists() {
            fonts.push(Font::File(DEFAULT_FONT.into()));
        }
        for (i, font) in fonts.iter().enumerate() {
            let (a, b) = (dir.join(format!("spectrum-{i}.png")), dir.join(format!("sweep-{i}.png")));
            let labelled: Vec<(String, hdrhistogram::Histogram<u64>)> =
                reports.iter().enumerate().map(|(j, r)| (format!("r{j}"), latency_histogram("r", r).unwrap())).collect();
            spectrum(&labelled, "t", font, &a).unwrap();
            sweep(&reports, "t", font, &b).unwrap();
            assert!(is_png(&a) && is_png(&b));
        }
        assert!(sweep(&reports[..1], "t", &Font::None, &dir.join("x.png")).unwrap_err().contains("no open-loop"));
        assert!(spectrum(&[], "t", &Font::None, &dir.join("x.png")).is_err());
        assert!(spectrum(
            &[("a".into(), latency_histogram("a", &reports[0]).unwrap())],
            "t",
            &Font::File(dir.join("missing.ttf")),
            &dir.join("x.png")
        )
        .unwrap_err()
        .contains("font"));
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn spectrum_points_rise_and_end_at_max() {
        let mut h = hdrhistogram::Histogram::<u64>::new_with_bounds(1, 1_000_000_000, 3).unwrap();
        for v in 1..=10_000u64 {
            h.record(v * 1000).unwrap();
        }
        let (pts, top) = spectrum_points(&h);
        assert!((top - 4.0).abs() < 1e-9);
        assert!(pts.windows(2).all(|w| w[1].1 >= w[0].1));
        assert!((pts.last().unwrap().1 - 10.0).abs() < 0.02, "{:?}", pts.last());
    }
}
