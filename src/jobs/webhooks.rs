//! Webhook delivery: the outbox (`webhook_deliveries`) is drained by every
//! instance. Each takes due deliveries with `FOR UPDATE SKIP LOCKED`, so
//! in the normal case each is sent by one instance, and holds them locked
//! while it sends them: if the instance dies mid-delivery the transaction
//! rolls back and another instance (or this one, restarted) sends them
//! again. Delivery is therefore at least once, and receivers dedupe on the
//! `webhook-id` header.
//!
//! Requests follow the Standard Webhooks spec: `webhook-id`,
//! `webhook-timestamp` and `webhook-signature: v1,<base64 HMAC-SHA256 of
//! "{id}.{timestamp}.{body}">`, keyed with the decoded part of the
//! endpoint's `whsec_…` secret. Redirects are never followed, and the
//! target address is checked after DNS resolution and connected to as
//! checked (unless `NEWSROOM_WEBHOOK_ALLOW_PRIVATE`). https endpoints are
//! verified against the system's certificate authorities (plus
//! `NEWSROOM_WEBHOOK_CA_FILE`), with rustls.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chrono::Utc;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Integer, Jsonb, Nullable, Text, Timestamptz};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

use crate::api::AppState;
use crate::config::WebhookSettings;
use crate::models::webhook;

/// Deliveries taken at once (sent concurrently).
const BATCH: i64 = 10;
/// The longest wait between looks at the outbox (other instances' changes
/// and retries come due without a signal here).
const POLL: Duration = Duration::from_millis(500);
/// Bytes of an answer kept in the delivery log.
const EXCERPT: usize = 500;

pub async fn run(state: AppState) {
    let tls = match client_tls(&state.settings.webhooks) {
        Ok(tls) => tls,
        Err(e) => {
            log::error!("webhooks are not delivered: no TLS configuration: {e}");
            return;
        }
    };
    let poll = POLL.min(
        state
            .settings
            .webhooks
            .backoff
            .max(Duration::from_millis(10)),
    );
    loop {
        if let Err(e) = schedule(&state).await {
            log::warn!("queueing webhooks of scheduled articles failed (retrying): {e}");
        }
        let sent = match deliver_due(&state, &tls).await {
            Ok(n) => n,
            Err(e) => {
                log::warn!("delivering webhooks failed (retrying): {e}");
                0
            }
        };
        if sent as i64 == BATCH {
            continue;
        }
        tokio::select! {
            () = tokio::time::sleep(poll) => {}
            () = state.webhooks.notified() => {}
        }
    }
}

async fn schedule(state: &AppState) -> anyhow::Result<()> {
    let mut conn = state.pool.get().await?;
    let n = webhook::came_due(&mut conn, &state.settings.site_url, Utc::now()).await?;
    if n > 0 {
        log::info!("scheduled articles came due: {n} webhook deliveries queued");
    }
    Ok(())
}

#[derive(QueryableByName)]
struct Due {
    #[diesel(sql_type = BigInt)]
    id: i64,
    #[diesel(sql_type = Text)]
    event_id: String,
    #[diesel(sql_type = Jsonb)]
    payload: serde_json::Value,
    #[diesel(sql_type = Integer)]
    attempts: i32,
    #[diesel(sql_type = BigInt)]
    endpoint_id: i64,
    #[diesel(sql_type = Text)]
    url: String,
    #[diesel(sql_type = Text)]
    secret: String,
}

/// What one attempt came to.
struct Outcome {
    status: Option<u16>,
    latency_ms: i32,
    excerpt: String,
}

impl Outcome {
    fn delivered(&self) -> bool {
        self.status.is_some_and(|s| (200..300).contains(&s))
    }
}

/// Sends the due deliveries (at most [`BATCH`]); how many were taken.
async fn deliver_due(state: &AppState, tls: &rustls::ClientConfig) -> anyhow::Result<usize> {
    use diesel_async::{AnsiTransactionManager, TransactionManager};
    let mut conn = state.pool.get().await?;
    let conn: &mut AsyncPgConnection = &mut conn;
    AnsiTransactionManager::begin_transaction(conn).await?;
    let result = async {
        let due: Vec<Due> = diesel::sql_query(
            "SELECT d.id, d.event_id, d.payload, d.attempts, e.id AS endpoint_id, e.url, e.secret \
             FROM webhook_deliveries d JOIN webhook_endpoints e ON e.id = d.endpoint_id \
             WHERE d.status = 'pending' AND d.next_attempt_at <= now() AND e.active \
             ORDER BY d.next_attempt_at LIMIT $1 \
             FOR UPDATE OF d SKIP LOCKED",
        )
        .bind::<BigInt, _>(BATCH)
        .load(conn)
        .await?;
        let settings = &state.settings.webhooks;
        let outcomes =
            futures_util::future::join_all(due.iter().map(|d| attempt(settings, tls, d))).await;
        for (d, outcome) in due.iter().zip(&outcomes) {
            settle(conn, settings, d, outcome).await?;
        }
        anyhow::Ok(due.len())
    }
    .await;
    match result {
        Ok(n) => {
            AnsiTransactionManager::commit_transaction(conn).await?;
            Ok(n)
        }
        Err(e) => {
            let _ = AnsiTransactionManager::rollback_transaction(conn).await;
            Err(e)
        }
    }
}

/// Records an attempt: delivered, to be retried after a backoff, or failed
/// for good (which disables its endpoint: it has failed for about a day).
async fn settle(
    conn: &mut AsyncPgConnection,
    settings: &WebhookSettings,
    d: &Due,
    outcome: &Outcome,
) -> anyhow::Result<()> {
    let attempts = d.attempts + 1;
    let status_code = outcome.status.map(i32::from);
    if outcome.delivered() {
        diesel::sql_query(
            "UPDATE webhook_deliveries SET status = 'delivered', attempts = $2, \
             delivered_at = now(), last_status_code = $3, last_latency_ms = $4, \
             last_response_excerpt = $5 WHERE id = $1",
        )
        .bind::<BigInt, _>(d.id)
        .bind::<Integer, _>(attempts)
        .bind::<Nullable<Integer>, _>(status_code)
        .bind::<Integer, _>(outcome.latency_ms)
        .bind::<Text, _>(&outcome.excerpt)
        .execute(conn)
        .await?;
        diesel::sql_query(
            "UPDATE webhook_endpoints SET failure_count = 0 WHERE id = $1 AND failure_count <> 0",
        )
        .bind::<BigInt, _>(d.endpoint_id)
        .execute(conn)
        .await?;
        return Ok(());
    }
    let exhausted = u32::try_from(attempts).unwrap_or(u32::MAX) >= settings.attempts;
    let next = Utc::now() + backoff(settings.backoff, attempts);
    diesel::sql_query(
        "UPDATE webhook_deliveries SET status = CASE WHEN $2 THEN 'failed' ELSE 'pending' END, \
         attempts = $3, next_attempt_at = $4, last_status_code = $5, last_latency_ms = $6, \
         last_response_excerpt = $7 WHERE id = $1",
    )
    .bind::<BigInt, _>(d.id)
    .bind::<diesel::sql_types::Bool, _>(exhausted)
    .bind::<Integer, _>(attempts)
    .bind::<Timestamptz, _>(next)
    .bind::<Nullable<Integer>, _>(status_code)
    .bind::<Integer, _>(outcome.latency_ms)
    .bind::<Text, _>(&outcome.excerpt)
    .execute(conn)
    .await?;
    let reason = exhausted.then(|| {
        format!(
            "delivery {} failed {attempts} times in a row (last: {})",
            d.id,
            outcome
                .status
                .map_or_else(|| outcome.excerpt.clone(), |s| format!("HTTP {s}"))
        )
    });
    diesel::sql_query(
        "UPDATE webhook_endpoints SET failure_count = failure_count + 1, \
         active = active AND $2::text IS NULL, \
         disabled_reason = COALESCE($2, disabled_reason), \
         updated_at = CASE WHEN $2 IS NULL THEN updated_at ELSE now() END WHERE id = $1",
    )
    .bind::<BigInt, _>(d.endpoint_id)
    .bind::<Nullable<Text>, _>(reason.as_deref())
    .execute(conn)
    .await?;
    if let Some(reason) = reason {
        log::warn!("webhook endpoint {} disabled: {reason}", d.endpoint_id);
    }
    Ok(())
}

/// The wait after `attempts` failed attempts: `base · 2^(attempts-1)`, at
/// most `720 · base` (an hour for 5 s), ±20%.
pub fn backoff(base: Duration, attempts: i32) -> chrono::Duration {
    let doublings = u32::try_from(attempts.saturating_sub(1))
        .unwrap_or(0)
        .min(20);
    let wait = base
        .saturating_mul(1 << doublings)
        .min(base.saturating_mul(720));
    let jitter = rand::random_range(0.8..1.2);
    chrono::Duration::from_std(wait.mul_f64(jitter)).unwrap_or(chrono::Duration::hours(1))
}

/// One POST of delivery `d`.
async fn attempt(settings: &WebhookSettings, tls: &rustls::ClientConfig, d: &Due) -> Outcome {
    let started = Instant::now();
    let result = post(settings, tls, d).await;
    let latency_ms = i32::try_from(started.elapsed().as_millis()).unwrap_or(i32::MAX);
    match result {
        Ok((status, excerpt)) => Outcome {
            status: Some(status),
            latency_ms,
            excerpt,
        },
        Err(error) => Outcome {
            status: None,
            latency_ms,
            excerpt: truncate(error),
        },
    }
}

fn truncate(mut text: String) -> String {
    if text.len() > EXCERPT {
        let mut end = EXCERPT;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        text.truncate(end);
    }
    text
}

/// The TLS set-up every delivery shares (built once: the platform's roots
/// are read on first use, not per request).
pub fn client_tls(settings: &WebhookSettings) -> anyhow::Result<rustls::ClientConfig> {
    let provider = crate::http::tls_crypto();
    let verifier = rustls_platform_verifier::Verifier::new_with_extra_roots(
        settings.extra_roots.iter().cloned(),
        provider.clone(),
    )?;
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(verifier))
        .with_no_client_auth();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(config)
}

async fn post(
    settings: &WebhookSettings,
    tls: &rustls::ClientConfig,
    d: &Due,
) -> Result<(u16, String), String> {
    let url = check_url(&d.url)?;
    let address = resolve(&url, settings.allow_private).await?;
    let host = url.host_str().unwrap_or_default().to_owned();
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(settings.timeout)
        .no_proxy()
        .tls_backend_preconfigured(tls.clone())
        // Connect to the address that was checked, not to a second lookup.
        .resolve(&host, address)
        .build()
        .map_err(|e| format!("no HTTP client: {e}"))?;
    let body = serde_json::to_string(&d.payload).map_err(|e| e.to_string())?;
    let timestamp = Utc::now().timestamp();
    let signature = sign(&d.secret, &d.event_id, timestamp, &body)?;
    let response = client
        .post(url)
        .header("content-type", "application/json")
        .header("user-agent", "Newsroom-Webhooks/1")
        .header("webhook-id", &d.event_id)
        .header("webhook-timestamp", timestamp.to_string())
        .header("webhook-signature", signature)
        .body(body)
        .send()
        .await
        .map_err(|e| {
            if e.is_timeout() {
                format!("no answer within {} ms", settings.timeout.as_millis())
            } else {
                // The causes say why (refused, a certificate not trusted…).
                let mut text = format!("request failed: {e}");
                let mut cause = std::error::Error::source(&e);
                while let Some(c) = cause {
                    text.push_str(&format!(": {c}"));
                    cause = c.source();
                }
                text
            }
        })?;
    let status = response.status().as_u16();
    // Read at most a little of the answer, within the same timeout.
    let mut excerpt = Vec::new();
    let mut response = response;
    while excerpt.len() < EXCERPT {
        match response.chunk().await {
            Ok(Some(chunk)) => excerpt.extend_from_slice(&chunk),
            Ok(None) | Err(_) => break,
        }
    }
    excerpt.truncate(EXCERPT);
    Ok((
        status,
        truncate(String::from_utf8_lossy(&excerpt).into_owned()),
    ))
}

/// `v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">` with the key in
/// a `whsec_<base64>` secret.
pub fn sign(secret: &str, id: &str, timestamp: i64, body: &str) -> Result<String, String> {
    let key = STANDARD
        .decode(secret.strip_prefix("whsec_").unwrap_or(secret))
        .map_err(|_| "the endpoint's secret is not whsec_<base64>".to_owned())?;
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).map_err(|e| e.to_string())?;
    mac.update(format!("{id}.{timestamp}.{body}").as_bytes());
    Ok(format!(
        "v1,{}",
        STANDARD.encode(mac.finalize().into_bytes())
    ))
}

/// A new `whsec_…` secret (24 random bytes).
pub fn new_secret() -> String {
    format!("whsec_{}", STANDARD.encode(rand::random::<[u8; 24]>()))
}

/// An endpoint URL must be absolute http(s), with a host and no
/// credentials.
pub fn check_url(text: &str) -> Result<reqwest::Url, String> {
    let url = reqwest::Url::parse(text.trim()).map_err(|e| format!("not a URL: {e}"))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err("must be an http or https URL".into());
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err("must name a host".into());
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err("must not hold credentials".into());
    }
    Ok(url)
}

/// The address to connect to for `url`: every address its host resolves
/// to must be public (unless `allow_private`), so a name that resolves
/// both ways is refused.
pub async fn resolve(url: &reqwest::Url, allow_private: bool) -> Result<SocketAddr, String> {
    let host = url.host_str().unwrap_or_default();
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let port = url.port_or_known_default().unwrap_or(80);
    let addresses: Vec<SocketAddr> = tokio::net::lookup_host((host, port))
        .await
        .map_err(|e| format!("`{host}` does not resolve: {e}"))?
        .collect();
    let first = *<[SocketAddr]>::first(&addresses)
        .ok_or_else(|| format!("`{host}` resolves to no address"))?;
    if let Some(bad) = addresses.iter().find(|a| !allow_private && !public(a.ip())) {
        return Err(format!(
            "`{host}` resolves to {}, a private, loopback, link-local or otherwise non-public address",
            bad.ip()
        ));
    }
    Ok(first)
}

/// Whether `ip` is a public unicast address.
pub fn public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            !(v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_multicast()
                || v4.is_broadcast()
                || v4.is_documentation()
                || a == 0
                || (a == 100 && (64..128).contains(&b))
                || a >= 240)
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return public(IpAddr::V4(v4));
            }
            let first = v6.segments()[0];
            !(v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (first & 0xfe00) == 0xfc00
                || (first & 0xffc0) == 0xfe80)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn private_addresses_are_not_public() {
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "224.0.0.1",
            "::1",
            "fc00::1",
            "fe80::1",
            "::ffff:127.0.0.1",
        ] {
            assert!(!public(ip.parse().unwrap()), "{ip}");
        }
        for ip in ["93.184.216.34", "8.8.8.8", "2606:4700::1111"] {
            assert!(public(ip.parse().unwrap()), "{ip}");
        }
    }

    #[test]
    fn signatures_follow_the_standard_webhooks_example() {
        // The example of the Standard Webhooks reference libraries.
        let sig = sign(
            "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            1614265330,
            r#"{"test": 2432232314}"#,
        )
        .unwrap();
        assert_eq!(sig, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
    }
}
