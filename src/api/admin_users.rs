//! Staff accounts over HTTP (admins only): the same operations as
//! `newsroom user …`, for an admin screen.

use actix_web::http::header;
use actix_web::{HttpResponse, get, patch, post, web};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncConnection, RunQueryDsl};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::api::auth::Staff;
use crate::api::{AppState, params};
use crate::auth::{self, Role};
use crate::error::{ApiError, ApiResult, ParameterError, Problem};
use crate::models::staff::{self, NewStaffUser, StaffUser};
use crate::models::{audit, author};
use crate::schema::staff_users;

/// A staff account as admins see it (never the password hash).
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"id": 2, "email": "bien.tap@newsroom.test", "display_name": "Biên tập viên", "role": "editor", "author_id": null, "active": true, "created_at": "2026-11-29T03:00:00Z"}))]
pub struct StaffView {
    pub id: i64,
    pub email: String,
    pub display_name: String,
    pub role: String,
    /// The author profile used in this user's bylines.
    pub author_id: Option<i64>,
    /// A disabled account cannot sign in and its tokens stop working.
    pub active: bool,
    pub created_at: DateTime<Utc>,
}

impl From<StaffUser> for StaffView {
    fn from(u: StaffUser) -> Self {
        Self {
            id: u.id,
            email: u.email,
            display_name: u.display_name,
            role: u.role,
            author_id: u.author_id,
            active: u.active,
            created_at: u.created_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct StaffList {
    pub items: Vec<StaffView>,
}

/// A new account; without `password` one is generated and returned once.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"email": "phong.vien@newsroom.test", "display_name": "Phóng viên", "role": "author", "author": "tran-thanh-mai"}))]
pub struct NewStaffInput {
    pub email: String,
    /// Defaults to the part of the email before `@`.
    pub display_name: Option<String>,
    /// `admin`, `editor`, `author` or `contributor`.
    pub role: String,
    /// Slug of the author profile for this user's bylines.
    pub author: Option<String>,
    /// At least 12 characters.
    pub password: Option<String>,
}

/// The created account, with the generated password when one was made.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"user": {"id": 3, "email": "phong.vien@newsroom.test", "display_name": "Phóng viên", "role": "author", "author_id": 1, "active": true, "created_at": "2026-11-29T03:00:00Z"}, "generated_password": "q3v…"}))]
pub struct CreatedStaff {
    pub user: StaffView,
    /// Shown only in this response.
    pub generated_password: Option<String>,
}

/// Changes to an account; absent fields stay as they are.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"role": "editor", "active": true}))]
pub struct StaffPatch {
    pub display_name: Option<String>,
    pub role: Option<String>,
    /// Author slug, or `null` to unlink.
    #[serde(default, deserialize_with = "crate::api::admin::nullable")]
    #[schema(value_type = Option<String>)]
    pub author: Option<Option<String>>,
    /// `false` disables the account and revokes its refresh tokens.
    pub active: Option<bool>,
    /// A new password, at least 12 characters; revokes refresh tokens.
    pub password: Option<String>,
}

fn check_role(errors: &mut Vec<ParameterError>, role: &str) {
    if Role::parse(role).is_none() {
        errors.push(ParameterError {
            parameter: "role".into(),
            reason: "must be admin, editor, author or contributor".into(),
        });
    }
}

fn check_display_name(errors: &mut Vec<ParameterError>, name: &str) {
    if name.trim().is_empty() || name.chars().count() > 200 {
        errors.push(ParameterError {
            parameter: "display_name".into(),
            reason: "must be 1 to 200 characters".into(),
        });
    }
}

fn check_password(errors: &mut Vec<ParameterError>, password: &str) {
    if password.chars().count() < 12 {
        errors.push(ParameterError {
            parameter: "password".into(),
            reason: "must be at least 12 characters".into(),
        });
    }
}

async fn author_id(
    conn: &diesel_async::AsyncPgConnection,
    slug: &str,
    errors: &mut Vec<ParameterError>,
) -> ApiResult<Option<i64>> {
    let found = match params::slug("author", Some(slug)) {
        Ok(_) => author::find_by_slug(conn, slug).await?,
        Err(_) => None,
    };
    if found.is_none() {
        errors.push(ParameterError {
            parameter: "author".into(),
            reason: "no author has this slug".into(),
        });
    }
    Ok(found.map(|a| a.id))
}

/// A staff answer no cache may keep (it may hold a secret shown once).
pub(crate) fn no_store(status: actix_web::http::StatusCode) -> actix_web::HttpResponseBuilder {
    let mut builder = HttpResponse::build(status);
    builder.insert_header((header::CACHE_CONTROL, "no-store"));
    builder
}

/// List staff accounts, by email.
#[utoipa::path(
    operation_id = "list_staff_users",
    tag = "admin",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Every staff account", body = StaffList),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Takes the admin role", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/admin/users")]
pub async fn list_staff_users(state: web::Data<AppState>, staff: Staff) -> ApiResult<HttpResponse> {
    staff.require(Role::Admin, "manage staff users")?;
    let mut conn = state.conn().await?;
    let items = staff::list(&mut conn)
        .await?
        .into_iter()
        .map(StaffView::from)
        .collect();
    Ok(no_store(actix_web::http::StatusCode::OK).json(StaffList { items }))
}

/// Create a staff account.
#[utoipa::path(
    operation_id = "create_staff_user",
    tag = "admin",
    security(("bearer" = [])),
    request_body = NewStaffInput,
    responses(
        (status = 201, description = "Created", body = CreatedStaff),
        (status = 400, description = "Malformed JSON or unknown fields", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Takes the admin role", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The email is taken", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/admin/users")]
pub async fn create_staff_user(
    state: web::Data<AppState>,
    staff: Staff,
    body: web::Json<NewStaffInput>,
) -> ApiResult<HttpResponse> {
    staff.require(Role::Admin, "manage staff users")?;
    let input = body.into_inner();
    let email = input.email.trim().to_lowercase();
    let mut errors = Vec::new();
    let (local, domain) = email.split_once('@').unwrap_or_default();
    if local.is_empty()
        || domain.is_empty()
        || domain.contains('@')
        || email.chars().any(char::is_whitespace)
        || email.len() > 254
    {
        errors.push(ParameterError {
            parameter: "email".into(),
            reason: "must be an email address".into(),
        });
    }
    let display_name = input
        .display_name
        .clone()
        .unwrap_or_else(|| local.to_owned());
    check_display_name(&mut errors, &display_name);
    check_role(&mut errors, &input.role);
    if let Some(p) = &input.password {
        check_password(&mut errors, p);
    }
    let mut conn = state.conn().await?;
    let author_id = match &input.author {
        Some(slug) => author_id(&conn, slug, &mut errors).await?,
        None => None,
    };
    ApiError::fail_if_any(errors)?;
    let (password, generated) = match input.password {
        Some(p) => (p, false),
        None => (auth::generate_password(), true),
    };
    let hash = hash_off_the_worker(password.clone()).await?;
    let user = conn
        .transaction::<_, ApiError, _>(async |conn| {
            let id = staff::create(
                conn,
                NewStaffUser {
                    email: &email,
                    display_name: display_name.trim(),
                    role: &input.role,
                    author_id,
                    password_hash: &hash,
                },
            )
            .await?;
            audit::record(
                conn,
                Some(staff.id),
                "create",
                "staff_user",
                Some(id),
                serde_json::json!({"email": email, "role": input.role}),
            )
            .await?;
            Ok(staff::find(conn, id).await?)
        })
        .await?
        .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("created user vanished")))?;
    Ok(
        no_store(actix_web::http::StatusCode::CREATED).json(CreatedStaff {
            user: user.into(),
            generated_password: generated.then_some(password),
        }),
    )
}

/// Change a staff account: name, role, author link, active flag, password.
/// Admins cannot demote or disable themselves (so one admin always remains).
#[utoipa::path(
    operation_id = "update_staff_user",
    tag = "admin",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "The staff user's id", minimum = 1, maximum = 9223372036854775807_i64, example = 2)),
    request_body = StaffPatch,
    responses(
        (status = 200, description = "Saved", body = StaffView),
        (status = 400, description = "Malformed JSON, unknown fields or a bad id", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Takes the admin role", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such staff user", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields, or an admin demoting or disabling themselves", body = Problem, content_type = "application/problem+json"),
    )
)]
#[patch("/admin/users/{id}")]
pub async fn update_staff_user(
    state: web::Data<AppState>,
    staff: Staff,
    path: web::Path<String>,
    body: web::Json<StaffPatch>,
) -> ApiResult<HttpResponse> {
    staff.require(Role::Admin, "manage staff users")?;
    let id = params::positive("id", &path)?;
    let patch = body.into_inner();
    let mut errors = Vec::new();
    if let Some(name) = &patch.display_name {
        check_display_name(&mut errors, name);
    }
    if let Some(role) = &patch.role {
        check_role(&mut errors, role);
        if id == staff.id && role != "admin" {
            errors.push(ParameterError {
                parameter: "role".into(),
                reason: "admins cannot demote themselves".into(),
            });
        }
    }
    if patch.active == Some(false) && id == staff.id {
        errors.push(ParameterError {
            parameter: "active".into(),
            reason: "admins cannot disable themselves".into(),
        });
    }
    if let Some(p) = &patch.password {
        check_password(&mut errors, p);
    }
    let mut conn = state.conn().await?;
    let author_link = match &patch.author {
        Some(Some(slug)) => Some(author_id(&conn, slug, &mut errors).await?),
        Some(None) => Some(None),
        None => None,
    };
    ApiError::fail_if_any(errors)?;
    let hash = match patch.password.clone() {
        Some(password) => Some(hash_off_the_worker(password).await?),
        None => None,
    };
    let user = conn
        .transaction::<_, ApiError, _>(async |conn| {
            let current = staff::find(conn, id)
                .await?
                .ok_or_else(|| ApiError::not_found("staff user", id.to_string()))?;
            let active = patch.active.unwrap_or(current.active);
            diesel::update(staff_users::table.find(id))
                .set((
                    staff_users::display_name.eq(patch
                        .display_name
                        .as_deref()
                        .map(str::trim)
                        .unwrap_or(&current.display_name)),
                    staff_users::role.eq(patch.role.as_deref().unwrap_or(&current.role)),
                    staff_users::author_id.eq(author_link.unwrap_or(current.author_id)),
                    staff_users::active.eq(active),
                    staff_users::password_hash
                        .eq(hash.as_deref().unwrap_or(&current.password_hash)),
                    staff_users::updated_at.eq(Utc::now()),
                ))
                .execute(conn)
                .await?;
            if hash.is_some() {
                diesel::update(staff_users::table.find(id))
                    .set(staff_users::password_changed_at.eq(Utc::now()))
                    .execute(conn)
                    .await?;
            }
            if !active || hash.is_some() {
                staff::revoke_sessions_of(conn, id).await?;
            }
            audit::record(
                conn,
                Some(staff.id),
                "update",
                "staff_user",
                Some(id),
                serde_json::json!({
                    "role": patch.role,
                    "active": patch.active,
                    "password_changed": hash.is_some(),
                }),
            )
            .await?;
            Ok(staff::find(conn, id).await?)
        })
        .await?
        .ok_or_else(|| ApiError::not_found("staff user", id.to_string()))?;
    Ok(no_store(actix_web::http::StatusCode::OK).json(StaffView::from(user)))
}

/// Hashing takes tens of milliseconds of CPU: not on an HTTP worker.
async fn hash_off_the_worker(password: String) -> ApiResult<String> {
    web::block(move || auth::hash_password(&password))
        .await
        .map_err(|e| ApiError::Internal(e.into()))?
        .map_err(ApiError::Internal)
}
