//! proto — sans-IO protocol state machines (HTTP/1.1 today). Filled by the HTTP/1.1 work.
