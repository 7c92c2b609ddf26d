//! WebSocket counters: per-shard cells, a mergeable `Send` snapshot, Prometheus text.
use super::Counter;
use std::cell::Cell;
use std::fmt::Write;

/// Close codes counted individually; anything else is "other".
const CODES: [u16; 12] = [1000, 1001, 1002, 1003, 1005, 1006, 1007, 1008, 1009, 1011, 1013, 0];

fn code_slot(code: u16) -> usize {
    CODES.iter().position(|c| *c == code).unwrap_or(CODES.len() - 1)
}

/// One shard's WebSocket counters.
#[derive(Default)]
pub(crate) struct Counters {
    pub(crate) upgrades: Counter,
    pub(crate) refused: Counter,
    pub(crate) msgs_in: Counter,
    pub(crate) msgs_out: Counter,
    pub(crate) pushes: Counter,
    pub(crate) backpressure: Counter,
    /// [by server, by peer][code slot]
    closes: Cell<[[u64; CODES.len()]; 2]>,
}

impl Counters {
    pub(crate) fn close(&self, code: u16, by_peer: bool) {
        let mut a = self.closes.get();
        a[usize::from(by_peer)][code_slot(code)] += 1;
        self.closes.set(a);
    }

    pub(crate) fn snapshot(&self) -> WsSnapshot {
        WsSnapshot {
            open: 0,
            upgrades: self.upgrades.get(),
            refused: self.refused.get(),
            msgs_in: self.msgs_in.get(),
            msgs_out: self.msgs_out.get(),
            pushes: self.pushes.get(),
            backpressure: self.backpressure.get(),
            closes: self.closes.get(),
        }
    }
}

/// WebSocket counters of one or more shards.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct WsSnapshot {
    pub(crate) open: u64,
    pub(crate) upgrades: u64,
    pub(crate) refused: u64,
    pub(crate) msgs_in: u64,
    pub(crate) msgs_out: u64,
    pub(crate) pushes: u64,
    pub(crate) backpressure: u64,
    closes: [[u64; CODES.len()]; 2],
}

impl WsSnapshot {
    pub(crate) fn merge(&mut self, o: &Self) {
        self.open += o.open;
        self.upgrades += o.upgrades;
        self.refused += o.refused;
        self.msgs_in += o.msgs_in;
        self.msgs_out += o.msgs_out;
        self.pushes += o.pushes;
        self.backpressure += o.backpressure;
        for (a, b) in self.closes.iter_mut().zip(o.closes.iter()) {
            for (x, y) in a.iter_mut().zip(b.iter()) {
                *x += y;
            }
        }
    }

    /// Append the WebSocket metrics (all shards summed).
    pub(crate) fn render(&self, o: &mut String) {
        let one = [
            ("hypercube_ws_connections_open", "gauge", "Open WebSocket connections.", self.open),
            ("hypercube_ws_upgrades_total", "counter", "WebSocket handshakes accepted.", self.upgrades),
            ("hypercube_ws_handshakes_refused_total", "counter", "WebSocket handshakes refused (4xx).", self.refused),
            ("hypercube_ws_messages_received_total", "counter", "WebSocket messages received.", self.msgs_in),
            ("hypercube_ws_messages_sent_total", "counter", "WebSocket messages sent (replies and pushes).", self.msgs_out),
            ("hypercube_ws_pushes_total", "counter", "Topic messages queued to subscribers.", self.pushes),
            (
                "hypercube_ws_backpressure_closes_total",
                "counter",
                "Connections closed (1013) because their send queue passed its bound.",
                self.backpressure,
            ),
        ];
        for (name, kind, help, v) in one {
            let _ = writeln!(o, "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {v}");
        }
        let name = "hypercube_ws_closes_total";
        let _ = writeln!(o, "# HELP {name} WebSocket closes by code and by whom.\n# TYPE {name} counter");
        for (by, row) in ["server", "peer"].iter().zip(self.closes.iter()) {
            for (code, n) in CODES.iter().zip(row.iter()).filter(|(_, n)| **n > 0) {
                let code = if *code == 0 { "other".to_string() } else { code.to_string() };
                let _ = writeln!(o, "{name}{{code=\"{code}\",by=\"{by}\"}} {n}");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn closes_merge_and_render() {
        let (a, b) = (Counters::default(), Counters::default());
        a.close(1000, true);
        b.close(1000, true);
        b.close(1013, false);
        b.close(4000, true);
        let mut s = a.snapshot();
        s.merge(&b.snapshot());
        let mut o = String::new();
        s.render(&mut o);
        assert!(o.contains("hypercube_ws_closes_total{code=\"1000\",by=\"peer\"} 2"), "{o}");
        assert!(o.contains("hypercube_ws_closes_total{code=\"1013\",by=\"server\"} 1"));
        assert!(o.contains("hypercube_ws_closes_total{code=\"other\",by=\"peer\"} 1"));
    }
}
