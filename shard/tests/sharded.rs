//! End-to-end tests of the shard runtime: real threads, real monoio runtimes.
use futures_executor::block_on;
use shard::{Builder, Driver, DriverKind, Placement, ShardError, Sharded};
use std::cell::Cell;
use std::time::Duration;

struct State {
    id: usize,
    hits: Cell<u64>,
}

fn start(n: usize, driver: Driver) -> Sharded<State> {
    Builder::new()
        .shards(n)
        .placement(Placement::Unpinned)
        .driver(driver)
        .start(|ctx| Ok(State { id: ctx.id, hits: Cell::new(0) }), |_state, ctx| async move { ctx.stop.stopped().await })
        .expect("start")
}

#[test]
fn invoke_broadcast_map_reduce_stop() {
    let sh = start(3, Driver::Auto);
    assert_eq!(sh.len(), 3);
    for i in 0..3 {
        let id = block_on(sh.invoke_on(i, |s: &State| s.id)).unwrap();
        assert_eq!(id, i);
    }
    assert!(sh.broadcast(|s: &State| s.hits.set(s.hits.get() + 10)).is_empty());
    let total = block_on(sh.map_reduce(|s: &State| s.hits.get(), 0u64, |a, b| a + b)).unwrap();
    assert_eq!(total, 30);
    let ids = block_on(sh.map_reduce(
        |s: &State| s.id,
        Vec::new(),
        |mut v, id| {
            v.push(id);
            v
        },
    ))
    .unwrap();
    assert_eq!(ids, vec![0, 1, 2]);
    assert_eq!(block_on(sh.invoke_on(7, |s: &State| s.id)), Err(ShardError::NoSuchShard(7)));
    sh.stop();
    assert_eq!(sh.join(), 0);
    assert_eq!(block_on(sh.invoke_on(0, |s: &State| s.id)), Err(ShardError::Stopped(0)));
}

#[test]
fn shards_message_each_other() {
    // Shard 0 asks shard 1 for its id from inside its own run loop.
    let sh = Builder::new()
        .shards(2)
        .placement(Placement::Unpinned)
        .start(
            |ctx| Ok(State { id: ctx.id, hits: Cell::new(0) }),
            |_s, ctx| async move {
                if ctx.id == 0 {
                    let other = ctx.sharded.invoke_on(1, |s: &State| s.id * 100).await.unwrap();
                    let me = ctx.sharded.invoke_on(0, |s: &State| s.id + 7).await.unwrap();
                    ctx.sharded.send_to(1, move |s: &State| s.hits.set(other as u64 + me as u64)).unwrap();
                }
                ctx.stop.stopped().await
            },
        )
        .unwrap();
    let mut seen = 0;
    for _ in 0..100 {
        seen = block_on(sh.invoke_on(1, |s: &State| s.hits.get())).unwrap();
        if seen != 0 {
            break;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    assert_eq!(seen, 107);
    sh.stop();
    sh.join();
}

#[test]
fn epoll_forced_and_uring_fallback() {
    let sh = start(2, Driver::Epoll);
    assert_eq!(sh.drivers(), vec![Some(DriverKind::Epoll); 2]);
    sh.stop();
    sh.join();

    // 65536 entries is above the kernel's io_uring maximum (32768): ring setup is refused, and
    // Auto must fall back to epoll while IoUring must fail.
    let fallback = Builder::new()
        .shards(1)
        .placement(Placement::Unpinned)
        .ring_entries(65536)
        .start(|ctx| Ok(State { id: ctx.id, hits: Cell::new(0) }), |_s, ctx| async move { ctx.stop.stopped().await })
        .unwrap();
    assert_eq!(fallback.drivers(), vec![Some(DriverKind::Epoll)]);
    fallback.stop();
    fallback.join();
    let strict = Builder::new()
        .shards(1)
        .placement(Placement::Unpinned)
        .driver(Driver::IoUring)
        .ring_entries(65536)
        .start(|ctx| Ok(State { id: ctx.id, hits: Cell::new(0) }), |_s, ctx| async move { ctx.stop.stopped().await });
    assert!(strict.is_err());
}

#[test]
fn init_error_is_returned() {
    let r = Builder::new().shards(2).placement(Placement::Unpinned).start(
        |ctx| if ctx.id == 1 { Err(std::io::Error::other("boom")) } else { Ok(State { id: 0, hits: Cell::new(0) }) },
        |_s, ctx| async move { ctx.stop.stopped().await },
    );
    assert!(r.is_err());
}

#[test]
fn default_uses_io_uring_pinned() {
    let sh = Builder::new()
        .start(|ctx| Ok(State { id: ctx.cpu.unwrap_or(usize::MAX), hits: Cell::new(0) }), |_s, ctx| async move { ctx.stop.stopped().await })
        .unwrap();
    assert_eq!(sh.len(), shard::cpus::allowed().len());
    assert!(sh.drivers().iter().all(|d| *d == Some(DriverKind::IoUring)), "{:?}", sh.drivers());
    let cpus = block_on(sh.map_reduce(
        |s: &State| s.id,
        Vec::new(),
        |mut v, c| {
            v.push(c);
            v
        },
    ))
    .unwrap();
    assert_eq!(cpus, shard::cpus::allowed());
    sh.stop();
    sh.join();
}
