//! inference — sentence embeddings run in-process with ONNX Runtime, batched across shards, and
//! the ranking behind `/v1/interpret`.
//!
//! What it does: loads `libonnxruntime` at run time (`ort` with `load-dynamic`; a missing library
//! is an error value, never a panic), picks an execution provider (CUDA registered explicitly so
//! its failure is seen, CPU otherwise), embeds text with a sentence-embedding model (tokenizer +
//! session + mean pooling + L2 norm), batches requests from many shards into one model run per
//! worker, and ranks a bilingual interpretation corpus against a question and a chart.
//!
//! What it deliberately does NOT do: no I/O runtime (workers are plain threads; replies are
//! `futures-channel` oneshots any executor can await), no HTTP, no model download (the set-up
//! scripts fetch files; this crate only opens paths it is given), and no text generation.
//!
//! # Layout
//! - [`runtime`]: load the library once per process, choose the EP → [`runtime::Ep`].
//! - [`model`]: the [`model::Embedder`] trait and the ONNX implementation.
//! - [`batcher`]: bounded queue → worker threads that gather up to `max_batch` / `max_wait`.
//! - [`corpus`]: the passages (data files compiled in) and their on-disk embedding cache.
//! - [`rank`]: chart facts, question topics, cosine + fact-weighted scores with reasons.
//! - [`service`]: all of the above started in the background for a server, with a status.
pub mod batcher;
pub mod corpus;
pub mod model;
pub mod rank;
pub mod runtime;
pub mod service;

/// Everything that can go wrong in this crate, and whether trying again can help.
#[derive(Debug, Clone, thiserror::Error)]
pub enum Error {
    /// The ONNX Runtime library could not be loaded (missing file, wrong version…).
    #[error("onnxruntime library: {0}")]
    Library(String),
    /// Model or tokenizer files missing or unreadable.
    #[error("model files: {0}")]
    Model(String),
    /// The requested execution provider could not be registered.
    #[error("execution provider: {0}")]
    Provider(String),
    /// A model run failed.
    #[error("inference run: {0}")]
    Run(String),
    /// The queue is full; retry after a short while.
    #[error("inference queue full")]
    Overloaded,
    /// The request's deadline passed before its batch ran.
    #[error("inference deadline exceeded")]
    Deadline,
    /// The batcher is shutting down and takes no new work.
    #[error("inference is shutting down")]
    ShuttingDown,
}

impl Error {
    /// True when the same request may succeed later (load, deadline, shutdown), false when it
    /// never will on this process (setup errors).
    #[must_use]
    pub fn retryable(&self) -> bool {
        matches!(self, Self::Overloaded | Self::Deadline | Self::Run(_))
    }
}
