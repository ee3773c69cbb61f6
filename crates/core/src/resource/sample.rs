//! One sampling round of system-wide and per-process resource use.

use crate::Ts;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SystemSample {
    /// Microseconds since the epoch.
    #[cfg_attr(feature = "openapi", schema(value_type = i64))]
    pub time: Ts,
    /// Overall CPU busy share, 0–100.
    pub cpu_pct: f64,
    pub per_core_pct: Vec<f64>,
    pub mem_total: u64,
    pub mem_used: u64,
    pub mem_available: u64,
    pub swap_total: u64,
    pub swap_used: u64,
    pub load1: f64,
    pub load5: f64,
    pub load15: f64,
    /// `some avg10` of /proc/pressure/{cpu,memory,io}; None where PSI is absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub psi_cpu: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub psi_memory: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub psi_io: Option<f64>,
    /// The `processes` counter of /proc/stat: forks since boot.
    pub forks_total: u64,
    pub procs_running: u32,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ProcSample {
    pub pid: u32,
    pub start_ticks: u64,
    pub ppid: u32,
    pub comm: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    pub cmdline: String,
    /// top's convention: 100 = one full core.
    pub cpu_pct: f64,
    pub rss_bytes: u64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, Default)]
pub struct ResourceSample {
    pub system: SystemSample,
    pub processes: Vec<ProcSample>,
}
