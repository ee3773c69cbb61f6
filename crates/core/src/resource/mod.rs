//! Resources: the sample types; CPU, memory and load detectors arrive with the
//! resource-monitoring work.

pub mod sample;
