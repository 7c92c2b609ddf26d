//! Test support: the real `hypercube` binary on a loopback port (shared by e2e.rs and ws_e2e.rs).
#![allow(dead_code, unreachable_pub)]
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// The `hypercube` binary: $HYPERCUBE_BIN, else in this test's target dir (the workspace build
/// puts it there).
pub fn hypercube_bin() -> PathBuf {
    if let Some(p) = std::env::var_os("HYPERCUBE_BIN") {
        return p.into();
    }
    let exe = std::env::current_exe().expect("current_exe");
    let profile_dir = exe.parent().and_then(|d| d.parent()).expect("target/<profile>");
    let target = profile_dir.parent().expect("target dir");
    for bin in [profile_dir.join("hypercube"), target.join("debug/hypercube"), target.join("release/hypercube")] {
        if bin.exists() {
            return bin;
        }
    }
    // Not built here with a nested cargo: this cargo holds the build lock while tests run.
    panic!("no hypercube binary under {}: run `cargo build -p server --bin hypercube` (scripts/test builds the workspace first) or set HYPERCUBE_BIN", target.display());
}

pub struct Server {
    pub child: Child,
    pub addr: SocketAddr,
}

impl Server {
    pub fn start() -> Self {
        #[allow(clippy::zombie_processes)] // killed and waited for in Drop
        let mut child = Command::new(hypercube_bin())
            .args(["serve", "--listen", "127.0.0.1:0", "--shards", "1", "--log-format", "json", "--log", "info"])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn hypercube");
        let stderr = child.stderr.take().unwrap();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let line = rx.recv_timeout(deadline.saturating_duration_since(Instant::now())).expect("hypercube did not start");
            if line.contains("\"listening\"") {
                let i = line.find("\"addr\":\"").expect("addr") + 8;
                let addr = line[i..].split('"').next().unwrap().parse().unwrap();
                return Self { child, addr };
            }
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    /// `hypercube_requests_total` for one route and status, from the server's own /metrics.
    pub fn served(&self, route: &str, status: u16) -> u64 {
        use std::io::{Read, Write};
        let mut c = std::net::TcpStream::connect(self.addr).unwrap();
        c.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
        c.write_all(b"GET /metrics HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n").unwrap();
        let mut text = String::new();
        c.read_to_string(&mut text).unwrap();
        let key = format!("hypercube_requests_total{{route=\"{route}\",status=\"{status}\"}} ");
        text.lines().find_map(|l| l.strip_prefix(&key)).map_or(0, |v| v.trim().parse().unwrap())
    }
}
