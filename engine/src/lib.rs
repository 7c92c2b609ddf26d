//! engine — the saju engine (pure computation, no I/O). Filled by the engine issue.
