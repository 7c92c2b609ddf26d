//! The baseline of `bench/ws-echo`: a WebSocket echo server on tokio-tungstenite, one
//! current-thread runtime (one core), every text/binary message sent straight back. Echoes
//! use `forward`, which flushes only when no further message is ready (as hypercube writes
//! once per read), not one flush per message.
//!   ws-echo-tokio [ADDR=127.0.0.1:18091]
use futures_util::{future, StreamExt, TryStreamExt};

fn main() -> std::io::Result<()> {
    let addr = std::env::args().nth(1).unwrap_or_else(|| "127.0.0.1:18091".into());
    let rt = tokio::runtime::Builder::new_current_thread().enable_io().build()?;
    rt.block_on(async move {
        let listener = tokio::net::TcpListener::bind(&addr).await?;
        loop {
            let (stream, _) = listener.accept().await?;
            let _ = stream.set_nodelay(true);
            tokio::spawn(async move {
                let Ok(ws) = tokio_tungstenite::accept_async(stream).await else { return };
                let (tx, rx) = ws.split();
                let _ = rx.try_filter(|m| future::ready(m.is_text() || m.is_binary())).forward(tx).await;
            });
        }
    })
}
