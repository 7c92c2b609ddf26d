//! Starting shards: how many, where they run, which I/O driver.
use crate::driver::{Driver, DriverKind, Rt};
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
        self.start_with(move |ctx| init(ctx).map(|s| (s, ())), move |s, (), ctx| run(s, ctx))
    }

    /// [`start`](Self::start) with a start-up payload: `init` returns the shard's state and a
    /// `P` (its listeners, say) that is handed to `run` by value and consumed there, so nothing
    /// that only matters at start has to live in the shard's state.
    pub fn start_with<S, P, I, R, Fut>(self, init: I, run: R) -> io::Result<Sharded<S>>
    where
        S: 'static,
        P: 'static,
        I: Fn(&ShardCtx<S>) -> io::Result<(S, P)> + Send + Sync + 'static,
        R: Fn(Rc<S>, P, ShardCtx<S>) -> Fut + Send + Sync + 'static,
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

fn shard_main<S, P, I, R, Fut>(spec: ThreadSpec, sharded: Sharded<S>, init: &I, run: &R, ready: mpsc::Sender<io::Result<()>>)
where
    S: 'static,
    I: Fn(&ShardCtx<S>) -> io::Result<(S, P)>,
    R: Fn(Rc<S>, P, ShardCtx<S>) -> Fut,
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
        let (state, payload) = match init(&ctx) {
            Ok((s, p)) => (Rc::new(s), p),
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
        run(state, payload, ctx).await;
        sharded.shared.mailboxes[id].close();
        mailbox.await;
        drop(local);
    });
}
