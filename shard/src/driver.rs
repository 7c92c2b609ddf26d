//! The I/O driver of a shard: which one to ask for ([`Driver`]), which one runs
//! ([`DriverKind`]), and the monoio runtime built on it (`Rt`, with the ring's set-up flags).
//!
//! Below both [`builder`](crate::builder) (which builds a runtime per shard thread) and
//! [`sharded`](crate::sharded) (which reports each shard's driver), so neither imports the other
//! for it. A new driver (a native io_uring one, glommio) is added here and nowhere else.
use std::future::Future;
use std::io;

/// Which I/O driver to ask for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Driver {
    /// io_uring; if the ring cannot be set up, monoio's epoll driver with a warning.
    #[default]
    Auto,
    /// io_uring or fail.
    IoUring,
    /// epoll only.
    Epoll,
}

/// The I/O driver a shard actually runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DriverKind {
    /// Linux io_uring.
    IoUring,
    /// epoll (monoio's legacy driver).
    Epoll,
}

impl DriverKind {
    /// A short lowercase name for logs and metrics.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::IoUring => "io_uring",
            Self::Epoll => "epoll",
        }
    }
}

/// Ring set-up flags. COOP_TASKRUN (Linux 5.19+) lets the kernel run io_uring completions'
/// task work at the shard's next kernel entry instead of interrupting it with an IPI; the shard
/// enters the kernel on every loop turn anyway. Measured here (bench/http-vs-nginx set-up, one
/// shard): ~3.6–4.7 µs of CPU per request with it, ~5.6 µs without.
fn uring_flags(coop: bool) -> io_uring::Builder {
    let mut b = io_uring::IoUring::builder();
    if coop {
        b.setup_coop_taskrun();
    }
    b
}

/// A monoio runtime on either driver (both with timers).
pub(crate) enum Rt {
    Uring(monoio::Runtime<monoio::time::TimeDriver<monoio::IoUringDriver>>),
    Epoll(monoio::Runtime<monoio::time::TimeDriver<monoio::LegacyDriver>>),
}

impl Rt {
    pub(crate) fn build(driver: Driver, ring_entries: u32) -> io::Result<Self> {
        let epoll =
            || -> io::Result<Self> { Ok(Self::Epoll(monoio::RuntimeBuilder::<monoio::LegacyDriver>::new().enable_timer().build()?)) };
        match driver {
            Driver::Epoll => epoll(),
            Driver::IoUring | Driver::Auto => {
                let ring = |coop| {
                    monoio::RuntimeBuilder::<monoio::IoUringDriver>::new()
                        .with_entries(ring_entries)
                        .uring_builder(uring_flags(coop))
                        .enable_timer()
                        .build()
                };
                // Kernels older than 5.19 refuse COOP_TASKRUN with EINVAL: retry without it.
                let uring = ring(true).or_else(|_| ring(false));
                match uring {
                    Ok(rt) => Ok(Self::Uring(rt)),
                    Err(e) if driver == Driver::Auto => {
                        tracing::warn!(error = %e, "io_uring setup failed; falling back to epoll");
                        epoll()
                    }
                    Err(e) => Err(e),
                }
            }
        }
    }

    pub(crate) fn kind(&self) -> DriverKind {
        match self {
            Self::Uring(_) => DriverKind::IoUring,
            Self::Epoll(_) => DriverKind::Epoll,
        }
    }

    pub(crate) fn block_on<F: Future>(&mut self, f: F) -> F::Output {
        match self {
            Self::Uring(rt) => rt.block_on(f),
            Self::Epoll(rt) => rt.block_on(f),
        }
    }
}
