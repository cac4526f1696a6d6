//! Staff sign-in: login, refresh-token rotation with reuse detection,
//! logout, and the `Staff` extractor that guards every admin endpoint.

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{FromRequest, HttpRequest, HttpResponse, post, web};
use chrono::Utc;
use diesel_async::AsyncConnection;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::api::AppState;
use crate::auth::{self, Role};
use crate::error::{ApiError, ApiResult, Problem};
use crate::models::staff;

/// The signed-in staff user of a request, checked against the database on
/// every request so that disabling an account or changing a role takes
/// effect at once.
#[derive(Debug, Clone)]
pub struct Staff {
    pub id: i64,
    pub role: Role,
    pub author_id: Option<i64>,
}

impl Staff {
    /// Refuses unless the user's role is at least `role`.
    pub fn require(&self, role: Role, action: &str) -> ApiResult<()> {
        if self.role >= role {
            Ok(())
        } else {
            Err(ApiError::Forbidden(format!(
                "a {} may not {action}; it takes the {role} role or higher",
                self.role
            )))
        }
    }
}

impl FromRequest for Staff {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let state = req.app_data::<web::Data<AppState>>().cloned();
        let bearer = req
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| {
                v.strip_prefix("Bearer ")
                    .or_else(|| v.strip_prefix("bearer "))
            })
            .map(str::trim)
            .map(str::to_owned);
        Box::pin(async move {
            let state = state.ok_or_else(|| ApiError::Internal(anyhow::anyhow!("no app state")))?;
            let token = bearer.ok_or_else(|| {
                ApiError::Unauthorized("send `Authorization: Bearer <access token>`".into())
            })?;
            let claims = state.settings.tokens.verify(&token).map_err(|reason| {
                ApiError::Unauthorized(format!("the access token is not valid ({reason})"))
            })?;
            let id: i64 = claims
                .sub
                .parse()
                .map_err(|_| ApiError::Unauthorized("the access token names no user".into()))?;
            let mut conn = state.conn().await?;
            let user = staff::find(&mut conn, id)
                .await?
                .filter(|u| u.active)
                .ok_or_else(|| ApiError::Unauthorized("the account is disabled or gone".into()))?;
            let role = Role::parse(&user.role)
                .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("unknown role {}", user.role)))?;
            Ok(Staff {
                id,
                role,
                author_id: user.author_id,
            })
        })
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"email": "admin@newsroom.test", "password": "mật-khẩu-dài"}))]
pub struct LoginRequest {
    pub email: String,
    pub password: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"refresh_token": "x0y1…"}))]
pub struct RefreshRequest {
    pub refresh_token: String,
}

/// Tokens for a signed-in staff user.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "access_token": "eyJhbGciOiJIUzI1NiJ9…",
    "token_type": "Bearer",
    "expires_in": 900,
    "refresh_token": "x0y1…",
    "user": {"id": 1, "email": "admin@newsroom.test", "display_name": "Ban biên tập", "role": "admin"}
}))]
pub struct TokenResponse {
    pub access_token: String,
    pub token_type: String,
    /// Seconds until the access token expires.
    pub expires_in: i64,
    /// Single use: exchange it at `/auth/refresh` for a new pair.
    pub refresh_token: String,
    pub user: Me,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Me {
    pub id: i64,
    pub email: String,
    pub display_name: String,
    pub role: Role,
}

fn client_key(req: &HttpRequest) -> String {
    let ip = req
        .peer_addr()
        .map(|a| a.ip().to_string())
        .unwrap_or_else(|| "unknown".into());
    format!("ip:{ip}")
}

async fn issue(
    state: &AppState,
    conn: &mut diesel_async::AsyncPgConnection,
    user: &staff::StaffUser,
    family: Option<String>,
) -> ApiResult<TokenResponse> {
    let role = Role::parse(&user.role)
        .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("unknown role")))?;
    let now = Utc::now();
    let keys = &state.settings.tokens;
    let (access_token, expires) = keys.issue(user.id, role, now)?;
    let (refresh_token, digest) = auth::new_opaque_token();
    let family = family.unwrap_or_else(|| auth::new_opaque_token().1);
    staff::store_refresh(conn, user.id, &family, &digest, now + keys.refresh_ttl).await?;
    Ok(TokenResponse {
        access_token,
        token_type: "Bearer".into(),
        expires_in: (expires - now).num_seconds(),
        refresh_token,
        user: Me {
            id: user.id,
            email: user.email.clone(),
            display_name: user.display_name.clone(),
            role,
        },
    })
}

/// Sign in with email and password.
///
/// Returns a short-lived access token and a single-use refresh token. After
/// 5 failures in 15 minutes for one account or one client address, further
/// attempts are refused for 5 minutes (429 with `Retry-After`). The answer
/// never tells whether the email exists.
#[utoipa::path(
    operation_id = "login",
    tag = "auth",
    security(),
    request_body = LoginRequest,
    responses(
        (status = 200, description = "Signed in", body = TokenResponse),
        (status = 400, description = "The body is not valid JSON for this endpoint", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Wrong email or password", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many failures; see `Retry-After`", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/auth/login")]
pub async fn login(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Json<LoginRequest>,
) -> ApiResult<HttpResponse> {
    let body = body.into_inner();
    let email = body.email.trim().to_lowercase();
    let keys = [format!("email:{email}"), client_key(&req)];
    let mut conn = state.conn().await?;
    for key in &keys {
        if let Some(wait) = staff::locked_for(&mut conn, key).await? {
            return Err(ApiError::TooManyRequests(wait));
        }
    }
    let user = staff::find_by_email(&mut conn, &email).await?;
    let password = body.password;
    let verified = match user {
        Some(user) => {
            let hash = user.password_hash.clone();
            let ok = web::block(move || auth::verify_password(&password, &hash))
                .await
                .map_err(|e| ApiError::Internal(e.into()))?;
            (ok && user.active).then_some(user)
        }
        None => {
            web::block(move || auth::verify_against_nothing(&password))
                .await
                .map_err(|e| ApiError::Internal(e.into()))?;
            None
        }
    };
    let Some(user) = verified else {
        for key in &keys {
            staff::record_failure(&mut conn, key).await?;
        }
        return Err(ApiError::Unauthorized("wrong email or password".into()));
    };
    for key in &keys {
        staff::clear_failures(&mut conn, key).await?;
    }
    let tokens = issue(&state, &mut conn, &user, None).await?;
    crate::models::audit::record(
        &mut conn,
        Some(user.id),
        "login",
        "staff_user",
        Some(user.id),
        serde_json::json!({}),
    )
    .await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(tokens))
}

/// Exchange a refresh token for a new access token and refresh token.
///
/// The old refresh token stops working. Presenting an already rotated token
/// again is treated as theft: every token of that sign-in is revoked.
#[utoipa::path(
    operation_id = "refresh_token",
    tag = "auth",
    security(),
    request_body = RefreshRequest,
    responses(
        (status = 200, description = "A new token pair", body = TokenResponse),
        (status = 400, description = "The body is not valid JSON for this endpoint", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "The refresh token is unknown, expired, revoked or reused", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/auth/refresh")]
pub async fn refresh(
    state: web::Data<AppState>,
    body: web::Json<RefreshRequest>,
) -> ApiResult<HttpResponse> {
    let digest = auth::digest(body.refresh_token.trim());
    let mut conn = state.conn().await?;
    let state = state.into_inner();
    let outcome = conn
        .transaction::<_, ApiError, _>(async |conn| {
            let Some(token) = staff::find_refresh_for_update(conn, &digest).await? else {
                return Ok(Err("the refresh token is unknown"));
            };
            if token.rotated_at.is_some() {
                staff::revoke_family(conn, &token.family).await?;
                return Ok(Err(
                    "the refresh token was already used; this sign-in is revoked",
                ));
            }
            if token.revoked_at.is_some() || token.expires_at <= Utc::now() {
                return Ok(Err("the refresh token has expired or was revoked"));
            }
            let Some(user) = staff::find(conn, token.user_id).await?.filter(|u| u.active) else {
                return Ok(Err("the account is disabled"));
            };
            staff::mark_rotated(conn, token.id).await?;
            Ok(Ok(issue(&state, conn, &user, Some(token.family)).await?))
        })
        .await?;
    match outcome {
        Ok(tokens) => Ok(HttpResponse::Ok()
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .json(tokens)),
        Err(reason) => Err(ApiError::Unauthorized(reason.into())),
    }
}

/// Sign out: revoke the refresh token (and its whole sign-in).
///
/// Access tokens already issued stay valid until they expire (15 minutes by
/// default).
#[utoipa::path(
    operation_id = "logout",
    tag = "auth",
    security(),
    request_body = RefreshRequest,
    responses(
        (status = 204, description = "Signed out"),
        (status = 400, description = "The body is not valid JSON for this endpoint", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/auth/logout")]
pub async fn logout(
    state: web::Data<AppState>,
    body: web::Json<RefreshRequest>,
) -> ApiResult<HttpResponse> {
    let digest = auth::digest(body.refresh_token.trim());
    let mut conn = state.conn().await?;
    if let Some(token) = staff::find_refresh_for_update(&mut conn, &digest).await? {
        staff::revoke_family(&mut conn, &token.family).await?;
    }
    Ok(HttpResponse::NoContent().finish())
}
