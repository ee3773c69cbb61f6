//! SIGINT and SIGTERM: the first asks for an orderly stop (drain, finish, flush, end
//! marker); a second one exits at once, for when the orderly stop itself hangs.

use crossbeam_channel::{Receiver, bounded};
use signal_hook::consts::{SIGINT, SIGTERM};
use signal_hook::iterator::Signals;

/// Installs the handlers; the receiver yields the signal's name (`SIGINT`, `SIGTERM`).
pub fn install() -> anyhow::Result<Receiver<String>> {
    let mut signals = Signals::new([SIGINT, SIGTERM])?;
    let (tx, rx) = bounded(1);
    std::thread::Builder::new()
        .name("signals".into())
        .spawn(move || {
            let mut seen = false;
            for sig in signals.forever() {
                let name = if sig == SIGINT { "SIGINT" } else { "SIGTERM" };
                if seen {
                    eprintln!("netsnoop: second {name}, exiting without finishing");
                    std::process::exit(130);
                }
                seen = true;
                let _ = tx.try_send(name.to_string());
            }
        })?;
    Ok(rx)
}
