//! ETags, compression and the in-process response cache of the public API.
//!
//! Every public response names what it depends on as surrogate keys
//! (`crate::domain::keys`) in `Surrogate-Key`; this layer copies them to
//! `xkey`, adds a weak `ETag` and the kind's `Cache-Control`, answers
//! `If-None-Match` with 304, and compresses the body as `Accept-Encoding`
//! asks.
//!
//! Responses with keys are kept, already compressed once per encoding
//! asked for, until a write purges one of their keys (`purge`, reached
//! from every instance through LISTEN/NOTIFY) or their safety lifetime
//! (`NEWSROOM_CACHE_TTL`, 0 turns the cache off) runs out, within a byte
//! bound (`NEWSROOM_CACHE_MB`). When an entry's lifetime ends, one request
//! recomputes it while concurrent requests for the same URL still get the
//! old copy: a popular URL never sends 32 identical queries at once. A
//! purged entry is gone at once: a takedown must not linger.
//!
//! A response computed while a purge happened is served but not kept: it
//! may have read the data from before the write.

use std::collections::{HashMap, HashSet};
use std::hash::{Hash, Hasher};
use std::io::Write as _;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use actix_web::body::{self, BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{
    self, AcceptEncoding, ContentEncoding, Encoding, Header as _, HeaderName, HeaderValue,
};
use actix_web::http::{Method, StatusCode};
use actix_web::middleware::Next;
use actix_web::web::{Bytes, Data};
use actix_web::{Error, HttpRequest, HttpResponse};

use crate::domain::keys::Keys;
use crate::http::cache_control::Kind;

/// Where a handler names the keys of its response (Fastly's header).
pub const SURROGATE_KEY: HeaderName = HeaderName::from_static("surrogate-key");
/// The same keys for Varnish's xkey module.
pub const XKEY: HeaderName = HeaderName::from_static("xkey");
/// `hit` or `miss`: whether this instance's cache answered.
pub const X_CACHE: HeaderName = HeaderName::from_static("x-cache");

/// Bodies smaller than this are sent as they are: compressing them saves
/// less than it costs.
const COMPRESS_FROM: usize = 1024;

/// What an entry costs beyond its key and body: the struct, header values,
/// the Arc and moka's per-entry records, measured roughly.
const ENTRY_OVERHEAD: usize = 512;

/// How long an entry past its lifetime may still be handed out while
/// another request recomputes it.
const GRACE: Duration = Duration::from_secs(10);

/// The (key, URL) pairs of the purge index may outgrow the live entries by
/// this factor (plus a floor) before evicted URLs are swept out of it.
const SWEEP_FACTOR: usize = 4;
const SWEEP_FLOOR: usize = 50_000;

/// The encodings kept besides the body as it is, in our order of preference
/// when a client weighs several equally.
const ENCODINGS: [ContentEncoding; 3] = [
    ContentEncoding::Brotli,
    ContentEncoding::Zstd,
    ContentEncoding::Gzip,
];

#[derive(Debug)]
struct Cached {
    body: Bytes,
    /// br, zstd, gzip: made the first time a client asks for each.
    encoded: [OnceLock<Bytes>; 3],
    etag: HeaderValue,
    content_type: HeaderValue,
    keys: Option<HeaderValue>,
    /// Articles say when what they show last changed.
    last_modified: Option<HeaderValue>,
    fresh_until: Instant,
}

impl Cached {
    fn new(body: Bytes, headers: &header::HeaderMap, ttl: Duration) -> Self {
        Self {
            etag: etag_of(&body),
            body,
            encoded: Default::default(),
            content_type: headers
                .get(header::CONTENT_TYPE)
                .cloned()
                .unwrap_or(HeaderValue::from_static("application/json")),
            keys: headers.get(SURROGATE_KEY).cloned(),
            last_modified: headers.get(header::LAST_MODIFIED).cloned(),
            fresh_until: Instant::now() + ttl,
        }
    }

    /// The body in `encoding`, compressed now if no one asked before.
    fn body_in(&self, encoding: ContentEncoding) -> Option<Bytes> {
        let slot = ENCODINGS.iter().position(|e| *e == encoding)?;
        let encoded = self.encoded[slot].get_or_init(|| compress(encoding, &self.body));
        Some(encoded.clone())
    }
}

fn compress(encoding: ContentEncoding, body: &[u8]) -> Bytes {
    // Kept once and sent many times, so a little more effort than actix's
    // per-response levels is worth it.
    let out = Vec::with_capacity(body.len() / 3);
    let written = match encoding {
        ContentEncoding::Brotli => {
            let mut w = brotli::CompressorWriter::new(out, 4096, 6, 22);
            w.write_all(body).map(|_| w.into_inner())
        }
        ContentEncoding::Zstd => zstd::stream::encode_all(body, 6),
        _ => {
            let mut w = flate2::write::GzEncoder::new(out, flate2::Compression::new(6));
            w.write_all(body).and_then(|_| w.finish())
        }
    };
    // Writing to memory does not fail; should it, the body goes as it is.
    written
        .map(Bytes::from)
        .unwrap_or_else(|_| Bytes::copy_from_slice(body))
}

/// Which URLs hold each key, and how many purges there have been.
#[derive(Default)]
struct Index {
    urls: HashMap<String, HashSet<String>>,
    pairs: usize,
    purges: u64,
}

struct Store {
    entries: moka::sync::Cache<String, Arc<Cached>>,
    index: Mutex<Index>,
    ttl: Duration,
    /// URLs some request is recomputing right now.
    refreshing: Mutex<HashSet<String>>,
}

/// The response cache; it only validates and compresses when its lifetime
/// is zero.
#[derive(Clone)]
pub struct ResponseCache {
    store: Option<Arc<Store>>,
    /// Whether purges are being heard: nothing is kept while they may be
    /// missed.
    listening: Arc<AtomicBool>,
}

/// The right to recompute one URL; given back when dropped, whatever
/// happens to the request.
struct Refresh {
    store: Arc<Store>,
    url: String,
}

impl Refresh {
    fn claim(store: &Arc<Store>, url: &str) -> Option<Self> {
        let mut set = lock(&store.refreshing);
        set.insert(url.to_owned()).then(|| Self {
            store: store.clone(),
            url: url.to_owned(),
        })
    }
}

impl Drop for Refresh {
    fn drop(&mut self) {
        lock(&self.store.refreshing).remove(&self.url);
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

impl ResponseCache {
    /// `ttl_secs`: how long an entry lives at most (0: no cache);
    /// `max_bytes`: how much response data is kept.
    pub fn new(ttl_secs: u64, max_bytes: u64) -> Self {
        let ttl = Duration::from_secs(ttl_secs);
        let store = (ttl_secs > 0).then(|| {
            let entries = moka::sync::Cache::builder()
                .max_capacity(max_bytes)
                .weigher(|url: &String, value: &Arc<Cached>| {
                    // The URL twice (map and policy), the body, and room for
                    // its compressed copies (together well under 3/4 of it
                    // for JSON).
                    let bytes = 2 * url.len()
                        + value.body.len() * 7 / 4
                        + value.keys.as_ref().map_or(0, HeaderValue::len)
                        + ENTRY_OVERHEAD;
                    u32::try_from(bytes).unwrap_or(u32::MAX)
                })
                .time_to_live(ttl + GRACE)
                .build();
            Arc::new(Store {
                entries,
                index: Mutex::default(),
                ttl,
                refreshing: Mutex::default(),
            })
        });
        Self {
            store,
            listening: Arc::default(),
        }
    }

    /// Whether purges are heard (set by the purge listener); entries are
    /// kept only while they are.
    pub fn set_listening(&self, listening: bool) {
        self.listening.store(listening, Ordering::SeqCst);
    }

    /// Whether responses are being kept now.
    pub fn is_keeping(&self) -> bool {
        self.store.is_some() && self.listening.load(Ordering::SeqCst)
    }

    /// Drops every entry that depends on one of `keys`.
    pub fn purge(&self, keys: &Keys) {
        let Some(store) = &self.store else { return };
        let mut index = lock(&store.index);
        index.purges += 1;
        for key in keys.iter() {
            if let Some(urls) = index.urls.remove(key) {
                index.pairs -= urls.len();
                for url in urls {
                    store.entries.invalidate(&url);
                }
            }
        }
    }

    /// Forgets everything: after a missed purge, for instance.
    pub fn clear(&self) {
        let Some(store) = &self.store else { return };
        let mut index = lock(&store.index);
        index.purges += 1;
        index.urls.clear();
        index.pairs = 0;
        store.entries.invalidate_all();
    }

    /// How many purges so far; a response computed across a change of this
    /// number is not kept.
    fn purges(&self) -> u64 {
        self.store.as_ref().map_or(0, |s| lock(&s.index).purges)
    }

    /// Keeps `cached` for `url` under its keys, unless a purge happened
    /// since `purges_then`.
    fn keep(&self, url: String, cached: Arc<Cached>, keys: &Keys, purges_then: u64) {
        let Some(store) = &self.store else { return };
        let mut index = lock(&store.index);
        if index.purges != purges_then || !self.listening.load(Ordering::SeqCst) {
            return;
        }
        for key in keys.iter() {
            if index
                .urls
                .entry(key.to_owned())
                .or_default()
                .insert(url.clone())
            {
                index.pairs += 1;
            }
        }
        store.entries.insert(url, cached);
        let live = store.entries.entry_count() as usize;
        if index.pairs > SWEEP_FACTOR * live + SWEEP_FLOOR {
            // Entries evicted for room or age leave their URLs behind here.
            let entries = &store.entries;
            let mut pairs = 0;
            index.urls.retain(|_, urls| {
                urls.retain(|url| entries.contains_key(url));
                pairs += urls.len();
                !urls.is_empty()
            });
            index.pairs = pairs;
        }
    }

    /// Bytes held now (as weighed), for the operator's eyes.
    pub fn weighed_size(&self) -> u64 {
        self.store.as_ref().map_or(0, |s| {
            s.entries.run_pending_tasks();
            s.entries.weighted_size()
        })
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

/// Whether `If-Modified-Since` is at or after `last_modified`; only asked
/// when the request has no `If-None-Match`, which takes precedence
/// (RFC 9110, 13.2.2).
fn unmodified_since(req: &HttpRequest, last_modified: Option<&HeaderValue>) -> bool {
    let Some(last_modified) = last_modified else {
        return false;
    };
    if req.headers().contains_key(header::IF_NONE_MATCH) {
        return false;
    }
    let (Ok(header::IfModifiedSince(since)), Some(modified)) = (
        header::IfModifiedSince::parse(req),
        last_modified
            .to_str()
            .ok()
            .and_then(|v| v.parse::<header::HttpDate>().ok()),
    ) else {
        return false;
    };
    std::time::SystemTime::from(modified) <= std::time::SystemTime::from(since)
}

/// The encoding to send: the client's preference among ours, or none.
fn negotiate(accept: Option<&AcceptEncoding>, size: usize) -> Option<ContentEncoding> {
    if size < COMPRESS_FROM {
        return None;
    }
    let supported = ENCODINGS.map(Encoding::Known);
    let chosen = accept?.negotiate(supported.iter().chain([&Encoding::identity()]))?;
    match chosen {
        Encoding::Known(e) if e != ContentEncoding::Identity => Some(e),
        _ => None,
    }
}

fn respond(
    req: &HttpRequest,
    cached: &Cached,
    accept: Option<&AcceptEncoding>,
    hit: bool,
) -> HttpResponse {
    let unchanged =
        not_modified(req, &cached.etag) || unmodified_since(req, cached.last_modified.as_ref());
    let mut response = if unchanged {
        HttpResponse::NotModified()
    } else {
        HttpResponse::Ok()
    };
    response
        .insert_header((header::ETAG, cached.etag.clone()))
        .insert_header((header::VARY, HeaderValue::from_static("Accept-Encoding")));
    if let Some(at) = &cached.last_modified {
        response.insert_header((header::LAST_MODIFIED, at.clone()));
    }
    if let Some(keys) = &cached.keys {
        // Only responses that name their keys can be purged, so only they
        // may be held by shared caches.
        let kind = Kind::of(req.match_info().as_str());
        if let Some(state) = req.app_data::<Data<crate::api::AppState>>() {
            response.insert_header((
                header::CACHE_CONTROL,
                state.settings.cache_control.header(kind),
            ));
        }
        response
            .insert_header((SURROGATE_KEY, keys.clone()))
            .insert_header((XKEY, keys.clone()))
            .insert_header((
                X_CACHE,
                HeaderValue::from_static(if hit { "hit" } else { "miss" }),
            ));
    } else {
        // Nothing could purge it: shared caches must ask every time.
        response.insert_header((
            header::CACHE_CONTROL,
            HeaderValue::from_static("public, no-cache"),
        ));
    }
    if unchanged {
        return response.finish();
    }
    response.insert_header((header::CONTENT_TYPE, cached.content_type.clone()));
    match negotiate(accept, cached.body.len()).and_then(|e| Some((e, cached.body_in(e)?))) {
        Some((encoding, body)) => response
            .insert_header((header::CONTENT_ENCODING, encoding.to_header_value()))
            .body(body),
        None => response.body(cached.body.clone()),
    }
}

/// The middleware: outside `Compress`, inside CORS and request ids.
pub async fn cache_and_etag(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    // Only anonymous public reads: never a staff member's view of anything.
    // The router matches the decoded path (`/%61dmin` is `/admin`), so
    // that is the one judged here, not the raw one.
    let path = req.match_info().as_str();
    let personal = req.headers().contains_key(header::AUTHORIZATION)
        || super::is_staff_path(path)
        || !path.starts_with("/api/v1/");
    if req.method() != Method::GET || personal {
        return Ok(next.call(req).await?.map_into_boxed_body());
    }
    let accept = AcceptEncoding::parse(&req).ok();
    let cache = req
        .app_data::<Data<crate::api::AppState>>()
        .map(|state| state.cache.clone())
        .unwrap_or_else(|| ResponseCache::new(0, 0));
    let url = req.uri().to_string();
    let mut _refresh = None;
    if let Some(store) = &cache.store
        && let Some(hit) = store.entries.get(&url)
    {
        // Fresh, or past its lifetime while another request recomputes it.
        let serve = hit.fresh_until > Instant::now() || {
            _refresh = Refresh::claim(store, &url);
            _refresh.is_none()
        };
        if serve {
            let (http_req, _) = req.into_parts();
            let response = respond(&http_req, &hit, accept.as_ref(), true);
            return Ok(ServiceResponse::new(http_req, response));
        }
    }
    let purges_then = cache.purges();
    // The body comes back as it is; this layer compresses (once per entry).
    req.headers_mut().remove(header::ACCEPT_ENCODING);
    let response = next.call(req).await?;
    let keepable = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|ct| is_keepable(ct.as_bytes()));
    if response.status() != StatusCode::OK || !keepable {
        // Gone or changed (a takedown answers 404): the stale copy must not
        // be handed out again. A server-side failure keeps it, so readers
        // get the last good answer while the database is away.
        if _refresh.is_some()
            && !response.status().is_server_error()
            && let Some(store) = &cache.store
        {
            store.entries.invalidate(&url);
        }
        return Ok(response.map_into_boxed_body());
    }
    let (http_req, http_res) = response.into_parts();
    let headers = http_res.headers().clone();
    let bytes = body::to_bytes(http_res.into_body())
        .await
        .map_err(|e| actix_web::error::ErrorInternalServerError(e.into()))?;
    let ttl = cache.store.as_ref().map_or(Duration::ZERO, |s| s.ttl);
    let cached = Arc::new(Cached::new(bytes, &headers, ttl));
    if let Some(keys) = &cached.keys {
        let parsed = Keys::parse(keys.to_str().unwrap_or_default());
        if !parsed.is_empty() {
            cache.keep(url, cached.clone(), &parsed, purges_then);
        }
    }
    let response = respond(&http_req, &cached, accept.as_ref(), false);
    Ok(ServiceResponse::new(http_req, response))
}

/// The content types kept: JSON, and the feeds and sitemaps (RSS, JSON
/// Feed, XML), which are purged by the same keys.
fn is_keepable(content_type: &[u8]) -> bool {
    [
        "application/json",
        "application/feed+json",
        "application/rss+xml",
        "application/xml",
    ]
    .iter()
    .any(|t| content_type.starts_with(t.as_bytes()))
}

/// The `Surrogate-Key` header a handler puts on its response.
pub fn surrogate_keys(keys: &Keys) -> (HeaderName, String) {
    (SURROGATE_KEY, keys.joined())
}

#[cfg(test)]
mod tests {
    use actix_web::test::TestRequest;

    use super::*;

    #[test]
    fn the_admin_check_sees_the_decoded_path() {
        let req = TestRequest::with_uri("/api/v1/%61dmin/articles").to_srv_request();
        assert_eq!(req.path(), "/api/v1/%61dmin/articles");
        assert_eq!(req.match_info().as_str(), "/api/v1/admin/articles");
    }

    fn cached(body: &str, keys: &str) -> Arc<Cached> {
        let mut headers = header::HeaderMap::new();
        headers.insert(SURROGATE_KEY, HeaderValue::from_str(keys).unwrap());
        Arc::new(Cached::new(
            Bytes::from(body.to_owned()),
            &headers,
            Duration::from_secs(60),
        ))
    }

    #[test]
    fn a_purge_drops_exactly_the_entries_with_that_key() {
        let cache = ResponseCache::new(60, 1 << 20);
        cache.set_listening(true);
        let store = cache.store.clone().unwrap();
        let purges = cache.purges();
        cache.keep(
            "/a".into(),
            cached("a", "article-1 articles"),
            &Keys::parse("article-1 articles"),
            purges,
        );
        cache.keep(
            "/b".into(),
            cached("b", "article-2"),
            &Keys::parse("article-2"),
            purges,
        );
        cache.purge(&Keys::parse("articles"));
        assert!(store.entries.get("/a").is_none());
        assert!(store.entries.get("/b").is_some());
    }

    #[test]
    fn a_response_computed_across_a_purge_is_not_kept() {
        let cache = ResponseCache::new(60, 1 << 20);
        cache.set_listening(true);
        let purges = cache.purges();
        cache.purge(&Keys::parse("article-9"));
        cache.keep(
            "/a".into(),
            cached("a", "article-1"),
            &Keys::parse("article-1"),
            purges,
        );
        assert!(cache.store.unwrap().entries.get("/a").is_none());
    }

    #[test]
    fn the_byte_bound_holds() {
        let cache = ResponseCache::new(60, 64 * 1024);
        cache.set_listening(true);
        let body = "x".repeat(4000);
        for i in 0..200 {
            let purges = cache.purges();
            let key = format!("article-{i}");
            cache.keep(
                format!("/a/{i}"),
                cached(&body, &key),
                &Keys::parse(&key),
                purges,
            );
        }
        let held = cache.weighed_size();
        assert!(held <= 64 * 1024, "{held} bytes held");
        assert!(
            held > 32 * 1024,
            "{held} bytes held: the cache should be nearly full"
        );
    }

    #[test]
    fn compressed_copies_decode_to_the_body() {
        let body = "{\"t\":\"Bình đẳng giới\"}".repeat(100);
        let entry = cached(&body, "article-1");
        let gz = entry.body_in(ContentEncoding::Gzip).unwrap();
        let mut out = String::new();
        std::io::Read::read_to_string(&mut flate2::read::GzDecoder::new(&gz[..]), &mut out)
            .unwrap();
        assert_eq!(out, body);
        let zs = entry.body_in(ContentEncoding::Zstd).unwrap();
        assert_eq!(zstd::stream::decode_all(&zs[..]).unwrap(), body.as_bytes());
        let br = entry.body_in(ContentEncoding::Brotli).unwrap();
        let mut out = Vec::new();
        brotli::BrotliDecompress(&mut &br[..], &mut out).unwrap();
        assert_eq!(out, body.as_bytes());
        assert!(br.len() < body.len() / 5);
    }
}
