//! LEAF: one shard's publish/subscribe registry: a slot per local WebSocket connection (waker,
//! deadline, bounded push queue), topic → subscribers, and the shard's sweeper.
//!
//! Nothing here is shared between threads. A publish on another shard arrives as a shard message
//! (`Sharded::map_reduce`) and is delivered here to local subscribers only; there is no lock.
//! Connections own no timer: the sweeper ([`Hub::sweep_until`], a per-shard service started with
//! the shard) wakes the ones whose protocol deadline passed, so an idle connection costs one slot,
//! one task and one pending poll. Imports nothing of this crate; runtime calls go through
//! `shard::rt`.
use bytes::Bytes;
use std::cell::{Cell, RefCell};
use std::collections::{HashMap, HashSet, VecDeque};
use std::rc::Rc;
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

/// Longest topic name.
const MAX_TOPIC_LEN: usize = 64;

/// A valid topic name: 1–64 of `[A-Za-z0-9._:-]`.
pub(crate) fn valid_topic(t: &str) -> bool {
    !t.is_empty() && t.len() <= MAX_TOPIC_LEN && t.bytes().all(|b| b.is_ascii_alphanumeric() || b"._:-".contains(&b))
}

/// A connection's index in its shard's slot table.
pub(crate) type ConnId = u32;

/// Bytes counted per queued message on top of its payload (queue entry + frame header).
const MSG_OVERHEAD: usize = 48;
/// How often the sweeper looks for passed deadlines.
const TICK: Duration = Duration::from_millis(100);

#[derive(Default)]
struct Slot {
    live: bool,
    /// Something happened: pushes queued, a deadline passed, the shard is stopping.
    notified: bool,
    overflow: bool,
    waker: Option<Waker>,
    deadline: Option<Instant>,
    queue: VecDeque<Bytes>,
    /// Bytes in `queue` plus bytes the connection has not written yet.
    pending: usize,
    topics: Vec<Rc<str>>,
    /// Which registration holds the slot, so a late reply never reaches the slot's next owner.
    serial: u32,
}

/// Slots in fixed chunks of [`CHUNK`]: growing never copies or doubles one large buffer
/// (a `Vec<Slot>` would hold up to twice the slots it needs, plus the buffer it grew from).
#[derive(Default)]
struct Slots {
    chunks: Vec<Vec<Slot>>,
    len: usize,
}

const CHUNK: usize = 1024;

impl Slots {
    fn get_mut(&mut self, id: usize) -> Option<&mut Slot> {
        self.chunks.get_mut(id / CHUNK)?.get_mut(id % CHUNK)
    }

    fn push(&mut self, slot: Slot) -> usize {
        if self.chunks.last().is_none_or(|c| c.len() == CHUNK) {
            self.chunks.push(Vec::with_capacity(CHUNK));
        }
        if let Some(c) = self.chunks.last_mut() {
            c.push(slot);
        }
        self.len += 1;
        self.len - 1
    }

    fn iter_mut(&mut self) -> impl Iterator<Item = &mut Slot> {
        self.chunks.iter_mut().flatten()
    }
}

/// Per-shard WebSocket state.
#[derive(Default)]
pub(crate) struct Hub {
    slots: RefCell<Slots>,
    free: RefCell<Vec<ConnId>>,
    topics: RefCell<HashMap<Rc<str>, HashSet<ConnId>>>,
    /// Live registrations.
    open: Cell<u64>,
    closing: Cell<bool>,
    next_serial: Cell<u32>,
}

/// Why a subscribe was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SubError {
    TooMany,
}

impl Hub {
    /// A new connection's slot.
    pub(crate) fn register(&self) -> ConnId {
        let mut slots = self.slots.borrow_mut();
        let id = match self.free.borrow_mut().pop() {
            Some(id) => id,
            None => slots.push(Slot::default()) as ConnId,
        };
        if let Some(s) = slots.get_mut(id as usize) {
            let serial = self.next_serial.get().wrapping_add(1);
            self.next_serial.set(serial);
            *s = Slot { live: true, notified: self.closing.get(), serial, ..Slot::default() };
        }
        self.open.set(self.open.get() + 1);
        id
    }

    /// The connection is gone: leave its topics, free its slot.
    pub(crate) fn unregister(&self, id: ConnId) {
        let topics = {
            let mut slots = self.slots.borrow_mut();
            let Some(s) = slots.get_mut(id as usize) else { return };
            let topics = std::mem::take(&mut s.topics);
            *s = Slot::default();
            topics
        };
        let mut map = self.topics.borrow_mut();
        for t in topics {
            if let Some(set) = map.get_mut(&t) {
                set.remove(&id);
                if set.is_empty() {
                    map.remove(&t);
                }
            }
        }
        self.free.borrow_mut().push(id);
        self.open.set(self.open.get().saturating_sub(1));
    }

    /// Resolves when the connection has something to do (see [`Slot::notified`]).
    /// Ready (once) when the connection has something to do; otherwise keeps `cx`'s waker.
    pub(crate) fn poll_notified(&self, id: ConnId, cx: &mut Context<'_>) -> Poll<()> {
        let mut slots = self.slots.borrow_mut();
        let Some(s) = slots.get_mut(id as usize) else { return Poll::Ready(()) };
        if std::mem::take(&mut s.notified) {
            return Poll::Ready(());
        }
        match &s.waker {
            Some(w) if w.will_wake(cx.waker()) => {}
            _ => s.waker = Some(cx.waker().clone()),
        }
        Poll::Pending
    }

    fn wake(s: &mut Slot, wakers: &mut Vec<Waker>) {
        s.notified = true;
        if let Some(w) = s.waker.take() {
            wakers.push(w);
        }
    }

    /// The connection's protocol deadline, for the sweeper.
    pub(crate) fn set_deadline(&self, id: ConnId, d: Option<Instant>) {
        if let Some(s) = self.slots.borrow_mut().get_mut(id as usize) {
            s.deadline = d;
        }
    }

    /// Take the queued pushes and whether the bound was crossed; `unsent` is what the
    /// connection still has to write (it counts against the same bound).
    pub(crate) fn take_pushes(&self, id: ConnId, unsent: usize) -> (VecDeque<Bytes>, bool) {
        let mut slots = self.slots.borrow_mut();
        let Some(s) = slots.get_mut(id as usize) else { return (VecDeque::new(), false) };
        s.pending = unsent;
        (std::mem::take(&mut s.queue), s.overflow)
    }

    /// Update what the connection has not written yet (after a write).
    pub(crate) fn set_unsent(&self, id: ConnId, unsent: usize) {
        if let Some(s) = self.slots.borrow_mut().get_mut(id as usize) {
            s.pending = s.queue.iter().map(|b| b.len() + MSG_OVERHEAD).sum::<usize>() + unsent;
        }
    }

    /// Queue `msg` for one connection; past `bound` pending bytes the connection is flagged
    /// for a backpressure close instead. Returns whether it was queued.
    fn push(s: &mut Slot, msg: &Bytes, bound: usize, wakers: &mut Vec<Waker>) -> bool {
        if !s.live || s.overflow {
            return false;
        }
        let cost = msg.len() + MSG_OVERHEAD;
        if s.pending + cost > bound {
            s.overflow = true;
            s.queue = VecDeque::new();
        } else {
            s.pending += cost;
            s.queue.push_back(msg.clone());
        }
        Self::wake(s, wakers);
        !s.overflow
    }

    /// Queue `msg` for `id` only (e.g. the daily snapshot on subscribe).
    pub(crate) fn push_to(&self, id: ConnId, msg: &Bytes, bound: usize) {
        let mut wakers = Vec::new();
        if let Some(s) = self.slots.borrow_mut().get_mut(id as usize) {
            Self::push(s, msg, bound, &mut wakers);
        }
        wakers.into_iter().for_each(Waker::wake);
    }

    /// The registration serial of `id` (see [`Self::push_to_serial`]).
    pub(crate) fn serial(&self, id: ConnId) -> u32 {
        self.slots.borrow_mut().get_mut(id as usize).map_or(0, |s| s.serial)
    }

    /// Queue `msg` for `id` if the slot still belongs to the registration `serial` (a reply
    /// computed after an await: the asker may have gone and its slot been reused).
    pub(crate) fn push_to_serial(&self, id: ConnId, serial: u32, msg: &Bytes, bound: usize) {
        let mut wakers = Vec::new();
        if let Some(s) = self.slots.borrow_mut().get_mut(id as usize).filter(|s| s.live && s.serial == serial) {
            Self::push(s, msg, bound, &mut wakers);
        }
        wakers.into_iter().for_each(Waker::wake);
    }

    /// Deliver `msg` to this shard's subscribers of `topic`. Returns how many got it.
    pub(crate) fn deliver(&self, topic: &str, msg: &Bytes, bound: usize) -> u64 {
        let mut wakers = Vec::new();
        let mut n = 0;
        {
            let map = self.topics.borrow();
            let Some(set) = map.get(topic) else { return 0 };
            let mut slots = self.slots.borrow_mut();
            for id in set {
                if let Some(s) = slots.get_mut(*id as usize) {
                    n += u64::from(Self::push(s, msg, bound, &mut wakers));
                }
            }
        }
        wakers.into_iter().for_each(Waker::wake);
        n
    }

    /// Subscribe `id` to `topic` (idempotent), at most `max` topics per connection.
    pub(crate) fn subscribe(&self, id: ConnId, topic: &str, max: usize) -> Result<(), SubError> {
        let mut slots = self.slots.borrow_mut();
        let Some(s) = slots.get_mut(id as usize) else { return Ok(()) };
        if s.topics.iter().any(|t| &**t == topic) {
            return Ok(());
        }
        if s.topics.len() >= max {
            return Err(SubError::TooMany);
        }
        let mut map = self.topics.borrow_mut();
        let key = match map.get_key_value(topic) {
            Some((k, _)) => k.clone(),
            None => Rc::from(topic),
        };
        map.entry(key.clone()).or_default().insert(id);
        s.topics.push(key);
        Ok(())
    }

    /// Unsubscribe `id` from `topic` (a no-op if not subscribed).
    pub(crate) fn unsubscribe(&self, id: ConnId, topic: &str) {
        let mut slots = self.slots.borrow_mut();
        let Some(s) = slots.get_mut(id as usize) else { return };
        s.topics.retain(|t| &**t != topic);
        let mut map = self.topics.borrow_mut();
        if let Some(set) = map.get_mut(topic) {
            set.remove(&id);
            if set.is_empty() {
                map.remove(topic);
            }
        }
    }

    /// Local subscribers of `topic`.
    #[cfg(test)]
    pub(crate) fn subscribers(&self, topic: &str) -> usize {
        self.topics.borrow().get(topic).map_or(0, HashSet::len)
    }

    /// The shard is stopping: every connection closes with 1001.
    pub(crate) fn shutdown(&self) {
        self.closing.set(true);
        let mut wakers = Vec::new();
        for s in self.slots.borrow_mut().iter_mut().filter(|s| s.live) {
            Self::wake(s, &mut wakers);
        }
        wakers.into_iter().for_each(Waker::wake);
    }

    pub(crate) fn is_closing(&self) -> bool {
        self.closing.get()
    }

    /// Wake every connection whose deadline has passed.
    fn sweep(&self, now: Instant) {
        let mut wakers = Vec::new();
        for s in self.slots.borrow_mut().iter_mut() {
            if s.live && s.deadline.is_some_and(|d| d <= now) {
                s.deadline = None;
                Self::wake(s, &mut wakers);
            }
        }
        wakers.into_iter().for_each(Waker::wake);
    }

    /// Live connections.
    pub(crate) fn open(&self) -> u64 {
        self.open.get()
    }

    /// The shard's sweeper: every tick, wake the connections whose deadline passed, until `done`
    /// is raised (after the drain: close timeouts must still fire while connections close).
    pub(crate) async fn sweep_until(&self, done: &shard::stop::Waiter) {
        while !done.is_stopped() {
            let tick = std::pin::pin!(shard::rt::sleep(TICK));
            let stopped = std::pin::pin!(done.stopped());
            if let futures_util::future::Either::Left(_) = futures_util::future::select(tick, stopped).await {
                self.sweep(Instant::now());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounded_queue_flags_overflow_and_drops_the_queue() {
        let hub = Hub::default();
        let (a, b) = (hub.register(), hub.register());
        hub.subscribe(a, "t", 4).unwrap();
        hub.subscribe(b, "t", 4).unwrap();
        let msg = Bytes::from(vec![0u8; 100]);
        for _ in 0..3 {
            assert_eq!(hub.deliver("t", &msg, 1000), 2);
        }
        // `a` drains its queue, `b` does not: only `b` overflows.
        assert_eq!(hub.take_pushes(a, 0).0.len(), 3);
        hub.set_unsent(a, 0);
        for _ in 0..6 {
            hub.deliver("t", &msg, 1000);
            let _ = hub.take_pushes(a, 0);
            hub.set_unsent(a, 0);
        }
        let (qa, oa) = hub.take_pushes(a, 0);
        let (qb, ob) = hub.take_pushes(b, 0);
        assert!(!oa && qa.is_empty());
        assert!(ob && qb.is_empty(), "overflow drops what was queued");
        // Unsent output counts against the bound too.
        let c = hub.register();
        hub.subscribe(c, "t", 4).unwrap();
        hub.set_unsent(c, 950);
        hub.deliver("t", &msg, 1000);
        assert!(hub.take_pushes(c, 950).1);
    }

    #[test]
    fn topic_names() {
        assert!(valid_topic("daily") && valid_topic("room:42.a-b_c"));
        assert!(!valid_topic("") && !valid_topic("a b") && !valid_topic(&"x".repeat(65)) && !valid_topic("é"));
    }

    #[test]
    fn topics_are_left_on_unregister_and_slots_reused() {
        let hub = Hub::default();
        let a = hub.register();
        hub.subscribe(a, "x", 2).unwrap();
        hub.subscribe(a, "x", 2).unwrap();
        hub.subscribe(a, "y", 2).unwrap();
        assert_eq!(hub.subscribe(a, "z", 2), Err(SubError::TooMany));
        assert_eq!(hub.subscribers("x"), 1);
        hub.unsubscribe(a, "y");
        assert_eq!(hub.subscribers("y"), 0);
        hub.unregister(a);
        assert_eq!(hub.subscribers("x"), 0);
        assert_eq!(hub.register(), a, "slot reused");
        assert_eq!(hub.deliver("x", &Bytes::from_static(b"m"), 100), 0, "the new owner is not subscribed");
    }
}
