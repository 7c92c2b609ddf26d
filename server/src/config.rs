//! LEAF: the server's settings. Flags, environment (`HYPERCUBE_*`) and an optional TOML file
//! become one [`Settings`]; [`Settings::resolve`] fills the defaults, checks ranges and gives the
//! [`Config`] every part of the server reads, with its resolved settings types ([`SearchLimits`],
//! [`WsConfig`], [`H3Config`], [`TlsSource`]). Imports nothing of this crate: feature modules
//! import their settings from here, never the other way round.
//!
//! One struct is both the clap flag set and the TOML schema, so the two cannot drift apart.
//! Precedence: flag > environment > file > built-in default. Every field is documented in
//! `hypercube serve --help`; docs/configuration.md is generated from that text (and a test fails
//! when it is stale). Durations use one grammar everywhere (`shard::duration`): `250ms`, `10s`,
//! `2m`, or a bare number of seconds, in flags, the environment and TOML (string or number).
use serde::Deserialize;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// `hypercube serve` settings. Every one is optional; the default is given in its help.
#[derive(clap::Args, Deserialize, Debug, Default, Clone)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
pub(crate) struct Settings {
    /// TOML file with any of these settings (keys in snake_case, e.g. max_body_bytes = 65536).
    #[arg(long, env = "HYPERCUBE_CONFIG")]
    #[serde(skip)]
    pub(crate) config: Option<PathBuf>,
    /// Address to listen on (TCP; every shard binds it with SO_REUSEPORT). [default: 0.0.0.0:8080]
    #[arg(long, env = "HYPERCUBE_LISTEN")]
    pub(crate) listen: Option<SocketAddr>,
    /// Number of shards (threads). [default: the CPUs in the process's affinity mask]
    #[arg(long, env = "HYPERCUBE_SHARDS")]
    pub(crate) shards: Option<usize>,
    /// CPUs to pin shards to, e.g. "0-3,6"; shard i gets the i-th (wrapping). [default: the affinity mask]
    #[arg(long, env = "HYPERCUBE_CPUS")]
    pub(crate) cpus: Option<String>,
    /// Pin each shard thread to one CPU (false: let the kernel schedule them). [default: true]
    #[arg(long, env = "HYPERCUBE_PIN")]
    pub(crate) pin: Option<bool>,
    /// I/O driver: auto (io_uring, epoll if the ring is refused), io-uring, or epoll. [default: auto]
    #[arg(long, env = "HYPERCUBE_DRIVER")]
    pub(crate) driver: Option<DriverName>,
    /// io_uring submission queue entries per shard. [default: 4096]
    #[arg(long, env = "HYPERCUBE_RING_ENTRIES")]
    pub(crate) ring_entries: Option<u32>,
    /// listen(2) backlog per shard. [default: 4096]
    #[arg(long, env = "HYPERCUBE_BACKLOG")]
    pub(crate) backlog: Option<i32>,
    /// Set SO_INCOMING_CPU on each pinned shard's listener. [default: true]
    #[arg(long, env = "HYPERCUBE_INCOMING_CPU")]
    pub(crate) incoming_cpu: Option<bool>,
    /// Start even when another socket already holds the port, joining its SO_REUSEPORT group (the
    /// kernel then splits connections with it). For several server processes on one port on
    /// purpose; off, a busy port is an error instead of silently shared traffic. [default: false]
    #[arg(long, env = "HYPERCUBE_SHARE_PORT")]
    pub(crate) share_port: Option<bool>,
    /// Open connections per shard; past it a new connection gets 503 and is closed. [default: 100000]
    #[arg(long, env = "HYPERCUBE_MAX_CONNS")]
    pub(crate) max_conns: Option<usize>,
    /// Largest request head (request line + headers) in bytes; larger → 431. [default: 16384]
    #[arg(long, env = "HYPERCUBE_MAX_HEAD_BYTES")]
    pub(crate) max_head_bytes: Option<usize>,
    /// Most header fields in one request; more → 431. [default: 100]
    #[arg(long, env = "HYPERCUBE_MAX_HEADERS")]
    pub(crate) max_headers: Option<usize>,
    /// Largest request body in bytes; larger → 413. [default: 1048576]
    #[arg(long, env = "HYPERCUBE_MAX_BODY_BYTES")]
    pub(crate) max_body_bytes: Option<usize>,
    /// Time to receive a whole request head from its first byte; slower → 408. [default: 10s]
    #[arg(long, env = "HYPERCUBE_HEADER_TIMEOUT", value_parser = shard::duration::parse)]
    #[serde(default, deserialize_with = "de_duration")]
    pub(crate) header_timeout: Option<Duration>,
    /// Time to receive a request body once its head is in; slower → 408. [default: 30s]
    #[arg(long, env = "HYPERCUBE_BODY_TIMEOUT", value_parser = shard::duration::parse)]
    #[serde(default, deserialize_with = "de_duration")]
    pub(crate) body_timeout: Option<Duration>,
    /// Keep-alive idle time before an idle connection is closed. [default: 60s]
    #[arg(long, env = "HYPERCUBE_IDLE_TIMEOUT", value_parser = shard::duration::parse)]
    #[serde(default, deserialize_with = "de_duration")]
    pub(crate) idle_timeout: Option<Duration>,
    /// Time a write may wait for the client to read; a client that stops reading is dropped. [default: 30s]
    #[arg(long, env = "HYPERCUBE_WRITE_TIMEOUT", value_parser = shard::duration::parse)]
    #[serde(default, deserialize_with = "de_duration")]
    pub(crate) write_timeout: Option<Duration>,
    /// Pipelined requests read ahead of their responses per connection. [default: 16]
    #[arg(long, env = "HYPERCUBE_MAX_PIPELINED")]
    pub(crate) max_pipelined: Option<usize>,
    /// On SIGTERM/SIGINT, how long in-flight requests may take before the process exits. [default: 10s]
    #[arg(long, env = "HYPERCUBE_DRAIN_TIMEOUT", value_parser = shard::duration::parse)]
    #[serde(default, deserialize_with = "de_duration")]
    pub(crate) drain_timeout: Option<Duration>,
    /// On shutdown, how long an idle keep-alive connection may still deliver one last request
    /// (answered with Connection: close) before it is closed. [default: 500ms]
    #[arg(long, env = "HYPERCUBE_DRAIN_IDLE_GRACE", value_parser = shard::duration::parse)]
    #[serde(default, deserialize_with = "de_duration")]
    pub(crate) drain_idle_grace: Option<Duration>,
    /// Most items in one POST /v1/saju/batch; more → 413. [default: 10000]
    #[arg(long, env = "HYPERCUBE_BATCH_MAX_ITEMS")]
    pub(crate) batch_max_items: Option<usize>,
    /// Longest range of one POST /v1/saju/search, in years. [default: 10]
    #[arg(long, env = "HYPERCUBE_SEARCH_MAX_YEARS")]
    pub(crate) search_max_years: Option<u32>,
    /// Most instants one search may scan (10 years at one minute is 5,259,600). [default: 5300000]
    #[arg(long, env = "HYPERCUBE_SEARCH_MAX_POINTS")]
    pub(crate) search_max_points: Option<u64>,
    /// Most matches in one search page (`limit`). [default: 1000]
    #[arg(long, env = "HYPERCUBE_SEARCH_MAX_PAGE")]
    pub(crate) search_max_page: Option<usize>,
    /// Compress response bodies (gzip or br, as the client's Accept-Encoding prefers) from this
    /// many bytes up; 0 turns compression off. [default: 2048]
    #[arg(long, env = "HYPERCUBE_COMPRESS_MIN_BYTES")]
    pub(crate) compress_min_bytes: Option<usize>,
    /// WebSocket: allowed Origin values, comma-separated, e.g. "https://app.example"; a handshake
    /// from another origin gets 403 (requests without Origin, i.e. not browsers, are allowed). [default: any origin]
    #[arg(long, env = "HYPERCUBE_WS_ORIGINS")]
    pub(crate) ws_origins: Option<String>,
    /// WebSocket: largest message (and frame) in bytes; larger → close 1009. [default: 1048576]
    #[arg(long, env = "HYPERCUBE_WS_MAX_MESSAGE_BYTES")]
    pub(crate) ws_max_message_bytes: Option<usize>,
    /// WebSocket: bound on a connection's queued pushes plus unsent output, in bytes; a subscriber
    /// that falls further behind is closed with 1013. [default: 1048576]
    #[arg(long, env = "HYPERCUBE_WS_SEND_QUEUE_BYTES")]
    pub(crate) ws_send_queue_bytes: Option<usize>,
    /// WebSocket: silence (nothing received) after which the server sends a ping. [default: 30s]
    #[arg(long, env = "HYPERCUBE_WS_PING_INTERVAL", value_parser = shard::duration::parse)]
    #[serde(default, deserialize_with = "de_duration")]
    pub(crate) ws_ping_interval: Option<Duration>,
    /// WebSocket: silence after which the connection is closed with 1001. [default: 75s]
    #[arg(long, env = "HYPERCUBE_WS_IDLE_TIMEOUT", value_parser = shard::duration::parse)]
    #[serde(default, deserialize_with = "de_duration")]
    pub(crate) ws_idle_timeout: Option<Duration>,
    /// WebSocket: after the server's close frame, how long to wait for the peer's (and for
    /// unsent output to drain) before dropping the connection. [default: 5s]
    #[arg(long, env = "HYPERCUBE_WS_CLOSE_TIMEOUT", value_parser = shard::duration::parse)]
    #[serde(default, deserialize_with = "de_duration")]
    pub(crate) ws_close_timeout: Option<Duration>,
    /// Serve POST /internal/publish?topic=NAME, which pushes its JSON body to the topic's
    /// WebSocket subscribers on every shard. Enable only where the port is not public. [default: false]
    #[arg(long, env = "HYPERCUBE_WS_PUBLISH_API")]
    pub(crate) ws_publish_api: Option<bool>,
    /// Serve HTTP/3 (QUIC) on UDP at the same port as TCP, one endpoint per shard; HTTP/1.1
    /// responses then carry `Alt-Svc: h3=":PORT"`. [default: false]
    #[arg(long, env = "HYPERCUBE_H3")]
    pub(crate) h3: Option<bool>,
    /// HTTP/3 TLS certificate chain (PEM). Without it a self-signed certificate for localhost is
    /// made at start, written to $TMPDIR/hypercube-PID/, and its path logged. [default: none]
    #[arg(long, env = "HYPERCUBE_TLS_CERT", requires = "tls_key")]
    pub(crate) tls_cert: Option<PathBuf>,
    /// HTTP/3 TLS private key (PEM, PKCS#8, PKCS#1 or SEC1). [default: none]
    #[arg(long, env = "HYPERCUBE_TLS_KEY", requires = "tls_cert")]
    pub(crate) tls_key: Option<PathBuf>,
    /// HTTP/3: concurrent request streams per connection. [default: 100]
    #[arg(long, env = "HYPERCUBE_H3_MAX_STREAMS")]
    pub(crate) h3_max_streams: Option<u32>,
    /// HTTP/3: a connection with no traffic for this long is closed. [default: 30s]
    #[arg(long, env = "HYPERCUBE_H3_IDLE_TIMEOUT", value_parser = shard::duration::parse)]
    #[serde(default, deserialize_with = "de_duration")]
    pub(crate) h3_idle_timeout: Option<Duration>,
    /// HTTP/3: open connections per shard; further handshakes are refused. [default: 10000]
    #[arg(long, env = "HYPERCUBE_H3_MAX_CONNS")]
    pub(crate) h3_max_conns: Option<usize>,
    /// HTTP/3: issue connection IDs that name the shard and attach a reuseport BPF program that
    /// steers each packet to that shard, so a connection survives a client address change (NAT
    /// rebinding). Turn off when several processes share the UDP port. [default: true]
    #[arg(long, env = "HYPERCUBE_H3_STEER")]
    pub(crate) h3_steer: Option<bool>,
    /// Log format: pretty or json. [default: pretty]
    #[arg(long, env = "HYPERCUBE_LOG_FORMAT")]
    pub(crate) log_format: Option<LogFormat>,
    /// Log filter, e.g. "info" or "server=debug,info" (RUST_LOG syntax). [default: info]
    #[arg(long, env = "HYPERCUBE_LOG")]
    pub(crate) log: Option<String>,
    /// Run the embedding model for /v1/interpret (false: never load it). [default: true]
    #[arg(long, env = "HYPERCUBE_INFERENCE")]
    pub(crate) inference: Option<bool>,
    /// The ONNX Runtime shared library (scripts/setup fetches it). [default: .deps/onnxruntime/libonnxruntime.so]
    #[arg(long, env = "HYPERCUBE_ORT_LIB")]
    pub(crate) ort_lib: Option<PathBuf>,
    /// Folder with model.onnx and tokenizer.json. [default: .deps/models/minilm]
    #[arg(long, env = "HYPERCUBE_MODEL_DIR")]
    pub(crate) model_dir: Option<PathBuf>,
    /// Execution provider: auto (CUDA if it registers, else CPU), cuda, or cpu. [default: auto]
    #[arg(long, env = "HYPERCUBE_EP")]
    pub(crate) ep: Option<EpName>,
    /// Inference worker threads, one session each (one per GPU). [default: 1]
    #[arg(long, env = "HYPERCUBE_INFER_WORKERS")]
    pub(crate) infer_workers: Option<usize>,
    /// ONNX Runtime intra-op threads per worker. [default: 1]
    #[arg(long, env = "HYPERCUBE_INFER_THREADS")]
    pub(crate) infer_threads: Option<usize>,
    /// Most questions per model run. [default: 32]
    #[arg(long, env = "HYPERCUBE_MAX_BATCH")]
    pub(crate) max_batch: Option<usize>,
    /// How long a worker gathers a batch after its first question. [default: 2ms]
    #[arg(long, env = "HYPERCUBE_MAX_WAIT", value_parser = shard::duration::parse)]
    #[serde(default, deserialize_with = "de_duration")]
    pub(crate) max_wait: Option<Duration>,
    /// Questions waiting for a worker at most; past it /v1/interpret answers 503. [default: 256]
    #[arg(long, env = "HYPERCUBE_INFER_QUEUE")]
    pub(crate) infer_queue: Option<usize>,
    /// Time budget of one /v1/interpret request; past it → 504. [default: 500ms]
    #[arg(long, env = "HYPERCUBE_INFER_DEADLINE", value_parser = shard::duration::parse)]
    #[serde(default, deserialize_with = "de_duration")]
    pub(crate) infer_deadline: Option<Duration>,
    /// Folder for the corpus embedding cache (keyed by model and corpus hash). [default: .deps/cache]
    #[arg(long, env = "HYPERCUBE_CORPUS_CACHE")]
    pub(crate) corpus_cache: Option<PathBuf>,
}

/// Execution provider names accepted in flags and files.
#[derive(clap::ValueEnum, Deserialize, Debug, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub(crate) enum EpName {
    Auto,
    Cuda,
    Cpu,
}

/// I/O driver names accepted in flags and files.
#[derive(clap::ValueEnum, Deserialize, Debug, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum DriverName {
    Auto,
    IoUring,
    Epoll,
}

/// Log output format.
#[derive(clap::ValueEnum, Deserialize, Debug, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub(crate) enum LogFormat {
    Pretty,
    Json,
}

/// Settings with every default filled in and checked.
#[derive(Debug, Clone)]
pub(crate) struct Config {
    pub(crate) listen: SocketAddr,
    pub(crate) shards: usize,
    pub(crate) cpus: Vec<usize>,
    pub(crate) pin: bool,
    pub(crate) driver: DriverName,
    pub(crate) ring_entries: u32,
    pub(crate) backlog: i32,
    pub(crate) incoming_cpu: bool,
    pub(crate) share_port: bool,
    pub(crate) max_conns: usize,
    pub(crate) limits: proto::http1::Limits,
    pub(crate) write_timeout: Duration,
    pub(crate) drain_timeout: Duration,
    pub(crate) drain_idle_grace: Duration,
    pub(crate) log_format: LogFormat,
    pub(crate) log: String,
    pub(crate) batch_max_items: usize,
    pub(crate) search: SearchLimits,
    /// Bodies from this many bytes up are compressed when the client accepts it (None: never).
    pub(crate) compress_min_bytes: Option<usize>,
    pub(crate) ws: WsConfig,
    pub(crate) inference: inference::service::Settings,
    pub(crate) infer_deadline: Duration,
    /// HTTP/3 settings when enabled.
    pub(crate) h3: Option<H3Config>,
}

/// The limits of `POST /v1/saju/search`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct SearchLimits {
    pub(crate) max_years: u32,
    pub(crate) max_points: u64,
    pub(crate) max_page: usize,
}

/// WebSocket settings (see [`Settings`] for their docs and defaults).
#[derive(Debug, Clone, Default)]
pub(crate) struct WsConfig {
    pub(crate) origins: Vec<String>,
    pub(crate) limits: Arc<proto::ws::Limits>,
    /// Bound on one connection's queued pushes plus unsent output, in bytes.
    pub(crate) send_queue_bytes: usize,
    pub(crate) publish_api: bool,
}

/// HTTP/3 settings, resolved.
#[derive(Debug, Clone)]
pub(crate) struct H3Config {
    /// Concurrent request streams a client may open on one connection.
    pub(crate) max_streams: u32,
    /// A connection with no traffic for this long is closed.
    pub(crate) idle_timeout: Duration,
    /// Open HTTP/3 connections per shard; further handshakes are refused.
    pub(crate) max_conns: usize,
    /// Largest request header section (QPACK-decoded) in bytes.
    pub(crate) max_field_section: u64,
    /// The TLS certificate chain and key to present.
    pub(crate) tls: TlsSource,
    /// Steer short-header packets to the shard named in their connection ID.
    pub(crate) steer: bool,
}

/// Where the server's TLS certificate comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum TlsSource {
    /// PEM files: a certificate chain and its private key.
    Files { cert: PathBuf, key: PathBuf },
    /// Make a self-signed certificate for localhost at start and write it to this folder.
    SelfSigned { dir: PathBuf },
}

/// Fill every unset field of `$hi` from `$lo`. The destructuring names every field, so a new
/// setting that is not listed here fails to compile instead of being silently dropped from files.
macro_rules! overlay_all {
    ($hi:ident, $lo:expr, $($f:ident),* $(,)?) => {
        let Settings { config: _, $($f),* } = $lo;
        $( if $hi.$f.is_none() { $hi.$f = $f; } )*
    };
}

impl Settings {
    /// Fill unset fields from the TOML file named by `config`, if any.
    pub(crate) fn with_file(mut self) -> Result<Self, String> {
        let Some(path) = self.config.clone() else { return Ok(self) };
        let text = std::fs::read_to_string(&path).map_err(|e| format!("config {}: {e}", path.display()))?;
        let file: Self = toml::from_str(&text).map_err(|e| format!("config {}: {e}", path.display()))?;
        overlay_all!(
            self,
            file,
            listen,
            shards,
            cpus,
            pin,
            driver,
            ring_entries,
            backlog,
            incoming_cpu,
            share_port,
            max_conns,
            max_head_bytes,
            max_headers,
            max_body_bytes,
            header_timeout,
            body_timeout,
            idle_timeout,
            write_timeout,
            max_pipelined,
            drain_timeout,
            drain_idle_grace,
            batch_max_items,
            search_max_years,
            search_max_points,
            search_max_page,
            compress_min_bytes,
            ws_origins,
            ws_max_message_bytes,
            ws_send_queue_bytes,
            ws_ping_interval,
            ws_idle_timeout,
            ws_close_timeout,
            ws_publish_api,
            h3,
            tls_cert,
            tls_key,
            h3_max_streams,
            h3_idle_timeout,
            h3_max_conns,
            h3_steer,
            log_format,
            log,
            inference,
            ort_lib,
            model_dir,
            ep,
            infer_workers,
            infer_threads,
            max_batch,
            max_wait,
            infer_queue,
            infer_deadline,
            corpus_cache,
        );
        Ok(self)
    }

    /// Apply defaults and check ranges.
    pub(crate) fn resolve(self) -> Result<Config, String> {
        let cpus = match &self.cpus {
            Some(list) => shard::cpus::parse_list(list)?,
            None => shard::cpus::allowed(),
        };
        let shards = self.shards.unwrap_or(cpus.len());
        if shards == 0 || shards > 1024 {
            return Err(format!("shards must be 1..=1024, got {shards}"));
        }
        let limits = proto::http1::Limits {
            max_head: self.max_head_bytes.unwrap_or(16 * 1024),
            max_headers: self.max_headers.unwrap_or(100),
            max_body: self.max_body_bytes.unwrap_or(1024 * 1024),
            header_timeout: self.header_timeout.unwrap_or(Duration::from_secs(10)),
            body_timeout: self.body_timeout.unwrap_or(Duration::from_secs(30)),
            idle_timeout: self.idle_timeout.unwrap_or(Duration::from_secs(60)),
            max_pipelined: self.max_pipelined.unwrap_or(16),
        };
        if limits.max_head < 256 || limits.max_pipelined == 0 || limits.max_headers == 0 {
            return Err("max_head_bytes must be ≥ 256, max_pipelined and max_headers ≥ 1".into());
        }
        let ws = self.ws_config()?;
        let h3 = self.h3_config()?;
        let inference = self.inference_settings()?;
        Ok(Config {
            inference,
            infer_deadline: self.infer_deadline.unwrap_or(Duration::from_millis(500)),
            listen: self.listen.unwrap_or_else(|| SocketAddr::from(([0, 0, 0, 0], 8080))),
            shards,
            cpus,
            pin: self.pin.unwrap_or(true),
            driver: self.driver.unwrap_or(DriverName::Auto),
            ring_entries: self.ring_entries.unwrap_or(4096),
            backlog: self.backlog.unwrap_or(4096),
            incoming_cpu: self.incoming_cpu.unwrap_or(true),
            share_port: self.share_port.unwrap_or(false),
            max_conns: self.max_conns.unwrap_or(100_000).max(1),
            limits,
            write_timeout: self.write_timeout.unwrap_or(Duration::from_secs(30)),
            drain_timeout: self.drain_timeout.unwrap_or(Duration::from_secs(10)),
            drain_idle_grace: self.drain_idle_grace.unwrap_or(Duration::from_millis(500)),
            log_format: self.log_format.unwrap_or(LogFormat::Pretty),
            log: self.log.unwrap_or_else(|| "info".into()),
            batch_max_items: self.batch_max_items.unwrap_or(10_000).max(1),
            search: SearchLimits {
                max_years: self.search_max_years.unwrap_or(10).max(1),
                max_points: self.search_max_points.unwrap_or(5_300_000).max(1),
                max_page: self.search_max_page.unwrap_or(1000).max(1),
            },
            compress_min_bytes: Some(self.compress_min_bytes.unwrap_or(2048)).filter(|n| *n > 0),
            ws,
            h3,
        })
    }

    fn inference_settings(&self) -> Result<inference::service::Settings, String> {
        let s = inference::service::Settings {
            enabled: self.inference.unwrap_or(true),
            library: self.ort_lib.clone().unwrap_or_else(|| ".deps/onnxruntime/libonnxruntime.so".into()),
            model_dir: self.model_dir.clone().unwrap_or_else(|| ".deps/models/minilm".into()),
            ep: match self.ep.unwrap_or(EpName::Auto) {
                EpName::Auto => inference::runtime::EpChoice::Auto,
                EpName::Cuda => inference::runtime::EpChoice::Cuda,
                EpName::Cpu => inference::runtime::EpChoice::Cpu,
            },
            workers: self.infer_workers.unwrap_or(1),
            threads: self.infer_threads.unwrap_or(1),
            batcher: inference::batcher::Config {
                max_batch: self.max_batch.unwrap_or(32),
                max_wait: self.max_wait.unwrap_or(Duration::from_millis(2)),
                queue: self.infer_queue.unwrap_or(256),
                pin: Vec::new(),
            },
            cache_dir: self.corpus_cache.clone().unwrap_or_else(|| ".deps/cache".into()),
        };
        if !(1..=64).contains(&s.workers) || !(1..=256).contains(&s.threads) {
            return Err("infer_workers must be 1..=64 and infer_threads 1..=256".into());
        }
        if !(1..=1024).contains(&s.batcher.max_batch) || s.batcher.queue == 0 {
            return Err("max_batch must be 1..=1024 and infer_queue ≥ 1".into());
        }
        Ok(s)
    }

    fn h3_config(&self) -> Result<Option<H3Config>, String> {
        if !self.h3.unwrap_or(false) {
            return Ok(None);
        }
        let tls = match (&self.tls_cert, &self.tls_key) {
            (Some(cert), Some(key)) => TlsSource::Files { cert: cert.clone(), key: key.clone() },
            (None, None) => TlsSource::SelfSigned { dir: std::env::temp_dir().join(format!("hypercube-{}", std::process::id())) },
            _ => return Err("tls_cert and tls_key go together".into()),
        };
        let c = H3Config {
            max_streams: self.h3_max_streams.unwrap_or(100),
            idle_timeout: self.h3_idle_timeout.unwrap_or(Duration::from_secs(30)),
            max_conns: self.h3_max_conns.unwrap_or(10_000),
            max_field_section: self.max_head_bytes.unwrap_or(16 * 1024) as u64,
            tls,
            steer: self.h3_steer.unwrap_or(true),
        };
        if c.max_streams == 0 || c.max_conns == 0 || c.idle_timeout.is_zero() {
            return Err("h3_max_streams, h3_max_conns and h3_idle_timeout must be > 0".into());
        }
        Ok(Some(c))
    }

    fn ws_config(&self) -> Result<WsConfig, String> {
        let max = self.ws_max_message_bytes.unwrap_or(1 << 20);
        let limits = proto::ws::Limits {
            max_frame: max,
            max_message: max,
            ping_interval: self.ws_ping_interval.unwrap_or(Duration::from_secs(30)),
            idle_timeout: self.ws_idle_timeout.unwrap_or(Duration::from_secs(75)),
            close_timeout: self.ws_close_timeout.unwrap_or(Duration::from_secs(5)),
        };
        if max < 125 || limits.ping_interval.is_zero() || limits.idle_timeout.is_zero() {
            return Err("ws_max_message_bytes must be ≥ 125; ws_ping_interval and ws_idle_timeout > 0".into());
        }
        let origins = self.ws_origins.as_deref().unwrap_or("");
        Ok(WsConfig {
            origins: origins.split(',').map(str::trim).filter(|o| !o.is_empty()).map(str::to_string).collect(),
            limits: limits.into(),
            send_queue_bytes: self.ws_send_queue_bytes.unwrap_or(1 << 20).max(1024),
            publish_api: self.ws_publish_api.unwrap_or(false),
        })
    }
}

/// A TOML duration: a string in the flag grammar (`"10s"`) or a bare number of seconds (`30`).
fn de_duration<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Duration>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Raw {
        Text(String),
        Int(u64),
        Float(f64),
    }
    let bad = |secs: f64| serde::de::Error::custom(format!("duration {secs} s out of range (0 ..= 365 days)"));
    match Raw::deserialize(d)? {
        Raw::Text(s) => shard::duration::parse(&s).map(Some).map_err(serde::de::Error::custom),
        Raw::Int(n) => shard::duration::from_secs(n as f64).map(Some).ok_or_else(|| bad(n as f64)),
        Raw::Float(x) => shard::duration::from_secs(x).map(Some).ok_or_else(|| bad(x)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn from_toml(name: &str, text: &str) -> Result<Settings, String> {
        let path = std::env::temp_dir().join(format!("hc-cfg-{name}-{}", std::process::id()));
        std::fs::write(&path, text).unwrap();
        let r = Settings { config: Some(path.clone()), ..Default::default() }.with_file();
        std::fs::remove_file(&path).unwrap();
        r
    }

    #[test]
    fn file_fills_gaps_and_flags_win() {
        let dir = std::env::temp_dir().join(format!("hc-cfg-{}", std::process::id()));
        std::fs::write(&dir, "listen = \"127.0.0.1:9000\"\nshards = 3\nidle_timeout = \"5s\"\ndriver = \"epoll\"\n").unwrap();
        let s = Settings { config: Some(dir.clone()), shards: Some(1), ..Default::default() };
        let c = s.with_file().unwrap().resolve().unwrap();
        std::fs::remove_file(&dir).unwrap();
        assert_eq!(c.listen.port(), 9000);
        assert_eq!(c.shards, 1, "flag wins over file");
        assert_eq!(c.limits.idle_timeout, Duration::from_secs(5));
        assert_eq!(c.driver, DriverName::Epoll);
        assert_eq!(c.limits.max_body, 1024 * 1024);
    }

    #[test]
    fn unknown_keys_are_errors() {
        let dir = std::env::temp_dir().join(format!("hc-cfg-bad-{}", std::process::id()));
        std::fs::write(&dir, "lisen = \"x\"\n").unwrap();
        let r = Settings { config: Some(dir.clone()), ..Default::default() }.with_file();
        std::fs::remove_file(&dir).unwrap();
        assert!(r.unwrap_err().contains("lisen"));
    }

    #[test]
    fn toml_durations_take_the_flag_grammar_and_bare_seconds() {
        let s = from_toml("dur", "idle_timeout = 30\nheader_timeout = 2.5\nbody_timeout = \"250ms\"\nmax_wait = \"1\"\n").unwrap();
        assert_eq!(s.idle_timeout, Some(Duration::from_secs(30)));
        assert_eq!(s.header_timeout, Some(Duration::from_millis(2500)));
        assert_eq!(s.body_timeout, Some(Duration::from_millis(250)));
        assert_eq!(s.max_wait, Some(Duration::from_secs(1)));
        assert!(from_toml("dur-bad", "idle_timeout = \"ten\"\n").unwrap_err().contains("ten"));
        assert!(from_toml("dur-neg", "idle_timeout = -1\n").is_err());
    }

    #[test]
    fn every_setting_can_come_from_a_file() {
        // A file that sets compress_min_bytes (a setting added after the overlay list was first
        // written) must reach the Config.
        let s = from_toml("all", "compress_min_bytes = 0\nsearch_max_page = 7\nh3_steer = false\n").unwrap();
        let c = s.resolve().unwrap();
        assert_eq!(c.compress_min_bytes, None);
        assert_eq!(c.search.max_page, 7);
    }
}
