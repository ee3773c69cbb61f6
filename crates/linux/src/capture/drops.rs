//! libpcap's kernel drop counter as deltas of lost packets: its 32-bit value wraps, and
//! on a loopback interface the kernel counts each lost packet twice (once as sent and
//! once as received, both copies reaching the capture socket, of which libpcap keeps one).

/// Reads successive `ps_drop` values and says how many packets were lost since the last.
#[derive(Debug)]
pub struct KernelDrops {
    copies: u64,
    raw_seen: u32,
    raw_total: u64,
    reported: u64,
}

impl KernelDrops {
    /// `copies` is how many times the kernel counts one lost packet (2 on loopback).
    pub fn new(copies: u64) -> KernelDrops {
        KernelDrops {
            copies: copies.max(1),
            raw_seen: 0,
            raw_total: 0,
            reported: 0,
        }
    }

    /// For the interface `name`: two copies on a loopback interface, else one.
    pub fn for_interface(name: &str) -> KernelDrops {
        KernelDrops::new(if is_loopback(name) { 2 } else { 1 })
    }

    /// Packets lost since the previous call, given libpcap's current `ps_drop`.
    pub fn advance(&mut self, raw: u32) -> u64 {
        self.raw_total += u64::from(raw.wrapping_sub(self.raw_seen));
        self.raw_seen = raw;
        let lost = self.raw_total / self.copies;
        let delta = lost - self.reported;
        self.reported = lost;
        delta
    }
}

/// IFF_LOOPBACK in /sys/class/net/NAME/flags; `lo` when that cannot be read.
fn is_loopback(name: &str) -> bool {
    const IFF_LOOPBACK: u32 = 0x8;
    let flags = std::fs::read_to_string(format!("/sys/class/net/{name}/flags")).ok();
    match flags.and_then(|f| u32::from_str_radix(f.trim().trim_start_matches("0x"), 16).ok()) {
        Some(f) => f & IFF_LOOPBACK != 0,
        None => name == "lo",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn on_loopback_each_lost_packet_counted_twice_by_the_kernel_is_reported_once() {
        let mut lo = KernelDrops::for_interface("lo");
        // 808,502 packets lost show up as 1,617,004 in ps_drop (the figures).
        assert_eq!(lo.advance(1_000_001), 500_000);
        assert_eq!(lo.advance(1_617_004), 308_502);
        assert_eq!(lo.advance(1_617_004), 0);
    }

    #[test]
    fn elsewhere_drops_pass_through_and_the_32_bit_counter_may_wrap() {
        let mut eth = KernelDrops::new(1);
        assert_eq!(eth.advance(u32::MAX - 4), u64::from(u32::MAX - 4));
        assert_eq!(eth.advance(5), 10);
    }
}
