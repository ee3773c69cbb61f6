//! Turning the kernel's CLOCK_MONOTONIC event stamps into wall-clock [`Ts`].

use netsnoop_core::Ts;
use nix::time::{ClockId, clock_gettime};

/// The offset between the wall clock and CLOCK_MONOTONIC, taken once at start, so each
/// event keeps the time the kernel saw it even when the reader runs behind.
#[derive(Clone, Copy, Debug)]
pub struct Clock {
    offset_us: i64,
}

fn micros(id: ClockId) -> i64 {
    let t = clock_gettime(id).expect("clock_gettime on a standard clock");
    t.tv_sec() * 1_000_000 + t.tv_nsec() / 1_000
}

impl Clock {
    pub fn new() -> Clock {
        Clock {
            offset_us: micros(ClockId::CLOCK_REALTIME) - micros(ClockId::CLOCK_MONOTONIC),
        }
    }

    pub fn at(&self, monotonic_ns: u64) -> Ts {
        Ts(self.offset_us + (monotonic_ns / 1_000) as i64)
    }

    pub fn now(&self) -> Ts {
        Ts::now()
    }
}

impl Default for Clock {
    fn default() -> Self {
        Clock::new()
    }
}
