//! Webhook endpoints and their outbox of deliveries.
//!
//! An event becomes one delivery row per subscribed endpoint, inserted in
//! the transaction of the change that causes it ([`enqueue`], called from
//! `change::record`), so a change and its events commit or roll back
//! together. The worker (`jobs::webhooks`) sends them.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Jsonb, Nullable, Text, Timestamptz};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use serde_json::{Value, json};

use crate::schema::{webhook_deliveries, webhook_endpoints};

/// The events an endpoint may ask for (`*` is every event, `article.*`
/// every article event, `category.*` every category event).
pub const EVENTS: &[&str] = &[
    "article.published",
    "article.updated",
    "article.unpublished",
    "article.deleted",
    "category.created",
    "category.updated",
    "category.deleted",
];

/// Whether `event` is a subscription an endpoint may hold.
pub fn known_event(event: &str) -> bool {
    matches!(event, "*" | "article.*" | "category.*") || EVENTS.contains(&event)
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = webhook_endpoints)]
pub struct Endpoint {
    pub id: i64,
    pub url: String,
    pub description: String,
    pub events: Vec<Option<String>>,
    pub secret: String,
    pub active: bool,
    pub disabled_reason: Option<String>,
    pub failure_count: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = webhook_deliveries)]
pub struct Delivery {
    pub id: i64,
    pub endpoint_id: i64,
    pub event_id: String,
    pub event_type: String,
    pub payload: Value,
    pub status: String,
    pub attempts: i32,
    pub next_attempt_at: DateTime<Utc>,
    pub last_status_code: Option<i32>,
    pub last_latency_ms: Option<i32>,
    pub last_response_excerpt: Option<String>,
    pub created_at: DateTime<Utc>,
    pub delivered_at: Option<DateTime<Utc>>,
}

/// A fresh Standard Webhooks message id.
pub fn event_id() -> String {
    format!("msg_{:032x}", rand::random::<u128>())
}

/// The body of an article event: what happened and to which article,
/// with its public page and its API resource.
pub fn article_payload(
    event_type: &str,
    id: i64,
    slug: &str,
    site_url: &str,
    at: DateTime<Utc>,
) -> Value {
    json!({
        "type": event_type,
        "timestamp": at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        "data": {
            "id": id,
            "slug": slug,
            "url": format!("{site_url}/{slug}"),
            "api_url": format!("{site_url}/api/v1/articles/id/{id}"),
        }
    })
}

/// The body of a category event (`category.created`, `…updated`,
/// `…deleted`): the category's id and slug (as it was, for a deletion) and
/// its API URL.
pub fn category_payload(event_type: &str, id: i64, slug: &str, site_url: &str) -> Value {
    json!({
        "type": event_type,
        "timestamp": Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        "data": {
            "id": id,
            "slug": slug,
            "api_url": format!("{site_url}/api/v1/categories/{slug}"),
        }
    })
}

/// Queues `payload` (an `event_type` event) for every endpoint that wants
/// it, in the caller's transaction; how many deliveries were queued.
/// Endpoints Newsroom disabled for failing get them too (they wait, unsent,
/// until an admin enables the endpoint again); endpoints an admin turned
/// off do not.
pub async fn enqueue(
    conn: &mut AsyncPgConnection,
    event_type: &str,
    payload: &Value,
) -> QueryResult<usize> {
    diesel::sql_query(
        "INSERT INTO webhook_deliveries (endpoint_id, event_id, event_type, payload) \
         SELECT id, $1, $2, $3 FROM webhook_endpoints \
         WHERE (active OR disabled_reason IS NOT NULL) AND ($2 = ANY (events) OR '*' = ANY (events) \
                           OR split_part($2, '.', 1) || '.*' = ANY (events))",
    )
    .bind::<Text, _>(event_id())
    .bind::<Text, _>(event_type)
    .bind::<Jsonb, _>(payload)
    .execute(conn)
    .await
}

/// The `article.published` events of scheduled articles that came due
/// since the last call by any instance, in one transaction: the shared
/// cursor moves only if nobody moved it meanwhile, so each comes due once.
/// Articles last written before their publication time were scheduled;
/// one published at once had its event with its write.
pub async fn came_due(
    conn: &mut AsyncPgConnection,
    site_url: &str,
    now: DateTime<Utc>,
) -> QueryResult<usize> {
    use diesel_async::{AnsiTransactionManager, TransactionManager};
    AnsiTransactionManager::begin_transaction(conn).await?;
    let done: QueryResult<usize> = async {
        {
            let from: DateTime<Utc> = {
                #[derive(QueryableByName)]
                struct Cursor {
                    #[diesel(sql_type = Timestamptz)]
                    due_until: DateTime<Utc>,
                }
                let row: Option<Cursor> = diesel::sql_query(
                    "SELECT due_until FROM webhook_schedule_cursor WHERE id = 1 \
                     FOR UPDATE SKIP LOCKED",
                )
                .get_result(conn)
                .await
                .optional()?;
                match row {
                    // Another instance is at it.
                    None => return Ok(0),
                    Some(c) => c.due_until,
                }
            };
            if from >= now {
                return Ok(0);
            }
            #[derive(QueryableByName)]
            struct Due {
                #[diesel(sql_type = BigInt)]
                id: i64,
                #[diesel(sql_type = Text)]
                slug: String,
                #[diesel(sql_type = Nullable<Timestamptz>)]
                published_at: Option<DateTime<Utc>>,
            }
            let due: Vec<Due> = diesel::sql_query(
                "SELECT id, slug, published_at FROM articles \
                 WHERE public_status AND published_at > $1 AND published_at <= $2 \
                   AND updated_at < published_at \
                 ORDER BY published_at, id",
            )
            .bind::<Timestamptz, _>(from)
            .bind::<Timestamptz, _>(now)
            .load(conn)
            .await?;
            let mut queued = 0;
            for a in &due {
                let payload = article_payload(
                    "article.published",
                    a.id,
                    &a.slug,
                    site_url,
                    a.published_at.unwrap_or(now),
                );
                queued += enqueue(conn, "article.published", &payload).await?;
            }
            diesel::sql_query("UPDATE webhook_schedule_cursor SET due_until = $1 WHERE id = 1")
                .bind::<Timestamptz, _>(now)
                .execute(conn)
                .await?;
            Ok(queued)
        }
    }
    .await;
    match done {
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

pub async fn find_endpoint(conn: &mut AsyncPgConnection, id: i64) -> QueryResult<Option<Endpoint>> {
    webhook_endpoints::table
        .find(id)
        .select(Endpoint::as_select())
        .first(conn)
        .await
        .optional()
}

pub async fn list_endpoints(conn: &mut AsyncPgConnection) -> QueryResult<Vec<Endpoint>> {
    webhook_endpoints::table
        .order(webhook_endpoints::id.desc())
        .select(Endpoint::as_select())
        .load(conn)
        .await
}

/// An endpoint's deliveries, newest first, below id `before`.
pub async fn deliveries(
    conn: &mut AsyncPgConnection,
    endpoint_id: i64,
    before: Option<i64>,
    limit: i64,
) -> QueryResult<Vec<Delivery>> {
    let mut query = webhook_deliveries::table
        .filter(webhook_deliveries::endpoint_id.eq(endpoint_id))
        .into_boxed();
    if let Some(before) = before {
        query = query.filter(webhook_deliveries::id.lt(before));
    }
    query
        .order(webhook_deliveries::id.desc())
        .limit(limit)
        .select(Delivery::as_select())
        .load(conn)
        .await
}

/// Sends delivery `id` of endpoint `endpoint_id` again, as a new delivery
/// of the same event (same `webhook-id`); the new one, if the old exists.
pub async fn replay(
    conn: &mut AsyncPgConnection,
    endpoint_id: i64,
    id: i64,
) -> QueryResult<Option<Delivery>> {
    let Some(old) = webhook_deliveries::table
        .find(id)
        .filter(webhook_deliveries::endpoint_id.eq(endpoint_id))
        .select(Delivery::as_select())
        .first(conn)
        .await
        .optional()?
    else {
        return Ok(None);
    };
    diesel::insert_into(webhook_deliveries::table)
        .values((
            webhook_deliveries::endpoint_id.eq(endpoint_id),
            webhook_deliveries::event_id.eq(&old.event_id),
            webhook_deliveries::event_type.eq(&old.event_type),
            webhook_deliveries::payload.eq(&old.payload),
        ))
        .returning(Delivery::as_returning())
        .get_result(conn)
        .await
        .map(Some)
}

/// The most events one replay sends again.
pub const REPLAY_MAX: i64 = 10_000;

/// Sends every event of endpoint `endpoint_id` since `since` again (each
/// once, however often it was attempted); how many.
pub async fn replay_since(
    conn: &mut AsyncPgConnection,
    endpoint_id: i64,
    since: DateTime<Utc>,
) -> QueryResult<usize> {
    diesel::sql_query(
        "INSERT INTO webhook_deliveries (endpoint_id, event_id, event_type, payload) \
         SELECT endpoint_id, event_id, event_type, payload FROM ( \
             SELECT DISTINCT ON (event_id) id, endpoint_id, event_id, event_type, payload \
             FROM webhook_deliveries WHERE endpoint_id = $1 AND created_at >= $2 \
             ORDER BY event_id, id) d \
         ORDER BY id LIMIT $3",
    )
    .bind::<BigInt, _>(endpoint_id)
    .bind::<Timestamptz, _>(since)
    .bind::<BigInt, _>(REPLAY_MAX)
    .execute(conn)
    .await
}
