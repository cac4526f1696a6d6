//! Partner keys and their daily usage in PostgreSQL.

use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use super::{CheckedFields, DEFAULT_BURST, DEFAULT_PER_MINUTE, NewSecret, Scope};
use crate::schema::{api_key_daily_usage, api_keys};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = api_keys)]
pub struct ApiKey {
    pub id: i64,
    pub name: String,
    pub contact: String,
    pub scopes: Vec<Option<String>>,
    pub per_minute: i32,
    pub burst: i32,
    pub prefix: String,
    pub secret_hash: Vec<u8>,
    pub expires_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub created_by: Option<i64>,
    pub updated_at: DateTime<Utc>,
    pub rotated_at: Option<DateTime<Utc>>,
}

impl ApiKey {
    pub fn scopes(&self) -> Vec<Scope> {
        self.scopes
            .iter()
            .flatten()
            .filter_map(|s| Scope::parse(s))
            .collect()
    }

    /// `active`, `revoked` or `expired` at `now`.
    pub fn status(&self, now: DateTime<Utc>) -> &'static str {
        if self.revoked_at.is_some() {
            "revoked"
        } else if self.expires_at.is_some_and(|at| at <= now) {
            "expired"
        } else {
            "active"
        }
    }
}

fn scope_names(scopes: &[Scope]) -> Vec<String> {
    scopes.iter().map(|s| s.as_str().to_owned()).collect()
}

/// Stores a new key (name required) with `secret`'s prefix and hash.
pub async fn create(
    conn: &mut AsyncPgConnection,
    fields: &CheckedFields,
    secret: &NewSecret,
    created_by: Option<i64>,
) -> QueryResult<ApiKey> {
    let scopes = fields.scopes.clone().unwrap_or_else(|| vec![Scope::Read]);
    diesel::insert_into(api_keys::table)
        .values((
            api_keys::name.eq(fields.name.as_deref().unwrap_or_default()),
            api_keys::contact.eq(fields.contact.as_deref().unwrap_or_default()),
            api_keys::scopes.eq(scope_names(&scopes)),
            api_keys::per_minute.eq(fields.per_minute.unwrap_or(DEFAULT_PER_MINUTE)),
            api_keys::burst.eq(fields.burst.unwrap_or(DEFAULT_BURST)),
            api_keys::prefix.eq(&secret.lookup),
            api_keys::secret_hash.eq(&secret.hash[..]),
            api_keys::expires_at.eq(fields.expires_at.flatten()),
            api_keys::created_by.eq(created_by),
        ))
        .returning(ApiKey::as_returning())
        .get_result(conn)
        .await
}

/// Newest first.
pub async fn list(conn: &mut AsyncPgConnection) -> QueryResult<Vec<ApiKey>> {
    api_keys::table
        .order(api_keys::id.desc())
        .select(ApiKey::as_select())
        .load(conn)
        .await
}

pub async fn find(conn: &mut AsyncPgConnection, id: i64) -> QueryResult<Option<ApiKey>> {
    api_keys::table
        .find(id)
        .select(ApiKey::as_select())
        .first(conn)
        .await
        .optional()
}

/// The key a secret's public prefix names (its hash is still to compare).
pub async fn find_by_prefix(
    conn: &mut AsyncPgConnection,
    prefix: &str,
) -> QueryResult<Option<ApiKey>> {
    api_keys::table
        .filter(api_keys::prefix.eq(prefix))
        .select(ApiKey::as_select())
        .first(conn)
        .await
        .optional()
}

/// Applies the fields given; `None` when there is no such key.
pub async fn update(
    conn: &mut AsyncPgConnection,
    id: i64,
    fields: &CheckedFields,
) -> QueryResult<Option<ApiKey>> {
    let Some(current) = find(conn, id).await? else {
        return Ok(None);
    };
    let scopes = fields.scopes.clone().unwrap_or_else(|| current.scopes());
    diesel::update(api_keys::table.find(id))
        .set((
            api_keys::name.eq(fields.name.as_deref().unwrap_or(&current.name)),
            api_keys::contact.eq(fields.contact.as_deref().unwrap_or(&current.contact)),
            api_keys::scopes.eq(scope_names(&scopes)),
            api_keys::per_minute.eq(fields.per_minute.unwrap_or(current.per_minute)),
            api_keys::burst.eq(fields.burst.unwrap_or(current.burst)),
            api_keys::expires_at.eq(fields.expires_at.unwrap_or(current.expires_at)),
            api_keys::updated_at.eq(Utc::now()),
        ))
        .returning(ApiKey::as_returning())
        .get_result(conn)
        .await
        .optional()
}

/// A new secret for key `id`; the old one stops working. Revoked keys
/// stay revoked (`None` is returned for them as for unknown ids).
pub async fn rotate(
    conn: &mut AsyncPgConnection,
    id: i64,
    secret: &NewSecret,
) -> QueryResult<Option<ApiKey>> {
    let now = Utc::now();
    diesel::update(
        api_keys::table
            .find(id)
            .filter(api_keys::revoked_at.is_null()),
    )
    .set((
        api_keys::prefix.eq(&secret.lookup),
        api_keys::secret_hash.eq(&secret.hash[..]),
        api_keys::rotated_at.eq(now),
        api_keys::updated_at.eq(now),
    ))
    .returning(ApiKey::as_returning())
    .get_result(conn)
    .await
    .optional()
}

/// Revokes key `id` for good (revoking twice keeps the first time).
pub async fn revoke(conn: &mut AsyncPgConnection, id: i64) -> QueryResult<Option<ApiKey>> {
    let now = Utc::now();
    diesel::update(api_keys::table.find(id))
        .set((
            api_keys::revoked_at.eq(diesel::dsl::sql::<
                diesel::sql_types::Nullable<diesel::sql_types::Timestamptz>,
            >("coalesce(revoked_at, now())")),
            api_keys::updated_at.eq(now),
        ))
        .returning(ApiKey::as_returning())
        .get_result(conn)
        .await
        .optional()
}

/// One day's use of a key.
#[derive(Debug, Clone, Queryable)]
pub struct DailyUsage {
    pub day: NaiveDate,
    /// Requests made with the key, refused ones included.
    pub requests: i64,
    /// Of those, refused with 429.
    pub limited: i64,
}

/// Key `id`'s days from `from` to `to` (inclusive), oldest first.
pub async fn usage(
    conn: &mut AsyncPgConnection,
    id: i64,
    from: NaiveDate,
    to: NaiveDate,
) -> QueryResult<Vec<DailyUsage>> {
    api_key_daily_usage::table
        .filter(api_key_daily_usage::key_id.eq(id))
        .filter(api_key_daily_usage::day.between(from, to))
        .order(api_key_daily_usage::day)
        .select((
            api_key_daily_usage::day,
            api_key_daily_usage::requests,
            api_key_daily_usage::limited,
        ))
        .load(conn)
        .await
}
