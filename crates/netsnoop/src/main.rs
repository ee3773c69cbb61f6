//! The `netsnoop` binary: command line, config, pipeline wiring, terminal output and logs.

fn main() {
    println!("netsnoop: not built yet");
}
