//! Partner API keys over HTTP (admins only): the same operations as
//! `newsroom key …`, plus each key's usage per day. A secret is in the
//! answer to a create or a rotate, and nowhere else.

use actix_web::http::{StatusCode, header};
use actix_web::{HttpResponse, get, patch, post, web};
use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::api::auth::Staff;
use crate::api::{AppState, params};
use crate::auth::Role;
use crate::error::{ApiError, ApiResult, ParameterError, Problem};
use crate::http::ratelimit::Partners;
use crate::models::audit;
use crate::partners::cli::details;
use crate::partners::store::{self, ApiKey};
use crate::partners::{KeyFields, new_secret};

/// A partner key as admins see it (never its secret or hash).
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": 3, "name": "Báo Mới", "contact": "api@baomoi.example",
    "prefix": "nr_live_k3q7xz2a", "scopes": ["read", "full_text"],
    "per_minute": 1200, "burst": 120, "status": "active",
    "expires_at": "2027-12-31T17:00:00Z", "revoked_at": null, "rotated_at": null,
    "created_at": "2026-11-29T03:00:00Z", "created_by": 1, "updated_at": "2026-11-29T03:00:00Z"
}))]
pub struct ApiKeyView {
    pub id: i64,
    /// Who the key is for.
    pub name: String,
    /// How to reach them.
    pub contact: String,
    /// The public start of the secret (`nr_live_<prefix>_…`): enough to
    /// tell which key a leaked or logged secret is.
    pub prefix: String,
    /// `read` (every key) and `full_text` (full bodies in feeds and lists).
    pub scopes: Vec<String>,
    /// Steady rate: requests per minute.
    pub per_minute: i32,
    /// Requests allowed at once on top of the steady rate.
    pub burst: i32,
    /// `active`, `revoked` or `expired`.
    pub status: String,
    pub expires_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
    /// When the secret was last replaced.
    pub rotated_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    /// The staff user who created it (`null` for the command line).
    pub created_by: Option<i64>,
    pub updated_at: DateTime<Utc>,
}

impl From<ApiKey> for ApiKeyView {
    fn from(key: ApiKey) -> Self {
        Self {
            status: key.status(Utc::now()).to_owned(),
            scopes: key.scopes().iter().map(|s| s.as_str().to_owned()).collect(),
            prefix: format!("nr_live_{}", key.prefix),
            id: key.id,
            name: key.name,
            contact: key.contact,
            per_minute: key.per_minute,
            burst: key.burst,
            expires_at: key.expires_at,
            revoked_at: key.revoked_at,
            rotated_at: key.rotated_at,
            created_at: key.created_at,
            created_by: key.created_by,
            updated_at: key.updated_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ApiKeyList {
    pub items: Vec<ApiKeyView>,
}

/// A key with its secret: the only time the secret is shown.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "key": {"id": 3, "name": "Báo Mới", "contact": "api@baomoi.example", "prefix": "nr_live_k3q7xz2a",
            "scopes": ["read"], "per_minute": 1200, "burst": 120, "status": "active",
            "expires_at": null, "revoked_at": null, "rotated_at": null,
            "created_at": "2026-11-29T03:00:00Z", "created_by": 1, "updated_at": "2026-11-29T03:00:00Z"},
    "secret": "nr_live_k3q7xz2a_8Jd0TqQeV3mXr5pLw2Zs7YbNc1HfKu6AoGi9Ee4Rt0V"
}))]
pub struct ApiKeyWithSecret {
    pub key: ApiKeyView,
    /// Send it as `Authorization: Bearer …` or `X-Api-Key: …`. Shown only
    /// in this response; only its SHA-256 is stored.
    pub secret: String,
}

/// A new key; everything but `name` has a default.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"name": "Báo Mới", "contact": "api@baomoi.example", "scopes": ["read", "full_text"], "per_minute": 1200, "burst": 120, "expires_at": "2027-12-31T23:59:59+07:00"}))]
pub struct NewApiKeyInput {
    /// 1 to 200 characters.
    #[schema(min_length = 1, max_length = 200)]
    pub name: String,
    /// At most 320 characters; default empty.
    #[schema(max_length = 320)]
    pub contact: Option<String>,
    /// `read` (implied) and `full_text`; default `["read"]`.
    #[schema(value_type = Option<Vec<String>>, example = json!(["read"]))]
    pub scopes: Option<Vec<String>>,
    /// 1 to 60000000 (a million a second); default 1200.
    #[schema(minimum = 1, maximum = 60_000_000)]
    pub per_minute: Option<i64>,
    /// 1 to 100000; default 120.
    #[schema(minimum = 1, maximum = 100_000)]
    pub burst: Option<i64>,
    /// RFC 3339, in the future (at most ten years); default: never.
    #[schema(format = DateTime)]
    pub expires_at: Option<String>,
}

/// Changes to a key; absent fields stay as they are.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"per_minute": 3000, "burst": 300, "expires_at": null}))]
pub struct ApiKeyPatch {
    #[schema(min_length = 1, max_length = 200)]
    pub name: Option<String>,
    #[schema(max_length = 320)]
    pub contact: Option<String>,
    /// Replaces the scopes (`read` is implied).
    pub scopes: Option<Vec<String>>,
    #[schema(minimum = 1, maximum = 60_000_000)]
    pub per_minute: Option<i64>,
    #[schema(minimum = 1, maximum = 100_000)]
    pub burst: Option<i64>,
    /// RFC 3339 in the future, or `null` for no expiry.
    #[serde(default, deserialize_with = "crate::api::admin::nullable")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub expires_at: Option<Option<String>>,
}

fn expiry(text: &str, errors: &mut Vec<ParameterError>) -> Option<DateTime<Utc>> {
    let parsed = DateTime::parse_from_rfc3339(text.trim()).ok();
    if parsed.is_none() {
        errors.push(ParameterError {
            parameter: "expires_at".into(),
            reason: "must be an RFC 3339 time such as 2027-12-31T23:59:59+07:00".into(),
        });
    }
    parsed.map(|t| t.with_timezone(&Utc))
}

use crate::api::admin_users::no_store;

const MANAGE: &str = "manage API keys";

/// Create a partner key.
///
/// The answer holds the secret, once: store it then.
#[utoipa::path(
    operation_id = "create_api_key",
    tag = "admin",
    security(("bearer" = [])),
    request_body = NewApiKeyInput,
    responses(
        (status = 201, description = "Created; the secret is in this answer only", body = ApiKeyWithSecret),
        (status = 400, description = "Malformed JSON or unknown fields", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Takes the admin role", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields (nothing is stored)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/admin/keys")]
pub async fn create_api_key(
    state: web::Data<AppState>,
    staff: Staff,
    body: web::Json<NewApiKeyInput>,
) -> ApiResult<HttpResponse> {
    staff.require(Role::Admin, MANAGE)?;
    let input = body.into_inner();
    let mut errors = Vec::new();
    let expires_at = input.expires_at.as_deref().map(|t| expiry(t, &mut errors));
    let checked = KeyFields {
        name: Some(input.name),
        contact: input.contact,
        scopes: input.scopes,
        per_minute: input.per_minute,
        burst: input.burst,
        expires_at: expires_at.filter(Option::is_some),
    }
    .check(Utc::now());
    let fields = match checked {
        Ok(fields) if errors.is_empty() => fields,
        Ok(_) => return Err(ApiError::Validation(errors)),
        Err(more) => {
            errors.extend(more);
            return Err(ApiError::Validation(errors));
        }
    };
    let secret = new_secret();
    let mut conn = state.conn().await?;
    let key = state
        .change(&mut conn, async |conn, _| {
            let key = store::create(conn, &fields, &secret, Some(staff.id)).await?;
            audit::record(
                conn,
                Some(staff.id),
                "create",
                "api_key",
                Some(key.id),
                details(&key),
            )
            .await?;
            Ok(key)
        })
        .await?;
    Ok(no_store(StatusCode::CREATED)
        .insert_header((header::LOCATION, format!("/api/v1/admin/keys/{}", key.id)))
        .json(ApiKeyWithSecret {
            key: key.into(),
            secret: secret.secret,
        }))
}

/// List partner keys, newest first.
#[utoipa::path(
    operation_id = "list_api_keys",
    tag = "admin",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Every key, revoked and expired ones included", body = ApiKeyList),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Takes the admin role", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/admin/keys")]
pub async fn list_api_keys(state: web::Data<AppState>, staff: Staff) -> ApiResult<HttpResponse> {
    staff.require(Role::Admin, MANAGE)?;
    let mut conn = state.conn().await?;
    let items = store::list(&mut conn)
        .await?
        .into_iter()
        .map(ApiKeyView::from)
        .collect();
    Ok(no_store(StatusCode::OK).json(ApiKeyList { items }))
}

/// Get one partner key.
#[utoipa::path(
    operation_id = "get_api_key",
    tag = "admin",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "The key's id", minimum = 1, maximum = 9223372036854775807_i64, example = 3)),
    responses(
        (status = 200, description = "The key", body = ApiKeyView),
        (status = 400, description = "A bad id", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Takes the admin role", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such key", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/admin/keys/{id}")]
pub async fn get_api_key(
    state: web::Data<AppState>,
    staff: Staff,
    path: web::Path<String>,
) -> ApiResult<HttpResponse> {
    staff.require(Role::Admin, MANAGE)?;
    let id = params::positive("id", &path)?;
    let mut conn = state.conn().await?;
    let key = store::find(&mut conn, id)
        .await?
        .ok_or_else(|| ApiError::not_found("API key", id.to_string()))?;
    Ok(no_store(StatusCode::OK).json(ApiKeyView::from(key)))
}

/// Change a key's name, contact, scopes, limit or expiry.
///
/// Applies on this instance at once, on others within
/// `NEWSROOM_API_KEY_CACHE_SECS`.
#[utoipa::path(
    operation_id = "update_api_key",
    tag = "admin",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "The key's id", minimum = 1, maximum = 9223372036854775807_i64, example = 3)),
    request_body = ApiKeyPatch,
    responses(
        (status = 200, description = "Saved", body = ApiKeyView),
        (status = 400, description = "Malformed JSON, unknown fields or a bad id", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Takes the admin role", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such key", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields (nothing is changed)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[patch("/admin/keys/{id}")]
pub async fn update_api_key(
    state: web::Data<AppState>,
    partners: web::Data<Partners>,
    staff: Staff,
    path: web::Path<String>,
    body: web::Json<ApiKeyPatch>,
) -> ApiResult<HttpResponse> {
    staff.require(Role::Admin, MANAGE)?;
    let id = params::positive("id", &path)?;
    let patch = body.into_inner();
    let mut errors = Vec::new();
    let expires_at = match &patch.expires_at {
        Some(Some(text)) => expiry(text, &mut errors).map(Some),
        Some(None) => Some(None),
        None => None,
    };
    let checked = KeyFields {
        name: patch.name,
        contact: patch.contact,
        scopes: patch.scopes,
        per_minute: patch.per_minute,
        burst: patch.burst,
        expires_at,
    }
    .check(Utc::now());
    let fields = match checked {
        Ok(fields) if errors.is_empty() => fields,
        Ok(_) => return Err(ApiError::Validation(errors)),
        Err(more) => {
            errors.extend(more);
            return Err(ApiError::Validation(errors));
        }
    };
    let mut conn = state.conn().await?;
    let key = state
        .change(&mut conn, async |conn, _| {
            let key = store::update(conn, id, &fields)
                .await?
                .ok_or_else(|| ApiError::not_found("API key", id.to_string()))?;
            audit::record(
                conn,
                Some(staff.id),
                "update",
                "api_key",
                Some(id),
                details(&key),
            )
            .await?;
            Ok(key)
        })
        .await?;
    partners.forget(None);
    Ok(no_store(StatusCode::OK).json(ApiKeyView::from(key)))
}

/// Give a key a new secret; the old one stops working.
///
/// At once on this instance, within `NEWSROOM_API_KEY_CACHE_SECS` on
/// others. A revoked key cannot be rotated.
#[utoipa::path(
    operation_id = "rotate_api_key",
    tag = "admin",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "The key's id", minimum = 1, maximum = 9223372036854775807_i64, example = 3)),
    responses(
        (status = 200, description = "The key and its new secret, shown only here", body = ApiKeyWithSecret),
        (status = 400, description = "A bad id", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Takes the admin role", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such key", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The key is revoked", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/admin/keys/{id}/rotate")]
pub async fn rotate_api_key(
    state: web::Data<AppState>,
    partners: web::Data<Partners>,
    staff: Staff,
    path: web::Path<String>,
) -> ApiResult<HttpResponse> {
    staff.require(Role::Admin, MANAGE)?;
    let id = params::positive("id", &path)?;
    let secret = new_secret();
    let mut conn = state.conn().await?;
    let key = state
        .change(&mut conn, async |conn, _| {
            let Some(key) = store::rotate(conn, id, &secret).await? else {
                return Err(match store::find(conn, id).await? {
                    Some(_) => ApiError::Conflict("a revoked key cannot be rotated".into()),
                    None => ApiError::not_found("API key", id.to_string()),
                });
            };
            audit::record(
                conn,
                Some(staff.id),
                "rotate",
                "api_key",
                Some(id),
                details(&key),
            )
            .await?;
            Ok(key)
        })
        .await?;
    partners.forget(None);
    Ok(no_store(StatusCode::OK).json(ApiKeyWithSecret {
        key: key.into(),
        secret: secret.secret,
    }))
}

/// Revoke a key for good (revoking again changes nothing).
#[utoipa::path(
    operation_id = "revoke_api_key",
    tag = "admin",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "The key's id", minimum = 1, maximum = 9223372036854775807_i64, example = 3)),
    responses(
        (status = 200, description = "Revoked", body = ApiKeyView),
        (status = 400, description = "A bad id", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Takes the admin role", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such key", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/admin/keys/{id}/revoke")]
pub async fn revoke_api_key(
    state: web::Data<AppState>,
    partners: web::Data<Partners>,
    staff: Staff,
    path: web::Path<String>,
) -> ApiResult<HttpResponse> {
    staff.require(Role::Admin, MANAGE)?;
    let id = params::positive("id", &path)?;
    let mut conn = state.conn().await?;
    let key = state
        .change(&mut conn, async |conn, _| {
            let key = store::revoke(conn, id)
                .await?
                .ok_or_else(|| ApiError::not_found("API key", id.to_string()))?;
            audit::record(
                conn,
                Some(staff.id),
                "revoke",
                "api_key",
                Some(id),
                details(&key),
            )
            .await?;
            Ok(key)
        })
        .await?;
    partners.forget(Some(id));
    Ok(no_store(StatusCode::OK).json(ApiKeyView::from(key)))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct UsageQuery {
    /// First day (the site's calendar), `YYYY-MM-DD`; default 29 days
    /// before `to`.
    #[param(value_type = Option<String>, format = Date, example = "2026-11-01")]
    pub from: Option<String>,
    /// Last day, `YYYY-MM-DD`; default today. At most 366 days after `from`.
    #[param(value_type = Option<String>, format = Date, example = "2026-11-29")]
    pub to: Option<String>,
}

/// One day of a key's use.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"day": "2026-11-29", "requests": 15230, "limited": 12}))]
pub struct UsageDay {
    /// The site's calendar day.
    pub day: NaiveDate,
    /// Requests made with the key, refused ones included (answers from a
    /// shared cache in front of the API never reach it and are not
    /// counted).
    pub requests: i64,
    /// Of those, refused with 429.
    pub limited: i64,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"key_id": 3, "from": "2026-11-28", "to": "2026-11-29", "items": [{"day": "2026-11-29", "requests": 15230, "limited": 12}]}))]
pub struct UsageReport {
    pub key_id: i64,
    pub from: NaiveDate,
    pub to: NaiveDate,
    /// Days with any use, oldest first.
    pub items: Vec<UsageDay>,
}

fn day(name: &str, text: Option<&str>) -> ApiResult<Option<NaiveDate>> {
    text.map(|t| {
        NaiveDate::parse_from_str(t, "%Y-%m-%d")
            .map_err(|_| ApiError::invalid(name, "must be a date such as 2026-11-29"))
    })
    .transpose()
}

/// A key's requests per day.
///
/// Counts are buffered and written every few seconds by each instance;
/// the instance answering writes its own first.
#[utoipa::path(
    operation_id = "list_api_key_usage",
    tag = "admin",
    security(("bearer" = [])),
    params(
        ("id" = i64, Path, description = "The key's id", minimum = 1, maximum = 9223372036854775807_i64, example = 3),
        UsageQuery,
    ),
    responses(
        (status = 200, description = "Use per day", body = UsageReport),
        (status = 400, description = "A bad id or date", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Takes the admin role", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such key", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/admin/keys/{id}/usage")]
pub async fn list_api_key_usage(
    state: web::Data<AppState>,
    partners: web::Data<Partners>,
    staff: Staff,
    path: web::Path<String>,
    query: web::Query<UsageQuery>,
) -> ApiResult<HttpResponse> {
    staff.require(Role::Admin, MANAGE)?;
    let id = params::positive("id", &path)?;
    let today = Utc::now()
        .with_timezone(&state.settings.timezone)
        .date_naive();
    let to = day("to", query.to.as_deref())?.unwrap_or(today);
    let from = day("from", query.from.as_deref())?.unwrap_or(to - Duration::days(29));
    if from > to || (to - from).num_days() > 366 {
        return Err(ApiError::invalid(
            "from",
            "must be on or before `to`, at most 366 days before it",
        ));
    }
    if let Err(e) = partners.flush_usage(&state.pool).await {
        // The counts stay buffered; the answer is what is written.
        log::warn!("writing API key usage failed (kept for the next try): {e}");
    }
    let mut conn = state.conn().await?;
    store::find(&mut conn, id)
        .await?
        .ok_or_else(|| ApiError::not_found("API key", id.to_string()))?;
    let items = store::usage(&mut conn, id, from, to)
        .await?
        .into_iter()
        .map(|u| UsageDay {
            day: u.day,
            requests: u.requests,
            limited: u.limited,
        })
        .collect();
    Ok(no_store(StatusCode::OK).json(UsageReport {
        key_id: id,
        from,
        to,
        items,
    }))
}
