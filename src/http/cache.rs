//! ETags for every successful GET, and an optional short-lived in-process
//! cache of those responses (micro-caching, as news sites do at the edge).
//!
//! A refresh with `If-None-Match` costs a 304 and no body. With the cache on
//! (`NEWSROOM_CACHE_TTL` seconds, default 1), identical requests within the
//! TTL are answered from memory; each instance keeps its own cache, so
//! instances agree again at most one TTL after a change.
//!
//! When an entry expires, one request recomputes it while concurrent
//! requests for the same URL are still served the expired copy (for at most
//! that recomputation): a popular URL never sends 32 identical queries to
//! the database at once. A lone request after expiry always gets a fresh
//! answer, and a write through this instance drops everything.

use std::collections::HashSet;
use std::hash::{Hash, Hasher};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use actix_web::body::{self, BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderValue};
use actix_web::http::{Method, StatusCode};
use actix_web::middleware::Next;
use actix_web::web::{Bytes, Data};
use actix_web::{Error, HttpRequest, HttpResponse};

use crate::http::cache_control::Kind;

/// At most this much response data is kept in memory.
const CACHE_BYTES: u64 = 64 * 1024 * 1024;

/// What an entry costs beyond its key and body (measured roughly: the
/// struct, two header values, the Arc and moka's per-entry records).
const ENTRY_OVERHEAD: usize = 256;

/// How long an expired entry may still be handed out while another
/// request recomputes it.
const GRACE: Duration = Duration::from_secs(10);

#[derive(Debug)]
struct Cached {
    body: Bytes,
    etag: HeaderValue,
    content_type: HeaderValue,
    fresh_until: Instant,
}

/// The response cache; a no-op when its TTL is zero.
#[derive(Clone)]
pub struct ResponseCache {
    entries: Option<moka::sync::Cache<String, Arc<Cached>>>,
    ttl: Duration,
    /// URLs some request is recomputing right now.
    refreshing: Arc<Mutex<HashSet<String>>>,
}

/// The right to recompute one URL; given back when dropped, whatever
/// happens to the request.
struct Refresh {
    refreshing: Arc<Mutex<HashSet<String>>>,
    key: String,
}

impl Refresh {
    fn claim(refreshing: &Arc<Mutex<HashSet<String>>>, key: &str) -> Option<Self> {
        let mut set = refreshing.lock().unwrap_or_else(|e| e.into_inner());
        set.insert(key.to_owned()).then(|| Self {
            refreshing: refreshing.clone(),
            key: key.to_owned(),
        })
    }
}

impl Drop for Refresh {
    fn drop(&mut self) {
        let mut set = self.refreshing.lock().unwrap_or_else(|e| e.into_inner());
        set.remove(&self.key);
    }
}

impl ResponseCache {
    pub fn new(ttl_secs: u64) -> Self {
        let ttl = Duration::from_secs(ttl_secs);
        let entries = (ttl_secs > 0).then(|| {
            moka::sync::Cache::builder()
                .max_capacity(CACHE_BYTES)
                .weigher(|key: &String, value: &Arc<Cached>| {
                    // The key is held twice (map and policy), plus headers,
                    // the Arc and moka's own bookkeeping.
                    let bytes = 2 * key.len()
                        + value.body.len()
                        + value.etag.len()
                        + value.content_type.len()
                        + ENTRY_OVERHEAD;
                    u32::try_from(bytes).unwrap_or(u32::MAX)
                })
                .time_to_live(ttl + GRACE)
                .build()
        });
        Self {
            entries,
            ttl,
            refreshing: Arc::default(),
        }
    }

    /// Forgets everything, e.g. after a write through this instance.
    pub fn clear(&self) {
        if let Some(entries) = &self.entries {
            entries.invalidate_all();
        }
    }
}

/// A weak validator: the same content is sent br-, gzip- or zstd-encoded
/// or as is, and a weak ETag says "the same content" for all of them.
fn etag_of(body: &[u8]) -> HeaderValue {
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    body.hash(&mut hasher);
    HeaderValue::from_str(&format!("W/\"{:016x}\"", hasher.finish()))
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
    let ours = etag.to_str().unwrap_or_default().trim_start_matches("W/");
    value.trim() == "*"
        || value
            .split(',')
            .map(|tag| tag.trim().trim_start_matches("W/"))
            .any(|tag| tag == ours)
}

fn respond(req: &HttpRequest, cached: &Cached) -> HttpResponse {
    let cache_control = req
        .app_data::<Data<crate::api::AppState>>()
        .map(|state| {
            state
                .settings
                .cache_control
                .header(Kind::of(req.match_info().as_str()))
        })
        .unwrap_or_else(|| HeaderValue::from_static("public, max-age=0, must-revalidate"));
    let unchanged = not_modified(req, &cached.etag);
    let mut response = if unchanged {
        HttpResponse::NotModified()
    } else {
        HttpResponse::Ok()
    };
    response
        .insert_header((header::ETAG, cached.etag.clone()))
        .insert_header((header::CACHE_CONTROL, cache_control))
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
    // The router matches the decoded path (`/%61dmin` is `/admin`), so
    // that is the one judged here, not the raw one.
    let personal = req.headers().contains_key(header::AUTHORIZATION)
        || super::is_staff_path(req.match_info().as_str());
    if req.method() != Method::GET || personal {
        return Ok(next.call(req).await?.map_into_boxed_body());
    }
    let cache = req.app_data::<Data<ResponseCache>>().cloned();
    let key = req.uri().to_string();
    let mut _refresh = None;
    if let Some(cache) = &cache
        && let Some(hit) = cache.entries.as_ref().and_then(|e| e.get(&key))
    {
        // Fresh, or expired while another request is recomputing it.
        let serve = hit.fresh_until > Instant::now() || {
            _refresh = Refresh::claim(&cache.refreshing, &key);
            _refresh.is_none()
        };
        if serve {
            let (http_req, _) = req.into_parts();
            let response = respond(&http_req, &hit);
            return Ok(ServiceResponse::new(http_req, response));
        }
    }
    let response = next.call(req).await?;
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|ct| ct.as_bytes().starts_with(b"application/json"));
    if response.status() != StatusCode::OK || !is_json {
        // Gone or changed (a takedown answers 404): the stale copy must not
        // be handed out again. A server-side failure keeps it, so readers
        // get the last good answer while the database is away.
        if _refresh.is_some()
            && !response.status().is_server_error()
            && let Some(entries) = cache.as_ref().and_then(|c| c.entries.as_ref())
        {
            entries.invalidate(&key);
        }
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
        fresh_until: Instant::now() + cache.as_ref().map_or(Duration::ZERO, |c| c.ttl),
    });
    if let Some(entries) = cache.as_ref().and_then(|c| c.entries.as_ref()) {
        entries.insert(key, cached.clone());
    }
    let response = respond(&http_req, &cached);
    Ok(ServiceResponse::new(http_req, response))
}

#[cfg(test)]
mod tests {
    use actix_web::test::TestRequest;

    #[test]
    fn the_admin_check_sees_the_decoded_path() {
        let req = TestRequest::with_uri("/api/v1/%61dmin/articles").to_srv_request();
        assert_eq!(req.path(), "/api/v1/%61dmin/articles");
        assert_eq!(req.match_info().as_str(), "/api/v1/admin/articles");
    }
}
