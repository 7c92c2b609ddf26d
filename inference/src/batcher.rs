//! The dynamic batcher: shards submit texts over one bounded queue; worker threads, each owning
//! an [`Embedder`], gather up to `max_batch` jobs or until `max_wait` has passed since the first
//! one, run the batch once, and answer each job on its own oneshot.
//!
//! Shards never block: [`Handle::submit`] is a `try_send` (full → [`Error::Overloaded`]), and the
//! reply is a `futures-channel` oneshot the shard awaits on its own event loop (the worker's
//! send wakes it across threads). Each job carries a deadline; a job that cannot be done before
//! it (at the recent cost per job) is answered [`Error::Deadline`] without being run, and a job
//! whose asker went away is dropped unrun. [`Batcher::shutdown`] refuses new jobs, lets the workers run what is queued,
//! and joins them.
use crate::model::Embedder;
use crate::Error;
use crossbeam_channel::{bounded, Receiver, Sender, TryRecvError, TrySendError};
use futures_channel::oneshot;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Batcher limits. Defaults: batches of up to 32, 2 ms gathering, 256 queued (about two
/// seconds of work for one CPU worker: past that, a fast 503 beats a 504 after the deadline).
#[derive(Debug, Clone)]
pub struct Config {
    /// Largest batch one model run takes.
    pub max_batch: usize,
    /// How long a worker waits for more jobs after the first one of a batch.
    pub max_wait: Duration,
    /// Jobs waiting in the queue at most; past it `submit` fails with `Overloaded`.
    pub queue: usize,
    /// CPUs to pin workers to (worker i gets `pin[i % len]`); empty: not pinned.
    pub pin: Vec<usize>,
}

impl Default for Config {
    fn default() -> Self {
        Self { max_batch: 32, max_wait: Duration::from_millis(2), queue: 256, pin: Vec::new() }
    }
}

/// The reply a job gets: its embedding, or why not.
pub type Reply = Result<Vec<f32>, Error>;

struct Job {
    text: String,
    deadline: Instant,
    reply: oneshot::Sender<Reply>,
}

/// Batch sizes are counted in buckets of powers of two: ≤1, ≤2, ≤4 … ≤128, more.
pub const BATCH_BUCKETS: [usize; 8] = [1, 2, 4, 8, 16, 32, 64, 128];

#[derive(Default)]
struct Counters {
    submitted: AtomicU64,
    overloaded: AtomicU64,
    expired: AtomicU64,
    cancelled: AtomicU64,
    failed: AtomicU64,
    batches: AtomicU64,
    items: AtomicU64,
    run_nanos: AtomicU64,
    sizes: [AtomicU64; BATCH_BUCKETS.len() + 1],
}

/// A copy of the batcher's counters.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Stats {
    pub submitted: u64,
    /// Refused because the queue was full.
    pub overloaded: u64,
    /// Answered `Deadline` without running.
    pub expired: u64,
    /// Dropped unrun because the asker had gone.
    pub cancelled: u64,
    /// Jobs whose batch failed.
    pub failed: u64,
    pub batches: u64,
    /// Jobs run (sum of batch sizes).
    pub items: u64,
    /// Total time in model runs, nanoseconds.
    pub run_nanos: u64,
    /// Batches per size bucket ([`BATCH_BUCKETS`], then "more").
    pub sizes: Vec<u64>,
    /// Jobs waiting now.
    pub queued: usize,
}

struct Shared {
    closing: AtomicBool,
    counters: Counters,
}

/// What shards hold: cheap to clone, `Send + Sync`.
#[derive(Clone)]
pub struct Handle {
    tx: Sender<Job>,
    shared: Arc<Shared>,
}

impl Handle {
    /// Queue one text. Never blocks. The receiver resolves with the embedding, `Deadline`,
    /// or `Run`; it is cancelled if the batcher is dropped with the job still queued.
    pub fn submit(&self, text: impl Into<String>, deadline: Instant) -> Result<oneshot::Receiver<Reply>, Error> {
        if self.shared.closing.load(Relaxed) {
            return Err(Error::ShuttingDown);
        }
        let (reply, rx) = oneshot::channel();
        match self.tx.try_send(Job { text: text.into(), deadline, reply }) {
            Ok(()) => {
                self.shared.counters.submitted.fetch_add(1, Relaxed);
                Ok(rx)
            }
            Err(TrySendError::Full(_)) => {
                self.shared.counters.overloaded.fetch_add(1, Relaxed);
                Err(Error::Overloaded)
            }
            Err(TrySendError::Disconnected(_)) => Err(Error::ShuttingDown),
        }
    }

    /// Jobs waiting in the queue now.
    #[must_use]
    pub fn queued(&self) -> usize {
        self.tx.len()
    }

    /// The counters so far.
    #[must_use]
    pub fn stats(&self) -> Stats {
        let c = &self.shared.counters;
        Stats {
            submitted: c.submitted.load(Relaxed),
            overloaded: c.overloaded.load(Relaxed),
            expired: c.expired.load(Relaxed),
            cancelled: c.cancelled.load(Relaxed),
            failed: c.failed.load(Relaxed),
            batches: c.batches.load(Relaxed),
            items: c.items.load(Relaxed),
            run_nanos: c.run_nanos.load(Relaxed),
            sizes: c.sizes.iter().map(|a| a.load(Relaxed)).collect(),
            queued: self.tx.len(),
        }
    }
}

/// The running batcher: its workers and the way to stop them.
pub struct Batcher {
    handle: Handle,
    stop: Option<Sender<()>>,
    workers: Vec<JoinHandle<()>>,
}

impl Batcher {
    /// Start one worker thread per embedder.
    pub fn start(cfg: &Config, embedders: Vec<Box<dyn Embedder>>) -> std::io::Result<Self> {
        let (tx, rx) = bounded::<Job>(cfg.queue.max(1));
        let (stop_tx, stop_rx) = bounded::<()>(0);
        let shared = Arc::new(Shared { closing: AtomicBool::new(false), counters: Counters::default() });
        let mut workers = Vec::with_capacity(embedders.len());
        for (i, model) in embedders.into_iter().enumerate() {
            let w = Worker {
                rx: rx.clone(),
                stop: stop_rx.clone(),
                shared: shared.clone(),
                max_batch: cfg.max_batch.max(1),
                max_wait: cfg.max_wait,
                model,
                item_nanos: 0.0,
            };
            let cpu = (!cfg.pin.is_empty()).then(|| cfg.pin[i % cfg.pin.len()]);
            workers.push(std::thread::Builder::new().name(format!("infer-{i}")).spawn(move || {
                if let Some(id) = cpu {
                    if !core_affinity::set_for_current(core_affinity::CoreId { id }) {
                        tracing::warn!(worker = i, cpu = id, "could not pin inference worker");
                    }
                }
                w.run();
            })?);
        }
        Ok(Self { handle: Handle { tx, shared }, stop: Some(stop_tx), workers })
    }

    /// A handle to submit jobs with.
    #[must_use]
    pub fn handle(&self) -> Handle {
        self.handle.clone()
    }

    /// Refuse new jobs, run every job already queued, and wait for the workers to finish.
    pub fn shutdown(mut self) {
        self.handle.shared.closing.store(true, Relaxed);
        drop(self.stop.take());
        for w in self.workers.drain(..) {
            let _ = w.join();
        }
    }
}

impl Drop for Batcher {
    fn drop(&mut self) {
        self.handle.shared.closing.store(true, Relaxed);
        drop(self.stop.take());
    }
}

struct Worker {
    rx: Receiver<Job>,
    stop: Receiver<()>,
    shared: Arc<Shared>,
    max_batch: usize,
    max_wait: Duration,
    model: Box<dyn Embedder>,
    /// Recent model time per job, ns (0 until the first run).
    item_nanos: f64,
}

impl Worker {
    fn run(mut self) {
        let mut stopping = false;
        loop {
            // The first job of a batch: wait for it (or for the stop signal, then drain).
            let first = if stopping {
                match self.rx.try_recv() {
                    Ok(j) => j,
                    Err(_) => return,
                }
            } else {
                crossbeam_channel::select! {
                    recv(self.rx) -> j => match j { Ok(j) => j, Err(_) => return },
                    recv(self.stop) -> _ => { stopping = true; continue }
                }
            };
            let mut batch = vec![first];
            let until = Instant::now() + self.max_wait;
            while batch.len() < self.max_batch {
                match self.rx.try_recv() {
                    Ok(j) => {
                        batch.push(j);
                        continue;
                    }
                    Err(TryRecvError::Disconnected) => break,
                    Err(TryRecvError::Empty) if stopping => break,
                    Err(TryRecvError::Empty) => {}
                }
                let now = Instant::now();
                if now >= until {
                    break;
                }
                match self.rx.recv_timeout(until - now) {
                    Ok(j) => batch.push(j),
                    Err(_) => break,
                }
            }
            self.run_batch(batch);
        }
    }

    fn run_batch(&mut self, batch: Vec<Job>) {
        let c = &self.shared.counters;
        let now = Instant::now();
        // A job that cannot finish before its deadline, at the recent cost per job, is answered
        // now: running it would spend the worker on an answer nobody waits for.
        let finish = now + Duration::from_nanos((self.item_nanos * batch.len() as f64) as u64);
        let mut live = Vec::with_capacity(batch.len());
        for j in batch {
            if j.reply.is_canceled() {
                c.cancelled.fetch_add(1, Relaxed);
            } else if j.deadline <= finish {
                c.expired.fetch_add(1, Relaxed);
                let _ = j.reply.send(Err(Error::Deadline));
            } else {
                live.push(j);
            }
        }
        if live.is_empty() {
            return;
        }
        let texts: Vec<&str> = live.iter().map(|j| j.text.as_str()).collect();
        let t0 = Instant::now();
        let out = self.model.embed(&texts);
        let took = t0.elapsed().as_nanos() as f64;
        c.run_nanos.fetch_add(took as u64, Relaxed);
        // Moving average of the cost per job (weight 1/8 to the newest batch).
        let per = took / live.len() as f64;
        self.item_nanos = if self.item_nanos == 0.0 { per } else { self.item_nanos + (per - self.item_nanos) / 8.0 };
        c.batches.fetch_add(1, Relaxed);
        c.items.fetch_add(live.len() as u64, Relaxed);
        let bucket = BATCH_BUCKETS.iter().position(|b| live.len() <= *b).unwrap_or(BATCH_BUCKETS.len());
        c.sizes[bucket].fetch_add(1, Relaxed);
        match out {
            Ok(vecs) if vecs.len() == live.len() => {
                for (j, v) in live.into_iter().zip(vecs) {
                    let _ = j.reply.send(Ok(v));
                }
            }
            Ok(vecs) => {
                let e = Error::Run(format!("model returned {} vectors for {} texts", vecs.len(), live.len()));
                self.fail(live, &e);
            }
            Err(e) => self.fail(live, &e),
        }
    }

    fn fail(&self, jobs: Vec<Job>, e: &Error) {
        tracing::warn!(error = %e, jobs = jobs.len(), "inference batch failed");
        self.shared.counters.failed.fetch_add(jobs.len() as u64, Relaxed);
        for j in jobs {
            let _ = j.reply.send(Err(e.clone()));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    /// A fake model: the vector is [text length, batch size, call number]; it sleeps `delay`
    /// per batch and records batch sizes.
    struct Fake {
        delay: Duration,
        calls: Arc<Mutex<Vec<usize>>>,
    }

    impl Embedder for Fake {
        fn embed(&mut self, texts: &[&str]) -> Result<Vec<Vec<f32>>, Error> {
            std::thread::sleep(self.delay);
            let mut calls = self.calls.lock().unwrap();
            calls.push(texts.len());
            let n = calls.len() as f32;
            Ok(texts.iter().map(|t| vec![t.len() as f32, texts.len() as f32, n]).collect())
        }
        fn dim(&self) -> usize {
            3
        }
    }

    fn start(workers: usize, delay: Duration, cfg: Config) -> (Batcher, Arc<Mutex<Vec<usize>>>) {
        let calls = Arc::new(Mutex::new(Vec::new()));
        let models: Vec<Box<dyn Embedder>> =
            (0..workers).map(|_| Box::new(Fake { delay, calls: calls.clone() }) as Box<dyn Embedder>).collect();
        (Batcher::start(&cfg, models).unwrap(), calls)
    }

    fn far() -> Instant {
        Instant::now() + Duration::from_secs(30)
    }

    /// Wait for a reply answered from a worker thread.
    fn wait(rx: oneshot::Receiver<Reply>) -> Reply {
        futures_executor::block_on(rx).unwrap_or(Err(Error::ShuttingDown))
    }

    #[test]
    fn every_reply_goes_to_its_own_asker_and_batches_form() {
        let cfg = Config { max_batch: 8, max_wait: Duration::from_millis(20), ..Config::default() };
        let (b, calls) = start(1, Duration::from_millis(5), cfg);
        let h = b.handle();
        let rxs: Vec<_> = (0..40).map(|i| h.submit("x".repeat(i + 1), far()).unwrap()).collect();
        for (i, rx) in rxs.into_iter().enumerate() {
            let v = wait(rx).unwrap();
            assert_eq!(v[0] as usize, i + 1, "job {i} got another job's answer");
        }
        let sizes = calls.lock().unwrap().clone();
        assert_eq!(sizes.iter().sum::<usize>(), 40);
        assert!(sizes.iter().all(|s| *s <= 8), "{sizes:?}");
        assert!(sizes.len() <= 10, "jobs queued together should share runs: {sizes:?}");
        let st = h.stats();
        assert_eq!((st.submitted, st.items, st.batches as usize), (40, 40, sizes.len()));
        b.shutdown();
    }

    #[test]
    fn a_lone_job_waits_at_most_max_wait() {
        let cfg = Config { max_batch: 32, max_wait: Duration::from_millis(30), ..Config::default() };
        let (b, calls) = start(1, Duration::ZERO, cfg);
        let t0 = Instant::now();
        let v = wait(b.handle().submit("abc", far()).unwrap()).unwrap();
        let took = t0.elapsed();
        assert_eq!(v[0], 3.0);
        assert!(took >= Duration::from_millis(30), "ran before max_wait: {took:?}");
        assert_eq!(*calls.lock().unwrap(), vec![1]);
        b.shutdown();
    }

    #[test]
    fn full_queue_is_overloaded() {
        let cfg = Config { max_batch: 1, max_wait: Duration::ZERO, queue: 2, ..Config::default() };
        let (b, _) = start(1, Duration::from_millis(200), cfg);
        let h = b.handle();
        let first = h.submit("a", far()).unwrap();
        std::thread::sleep(Duration::from_millis(50)); // the worker takes it and sleeps
        let q1 = h.submit("b", far()).unwrap();
        let q2 = h.submit("c", far()).unwrap();
        assert!(matches!(h.submit("d", far()), Err(Error::Overloaded)));
        assert_eq!(h.stats().overloaded, 1);
        for rx in [first, q1, q2] {
            assert!(wait(rx).is_ok());
        }
        b.shutdown();
    }

    #[test]
    fn jobs_past_their_deadline_are_not_run() {
        let cfg = Config { max_batch: 1, max_wait: Duration::ZERO, ..Config::default() };
        let (b, calls) = start(1, Duration::from_millis(150), cfg);
        let h = b.handle();
        let slow = h.submit("slow", far()).unwrap();
        std::thread::sleep(Duration::from_millis(20));
        let late = h.submit("late", Instant::now() + Duration::from_millis(50)).unwrap();
        assert!(wait(slow).is_ok());
        assert!(matches!(wait(late), Err(Error::Deadline)));
        assert_eq!(h.stats().expired, 1);
        assert_eq!(*calls.lock().unwrap(), vec![1], "the expired job must not reach the model");
        b.shutdown();
    }

    #[test]
    fn jobs_that_cannot_finish_in_time_are_not_run() {
        let cfg = Config { max_batch: 1, max_wait: Duration::ZERO, ..Config::default() };
        let (b, calls) = start(1, Duration::from_millis(150), cfg);
        let h = b.handle();
        assert!(wait(h.submit("warm", far()).unwrap()).is_ok()); // the worker learns: 150 ms a job
        let hopeless = h.submit("hopeless", Instant::now() + Duration::from_millis(100)).unwrap();
        assert!(matches!(wait(hopeless), Err(Error::Deadline)));
        assert_eq!(*calls.lock().unwrap(), vec![1], "a job that cannot finish must not reach the model");
        b.shutdown();
    }

    #[test]
    fn shutdown_runs_what_is_queued_and_refuses_more() {
        let cfg = Config { max_batch: 4, max_wait: Duration::ZERO, ..Config::default() };
        let (b, calls) = start(2, Duration::from_millis(30), cfg);
        let h = b.handle();
        let rxs: Vec<_> = (0..20).map(|i| h.submit(format!("job{i}"), far()).unwrap()).collect();
        b.shutdown();
        assert!(matches!(h.submit("after", far()), Err(Error::ShuttingDown)));
        for rx in rxs {
            assert!(wait(rx).is_ok(), "a queued job was dropped at shutdown");
        }
        assert_eq!(calls.lock().unwrap().iter().sum::<usize>(), 20);
    }

    #[test]
    fn abandoned_jobs_are_skipped() {
        let cfg = Config { max_batch: 1, max_wait: Duration::ZERO, ..Config::default() };
        let (b, calls) = start(1, Duration::from_millis(80), cfg);
        let h = b.handle();
        let keep = h.submit("keep", far()).unwrap();
        std::thread::sleep(Duration::from_millis(20));
        drop(h.submit("gone", far()).unwrap());
        let last = h.submit("last", far()).unwrap();
        assert!(wait(keep).is_ok() && wait(last).is_ok());
        assert_eq!(h.stats().cancelled, 1);
        assert_eq!(calls.lock().unwrap().len(), 2);
        b.shutdown();
    }
}
