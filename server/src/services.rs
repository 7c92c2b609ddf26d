//! Process-wide services: built once by the composition root (`serve`), handed to every shard,
//! shut down after the shards stop. Today the inference service (the embedding model's worker
//! threads); a Redis bridge will join it.
//!
//! Shards reach a service through [`Services`] in their state, never through a static, so tests
//! and the benchmark baseline can build a server with or without any of them.
use inference::service::{Service, Status};
use std::sync::Arc;

/// Every process-wide service the shards use.
#[derive(Clone, Default)]
pub(crate) struct Services {
    /// The inference service, unless it was never started (`--inference false` still starts it,
    /// disabled, so `/readyz` can say why).
    pub(crate) inference: Option<Arc<Service>>,
}

impl Services {
    /// Start every service (the model loads in the background).
    pub(crate) fn start(inference: inference::service::Settings) -> Self {
        Self { inference: Some(Service::start(inference)) }
    }

    /// After the shards have stopped: answer what is queued, stop the workers.
    pub(crate) fn shutdown(&self) {
        if let Some(s) = &self.inference {
            s.shutdown();
        }
    }

    /// The inference state for `/readyz`.
    pub(crate) fn inference_readiness(&self) -> serde_json::Value {
        match self.inference.as_ref().map(|s| s.status()) {
            None => serde_json::json!({ "state": "disabled", "reason": "not started" }),
            Some(Status::Loading) => serde_json::json!({ "state": "loading" }),
            Some(Status::Ready { ep, cuda_error }) => {
                let mut v = serde_json::json!({ "state": "ready", "ep": ep.as_str() });
                if let Some(e) = cuda_error {
                    v["cuda_unavailable"] = e.into();
                }
                v
            }
            Some(Status::Disabled(reason)) => serde_json::json!({ "state": "disabled", "reason": reason }),
        }
    }

    /// Prometheus lines of the services, for `/metrics`.
    pub(crate) fn metrics(&self) -> String {
        self.inference.as_ref().map(|s| s.metrics()).unwrap_or_default()
    }
}
