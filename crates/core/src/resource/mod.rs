//! Resources: the sample types, the CPU, memory and load detectors and top-N selection.

pub mod config;
pub mod cpu_process;
pub mod cpu_system;
pub mod host_levels;
pub mod level;
pub mod load;
pub mod memory;
pub mod proc_levels;
pub mod sample;
pub mod topn;
pub mod tracker;

pub use config::ResourceConfig;
pub use cpu_process::ProcessCpuDetector;
pub use cpu_system::SystemCpuDetector;
pub use load::LoadDetector;
pub use memory::MemoryDetector;
pub use topn::{SampleThrottle, top_by_cpu, top_by_memory, trim_to_top_n};

use crate::Stage;

/// Every resource detector, configured, in the order the pipeline should run them.
pub fn detectors(cfg: &ResourceConfig) -> Vec<Box<dyn Stage>> {
    vec![
        Box::new(ProcessCpuDetector::new(cfg)),
        Box::new(SystemCpuDetector::new(cfg)),
        Box::new(MemoryDetector::new(cfg)),
        Box::new(LoadDetector::new(cfg)),
    ]
}
