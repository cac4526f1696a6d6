//! ETags for every successful GET, and an optional short-lived in-process
//! cache of those responses (micro-caching, as news sites do at the edge).
//!
//! A refresh with `If-None-Match` costs a 304 and no body. With the cache on
//! (`NEWSROOM_CACHE_TTL` seconds, default 1), identical requests within the
//! TTL are answered from memory; each instance keeps its own cache, so
//! instances agree again at most one TTL after a change.

use std::hash::{Hash, Hasher};
use std::sync::Arc;
use std::time::Duration;

use actix_web::body::{self, BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderValue};
use actix_web::http::{Method, StatusCode};
use actix_web::middleware::Next;
use actix_web::web::{Bytes, Data};
use actix_web::{Error, HttpRequest, HttpResponse};

/// At most this much response data is kept in memory.
const CACHE_BYTES: u64 = 64 * 1024 * 1024;

#[derive(Debug)]
struct Cached {
    body: Bytes,
    etag: HeaderValue,
    content_type: HeaderValue,
}

/// The response cache; a no-op when its TTL is zero.
#[derive(Clone)]
pub struct ResponseCache {
    entries: Option<moka::sync::Cache<String, Arc<Cached>>>,
}

impl ResponseCache {
    pub fn new(ttl_secs: u64) -> Self {
        let entries = (ttl_secs > 0).then(|| {
            moka::sync::Cache::builder()
                .max_capacity(CACHE_BYTES)
                .weigher(|key: &String, value: &Arc<Cached>| {
                    u32::try_from(key.len() + value.body.len()).unwrap_or(u32::MAX)
                })
                .time_to_live(Duration::from_secs(ttl_secs))
                .build()
        });
        Self { entries }
    }

    /// Forgets everything, e.g. after a write through this instance.
    pub fn clear(&self) {
        if let Some(entries) = &self.entries {
            entries.invalidate_all();
        }
    }
}

fn etag_of(body: &[u8]) -> HeaderValue {
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    body.hash(&mut hasher);
    HeaderValue::from_str(&format!("\"{:016x}\"", hasher.finish()))
        .expect("hex digits make a valid header value")
}

/// Whether `If-None-Match` names `etag` (weak comparison, as RFC 9110 asks).
fn not_modified(req: &HttpRequest, etag: &HeaderValue) -> bool {
    let Some(value) = req.headers().get(header::IF_NONE_MATCH) else {
        return false;
    };
    let Ok(value) = value.to_str() else {
        return false;
    };
    let ours = etag.to_str().unwrap_or_default();
    value.trim() == "*"
        || value
            .split(',')
            .map(|tag| tag.trim().trim_start_matches("W/"))
            .any(|tag| tag == ours)
}

fn respond(req: &HttpRequest, cached: &Cached) -> HttpResponse {
    let unchanged = not_modified(req, &cached.etag);
    let mut response = if unchanged {
        HttpResponse::NotModified()
    } else {
        HttpResponse::Ok()
    };
    response
        .insert_header((header::ETAG, cached.etag.clone()))
        .insert_header((
            header::CACHE_CONTROL,
            HeaderValue::from_static("public, max-age=0, must-revalidate"),
        ))
        .insert_header((header::VARY, HeaderValue::from_static("Accept-Encoding")));
    if unchanged {
        return response.finish();
    }
    response
        .insert_header((header::CONTENT_TYPE, cached.content_type.clone()))
        .body(cached.body.clone())
}

pub async fn cache_and_etag(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    // Only anonymous public reads: never a staff member's view of anything.
    let personal = req.headers().contains_key(header::AUTHORIZATION)
        || req.path().starts_with("/api/v1/admin")
        || req.path().starts_with("/api/v1/auth");
    if req.method() != Method::GET || personal {
        return Ok(next.call(req).await?.map_into_boxed_body());
    }
    let cache = req.app_data::<Data<ResponseCache>>().cloned();
    let key = req.uri().to_string();
    if let Some(hit) = cache
        .as_ref()
        .and_then(|c| c.entries.as_ref())
        .and_then(|entries| entries.get(&key))
    {
        let (http_req, _) = req.into_parts();
        let response = respond(&http_req, &hit);
        return Ok(ServiceResponse::new(http_req, response));
    }
    let response = next.call(req).await?;
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|ct| ct.as_bytes().starts_with(b"application/json"));
    if response.status() != StatusCode::OK || !is_json {
        return Ok(response.map_into_boxed_body());
    }
    let content_type = response
        .headers()
        .get(header::CONTENT_TYPE)
        .cloned()
        .unwrap_or(HeaderValue::from_static("application/json"));
    let (http_req, http_res) = response.into_parts();
    let bytes = body::to_bytes(http_res.into_body())
        .await
        .map_err(|e| actix_web::error::ErrorInternalServerError(e.into()))?;
    let cached = Arc::new(Cached {
        etag: etag_of(&bytes),
        body: bytes,
        content_type,
    });
    if let Some(entries) = cache.as_ref().and_then(|c| c.entries.as_ref()) {
        entries.insert(key, cached.clone());
    }
    let response = respond(&http_req, &cached);
    Ok(ServiceResponse::new(http_req, response))
}
