//! A real Prometheus (Debian's `prometheus`) scrapes `netsnoop run -i lo` every second
//! while nmap scans 127.0.0.1 and a shell spawns a burst; PromQL over its HTTP API then
//! shows the scan's packets on lo, the alerts by kind, no drops, and `up` = 1 throughout.
