//! Fixed-rate (open-loop) scheduling and coordinated-omission correction, sans-IO.
//!
//! The run's global schedule sends request `n` at `n / rate` seconds after the start; connection
//! `i` of `conns` owns requests `i, i + conns, i + 2·conns, …`. A connection sends its next request
//! when that is due or, if it is still waiting for the previous answer, as soon as the answer
//! comes. Latency is measured from the *scheduled* time (like wrk2), so a stalled server is charged
//! for every request it kept the client from sending; the uncorrected figure (from the actual
//! send) is kept beside it to show the difference. Times are nanoseconds since the run's start,
//! handed in by the caller: nothing here reads a clock.

/// One connection's share of a fixed-rate schedule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Schedule {
    /// Requests per second over the whole run (all connections).
    pub rate: u64,
    /// Connections sharing the rate.
    pub conns: u64,
    /// This connection's index, `0..conns`.
    pub index: u64,
}

impl Schedule {
    /// Connection `index` of `conns` sharing `rate` requests per second (`rate` ≥ 1).
    pub fn new(rate: u64, conns: u64, index: u64) -> Self {
        Self { rate: rate.max(1), conns: conns.max(1), index }
    }

    /// When this connection's `k`-th request (from 0) is due, in ns since the start. Exact integer
    /// arithmetic, so the schedule never drifts however long the run.
    pub fn due(&self, k: u64) -> u64 {
        let n = u128::from(self.index) + u128::from(k) * u128::from(self.conns);
        (n * 1_000_000_000 / u128::from(self.rate)) as u64
    }
}

/// When connection `i` opens after the start, at `ramp` connections per second over the whole
/// run (`None`, or a rate that is not positive: at the start). In open loop the connection's
/// share of the rate counts from then, so the offered rate ramps up with the connections.
pub fn ramp_offset(ramp: Option<f64>, i: usize) -> std::time::Duration {
    match ramp {
        Some(r) if r > 0.0 => std::time::Duration::from_secs_f64(i as f64 / r),
        _ => std::time::Duration::ZERO,
    }
}

/// One latency sample, in ns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sample {
    /// From the scheduled send time (closed loop: from the actual send) to the full response.
    pub corrected: u64,
    /// From the actual send to the full response.
    pub uncorrected: u64,
}

/// A connection's pacing state in open loop: what is due next and what is in flight.
#[derive(Debug, Clone)]
pub struct Pacer {
    sched: Schedule,
    k: u64,
    in_flight: Option<(u64, u64)>,
}

impl Pacer {
    pub fn new(sched: Schedule) -> Self {
        Self { sched, k: 0, in_flight: None }
    }

    /// When the next request should leave (ns since start). It may already be in the past.
    pub fn next_due(&self) -> u64 {
        self.sched.due(self.k)
    }

    /// Requests sent so far.
    pub fn sent(&self) -> u64 {
        self.k
    }

    /// The next request leaves at `now` (the caller waited until `now >= next_due()`, or later
    /// because the previous answer was late).
    pub fn on_send(&mut self, now: u64) {
        self.in_flight = Some((self.next_due(), now));
        self.k += 1;
    }

    /// Its answer is complete at `now`. `None` if nothing was in flight.
    pub fn on_response(&mut self, now: u64) -> Option<Sample> {
        let (due, sent) = self.in_flight.take()?;
        Some(Sample { corrected: now.saturating_sub(due), uncorrected: now.saturating_sub(sent) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schedule_interleaves_connections_and_does_not_drift() {
        let conns = 7;
        let rate = 3_000;
        let mut all: Vec<u64> = (0..conns)
            .flat_map(|i| {
                let s = Schedule::new(rate, conns, i);
                (0..1000).map(move |k| s.due(k))
            })
            .collect();
        all.sort_unstable();
        // The union of all connections' schedules is the global schedule n / rate.
        for (n, t) in all.iter().enumerate() {
            assert_eq!(*t, (n as u128 * 1_000_000_000 / rate as u128) as u64);
        }
        // A billion requests later the schedule is still exact.
        let s = Schedule::new(rate, 1, 0);
        assert_eq!(s.due(3_000 * 1_000_000), 1_000_000 * 1_000_000_000);
    }

    /// Drive a pacer against a simulated server with a fixed service time and one stall, with a
    /// simulated clock, and check both latencies against hand-computed values.
    fn simulate(rate: u64, service: u64, stall_at: u64, stall: u64, n: u64) -> Vec<Sample> {
        let mut p = Pacer::new(Schedule::new(rate, 1, 0));
        let mut now = 0u64;
        let mut out = Vec::new();
        while p.sent() < n {
            now = now.max(p.next_due()); // sleep until due (or send late at once)
            let k = p.sent();
            p.on_send(now);
            now += service + if k == stall_at { stall } else { 0 };
            out.push(p.on_response(now).unwrap());
        }
        out
    }

    #[test]
    fn below_capacity_latency_is_the_service_time() {
        // 1000 rps = 1 ms interval, 100 µs service: never late.
        for s in simulate(1000, 100_000, u64::MAX, 0, 100) {
            assert_eq!(s, Sample { corrected: 100_000, uncorrected: 100_000 });
        }
    }

    #[test]
    fn a_stall_is_charged_to_every_request_it_delayed() {
        // 1 ms interval, 100 µs service; request 10 stalls for 50 ms.
        let v = simulate(1000, 100_000, 10, 50_000_000, 100);
        assert_eq!(v[10].corrected, 50_100_000);
        // Request 11 was due at 11 ms but leaves at 60.1 ms: corrected 49.2 ms, uncorrected only
        // the 100 µs service time — the coordinated omission that the correction removes.
        assert_eq!(v[11], Sample { corrected: 60_200_000 - 11_000_000, uncorrected: 100_000 });
        // The backlog drains by 0.9 ms per request; every delayed request counts its wait.
        for k in 11..=64 {
            let done = 60_100_000 + (k - 10) * 100_000;
            assert_eq!(v[k as usize].corrected, done - k * 1_000_000, "k={k}");
        }
        // After the backlog is gone, latency is back to the service time.
        assert_eq!(v[70].corrected, 100_000);
        // Uncorrected latency never sees more than the one stalled request.
        assert_eq!(v.iter().filter(|s| s.uncorrected > 100_000).count(), 1);
    }

    #[test]
    fn past_capacity_latency_grows_without_bound() {
        // Asked for 2000 rps from a server that does 1000: corrected latency grows linearly.
        let v = simulate(2000, 1_000_000, u64::MAX, 0, 1000);
        for w in v.windows(2) {
            assert!(w[1].corrected > w[0].corrected);
            assert_eq!(w[1].uncorrected, 1_000_000);
        }
        assert_eq!(v[999].corrected, 1000 * 1_000_000 - 999 * 500_000);
    }

    #[test]
    fn ramp_spaces_connections() {
        use std::time::Duration;
        assert_eq!(ramp_offset(None, 7), Duration::ZERO);
        assert_eq!(ramp_offset(Some(100.0), 0), Duration::ZERO);
        assert_eq!(ramp_offset(Some(100.0), 250), Duration::from_millis(2500));
        assert_eq!(ramp_offset(Some(0.0), 9), Duration::ZERO);
    }

    #[test]
    fn response_without_send_is_ignored() {
        let mut p = Pacer::new(Schedule::new(10, 1, 0));
        assert_eq!(p.on_response(5), None);
    }
}
