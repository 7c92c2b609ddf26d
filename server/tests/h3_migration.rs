//! HTTP/3 connections survive the client's address changing (issue 6, steering).
//!
//! A quinn client (on our monoio runtime adapter) keeps one connection to a 2-shard server and
//! moves it to a new UDP socket, i.e. a new source port, before each request, as a NAT rebinding
//! would. The reuseport hash of the new 4-tuple picks either shard; only the connection-ID
//! steering program keeps the packets on the shard that owns the connection. Without it, each
//! move has an even chance of landing on the other shard, which answers with a stateless reset,
//! so the eight moves here would all survive by luck once in 256 runs.
mod common;
use bytes::Buf;
use common::Server;
use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

fn client_config(cert: &Path) -> quinn::ClientConfig {
    use rustls::pki_types::{pem::PemObject, CertificateDer};
    let mut roots = rustls::RootCertStore::empty();
    for c in CertificateDer::pem_file_iter(cert).expect("cert.pem") {
        roots.add(c.expect("certificate")).expect("trust the dev certificate");
    }
    let mut tls = rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_protocol_versions(&[&rustls::version::TLS13])
        .expect("tls 1.3")
        .with_root_certificates(roots)
        .with_no_client_auth();
    tls.alpn_protocols = vec![b"h3".to_vec()];
    let quic = quinn::crypto::rustls::QuicClientConfig::try_from(tls).expect("quic tls");
    quinn::ClientConfig::new(Arc::new(quic))
}

async fn get<T>(send: &mut h3::client::SendRequest<T, bytes::Bytes>, port: u16, path: &str) -> (u16, String)
where
    T: h3::quic::OpenStreams<bytes::Bytes>,
{
    let req = http::Request::get(format!("https://localhost:{port}{path}")).body(()).unwrap();
    let mut stream = send.send_request(req).await.expect("send request");
    stream.finish().await.expect("finish");
    let resp = stream.recv_response().await.expect("response");
    let mut body = Vec::new();
    while let Some(mut chunk) = stream.recv_data().await.expect("body") {
        while chunk.has_remaining() {
            let c = chunk.chunk();
            body.extend_from_slice(c);
            let n = c.len();
            chunk.advance(n);
        }
    }
    (resp.status().as_u16(), String::from_utf8_lossy(&body).into_owned())
}

#[test]
fn a_connection_survives_source_port_changes() {
    let dir = std::env::temp_dir().join(format!("hc-h3-migrate-{}", std::process::id()));
    let made = Command::new(env!("CARGO_BIN_EXE_hypercube")).args(["gen-cert", "--out"]).arg(&dir).output().unwrap();
    assert!(made.status.success(), "{}", String::from_utf8_lossy(&made.stderr));
    let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
    let s = Server::start(&[
        "--shards",
        "2",
        "--h3",
        "true",
        "--inference",
        "false",
        "--tls-cert",
        cert.to_str().unwrap(),
        "--tls-key",
        key.to_str().unwrap(),
    ]);
    let (addr, port) = (s.addr, s.addr.port());
    let cfg = client_config(&cert);
    let mut rt = monoio::RuntimeBuilder::<monoio::FusionDriver>::new().enable_timer().build().expect("monoio runtime");
    rt.block_on(async move {
        // SAFETY: the endpoint, its connection and the h3 handles are made and used only inside
        // this block_on, on this thread, and dropped before it returns.
        let runtime = Arc::new(unsafe { shard::quic::MonoioRuntime::new() });
        let sock = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let mut ep = quinn::Endpoint::new(quinn::EndpointConfig::default(), None, sock, runtime).unwrap();
        ep.set_default_client_config(cfg);
        let conn = ep.connect(addr, "localhost").unwrap().await.expect("handshake");
        let (mut driver, mut send) = h3::client::new(h3_quinn::Connection::new(conn.clone())).await.expect("h3");
        monoio::spawn(async move { std::future::poll_fn(|cx| driver.poll_close(cx)).await });
        let step = Duration::from_secs(5);
        let first = monoio::time::timeout(step, get(&mut send, port, "/healthz")).await.expect("first request in 5 s");
        assert_eq!(first, (200, "ok".to_string()));
        for k in 0..8 {
            let before = ep.local_addr().unwrap();
            ep.rebind(std::net::UdpSocket::bind("127.0.0.1:0").unwrap()).unwrap();
            let r = monoio::time::timeout(step, get(&mut send, port, "/healthz")).await;
            let r = r.unwrap_or_else(|_| panic!("move {k} ({before} → {}): no answer in 5 s", ep.local_addr().unwrap()));
            assert_eq!(r, (200, "ok".to_string()), "move {k}");
        }
        assert!(conn.close_reason().is_none(), "{:?}", conn.close_reason());
        conn.close(0u32.into(), b"done");
        ep.wait_idle().await;
    });
    let _ = std::fs::remove_dir_all(&dir);
}
