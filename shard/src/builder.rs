//! Starting shards: how many, where they run, which I/O driver.
use crate::mailbox::Mailbox;
use crate::sharded::{Local, Sharded, Shared};
use crate::stop::Stop;
use std::future::Future;
use std::io;
use std::rc::Rc;
use std::sync::mpsc;
use std::sync::{Arc, Mutex, OnceLock};

/// Where shard threads run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Placement {
    /// Let the kernel schedule the threads.
    Unpinned,
    /// Shard `i` is pinned to `cpus[i % cpus.len()]`.
    Pinned(Vec<usize>),
}

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

/// What a shard knows about itself.
pub struct ShardCtx<S> {
    /// This shard's index, `0..nshards`.
    pub id: usize,
    /// Number of shards.
    pub nshards: usize,
    /// The CPU this shard is pinned to, if any.
    pub cpu: Option<usize>,
    /// The I/O driver in use.
    pub driver: DriverKind,
    /// Raised by [`Sharded::stop`].
    pub stop: Stop,
    /// Handle to every shard, for cross-shard messages.
    pub sharded: Sharded<S>,
}

/// Builds and starts a set of shards.
#[derive(Debug, Clone)]
pub struct Builder {
    shards: usize,
    placement: Placement,
    driver: Driver,
    ring_entries: u32,
    mailbox: usize,
    name: String,
}

impl Default for Builder {
    fn default() -> Self {
        let cpus = crate::cpus::allowed();
        Self {
            shards: cpus.len(),
            placement: Placement::Pinned(cpus),
            driver: Driver::Auto,
            ring_entries: 4096,
            mailbox: 1024,
            name: "shard".into(),
        }
    }
}

impl Builder {
    /// One shard per CPU in the process's affinity mask, each pinned to its CPU, io_uring.
    pub fn new() -> Self {
        Self::default()
    }
    /// Number of shards (at least 1).
    pub fn shards(mut self, n: usize) -> Self {
        self.shards = n.max(1);
        self
    }
    /// Thread placement.
    pub fn placement(mut self, p: Placement) -> Self {
        self.placement = p;
        self
    }
    /// I/O driver.
    pub fn driver(mut self, d: Driver) -> Self {
        self.driver = d;
        self
    }
    /// io_uring submission queue entries per shard.
    pub fn ring_entries(mut self, n: u32) -> Self {
        self.ring_entries = n;
        self
    }
    /// Capacity of each shard's mailbox (undelivered cross-shard messages).
    pub fn mailbox_capacity(mut self, n: usize) -> Self {
        self.mailbox = n.max(1);
        self
    }
    /// Thread name prefix (`NAME-0`, `NAME-1`, …).
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = name.into();
        self
    }

    /// Start the shards. On each shard thread: pin, build the runtime, build `S` with `init`,
    /// then run `run(state, ctx)` to completion while the shard's mailbox is served. Returns once
    /// every shard has built its state, or the first error (the other shards are then stopped).
    pub fn start<S, I, R, Fut>(self, init: I, run: R) -> io::Result<Sharded<S>>
    where
        S: 'static,
        I: Fn(&ShardCtx<S>) -> io::Result<S> + Send + Sync + 'static,
        R: Fn(Rc<S>, ShardCtx<S>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ()> + 'static,
    {
        let n = self.shards;
        let shared = Arc::new(Shared {
            mailboxes: (0..n).map(|_| Mailbox::new(self.mailbox)).collect(),
            drivers: (0..n).map(|_| OnceLock::new()).collect(),
            threads: Mutex::new(Vec::new()),
        });
        let sharded = Sharded { shared };
        let (init, run) = (Arc::new(init), Arc::new(run));
        let (ready_tx, ready_rx) = mpsc::channel::<io::Result<()>>();
        for id in 0..n {
            let cpu = match &self.placement {
                Placement::Unpinned => None,
                Placement::Pinned(cpus) if cpus.is_empty() => None,
                Placement::Pinned(cpus) => Some(cpus[id % cpus.len()]),
            };
            let spec = ThreadSpec { id, cpu, driver: self.driver, ring_entries: self.ring_entries };
            let (sh, init, run, ready) = (sharded.clone(), init.clone(), run.clone(), ready_tx.clone());
            let handle = std::thread::Builder::new()
                .name(format!("{}-{id}", self.name))
                .spawn(move || shard_main(spec, sh, &*init, &*run, ready))?;
            sharded.shared.threads.lock().unwrap_or_else(|e| e.into_inner()).push(handle);
        }
        drop(ready_tx);
        for _ in 0..n {
            let res = ready_rx.recv().unwrap_or_else(|_| Err(io::Error::other("a shard thread died during start")));
            if let Err(e) = res {
                sharded.stop();
                sharded.join();
                return Err(e);
            }
        }
        Ok(sharded)
    }
}

struct ThreadSpec {
    id: usize,
    cpu: Option<usize>,
    driver: Driver,
    ring_entries: u32,
}

fn shard_main<S, I, R, Fut>(spec: ThreadSpec, sharded: Sharded<S>, init: &I, run: &R, ready: mpsc::Sender<io::Result<()>>)
where
    S: 'static,
    I: Fn(&ShardCtx<S>) -> io::Result<S>,
    R: Fn(Rc<S>, ShardCtx<S>) -> Fut,
    Fut: Future<Output = ()> + 'static,
{
    let id = spec.id;
    if let Some(cpu) = spec.cpu {
        if !core_affinity::set_for_current(core_affinity::CoreId { id: cpu }) {
            tracing::warn!(shard = id, cpu, "could not pin shard thread to its CPU");
        }
    }
    let mut rt = match Rt::build(spec.driver, spec.ring_entries) {
        Ok(rt) => rt,
        Err(e) => {
            sharded.shared.mailboxes[id].close();
            let _ = ready.send(Err(io::Error::new(e.kind(), format!("shard {id}: runtime: {e}"))));
            return;
        }
    };
    let driver = rt.kind();
    let _ = sharded.shared.drivers[id].set(driver);
    let nshards = sharded.len();
    let stop = Stop::new();
    let ctx = ShardCtx { id, nshards, cpu: spec.cpu, driver, stop: stop.clone(), sharded: sharded.clone() };
    rt.block_on(async move {
        let state = match init(&ctx) {
            Ok(s) => Rc::new(s),
            Err(e) => {
                sharded.shared.mailboxes[id].close();
                let _ = ready.send(Err(e));
                return;
            }
        };
        let _ = ready.send(Ok(()));
        let local = Rc::new(Local { state: state.clone(), stop });
        let mb = sharded.clone();
        let l2 = local.clone();
        let mailbox = monoio::spawn(async move { mb.shared.mailboxes[id].drain(&l2).await });
        run(state, ctx).await;
        sharded.shared.mailboxes[id].close();
        mailbox.await;
        drop(local);
    });
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
enum Rt {
    Uring(monoio::Runtime<monoio::time::TimeDriver<monoio::IoUringDriver>>),
    Epoll(monoio::Runtime<monoio::time::TimeDriver<monoio::LegacyDriver>>),
}

impl Rt {
    fn build(driver: Driver, ring_entries: u32) -> io::Result<Self> {
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

    fn kind(&self) -> DriverKind {
        match self {
            Self::Uring(_) => DriverKind::IoUring,
            Self::Epoll(_) => DriverKind::Epoll,
        }
    }

    fn block_on<F: Future>(&mut self, f: F) -> F::Output {
        match self {
            Self::Uring(rt) => rt.block_on(f),
            Self::Epoll(rt) => rt.block_on(f),
        }
    }
}
