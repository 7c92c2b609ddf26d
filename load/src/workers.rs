//! Worker processes: run K copies of this binary, each with its share of the work and
//! `--json -`, and collect what they print. Each process has its own RLIMIT_NOFILE and its own
//! client shards, so one machine can hold more connections than one process may.
//!
//! Shared by the scenarios that split over processes (`http`/`mix` and `h3` here; `ws-hold` can
//! move over to it): [`Split`] gives each worker its share, [`Workers`] runs them and sums their
//! progress, [`merge_reports`] adds up their reports. Children's stdout is the JSON report; their stderr lines that start with
//! [`PROGRESS_PREFIX`] are progress (see [`progress_line`]); other stderr lines are passed on.

use crate::http::Tick;
use crate::report::{Report, Stats};
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Worker `j` of `k`'s share of `total` (the first `total % k` get one more; shares add up).
pub fn share(total: u64, k: usize, j: usize) -> u64 {
    let k = k.max(1) as u64;
    total / k + u64::from((j as u64) < total % k)
}

/// What `--workers K` splits: each worker's share of the connections, request cap, rate and ramp.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Split {
    pub workers: usize,
    pub connections: usize,
    pub requests: Option<u64>,
    pub rate: Option<u64>,
    pub ramp: Option<f64>,
}

impl Split {
    /// Every worker needs a connection, and (open loop) a rate of at least one per second.
    pub fn check(&self) -> Result<(), String> {
        let k = self.workers;
        if self.connections < k {
            return Err(format!("--workers {k} needs at least {k} connections"));
        }
        if self.rate.is_some_and(|r| r < k as u64) {
            return Err(format!("--workers {k} needs a rate of at least {k}/s"));
        }
        Ok(())
    }

    /// Worker `j`'s flags for its share (`-c`, `-n`, `-R`, `--ramp`; shares add up to the totals,
    /// the ramp is divided evenly) and worker mode (`-q --progress-lines --json -`).
    pub fn args(&self, j: usize) -> Vec<String> {
        let k = self.workers;
        let w = |total: u64| share(total, k, j).to_string();
        let mut v = vec!["-c".into(), w(self.connections as u64)];
        if let Some(n) = self.requests {
            v.extend(["-n".into(), w(n)]);
        }
        if let Some(r) = self.rate {
            v.extend(["-R".into(), w(r)]);
        }
        if let Some(r) = self.ramp {
            v.extend(["--ramp".into(), (r / k.max(1) as f64).to_string()]);
        }
        v.extend(["-q".into(), "--progress-lines".into(), "--json".into(), "-".into()]);
        v
    }
}

/// Workers' `--json -` reports added up.
#[derive(Debug, Clone)]
pub struct Merged {
    /// Every worker's statistics, histograms added bucket by bucket (exact percentiles).
    pub stats: Stats,
    /// The longest worker's duration.
    pub elapsed: Duration,
    /// Client threads per process.
    pub threads: usize,
}

/// Add up workers' reports (`templates`: the run's number of request templates).
pub fn merge_reports(outs: &[Vec<u8>], templates: usize) -> Result<Merged, String> {
    let mut m = Merged { stats: Stats::for_templates(templates), elapsed: Duration::ZERO, threads: 1 };
    for (j, out) in outs.iter().enumerate() {
        let r: Report = serde_json::from_slice(out).map_err(|e| format!("worker {j} report: {e}"))?;
        m.stats.merge(&Stats::from_report(&r).map_err(|e| format!("worker {j}: {e}"))?);
        m.elapsed = m.elapsed.max(Duration::from_secs_f64(r.duration_s));
        m.threads = r.threads;
    }
    Ok(m)
}

/// Stderr lines a worker writes for its parent's live line: `PREFIX responses errors open`.
pub const PROGRESS_PREFIX: &str = "@progress ";

/// A progress line for the parent.
pub fn progress_line(responses: u64, errors: u64, open: u64) -> String {
    format!("{PROGRESS_PREFIX}{responses} {errors} {open}")
}

/// Running workers, and the latest progress each one reported.
pub struct Workers {
    children: Vec<Child>,
    readers: Vec<JoinHandle<()>>,
    latest: Arc<Mutex<Vec<[u64; 3]>>>,
}

impl Workers {
    /// Start `k` copies of this executable with `args(j)` as worker `j`'s arguments.
    pub fn spawn(k: usize, args: impl Fn(usize) -> Vec<String>) -> Result<Self, String> {
        let exe = std::env::current_exe().map_err(|e| format!("current_exe: {e}"))?;
        let latest = Arc::new(Mutex::new(vec![[0u64; 3]; k]));
        let mut w = Self { children: Vec::with_capacity(k), readers: Vec::new(), latest };
        for j in 0..k {
            let mut c = Command::new(&exe);
            c.args(args(j)).stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
            let mut child = match c.spawn() {
                Ok(c) => c,
                Err(e) => {
                    w.kill();
                    return Err(format!("spawn worker {j}: {e}"));
                }
            };
            let stderr = child.stderr.take().expect("piped stderr");
            let latest = w.latest.clone();
            w.readers.push(std::thread::spawn(move || {
                for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                    match line.strip_prefix(PROGRESS_PREFIX) {
                        Some(rest) => {
                            let v: Vec<u64> = rest.split_whitespace().filter_map(|x| x.parse().ok()).collect();
                            if let ([r, e, o], Ok(mut l)) = (v.as_slice(), latest.lock()) {
                                l[j] = [*r, *e, *o];
                            }
                        }
                        None => eprintln!("worker {j}: {line}"),
                    }
                }
            }));
            w.children.push(child);
        }
        Ok(w)
    }

    /// Sum over workers of their latest `[responses, errors, open connections]`.
    pub fn progress(&self) -> [u64; 3] {
        let l = self.latest.lock().map(|l| l.clone()).unwrap_or_default();
        l.iter().fold([0; 3], |a, b| [a[0] + b[0], a[1] + b[1], a[2] + b[2]])
    }

    /// Until every worker has exited, `on_tick` about once a second with their summed progress;
    /// then [`Workers::wait`].
    pub fn watch(mut self, mut on_tick: impl FnMut(Tick)) -> Result<Vec<Vec<u8>>, String> {
        let t0 = Instant::now();
        let mut next = t0 + Duration::from_secs(1);
        while !self.done() {
            std::thread::sleep(Duration::from_millis(100));
            if Instant::now() >= next {
                next += Duration::from_secs(1);
                let [responses, errors, open] = self.progress();
                on_tick(Tick { elapsed: t0.elapsed(), responses, errors, open });
            }
        }
        self.wait()
    }

    /// Have all exited?
    pub fn done(&mut self) -> bool {
        self.children.iter_mut().all(|c| matches!(c.try_wait(), Ok(Some(_))))
    }

    /// Wait for every worker; each one's stdout, or the first failure.
    pub fn wait(mut self) -> Result<Vec<Vec<u8>>, String> {
        let mut outs = Vec::with_capacity(self.children.len());
        let children = std::mem::take(&mut self.children);
        let mut failed = None;
        for (j, ch) in children.into_iter().enumerate() {
            match ch.wait_with_output() {
                Ok(o) if o.status.success() => outs.push(o.stdout),
                Ok(o) => failed = failed.or(Some(format!("worker {j} failed: {}", o.status))),
                Err(e) => failed = failed.or(Some(format!("worker {j}: {e}"))),
            }
        }
        for r in self.readers.drain(..) {
            let _ = r.join();
        }
        failed.map_or(Ok(outs), Err)
    }

    fn kill(&mut self) {
        for c in &mut self.children {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

impl Drop for Workers {
    fn drop(&mut self) {
        // Only children not yet waited for (after `wait` the list is empty).
        self.kill();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shares_add_up() {
        for total in [0u64, 1, 5, 64, 1001] {
            for k in [1usize, 2, 3, 6] {
                let v: Vec<u64> = (0..k).map(|j| share(total, k, j)).collect();
                assert_eq!(v.iter().sum::<u64>(), total);
                assert!(v.iter().max().unwrap() - v.iter().min().unwrap() <= 1);
            }
        }
    }

    #[test]
    fn split_args_share_everything() {
        let s = Split { workers: 3, connections: 10, requests: Some(100), rate: Some(1000), ramp: Some(300.0) };
        assert!(s.check().is_ok());
        assert_eq!(s.args(0), ["-c", "4", "-n", "34", "-R", "334", "--ramp", "100", "-q", "--progress-lines", "--json", "-"]);
        assert_eq!(s.args(2)[..6], ["-c", "3", "-n", "33", "-R", "333"]);
        let closed = Split { rate: None, requests: None, ramp: None, ..s };
        assert_eq!(closed.args(1), ["-c", "3", "-q", "--progress-lines", "--json", "-"]);
        assert!(Split { connections: 2, ..s }.check().is_err());
        assert!(Split { rate: Some(2), ..s }.check().is_err());
    }

    #[test]
    fn progress_line_parses_back() {
        let l = progress_line(12, 3, 64);
        assert_eq!(l, "@progress 12 3 64");
    }
}
