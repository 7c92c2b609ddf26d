//! inference — ONNX Runtime in-process for /v1/interpret (issue: "Inference").
//!
//! Will hold: run-time loading of libonnxruntime through `ort` (load-dynamic), execution-provider
//! selection (CUDA when present, CPU otherwise), and a dynamic batcher that shards submit to over
//! bounded queues. Shards never run a model themselves.
//!
//! Today it is an empty crate: nothing here is built yet.
