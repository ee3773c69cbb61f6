//! The dashboard reads only fields the API documents: every `j.<name>` in a `norm*` of
//! web/js/api.js is a property of the response schema its `// schema:` line names in
//! /openapi.json, so a rename on the server fails here instead of showing 0.

use std::collections::BTreeSet;

use serde_json::Value;
use utoipa::OpenApi;

const API_JS: &str = include_str!("../../../web/js/api.js");

fn openapi() -> Value {
    serde_json::to_value(netsnoop_server::openapi::ApiDoc::openapi())
        .expect("the OpenAPI document serializes")
}

/// Each `// schema: Name` line with the `j.<field>` names of the function below it (up to
/// the next blank line).
fn readers(js: &str) -> Vec<(String, BTreeSet<String>)> {
    let mut out: Vec<(String, BTreeSet<String>)> = Vec::new();
    let mut open = false;
    for line in js.lines() {
        if let Some(name) = line.trim().strip_prefix("// schema:") {
            out.push((name.trim().to_string(), BTreeSet::new()));
            open = true;
        } else if line.trim().is_empty() {
            open = false;
        } else if open && let Some((_, fields)) = out.last_mut() {
            fields.extend(field_reads(line));
        }
    }
    out
}

/// The `<name>` of every `j.<name>` and `j?.<name>` on a line.
fn field_reads(line: &str) -> Vec<String> {
    let bytes = line.as_bytes();
    let ident = |b: u8| b.is_ascii_alphanumeric() || b == b'_' || b == b'$';
    let mut out = Vec::new();
    for (i, _) in line.match_indices('j') {
        if i > 0 && (ident(bytes[i - 1]) || bytes[i - 1] == b'.') {
            continue;
        }
        let rest = &line[i + 1..];
        let Some(rest) = rest.strip_prefix("?.").or_else(|| rest.strip_prefix('.')) else {
            continue;
        };
        let name: String = rest
            .bytes()
            .take_while(|&b| ident(b))
            .map(char::from)
            .collect();
        if !name.is_empty() {
            out.push(name);
        }
    }
    out
}

/// The property names a schema can carry: its own, its `allOf`/`oneOf`/`anyOf` parts'
/// and those of the schemas it refers to. An error for a schema that names no properties
/// (an untyped object), since then nothing could be checked.
fn properties(doc: &Value, schema: &Value, seen: &mut BTreeSet<String>) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    if let Some(r) = schema.get("$ref").and_then(Value::as_str) {
        let name = r.trim_start_matches("#/components/schemas/");
        if seen.insert(name.to_string()) {
            out.extend(properties(doc, &doc["components"]["schemas"][name], seen));
        }
    }
    if let Some(props) = schema.get("properties").and_then(Value::as_object) {
        out.extend(props.keys().cloned());
    }
    for key in ["allOf", "oneOf", "anyOf"] {
        for part in schema
            .get(key)
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            out.extend(properties(doc, part, seen));
        }
    }
    out
}

/// Every problem found: a schema missing from the document or without properties, a
/// field the schema does not have, a `norm*` without a `// schema:` line.
fn problems(js: &str, doc: &Value) -> Vec<String> {
    let mut out = Vec::new();
    let readers = readers(js);
    let norms = js.matches("const norm").count();
    if norms != readers.len() {
        out.push(format!(
            "{norms} norm functions but {} `// schema:` lines: give each norm* one",
            readers.len()
        ));
    }
    for (schema, fields) in &readers {
        let Some(s) = doc["components"]["schemas"].get(schema) else {
            out.push(format!("schema {schema} is not in /openapi.json"));
            continue;
        };
        let known = properties(doc, s, &mut BTreeSet::from([schema.clone()]));
        if known.is_empty() {
            out.push(format!(
                "schema {schema} lists no properties: derive ToSchema for its fields"
            ));
        }
        if fields.is_empty() {
            out.push(format!("the reader of {schema} reads no j.<field>"));
        }
        for f in fields.difference(&known) {
            out.push(format!(
                "api.js reads {schema}.{f}, which /openapi.json does not have"
            ));
        }
    }
    out
}

#[test]
fn every_field_the_dashboard_reads_is_in_the_openapi_schema_it_names() {
    let doc = openapi();
    assert!(
        readers(API_JS).len() >= 15,
        "api.js readers: {:?}",
        readers(API_JS)
    );
    assert_eq!(problems(API_JS, &doc), Vec::<String>::new());
}

#[test]
fn a_renamed_field_in_the_dashboard_is_reported_with_its_schema() {
    let doc = openapi();
    let broken = API_JS.replacen("j.total_packets", "j.packets_total", 1);
    assert_ne!(broken, API_JS, "api.js reads j.total_packets");
    assert_eq!(
        problems(&broken, &doc),
        ["api.js reads SummaryView.packets_total, which /openapi.json does not have"]
    );
}

#[test]
fn a_schema_without_properties_is_reported_rather_than_passed() {
    let mut doc = openapi();
    doc["components"]["schemas"]["FlowView"] = serde_json::json!({ "type": "object" });
    let found = problems(API_JS, &doc);
    assert!(
        found.contains(
            &"schema FlowView lists no properties: derive ToSchema for its fields".to_string()
        ),
        "{found:?}"
    );
}

#[test]
fn the_field_reader_finds_j_reads_and_skips_other_objects() {
    assert_eq!(
        field_reads("a: str(j.src_ip, obj.x), b: j?.details?.y, c: nj.no, d: x.j.no"),
        ["src_ip", "details"]
    );
}
