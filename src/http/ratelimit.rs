//! Partner keys and rate limits on the public API, checked before the
//! response cache answers.
//!
//! A key comes as `Authorization: Bearer nr_live_…` or `X-Api-Key:
//! nr_live_…`. An unknown, revoked or expired key is a 401 problem, never
//! an anonymous read; a valid one is limited by its own GCRA bucket, its
//! request counted for the day, and its [`Partner`] put in the request's
//! extensions for handlers. Requests without a key are limited per client
//! address (`NEWSROOM_RATE_LIMIT_ANON_PER_MIN`; the address as
//! `http::client` derives it, so forwarding headers count only from
//! trusted proxies); staff with a valid access token are not limited.
//! Every limited response carries `RateLimit-Policy` and `RateLimit`
//! (draft-ietf-httpapi-ratelimit-headers-11); a refusal is a 429 problem
//! with `Retry-After`.
//!
//! Validated keys are kept in memory for `NEWSROOM_API_KEY_CACHE_SECS`, so
//! a keyed read costs a hash and a map lookup, not a query. A change made
//! on this instance forgets them at once; other instances notice within
//! that time. Buckets are in memory too: each instance enforces each limit
//! on its own.

use std::collections::HashMap;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::Method;
use actix_web::http::header::{self, HeaderMap, HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::web::Data;
use actix_web::{Error, HttpMessage, ResponseError};
use chrono::{DateTime, Utc};
use governor::clock::{Clock, DefaultClock};
use governor::middleware::StateInformationMiddleware;
use governor::{DefaultDirectRateLimiter, DefaultKeyedRateLimiter, Quota, RateLimiter};

use crate::api::AppState;
use crate::config::Settings;
use crate::db::DbPool;
use crate::error::ApiError;
use crate::partners::usage::UsageCounter;
use crate::partners::{self, Partner, SECRET_PREFIX, Scope, store};

pub static RATELIMIT: HeaderName = HeaderName::from_static("ratelimit");
pub static RATELIMIT_POLICY: HeaderName = HeaderName::from_static("ratelimit-policy");
pub static X_API_KEY: HeaderName = HeaderName::from_static("x-api-key");

/// The policy names in the headers.
const PARTNER_POLICY: &str = "partner";
const ANONYMOUS_POLICY: &str = "anonymous";

/// Keys looked up (valid or not) kept at most; past it the oldest go.
const KNOWN_KEYS: u64 = 100_000;

type KeyLimiter = DefaultDirectRateLimiter<StateInformationMiddleware>;
type AddressLimiter = DefaultKeyedRateLimiter<IpAddr, StateInformationMiddleware>;

/// A key as its secret's holder is judged.
#[derive(Debug)]
struct KnownKey {
    id: i64,
    scopes: Vec<Scope>,
    per_minute: u32,
    burst: u32,
    expires_at: Option<DateTime<Utc>>,
    revoked: bool,
}

#[derive(Debug, Clone)]
enum Lookup {
    Key(Arc<KnownKey>),
    Unknown,
}

/// One key's bucket, rebuilt when its limit changes.
struct Bucket {
    per_minute: u32,
    burst: u32,
    limiter: KeyLimiter,
}

struct Anonymous {
    per_minute: u32,
    burst: u32,
    limiter: AddressLimiter,
}

/// Shared by every worker: the key cache, the buckets and the usage counts.
pub struct Partners {
    /// By the secret's SHA-256: what it names, once looked up.
    keys: Option<moka::sync::Cache<[u8; 32], Arc<tokio::sync::OnceCell<Lookup>>>>,
    buckets: RwLock<HashMap<i64, Arc<Bucket>>>,
    anonymous: Option<Anonymous>,
    pub usage: UsageCounter,
}

fn quota(per_minute: u32, burst: u32) -> Option<Quota> {
    Some(Quota::per_minute(NonZeroU32::new(per_minute)?).allow_burst(NonZeroU32::new(burst)?))
}

impl Partners {
    pub fn new(settings: &Settings) -> Self {
        let keys = (settings.api_key_cache_secs > 0).then(|| {
            moka::sync::Cache::builder()
                .time_to_live(Duration::from_secs(settings.api_key_cache_secs))
                .max_capacity(KNOWN_KEYS)
                .build()
        });
        let (per_minute, burst) = (settings.anon_per_minute, settings.anon_burst.max(1));
        let anonymous = quota(per_minute, burst).map(|quota| Anonymous {
            per_minute,
            burst,
            limiter: RateLimiter::keyed(quota).with_middleware::<StateInformationMiddleware>(),
        });
        Self {
            keys,
            buckets: RwLock::default(),
            anonymous,
            usage: UsageCounter::new(settings.timezone),
        }
    }

    /// Forgets what was looked up: after a key changed on this instance.
    pub fn forget(&self, revoked: Option<i64>) {
        if let Some(keys) = &self.keys {
            keys.invalidate_all();
        }
        if let Some(id) = revoked {
            self.buckets
                .write()
                .unwrap_or_else(|e| e.into_inner())
                .remove(&id);
        }
    }

    /// Drops the buckets of addresses that are back to a full burst, so
    /// the map holds only recently active addresses (run every minute).
    pub fn housekeeping(&self) {
        if let Some(anonymous) = &self.anonymous {
            anonymous.limiter.retain_recent();
            anonymous.limiter.shrink_to_fit();
        }
    }

    /// Writes the buffered usage counts now.
    pub async fn flush_usage(&self, pool: &DbPool) -> anyhow::Result<i64> {
        if self.usage.pending() == 0 {
            return Ok(0);
        }
        let mut conn = pool.get().await?;
        Ok(self.usage.flush(&mut conn).await?)
    }

    /// The key `secret` names, if it is valid now.
    async fn resolve(
        &self,
        secret: &str,
        state: &AppState,
        now: DateTime<Utc>,
    ) -> Result<Arc<KnownKey>, ApiError> {
        let unknown =
            || ApiError::Unauthorized("the API key is not one this service issued".into());
        let prefix = partners::lookup_of(secret).ok_or_else(unknown)?;
        let hash = partners::hash(secret);
        let lookup = match &self.keys {
            Some(keys) => {
                // Requests with the same key while it is looked up wait
                // for that one query instead of sending their own.
                let slot = keys.get_with(hash, Arc::default);
                slot.get_or_try_init(|| find(state, prefix, &hash))
                    .await?
                    .clone()
            }
            None => find(state, prefix, &hash).await?,
        };
        // Only the holder of the right secret learns why it stopped working.
        match lookup {
            Lookup::Unknown => Err(unknown()),
            Lookup::Key(key) if key.revoked => Err(ApiError::Unauthorized(
                "this API key was revoked; ask for a new one".into(),
            )),
            Lookup::Key(key) => match key.expires_at {
                Some(at) if at <= now => Err(ApiError::Unauthorized(format!(
                    "this API key expired at {}",
                    at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
                ))),
                _ => Ok(key),
            },
        }
    }

    fn bucket(&self, key: &KnownKey) -> Arc<Bucket> {
        let fits = |b: &Bucket| b.per_minute == key.per_minute && b.burst == key.burst;
        if let Some(bucket) = self
            .buckets
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(&key.id)
            .filter(|b| fits(b))
        {
            return bucket.clone();
        }
        let mut buckets = self.buckets.write().unwrap_or_else(|e| e.into_inner());
        let bucket = buckets.entry(key.id).or_insert_with(|| new_bucket(key));
        if !fits(bucket) {
            *bucket = new_bucket(key);
        }
        bucket.clone()
    }

    fn check_key(&self, key: &KnownKey) -> Decision {
        let bucket = self.bucket(key);
        let outcome = bucket.limiter.check();
        Decision::of(
            PARTNER_POLICY,
            key.per_minute,
            key.burst,
            outcome,
            bucket.limiter.clock(),
        )
    }

    /// `None` when anonymous reads are not limited (or the address is
    /// unknown).
    fn check_address(&self, address: Option<IpAddr>) -> Option<Decision> {
        let anonymous = self.anonymous.as_ref()?;
        let address = bucket_address(address?);
        let outcome = anonymous.limiter.check_key(&address);
        Some(Decision::of(
            ANONYMOUS_POLICY,
            anonymous.per_minute,
            anonymous.burst,
            outcome,
            anonymous.limiter.clock(),
        ))
    }
}

/// The key a secret's prefix names, if the secret's hash matches its own.
async fn find(state: &AppState, prefix: &str, hash: &[u8; 32]) -> Result<Lookup, ApiError> {
    let mut conn = state.conn().await?;
    let row = store::find_by_prefix(&mut conn, prefix).await?;
    Ok(match row {
        Some(row) if partners::same_hash(&row.secret_hash, hash) => {
            Lookup::Key(Arc::new(KnownKey {
                id: row.id,
                scopes: row.scopes(),
                per_minute: u32::try_from(row.per_minute).unwrap_or(1).max(1),
                burst: u32::try_from(row.burst).unwrap_or(1).max(1),
                expires_at: row.expires_at,
                revoked: row.revoked_at.is_some(),
            }))
        }
        _ => Lookup::Unknown,
    })
}

fn new_bucket(key: &KnownKey) -> Arc<Bucket> {
    let quota = quota(key.per_minute, key.burst).expect("limits are at least 1");
    Arc::new(Bucket {
        per_minute: key.per_minute,
        burst: key.burst,
        limiter: RateLimiter::direct(quota).with_middleware::<StateInformationMiddleware>(),
    })
}

/// IPv6 clients get a /64 each (one subscriber's usual share), so one
/// host cannot take a fresh bucket per address.
fn bucket_address(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let s = v6.segments();
                IpAddr::V6(std::net::Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
            }
        },
        v4 => v4,
    }
}

/// What one check of one bucket found.
#[derive(Debug, Clone)]
struct Decision {
    policy: &'static str,
    per_minute: u32,
    burst: u32,
    remaining: u32,
    /// Seconds until the next request's worth of quota comes back.
    next_unit: u64,
    /// Set when the request is refused.
    retry_after: Option<u64>,
}

fn ceil_secs(d: Duration) -> u64 {
    d.as_secs() + u64::from(d.subsec_nanos() > 0)
}

impl Decision {
    fn of(
        policy: &'static str,
        per_minute: u32,
        burst: u32,
        outcome: Result<
            governor::middleware::StateSnapshot,
            governor::NotUntil<<DefaultClock as Clock>::Instant>,
        >,
        clock: &DefaultClock,
    ) -> Self {
        let interval = Duration::from_secs(60) / per_minute.max(1);
        match outcome {
            Ok(snapshot) => {
                let remaining = snapshot.remaining_burst_capacity();
                Self {
                    policy,
                    per_minute,
                    burst,
                    remaining,
                    next_unit: if remaining >= burst {
                        0
                    } else {
                        ceil_secs(interval)
                    },
                    retry_after: None,
                }
            }
            Err(not_until) => {
                let wait = ceil_secs(not_until.wait_time_from(clock.now())).max(1);
                Self {
                    policy,
                    per_minute,
                    burst,
                    remaining: 0,
                    next_unit: wait,
                    retry_after: Some(wait),
                }
            }
        }
    }

    fn error(&self) -> ApiError {
        let whose = if self.policy == PARTNER_POLICY {
            "this API key"
        } else {
            "this client address"
        };
        ApiError::RateLimited {
            retry_after: self.retry_after.unwrap_or(1),
            detail: format!(
                "{whose} may make {} requests per minute (bursts of {}); retry in {} second(s)",
                self.per_minute,
                self.burst,
                self.retry_after.unwrap_or(1)
            ),
        }
    }

    /// `RateLimit-Policy: "partner";q=1200;w=60;newsroom-burst=120` and
    /// `RateLimit: "partner";r=119;t=1`.
    fn write_headers(&self, headers: &mut HeaderMap) {
        /// A policy (name, per minute, burst) and its header.
        type Made = ((&'static str, u32, u32), HeaderValue);
        thread_local! {
            /// The last policy header made on this thread: nearly every
            /// request has the same one (the anonymous policy).
            static POLICY: std::cell::RefCell<Option<Made>> = const { std::cell::RefCell::new(None) };
        }
        let key = (self.policy, self.per_minute, self.burst);
        let policy = POLICY.with_borrow_mut(|last| match last {
            Some((k, value)) if *k == key => Some(value.clone()),
            _ => {
                let value = HeaderValue::from_str(&format!(
                    "\"{}\";q={};w=60;newsroom-burst={}",
                    self.policy, self.per_minute, self.burst
                ))
                .ok()?;
                *last = Some((key, value.clone()));
                Some(value)
            }
        });
        let limit = HeaderValue::from_str(&format!(
            "\"{}\";r={};t={}",
            self.policy, self.remaining, self.next_unit
        ));
        if let Some(policy) = policy {
            headers.insert(RATELIMIT_POLICY.clone(), policy);
        }
        if let Ok(limit) = limit {
            headers.insert(RATELIMIT.clone(), limit);
        }
    }
}

/// A request refused before it reached the cache or a handler.
struct Refusal {
    error: ApiError,
    decision: Option<Decision>,
}

impl From<ApiError> for Refusal {
    fn from(error: ApiError) -> Self {
        Self {
            error,
            decision: None,
        }
    }
}

fn refuse(req: ServiceRequest, refusal: Refusal) -> ServiceResponse<BoxBody> {
    let (http_req, _) = req.into_parts();
    let mut response = refusal.error.error_response();
    if let Some(decision) = &refusal.decision {
        decision.write_headers(response.headers_mut());
    }
    ServiceResponse::new(http_req, response)
}

/// What a request presents.
enum Credential {
    /// A partner key, and whether it came in `Authorization`.
    Key {
        secret: String,
        in_authorization: bool,
    },
    /// A bearer token that is not a key: a staff access token, if valid.
    Token(String),
    None,
}

fn credential(req: &ServiceRequest) -> Result<Credential, ApiError> {
    let bearer = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .map(str::trim);
    let api_key = match req.headers().get(&X_API_KEY) {
        Some(value) => Some(
            value
                .to_str()
                .map(str::trim)
                .map_err(|_| ApiError::Unauthorized("`X-Api-Key` is not an API key".into()))?,
        ),
        None => None,
    };
    let bearer_key = bearer.filter(|t| t.starts_with(SECRET_PREFIX));
    match (bearer_key, api_key) {
        (Some(a), Some(b)) if a != b => Err(ApiError::Unauthorized(
            "send one API key, in `Authorization` or in `X-Api-Key`".into(),
        )),
        (Some(secret), _) => Ok(Credential::Key {
            secret: secret.to_owned(),
            in_authorization: true,
        }),
        (None, Some(secret)) => Ok(Credential::Key {
            secret: secret.to_owned(),
            in_authorization: false,
        }),
        (None, None) => Ok(bearer.map_or(Credential::None, |t| Credential::Token(t.to_owned()))),
    }
}

/// The middleware: inside CORS (so refusals carry CORS headers and
/// browsers can read them), outside the response cache (so a cached
/// answer is never handed out before the key is checked and counted).
pub async fn keys_and_limits(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    let path = req.match_info().as_str();
    let public = path.starts_with("/api/v1/") && !super::is_staff_path(path);
    let context = req
        .app_data::<Data<Partners>>()
        .cloned()
        .zip(req.app_data::<Data<AppState>>().cloned());
    let (Some((partners, state)), true) = (context, public && req.method() != Method::OPTIONS)
    else {
        return Ok(next.call(req).await?.map_into_boxed_body());
    };
    let credential = match credential(&req) {
        Ok(credential) => credential,
        Err(error) => return Ok(refuse(req, error.into())),
    };
    let address = super::client::client_ip(req.request(), &state.settings.trusted_proxies);
    let now = Utc::now();
    let mut private = false;
    let decision = match credential {
        Credential::Key {
            secret,
            in_authorization,
        } => {
            let key = match partners.resolve(&secret, &state, now).await {
                Ok(key) => key,
                Err(error @ ApiError::Unauthorized(_)) => {
                    // A refused key costs its address what an anonymous
                    // read does, so guessing keys is limited as reading is.
                    let refusal = match partners.check_address(address) {
                        Some(decision) if decision.retry_after.is_some() => Refusal {
                            error: decision.error(),
                            decision: Some(decision),
                        },
                        _ => error.into(),
                    };
                    return Ok(refuse(req, refusal));
                }
                Err(error) => return Ok(refuse(req, error.into())),
            };
            let decision = partners.check_key(&key);
            partners
                .usage
                .record(key.id, decision.retry_after.is_some(), now);
            let partner = Partner {
                id: key.id,
                scopes: key.scopes.clone(),
            };
            if partner.full_text() {
                // Its answers may differ from everyone else's: the cache
                // must neither serve nor keep them, and a request with
                // credentials is one it leaves alone.
                private = true;
                if !in_authorization {
                    let bearer = format!("Bearer {secret}");
                    if let Ok(value) = HeaderValue::from_str(&bearer) {
                        req.headers_mut().insert(header::AUTHORIZATION, value);
                    }
                }
            } else if in_authorization {
                // Its answers are everyone's: cached ones may serve it.
                req.headers_mut().remove(header::AUTHORIZATION);
            }
            req.extensions_mut().insert(partner);
            Some(decision)
        }
        Credential::Token(token) if state.settings.tokens.verify(&token).is_some() => None,
        Credential::Token(_) | Credential::None => partners.check_address(address),
    };
    if let Some(decision) = &decision
        && decision.retry_after.is_some()
    {
        let refusal = Refusal {
            error: decision.error(),
            decision: Some(decision.clone()),
        };
        return Ok(refuse(req, refusal));
    }
    let mut response = next.call(req).await?.map_into_boxed_body();
    if let Some(decision) = &decision {
        decision.write_headers(response.headers_mut());
    }
    if private && response.status().is_success() {
        response.headers_mut().insert(
            header::CACHE_CONTROL,
            HeaderValue::from_static("private, no-cache"),
        );
    }
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipv6_clients_share_a_bucket_per_64() {
        let a: IpAddr = "2001:db8:1:2:aaaa::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:bbbb::9".parse().unwrap();
        let c: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        assert_eq!(bucket_address(a), bucket_address(b));
        assert_ne!(bucket_address(a), bucket_address(c));
        let mapped: IpAddr = "::ffff:192.0.2.7".parse().unwrap();
        assert_eq!(
            bucket_address(mapped),
            "192.0.2.7".parse::<IpAddr>().unwrap()
        );
    }

    #[test]
    fn a_burst_then_a_refusal_with_the_time_to_wait() {
        let settings = Settings {
            anon_per_minute: 60,
            anon_burst: 3,
            ..Settings::default()
        };
        let partners = Partners::new(&settings);
        let address = Some("192.0.2.1".parse().unwrap());
        let seen: Vec<_> = (0..4)
            .map(|_| partners.check_address(address).unwrap())
            .collect();
        assert_eq!(
            seen.iter().map(|d| d.remaining).collect::<Vec<_>>(),
            [2, 1, 0, 0]
        );
        assert!(seen[..3].iter().all(|d| d.retry_after.is_none()));
        assert_eq!(seen[3].retry_after, Some(1));
        let mut headers = HeaderMap::new();
        seen[0].write_headers(&mut headers);
        assert_eq!(
            headers.get(&RATELIMIT_POLICY).unwrap(),
            "\"anonymous\";q=60;w=60;newsroom-burst=3"
        );
        assert_eq!(headers.get(&RATELIMIT).unwrap(), "\"anonymous\";r=2;t=1");
        // Another address has a bucket of its own.
        let other = partners.check_address(Some("192.0.2.2".parse().unwrap()));
        assert_eq!(other.unwrap().remaining, 2);
    }
}
