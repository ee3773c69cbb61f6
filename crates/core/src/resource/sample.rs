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
    #[serde(deserialize_with = "nan::or_null")]
    pub cpu_pct: f64,
    #[serde(deserialize_with = "nan::each_or_null")]
    pub per_core_pct: Vec<f64>,
    pub mem_total: u64,
    pub mem_used: u64,
    pub mem_available: u64,
    pub swap_total: u64,
    pub swap_used: u64,
    #[serde(deserialize_with = "nan::or_null")]
    pub load1: f64,
    #[serde(deserialize_with = "nan::or_null")]
    pub load5: f64,
    #[serde(deserialize_with = "nan::or_null")]
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
    #[serde(deserialize_with = "nan::or_null")]
    pub cpu_pct: f64,
    pub rss_bytes: u64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, Default)]
pub struct ResourceSample {
    /// The host the record came from; absent on a single host.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<crate::host::HostRef>,
    pub system: SystemSample,
    pub processes: Vec<ProcSample>,
}

/// A value that did not move between two reads is NaN, which JSON writes as `null`:
/// reading `null` back as NaN lets a sample make the round trip (agent to server).
mod nan {
    use serde::{Deserialize, Deserializer};

    pub(super) fn or_null<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
        Ok(Option::<f64>::deserialize(d)?.unwrap_or(f64::NAN))
    }

    pub(super) fn each_or_null<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<f64>, D::Error> {
        let values = Vec::<Option<f64>>::deserialize(d)?;
        Ok(values.into_iter().map(|v| v.unwrap_or(f64::NAN)).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nan_survives_the_json_round_trip() {
        let sample = ResourceSample {
            system: SystemSample {
                cpu_pct: f64::NAN,
                per_core_pct: vec![1.0, f64::NAN],
                load1: f64::NAN,
                ..SystemSample::default()
            },
            processes: vec![ProcSample {
                cpu_pct: f64::NAN,
                ..ProcSample::default()
            }],
            ..ResourceSample::default()
        };
        let text = serde_json::to_string(&sample).unwrap();
        let back: ResourceSample = serde_json::from_str(&text).unwrap();
        assert!(back.system.cpu_pct.is_nan());
        assert_eq!(back.system.per_core_pct[0], 1.0);
        assert!(back.system.per_core_pct[1].is_nan());
        assert!(back.system.load1.is_nan());
        assert_eq!(back.system.load5, 0.0);
        assert!(back.processes[0].cpu_pct.is_nan());
    }
}
