//! netsnoop-linux: the sources that talk to the kernel and send owned batches of
//! [`netsnoop_core::Event`] to the pipeline, each on its own thread.

pub mod caps;
pub mod capture;
pub mod exec;
pub mod outlet;
pub mod proc_pid;
pub mod sampler;
pub mod sock;
