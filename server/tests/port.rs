//! A second server on a port that is already served: refused unless --share-port says otherwise.
mod common;
use common::Server;
use std::process::{Command, Stdio};

#[test]
fn a_busy_port_is_refused_unless_sharing_is_asked_for() {
    let first = Server::start(&["--shards", "1", "--inference", "false"]);
    let listen = first.addr.to_string();
    let out = Command::new(env!("CARGO_BIN_EXE_hypercube"))
        .args(["serve", "--listen", &listen, "--shards", "1", "--inference", "false", "--log-format", "json"])
        .stdout(Stdio::null())
        .output()
        .expect("run hypercube");
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "second server started on a busy port: {log}");
    assert!(log.contains("already in use") && log.contains("--share-port"), "{log}");

    let second = Server::start(&["--listen", &listen, "--shards", "1", "--inference", "false", "--share-port", "true"]);
    assert_eq!(second.addr, first.addr);
    // Both serve the port now; the kernel spreads new connections over them.
    for _ in 0..20 {
        assert_eq!(first.request("GET", "/healthz", None).status, 200);
    }
}
