//! Operational endpoints (health, readiness), the served OpenAPI spec, and
//! the answers for unknown routes (404) and wrong methods (405).

use actix_web::dev::ResourceDef;
use actix_web::http::Method;
use actix_web::{HttpRequest, HttpResponse, get, web};
use serde::Serialize;
use utoipa::ToSchema;

use crate::api::AppState;
use crate::db::replicas::{ReplicaState, ReplicaStatus};
use crate::error::ApiError;
use crate::views::Health;

/// Is the process up?
#[utoipa::path(
    operation_id = "get_health",
    tag = "system",
    security(),
    responses((status = 200, description = "The process is up", body = Health))
)]
#[get("/healthz")]
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .json(Health {
            status: "ok".into(),
        })
}

/// Readiness: the primary, and where anonymous reads go.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "status": "ok",
    "reads": "replica",
    "replicas": [{"name": "replica-1:5432/newsroom", "state": "in_use", "lag_seconds": 0.0, "lag_bytes": 0}]
}))]
pub struct Readiness {
    /// `ok`, or `unavailable` when the primary database does not answer.
    pub status: String,
    /// `replica` when at least one read replica is in use for anonymous
    /// reads, else `primary`.
    pub reads: String,
    /// Each configured read replica (DATABASE_REPLICA_URLS) as last
    /// checked, about a second ago; empty without replicas.
    pub replicas: Vec<ReplicaStatus>,
}

/// Can it serve requests (does the primary database answer)?
///
/// Also says where anonymous reads go: a read replica that is down or
/// behind is skipped, and this stays 200 while the primary answers.
#[utoipa::path(
    operation_id = "get_readiness",
    tag = "system",
    security(),
    responses(
        (status = 200, description = "Ready", body = Readiness),
        (status = 503, description = "The primary database does not answer", body = Readiness, example = json!({"status": "unavailable", "reads": "primary", "replicas": []})),
    )
)]
#[get("/readyz")]
pub async fn readyz(state: web::Data<AppState>) -> HttpResponse {
    let ready = crate::db::ping(&state.pool).await;
    let mut response = if ready {
        HttpResponse::Ok()
    } else {
        let mut unavailable = HttpResponse::ServiceUnavailable();
        unavailable.insert_header(("Retry-After", "1"));
        unavailable
    };
    let replicas = state.replicas.statuses();
    let on_replica = replicas.iter().any(|r| r.state == ReplicaState::InUse);
    response
        .insert_header(("Cache-Control", "no-store"))
        .json(Readiness {
            status: if ready { "ok" } else { "unavailable" }.into(),
            reads: if on_replica { "replica" } else { "primary" }.into(),
            replicas,
        })
}

/// The spec as served, and the route table derived from it.
pub struct ServedSpec {
    pub json: String,
    routes: Vec<(ResourceDef, Vec<Method>)>,
}

impl ServedSpec {
    pub fn new(spec: &utoipa::openapi::OpenApi) -> Self {
        let mut routes = Vec::new();
        for (path, item) in &spec.paths.paths {
            let methods: Vec<Method> = [
                (item.get.is_some(), Method::GET),
                (item.get.is_some(), Method::HEAD),
                (item.post.is_some(), Method::POST),
                (item.put.is_some(), Method::PUT),
                (item.patch.is_some(), Method::PATCH),
                (item.delete.is_some(), Method::DELETE),
            ]
            .into_iter()
            .filter_map(|(present, method)| present.then_some(method))
            .collect();
            routes.push((ResourceDef::new(path.as_str()), methods));
        }
        routes.push((
            ResourceDef::new("/api/v1/openapi.json"),
            vec![Method::GET, Method::HEAD],
        ));
        Self {
            json: spec.to_pretty_json().expect("the spec serialises"),
            routes,
        }
    }

    /// The methods allowed on `path`, if it names a known route.
    fn allowed(&self, path: &str) -> Option<Vec<String>> {
        let mut allowed: Vec<String> = self
            .routes
            .iter()
            .filter(|(def, _)| def.is_match(path))
            .flat_map(|(_, methods)| methods.iter().map(|m| m.to_string()))
            .collect();
        allowed.sort();
        allowed.dedup();
        (!allowed.is_empty()).then_some(allowed)
    }
}

pub async fn openapi_json(spec: web::Data<ServedSpec>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .body(spec.json.clone())
}

/// Everything no route took: 405 with `Allow` for a known path, else 404.
pub async fn fallback(
    req: HttpRequest,
    spec: Option<web::Data<ServedSpec>>,
) -> Result<HttpResponse, ApiError> {
    let path = req.path();
    Err(match spec.and_then(|s| s.allowed(path)) {
        Some(allow) if !allow.iter().any(|m| m == req.method().as_str()) => {
            ApiError::MethodNotAllowed {
                method: req.method().to_string(),
                allow,
            }
        }
        _ => ApiError::RouteNotFound {
            method: req.method().to_string(),
            path: path.chars().take(200).collect(),
        },
    })
}
