//! Processes: the event type; the process table, ancestry, burst detection and instigator
//! tracing arrive with the process-monitoring work.

pub mod event;
