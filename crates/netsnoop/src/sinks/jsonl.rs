//! JSON-lines output: one object per record with a `type` field, and every time field as
//! RFC 3339 with the configured offset instead of raw microseconds.

use crate::sinks::Change;
use crate::time::TimeFmt;
use netsnoop_core::{Alert, Event, Ts};
use serde_json::{Map, Value};

/// Fields holding a `Ts` (microseconds) in the core types.
const TIME_FIELDS: [&str; 4] = ["time", "first_seen", "last_seen", "started_at"];

/// An event as one JSON object; its `type` comes from the event's own tag.
pub fn event(e: &Event, tf: &TimeFmt) -> Value {
    let mut v = serde_json::to_value(e).unwrap_or(Value::Null);
    if let Value::Object(m) = &mut v {
        localize(m, tf);
        if let Event::Traffic(t) = e {
            m.insert("time".into(), tf.rfc3339(Ts::from_secs(t.second)).into());
        }
        // A packet without ports (ICMP, ARP, or POSTed without them) has null ports:
        // unknown, not port 0.
        if let Event::Packet(p) = e {
            m.remove("no_ports");
            if p.ports().is_none() {
                m.insert("src_port".into(), Value::Null);
                m.insert("dst_port".into(), Value::Null);
            }
        }
    }
    v
}

/// An alert as one JSON object with `type: "alert"` and, when known, what changed.
pub fn alert(a: &Alert, change: Option<Change>, tf: &TimeFmt) -> Value {
    let mut v = serde_json::to_value(a).unwrap_or(Value::Null);
    if let Value::Object(m) = &mut v {
        localize(m, tf);
        m.insert("type".into(), "alert".into());
        if let Some(c) = change {
            m.insert("change".into(), c.as_str().into());
        }
    }
    v
}

/// `value` serialized as one line, newline included.
pub fn line(value: &Value) -> Vec<u8> {
    let mut out = serde_json::to_vec(value).unwrap_or_default();
    out.push(b'\n');
    out
}

fn localize(m: &mut Map<String, Value>, tf: &TimeFmt) {
    // A resource sample keeps its time one level down, in `system`.
    if let Some(Value::Object(system)) = m.get_mut("system") {
        localize(system, tf);
    }
    for key in TIME_FIELDS {
        if let Some(Value::Number(n)) = m.get(key)
            && let Some(us) = n.as_i64()
        {
            m.insert(key.into(), tf.rfc3339_precise(Ts(us)).into());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use netsnoop_core::{ProcEventKind, ProcessEvent, Severity, Subject};

    #[test]
    fn an_exec_event_line_has_its_type_and_a_zoned_time() {
        let tf = TimeFmt::from_setting("Asia/Kolkata").unwrap();
        let e = Event::Process(ProcessEvent {
            time: Ts::from_secs(1_795_262_453),
            kind: ProcEventKind::Exec,
            pid: 4242,
            ppid: 1,
            user: Some("root".into()),
            comm: "curl".into(),
            exe: Some("/usr/bin/curl".into()),
            argv: vec!["curl".into(), "http://127.0.0.1/\x1b[2J".into()],
            argv_complete: true,
            ..ProcessEvent::default()
        });
        let v = event(&e, &tf);
        assert_eq!(v["type"], "process");
        assert_eq!(v["time"], "2026-11-21T17:30:53+05:30");
        insta::assert_snapshot!(String::from_utf8(line(&v)).unwrap());
    }

    #[test]
    fn a_resource_sample_gets_its_nested_time_zoned_too() {
        let mut r = netsnoop_core::ResourceSample::default();
        r.system.time = Ts::from_secs(1_795_262_453);
        let v = event(
            &Event::Resources(r),
            &TimeFmt::from_setting("Asia/Kolkata").unwrap(),
        );
        assert_eq!(v["type"], "resources");
        assert_eq!(v["system"]["time"], "2026-11-21T17:30:53+05:30");
    }

    #[test]
    fn an_alert_line_has_type_alert_kind_severity_and_subject() {
        let tf = TimeFmt::from_setting("Asia/Kolkata").unwrap();
        let a = Alert {
            host: None,
            id: "net.portscan/10.0.0.5/1".into(),
            kind: "net.portscan".into(),
            severity: Severity::High,
            label: None,
            state: netsnoop_core::AlertState::Active,
            first_seen: Ts::from_secs(1_795_262_453),
            last_seen: Ts(1_795_262_455_500_000),
            subject: Subject::source_ip("10.0.0.5".parse().unwrap()),
            message: "10.0.0.5 probed 120 ports in 10s".into(),
            details: serde_json::json!({"ports": 120}),
        };
        let v = alert(&a, Some(Change::Opened), &tf);
        assert_eq!(v["type"], "alert");
        assert_eq!(v["last_seen"], "2026-11-21T17:30:55.5+05:30");
        insta::assert_snapshot!(String::from_utf8(line(&v)).unwrap());
    }

    #[test]
    fn a_packet_without_ports_has_null_ports_and_one_with_ports_keeps_them() {
        let tf = TimeFmt::utc();
        let mut p = netsnoop_core::PacketMeta {
            protocol: netsnoop_core::Protocol::Tcp,
            src_port: 40000,
            dst_port: 443,
            ..Default::default()
        };
        let v = event(&Event::Packet(p.clone()), &tf);
        assert_eq!(
            (v["src_port"].as_u64(), v["dst_port"].as_u64()),
            (Some(40000), Some(443))
        );
        (p.src_port, p.dst_port, p.no_ports) = (0, 0, true);
        let v = event(&Event::Packet(p.clone()), &tf);
        assert!(v["src_port"].is_null() && v["dst_port"].is_null(), "{v}");
        assert!(v.get("no_ports").is_none(), "{v}");
        p.no_ports = false;
        p.protocol = netsnoop_core::Protocol::Icmp;
        let v = event(&Event::Packet(p), &tf);
        assert!(v["src_port"].is_null(), "ICMP has no ports: {v}");
    }
}
