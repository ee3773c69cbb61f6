//! Test helpers for reading real processes: a child that has finished its exec, and code
//! run with a thread's root privileges dropped.

use std::process::{Child, Command};
use std::time::Duration;

/// A running `/bin/sleep 5`, returned once its exec has happened (until then its argument
/// area is the test binary's). Kill and wait for it when done.
pub fn sleeper() -> Child {
    let child = Command::new("/bin/sleep").arg("5").spawn().unwrap();
    wait_for_exec(child.id(), b"/bin/sleep\x005\0");
    child
}

/// Waits until `pid` runs the program whose cmdline is `want`.
pub fn wait_for_exec(pid: u32, want: &[u8]) {
    netsnoop_test_support::wait_for(Duration::from_secs(5), "the exec", || {
        (std::fs::read(format!("/proc/{pid}/cmdline")).ok()? == want).then_some(())
    });
}

/// Runs `f` on a thread whose credentials are nobody's. The raw setresuid changes only that
/// thread (glibc's wrapper would change the whole test process), and dropping root drops
/// its capabilities.
pub fn as_nobody<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    netsnoop_test_support::require_root("dropping a thread's credentials to nobody's");
    std::thread::spawn(move || {
        // SAFETY: plain integer arguments; affects only the calling thread.
        let r = unsafe { libc::syscall(libc::SYS_setresuid, 65534, 65534, 65534) };
        assert_eq!(r, 0, "{}", std::io::Error::last_os_error());
        f()
    })
    .join()
    .unwrap()
}
