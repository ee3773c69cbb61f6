//! The OpenAPI description: every route and schema, plus the bearer-token scheme.

use crate::routes::{alerts, flows, host, ingest, silences, stats, stream};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "NetSnoop API",
        description = "NetWatch-compatible network statistics, host monitoring, live stream and metrics.\n\n\
Times are RFC 3339 with an offset; `since`/`until` also take unix seconds. \
A bearer token (NETSNOOP_TOKEN) is required for POST when set, and for every data endpoint when \
the server listens beyond loopback (`?token=` works for GET, e.g. for EventSource). \
Errors are JSON: `{\"error\": code, \"detail\": what to fix}`.\n\n\
NetWatch's seven endpoints answer with exactly NetWatch's keys, in its order, so its dashboard and \
agent work unchanged; `?extended=true` on any of them adds NetSnoop's fields (ports, bytes, \
alert ids and details) after NetWatch's. Each response schema lists both forms (`anyOf`: the \
extended form has NetWatch's keys too).\n\n\
In a fleet, `?host=` (an id or hostname; repeat it or separate by commas) picks hosts on alerts, \
flows, recent packets, process events and the traffic statistics; without it every host counts, \
traffic statistics summed over the hosts."
    ),
    paths(
        ingest::post_packets,
        stats::summary,
        stats::top_talkers,
        stats::protocol_distribution,
        stats::traffic_over_time,
        stats::recent_packets,
        crate::routes::owners::top_processes,
        alerts::alerts,
        alerts::history,
        flows::flows,
        host::system,
        host::processes,
        host::process,
        host::process_events,
        host::health,
        crate::routes::fleet::hosts,
        crate::routes::fleet::enroll,
        crate::routes::fleet::ingest,
        silences::ack,
        silences::create,
        silences::list,
        stream::stream,
        crate::routes::metrics,
    ),
    components(schemas(crate::error::ErrorBody, crate::views::PacketView, crate::views::PacketViewExtended, crate::views::NetWatchAlert, crate::views::AlertView)),
    modifiers(&BearerScheme),
    tags(
        (name = "netwatch", description = "NetWatch's endpoints: same paths and field names"),
        (name = "host", description = "Processes, resources and NetSnoop's own health"),
        (name = "live", description = "Server-Sent Events and Prometheus metrics"),
        (name = "fleet", description = "Agents: enrolment, their batches, and every host's state"),
    )
)]
pub struct ApiDoc;

struct BearerScheme;

impl Modify for BearerScheme {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        document_unreadable_requests(openapi);
        either_form_matches(openapi);
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// A `*Row` answer is NetWatch's form or the extended one, which holds NetWatch's keys
/// plus ours, so an extended answer matches both forms: `anyOf`, not utoipa's `oneOf`
/// (which demands exactly one match).
fn either_form_matches(openapi: &mut utoipa::openapi::OpenApi) {
    use utoipa::openapi::RefOr;
    use utoipa::openapi::schema::{AnyOfBuilder, Schema};
    let Some(components) = &mut openapi.components else {
        return;
    };
    for (name, schema) in components.schemas.iter_mut() {
        if let RefOr::T(Schema::OneOf(one)) = schema
            && name.ends_with("Row")
        {
            let any = std::mem::take(&mut one.items)
                .into_iter()
                .fold(AnyOfBuilder::new(), |b, item| b.item(item))
                .description(one.description.take());
            *schema = RefOr::T(Schema::AnyOf(any.build()));
        }
    }
}

/// Any request can be unreadable (a duplicated query parameter, a pid that is no
/// number, a body that is not JSON), and the guard can refuse any request (a foreign
/// `Host`): every operation documents 400 and 403 with the JSON error body.
fn document_unreadable_requests(openapi: &mut utoipa::openapi::OpenApi) {
    use utoipa::openapi::{ContentBuilder, Ref, ResponseBuilder};
    let error = |what: &str| {
        ResponseBuilder::new()
            .description(what)
            .content(
                "application/json",
                ContentBuilder::new()
                    .schema(Some(Ref::from_schema_name("ErrorBody")))
                    .build(),
            )
            .build()
    };
    for item in openapi.paths.paths.values_mut() {
        if let Some(post) = &mut item.post {
            post.responses
                .responses
                .entry("415".into())
                .or_insert_with(|| {
                    error("the body is not declared as JSON: send `Content-Type: application/json`")
                        .into()
                });
        }
        let ops = [
            &mut item.get,
            &mut item.post,
            &mut item.put,
            &mut item.patch,
            &mut item.delete,
        ];
        for op in ops.into_iter().flatten() {
            let r = &mut op.responses.responses;
            r.entry("400".into()).or_insert_with(|| {
                error(
                    "the request could not be read (a parameter given twice or of the wrong form)",
                )
                .into()
            });
            r.entry("403".into()).or_insert_with(|| {
                error("refused: a Host this server does not answer to, or a write from another web origin").into()
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_parameters_are_declared_in_the_query_and_optional_and_limits_start_at_one() {
        let doc = serde_json::to_value(ApiDoc::openapi()).unwrap();
        let mut seen = 0;
        for (path, item) in doc["paths"].as_object().unwrap() {
            for op in item.as_object().unwrap().values() {
                for p in op["parameters"].as_array().into_iter().flatten() {
                    seen += 1;
                    let name = p["name"].as_str().unwrap();
                    if path.contains(&format!("{{{name}}}")) {
                        assert_eq!(p["in"], "path", "{path} {name}");
                        continue;
                    }
                    if p["in"] == "header" {
                        // Only the agents' key travels in a header.
                        assert_eq!(
                            (path.as_str(), name),
                            ("/api/v1/ingest", "x-netsnoop-agent-key")
                        );
                        continue;
                    }
                    assert_eq!(p["in"], "query", "{path} {name}");
                    assert_ne!(p["required"], true, "{path} {name}");
                    if name == "limit" {
                        assert_eq!(p["schema"]["minimum"], 1, "{path}: limit=0 is refused");
                    }
                }
            }
        }
        assert!(seen >= 26, "only {seen} parameters");
    }
}
