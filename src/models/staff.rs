//! Staff users, their refresh tokens and the login throttle.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use crate::schema::{login_throttle, refresh_tokens, staff_sessions, staff_users};

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
    pub password_changed_at: DateTime<Utc>,
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

/// Disables an account and ends its sign-ins.
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
    for id in &ids {
        revoke_sessions_of(conn, *id).await?;
    }
    Ok(ids.len())
}

/// Starts a sign-in; its id is also its refresh tokens' family.
pub async fn create_session(conn: &mut AsyncPgConnection, user_id: i64) -> QueryResult<String> {
    let id = crate::auth::new_opaque_token().1;
    diesel::insert_into(staff_sessions::table)
        .values((
            staff_sessions::id.eq(&id),
            staff_sessions::user_id.eq(user_id),
        ))
        .execute(conn)
        .await?;
    Ok(id)
}

/// The active user whose live sign-in `session` is.
pub async fn session_user(
    conn: &mut AsyncPgConnection,
    user_id: i64,
    session: &str,
) -> QueryResult<Option<StaffUser>> {
    staff_users::table
        .inner_join(staff_sessions::table)
        .filter(staff_users::id.eq(user_id))
        .filter(staff_users::active.eq(true))
        .filter(staff_sessions::id.eq(session))
        .filter(staff_sessions::revoked_at.is_null())
        .select(StaffUser::as_select())
        .first(conn)
        .await
        .optional()
}

/// Ends every sign-in of a user (disabled, or a new password): their
/// refresh tokens and access tokens stop working at once.
pub async fn revoke_sessions_of(conn: &mut AsyncPgConnection, user_id: i64) -> QueryResult<()> {
    let live: Vec<String> = staff_sessions::table
        .filter(staff_sessions::user_id.eq(user_id))
        .filter(staff_sessions::revoked_at.is_null())
        .select(staff_sessions::id)
        .load(conn)
        .await?;
    revoke_sessions(conn, &live).await?;
    Ok(())
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

/// Ends one sign-in: its refresh tokens and its access tokens.
pub async fn revoke_family(conn: &mut AsyncPgConnection, family: &str) -> QueryResult<usize> {
    revoke_sessions(conn, &[family.to_owned()]).await
}

/// Marks sign-ins and their refresh tokens revoked; how many tokens were.
async fn revoke_sessions(conn: &mut AsyncPgConnection, ids: &[String]) -> QueryResult<usize> {
    if ids.is_empty() {
        return Ok(0);
    }
    let now = Utc::now();
    diesel::update(
        staff_sessions::table
            .filter(staff_sessions::id.eq_any(ids))
            .filter(staff_sessions::revoked_at.is_null()),
    )
    .set(staff_sessions::revoked_at.eq(now))
    .execute(conn)
    .await?;
    diesel::update(
        refresh_tokens::table
            .filter(refresh_tokens::family.eq_any(ids))
            .filter(refresh_tokens::revoked_at.is_null()),
    )
    .set(refresh_tokens::revoked_at.eq(now))
    .execute(conn)
    .await
}

/// How many attempts a throttle key has before each further one waits,
/// and the longest wait.
#[derive(Debug, Clone, Copy)]
pub struct Throttle {
    pub free: i32,
    pub max_delay_secs: i32,
}

/// Attempts are counted in windows of this many minutes.
pub const THROTTLE_WINDOW_MINUTES: i32 = 15;

/// Counts an attempt for `key`, atomically, before any password is checked:
/// `Ok(())` when it may go ahead, `Err(seconds)` to wait. Past `free`
/// attempts in a window, each attempt must wait 1, 2, 4, … seconds (at
/// most `max_delay_secs`) after the one before, whatever its outcome: a
/// delay that even the right password waits out, never a lock it cannot.
pub async fn take_attempt(
    conn: &mut AsyncPgConnection,
    key: &str,
    throttle: Throttle,
) -> QueryResult<Result<(), i64>> {
    use diesel::sql_types::{Integer, Text};
    // `n` is the attempt's number in its window (1 when the window is new).
    const N: &str = "(CASE WHEN t.window_started_at < now() - make_interval(mins => $4) \
                     THEN 1 ELSE t.attempts + 1 END)";
    let delay = |n: &str| {
        format!(
            "make_interval(secs => CASE WHEN {n} >= $2 \
             THEN least(power(2, {n} - $2), $3) ELSE 0 END)"
        )
    };
    let sql = format!(
        "INSERT INTO login_throttle AS t (key, attempts, window_started_at, next_allowed_at) \
         VALUES ($1, 1, now(), now() + {first}) \
         ON CONFLICT (key) DO UPDATE SET \
           attempts = {N}, \
           window_started_at = CASE WHEN t.window_started_at < now() - make_interval(mins => $4) \
                               THEN now() ELSE t.window_started_at END, \
           next_allowed_at = now() + {next} \
         WHERE t.next_allowed_at <= now() \
            OR t.window_started_at < now() - make_interval(mins => $4) \
         RETURNING key",
        first = delay("1"),
        next = delay(N),
    );
    let taken: Option<KeyRow> = diesel::sql_query(sql)
        .bind::<Text, _>(key)
        .bind::<Integer, _>(throttle.free)
        .bind::<Integer, _>(throttle.max_delay_secs)
        .bind::<Integer, _>(THROTTLE_WINDOW_MINUTES)
        .get_result(conn)
        .await
        .optional()?;
    if taken.is_some() {
        return Ok(Ok(()));
    }
    let next: DateTime<Utc> = login_throttle::table
        .find(key)
        .select(login_throttle::next_allowed_at)
        .first(conn)
        .await?;
    let wait = (next - Utc::now()).num_milliseconds();
    Ok(Err((wait + 999).div_euclid(1000).max(1)))
}

#[derive(diesel::QueryableByName)]
struct KeyRow {
    #[diesel(sql_type = diesel::sql_types::Text)]
    #[allow(dead_code)]
    key: String,
}

/// Forgets the attempts of `key` (after a successful sign-in).
pub async fn forget_attempts(conn: &mut AsyncPgConnection, key: &str) -> QueryResult<()> {
    diesel::delete(login_throttle::table.find(key))
        .execute(conn)
        .await?;
    Ok(())
}
