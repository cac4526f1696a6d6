//! What every request goes through before routing, and every response
//! after: a request id, tracking parameters dropped, `HEAD` served as `GET`.

use actix_web::body::{self, BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::http::{Method, Uri, header};
use actix_web::middleware::Next;
use actix_web::{Error, HttpMessage};

pub static X_REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The id of the request being served (in request extensions).
#[derive(Debug, Clone)]
pub struct RequestId(pub String);

/// A client's own id when it is sane (1 to 128 of `A-Z a-z 0-9 . _ : -`),
/// else a new random one.
fn request_id_of(req: &ServiceRequest) -> String {
    req.headers()
        .get(&X_REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .filter(|v| {
            (1..=128).contains(&v.len())
                && v.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b".:_-".contains(&b))
        })
        .map_or_else(new_request_id, str::to_owned)
}

fn new_request_id() -> String {
    use rand::RngCore;
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut bytes = [0u8; 16];
    rand::rng().fill_bytes(&mut bytes);
    // On every request without an id of its own: no formatting machinery.
    let mut id = String::with_capacity(32);
    for b in bytes {
        id.push(HEX[usize::from(b >> 4)] as char);
        id.push(HEX[usize::from(b & 0xf)] as char);
    }
    id
}

/// Query parameters that link sharers and ad platforms add: ignored, and
/// left out of the cache key, so a shared link works and caches as one.
fn is_tracking_parameter(name: &str) -> bool {
    name.starts_with("utm_")
        || matches!(
            name,
            "fbclid"
                | "gclid"
                | "gbraid"
                | "wbraid"
                | "msclkid"
                | "yclid"
                | "ttclid"
                | "igshid"
                | "mc_cid"
                | "mc_eid"
                | "zarsrc"
                | "_"
        )
}

/// `query` without tracking parameters; `None` when there were none.
fn without_tracking(query: &str) -> Option<String> {
    let mut dropped = false;
    let kept: Vec<&str> = query
        .split('&')
        .filter(|pair| {
            let name = pair.split('=').next().unwrap_or("");
            let tracking = is_tracking_parameter(name);
            dropped |= tracking;
            !tracking && !pair.is_empty()
        })
        .collect();
    dropped.then(|| kept.join("&"))
}

/// Runs first on every request: gives it an id (echoed in `X-Request-Id`
/// and in problem documents as `request_id`), drops tracking parameters,
/// and answers `HEAD` as `GET` (the HTTP layer sends the headers, not the
/// body, because it remembers the method the client sent).
pub async fn prepare(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    let id = request_id_of(&req);
    req.extensions_mut().insert(RequestId(id.clone()));
    if let Some(query) = req.uri().query().and_then(without_tracking) {
        let path = req.uri().path();
        let rewritten = if query.is_empty() {
            path.to_owned()
        } else {
            format!("{path}?{query}")
        };
        if let Ok(uri) = rewritten.parse::<Uri>() {
            req.match_info_mut().get_mut().update(&uri);
            req.head_mut().uri = uri;
        }
    }
    if req.method() == Method::HEAD {
        req.head_mut().method = Method::GET;
    }
    let preflight = req.method() == Method::OPTIONS
        && req
            .headers()
            .contains_key(header::ACCESS_CONTROL_REQUEST_METHOD);
    let mut res = next.call(req).await?.map_into_boxed_body();
    if preflight && res.status().is_client_error() && !is_problem(&res) {
        res = cors_problem(res).await?;
    }
    let value = HeaderValue::from_str(&id).expect("request ids are visible ASCII");
    res.headers_mut().insert(X_REQUEST_ID.clone(), value);
    if is_problem(&res) {
        res = with_request_id(res, &id).await?;
    }
    Ok(res)
}

/// actix-cors refuses a preflight in plain text: the same answer, as a
/// problem document like every other error.
async fn cors_problem(res: ServiceResponse<BoxBody>) -> Result<ServiceResponse<BoxBody>, Error> {
    let (req, res) = res.into_parts();
    let bytes = body::to_bytes(res.into_body())
        .await
        .map_err(|e| actix_web::error::ErrorInternalServerError(e.to_string()))?;
    let reason = String::from_utf8_lossy(&bytes).trim().to_owned();
    let problem = crate::error::ApiError::CorsRejected(reason);
    let res = actix_web::ResponseError::error_response(&problem);
    Ok(ServiceResponse::new(req, res))
}

fn is_problem(res: &ServiceResponse<BoxBody>) -> bool {
    res.headers()
        .get(actix_web::http::header::CONTENT_TYPE)
        .is_some_and(|ct| ct.as_bytes().starts_with(b"application/problem+json"))
}

/// Adds `request_id` to a problem document, so a report quotes it.
async fn with_request_id(
    res: ServiceResponse<BoxBody>,
    id: &str,
) -> Result<ServiceResponse<BoxBody>, Error> {
    let (req, res) = res.into_parts();
    let (head, body) = res.into_parts();
    let bytes = body::to_bytes(body)
        .await
        .map_err(|e| actix_web::error::ErrorInternalServerError(e.to_string()))?;
    let bytes = match serde_json::from_slice::<serde_json::Value>(&bytes) {
        Ok(serde_json::Value::Object(mut problem)) => {
            problem.insert("request_id".into(), id.into());
            serde_json::to_vec(&problem).map_or(bytes, Into::into)
        }
        _ => bytes,
    };
    Ok(ServiceResponse::new(
        req,
        head.set_body(bytes).map_into_boxed_body(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tracking_parameters_go_and_the_rest_stay() {
        assert_eq!(without_tracking("limit=5"), None);
        assert_eq!(
            without_tracking("utm_source=zalo&limit=5&fbclid=x&_=17"),
            Some("limit=5".into())
        );
        assert_eq!(without_tracking("gclid=1&zarsrc=30"), Some(String::new()));
        assert_eq!(without_tracking("utmost=1"), None);
    }
}
