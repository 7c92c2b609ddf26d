//! Test support: run the real `hypercube` binary on a loopback port and talk raw HTTP to it.
#![allow(dead_code, unreachable_pub)]
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

pub struct Server {
    pub child: Child,
    pub addr: SocketAddr,
    pub log: mpsc::Receiver<String>,
    /// Log lines printed before the "listening" line.
    pub startup: Vec<String>,
}

impl Server {
    /// Start `hypercube serve` on 127.0.0.1 (port 0 unless `extra` sets --listen) and wait
    /// until it logs that it listens.
    pub fn start(extra: &[&str]) -> Self {
        let mut args = vec!["serve", "--log-format", "json", "--log", "info"];
        if !extra.contains(&"--listen") {
            args.extend(["--listen", "127.0.0.1:0"]);
        }
        args.extend(extra);
        #[allow(clippy::zombie_processes)] // waited for in Drop
        let mut child = Command::new(env!("CARGO_BIN_EXE_hypercube"))
            .args(&args)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn hypercube");
        let stderr = child.stderr.take().unwrap();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let deadline = Instant::now() + Duration::from_secs(20);
        let mut seen = Vec::new();
        loop {
            let line = rx
                .recv_timeout(deadline.saturating_duration_since(Instant::now()))
                .unwrap_or_else(|_| panic!("server did not start; log so far:\n{}", seen.join("\n")));
            if line.contains("\"listening\"") {
                let addr = json_field(&line, "addr").expect("addr in listening line");
                return Self { child, addr: addr.parse().unwrap(), log: rx, startup: seen };
            }
            seen.push(line);
        }
    }

    /// Log lines so far (drains the channel).
    pub fn drain_log(&self) -> Vec<String> {
        self.log.try_iter().collect()
    }

    pub fn signal(&self, sig: i32) {
        // SAFETY: kill(2) on our own child's pid with a valid signal number.
        unsafe {
            libc::kill(self.child.id() as i32, sig);
        }
    }

    /// Wait for exit up to `within`; returns the exit code (None if still running).
    pub fn wait_exit(&mut self, within: Duration) -> Option<i32> {
        let end = Instant::now() + within;
        while Instant::now() < end {
            if let Ok(Some(st)) = self.child.try_wait() {
                return st.code();
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        None
    }

    pub fn connect(&self) -> TcpStream {
        let s = TcpStream::connect(self.addr).expect("connect");
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        s.set_nodelay(true).unwrap();
        s
    }

    /// Send raw bytes on a new connection, half-close, and read everything until EOF.
    pub fn exchange(&self, raw: &[u8]) -> Vec<u8> {
        let mut s = self.connect();
        s.write_all(raw).unwrap();
        let _ = s.shutdown(std::net::Shutdown::Write);
        let mut out = Vec::new();
        let _ = s.read_to_end(&mut out);
        out
    }

    /// One request on a new connection with `Connection: close`; returns the response.
    pub fn request(&self, method: &str, target: &str, body: Option<&str>) -> Response {
        let body = body.unwrap_or("");
        let raw = format!(
            "{method} {target} HTTP/1.1\r\nHost: t\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        );
        let out = self.exchange(raw.as_bytes());
        let mut rs = parse_responses(&out, method == "HEAD");
        assert_eq!(rs.len(), 1, "one response expected, got {:?}", String::from_utf8_lossy(&out));
        rs.remove(0)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A string field from a flat JSON log line.
pub fn json_field(line: &str, key: &str) -> Option<String> {
    let pat = format!("\"{key}\":\"");
    let start = line.find(&pat)? + pat.len();
    let end = line[start..].find('"')? + start;
    Some(line[start..end].to_string())
}

#[derive(Debug, Clone)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Response {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// Parse back-to-back responses (Content-Length framed; 1xx skipped). Stops at a truncated one.
pub fn parse_responses(mut buf: &[u8], head_only: bool) -> Vec<Response> {
    let mut out = Vec::new();
    while let Some(end) = find(buf, b"\r\n\r\n") {
        let head = std::str::from_utf8(&buf[..end]).expect("utf8 head");
        let mut lines = head.split("\r\n");
        let status_line = lines.next().unwrap();
        let status: u16 = status_line.split(' ').nth(1).unwrap().parse().unwrap();
        let headers: Vec<(String, String)> = lines
            .map(|l| {
                let (k, v) = l.split_once(':').unwrap();
                (k.trim().to_string(), v.trim().to_string())
            })
            .collect();
        let rest = &buf[end + 4..];
        if (100..200).contains(&status) {
            buf = rest;
            continue;
        }
        let len: usize =
            headers.iter().find(|(k, _)| k.eq_ignore_ascii_case("content-length")).map(|(_, v)| v.parse().unwrap()).unwrap_or(0);
        let len = if head_only { 0 } else { len };
        if rest.len() < len {
            break;
        }
        out.push(Response { status, headers, body: rest[..len].to_vec() });
        buf = &rest[len..];
    }
    out
}

pub fn find(h: &[u8], n: &[u8]) -> Option<usize> {
    h.windows(n.len()).position(|w| w == n)
}
