//! Small facts about core events the binary needs everywhere: their time and type name.

use netsnoop_core::{Event, Ts};

/// The time an event happened: what drives stages and ticks in replay.
pub fn time(e: &Event) -> Ts {
    match e {
        Event::Process(p) => p.time,
        Event::Resources(r) => r.system.time,
        Event::Packet(p) => p.time,
        Event::Flow(f) => f.last_seen,
        Event::Traffic(t) => Ts::from_secs(t.second + 1),
        Event::Loss(l) => l.time,
    }
}

/// The `type` tag the event carries in JSON (`process`, `packet`, …).
pub fn type_name(e: &Event) -> &'static str {
    match e {
        Event::Process(_) => "process",
        Event::Resources(_) => "resources",
        Event::Packet(_) => "packet",
        Event::Flow(_) => "flow",
        Event::Traffic(_) => "traffic",
        Event::Loss(_) => "loss",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use netsnoop_core::{PacketMeta, ProcessEvent, event::Loss};

    #[test]
    fn type_names_match_the_json_tags() {
        let events = [
            Event::Process(ProcessEvent::default()),
            Event::Packet(PacketMeta::default()),
            Event::Loss(Loss {
                time: Ts(5),
                source: "s".into(),
                count: 1,
                reason: "r".into(),
            }),
        ];
        for e in &events {
            let v = serde_json::to_value(e).unwrap();
            assert_eq!(v["type"], type_name(e));
        }
        assert_eq!(time(&events[2]), Ts(5));
    }
}
