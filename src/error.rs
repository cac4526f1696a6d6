//! One error story for requests: every failure is an [`ApiError`], rendered as
//! an RFC 9457 `application/problem+json` document with a stable `code`.
//!
//! Client mistakes carry what was wrong; server-side failures are logged with
//! their cause and answered with an opaque 500 or 503.

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, ResponseError};
use serde::Serialize;
use utoipa::ToSchema;

pub type ApiResult<T> = Result<T, ApiError>;

/// An RFC 9457 problem document.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "type": "urn:newsroom:problem:invalid_parameter",
    "title": "Invalid parameter",
    "status": 400,
    "detail": "`limit` must be an integer from 1 to 100",
    "code": "invalid_parameter",
    "errors": [{"parameter": "limit", "reason": "must be an integer from 1 to 100"}]
}))]
pub struct Problem {
    /// A URI naming the kind of problem: `urn:newsroom:problem:{code}`.
    #[serde(rename = "type")]
    pub kind: String,
    /// A short, human-readable summary of the kind of problem.
    pub title: String,
    /// The HTTP status code.
    pub status: u16,
    /// What went wrong in this occurrence.
    pub detail: String,
    /// A stable, machine-readable code; the same as the end of `type`.
    pub code: String,
    /// The parameters or fields at fault, when there are any.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<ParameterError>,
    /// The request's id, as in the `X-Request-Id` response header (added
    /// to every problem on its way out).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(example = "5f0c2a9e1b7d4c3a8e6f1d2c3b4a5968")]
    pub request_id: Option<String>,
}

/// One parameter or field at fault.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({"parameter": "limit", "reason": "must be an integer from 1 to 100"}))]
pub struct ParameterError {
    /// The name of the query parameter, path segment or body field.
    pub parameter: String,
    /// Why its value was refused.
    pub reason: String,
}

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("`{parameter}` {reason}")]
    InvalidParameter { parameter: String, reason: String },
    #[error("the query string could not be read: {0}")]
    MalformedQuery(String),
    #[error("the request body is not valid JSON for this endpoint: {0}")]
    MalformedBody(String),
    #[error("the request body is larger than {0} bytes")]
    PayloadTooLarge(usize),
    #[error("`cursor` is not a cursor this endpoint issued for this sort order")]
    InvalidCursor,
    /// An upload that is not an image of a kind we take (judged by content).
    #[error("{0}")]
    UnsupportedMediaType(String),
    /// An image we take, but unreadable (truncated, corrupt) or too large
    /// in pixels to decode safely.
    #[error("{0}")]
    UnprocessableImage(String),
    #[error("no {resource} matches `{key}`")]
    NotFound { resource: &'static str, key: String },
    #[error("{0}")]
    Gone(String),
    #[error("no route matches {method} {path}")]
    RouteNotFound { method: String, path: String },
    #[error("{method} is not allowed here; allowed: {}", allow.join(", "))]
    MethodNotAllowed { method: String, allow: Vec<String> },
    #[error("authentication required: {0}")]
    Unauthorized(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    Conflict(String),
    #[error("the request has {} invalid field(s)", .0.len())]
    Validation(Vec<ParameterError>),
    #[error("the article changed since version {sent}; it is now at version {current}")]
    VersionMismatch { sent: i32, current: i32 },
    #[error("send `If-Match` with the ETag (or `version` in the body) of the version you edited")]
    PreconditionRequired,
    #[error("this cross-origin request is not allowed: {0}")]
    CorsRejected(String),
    #[error("too many failed attempts; retry in {0} seconds")]
    TooManyRequests(i64),
    /// A rate limit (`http::ratelimit`): the detail names whose and what.
    #[error("{detail}")]
    RateLimited { retry_after: u64, detail: String },
    #[error("the database is not reachable; retry shortly")]
    Unavailable(String),
    #[error("an internal error occurred")]
    Internal(#[from] anyhow::Error),
}

impl ApiError {
    pub fn invalid(parameter: impl Into<String>, reason: impl Into<String>) -> Self {
        Self::InvalidParameter {
            parameter: parameter.into(),
            reason: reason.into(),
        }
    }

    pub fn not_found(resource: &'static str, key: impl Into<String>) -> Self {
        Self::NotFound {
            resource,
            key: key.into(),
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            Self::InvalidParameter { .. } => "invalid_parameter",
            Self::MalformedQuery(_) => "malformed_query",
            Self::MalformedBody(_) => "malformed_body",
            Self::PayloadTooLarge(_) => "payload_too_large",
            Self::InvalidCursor => "invalid_cursor",
            Self::UnsupportedMediaType(_) => "unsupported_media_type",
            Self::UnprocessableImage(_) => "unprocessable_image",
            Self::NotFound { .. } => "not_found",
            Self::Gone(_) => "gone",
            Self::RouteNotFound { .. } => "route_not_found",
            Self::MethodNotAllowed { .. } => "method_not_allowed",
            Self::Unavailable(_) => "service_unavailable",
            Self::Internal(_) => "internal_error",
            Self::Unauthorized(_) => "unauthorized",
            Self::Forbidden(_) => "forbidden",
            Self::Conflict(_) => "conflict",
            Self::Validation(_) => "validation_failed",
            Self::VersionMismatch { .. } => "version_mismatch",
            Self::PreconditionRequired => "precondition_required",
            Self::TooManyRequests(_) => "too_many_requests",
            Self::RateLimited { .. } => "rate_limited",
            Self::CorsRejected(_) => "cors_rejected",
        }
    }

    /// A 422 listing `errors`, if there are any.
    pub fn fail_if_any(errors: Vec<ParameterError>) -> ApiResult<()> {
        match errors.is_empty() {
            true => Ok(()),
            false => Err(Self::Validation(errors)),
        }
    }

    pub fn validation(field: impl Into<String>, reason: impl Into<String>) -> Self {
        Self::Validation(vec![ParameterError {
            parameter: field.into(),
            reason: reason.into(),
        }])
    }

    fn title(&self) -> &'static str {
        match self {
            Self::InvalidParameter { .. } => "Invalid parameter",
            Self::MalformedQuery(_) => "Malformed query string",
            Self::MalformedBody(_) => "Malformed request body",
            Self::PayloadTooLarge(_) => "Request body too large",
            Self::InvalidCursor => "Invalid cursor",
            Self::UnsupportedMediaType(_) => "Unsupported media type",
            Self::UnprocessableImage(_) => "Unprocessable image",
            Self::NotFound { .. } => "Resource not found",
            Self::Gone(_) => "Gone",
            Self::RouteNotFound { .. } => "Route not found",
            Self::MethodNotAllowed { .. } => "Method not allowed",
            Self::Unavailable(_) => "Service unavailable",
            Self::Internal(_) => "Internal server error",
            Self::Unauthorized(_) => "Unauthorized",
            Self::Forbidden(_) => "Forbidden",
            Self::Conflict(_) => "Conflict",
            Self::Validation(_) => "Validation failed",
            Self::VersionMismatch { .. } => "Version mismatch",
            Self::PreconditionRequired => "Precondition required",
            Self::TooManyRequests(_) => "Too many requests",
            Self::RateLimited { .. } => "Rate limit exceeded",
            Self::CorsRejected(_) => "Cross-origin request rejected",
        }
    }

    pub fn problem(&self) -> Problem {
        let errors = match self {
            Self::InvalidParameter { parameter, reason } => vec![ParameterError {
                parameter: parameter.clone(),
                reason: reason.clone(),
            }],
            Self::InvalidCursor => vec![ParameterError {
                parameter: "cursor".into(),
                reason: "is not a cursor issued by this endpoint for this sort order".into(),
            }],
            Self::Validation(errors) => errors.clone(),
            _ => Vec::new(),
        };
        Problem {
            kind: format!("urn:newsroom:problem:{}", self.code()),
            title: self.title().to_owned(),
            status: self.status_code().as_u16(),
            detail: self.to_string(),
            code: self.code().to_owned(),
            errors,
            request_id: None,
        }
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::InvalidParameter { .. }
            | Self::MalformedQuery(_)
            | Self::MalformedBody(_)
            | Self::InvalidCursor
            | Self::CorsRejected(_) => StatusCode::BAD_REQUEST,
            Self::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            Self::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::UnprocessableImage(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Self::NotFound { .. } | Self::RouteNotFound { .. } => StatusCode::NOT_FOUND,
            Self::Gone(_) => StatusCode::GONE,
            Self::MethodNotAllowed { .. } => StatusCode::METHOD_NOT_ALLOWED,
            Self::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
            Self::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            Self::Forbidden(_) => StatusCode::FORBIDDEN,
            Self::Conflict(_) => StatusCode::CONFLICT,
            Self::Validation(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Self::VersionMismatch { .. } => StatusCode::PRECONDITION_FAILED,
            Self::PreconditionRequired => StatusCode::PRECONDITION_REQUIRED,
            Self::TooManyRequests(_) | Self::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
        }
    }

    fn error_response(&self) -> HttpResponse {
        match self {
            Self::Internal(cause) => log::error!("internal error: {cause:#}"),
            Self::Unavailable(cause) => log::warn!("database unavailable: {cause}"),
            _ => {}
        }
        let mut response = HttpResponse::build(self.status_code());
        response.content_type("application/problem+json");
        response.insert_header((header::CACHE_CONTROL, "no-store"));
        match self {
            Self::MethodNotAllowed { allow, .. } => {
                if let Ok(value) = HeaderValue::from_str(&allow.join(", ")) {
                    response.insert_header((header::ALLOW, value));
                }
            }
            Self::Unavailable(_) => {
                response.insert_header((header::RETRY_AFTER, "1"));
            }
            Self::TooManyRequests(seconds) => {
                response.insert_header((header::RETRY_AFTER, seconds.to_string()));
            }
            Self::RateLimited { retry_after, .. } => {
                response.insert_header((header::RETRY_AFTER, retry_after.to_string()));
            }
            Self::Unauthorized(_) => {
                response.insert_header((header::WWW_AUTHENTICATE, "Bearer realm=\"newsroom\""));
            }
            _ => {}
        }
        response.json(self.problem())
    }
}

impl From<diesel::result::Error> for ApiError {
    /// Problems name no table, column or constraint: the cause is logged.
    fn from(error: diesel::result::Error) -> Self {
        use diesel::result::{DatabaseErrorKind, Error};
        let Error::DatabaseError(kind, ref info) = error else {
            return match error {
                Error::NotFound => Self::not_found("resource", "the request"),
                // The connection died inside a transaction (PostgreSQL
                // stopped): nothing was committed, so a retry is safe.
                Error::BrokenTransactionManager => Self::Unavailable(error.to_string()),
                Error::RollbackErrorOnCommit { commit_error, .. } => Self::from(*commit_error),
                other => Self::Internal(anyhow::Error::new(other)),
            };
        };
        let message = info.message();
        if matches!(
            kind,
            DatabaseErrorKind::ClosedConnection | DatabaseErrorKind::UnableToSendCommand
        ) || is_connection_failure(message)
        {
            return Self::Unavailable(error.to_string());
        }
        log::info!("refused by the database: {message}");
        match kind {
            DatabaseErrorKind::UniqueViolation => {
                Self::Conflict("a record with this value already exists".into())
            }
            DatabaseErrorKind::ForeignKeyViolation => {
                Self::validation("request", "refers to something that does not exist")
            }
            DatabaseErrorKind::CheckViolation | DatabaseErrorKind::NotNullViolation => {
                Self::validation("request", "violates a constraint of the data model")
            }
            _ if is_unstorable_text(message) => Self::invalid(
                "request",
                "contains a character that cannot be stored (such as NUL, U+0000)",
            ),
            _ if message.contains("too long for tsvector") => {
                Self::validation("body", "is too long to be indexed for search")
            }
            _ => Self::Internal(anyhow::Error::new(error)),
        }
    }
}

/// SQLSTATE 22021/22P05 and friends: text PostgreSQL cannot hold.
fn is_unstorable_text(message: &str) -> bool {
    message.contains("invalid byte sequence")
        || message.contains("null character not permitted")
        || message.contains("unsupported Unicode escape sequence")
        || message.contains("has no equivalent in encoding")
}

impl From<diesel_async::pooled_connection::deadpool::PoolError> for ApiError {
    fn from(error: diesel_async::pooled_connection::deadpool::PoolError) -> Self {
        Self::Unavailable(error.to_string())
    }
}

/// What PostgreSQL (or the client library) says when the server went away,
/// is shutting down or is still starting.
fn is_connection_failure(message: &str) -> bool {
    [
        "connection closed",
        "terminating connection",
        "server closed the connection",
        "the database system is shutting down",
        "the database system is starting up",
        "the database system is in recovery mode",
        "Connection refused",
        "Connection reset",
        "Broken pipe",
        "error communicating with the server",
    ]
    .iter()
    .any(|m| message.contains(m))
}

/// Renders extractor failures (query strings, JSON bodies, paths) through the
/// same problem document as everything else.
pub fn query_error(
    error: actix_web::error::QueryPayloadError,
    _: &HttpRequest,
) -> actix_web::Error {
    let message = error.to_string();
    let message = message
        .strip_prefix("Query deserialize error: ")
        .unwrap_or(&message)
        .to_owned();
    // serde names the offending field in backticks for unknown and duplicate fields.
    match message.split('`').nth(1) {
        Some(field) if message.starts_with("unknown field") => ApiError::invalid(
            field,
            "is not a parameter of this endpoint".to_owned() + expected_suffix(&message),
        ),
        Some(field) if message.starts_with("duplicate field") => {
            ApiError::invalid(field, "is given more than once")
        }
        _ => ApiError::MalformedQuery(message),
    }
    .into()
}

fn expected_suffix(message: &str) -> &str {
    match message.find(", expected") {
        Some(at) => &message[at..],
        None => "",
    }
}

pub fn json_error(error: actix_web::error::JsonPayloadError, _: &HttpRequest) -> actix_web::Error {
    use actix_web::error::JsonPayloadError;
    match error {
        JsonPayloadError::OverflowKnownLength { limit, .. }
        | JsonPayloadError::Overflow { limit } => ApiError::PayloadTooLarge(limit),
        other => ApiError::MalformedBody(other.to_string()),
    }
    .into()
}

pub fn path_error(error: actix_web::error::PathError, _: &HttpRequest) -> actix_web::Error {
    ApiError::invalid("path", format!("could not be read: {error}")).into()
}
