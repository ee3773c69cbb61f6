//! TCP history of a flow and its Zeek-style connection state (`conn_state`).

use super::packet::tcp_flags::{ACK, FIN, RST, SYN};

/// What each side has done, as bits; enough to name the connection state at the end.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TcpHistory(u16);

const ORIG_SYN: u16 = 1;
const RESP_SYNACK: u16 = 1 << 1;
const ORIG_FIN: u16 = 1 << 2;
const RESP_FIN: u16 = 1 << 3;
const ORIG_RST: u16 = 1 << 4;
const RESP_RST: u16 = 1 << 5;
/// The first RST seen came from the originator.
const FIRST_RST_ORIG: u16 = 1 << 6;
const ORIG_ACK: u16 = 1 << 7;

impl TcpHistory {
    /// Records one segment's flags; `from_orig` tells its direction.
    pub fn note(&mut self, flags: u8, from_orig: bool) {
        let syn = flags & SYN != 0;
        let ack = flags & ACK != 0;
        if from_orig {
            if syn && !ack {
                self.0 |= ORIG_SYN;
            }
            if ack && !syn {
                self.0 |= ORIG_ACK;
            }
        } else if syn && ack {
            self.0 |= RESP_SYNACK;
        }
        if flags & FIN != 0 {
            self.0 |= if from_orig { ORIG_FIN } else { RESP_FIN };
        }
        if flags & RST != 0 {
            if self.0 & (ORIG_RST | RESP_RST) == 0 && from_orig {
                self.0 |= FIRST_RST_ORIG;
            }
            self.0 |= if from_orig { ORIG_RST } else { RESP_RST };
        }
    }

    fn has(self, bits: u16) -> bool {
        self.0 & bits == bits
    }

    /// Closed by a RST, or by FIN from both sides.
    pub fn is_closed(self) -> bool {
        self.0 & (ORIG_RST | RESP_RST) != 0 || self.has(ORIG_FIN | RESP_FIN)
    }

    pub fn was_reset(self) -> bool {
        self.0 & (ORIG_RST | RESP_RST) != 0
    }

    /// The handshake got at least as far as a SYN-ACK.
    pub fn handshake_answered(self) -> bool {
        self.has(RESP_SYNACK)
    }

    /// Zeek's conn_state names (S0, S1, SF, REJ, S2, S3, RSTO, RSTR, RSTOS0, RSTRH, SH,
    /// SHR, OTH), from the bits seen.
    pub fn state(self) -> &'static str {
        let syn = self.has(ORIG_SYN);
        let synack = self.has(RESP_SYNACK);
        let orig_rst = self.has(ORIG_RST);
        let resp_rst = self.has(RESP_RST);
        let rst_by_orig = orig_rst && (!resp_rst || self.has(FIRST_RST_ORIG));
        match (syn, synack) {
            (true, false) if resp_rst && !orig_rst => "REJ",
            (true, false) if orig_rst => "RSTOS0",
            (true, false) if self.has(ORIG_FIN) => "SH",
            (true, false) => "S0",
            (false, true) if resp_rst => "RSTRH",
            (false, true) if self.has(RESP_FIN) => "SHR",
            (false, true) => "OTH",
            (true, true) if rst_by_orig => "RSTO",
            (true, true) if resp_rst => "RSTR",
            (true, true) if self.has(ORIG_FIN | RESP_FIN) => "SF",
            (true, true) if self.has(ORIG_FIN) => "S2",
            (true, true) if self.has(RESP_FIN) => "S3",
            (true, true) => "S1",
            (false, false) => "OTH",
        }
    }
}

/// State of a flow without TCP handshakes: answered or not.
pub fn connectionless_state(resp_packets: u64) -> &'static str {
    if resp_packets > 0 { "SF" } else { "S0" }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::net::packet::tcp_flags::PSH;

    fn run(steps: &[(u8, bool)]) -> &'static str {
        let mut h = TcpHistory::default();
        for &(f, o) in steps {
            h.note(f, o);
        }
        h.state()
    }

    #[test]
    fn handshake_outcomes_get_zeek_names() {
        assert_eq!(run(&[(SYN, true)]), "S0");
        assert_eq!(run(&[(SYN, true), (RST | ACK, false)]), "REJ");
        assert_eq!(run(&[(SYN, true), (SYN | ACK, false), (ACK, true)]), "S1");
        assert_eq!(run(&[(SYN, true), (SYN | ACK, false), (RST, true)]), "RSTO");
        assert_eq!(run(&[(SYN, true), (RST, true)]), "RSTOS0");
        assert_eq!(run(&[(SYN, true), (FIN, true)]), "SH");
        assert_eq!(run(&[(SYN | ACK, false), (RST, false)]), "RSTRH");
        assert_eq!(run(&[(ACK | PSH, true), (ACK, false)]), "OTH");
    }

    #[test]
    fn teardowns_get_zeek_names() {
        let open = [(SYN, true), (SYN | ACK, false), (ACK, true)];
        let with = |rest: &[(u8, bool)]| {
            let mut v = open.to_vec();
            v.extend_from_slice(rest);
            run(&v)
        };
        assert_eq!(with(&[(FIN | ACK, true), (FIN | ACK, false)]), "SF");
        assert_eq!(with(&[(FIN | ACK, true)]), "S2");
        assert_eq!(with(&[(FIN | ACK, false)]), "S3");
        assert_eq!(with(&[(RST | ACK, false)]), "RSTR");
        assert_eq!(with(&[(RST, true), (RST, false)]), "RSTO");
    }

    #[test]
    fn closed_means_reset_or_fin_from_both_sides() {
        let mut h = TcpHistory::default();
        h.note(FIN | ACK, true);
        assert!(!h.is_closed());
        h.note(FIN | ACK, false);
        assert!(h.is_closed());
        assert_eq!(connectionless_state(0), "S0");
        assert_eq!(connectionless_state(3), "SF");
    }
}
