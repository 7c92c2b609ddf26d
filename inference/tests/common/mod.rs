//! Where the test library and model are, and the rule for when they are missing.
#![allow(dead_code, unreachable_pub)]
use std::path::PathBuf;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// `HYPERCUBE_ORT_LIB`, else `.deps/onnxruntime/libonnxruntime.so` (what scripts/setup fetches).
pub fn ort_lib() -> PathBuf {
    std::env::var_os("HYPERCUBE_ORT_LIB").map_or_else(|| root().join(".deps/onnxruntime/libonnxruntime.so"), PathBuf::from)
}

/// `HYPERCUBE_MODEL_DIR`, else `.deps/models/minilm`.
pub fn model_dir() -> PathBuf {
    std::env::var_os("HYPERCUBE_MODEL_DIR").map_or_else(|| root().join(".deps/models/minilm"), PathBuf::from)
}

/// True when the library and model are present. When they are not: a failure if
/// `HYPERCUBE_REQUIRE_INFERENCE=1` (scripts/test sets it, so CI cannot skip silently), else a
/// loud skip note.
pub fn have_model(test: &str) -> bool {
    let (lib, dir) = (ort_lib(), model_dir());
    let ok = lib.is_file() && dir.join("model.onnx").is_file() && dir.join("tokenizer.json").is_file();
    if !ok {
        let msg = format!("{test}: onnxruntime ({}) or model ({}) missing; run scripts/setup", lib.display(), dir.display());
        if std::env::var("HYPERCUBE_REQUIRE_INFERENCE").is_ok_and(|v| v == "1") {
            panic!("{msg} (HYPERCUBE_REQUIRE_INFERENCE=1)");
        }
        eprintln!("SKIPPED {msg}");
    }
    ok
}
