//! Request schemas and their handlers, independent of the transport.
pub(crate) mod input;
pub(crate) mod interpret;
pub(crate) mod saju;
pub(crate) mod saju_batch;
pub(crate) mod saju_req;
pub(crate) mod saju_search;
