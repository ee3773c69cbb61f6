//! The queue from a source's reader thread to its enricher: whole batches handed over under
//! a mutex, with the enricher asleep on a condition variable until one arrives. Unlike a
//! general channel it never spins or yields while empty, which in a storm (a hand-over every
//! few hundred microseconds) cost more CPU than the events themselves.

use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::Duration;

/// The other end has gone.
#[derive(Debug, PartialEq, Eq)]
pub struct Closed;

struct State<T> {
    queue: Vec<T>,
    receiver_waiting: bool,
    closed: bool,
}

struct Shared<T> {
    state: Mutex<State<T>>,
    ready: Condvar,
    capacity: usize,
}

impl<T> Shared<T> {
    fn lock(&self) -> MutexGuard<'_, State<T>> {
        // A panic elsewhere cannot leave a Vec half-moved: the data is still sound.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn close(&self) {
        let mut st = self.lock();
        st.closed = true;
        drop(st);
        self.ready.notify_all();
    }
}

/// A queue holding at most `capacity` items.
pub fn handoff<T>(capacity: usize) -> (Feeder<T>, Drain<T>) {
    let shared = Arc::new(Shared {
        state: Mutex::new(State {
            queue: Vec::new(),
            receiver_waiting: false,
            closed: false,
        }),
        ready: Condvar::new(),
        capacity: capacity.max(1),
    });
    (Feeder(shared.clone()), Drain(shared))
}

/// The sending end (one reader thread).
pub struct Feeder<T>(Arc<Shared<T>>);

impl<T> Feeder<T> {
    /// Moves as many of `items` as there is room for into the queue, oldest first, and
    /// wakes the enricher; what did not fit stays in `items` for the caller to count or
    /// retry.
    pub fn send(&self, items: &mut Vec<T>) -> Result<(), Closed> {
        if items.is_empty() {
            return Ok(());
        }
        let mut st = self.0.lock();
        if st.closed {
            return Err(Closed);
        }
        let room = self.0.capacity.saturating_sub(st.queue.len());
        let take = room.min(items.len());
        if st.queue.is_empty() && take == items.len() {
            std::mem::swap(&mut st.queue, items);
        } else {
            st.queue.extend(items.drain(..take));
        }
        let wake = take > 0 && st.receiver_waiting;
        drop(st);
        if wake {
            self.0.ready.notify_one();
        }
        Ok(())
    }
}

impl<T> Drop for Feeder<T> {
    fn drop(&mut self) {
        self.0.close();
    }
}

/// The receiving end (the enricher).
pub struct Drain<T>(Arc<Shared<T>>);

impl<T> Drain<T> {
    /// Waits up to `timeout` for items and appends everything queued to `into` (which
    /// should be empty, so its allocation is swapped in rather than copied). Returns with
    /// nothing on timeout; `Closed` once the feeder is gone and the queue is empty.
    pub fn take(&self, timeout: Duration, into: &mut Vec<T>) -> Result<(), Closed> {
        let mut st = self.0.lock();
        if st.queue.is_empty() && !st.closed {
            st.receiver_waiting = true;
            st = self
                .0
                .ready
                .wait_timeout_while(st, timeout, |st| st.queue.is_empty() && !st.closed)
                .unwrap_or_else(|e| e.into_inner())
                .0;
            st.receiver_waiting = false;
        }
        if st.queue.is_empty() {
            return if st.closed { Err(Closed) } else { Ok(()) };
        }
        if into.is_empty() {
            std::mem::swap(&mut st.queue, into);
        } else {
            into.append(&mut st.queue);
        }
        Ok(())
    }
}

impl<T> Drop for Drain<T> {
    fn drop(&mut self) {
        self.0.close();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Instant;

    #[test]
    fn items_arrive_in_order_and_what_does_not_fit_stays_with_the_sender() {
        let (tx, rx) = handoff(5);
        let mut items = vec![1, 2, 3];
        tx.send(&mut items).unwrap();
        assert!(items.is_empty());
        let mut more = vec![4, 5, 6, 7];
        tx.send(&mut more).unwrap();
        assert_eq!(more, vec![6, 7], "only two fit");
        let mut got = Vec::new();
        rx.take(Duration::ZERO, &mut got).unwrap();
        assert_eq!(got, vec![1, 2, 3, 4, 5]);
        tx.send(&mut more).unwrap();
        rx.take(Duration::ZERO, &mut got).unwrap();
        assert_eq!(
            got,
            vec![1, 2, 3, 4, 5, 6, 7],
            "appended after what `into` held"
        );
    }

    #[test]
    fn an_empty_queue_times_out_with_nothing() {
        let (_tx, rx) = handoff::<u8>(4);
        let mut got = Vec::new();
        let t = Instant::now();
        rx.take(Duration::from_millis(30), &mut got).unwrap();
        assert!(got.is_empty());
        assert!(t.elapsed() >= Duration::from_millis(30));
    }

    #[test]
    fn a_waiting_receiver_wakes_for_a_batch_from_another_thread() {
        let (tx, rx) = handoff(4);
        let sender = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(20));
            tx.send(&mut vec![9]).unwrap();
            tx // keep the queue open until joined
        });
        let mut got = Vec::new();
        rx.take(Duration::from_secs(10), &mut got).unwrap();
        assert_eq!(got, vec![9]);
        drop(sender.join().unwrap());
    }

    #[test]
    fn closing_either_end_is_seen_by_the_other_once_the_queue_is_empty() {
        let (tx, rx) = handoff(4);
        tx.send(&mut vec![1]).unwrap();
        drop(tx);
        let mut got = Vec::new();
        assert_eq!(rx.take(Duration::from_secs(10), &mut got), Ok(()));
        assert_eq!(got, vec![1], "queued items are still delivered");
        assert_eq!(rx.take(Duration::from_secs(10), &mut got), Err(Closed));

        let (tx, rx) = handoff(4);
        drop(rx);
        assert_eq!(tx.send(&mut vec![1]), Err(Closed));
    }
}
