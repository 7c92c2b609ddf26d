//! Loading ONNX Runtime and choosing the execution provider.
//!
//! The library is opened once per process with `ort::init_from(path)`, which returns an error
//! (a missing or wrong library) instead of panicking like `ort::init()` would. The CUDA EP is
//! registered with [`ExecutionProvider::register`], not `with_execution_providers`, because the
//! latter silently falls back to CPU: here a CUDA failure is an error the caller logs and reports.
use crate::Error;
use ort::environment::Environment;
use ort::ep::ExecutionProvider;
use ort::session::builder::{GraphOptimizationLevel, SessionBuilder};
use ort::session::Session;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};

/// What the configuration asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum EpChoice {
    /// CUDA if it registers, CPU otherwise (the CUDA error is kept and logged).
    #[default]
    Auto,
    /// CUDA or fail.
    Cuda,
    /// CPU only.
    Cpu,
}

impl std::str::FromStr for EpChoice {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "auto" => Ok(Self::Auto),
            "cuda" => Ok(Self::Cuda),
            "cpu" => Ok(Self::Cpu),
            _ => Err(format!("unknown execution provider {s:?} (auto, cuda or cpu)")),
        }
    }
}

/// The execution provider a session actually runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ep {
    Cuda,
    Cpu,
}

impl Ep {
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Cuda => "cuda",
            Self::Cpu => "cpu",
        }
    }
}

/// A loaded ONNX Runtime: the process-wide environment sessions are built from.
#[derive(Clone)]
pub struct Runtime {
    env: Environment,
    lib: PathBuf,
}

/// The runtime this process loaded (a library cannot be unloaded or swapped once loaded).
static LOADED: OnceLock<Mutex<Option<Runtime>>> = OnceLock::new();

impl Runtime {
    /// Load the library at `lib`, or return the runtime already loaded from it. Once one library
    /// is loaded, naming another is an error: one process has one ONNX Runtime. A failed load
    /// leaves nothing behind, so a later call may name a better path.
    pub fn load(lib: &Path) -> Result<Self, Error> {
        let cell = LOADED.get_or_init(|| Mutex::new(None));
        let mut slot = cell.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(rt) = slot.as_ref() {
            return if rt.lib == lib { Ok(rt.clone()) } else { Err(Error::Library(format!("already loaded from {}", rt.lib.display()))) };
        }
        let rt = Self::load_uncached(lib)?;
        *slot = Some(rt.clone());
        Ok(rt)
    }

    fn load_uncached(lib: &Path) -> Result<Self, Error> {
        if !lib.is_file() {
            return Err(Error::Library(format!("{} not found (run scripts/setup)", lib.display())));
        }
        let builder = ort::init_from(lib).map_err(|e| Error::Library(e.to_string()))?;
        // ONNX Runtime logs every session's graph rewrites at info level; pass on warnings and
        // errors only, under the target "onnxruntime".
        let logger: ort::logging::LoggerFunction = std::sync::Arc::new(|level, category: &str, _id: &str, _at: &str, msg: &str| {
            use ort::logging::LogLevel;
            match level {
                LogLevel::Warning => tracing::warn!(target: "onnxruntime", category, "{msg}"),
                LogLevel::Error | LogLevel::Fatal => tracing::error!(target: "onnxruntime", category, "{msg}"),
                LogLevel::Verbose | LogLevel::Info => {}
            }
        });
        let env = builder.with_name("hypercube").with_logger(logger).build().map_err(|e| Error::Library(e.to_string()))?;
        Ok(Self { env, lib: lib.to_path_buf() })
    }

    /// The library file this runtime was loaded from.
    #[must_use]
    pub fn library(&self) -> &Path {
        &self.lib
    }

    /// ONNX Runtime's build string (version, commit, flags).
    #[must_use]
    pub fn build_info(&self) -> &'static str {
        ort::info()
    }

    /// Build a session for `model` on the chosen EP (CUDA on GPU `device`). Returns the
    /// session, the EP in use, and (for `Auto` falling back to CPU) why CUDA was not used.
    pub fn session(&self, model: &Path, choice: EpChoice, threads: usize, device: i32) -> Result<(Session, Ep, Option<String>), Error> {
        let mut b = self.builder(threads)?;
        let (ep, cuda_err) = match choice {
            EpChoice::Cpu => (Ep::Cpu, None),
            EpChoice::Cuda => {
                register_cuda(&mut b, device).map_err(Error::Provider)?;
                (Ep::Cuda, None)
            }
            EpChoice::Auto => match register_cuda(&mut b, device) {
                Ok(()) => (Ep::Cuda, None),
                // A failed registration may leave the builder half-configured: start afresh.
                Err(e) => {
                    b = self.builder(threads)?;
                    (Ep::Cpu, Some(e))
                }
            },
        };
        let s = b.commit_from_file(model).map_err(|e| Error::Model(format!("{}: {e}", model.display())))?;
        Ok((s, ep, cuda_err))
    }

    fn builder(&self, threads: usize) -> Result<SessionBuilder, Error> {
        let e = |e: ort::Error<SessionBuilder>| Error::Model(e.to_string());
        Session::builder(&self.env)
            .map_err(|e| Error::Model(e.to_string()))?
            .with_optimization_level(GraphOptimizationLevel::Level3)
            .map_err(e)?
            .with_intra_threads(threads.max(1))
            .map_err(e)?
            .with_inter_threads(1)
            .map_err(e)
    }
}

fn register_cuda(b: &mut SessionBuilder, device: i32) -> Result<(), String> {
    ort::ep::CUDA::default().with_device_id(device).register(b).map_err(|e| format!("CUDA device {device}: {e}"))
}
