//! ETags, compression and the in-process response cache of the public API.
//!
//! Every public response names what it depends on as surrogate keys
//! (`crate::domain::keys`) in `Surrogate-Key`; this layer copies them to
//! `xkey`, adds a weak `ETag` and the kind's `Cache-Control`, answers
//! `If-None-Match` with 304, and compresses the body as `Accept-Encoding`
//! asks.
//!
//! Responses with keys are kept, already compressed, until a write purges one of their keys (`purge`, reached
//! from every instance through LISTEN/NOTIFY) or their safety lifetime
//! (`NEWSROOM_CACHE_TTL`, 0 turns the cache off) runs out, within a byte
//! bound (`NEWSROOM_CACHE_MB`). When an entry's lifetime ends, one request
//! recomputes it while concurrent requests for the same URL still get the
//! old copy: a popular URL never sends 32 identical queries at once. A
//! purged entry is gone at once: a takedown must not linger.
//!
//! A response computed while a purge happened is served but not kept: it
//! may have read the data from before the write.
//!
//! An entry holds its body gzipped, as Varnish holds its objects: every
//! client that compresses takes gzip (Android's OkHttp asks for nothing
//! else), and the rare one that takes none gets it inflated, which costs
//! far less than computing it. So the default 256 MB holds about four
//! times as many articles as it would bodies as they are, and the long
//! tail is answered from memory. A brotli or zstd copy is made the first
//! time a client asks for it, and the entry is weighed again with it.

use std::collections::{HashMap, HashSet};
use std::hash::{Hash, Hasher};
use std::io::Write as _;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
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

/// What an entry costs beyond its URL, keys and body: the struct, header
/// values, the Arc, moka's per-entry records and the allocator's rounding,
/// measured as resident memory over 100,000 cached articles.
const ENTRY_OVERHEAD: usize = 768;

/// What one (key, URL) pair of the purge index costs beyond the URL: its
/// slot in the key's hash set (the URL itself is shared) and a share of the
/// key's own entry.
const INDEX_PAIR_OVERHEAD: usize = 64;

/// An `Arc<str>`'s counts, beside its bytes.
const ARC_STR_OVERHEAD: usize = 16;

/// How long an entry past its lifetime may still be handed out while
/// another request recomputes it.
const GRACE: Duration = Duration::from_secs(10);

/// Entries evicted for room or age leave their (key, URL) pairs in the
/// purge index; they are swept out when the pairs have doubled since the
/// last sweep (plus this floor), so sweeping costs O(1) a keep over time
/// however many entries are live.
const SWEEP_FLOOR: usize = 50_000;

/// The encodings we send, in our order of preference when a client weighs
/// several equally.
const ENCODINGS: [ContentEncoding; 3] = [
    ContentEncoding::Brotli,
    ContentEncoding::Zstd,
    ContentEncoding::Gzip,
];

/// Reads without compression after which an entry keeps its body inflated.
const KEEP_PLAIN_AFTER: u32 = 2;

/// The encodings made on demand from the gzipped body.
const ON_DEMAND: [ContentEncoding; 2] = [ContentEncoding::Brotli, ContentEncoding::Zstd];

/// A body as an entry holds it.
#[derive(Debug)]
enum Held {
    /// Too small to be worth compressing.
    Plain(Bytes),
    /// Gzipped; `len` is the size as it is.
    Gzip { gz: Bytes, len: usize },
}

#[derive(Debug)]
struct Cached {
    body: Held,
    /// br, zstd: made the first time a client asks for each.
    encoded: [OnceLock<Bytes>; 2],
    /// The gzipped body inflated, kept once clients without compression
    /// have asked for it `KEEP_PLAIN_AFTER` times (a hot URL read by a
    /// tool or a health check), so they stop paying for the inflate.
    plain: OnceLock<Bytes>,
    plain_reads: std::sync::atomic::AtomicU32,
    etag: HeaderValue,
    content_type: HeaderValue,
    keys: Option<HeaderValue>,
    /// Articles say when what they show last changed.
    last_modified: Option<HeaderValue>,
    fresh_until: Instant,
}

impl Cached {
    /// An entry for `body`, held gzipped when `to_keep` (a copy answering
    /// one request only is never compressed unless its client asks).
    fn new(body: Bytes, headers: &header::HeaderMap, ttl: Duration, to_keep: bool) -> Self {
        Self {
            etag: etag_of(&body),
            // Writing to memory does not fail; should it, the body is
            // held as it is.
            body: match to_keep && body.len() >= COMPRESS_FROM {
                true => match compress(ContentEncoding::Gzip, &body) {
                    Ok(gz) => Held::Gzip {
                        gz,
                        len: body.len(),
                    },
                    Err(_) => Held::Plain(body),
                },
                false => Held::Plain(body),
            },
            encoded: Default::default(),
            plain: OnceLock::new(),
            plain_reads: Default::default(),
            content_type: headers
                .get(header::CONTENT_TYPE)
                .cloned()
                .unwrap_or(HeaderValue::from_static("application/json")),
            keys: headers.get(SURROGATE_KEY).cloned(),
            last_modified: headers.get(header::LAST_MODIFIED).cloned(),
            fresh_until: Instant::now() + ttl,
        }
    }

    /// The size of the body as it is.
    fn len(&self) -> usize {
        match &self.body {
            Held::Plain(body) => body.len(),
            Held::Gzip { len, .. } => *len,
        }
    }

    /// The body as it is: inflated when it is held gzipped.
    fn plain(&self) -> std::io::Result<Bytes> {
        match &self.body {
            Held::Plain(body) => Ok(body.clone()),
            Held::Gzip { gz, len } => {
                let mut out = Vec::with_capacity(*len);
                std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(&gz[..]), &mut out)?;
                Ok(Bytes::from(out))
            }
        }
    }

    /// The body in `encoding` (None: as it is), and whether a copy was made
    /// for it now. Only a failure to inflate or compress in memory, which
    /// does not happen, makes it an error.
    fn body_in(&self, encoding: Option<ContentEncoding>) -> std::io::Result<(Bytes, bool)> {
        let Some(encoding) = encoding else {
            if let Some(plain) = self.plain.get() {
                return Ok((plain.clone(), false));
            }
            let plain = self.plain()?;
            let reads = self.plain_reads.fetch_add(1, Ordering::Relaxed) + 1;
            if reads < KEEP_PLAIN_AFTER || matches!(self.body, Held::Plain(_)) {
                return Ok((plain, false));
            }
            return Ok((self.plain.get_or_init(|| plain).clone(), true));
        };
        if let (ContentEncoding::Gzip, Held::Gzip { gz, .. }) = (encoding, &self.body) {
            return Ok((gz.clone(), false));
        }
        let Some(slot) = ON_DEMAND.iter().position(|e| *e == encoding) else {
            return Ok((compress(encoding, &self.plain()?)?, false));
        };
        if let Some(encoded) = self.encoded[slot].get() {
            return Ok((encoded.clone(), false));
        }
        // Two requests may both compress it; the first copy is kept.
        let encoded = compress(encoding, &self.plain()?)?;
        Ok((self.encoded[slot].get_or_init(|| encoded).clone(), true))
    }

    /// The bytes this entry holds.
    fn held(&self) -> usize {
        let body = match &self.body {
            Held::Plain(body) => body.len(),
            Held::Gzip { gz, .. } => gz.len(),
        };
        body + self
            .encoded
            .iter()
            .chain([&self.plain])
            .filter_map(OnceLock::get)
            .map(Bytes::len)
            .sum::<usize>()
    }
}

fn compress(encoding: ContentEncoding, body: &[u8]) -> std::io::Result<Bytes> {
    // Kept once and sent many times, so a little more effort than actix's
    // per-response levels is worth it.
    let out = Vec::with_capacity(body.len() / 3);
    let written = match encoding {
        ContentEncoding::Brotli => {
            let mut w = brotli::CompressorWriter::new(out, 4096, 6, 22);
            w.write_all(body).map(|_| w.into_inner())
        }
        ContentEncoding::Zstd => zstd::stream::encode_all(body, 6),
        _ => gzip(body, out),
    };
    // Shrunk, or the Bytes would keep the whole first guess of room.
    written.map(|mut out| {
        out.shrink_to_fit();
        Bytes::from(out)
    })
}

/// `body` gzipped (RFC 1952) into `out`, by this thread's one deflate
/// state, reset each time. A new encoder per body allocated and freed
/// about 300 KB each time; under the long tail glibc then served those from
/// its heaps between long-lived cache entries and the process grew past
/// 2 GB with a 256 MB cache (about 340 MB with one state per thread).
fn gzip(body: &[u8], mut out: Vec<u8>) -> std::io::Result<Vec<u8>> {
    thread_local! {
        static DEFLATE: std::cell::RefCell<flate2::Compress> =
            std::cell::RefCell::new(flate2::Compress::new(flate2::Compression::new(6), false));
    }
    // Magic, deflate, no flags, no time, no extra flags, unknown system.
    out.extend_from_slice(&[0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 255]);
    DEFLATE.with_borrow_mut(|deflate| {
        deflate.reset();
        loop {
            out.reserve(body.len() / 8 + 64);
            let read = deflate.total_in() as usize;
            let status = deflate
                .compress_vec(&body[read..], &mut out, flate2::FlushCompress::Finish)
                .map_err(std::io::Error::other)?;
            if status == flate2::Status::StreamEnd {
                return Ok::<_, std::io::Error>(());
            }
        }
    })?;
    let mut crc = flate2::Crc::new();
    crc.update(body);
    out.extend_from_slice(&crc.sum().to_le_bytes());
    // The size modulo 2^32, as the format has it.
    out.extend_from_slice(&(body.len() as u32).to_le_bytes());
    Ok(out)
}

/// Which URLs hold each key, and how many purges there have been. The
/// URLs are the entries' own (`Arc`), not copies: an article page has four
/// or five keys, and a copy of its URL for each was about 500 bytes an
/// entry, a fifth of what the cache held beside the bodies.
#[derive(Default)]
struct Index {
    urls: HashMap<String, HashSet<Arc<str>>>,
    pairs: usize,
    /// `pairs` right after the last sweep.
    swept: usize,
    purges: u64,
}

impl Index {
    /// The copy of `url` the index holds under `key`, if any.
    fn shared_url(&self, key: Option<&str>, url: &str) -> Option<Arc<str>> {
        self.urls.get(key?)?.get(url).cloned()
    }
}

struct Store {
    entries: moka::sync::Cache<Arc<str>, Arc<Cached>>,
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
    /// Moves on whenever a category may have changed (a purge naming one,
    /// or one that may have been missed): what memos of the category tree
    /// check, with the cache on or off.
    categories: Arc<AtomicU64>,
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
                .weigher(|url: &Arc<str>, value: &Arc<Cached>| {
                    // The body and the copies made so far (`reweigh` counts
                    // later ones), the URL (one allocation, shared by the
                    // map, the policy and the purge index) and a slot in
                    // the purge index for each key, with that index's own
                    // room.
                    let keys = value.keys.as_ref().map_or(0, HeaderValue::len);
                    let key_count = value
                        .keys
                        .as_ref()
                        .map_or(0, |k| k.as_bytes().split(|b| *b == b' ').count());
                    let bytes = value.held()
                        + ARC_STR_OVERHEAD
                        + url.len()
                        + key_count * INDEX_PAIR_OVERHEAD
                        + keys
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
            categories: Arc::default(),
        }
    }

    /// Whether purges are heard (set by the purge listener); entries are
    /// kept only while they are.
    pub fn set_listening(&self, listening: bool) {
        self.categories.fetch_add(1, Ordering::SeqCst);
        self.listening.store(listening, Ordering::SeqCst);
    }

    /// Where the categories are in their changes, while purges are heard:
    /// a category tree read from the database at one generation may be
    /// reused until it moves on. `None` while purges may be missed.
    pub fn categories_generation(&self) -> Option<u64> {
        let generation = self.categories.load(Ordering::SeqCst);
        self.listening.load(Ordering::SeqCst).then_some(generation)
    }

    /// Whether responses are being kept now.
    pub fn is_keeping(&self) -> bool {
        self.store.is_some() && self.listening.load(Ordering::SeqCst)
    }

    /// Drops every entry that depends on one of `keys`.
    pub fn purge(&self, keys: &Keys) {
        if keys
            .iter()
            .any(|k| k.starts_with(crate::domain::keys::CATEGORY_PREFIX))
        {
            self.categories.fetch_add(1, Ordering::SeqCst);
        }
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
        self.categories.fetch_add(1, Ordering::SeqCst);
        let Some(store) = &self.store else { return };
        let mut index = lock(&store.index);
        index.purges += 1;
        index.urls.clear();
        index.pairs = 0;
        index.swept = 0;
        store.entries.invalidate_all();
    }

    /// How many purges so far; a response computed across a change of this
    /// number is not kept.
    fn purges(&self) -> u64 {
        self.store.as_ref().map_or(0, |s| lock(&s.index).purges)
    }

    /// Keeps `cached` for `url` under its keys, unless a purge happened
    /// since `purges_then`; says whether it did.
    fn keep(&self, url: Arc<str>, cached: Arc<Cached>, keys: &Keys, purges_then: u64) -> bool {
        let Some(store) = &self.store else {
            return false;
        };
        let mut index = lock(&store.index);
        if index.purges != purges_then || !self.listening.load(Ordering::SeqCst) {
            return false;
        }
        // A URL kept again (recomputed after its lifetime) goes on sharing
        // the copy the index holds.
        let url = index.shared_url(keys.iter().next(), &url).unwrap_or(url);
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
        if index.pairs > 2 * index.swept + SWEEP_FLOOR {
            let entries = &store.entries;
            let mut pairs = 0;
            index.urls.retain(|_, urls| {
                urls.retain(|url| entries.contains_key(url));
                pairs += urls.len();
                !urls.is_empty()
            });
            index.pairs = pairs;
            index.swept = pairs;
        }
        true
    }

    /// Weighs `cached` again after a copy in another encoding was added to
    /// it, if it is still the entry for `url`.
    fn reweigh(&self, url: &str, cached: &Arc<Cached>) {
        let Some(store) = &self.store else { return };
        // Purges wait meanwhile, so a purged entry is not put back.
        let index = lock(&store.index);
        if store
            .entries
            .get(url)
            .is_some_and(|held| Arc::ptr_eq(&held, cached))
        {
            // The entry's own URL, so the index and the map go on sharing
            // one.
            let first_key = cached
                .keys
                .as_ref()
                .and_then(|keys| keys.to_str().ok()?.split(' ').next());
            let shared = index
                .shared_url(first_key, url)
                .unwrap_or_else(|| Arc::from(url));
            store.entries.insert(shared, cached.clone());
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

/// The response from `cached`, and whether a copy in another encoding was
/// made for it. `computed` is the body just computed for a miss, sent as it
/// is to a client that takes no compression rather than inflated again.
fn respond(
    req: &HttpRequest,
    cached: &Cached,
    accept: Option<&AcceptEncoding>,
    computed: Option<&Bytes>,
) -> (HttpResponse, bool) {
    let hit = computed.is_none();
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
        return (response.finish(), false);
    }
    response.insert_header((header::CONTENT_TYPE, cached.content_type.clone()));
    let encoding = negotiate(accept, cached.len());
    if let (None, Some(body)) = (encoding, computed) {
        return (response.body(body.clone()), false);
    }
    match cached.body_in(encoding) {
        Ok((body, made)) => {
            if let Some(encoding) = encoding {
                response.insert_header((header::CONTENT_ENCODING, encoding.to_header_value()));
            }
            (response.body(body), made)
        }
        Err(e) => {
            let problem = crate::error::ApiError::Internal(anyhow::Error::new(e));
            (actix_web::ResponseError::error_response(&problem), false)
        }
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
    // The key: path and query as the client sent them (less tracking
    // parameters), made into a String only on a miss.
    let uri = req.uri().clone();
    let url = uri.path_and_query().map_or("/", |pq| pq.as_str());
    let mut _refresh = None;
    if let Some(store) = &cache.store
        && let Some(hit) = store.entries.get(url)
    {
        // Fresh, or past its lifetime while another request recomputes it.
        let serve = hit.fresh_until > Instant::now() || {
            _refresh = Refresh::claim(store, url);
            _refresh.is_none()
        };
        if serve {
            let (http_req, _) = req.into_parts();
            let (response, made) = respond(&http_req, &hit, accept.as_ref(), None);
            if made {
                cache.reweigh(url, &hit);
            }
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
            store.entries.invalidate(url);
        }
        return Ok(response.map_into_boxed_body());
    }
    let (http_req, http_res) = response.into_parts();
    let headers = http_res.headers().clone();
    let bytes = body::to_bytes(http_res.into_body())
        .await
        .map_err(|e| actix_web::error::ErrorInternalServerError(e.into()))?;
    let ttl = cache.store.as_ref().map_or(Duration::ZERO, |s| s.ttl);
    // Only a response that names its keys can be purged, so only it is kept.
    let keys = headers
        .get(SURROGATE_KEY)
        .map(|keys| Keys::parse(keys.to_str().unwrap_or_default()))
        .filter(|keys| cache.store.is_some() && !keys.is_empty());
    let cached = Arc::new(Cached::new(bytes.clone(), &headers, ttl, keys.is_some()));
    let kept =
        keys.is_some_and(|keys| cache.keep(Arc::from(url), cached.clone(), &keys, purges_then));
    let (response, made) = respond(&http_req, &cached, accept.as_ref(), Some(&bytes));
    if made && kept {
        cache.reweigh(url, &cached);
    }
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
            true,
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
                format!("/a/{i}").into(),
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
    fn every_encoding_decodes_to_the_body() {
        let body = "{\"t\":\"Bình đẳng giới\"}".repeat(100);
        let entry = cached(&body, "article-1");
        let held = entry.held();
        assert!(
            held < body.len() / 5,
            "{held} bytes held for {}",
            body.len()
        );
        let (plain, made) = entry.body_in(None).unwrap();
        assert_eq!((&plain[..], made), (body.as_bytes(), false));
        assert_eq!(
            entry.held(),
            held,
            "one read without compression keeps nothing"
        );
        let (gz, made) = entry.body_in(Some(ContentEncoding::Gzip)).unwrap();
        assert!(!made, "the gzipped body is the one held");
        let mut out = String::new();
        std::io::Read::read_to_string(&mut flate2::read::GzDecoder::new(&gz[..]), &mut out)
            .unwrap();
        assert_eq!(out, body);
        let (zs, made) = entry.body_in(Some(ContentEncoding::Zstd)).unwrap();
        assert!(made);
        assert_eq!(zstd::stream::decode_all(&zs[..]).unwrap(), body.as_bytes());
        let (br, made) = entry.body_in(Some(ContentEncoding::Brotli)).unwrap();
        assert!(made);
        let mut out = Vec::new();
        brotli::BrotliDecompress(&mut &br[..], &mut out).unwrap();
        assert_eq!(out, body.as_bytes());
        assert_eq!(entry.held(), held + zs.len() + br.len());
        let (again, made) = entry.body_in(Some(ContentEncoding::Brotli)).unwrap();
        assert_eq!((again, made), (br.clone(), false));
        // A second read without compression keeps the inflated body.
        let (plain, made) = entry.body_in(None).unwrap();
        assert_eq!((&plain[..], made), (body.as_bytes(), true));
        assert_eq!(entry.held(), held + zs.len() + br.len() + body.len());
        assert!(!entry.body_in(None).unwrap().1);
    }

    #[test]
    fn a_copy_not_to_be_kept_is_not_compressed_until_asked() {
        let body = "{\"t\":\"Bình đẳng giới\"}".repeat(100);
        let entry = Cached::new(
            Bytes::from(body.clone()),
            &header::HeaderMap::new(),
            Duration::ZERO,
            false,
        );
        assert_eq!(entry.held(), body.len());
        let (gz, _) = entry.body_in(Some(ContentEncoding::Gzip)).unwrap();
        let mut out = String::new();
        std::io::Read::read_to_string(&mut flate2::read::GzDecoder::new(&gz[..]), &mut out)
            .unwrap();
        assert_eq!(out, body);
    }

    #[test]
    fn a_small_body_is_held_as_it_is() {
        let entry = cached("{\"ok\":true}", "article-1");
        assert_eq!(entry.held(), 11);
        assert_eq!(&entry.body_in(None).unwrap().0[..], b"{\"ok\":true}");
    }

    #[test]
    fn a_new_copy_is_weighed_and_a_purged_entry_is_not_put_back() {
        let cache = ResponseCache::new(60, 1 << 20);
        cache.set_listening(true);
        let store = cache.store.clone().unwrap();
        let body = "{\"t\":\"Quảng Ninh\"}".repeat(200);
        let entry = cached(&body, "article-1");
        assert!(cache.keep(
            "/a".into(),
            entry.clone(),
            &Keys::parse("article-1"),
            cache.purges()
        ));
        // Kept again (as after its lifetime), with a URL made anew.
        assert!(cache.keep(
            Arc::from(String::from("/a")),
            entry.clone(),
            &Keys::parse("article-1"),
            cache.purges()
        ));
        let shares = |store: &Store| {
            let (url, _) = store.entries.iter().next().unwrap();
            let index = lock(&store.index);
            Arc::ptr_eq(&*url, index.urls["article-1"].get("/a").unwrap())
        };
        assert!(shares(&store));
        let before = cache.weighed_size();
        let (br, made) = entry.body_in(Some(ContentEncoding::Brotli)).unwrap();
        assert!(made);
        cache.reweigh("/a", &entry);
        assert_eq!(cache.weighed_size(), before + br.len() as u64);
        // The map and the purge index still share one copy of the URL.
        assert!(shares(&store));
        cache.purge(&Keys::parse("article-1"));
        cache.reweigh("/a", &entry);
        assert!(store.entries.get("/a").is_none());
    }
}
