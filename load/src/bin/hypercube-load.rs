//! `hypercube-load`: the load harness's command line. See the `load` crate docs.

use clap::{Parser, Subcommand};
use load::http::{self, HttpConfig, Tick};
use load::report::Report;
use load::request::{Mix, RequestTemplate, Weighted};
use load::scenario::MixRequest;
use load::workers::{self, Workers};
use std::io::{IsTerminal, Write};
use std::net::{IpAddr, Ipv4Addr, SocketAddr, ToSocketAddrs};
use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::time::Duration;

#[derive(Parser)]
#[command(name = "hypercube-load", version, about = "Load harness for hypercube: closed and open (CO-corrected) loop, HDR latency")]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// HTTP/1.1 keep-alive load: one request, closed or open loop.
    Http(HttpArgs),
    /// HTTP/3 load (quinn + h3 client on the client shards). The server certificate is NOT
    /// verified unless --cafile is given (for the server's self-signed development certificate).
    H3(H3Args),
    /// HTTP/1.1 load from a weighted blend of requests (`--file` with [[request]] tables, or
    /// `--req`), with a per-request breakdown in the report.
    Mix(MixArgs),
    /// Draw PNG plots from JSON reports (`spectrum`: latency percentile spectrum; `sweep`:
    /// latency vs offered rate of open-loop reports, closed loop marked).
    Plot(PlotArgs),
    /// Open N WebSocket connections and hold them idle; reports server RSS per connection.
    WsHold(WsHoldArgs),
    /// WebSocket message load: N connections send text messages (closed loop, or open loop at
    /// -R msgs/s, CO-corrected) and time each reply (/v1/ws/echo, or /v1/ws matched by id).
    Ws(WsArgs),
    /// Run a TOML scenario file (`scenario = "http"`, `url = …`, other keys as the flags; a
    /// `mix` file also holds its [[request]] tables).
    Run {
        /// The TOML file.
        file: String,
    },
}

#[derive(clap::Args)]
struct WsHoldArgs {
    /// ws://HOST:PORT/PATH
    url: String,
    #[arg(short = 'c', long, default_value_t = 1000)]
    connections: usize,
    #[arg(short = 't', long, default_value_t = 1)]
    threads: usize,
    #[arg(long)]
    cpus: Option<String>,
    /// WebSocket subprotocol to ask for (empty for none).
    #[arg(long, default_value = "hypercube.v1")]
    subprotocol: String,
    /// How long each connection stays open after its handshake (with --ramp: at least this long
    /// after the ramp's last connection is due, so all are held together).
    #[arg(long, default_value = "10s", value_parser = parse_duration)]
    hold: Duration,
    /// Ping this often while holding (default: silent).
    #[arg(long, value_parser = parse_duration)]
    ping_interval: Option<Duration>,
    /// Source addresses: a count N (127.0.0.2 …) or a comma list.
    #[arg(long)]
    sources: Option<String>,
    /// Handshake timeout.
    #[arg(long, default_value = "10s", value_parser = parse_duration)]
    timeout: Duration,
    /// Server pid: report its RSS per held connection.
    #[arg(long)]
    server_pid: Option<u32>,
    /// Split the connections over this many worker processes (each has its own fd limit).
    #[arg(long, default_value_t = 1)]
    workers: usize,
    /// Open connections at this many per second in total (split over workers); default: as fast
    /// as possible. The report gives the ramp time achieved.
    #[arg(long)]
    ramp: Option<f64>,
    /// Write the JSON report here (`-` for stdout).
    #[arg(long)]
    json: Option<String>,
    #[arg(short = 'q', long)]
    quiet: bool,
}

#[derive(clap::Args, Clone)]
struct WsArgs {
    /// ws://HOST:PORT/PATH (`/v1/ws/echo` or `/v1/ws`).
    url: String,
    /// Connections in total.
    #[arg(short = 'c', long, default_value_t = 64)]
    connections: usize,
    /// Client threads (shards) per process.
    #[arg(short = 't', long, default_value_t = 1)]
    threads: usize,
    /// Pin client threads to these CPUs (`0`, `0,2`, `0-3`); default unpinned.
    #[arg(long)]
    cpus: Option<String>,
    /// Measured run time, from when all connections are open (`10s`, `500ms`, `2m`).
    #[arg(short = 'd', long, default_value = "10s", value_parser = parse_duration)]
    duration: Duration,
    /// Stop after this many replies in total.
    #[arg(short = 'n', long)]
    messages: Option<u64>,
    /// Open loop at this many messages/s in total (CO-corrected); default closed loop.
    #[arg(short = 'R', long)]
    rate: Option<u64>,
    /// Closed loop: messages in flight per connection.
    #[arg(short = 'p', long, default_value_t = 1)]
    pipeline: usize,
    /// Message template: `{{id}}` is the message's number on its connection; `{{datetime}}`,
    /// `{{gender}}`, `{{year}}` are random birth data. Example for /v1/ws:
    /// `{"id":{{id}},"type":"chart","datetime":"{{datetime}}","zone":"Asia/Seoul","gender":"{{gender}}"}`
    #[arg(short = 'b', long, default_value = r#"{"id":{{id}},"type":"ping"}"#)]
    body: String,
    /// How a reply is matched: `echo` (equals the message), `id` (carries the message's id; a
    /// `"type":"error"` reply counts as reply_error), `any`. Default: echo for a path ending in
    /// /echo, else id.
    #[arg(long, value_parser = load::ws_msg::Expect::parse)]
    expect: Option<load::ws_msg::Expect>,
    /// WebSocket subprotocol to ask for (empty for none).
    #[arg(long, default_value = "hypercube.v1")]
    subprotocol: String,
    /// Source addresses: a count N (127.0.0.2 …) or a comma list.
    #[arg(long)]
    sources: Option<String>,
    /// Handshake timeout, and how long a message may wait for its reply.
    #[arg(long, default_value = "5s", value_parser = parse_duration)]
    timeout: Duration,
    /// Open connections at this many per second in total (split over workers); default: as fast
    /// as possible. The report gives the ramp time achieved.
    #[arg(long)]
    ramp: Option<f64>,
    /// Refuse server frames longer than this many bytes.
    #[arg(long, default_value_t = 16 << 20)]
    max_frame: u64,
    /// Split connections, rate and message cap over this many worker processes (each has its
    /// own fd limit); their histograms merge exactly.
    #[arg(long, default_value_t = 1)]
    workers: usize,
    /// Write the JSON report here (`-` for stdout instead of the table).
    #[arg(long)]
    json: Option<String>,
    /// No live progress line.
    #[arg(short = 'q', long)]
    quiet: bool,
    /// Print progress as `progress SECONDS REPLIES ERRORS OPEN` lines on stderr (how workers
    /// report to the parent's live line).
    #[arg(long, hide = true)]
    progress_lines: bool,
}

/// Flags `http` and `mix` share.
#[derive(clap::Args, Clone)]
struct LoadArgs {
    /// Connections in total (over all worker processes).
    #[arg(short = 'c', long, default_value_t = 64)]
    connections: usize,
    /// Client threads (shards) per process.
    #[arg(short = 't', long, default_value_t = 1)]
    threads: usize,
    /// Pin client threads to these CPUs (`0`, `0,2`, `0-3`); default unpinned.
    #[arg(long)]
    cpus: Option<String>,
    /// Run time (`10s`, `500ms`, `2m`, or seconds); with --ramp it includes the ramp.
    #[arg(short = 'd', long, default_value = "10s", value_parser = parse_duration)]
    duration: Duration,
    /// Stop after this many responses in total.
    #[arg(short = 'n', long)]
    requests: Option<u64>,
    /// Open loop at this many requests/s in total (CO-corrected); default closed loop.
    #[arg(short = 'R', long)]
    rate: Option<u64>,
    /// Closed loop: requests in flight per connection.
    #[arg(short = 'p', long, default_value_t = 1)]
    pipeline: usize,
    /// Extra header lines `Name: value` for every request (repeatable).
    #[arg(short = 'H', long = "header")]
    headers: Vec<String>,
    /// Source addresses: a count N (127.0.0.2 … 127.0.0.N+1) or a comma list of addresses.
    #[arg(long)]
    sources: Option<String>,
    /// Read/write timeout per request.
    #[arg(long, default_value = "5s", value_parser = parse_duration)]
    timeout: Duration,
    /// Split the run over this many worker processes (each its share of connections, rate,
    /// request cap and ramp, and its own fd limit); their HDR histograms are merged exactly.
    #[arg(long, default_value_t = 1)]
    workers: usize,
    /// Open the connections at this many per second after the clock starts (default: all before
    /// it). In open loop each connection's share of the rate starts when it opens.
    #[arg(long, value_name = "PER_SECOND", value_parser = parse_ramp)]
    ramp: Option<f64>,
    /// Write the JSON report here (`-` for stdout instead of the table).
    #[arg(long)]
    json: Option<String>,
    /// No live progress line.
    #[arg(short = 'q', long)]
    quiet: bool,
    /// Worker mode: write progress lines for the parent process to stderr.
    #[arg(long, hide = true)]
    progress_lines: bool,
}

#[derive(clap::Args)]
struct HttpArgs {
    /// http://HOST:PORT/PATH
    url: String,
    /// Request method.
    #[arg(short = 'm', long, default_value = "GET")]
    method: String,
    /// Body template; `{{datetime}}`, `{{gender}}`, `{{year}}` are random per request.
    #[arg(short = 'b', long)]
    body: Option<String>,
    #[command(flatten)]
    load: LoadArgs,
}

#[derive(clap::Args)]
struct MixArgs {
    /// http://HOST:PORT (the requests bring their paths; a path here is ignored).
    url: String,
    /// TOML file with [[request]] tables: name, method, path, body, header, weight.
    #[arg(short = 'f', long)]
    file: Option<String>,
    /// A request `WEIGHT METHOD PATH [BODY]` (repeatable), e.g. `-r '1 GET /healthz'`
    /// `-r '9 POST /v1/saju {"datetime":"{{datetime}}","zone":"Asia/Seoul"}'`.
    #[arg(short = 'r', long = "req", value_name = "SPEC")]
    reqs: Vec<String>,
    #[command(flatten)]
    load: LoadArgs,
}

/// A client I/O driver (`shard::Driver`).
#[derive(clap::ValueEnum, Clone, Copy, PartialEq, Eq, Debug)]
enum ClientDriver {
    /// io_uring, falling back to epoll if the ring cannot be set up.
    Auto,
    /// io_uring or fail.
    IoUring,
    /// epoll.
    Epoll,
}

impl ClientDriver {
    fn name(self) -> &'static str {
        match self {
            Self::Auto => "auto",
            Self::IoUring => "io-uring",
            Self::Epoll => "epoll",
        }
    }
}

impl From<ClientDriver> for shard::Driver {
    fn from(d: ClientDriver) -> Self {
        match d {
            ClientDriver::Auto => Self::Auto,
            ClientDriver::IoUring => Self::IoUring,
            ClientDriver::Epoll => Self::Epoll,
        }
    }
}

#[derive(clap::ValueEnum, Clone, Copy, PartialEq, Eq)]
enum PlotKind {
    /// Latency percentile spectrum (x: percentile on a "nines" scale), one line per report.
    Spectrum,
    /// p50/p99/p99.9 vs offered rate of open-loop reports; a closed-loop report is marked.
    Sweep,
}

#[derive(clap::Args)]
struct PlotArgs {
    /// Which plot.
    #[arg(value_enum)]
    kind: PlotKind,
    /// JSON reports (`--json` output of http, mix, ws, h3; ws-hold: its handshakes, spectrum only); `LABEL=FILE` names a spectrum line.
    #[arg(required = true)]
    reports: Vec<String>,
    /// The PNG to write.
    #[arg(short = 'o', long)]
    out: String,
    /// Title (default: the first report's target).
    #[arg(long)]
    title: Option<String>,
    /// TTF font for the text, or `none` for a plot without text.
    #[arg(long, default_value = load::plot::DEFAULT_FONT)]
    font: String,
}

#[derive(clap::Args)]
struct H3Args {
    /// https://HOST:PORT/PATH (UDP; the server's HTTP/3 port)
    url: String,
    /// Connections in total, over all worker processes (each its own UDP socket and quinn
    /// endpoint).
    #[arg(short = 'c', long, default_value_t = 16)]
    connections: usize,
    /// Client threads (shards) per process.
    #[arg(short = 't', long, default_value_t = 1)]
    threads: usize,
    /// Pin client threads to these CPUs (`0`, `0,2`, `0-3`); default unpinned.
    #[arg(long)]
    cpus: Option<String>,
    /// Run time (`10s`, `500ms`, `2m`, or seconds); with --ramp it includes the ramp.
    #[arg(short = 'd', long, default_value = "10s", value_parser = parse_duration)]
    duration: Duration,
    /// Stop after this many responses in total.
    #[arg(short = 'n', long)]
    requests: Option<u64>,
    /// Open loop at this many requests/s in total (CO-corrected: latency from the scheduled send
    /// time); default closed loop.
    #[arg(short = 'R', long)]
    rate: Option<u64>,
    /// Concurrent request streams per connection (closed loop: each keeps one request in flight;
    /// open loop: lanes sharing the rate).
    #[arg(short = 'p', long, default_value_t = 1)]
    streams: usize,
    /// Request method.
    #[arg(short = 'm', long, default_value = "GET")]
    method: String,
    /// Body template; `{{datetime}}`, `{{gender}}`, `{{year}}` are random per request.
    #[arg(short = 'b', long)]
    body: Option<String>,
    /// Extra header lines `Name: value` (repeatable).
    #[arg(short = 'H', long = "header")]
    headers: Vec<String>,
    /// Verify the server's certificate against these PEM CA certificates. Without it the
    /// certificate is NOT verified (handshake signatures still are): fine for load tests
    /// against the server's self-signed dev certificate, never for anything else.
    #[arg(long)]
    cafile: Option<std::path::PathBuf>,
    /// TLS server name (default: the URL's host).
    #[arg(long)]
    server_name: Option<String>,
    /// Handshake timeout, and per-request timeout (a late request is counted and its stream
    /// reset; the connection stays).
    #[arg(long, default_value = "5s", value_parser = parse_duration)]
    timeout: Duration,
    /// Split the run over this many worker processes (each its share of connections, rate,
    /// request cap and ramp, its own client shards and fd limit); their HDR histograms are merged
    /// exactly and their `quic` counters summed.
    #[arg(long, default_value_t = 1)]
    workers: usize,
    /// Open the connections at this many per second after the clock starts (default: all
    /// handshaken before it). In open loop each connection's share of the rate starts when it
    /// opens.
    #[arg(long, value_name = "PER_SECOND", value_parser = parse_ramp)]
    ramp: Option<f64>,
    /// The client shards' I/O driver. epoll by default: an io_uring client against an io_uring
    /// server (hypercube's default) left both cores ~20% idle with requests in flight (hypercube
    /// served 112–118k rps /healthz at 80% CPU), while an epoll client drove the same server to
    /// 147–149k at 97–98% and an epoll server to ~99% (README, HTTP/3 benchmark).
    #[arg(long, value_enum, default_value = "epoll")]
    driver: ClientDriver,
    /// Write the JSON report here (`-` for stdout instead of the table).
    #[arg(long)]
    json: Option<String>,
    /// No live progress line.
    #[arg(short = 'q', long)]
    quiet: bool,
    /// Worker mode: write progress lines for the parent process to stderr.
    #[arg(long, hide = true)]
    progress_lines: bool,
}

fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let (num, mul) = if let Some(v) = s.strip_suffix("ms") {
        (v, 1e-3)
    } else if let Some(v) = s.strip_suffix('s') {
        (v, 1.0)
    } else if let Some(v) = s.strip_suffix('m') {
        (v, 60.0)
    } else {
        (s, 1.0)
    };
    let v: f64 = num.parse().map_err(|_| format!("bad duration {s:?}"))?;
    if !(v.is_finite() && v >= 0.0) {
        return Err(format!("bad duration {s:?}"));
    }
    Ok(Duration::from_secs_f64(v * mul))
}

fn parse_ramp(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(v) if v.is_finite() && v > 0.0 => Ok(v),
        _ => Err(format!("bad ramp {s:?}: want connections per second > 0")),
    }
}

fn parse_cpus(s: &str) -> Result<Vec<usize>, String> {
    shard::cpus::parse_list(s)
}

fn parse_sources(s: &str) -> Result<Vec<IpAddr>, String> {
    if let Ok(n) = s.parse::<u8>() {
        if !(1..=250).contains(&n) {
            return Err("--sources N: 1..=250".into());
        }
        return Ok((0..n).map(|k| IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2 + k))).collect());
    }
    s.split(',').map(|a| a.trim().parse::<IpAddr>().map_err(|e| format!("bad source address {a:?}: {e}"))).collect()
}

/// `http://host:port/path` → (address, host header, path).
fn parse_url(url: &str) -> Result<(SocketAddr, String, String), String> {
    let rest = url.strip_prefix("http://").ok_or_else(|| format!("only http:// URLs: {url:?}"))?;
    let (hostport, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    let with_port = if hostport.rsplit_once(':').is_some_and(|(_, p)| p.parse::<u16>().is_ok()) {
        hostport.to_string()
    } else {
        format!("{hostport}:80")
    };
    let addr = with_port
        .to_socket_addrs()
        .map_err(|e| format!("resolve {hostport:?}: {e}"))?
        .next()
        .ok_or_else(|| format!("no address for {hostport:?}"))?;
    Ok((addr, hostport.to_string(), path.to_string()))
}

fn run_http(a: HttpArgs) -> Result<(), String> {
    let (addr, host, path) = parse_url(&a.url)?;
    let template = RequestTemplate::new(&a.method, &host, &path, &a.load.headers, a.body.as_deref())?;
    let target = format!("{} {}", a.method, a.url);
    let mut child = vec!["http".to_string(), a.url.clone(), "-m".into(), a.method.clone()];
    if let Some(b) = &a.body {
        child.extend(["-b".into(), b.clone()]);
    }
    run_load(&a.load, addr, template.into(), target, child)
}

fn run_mix(a: MixArgs) -> Result<(), String> {
    let (addr, host, _) = parse_url(&a.url)?;
    let mut reqs: Vec<MixRequest> = Vec::new();
    if let Some(f) = &a.file {
        let text = std::fs::read_to_string(f).map_err(|e| format!("read {f}: {e}"))?;
        reqs.extend(load::scenario::mix_from_toml(&text).map_err(|e| format!("{f}: {e}"))?);
    }
    for r in &a.reqs {
        reqs.push(load::scenario::mix_request_from_spec(r)?);
    }
    if reqs.is_empty() {
        return Err("mix: give --file FILE or at least one --req 'WEIGHT METHOD PATH [BODY]'".into());
    }
    let mut entries = Vec::with_capacity(reqs.len());
    for r in &reqs {
        let headers: Vec<String> = a.load.headers.iter().chain(&r.headers).cloned().collect();
        let template = RequestTemplate::new(&r.method, &host, &r.path, &headers, r.body.as_deref())
            .map_err(|e| format!("{}: {e}", r.display_name()))?;
        entries.push(Weighted { name: r.display_name(), weight: r.weight, template });
    }
    let mix = Mix::new(entries)?;
    let target = format!("{} ({} requests)", a.url, reqs.len());
    let mut child = vec!["mix".to_string(), a.url.clone()];
    if let Some(f) = &a.file {
        child.extend(["--file".into(), f.clone()]);
    }
    for r in &a.reqs {
        child.extend(["--req".into(), r.clone()]);
    }
    run_load(&a.load, addr, mix, target, child)
}

/// Run `http` or `mix`: here, or over worker processes (`child` is the subcommand and its own
/// arguments, to which each worker's share of the common ones is added).
fn run_load(a: &LoadArgs, addr: SocketAddr, request: Mix, target: String, child: Vec<String>) -> Result<(), String> {
    if a.connections == 0 {
        return Err("need at least one connection".into());
    }
    let cfg = HttpConfig {
        addr,
        request,
        target,
        connections: a.connections,
        threads: a.threads,
        cpus: a.cpus.as_deref().map(parse_cpus).transpose()?,
        duration: a.duration,
        requests: a.requests,
        rate: a.rate,
        pipeline: a.pipeline,
        sources: a.sources.as_deref().map(parse_sources).transpose()?.unwrap_or_default(),
        timeout: a.timeout,
        ramp: a.ramp,
    };
    let live = !a.quiet && std::io::stderr().is_terminal();
    let mut line = LiveLine::default();
    let rep = if a.workers > 1 {
        run_load_workers(a, &cfg, child, |t| {
            if live {
                line.show(t)
            }
        })?
    } else {
        let progress_lines = a.progress_lines;
        let (stats, elapsed) = http::run(cfg.clone(), |t| {
            if progress_lines {
                eprintln!("{}", workers::progress_line(t.responses, t.errors, t.open));
            } else if live {
                line.show(t);
            }
        })
        .map_err(|e| format!("run: {e}"))?;
        http::report(&cfg, &stats, elapsed)
    };
    if live {
        eprintln!();
    }
    let json = serde_json::to_string_pretty(&rep).map_err(|e| e.to_string())?;
    match a.json.as_deref() {
        Some("-") => println!("{json}"),
        Some(p) => {
            std::fs::write(p, json + "\n").map_err(|e| format!("write {p}: {e}"))?;
            print!("{}", rep.table());
        }
        None => print!("{}", rep.table()),
    }
    if !a.progress_lines {
        eprintln!("{}", rep.summary());
    }
    Ok(())
}

/// The live progress line: rps over the last tick, totals, errors, connections open.
#[derive(Default)]
struct LiveLine {
    last: (Duration, u64),
}

impl LiveLine {
    fn show(&mut self, t: Tick) {
        let rps = t.responses.saturating_sub(self.last.1) as f64 / (t.elapsed.saturating_sub(self.last.0)).as_secs_f64().max(1e-9);
        self.last = (t.elapsed, t.responses);
        eprint!(
            "\r[{:>5.1}s] {rps:>8.0} rps, {} responses, {} errors, {} connections open   ",
            t.elapsed.as_secs_f64(),
            t.responses,
            t.errors,
            t.open
        );
        let _ = std::io::stderr().flush();
    }
}

/// `--workers K` for http/mix: K copies of this command, each with its share and `--json -`;
/// their statistics (histograms included) are merged exactly.
fn run_load_workers(a: &LoadArgs, cfg: &HttpConfig, child: Vec<String>, on_tick: impl FnMut(Tick)) -> Result<Report, String> {
    let split = workers::Split { workers: a.workers, connections: a.connections, requests: a.requests, rate: a.rate, ramp: a.ramp };
    split.check()?;
    let ws = Workers::spawn(a.workers, |j| {
        let mut v = child.clone();
        v.extend(split.args(j));
        v.extend(["-t".into(), a.threads.to_string(), "-p".into(), a.pipeline.to_string()]);
        v.extend(["-d".into(), format!("{}s", a.duration.as_secs_f64()), "--timeout".into(), format!("{}s", a.timeout.as_secs_f64())]);
        for h in &a.headers {
            v.extend(["-H".into(), h.clone()]);
        }
        if let Some(c) = &a.cpus {
            v.extend(["--cpus".into(), c.clone()]);
        }
        if let Some(s) = &a.sources {
            v.extend(["--sources".into(), s.clone()]);
        }
        v
    })?;
    let outs = ws.watch(on_tick)?;
    let m = workers::merge_reports(&outs, cfg.request.entries.len())?;
    let mut info = http::run_info(cfg);
    info.workers = a.workers;
    info.threads = m.threads;
    Ok(Report::new(&info, &m.stats, m.elapsed))
}

fn run_plot(a: PlotArgs) -> Result<(), String> {
    let mut reports = Vec::new();
    // ws-hold reports have no request latency; their spectrum is the handshakes'.
    let mut holds = Vec::new();
    for spec in &a.reports {
        let (label, file) = match spec.split_once('=') {
            Some((l, f)) if !std::path::Path::new(spec).exists() => (l.to_string(), f.to_string()),
            _ => {
                let stem = std::path::Path::new(spec).file_stem().map_or(spec.clone(), |s| s.to_string_lossy().into_owned());
                (stem, spec.clone())
            }
        };
        let text = std::fs::read_to_string(&file).map_err(|e| format!("read {file}: {e}"))?;
        let v: serde_json::Value = serde_json::from_str(&text).map_err(|e| format!("{file}: not JSON: {e}"))?;
        if v["scenario"] == "ws-hold" {
            holds.push((label, file, v));
            continue;
        }
        let mut r: Report = serde_json::from_value(v.clone()).map_err(|e| format!("{file}: not a hypercube-load report: {e}"))?;
        // `ws` reports carry their histograms as JSON buckets (load::hist), not V2 base64.
        if r.histograms.is_none() {
            r.histograms = ws_histograms(&v);
        }
        reports.push((label, r));
    }
    let font = if a.font == "none" { load::plot::Font::None } else { load::plot::Font::File(a.font.clone().into()) };
    let out = std::path::Path::new(&a.out);
    match a.kind {
        PlotKind::Spectrum => {
            let mut series = Vec::new();
            for (label, r) in &reports {
                series.push((label.clone(), load::plot::latency_histogram(label, r)?));
            }
            for (label, file, v) in &holds {
                let pairs: Vec<[u64; 2]> = serde_json::from_value(v["handshake_hist_ns"].clone())
                    .map_err(|_| format!("{file}: ws-hold report without handshake_hist_ns (older hypercube-load?)"))?;
                let mut h = load::hist::new();
                load::hist::add_pairs(&mut h, &pairs);
                series.push((format!("{label} (handshakes)"), h));
            }
            let target = reports
                .first()
                .map(|(_, r)| r.target.clone())
                .or_else(|| holds.first().and_then(|(_, _, v)| v["target"].as_str().map(String::from)));
            let title = a.title.unwrap_or_else(|| format!("latency by percentile — {}", target.unwrap_or_default()));
            load::plot::spectrum(&series, &title, &font, out)?;
        }
        PlotKind::Sweep => {
            if !holds.is_empty() {
                return Err("plot sweep: ws-hold reports have no offered rate".into());
            }
            let title = a.title.unwrap_or_else(|| format!("open loop vs closed loop — {}", reports[0].1.target));
            let rs: Vec<Report> = reports.into_iter().map(|(_, r)| r).collect();
            load::plot::sweep(&rs, &title, &font, out)?;
        }
    }
    eprintln!("plot: wrote {}", a.out);
    Ok(())
}

fn run_h3(a: H3Args) -> Result<(), String> {
    let (host, port, authority, path) = load::h3::parse_url(&a.url)?;
    let addr = (host.as_str(), port)
        .to_socket_addrs()
        .map_err(|e| format!("resolve {host:?}: {e}"))?
        .next()
        .ok_or_else(|| format!("no address for {host:?}"))?;
    let request = load::h3::H3Request::new(&a.method, &authority, &path, &a.headers, a.body.as_deref())?;
    let cfg = load::h3::H3Config {
        addr,
        server_name: a.server_name.clone().unwrap_or(host),
        request,
        target: format!("{} {}", a.method, a.url),
        connections: a.connections,
        threads: a.threads,
        cpus: a.cpus.as_deref().map(parse_cpus).transpose()?,
        duration: a.duration,
        requests: a.requests,
        rate: a.rate,
        streams: a.streams,
        timeout: a.timeout,
        cafile: a.cafile.clone(),
        ramp: a.ramp,
        driver: a.driver.into(),
    };
    let live = !a.quiet && std::io::stderr().is_terminal();
    let mut line = LiveLine::default();
    let (rep, quic) = if a.workers > 1 {
        run_h3_workers(&a, &cfg, |t| {
            if live {
                line.show(t)
            }
        })?
    } else {
        let progress_lines = a.progress_lines;
        let (stats, elapsed, quic) = load::h3::run(cfg.clone(), |t| {
            if progress_lines {
                eprintln!("{}", workers::progress_line(t.responses, t.errors, t.open));
            } else if live {
                line.show(t);
            }
        })
        .map_err(|e| format!("run: {e}"))?;
        (load::h3::report(&cfg, &stats, elapsed), quic)
    };
    if live {
        eprintln!();
    }
    // The http report plus the client's QUIC counters.
    let mut doc = serde_json::to_value(&rep).map_err(|e| e.to_string())?;
    doc["quic"] = serde_json::to_value(quic).map_err(|e| e.to_string())?;
    let json = serde_json::to_string_pretty(&doc).map_err(|e| e.to_string())?;
    match a.json.as_deref() {
        Some("-") => println!("{json}"),
        Some(p) => {
            std::fs::write(p, json + "\n").map_err(|e| format!("write {p}: {e}"))?;
            print!("{}", rep.table());
        }
        None => print!("{}", rep.table()),
    }
    if !a.progress_lines {
        eprintln!("{}", rep.summary());
        eprintln!("{}", quic.summary());
    }
    Ok(())
}

/// `h3 --workers K`: as [`run_load_workers`]; the workers' `quic` counters are summed too.
fn run_h3_workers(a: &H3Args, cfg: &load::h3::H3Config, on_tick: impl FnMut(Tick)) -> Result<(Report, load::h3::QuicCounters), String> {
    let split = workers::Split { workers: a.workers, connections: a.connections, requests: a.requests, rate: a.rate, ramp: a.ramp };
    split.check()?;
    let ws = Workers::spawn(a.workers, |j| {
        let mut v = vec!["h3".to_string(), a.url.clone(), "-m".into(), a.method.clone(), "--server-name".into(), cfg.server_name.clone()];
        v.extend(split.args(j));
        v.extend(["-t".into(), a.threads.to_string(), "-p".into(), a.streams.to_string(), "--driver".into(), a.driver.name().into()]);
        v.extend(["-d".into(), format!("{}s", a.duration.as_secs_f64()), "--timeout".into(), format!("{}s", a.timeout.as_secs_f64())]);
        if let Some(b) = &a.body {
            v.extend(["-b".into(), b.clone()]);
        }
        for h in &a.headers {
            v.extend(["-H".into(), h.clone()]);
        }
        if let Some(c) = &a.cafile {
            v.extend(["--cafile".into(), c.display().to_string()]);
        }
        if let Some(c) = &a.cpus {
            v.extend(["--cpus".into(), c.clone()]);
        }
        v
    })?;
    let outs = ws.watch(on_tick)?;
    let m = workers::merge_reports(&outs, 1)?;
    let mut quic = load::h3::QuicCounters::default();
    for (j, out) in outs.iter().enumerate() {
        quic.add(&load::h3::QuicCounters::of_report(out).map_err(|e| format!("worker {j}: {e}"))?);
    }
    let mut info = load::h3::run_info(cfg);
    info.workers = a.workers;
    info.threads = m.threads;
    Ok((load::h3::report_of(cfg, &info, &m.stats, m.elapsed), quic))
}

/// `--workers K`: run K copies of this command, each with its share of the connections and
/// `--json -`, and add up their reports.
fn run_ws_hold_workers(a: &WsHoldArgs) -> Result<(), String> {
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let mut children = Vec::new();
    for j in 0..a.workers {
        let share = a.connections / a.workers + usize::from(j < a.connections % a.workers);
        let mut c = std::process::Command::new(&exe);
        c.args(["ws-hold", &a.url, "-c", &share.to_string(), "-t", &a.threads.to_string(), "--subprotocol", &a.subprotocol]);
        c.args([
            "--hold",
            &format!("{}s", a.hold.as_secs_f64()),
            "--timeout",
            &format!("{}s", a.timeout.as_secs_f64()),
            "-q",
            "--json",
            "-",
        ]);
        if let Some(p) = a.ping_interval {
            c.args(["--ping-interval", &format!("{}s", p.as_secs_f64())]);
        }
        if let Some(s) = &a.sources {
            c.args(["--sources", s]);
        }
        if let Some(cpus) = &a.cpus {
            c.args(["--cpus", cpus]);
        }
        if let Some(r) = a.ramp {
            c.args(["--ramp", &(r / a.workers as f64).to_string()]);
        }
        c.stdout(std::process::Stdio::piped()).stderr(std::process::Stdio::null());
        children.push(c.spawn().map_err(|e| format!("spawn worker {j}: {e}"))?);
    }
    let (mut established, mut closed_early, mut errors) = (0u64, 0u64, std::collections::BTreeMap::<String, u64>::new());
    let mut ramp_s = 0.0f64;
    let mut reports = Vec::new();
    let mut handshake = load::hist::new();
    for (j, ch) in children.into_iter().enumerate() {
        let out = ch.wait_with_output().map_err(|e| format!("worker {j}: {e}"))?;
        if !out.status.success() {
            return Err(format!("worker {j} failed: {}", out.status));
        }
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).map_err(|e| format!("worker {j} report: {e}"))?;
        established += v["established"].as_u64().unwrap_or(0);
        closed_early += v["closed_early"].as_u64().unwrap_or(0);
        ramp_s = ramp_s.max(v["ramp_s"].as_f64().unwrap_or(0.0));
        if let Ok(pairs) = serde_json::from_value::<Vec<[u64; 2]>>(v["handshake_hist_ns"].clone()) {
            load::hist::add_pairs(&mut handshake, &pairs);
        }
        if let Some(m) = v["errors"].as_object() {
            for (k, n) in m {
                *errors.entry(k.clone()).or_default() += n.as_u64().unwrap_or(0);
            }
        }
        reports.push(v);
    }
    let total = serde_json::json!({
        "scenario": "ws-hold", "target": a.url, "workers": a.workers, "connections": a.connections,
        "established": established, "closed_early": closed_early, "errors": errors,
        "ramp_s": ramp_s, "ramp_rate": a.ramp, "ramp_achieved_per_s": established as f64 / ramp_s.max(1e-9),
        "handshake_us": load::report::Percentiles::of(&handshake),
        "handshake_hist_ns": load::hist::to_pairs(&handshake),
        "per_worker": reports,
    });
    let json = serde_json::to_string_pretty(&total).map_err(|e| e.to_string())?;
    match a.json.as_deref() {
        Some("-") => println!("{json}"),
        Some(p) => std::fs::write(p, json + "\n").map_err(|e| format!("write {p}: {e}"))?,
        None => {}
    }
    let errs: Vec<String> = errors.iter().map(|(k, v)| format!("{k}: {v}")).collect();
    eprintln!(
        "ws-hold: {established}/{} established over {} workers in {ramp_s:.2} s ({:.0}/s{}), closed early {closed_early}, errors {{{}}}",
        a.connections,
        a.workers,
        established as f64 / ramp_s.max(1e-9),
        a.ramp.map(|r| format!(", asked {r:.0}/s")).unwrap_or_default(),
        errs.join(", ")
    );
    Ok(())
}

fn run_ws_hold(a: WsHoldArgs) -> Result<(), String> {
    if a.workers > 1 {
        return run_ws_hold_workers(&a);
    }
    let rest = a.url.strip_prefix("ws://").ok_or_else(|| format!("only ws:// URLs: {:?}", a.url))?;
    let (addr, host, path) = parse_url(&format!("http://{rest}"))?;
    let cfg = load::ws::WsHoldConfig {
        addr,
        host,
        path,
        subprotocol: Some(a.subprotocol).filter(|p| !p.is_empty()),
        connections: a.connections,
        threads: a.threads,
        cpus: a.cpus.as_deref().map(parse_cpus).transpose()?,
        hold: a.hold,
        ping_interval: a.ping_interval,
        sources: a.sources.as_deref().map(parse_sources).transpose()?.unwrap_or_default(),
        timeout: a.timeout,
        server_pid: a.server_pid,
        ramp: a.ramp,
    };
    let live = !a.quiet && std::io::stderr().is_terminal();
    let rep = load::ws::hold(cfg, |t, est, failed| {
        if live {
            eprint!("\r[{:>5.1}s] {est} established, {failed} failed   ", t.as_secs_f64());
            let _ = std::io::stderr().flush();
        }
    })
    .map_err(|e| format!("run: {e}"))?;
    if live {
        eprintln!();
    }
    let json = serde_json::to_string_pretty(&rep).map_err(|e| e.to_string())?;
    match a.json.as_deref() {
        Some("-") => println!("{json}"),
        Some(p) => std::fs::write(p, json + "\n").map_err(|e| format!("write {p}: {e}"))?,
        None => {}
    }
    let errors: Vec<String> = rep.errors.iter().map(|(k, v)| format!("{k}: {v}")).collect();
    eprintln!(
        "ws-hold: {}/{} established in {:.2} s ({:.0}/s{}), closed early {}, errors {{{}}}, handshake p50 {:.0} µs p99 {:.0} µs{}",
        rep.established,
        rep.connections,
        rep.ramp_s,
        rep.ramp_achieved_per_s,
        rep.ramp_rate.map(|r| format!(", asked {r:.0}/s")).unwrap_or_default(),
        rep.closed_early,
        errors.join(", "),
        rep.handshake_us.p50,
        rep.handshake_us.p99,
        rep.server_rss_per_conn_bytes.map(|b| format!(", server RSS {b:.0} B/conn")).unwrap_or_default()
    );
    Ok(())
}

fn ws_config(a: &WsArgs) -> Result<load::ws_msg::WsConfig, String> {
    use load::ws_msg::{Expect, MessageTemplate, WsConfig};
    let rest = a.url.strip_prefix("ws://").ok_or_else(|| format!("only ws:// URLs: {:?}", a.url))?;
    let (addr, host, path) = parse_url(&format!("http://{rest}"))?;
    let expect = a.expect.unwrap_or(if path.ends_with("/echo") { Expect::Echo } else { Expect::Id });
    Ok(WsConfig {
        addr,
        target: a.url.clone(),
        subprotocol: Some(a.subprotocol.clone()).filter(|p| !p.is_empty()),
        message: MessageTemplate::new(&a.body)?,
        expect,
        connections: a.connections,
        threads: a.threads,
        cpus: a.cpus.as_deref().map(parse_cpus).transpose()?,
        duration: a.duration,
        messages: a.messages,
        rate: a.rate,
        pipeline: a.pipeline,
        sources: a.sources.as_deref().map(parse_sources).transpose()?.unwrap_or_default(),
        timeout: a.timeout,
        ramp: a.ramp,
        max_frame: a.max_frame,
        host,
        path,
    })
}

fn emit_ws(rep: &load::ws_msg::WsReport, json_to: Option<&str>) -> Result<(), String> {
    let json = serde_json::to_string_pretty(rep).map_err(|e| e.to_string())?;
    match json_to {
        Some("-") => println!("{json}"),
        Some(p) => {
            std::fs::write(p, json + "\n").map_err(|e| format!("write {p}: {e}"))?;
            print!("{}", rep.table());
        }
        None => print!("{}", rep.table()),
    }
    eprintln!("{}", rep.summary());
    Ok(())
}

fn run_ws(a: WsArgs) -> Result<(), String> {
    if a.workers > 1 {
        return run_ws_workers(&a);
    }
    let cfg = ws_config(&a)?;
    let live = !a.quiet && std::io::stderr().is_terminal();
    let mut last = (Duration::ZERO, 0u64);
    let run = load::ws_msg::run(cfg.clone(), |t, r, e, open| {
        if a.progress_lines {
            eprintln!("progress {:.3} {r} {e} {open}", t.as_secs_f64());
        } else if live {
            let rps = r.saturating_sub(last.1) as f64 / (t.saturating_sub(last.0)).as_secs_f64().max(1e-9);
            last = (t, r);
            eprint!("\r[{:>5.1}s] {open} open, {r} replies, {rps:.0} msg/s, {e} errors   ", t.as_secs_f64());
            let _ = std::io::stderr().flush();
        }
    })
    .map_err(|e| format!("run: {e}"))?;
    if live {
        eprintln!();
    }
    let rep = load::ws_msg::report(&cfg, 1, &run.stats, run.elapsed, None, run.ramp.as_secs_f64());
    emit_ws(&rep, a.json.as_deref())
}

/// `ws --workers K`: K child processes, each with its share of connections, rate, cap and
/// ramp, print their JSON reports; counts add up and the histograms (in the reports as
/// buckets) merge exactly. The merged rate is the sum of the workers' rates.
fn run_ws_workers(a: &WsArgs) -> Result<(), String> {
    let cfg = ws_config(a)?;
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let k = a.workers;
    let share = |total: u64, j: usize| total / k as u64 + u64::from((j as u64) < total % k as u64);
    let mut children = Vec::new();
    for j in 0..k {
        let conns = share(a.connections as u64, j);
        if conns == 0 {
            continue;
        }
        let mut c = std::process::Command::new(&exe);
        c.args(["ws", &a.url, "-c", &conns.to_string(), "-t", &a.threads.to_string(), "-p", &a.pipeline.to_string()]);
        c.args(["-d", &format!("{}s", a.duration.as_secs_f64()), "--timeout", &format!("{}s", a.timeout.as_secs_f64())]);
        c.args(["-b", &a.body, "--subprotocol", &a.subprotocol, "--max-frame", &a.max_frame.to_string(), "-q", "--json", "-"]);
        let expect = match cfg.expect {
            load::ws_msg::Expect::Echo => "echo",
            load::ws_msg::Expect::Id => "id",
            load::ws_msg::Expect::Any => "any",
        };
        c.args(["--expect", expect]);
        if let Some(r) = a.rate {
            c.args(["-R", &share(r, j).max(1).to_string()]);
        }
        if let Some(n) = a.messages {
            c.args(["-n", &share(n, j).to_string()]);
        }
        if let Some(r) = a.ramp {
            c.args(["--ramp", &(r / k as f64).to_string()]);
        }
        if let Some(s) = &a.sources {
            c.args(["--sources", s]);
        }
        if let Some(cpus) = &a.cpus {
            c.args(["--cpus", cpus]);
        }
        c.arg("--progress-lines");
        c.stdout(std::process::Stdio::piped()).stderr(std::process::Stdio::piped());
        children.push(c.spawn().map_err(|e| format!("spawn worker {j}: {e}"))?);
    }
    // Each worker's stdout (its JSON report) and stderr (progress lines, else messages) are read
    // by threads, so that neither pipe fills; the latest progress of each is summed once a second.
    let progress = Arc::new(Mutex::new(vec![[0u64; 3]; children.len()]));
    let mut readers = Vec::new();
    for (j, ch) in children.iter_mut().enumerate() {
        let (mut stdout, stderr) = (ch.stdout.take().expect("piped"), ch.stderr.take().expect("piped"));
        let out = std::thread::spawn(move || {
            let mut v = Vec::new();
            let _ = std::io::Read::read_to_end(&mut stdout, &mut v);
            v
        });
        let p = progress.clone();
        let err = std::thread::spawn(move || {
            let mut other = String::new();
            for line in std::io::BufRead::lines(std::io::BufReader::new(stderr)).map_while(Result::ok) {
                let f: Vec<u64> = line
                    .strip_prefix("progress ")
                    .map(|r| r.split(' ').skip(1).filter_map(|x| x.parse().ok()).collect())
                    .unwrap_or_default();
                if f.len() == 3 {
                    p.lock().unwrap_or_else(|e| e.into_inner())[j] = [f[0], f[1], f[2]];
                } else {
                    other.push_str(&line);
                    other.push('\n');
                }
            }
            other
        });
        readers.push((out, err));
    }
    let live = !a.quiet && std::io::stderr().is_terminal();
    let t0 = std::time::Instant::now();
    let mut last = (Duration::ZERO, 0u64);
    let mut statuses: Vec<Option<std::process::ExitStatus>> = vec![None; children.len()];
    while statuses.iter().any(Option::is_none) {
        for (ch, st) in children.iter_mut().zip(statuses.iter_mut()) {
            if st.is_none() {
                *st = ch.try_wait().map_err(|e| e.to_string())?;
            }
        }
        std::thread::sleep(Duration::from_millis(200));
        let t = t0.elapsed();
        if live && t.saturating_sub(last.0) >= Duration::from_secs(1) {
            let sum =
                progress.lock().unwrap_or_else(|e| e.into_inner()).iter().fold([0u64; 3], |a, p| [a[0] + p[0], a[1] + p[1], a[2] + p[2]]);
            let rps = sum[0].saturating_sub(last.1) as f64 / t.saturating_sub(last.0).as_secs_f64().max(1e-9);
            last = (t, sum[0]);
            eprint!(
                "\r[{:>5.1}s] {} workers: {} open, {} replies, {rps:.0} msg/s, {} errors   ",
                t.as_secs_f64(),
                k,
                sum[2],
                sum[0],
                sum[1]
            );
            let _ = std::io::stderr().flush();
        }
    }
    if live {
        eprintln!();
    }
    let mut merged = load::ws_msg::WsStats::default();
    let (mut rps, mut elapsed, mut ramp) = (0.0f64, 0.0f64, 0.0f64);
    for (j, ((out, err), status)) in readers.into_iter().zip(statuses).enumerate() {
        let (stdout, stderr) = (out.join().unwrap_or_default(), err.join().unwrap_or_default());
        let status = status.expect("waited");
        if !status.success() {
            return Err(format!("worker {j} failed ({status}): {}", stderr.trim()));
        }
        let v: serde_json::Value = serde_json::from_slice(&stdout).map_err(|e| format!("worker {j} report: {e}"))?;
        let w = worker_stats(&v).ok_or_else(|| format!("worker {j}: report lacks histograms"))?;
        merged.merge(&w);
        rps += v["rps"].as_f64().unwrap_or(0.0);
        elapsed = elapsed.max(v["duration_s"].as_f64().unwrap_or(0.0));
        ramp = ramp.max(v["ramp_s"].as_f64().unwrap_or(0.0));
    }
    let rep = load::ws_msg::report(&cfg, k, &merged, Duration::from_secs_f64(elapsed), Some(rps), ramp);
    emit_ws(&rep, a.json.as_deref())
}

/// The histograms of a `ws` report (`latency_hist_ns` buckets) in the `http` report's form.
fn ws_histograms(v: &serde_json::Value) -> Option<load::report::Histograms> {
    let hist = |key: &str| -> Option<String> {
        let pairs: Vec<[u64; 2]> = serde_json::from_value(v.get(key)?.clone()).ok()?;
        let mut h = load::hist::new();
        load::hist::add_pairs(&mut h, &pairs);
        Some(load::report::encode_histogram(&h))
    };
    Some(load::report::Histograms { latency: hist("latency_hist_ns")?, uncorrected: hist("latency_uncorrected_hist_ns")? })
}

/// A worker's statistics back from its JSON report.
fn worker_stats(v: &serde_json::Value) -> Option<load::ws_msg::WsStats> {
    let pairs = |key: &str| -> Option<Vec<[u64; 2]>> { serde_json::from_value(v.get(key)?.clone()).ok() };
    let mut w = load::ws_msg::WsStats::default();
    load::hist::add_pairs(&mut w.stats.latency, &pairs("latency_hist_ns")?);
    load::hist::add_pairs(&mut w.stats.uncorrected, &pairs("latency_uncorrected_hist_ns")?);
    load::hist::add_pairs(&mut w.handshake, &pairs("handshake_hist_ns")?);
    let n = |key: &str| v[key].as_u64().unwrap_or(0);
    w.stats.responses = n("responses");
    w.stats.bytes = n("bytes");
    w.stats.connects = n("connects");
    w.sent = n("sent");
    w.established = n("established");
    for (k, c) in v["errors"].as_object()? {
        let kind: &'static str = load::ws_msg::error_kind(k);
        *w.stats.errors.entry(kind.into()).or_default() += c.as_u64().unwrap_or(0);
    }
    Some(w)
}

fn dispatch(cmd: Cmd) -> Result<(), String> {
    match cmd {
        Cmd::Http(a) => run_http(a),
        Cmd::H3(a) => run_h3(a),
        Cmd::Mix(a) => run_mix(a),
        Cmd::Plot(a) => run_plot(a),
        Cmd::WsHold(a) => run_ws_hold(a),
        Cmd::Ws(a) => run_ws(a),
        Cmd::Run { file } => {
            let text = std::fs::read_to_string(&file).map_err(|e| format!("read {file}: {e}"))?;
            let mut args = vec!["hypercube-load".to_string()];
            args.extend(load::scenario::args_from_toml(&text)?);
            // A mix file holds its own [[request]] tables.
            if args.get(1).is_some_and(|s| s == "mix") && text.contains("[[request]]") {
                args.extend(["--file".to_string(), file.clone()]);
            }
            let cli = Cli::try_parse_from(&args).map_err(|e| format!("{file}: {e}"))?;
            if matches!(cli.cmd, Cmd::Run { .. }) {
                return Err(format!("{file}: a scenario file cannot run another"));
            }
            dispatch(cli.cmd)
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let res = dispatch(cli.cmd);
    match res {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("hypercube-load: {e}");
            ExitCode::from(2)
        }
    }
}
