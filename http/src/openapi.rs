//! The OpenAPI 3.1 document of the service, built from the route table and the error
//! table, so it lists every route and every error code the service can answer with.

use axum::Json;
use serde_json::{json, Map, Value};

use crate::error::CODES;
use crate::routes::{routes, Access};

/// `GET /api/openapi.json`.
pub async fn document() -> Json<Value> {
    Json(build())
}

/// The document.
pub fn build() -> Value {
    let mut paths = Map::new();
    for route in routes() {
        let entry = paths.entry(route.path).or_insert_with(|| json!({}));
        entry[route.method.to_lowercase()] = operation(&route);
    }
    let codes: Vec<&str> = CODES.iter().map(|(code, _, _)| *code).collect();
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "BugDash API",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Bug-risk analysis of JIRA projects. Sign in with POST /api/auth/login \
                (session cookie; send X-CSRF-Token with writes) or send Authorization: Bearer \
                with a token from POST /api/auth/token. Every error has the body \
                {\"error\":{\"code\",\"message\",\"request_id\"}}; 429 and 503 carry Retry-After.",
        },
        "paths": paths,
        "components": {
            "securitySchemes": {
                "session": {"type": "apiKey", "in": "cookie", "name": crate::extract::SESSION_COOKIE},
                "bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"},
            },
            "schemas": {
                "Error": {
                    "type": "object",
                    "required": ["error"],
                    "properties": {"error": {
                        "type": "object",
                        "required": ["code", "message", "request_id"],
                        "properties": {
                            "code": {"type": "string", "enum": codes},
                            "message": {"type": "string"},
                            "request_id": {"type": "string"},
                        },
                    }},
                },
            },
            "x-error-codes": CODES.iter().map(|(code, status, category)| {
                json!({"code": code, "status": status, "category": category})
            }).collect::<Vec<_>>(),
        },
    })
}

fn operation(route: &crate::routes::Route) -> Value {
    let mut parameters: Vec<Value> = path_parameters(route.path)
        .map(|name| json!({"name": name, "in": "path", "required": true, "schema": {"type": "string"}}))
        .collect();
    parameters.extend(route.query.iter().map(|name| {
        json!({"name": name, "in": "query", "required": false, "schema": {"type": "string"}})
    }));
    let error = json!({"description": "error", "content": {"application/json": {
        "schema": {"$ref": "#/components/schemas/Error"}}}});
    let (status, description) = success(route);
    let mut responses = json!({status: {"description": description}, "default": error});
    let mut operation = json!({"summary": route.summary, "parameters": parameters});
    match route.access {
        Access::Public => operation["security"] = json!([]),
        Access::User | Access::Admin => {
            operation["security"] = json!([{"session": []}, {"bearer": []}]);
            responses["401"] = json!({"description": "not signed in"});
            responses["429"] = json!({"description": "rate limited; see Retry-After"});
        }
    }
    if route.access == Access::Admin {
        responses["403"] = json!({"description": "not an admin"});
    }
    if let Some(body) = route.body {
        operation["requestBody"] = json!({"required": true, "description": body,
            "content": {"application/json": {"schema": {"type": "object"}}}});
    }
    operation["responses"] = responses;
    operation
}

/// The status a route answers with when it succeeds: 200 but for the few that create
/// something or answer with no body. A route added with another success status belongs here.
fn success(route: &crate::routes::Route) -> (&'static str, &'static str) {
    match (route.method, route.path) {
        ("POST", "/api/auth/logout") | ("DELETE", "/api/auth/sessions/{id}") => {
            ("204", "done; no body")
        }
        ("POST", "/api/admin/users") => ("201", "created"),
        _ => ("200", "success"),
    }
}

fn path_parameters(path: &str) -> impl Iterator<Item = &str> {
    path.split('/').filter_map(|segment| segment.strip_prefix('{')?.strip_suffix('}'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_route_and_method_is_in_the_document() {
        let document = build();
        for route in routes() {
            let operation = &document["paths"][route.path][route.method.to_lowercase()];
            assert!(operation.is_object(), "{} {} missing", route.method, route.path);
        }
        let params = &document["paths"]["/api/projects/{key}/analysis"]["get"]["parameters"];
        assert!(params.as_array().is_some_and(|p| p.iter().any(|p| p["name"] == "window")));
    }
}
