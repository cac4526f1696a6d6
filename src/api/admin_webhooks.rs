//! Webhook endpoints over HTTP (admins only): register, list, change and
//! remove endpoints, read each one's delivery log and send deliveries
//! again. An endpoint's secret is in the answer to its creation only.

use actix_web::http::{StatusCode, header};
use actix_web::{HttpResponse, delete, get, patch, post, web};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::{IntoParams, ToSchema};

use crate::api::auth::Staff;
use crate::api::{AppState, params};
use crate::auth::Role;
use crate::error::{ApiError, ApiResult, ParameterError, Problem};
use crate::jobs::webhooks as worker;
use crate::models::audit;
use crate::models::webhook::{self, Delivery, Endpoint};
use crate::schema::webhook_endpoints;

const MANAGE: &str = "manage webhooks";

/// An endpoint as admins see it (never its secret).
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": 7, "url": "https://partner.example/hooks/newsroom", "description": "Báo Mới ingest",
    "events": ["article.published", "article.unpublished"], "active": true,
    "disabled_reason": null, "failure_count": 0,
    "created_at": "2026-11-29T03:00:00Z", "updated_at": "2026-11-29T03:00:00Z"
}))]
pub struct WebhookView {
    pub id: i64,
    pub url: String,
    pub description: String,
    /// Event types sent: `article.published`, `article.updated`,
    /// `article.unpublished`, `article.deleted`, `category.created`,
    /// `category.updated`, `category.deleted`, `article.*`, `category.*` or
    /// `*`.
    pub events: Vec<String>,
    /// Inactive endpoints are sent nothing. One an admin turned off gets no
    /// new events; one Newsroom disabled (see `disabled_reason`) keeps
    /// queueing them, sent when it is active again.
    pub active: bool,
    /// Why Newsroom disabled the endpoint (after a delivery failed for
    /// about a day); cleared when an admin activates it again.
    pub disabled_reason: Option<String>,
    /// Failed attempts in a row.
    pub failure_count: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<Endpoint> for WebhookView {
    fn from(e: Endpoint) -> Self {
        Self {
            id: e.id,
            url: e.url,
            description: e.description,
            events: e.events.into_iter().flatten().collect(),
            active: e.active,
            disabled_reason: e.disabled_reason,
            failure_count: e.failure_count,
            created_at: e.created_at,
            updated_at: e.updated_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookList {
    pub items: Vec<WebhookView>,
}

/// An endpoint with its signing secret: the only time it is shown.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "webhook": {"id": 7, "url": "https://partner.example/hooks/newsroom", "description": "",
                "events": ["*"], "active": true, "disabled_reason": null, "failure_count": 0,
                "created_at": "2026-11-29T03:00:00Z", "updated_at": "2026-11-29T03:00:00Z"},
    "secret": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSwJ5fT0a1b"
}))]
pub struct WebhookWithSecret {
    pub webhook: WebhookView,
    /// `whsec_<base64>`: verify `webhook-signature` with the decoded part
    /// as the HMAC-SHA256 key (see the README). Shown only here.
    pub secret: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"url": "https://partner.example/hooks/newsroom", "description": "Báo Mới ingest", "events": ["article.published", "article.unpublished"]}))]
pub struct NewWebhookInput {
    /// An http or https URL on a public address.
    #[schema(max_length = 2000)]
    pub url: String,
    #[schema(max_length = 500)]
    pub description: Option<String>,
    /// At least one event type (or `*`).
    #[schema(example = json!(["*"]))]
    pub events: Vec<String>,
    /// Default true.
    pub active: Option<bool>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"active": true}))]
pub struct WebhookPatch {
    #[schema(max_length = 2000)]
    pub url: Option<String>,
    #[schema(max_length = 500)]
    pub description: Option<String>,
    pub events: Option<Vec<String>>,
    /// `true` re-enables a disabled endpoint (clearing its reason and
    /// failure count); its pending deliveries go out again.
    pub active: Option<bool>,
}

/// One delivery of one event to one endpoint.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": 1042, "event_id": "msg_5f0c2a9e7b3d4c1a8e6f0b2d4c6a8e0f", "event_type": "article.published",
    "payload": {"type": "article.published", "timestamp": "2026-11-29T03:00:00.000Z",
                "data": {"id": 12, "slug": "bao-so-3", "url": "https://news.example/bao-so-3",
                         "api_url": "https://news.example/api/v1/articles/id/12"}},
    "status": "delivered", "attempts": 1, "next_attempt_at": "2026-11-29T03:00:00Z",
    "last_status_code": 200, "last_latency_ms": 84, "last_response_excerpt": "ok",
    "created_at": "2026-11-29T03:00:00Z", "delivered_at": "2026-11-29T03:00:00Z"
}))]
pub struct DeliveryView {
    pub id: i64,
    /// The `webhook-id` header: the same for every attempt and replay.
    pub event_id: String,
    pub event_type: String,
    /// The body sent.
    #[schema(value_type = Object)]
    pub payload: serde_json::Value,
    /// `pending`, `delivered` or `failed`.
    pub status: String,
    pub attempts: i32,
    pub next_attempt_at: DateTime<Utc>,
    /// The HTTP status of the last attempt (`null`: no answer).
    pub last_status_code: Option<i32>,
    pub last_latency_ms: Option<i32>,
    /// The first 500 bytes of the last answer, or why there was none.
    pub last_response_excerpt: Option<String>,
    pub created_at: DateTime<Utc>,
    pub delivered_at: Option<DateTime<Utc>>,
}

impl From<Delivery> for DeliveryView {
    fn from(d: Delivery) -> Self {
        Self {
            id: d.id,
            event_id: d.event_id,
            event_type: d.event_type,
            payload: d.payload,
            status: d.status,
            attempts: d.attempts,
            next_attempt_at: d.next_attempt_at,
            last_status_code: d.last_status_code,
            last_latency_ms: d.last_latency_ms,
            last_response_excerpt: d.last_response_excerpt,
            created_at: d.created_at,
            delivered_at: d.delivered_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DeliveryPage {
    /// Newest first.
    pub items: Vec<DeliveryView>,
    /// Pass as `before` for the next (older) page; `null` on the last.
    pub next_before: Option<i64>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct DeliveryQuery {
    /// Only deliveries with a smaller id (from `next_before`).
    #[param(value_type = Option<i64>, minimum = 1, example = 1042)]
    pub before: Option<String>,
    /// 1 to 100; default 20.
    #[param(value_type = Option<i64>, minimum = 1, maximum = 100, example = 20)]
    pub limit: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ReplayQuery {
    /// RFC 3339: every event sent to the endpoint since then is sent again.
    #[param(value_type = String, format = DateTime, example = "2026-11-29T00:00:00+07:00")]
    pub since: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"replayed": 12}))]
pub struct ReplayReport {
    /// Events queued again (at most 10,000).
    pub replayed: usize,
}

use crate::api::admin_users::no_store;

async fn check_url(
    state: &AppState,
    url: &str,
    errors: &mut Vec<ParameterError>,
) -> Option<String> {
    let reason = if url.len() > 2000 {
        Err("must be at most 2000 characters".to_owned())
    } else {
        match worker::check_url(url) {
            Ok(parsed) => worker::resolve(&parsed, state.settings.webhooks.allow_private)
                .await
                .map(|_| parsed.to_string()),
            Err(e) => Err(e),
        }
    };
    match reason {
        Ok(url) => Some(url),
        Err(reason) => {
            errors.push(ParameterError {
                parameter: "url".into(),
                reason,
            });
            None
        }
    }
}

fn check_events(events: &[String], errors: &mut Vec<ParameterError>) -> Vec<String> {
    let mut out: Vec<String> = events.iter().map(|e| e.trim().to_owned()).collect();
    out.sort();
    out.dedup();
    if out.is_empty() {
        errors.push(ParameterError {
            parameter: "events".into(),
            reason: "name at least one event type, or `*`".into(),
        });
    }
    for e in &out {
        if !webhook::known_event(e) {
            errors.push(ParameterError {
                parameter: "events".into(),
                reason: format!(
                    "`{e}` is not an event type; known: {}, article.*, category.* and *",
                    webhook::EVENTS.join(", ")
                ),
            });
        }
    }
    out
}

fn check_description(text: &str, errors: &mut Vec<ParameterError>) -> String {
    if text.chars().count() > 500 {
        errors.push(ParameterError {
            parameter: "description".into(),
            reason: "must be at most 500 characters".into(),
        });
    }
    text.trim().to_owned()
}

fn details(e: &Endpoint) -> serde_json::Value {
    json!({"url": e.url, "events": e.events, "active": e.active})
}

/// Register a webhook endpoint.
///
/// The URL must be http or https and resolve to public addresses only
/// (unless `NEWSROOM_WEBHOOK_ALLOW_PRIVATE`). The answer holds the signing
/// secret, once.
#[utoipa::path(
    operation_id = "create_webhook",
    tag = "admin",
    security(("bearer" = [])),
    request_body = NewWebhookInput,
    responses(
        (status = 201, description = "Registered; the secret is in this answer only", body = WebhookWithSecret),
        (status = 400, description = "Malformed JSON or unknown fields", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Takes the admin role", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A bad or non-public URL, or unknown events", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/admin/webhooks")]
pub async fn create_webhook(
    state: web::Data<AppState>,
    staff: Staff,
    body: web::Json<NewWebhookInput>,
) -> ApiResult<HttpResponse> {
    staff.require(Role::Admin, MANAGE)?;
    let input = body.into_inner();
    let mut errors = Vec::new();
    let url = check_url(&state, &input.url, &mut errors).await;
    let events = check_events(&input.events, &mut errors);
    let description = check_description(input.description.as_deref().unwrap_or(""), &mut errors);
    let Some(url) = url.filter(|_| errors.is_empty()) else {
        return Err(ApiError::Validation(errors));
    };
    let secret = worker::new_secret();
    let mut conn = state.conn().await?;
    let endpoint = state
        .change(&mut conn, async |conn, _| {
            let endpoint: Endpoint = diesel::insert_into(webhook_endpoints::table)
                .values((
                    webhook_endpoints::url.eq(&url),
                    webhook_endpoints::description.eq(&description),
                    webhook_endpoints::events.eq(&events),
                    webhook_endpoints::secret.eq(&secret),
                    webhook_endpoints::active.eq(input.active.unwrap_or(true)),
                ))
                .returning(Endpoint::as_returning())
                .get_result(conn)
                .await?;
            audit::record(
                conn,
                Some(staff.id),
                "create",
                "webhook",
                Some(endpoint.id),
                details(&endpoint),
            )
            .await?;
            Ok(endpoint)
        })
        .await?;
    Ok(no_store(StatusCode::CREATED)
        .insert_header((
            header::LOCATION,
            format!("/api/v1/admin/webhooks/{}", endpoint.id),
        ))
        .json(WebhookWithSecret {
            webhook: endpoint.into(),
            secret,
        }))
}

/// List webhook endpoints, newest first.
#[utoipa::path(
    operation_id = "list_webhooks",
    tag = "admin",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Every endpoint", body = WebhookList),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Takes the admin role", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/admin/webhooks")]
pub async fn list_webhooks(state: web::Data<AppState>, staff: Staff) -> ApiResult<HttpResponse> {
    staff.require(Role::Admin, MANAGE)?;
    let mut conn = state.conn().await?;
    let items = webhook::list_endpoints(&mut conn)
        .await?
        .into_iter()
        .map(WebhookView::from)
        .collect();
    Ok(no_store(StatusCode::OK).json(WebhookList { items }))
}

async fn endpoint(state: &AppState, path: &str) -> ApiResult<Endpoint> {
    let id = params::positive("id", path)?;
    let mut conn = state.conn().await?;
    webhook::find_endpoint(&mut conn, id)
        .await?
        .ok_or_else(|| ApiError::not_found("webhook", id.to_string()))
}

/// Get one webhook endpoint (with why it was disabled, if it was).
#[utoipa::path(
    operation_id = "get_webhook",
    tag = "admin",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "The endpoint's id", minimum = 1, maximum = 9223372036854775807_i64, example = 7)),
    responses(
        (status = 200, description = "The endpoint", body = WebhookView),
        (status = 400, description = "A bad id", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Takes the admin role", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such endpoint", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/admin/webhooks/{id}")]
pub async fn get_webhook(
    state: web::Data<AppState>,
    staff: Staff,
    path: web::Path<String>,
) -> ApiResult<HttpResponse> {
    staff.require(Role::Admin, MANAGE)?;
    let endpoint = endpoint(&state, &path).await?;
    Ok(no_store(StatusCode::OK).json(WebhookView::from(endpoint)))
}

/// Change an endpoint's URL, description, events, or activate it again.
#[utoipa::path(
    operation_id = "update_webhook",
    tag = "admin",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "The endpoint's id", minimum = 1, maximum = 9223372036854775807_i64, example = 7)),
    request_body = WebhookPatch,
    responses(
        (status = 200, description = "Saved", body = WebhookView),
        (status = 400, description = "Malformed JSON, unknown fields or a bad id", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Takes the admin role", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such endpoint", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A bad or non-public URL, or unknown events", body = Problem, content_type = "application/problem+json"),
    )
)]
#[patch("/admin/webhooks/{id}")]
pub async fn update_webhook(
    state: web::Data<AppState>,
    staff: Staff,
    path: web::Path<String>,
    body: web::Json<WebhookPatch>,
) -> ApiResult<HttpResponse> {
    staff.require(Role::Admin, MANAGE)?;
    let id = params::positive("id", &path)?;
    let patch = body.into_inner();
    let mut errors = Vec::new();
    let url = match &patch.url {
        Some(u) => check_url(&state, u, &mut errors).await,
        None => None,
    };
    let events = patch
        .events
        .as_deref()
        .map(|e| check_events(e, &mut errors));
    let description = patch
        .description
        .as_deref()
        .map(|d| check_description(d, &mut errors));
    ApiError::fail_if_any(errors)?;
    let mut conn = state.conn().await?;
    let endpoint = state
        .change(&mut conn, async |conn, _| {
            let found = webhook::find_endpoint(conn, id)
                .await?
                .ok_or_else(|| ApiError::not_found("webhook", id.to_string()))?;
            let reactivated = patch.active == Some(true);
            let endpoint: Endpoint = diesel::update(webhook_endpoints::table.find(id))
                .set((
                    webhook_endpoints::url.eq(url.unwrap_or(found.url)),
                    webhook_endpoints::description.eq(description.unwrap_or(found.description)),
                    webhook_endpoints::events
                        .eq(events.map_or(found.events, |e| e.into_iter().map(Some).collect())),
                    webhook_endpoints::active.eq(patch.active.unwrap_or(found.active)),
                    webhook_endpoints::disabled_reason.eq(if reactivated {
                        None
                    } else {
                        found.disabled_reason
                    }),
                    webhook_endpoints::failure_count.eq(if reactivated {
                        0
                    } else {
                        found.failure_count
                    }),
                    webhook_endpoints::updated_at.eq(diesel::dsl::now),
                ))
                .returning(Endpoint::as_returning())
                .get_result(conn)
                .await?;
            audit::record(
                conn,
                Some(staff.id),
                "update",
                "webhook",
                Some(id),
                details(&endpoint),
            )
            .await?;
            Ok(endpoint)
        })
        .await?;
    Ok(no_store(StatusCode::OK).json(WebhookView::from(endpoint)))
}

/// Remove an endpoint with its delivery log (pending deliveries are
/// dropped).
#[utoipa::path(
    operation_id = "delete_webhook",
    tag = "admin",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "The endpoint's id", minimum = 1, maximum = 9223372036854775807_i64, example = 7)),
    responses(
        (status = 204, description = "Removed"),
        (status = 400, description = "A bad id", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Takes the admin role", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such endpoint", body = Problem, content_type = "application/problem+json"),
    )
)]
#[delete("/admin/webhooks/{id}")]
pub async fn delete_webhook(
    state: web::Data<AppState>,
    staff: Staff,
    path: web::Path<String>,
) -> ApiResult<HttpResponse> {
    staff.require(Role::Admin, MANAGE)?;
    let id = params::positive("id", &path)?;
    let mut conn = state.conn().await?;
    state
        .change(&mut conn, async |conn, _| {
            let endpoint: Endpoint = diesel::delete(webhook_endpoints::table.find(id))
                .returning(Endpoint::as_returning())
                .get_result(conn)
                .await
                .optional()?
                .ok_or_else(|| ApiError::not_found("webhook", id.to_string()))?;
            audit::record(
                conn,
                Some(staff.id),
                "delete",
                "webhook",
                Some(id),
                details(&endpoint),
            )
            .await?;
            Ok(())
        })
        .await?;
    Ok(no_store(StatusCode::NO_CONTENT).finish())
}

/// An endpoint's delivery log, newest first.
#[utoipa::path(
    operation_id = "list_webhook_deliveries",
    tag = "admin",
    security(("bearer" = [])),
    params(
        ("id" = i64, Path, description = "The endpoint's id", minimum = 1, maximum = 9223372036854775807_i64, example = 7),
        DeliveryQuery,
    ),
    responses(
        (status = 200, description = "A page of deliveries", body = DeliveryPage),
        (status = 400, description = "A bad id, `before` or `limit`", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Takes the admin role", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such endpoint", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/admin/webhooks/{id}/deliveries")]
pub async fn list_webhook_deliveries(
    state: web::Data<AppState>,
    staff: Staff,
    path: web::Path<String>,
    query: web::Query<DeliveryQuery>,
) -> ApiResult<HttpResponse> {
    staff.require(Role::Admin, MANAGE)?;
    let endpoint = endpoint(&state, &path).await?;
    let before = query
        .before
        .as_deref()
        .map(|b| params::positive("before", b))
        .transpose()?;
    let limit = params::limit(
        query.limit.as_deref(),
        params::DEFAULT_LIMIT,
        params::MAX_LIMIT,
    )?;
    let mut conn = state.conn().await?;
    let mut rows = webhook::deliveries(&mut conn, endpoint.id, before, limit + 1).await?;
    let more = rows.len() as i64 > limit;
    rows.truncate(usize::try_from(limit).unwrap_or(0));
    let next_before = if more {
        rows.last().map(|d| d.id)
    } else {
        None
    };
    Ok(no_store(StatusCode::OK).json(DeliveryPage {
        items: rows.into_iter().map(DeliveryView::from).collect(),
        next_before,
    }))
}

/// Send one delivery's event again (as a new delivery, same `webhook-id`).
#[utoipa::path(
    operation_id = "replay_webhook_delivery",
    tag = "admin",
    security(("bearer" = [])),
    params(
        ("id" = i64, Path, description = "The endpoint's id", minimum = 1, maximum = 9223372036854775807_i64, example = 7),
        ("delivery_id" = i64, Path, description = "The delivery's id", minimum = 1, maximum = 9223372036854775807_i64, example = 1042),
    ),
    responses(
        (status = 202, description = "Queued", body = DeliveryView),
        (status = 400, description = "A bad id", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Takes the admin role", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such endpoint or delivery", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/admin/webhooks/{id}/deliveries/{delivery_id}/replay")]
pub async fn replay_webhook_delivery(
    state: web::Data<AppState>,
    staff: Staff,
    path: web::Path<(String, String)>,
) -> ApiResult<HttpResponse> {
    staff.require(Role::Admin, MANAGE)?;
    let id = params::positive("id", &path.0)?;
    let delivery_id = params::positive("delivery_id", &path.1)?;
    let mut conn = state.conn().await?;
    let delivery = state
        .change(&mut conn, async |conn, _| {
            let delivery = webhook::replay(conn, id, delivery_id)
                .await?
                .ok_or_else(|| ApiError::not_found("delivery", delivery_id.to_string()))?;
            audit::record(
                conn,
                Some(staff.id),
                "replay",
                "webhook",
                Some(id),
                json!({"delivery": delivery_id, "new_delivery": delivery.id}),
            )
            .await?;
            Ok(delivery)
        })
        .await?;
    Ok(no_store(StatusCode::ACCEPTED).json(DeliveryView::from(delivery)))
}

/// Send every event since a time again (each once).
#[utoipa::path(
    operation_id = "replay_webhook_deliveries",
    tag = "admin",
    security(("bearer" = [])),
    params(
        ("id" = i64, Path, description = "The endpoint's id", minimum = 1, maximum = 9223372036854775807_i64, example = 7),
        ReplayQuery,
    ),
    responses(
        (status = 202, description = "Queued", body = ReplayReport),
        (status = 400, description = "A bad id or a missing or bad `since`", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Takes the admin role", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such endpoint", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/admin/webhooks/{id}/replay")]
pub async fn replay_webhook_deliveries(
    state: web::Data<AppState>,
    staff: Staff,
    path: web::Path<String>,
    query: web::Query<ReplayQuery>,
) -> ApiResult<HttpResponse> {
    staff.require(Role::Admin, MANAGE)?;
    let since = params::time("since", query.since.as_deref())?
        .ok_or_else(|| ApiError::invalid("since", "is required: an RFC 3339 time"))?;
    let endpoint = endpoint(&state, &path).await?;
    let mut conn = state.conn().await?;
    let replayed = state
        .change(&mut conn, async |conn, _| {
            let n = webhook::replay_since(conn, endpoint.id, since).await?;
            audit::record(
                conn,
                Some(staff.id),
                "replay",
                "webhook",
                Some(endpoint.id),
                json!({"since": since, "replayed": n}),
            )
            .await?;
            Ok(n)
        })
        .await?;
    Ok(no_store(StatusCode::ACCEPTED).json(ReplayReport { replayed }))
}
