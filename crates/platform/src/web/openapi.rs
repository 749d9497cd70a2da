//! The OpenAPI 3.1 document as served: the platform's and every module's paths, completed with
//! what utoipa leaves to us so that the document is valid and true to the server:
//! - every response has a description, and every error response is `application/problem+json`
//!   (the [`Problem`](crate::web::error::Problem) schema);
//! - every operation lists the errors the shared layers can answer with, as references to one
//!   shared set in `components/responses` (see [`shared_errors`]);
//! - bearer-token authentication is the document's security scheme; operations that need no
//!   principal say so with an empty `security` list in their `#[utoipa::path]`.

use crate::web::error::ConflictCode;
use serde_json::{Map, Value, json};

/// The shared error responses: name in `components/responses`, status, description.
const SHARED: &[(&str, &str, &str)] = &[
    (
        "BadRequest",
        "400",
        "Malformed request: a body that is not JSON (`malformed_json`) or a path parameter that does not parse (`invalid_path`).",
    ),
    (
        "Unauthenticated",
        "401",
        "No valid bearer token or session (`unauthenticated`).",
    ),
    (
        "Forbidden",
        "403",
        "The caller's role or region may not do this (`forbidden`), or a browser request without its CSRF token (`csrf_failed`).",
    ),
    (
        "NotFound",
        "404",
        "The resource does not exist or lies outside the caller's region (`not_found`).",
    ),
    (
        "Conflict",
        "409",
        "The request conflicts with the current state; `code` says how (the `ConflictCode` schema):",
    ),
    (
        "PayloadTooLarge",
        "413",
        "The body is larger than this endpoint accepts (`payload_too_large`).",
    ),
    (
        "UnsupportedMediaType",
        "415",
        "The body's content type is not the one this endpoint accepts (`unsupported_media_type`).",
    ),
    (
        "Unprocessable",
        "422",
        "The request is well-formed but invalid; `field` names what (`validation_failed`, `invalid_body`, `invalid_query`).",
    ),
    (
        "InsufficientStorage",
        "507",
        "The database has run out of space; nothing was written (`storage_full`).",
    ),
    (
        "Internal",
        "500",
        "An internal error; details are in the server log, not here (`internal`).",
    ),
];

/// Which shared errors an operation can answer with, from its shape.
fn shared_errors(method: &str, op: &Map<String, Value>, path: &str) -> Vec<&'static str> {
    let public = op
        .get("security")
        .and_then(Value::as_array)
        .is_some_and(|s| {
            s.is_empty() || s.iter().any(|r| r.as_object().is_some_and(Map::is_empty))
        });
    let params = op.get("parameters").and_then(Value::as_array);
    let has_query = params.is_some_and(|ps| ps.iter().any(|p| p["in"] == "query"));
    let has_path = path.contains('{');
    let has_body = op.contains_key("requestBody");
    let writes = matches!(method, "post" | "put" | "patch" | "delete");
    let mut out = Vec::new();
    if has_path || has_body {
        out.push("400");
    }
    if !public {
        out.extend(["401", "403"]);
    } else if writes {
        // A browser's write without its CSRF token.
        out.push("403");
    }
    if has_path || has_query || has_body {
        out.extend(["404", "422"]);
    }
    if writes {
        out.push("409");
    }
    if has_body {
        out.extend(["413", "415"]);
    }
    if writes {
        out.push("507");
    }
    out.push("500");
    out
}

/// A shared error's description; a 409's is followed by every [`ConflictCode`] and what it means.
fn shared_description(status: &str, head: &str) -> String {
    let mut s = head.to_string();
    if status != "409" {
        return s;
    }
    for c in ConflictCode::ALL {
        s.push_str(&format!(" `{}` ({});", c.as_str(), c.meaning()));
    }
    s.pop();
    s.push('.');
    s
}

fn is_problem_schema(media: &Value) -> bool {
    media["schema"]["$ref"] == "#/components/schemas/Problem"
}

fn status_reason(status: &str) -> &'static str {
    status
        .parse::<u16>()
        .ok()
        .and_then(|s| axum::http::StatusCode::from_u16(s).ok())
        .and_then(|s| s.canonical_reason())
        .unwrap_or("Response")
}

fn problem_content() -> Value {
    json!({"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}})
}

/// Completes one operation's responses (see the module doc).
fn complete_operation(method: &str, path: &str, op: &mut Map<String, Value>) {
    let wanted = shared_errors(method, op, path);
    let responses = op
        .entry("responses")
        .or_insert_with(|| json!({}))
        .as_object_mut();
    let Some(responses) = responses else { return };
    for (status, resp) in responses.iter_mut() {
        let Some(r) = resp.as_object_mut() else {
            continue;
        };
        if r.contains_key("$ref") {
            continue;
        }
        let is_error = status.starts_with('4') || status.starts_with('5') || status == "default";
        let shared = SHARED.iter().find(|(_, s, _)| s == status);
        if r.get("description")
            .and_then(Value::as_str)
            .is_none_or(str::is_empty)
        {
            let d = match shared {
                Some((_, s, d)) if is_error => shared_description(s, d),
                _ => status_reason(status).to_string(),
            };
            r.insert("description".into(), Value::String(d));
        }
        if is_error {
            // A handler's own error body (e.g. an import report) stays; a problem is said as one.
            let own_body = r
                .get("content")
                .and_then(Value::as_object)
                .is_some_and(|c| !c.is_empty() && !c.values().all(is_problem_schema));
            if !own_body {
                r.insert("content".into(), problem_content());
            }
        }
    }
    for status in wanted {
        if !responses.contains_key(status)
            && let Some((name, _, _)) = SHARED.iter().find(|(_, s, _)| *s == status)
        {
            responses.insert(
                status.to_string(),
                json!({"$ref": format!("#/components/responses/{name}")}),
            );
        }
    }
}

/// The served document: `doc` completed (see the module doc).
pub fn complete(doc: &utoipa::openapi::OpenApi) -> Value {
    let mut v = serde_json::to_value(doc).unwrap_or_else(|_| json!({}));
    let Some(root) = v.as_object_mut() else {
        return v;
    };
    let components = root
        .entry("components")
        .or_insert_with(|| json!({}))
        .as_object_mut();
    if let Some(c) = components {
        let responses = c.entry("responses").or_insert_with(|| json!({}));
        if let Some(rs) = responses.as_object_mut() {
            for (name, status, description) in SHARED {
                rs.insert(
                    (*name).to_string(),
                    json!({"description": shared_description(status, description), "content": problem_content()}),
                );
            }
        }
        let schemes = c.entry("securitySchemes").or_insert_with(|| json!({}));
        if let Some(s) = schemes.as_object_mut() {
            s.insert(
                "bearer".into(),
                json!({
                    "type": "http",
                    "scheme": "bearer",
                    "description": "An API token (`qcity token create --user NAME`, or the tokens page): `Authorization: Bearer qct_…`. Browser sessions (cookie) work too; their writes need the `X-CSRF-Token` header."
                }),
            );
        }
    }
    root.insert("security".into(), json!([{"bearer": []}]));
    if let Some(paths) = root.get_mut("paths").and_then(Value::as_object_mut) {
        for (path, item) in paths.iter_mut() {
            let Some(item) = item.as_object_mut() else {
                continue;
            };
            for (method, op) in item.iter_mut() {
                if !is_method(method) {
                    continue;
                }
                if let Some(op) = op.as_object_mut() {
                    complete_operation(method, path, op);
                }
            }
        }
    }
    v
}

fn is_method(key: &str) -> bool {
    matches!(
        key,
        "get" | "put" | "post" | "delete" | "patch" | "head" | "options" | "trace"
    )
}

/// Operation ids used by more than one operation (must be none).
pub fn duplicate_operation_ids(doc: &Value) -> Vec<String> {
    let mut seen = std::collections::BTreeMap::<String, usize>::new();
    if let Some(paths) = doc["paths"].as_object() {
        for item in paths.values() {
            for op in item.as_object().into_iter().flat_map(|m| m.values()) {
                if let Some(id) = op["operationId"].as_str() {
                    *seen.entry(id.to_string()).or_default() += 1;
                }
            }
        }
    }
    seen.into_iter()
        .filter(|(_, n)| *n > 1)
        .map(|(id, _)| id)
        .collect()
}

/// `METHOD PATH {name}` for every path-template parameter an operation does not declare as an
/// `in: path` parameter (must be none: OpenAPI requires each to be declared).
pub fn undeclared_path_parameters(doc: &Value) -> Vec<String> {
    let mut out = Vec::new();
    for (path, item) in doc["paths"].as_object().into_iter().flatten() {
        let names: Vec<&str> = path
            .split('{')
            .skip(1)
            .filter_map(|s| s.split('}').next())
            .collect();
        let shared = item["parameters"].as_array();
        for (method, op) in item.as_object().into_iter().flatten() {
            if !is_method(method) {
                continue;
            }
            let Some(params) = op["parameters"].as_array().or(shared).map(|v| v.as_slice()) else {
                out.extend(names.iter().map(|n| format!("{method} {path} {{{n}}}")));
                continue;
            };
            for n in &names {
                if !params.iter().any(|p| p["in"] == "path" && p["name"] == *n) {
                    out.push(format!("{method} {path} {{{n}}}"));
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn responses_get_descriptions_problem_content_and_the_shared_errors() {
        let doc: utoipa::openapi::OpenApi = serde_json::from_value(json!({
            "openapi": "3.1.0",
            "info": {"title": "t", "version": "1"},
            "paths": {
                "/api/v1/things/{id}": {"post": {
                    "operationId": "thing_update",
                    "requestBody": {"content": {"application/json": {"schema": {"type": "object"}}}},
                    "responses": {
                        "200": {"content": {"application/json": {"schema": {"type": "object"}}}},
                        "409": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Problem"}}}}
                    }
                }},
                "/api/v1/open": {"get": {"operationId": "open", "security": [], "responses": {"200": {"description": "fine"}}}}
            }
        }))
        .unwrap();
        let v = complete(&doc);
        let op = &v["paths"]["/api/v1/things/{id}"]["post"]["responses"];
        assert_eq!(op["200"]["description"], "OK");
        assert!(op["409"]["content"]["application/problem+json"].is_object());
        assert!(op["409"]["content"]["application/json"].is_null());
        assert!(!op["409"]["description"].as_str().unwrap().is_empty());
        for s in ["400", "401", "403", "404", "413", "415", "422", "500"] {
            assert!(op[s]["$ref"].is_string(), "{s} missing");
        }
        let open = &v["paths"]["/api/v1/open"]["get"]["responses"];
        assert_eq!(open["200"]["description"], "fine");
        assert!(open["401"].is_null() && open["422"].is_null());
        assert!(open["500"].is_object());
        assert_eq!(
            v["components"]["securitySchemes"]["bearer"]["scheme"],
            "bearer"
        );
        assert!(duplicate_operation_ids(&v).is_empty());
        assert_eq!(
            undeclared_path_parameters(&v),
            vec!["post /api/v1/things/{id} {id}".to_string()]
        );
    }
}
