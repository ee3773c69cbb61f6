//! SIGINT and SIGTERM: the first asks for an orderly stop (drain, finish, flush, end
//! marker); a second one, a moment later, exits at once, for when the orderly stop hangs.

use crossbeam_channel::{Receiver, bounded};
use signal_hook::consts::{SIGINT, SIGTERM};
use signal_hook::iterator::Signals;
use std::time::{Duration, Instant};

/// Repeats closer than this to the first signal are the same request delivered twice
/// (`timeout` and some supervisors signal the child and then its whole process group).
const SAME_REQUEST: Duration = Duration::from_millis(500);

/// Installs the handlers; the receiver yields the signal's name (`SIGINT`, `SIGTERM`).
pub fn install() -> anyhow::Result<Receiver<String>> {
    let mut signals = Signals::new([SIGINT, SIGTERM])?;
    let (tx, rx) = bounded(1);
    std::thread::Builder::new()
        .name("signals".into())
        .spawn(move || {
            let mut first: Option<Instant> = None;
            for sig in signals.forever() {
                let name = if sig == SIGINT { "SIGINT" } else { "SIGTERM" };
                match first {
                    None => {
                        first = Some(Instant::now());
                        let _ = tx.try_send(name.to_string());
                    }
                    Some(t) if t.elapsed() < SAME_REQUEST => {}
                    Some(_) => {
                        eprintln!("netsnoop: second {name}, exiting without finishing");
                        std::process::exit(130);
                    }
                }
            }
        })?;
    Ok(rx)
}
