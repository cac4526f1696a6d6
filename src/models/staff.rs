//! Staff users, their refresh tokens and the login throttle.

use chrono::{DateTime, Duration, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use crate::schema::{login_failures, refresh_tokens, staff_users};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = staff_users)]
pub struct StaffUser {
    pub id: i64,
    pub email: String,
    pub display_name: String,
    pub role: String,
    pub author_id: Option<i64>,
    pub password_hash: String,
    pub active: bool,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = staff_users)]
pub struct NewStaffUser<'a> {
    pub email: &'a str,
    pub display_name: &'a str,
    pub role: &'a str,
    pub author_id: Option<i64>,
    pub password_hash: &'a str,
}

pub async fn find_by_email(
    conn: &mut AsyncPgConnection,
    email: &str,
) -> QueryResult<Option<StaffUser>> {
    staff_users::table
        .filter(staff_users::email.eq(email.to_lowercase()))
        .select(StaffUser::as_select())
        .first(conn)
        .await
        .optional()
}

pub async fn find(conn: &mut AsyncPgConnection, id: i64) -> QueryResult<Option<StaffUser>> {
    staff_users::table
        .find(id)
        .select(StaffUser::as_select())
        .first(conn)
        .await
        .optional()
}

pub async fn list(conn: &mut AsyncPgConnection) -> QueryResult<Vec<StaffUser>> {
    staff_users::table
        .order(staff_users::email)
        .select(StaffUser::as_select())
        .load(conn)
        .await
}

pub async fn create(conn: &mut AsyncPgConnection, new: NewStaffUser<'_>) -> QueryResult<i64> {
    diesel::insert_into(staff_users::table)
        .values(new)
        .returning(staff_users::id)
        .get_result(conn)
        .await
}

pub async fn set_role(conn: &mut AsyncPgConnection, email: &str, role: &str) -> QueryResult<usize> {
    diesel::update(staff_users::table.filter(staff_users::email.eq(email.to_lowercase())))
        .set((
            staff_users::role.eq(role),
            staff_users::updated_at.eq(Utc::now()),
        ))
        .execute(conn)
        .await
}

/// Disables an account and revokes its refresh tokens.
pub async fn disable(conn: &mut AsyncPgConnection, email: &str) -> QueryResult<usize> {
    let ids: Vec<i64> =
        diesel::update(staff_users::table.filter(staff_users::email.eq(email.to_lowercase())))
            .set((
                staff_users::active.eq(false),
                staff_users::updated_at.eq(Utc::now()),
            ))
            .returning(staff_users::id)
            .get_results(conn)
            .await?;
    diesel::update(refresh_tokens::table.filter(refresh_tokens::user_id.eq_any(&ids)))
        .set(refresh_tokens::revoked_at.eq(Utc::now()))
        .execute(conn)
        .await?;
    Ok(ids.len())
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = refresh_tokens)]
pub struct RefreshToken {
    pub id: i64,
    pub user_id: i64,
    pub family: String,
    pub expires_at: DateTime<Utc>,
    pub rotated_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

pub async fn store_refresh(
    conn: &mut AsyncPgConnection,
    user_id: i64,
    family: &str,
    token_hash: &str,
    expires_at: DateTime<Utc>,
) -> QueryResult<()> {
    diesel::insert_into(refresh_tokens::table)
        .values((
            refresh_tokens::user_id.eq(user_id),
            refresh_tokens::family.eq(family),
            refresh_tokens::token_hash.eq(token_hash),
            refresh_tokens::expires_at.eq(expires_at),
        ))
        .execute(conn)
        .await?;
    Ok(())
}

/// The stored token with this digest, locked for the rotation.
pub async fn find_refresh_for_update(
    conn: &mut AsyncPgConnection,
    token_hash: &str,
) -> QueryResult<Option<RefreshToken>> {
    refresh_tokens::table
        .filter(refresh_tokens::token_hash.eq(token_hash))
        .select(RefreshToken::as_select())
        .for_update()
        .first(conn)
        .await
        .optional()
}

pub async fn mark_rotated(conn: &mut AsyncPgConnection, id: i64) -> QueryResult<()> {
    diesel::update(refresh_tokens::table.find(id))
        .set(refresh_tokens::rotated_at.eq(Utc::now()))
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn revoke_family(conn: &mut AsyncPgConnection, family: &str) -> QueryResult<usize> {
    diesel::update(
        refresh_tokens::table
            .filter(refresh_tokens::family.eq(family))
            .filter(refresh_tokens::revoked_at.is_null()),
    )
    .set(refresh_tokens::revoked_at.eq(Utc::now()))
    .execute(conn)
    .await
}

/// How many failures a key may have in a window before it is locked out.
pub const MAX_FAILURES: i32 = 5;
pub const FAILURE_WINDOW_MINUTES: i64 = 15;
pub const LOCKOUT_SECONDS: i64 = 300;

/// Seconds until `key` may try again, if it is locked out.
pub async fn locked_for(conn: &mut AsyncPgConnection, key: &str) -> QueryResult<Option<i64>> {
    let until: Option<Option<DateTime<Utc>>> = login_failures::table
        .find(key)
        .select(login_failures::locked_until)
        .first(conn)
        .await
        .optional()?;
    let now = Utc::now();
    Ok(until
        .flatten()
        .filter(|until| *until > now)
        .map(|until| (until - now).num_seconds().max(1)))
}

/// Counts a failure for `key`; locks it out once it has too many in a window.
pub async fn record_failure(conn: &mut AsyncPgConnection, key: &str) -> QueryResult<()> {
    let now = Utc::now();
    let current: Option<(i32, DateTime<Utc>)> = login_failures::table
        .find(key)
        .select((login_failures::failures, login_failures::window_started_at))
        .first(conn)
        .await
        .optional()?;
    let (failures, started) = match current {
        Some((failures, started)) if started > now - Duration::minutes(FAILURE_WINDOW_MINUTES) => {
            (failures + 1, started)
        }
        _ => (1, now),
    };
    let locked_until = (failures >= MAX_FAILURES).then(|| now + Duration::seconds(LOCKOUT_SECONDS));
    let row = (
        login_failures::key.eq(key),
        login_failures::failures.eq(failures),
        login_failures::window_started_at.eq(started),
        login_failures::locked_until.eq(locked_until),
    );
    diesel::insert_into(login_failures::table)
        .values(row)
        .on_conflict(login_failures::key)
        .do_update()
        .set((
            login_failures::failures.eq(failures),
            login_failures::window_started_at.eq(started),
            login_failures::locked_until.eq(locked_until),
        ))
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn clear_failures(conn: &mut AsyncPgConnection, key: &str) -> QueryResult<()> {
    diesel::delete(login_failures::table.find(key))
        .execute(conn)
        .await?;
    Ok(())
}
