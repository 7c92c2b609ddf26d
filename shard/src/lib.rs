//! shard — the shard-per-core runtime. Filled by the foundation work.
