//! The whole inference service as a server starts it: load the library, open one session per
//! worker, embed (or read back) the corpus, start the batcher — on a background thread, so the
//! server listens at once — and answer "can I ask now?" with a [`Status`] that says why not.
use crate::batcher::{self, Batcher, Handle, Reply};
use crate::corpus::{Corpus, Index, Lang, Source};
use crate::model::{Embedder, ModelFiles, OnnxEmbedder};
use crate::rank::{self, Fact, Hit};
use crate::runtime::{Ep, EpChoice, Runtime};
use crate::Error;
use futures_channel::oneshot;
use std::fmt::Write as _;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};
use tracing::{error, info, warn};

/// Everything the service needs to start.
#[derive(Debug, Clone)]
pub struct Settings {
    /// false: never load anything (inference disabled by configuration).
    pub enabled: bool,
    pub library: PathBuf,
    pub model_dir: PathBuf,
    pub ep: EpChoice,
    /// Worker threads, each with its own session (one per GPU; on CPU, default 1).
    pub workers: usize,
    /// ONNX Runtime intra-op threads per session.
    pub threads: usize,
    pub batcher: batcher::Config,
    /// Where the corpus embeddings are cached.
    pub cache_dir: PathBuf,
}

/// What the service can do right now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Status {
    /// Still loading the model or embedding the corpus.
    Loading,
    /// Answering; on this EP (and, when auto fell back from CUDA, why).
    Ready { ep: Ep, cuda_error: Option<String> },
    /// Not available in this process, and why.
    Disabled(String),
}

impl Status {
    #[must_use]
    pub fn label(&self) -> &'static str {
        match self {
            Self::Loading => "loading",
            Self::Ready { .. } => "ready",
            Self::Disabled(_) => "disabled",
        }
    }
}

struct Ready {
    handle: Handle,
    index: Index,
    ep: Ep,
    cuda_error: Option<String>,
}

/// The running service. Shared by every shard (`Send + Sync`).
pub struct Service {
    settings: Settings,
    ready: OnceLock<Result<Ready, String>>,
    batcher: Mutex<Option<Batcher>>,
    started: Instant,
}

/// Why a question cannot be asked now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unavailable {
    /// Loading; retry shortly.
    Loading,
    /// Disabled for this process (the reason).
    Disabled(String),
    /// Queue full; retry shortly.
    Overloaded,
    ShuttingDown,
}

impl Service {
    /// Start loading in the background and return at once.
    #[must_use]
    pub fn start(settings: Settings) -> Arc<Self> {
        let me = Arc::new(Self { settings, ready: OnceLock::new(), batcher: Mutex::new(None), started: Instant::now() });
        if !me.settings.enabled {
            let _ = me.ready.set(Err("disabled by configuration (inference = false)".into()));
            info!("inference disabled by configuration");
            return me;
        }
        let bg = me.clone();
        let spawned = std::thread::Builder::new().name("infer-init".into()).spawn(move || {
            let r = bg.load();
            match &r {
                Ok(rd) => info!(
                    ep = rd.ep.as_str(),
                    library = %bg.settings.library.display(),
                    workers = bg.settings.workers,
                    max_batch = bg.settings.batcher.max_batch,
                    max_wait_us = bg.settings.batcher.max_wait.as_micros() as u64,
                    passages = rd.index.corpus.passages.len(),
                    ms = bg.started.elapsed().as_millis() as u64,
                    "inference ready"
                ),
                Err(reason) => error!(reason = %reason, "inference disabled; /v1/interpret will answer 503"),
            }
            let _ = bg.ready.set(r);
        });
        if let Err(e) = spawned {
            let _ = me.ready.set(Err(format!("could not start the loader thread: {e}")));
        }
        me
    }

    fn load(&self) -> Result<Ready, String> {
        let s = &self.settings;
        let files = ModelFiles::in_dir(&s.model_dir);
        let rt = Runtime::load(&s.library).map_err(|e| e.to_string())?;
        files.check().map_err(|e| e.to_string())?;
        let mut models: Vec<Box<dyn Embedder>> = Vec::with_capacity(s.workers);
        let (mut ep, mut cuda_error) = (Ep::Cpu, None);
        // Worker i uses GPU i: one worker per GPU.
        for i in 0..s.workers.max(1) {
            let (m, why) = OnnxEmbedder::open_on(&rt, &files, s.ep, s.threads, i as i32).map_err(|e| e.to_string())?;
            match &why {
                Some(w) => warn!(worker = i, error = %w, "CUDA execution provider not available; running inference on CPU"),
                None => info!(worker = i, ep = m.ep().as_str(), "inference execution provider"),
            }
            if i == 0 {
                (ep, cuda_error) = (m.ep(), why);
            }
            models.push(Box::new(m));
        }
        let corpus = Corpus::builtin().map_err(|e| e.to_string())?;
        let hash = files.hash().map_err(|e| e.to_string())?;
        let (index, source, path) = Index::load_or_build(corpus, &hash, &s.cache_dir, models[0].as_mut()).map_err(|e| e.to_string())?;
        info!(
            source = if source == Source::Cache { "cache" } else { "computed" },
            path = %path.display(),
            "corpus embeddings"
        );
        let b = Batcher::start(&s.batcher, models).map_err(|e| format!("could not start workers: {e}"))?;
        let handle = b.handle();
        *self.batcher.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = Some(b);
        Ok(Ready { handle, index, ep, cuda_error })
    }

    /// Now.
    #[must_use]
    pub fn status(&self) -> Status {
        match self.ready.get() {
            None => Status::Loading,
            Some(Ok(r)) => Status::Ready { ep: r.ep, cuda_error: r.cuda_error.clone() },
            Some(Err(e)) => Status::Disabled(e.clone()),
        }
    }

    /// Block until loading is over (tests, benchmarks); returns the final status.
    pub fn wait_loaded(&self, within: Duration) -> Status {
        let end = Instant::now() + within;
        while self.ready.get().is_none() && Instant::now() < end {
            std::thread::sleep(Duration::from_millis(10));
        }
        self.status()
    }

    fn ready(&self) -> Result<&Ready, Unavailable> {
        match self.ready.get() {
            None => Err(Unavailable::Loading),
            Some(Ok(r)) => Ok(r),
            Some(Err(e)) => Err(Unavailable::Disabled(e.clone())),
        }
    }

    /// Queue the question for embedding. Never blocks.
    pub fn submit(&self, question: &str, deadline: Instant) -> Result<oneshot::Receiver<Reply>, Unavailable> {
        let r = self.ready()?;
        r.handle.submit(question, deadline).map_err(|e| match e {
            Error::Overloaded => Unavailable::Overloaded,
            _ => Unavailable::ShuttingDown,
        })
    }

    /// Rank passages for an embedded question (cheap: a few hundred dot products).
    pub fn rank(&self, question: &[f32], facts: &[Fact], lang: Option<Lang>, top_k: usize) -> Result<Vec<Hit>, Unavailable> {
        Ok(rank::rank(&self.ready()?.index, question, facts, lang, top_k))
    }

    /// Stop taking questions, answer the queued ones, stop the workers.
    pub fn shutdown(&self) {
        let b = self.batcher.lock().unwrap_or_else(std::sync::PoisonError::into_inner).take();
        if let Some(b) = b {
            b.shutdown();
            info!("inference workers stopped");
        }
    }

    /// Prometheus text for `/metrics`.
    #[must_use]
    pub fn metrics(&self) -> String {
        let mut o = String::new();
        let st = self.status();
        let ep = match &st {
            Status::Ready { ep, .. } => ep.as_str(),
            _ => "none",
        };
        let _ = writeln!(o, "# HELP hypercube_inference_info Inference state and execution provider (always 1).");
        let _ = writeln!(o, "# TYPE hypercube_inference_info gauge");
        let _ = writeln!(o, "hypercube_inference_info{{state=\"{}\",ep=\"{ep}\"}} 1", st.label());
        let Some(Ok(r)) = self.ready.get() else { return o };
        let s = r.handle.stats();
        let counters = [
            ("hypercube_inference_jobs_total", "Questions queued for embedding.", s.submitted),
            ("hypercube_inference_overloaded_total", "Questions refused: queue full.", s.overloaded),
            ("hypercube_inference_expired_total", "Questions dropped unrun: deadline passed in the queue.", s.expired),
            ("hypercube_inference_cancelled_total", "Questions dropped unrun: the asker had gone.", s.cancelled),
            ("hypercube_inference_failed_total", "Questions whose model run failed.", s.failed),
        ];
        for (name, help, v) in counters {
            let _ = writeln!(o, "# HELP {name} {help}\n# TYPE {name} counter\n{name} {v}");
        }
        let _ = writeln!(o, "# HELP hypercube_inference_queue_depth Questions waiting for a worker.\n# TYPE hypercube_inference_queue_depth gauge\nhypercube_inference_queue_depth {}", s.queued);
        let name = "hypercube_inference_batch_size";
        let _ = writeln!(o, "# HELP {name} Questions per model run.\n# TYPE {name} histogram");
        let mut cum = 0;
        for (i, le) in batcher::BATCH_BUCKETS.iter().enumerate() {
            cum += s.sizes[i];
            let _ = writeln!(o, "{name}_bucket{{le=\"{le}\"}} {cum}");
        }
        let _ = writeln!(o, "{name}_bucket{{le=\"+Inf\"}} {}\n{name}_sum {}\n{name}_count {}", s.batches, s.items, s.batches);
        let _ = writeln!(o, "# HELP hypercube_inference_run_seconds_total Time spent in model runs.\n# TYPE hypercube_inference_run_seconds_total counter\nhypercube_inference_run_seconds_total {}", s.run_nanos as f64 / 1e9);
        o
    }
}
