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
            // One reason for every refusal: which check failed is logged,
            // not told.
            let refused = || ApiError::Unauthorized("the access token is not valid".into());
            let claims = state.settings.tokens.verify(&token).ok_or_else(refused)?;
            let id: i64 = claims.sub.parse().map_err(|_| refused())?;
            let mut conn = state.conn().await?;
            let user = staff::session_user(&mut conn, id, &claims.sid)
                .await?
                // Issued before the password changed: from an older sign-in.
                .filter(|u| claims.iat >= u.password_changed_at.timestamp())
                .ok_or_else(refused)?;
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
    /// No control characters; at most 254 characters.
    #[schema(max_length = 254, pattern = "^[^\\u0000-\\u001F\\u007F-\\u009F]*$")]
    pub email: String,
    /// Any characters but NUL; at most 1024.
    #[schema(max_length = 1024, pattern = "^[^\\u0000]*$")]
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

/// Sign-in attempts: per account and address (a guesser at one account),
/// per account (guessers spread over many addresses; short waits, so its
/// owner gets in), per address (one address trying many accounts, and
/// logins of any outcome).
const PAIR: staff::Throttle = staff::Throttle {
    free: 5,
    max_delay_secs: 300,
};
const ACCOUNT: staff::Throttle = staff::Throttle {
    free: 20,
    max_delay_secs: 60,
};
const ADDRESS: staff::Throttle = staff::Throttle {
    free: 30,
    max_delay_secs: 300,
};

/// How long a login waits for a turn at the password hash before giving up.
const HASH_QUEUE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

async fn issue(
    state: &AppState,
    conn: &mut diesel_async::AsyncPgConnection,
    user: &staff::StaffUser,
    session: Option<String>,
) -> ApiResult<TokenResponse> {
    let role = Role::parse(&user.role)
        .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("unknown role")))?;
    let now = Utc::now();
    let keys = &state.settings.tokens;
    let session = match session {
        Some(session) => session,
        None => staff::create_session(conn, user.id).await?,
    };
    let (access_token, expires) = keys.issue(user.id, &session, role, now)?;
    let (refresh_token, digest) = auth::new_opaque_token();
    staff::store_refresh(conn, user.id, &session, &digest, now + keys.refresh_ttl).await?;
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

/// Checks `password` against `hash` (or burns the same time when there is
/// no account) on the blocking pool, a bounded number at a time, so a burst
/// of logins cannot take every core from readers.
async fn check_password(
    state: &AppState,
    password: String,
    hash: Option<String>,
) -> ApiResult<bool> {
    let permit = tokio::time::timeout(HASH_QUEUE_TIMEOUT, state.password_checks.acquire())
        .await
        .map_err(|_| ApiError::Unavailable("too many sign-ins at once".into()))?
        .map_err(|e| ApiError::Internal(e.into()))?;
    let ok = web::block(move || match hash {
        Some(hash) => auth::verify_password(&password, &hash),
        None => {
            auth::verify_against_nothing(&password);
            false
        }
    })
    .await
    .map_err(|e| ApiError::Internal(e.into()))?;
    drop(permit);
    Ok(ok)
}

/// Sign in with email and password.
///
/// Returns a short-lived access token and a single-use refresh token.
/// Attempts are throttled before the password is checked, whatever their
/// outcome: after 5 attempts in 15 minutes for one account from one
/// address, 20 for one account, or 30 from one address, each further
/// attempt must wait 1, 2, 4, … seconds after the previous one (429 with
/// `Retry-After`; at most 5 minutes, 1 minute for an account). A success
/// clears its account's counters. The answer never tells whether the email
/// exists.
#[utoipa::path(
    operation_id = "login",
    tag = "auth",
    security(),
    request_body = LoginRequest,
    responses(
        (status = 200, description = "Signed in", body = TokenResponse),
        (status = 400, description = "The body is not valid JSON for this endpoint", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Wrong email or password", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many attempts; see `Retry-After`", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "Too many sign-ins at once, or the database is unreachable; see `Retry-After`", body = Problem, content_type = "application/problem+json"),
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
    if email.chars().count() > 254 || email.chars().any(char::is_control) {
        return Err(ApiError::invalid(
            "email",
            "must be an email address of at most 254 characters",
        ));
    }
    if body.password.chars().count() > 1024 || body.password.contains('\0') {
        return Err(ApiError::invalid(
            "password",
            "must be at most 1024 characters, without NUL",
        ));
    }
    let address = crate::http::client::client_ip(&req, &state.settings.trusted_proxies)
        .map_or_else(|| "unknown".to_owned(), |ip| ip.to_string());
    let account_key = format!("account:{email}");
    let pair_key = format!("pair:{email}|{address}");
    let user = {
        let mut conn = state.conn().await?;
        let checks = [
            (format!("address:{address}"), ADDRESS),
            (account_key.clone(), ACCOUNT),
            (pair_key.clone(), PAIR),
        ];
        for (key, throttle) in &checks {
            if let Err(wait) = staff::take_attempt(&mut conn, key, *throttle).await? {
                return Err(ApiError::TooManyRequests(wait));
            }
        }
        staff::find_by_email(&mut conn, &email).await?
        // The connection goes back to the pool before the slow hash.
    };
    let hash = user.as_ref().map(|u| u.password_hash.clone());
    let verified = check_password(&state, body.password, hash).await?;
    let Some(user) = user.filter(|u| verified && u.active) else {
        return Err(ApiError::Unauthorized("wrong email or password".into()));
    };
    let mut conn = state.conn().await?;
    staff::forget_attempts(&mut conn, &pair_key).await?;
    staff::forget_attempts(&mut conn, &account_key).await?;
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

/// Sign out: end the sign-in of this refresh token. Its refresh tokens and
/// every access token issued for it stop working at once.
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
