//! Database access: the connection pool, the embedded migrations (applied
//! under an advisory lock) and the zero-config private cluster.

pub mod embedded;
pub mod replicas;

use diesel::prelude::*;
use diesel_async::async_connection_wrapper::AsyncConnectionWrapper;
use diesel_async::pooled_connection::deadpool::{Object, Pool};
use diesel_async::pooled_connection::{
    AsyncDieselConnectionManager, ManagerConfig, RecyclingMethod,
};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};
use std::time::Duration;

use anyhow::Context;

pub use embedded::{ClusterOptions, EmbeddedPostgres};

pub type DbPool = Pool<AsyncPgConnection>;
pub type DbConn = Object<AsyncPgConnection>;

pub const MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations");

/// Any number will do as long as every instance uses the same one.
const MIGRATION_LOCK_KEY: i64 = 0x6e65_7773_726f_6f6d; // "newsroom"

pub fn pool(url: &str, max_size: usize) -> anyhow::Result<DbPool> {
    pool_with_timeout(url, max_size, Duration::from_secs(5))
}

/// A pool whose checkouts and connects give up after `timeout` (replicas
/// use a short one: a read that cannot have one goes to the primary).
pub fn pool_with_timeout(url: &str, max_size: usize, timeout: Duration) -> anyhow::Result<DbPool> {
    // Fast recycling skips a `SELECT 1` round trip on every checkout; a dead
    // connection fails its first query instead (a 503) and is dropped.
    let mut config = ManagerConfig::default();
    config.recycling_method = RecyclingMethod::Fast;
    let manager = AsyncDieselConnectionManager::<AsyncPgConnection>::new_with_config(url, config);
    Pool::builder(manager)
        .max_size(max_size)
        .wait_timeout(Some(timeout))
        .create_timeout(Some(timeout))
        .recycle_timeout(Some(timeout))
        .runtime(deadpool::Runtime::Tokio1)
        .build()
        .context("building the connection pool")
}

/// Applies pending migrations. Holds a session advisory lock meanwhile so
/// that instances starting together take turns instead of racing.
pub async fn run_migrations(url: &str) -> anyhow::Result<usize> {
    let url = url.to_owned();
    tokio::task::spawn_blocking(move || -> anyhow::Result<usize> {
        let mut conn = <AsyncConnectionWrapper<AsyncPgConnection> as Connection>::establish(&url)
            .with_context(|| format!("connecting to {}", redact(&url)))?;
        let lock = diesel::sql_query("SELECT pg_advisory_lock($1)")
            .bind::<diesel::sql_types::BigInt, _>(MIGRATION_LOCK_KEY);
        diesel::RunQueryDsl::execute(lock, &mut conn)?;
        let applied = conn
            .run_pending_migrations(MIGRATIONS)
            .map(|versions| versions.len())
            .map_err(|e| anyhow::anyhow!("applying migrations: {e}"));
        let unlock = diesel::sql_query("SELECT pg_advisory_unlock($1)")
            .bind::<diesel::sql_types::BigInt, _>(MIGRATION_LOCK_KEY);
        diesel::RunQueryDsl::execute(unlock, &mut conn)?;
        applied
    })
    .await?
}

/// On the private cluster: the application role, not a superuser, with its
/// password from the cluster's credentials. Idempotent.
pub async fn ensure_app_role(cluster: &EmbeddedPostgres) -> anyhow::Result<()> {
    let admin_url = cluster.admin_url("postgres");
    let mut conn = AsyncPgConnection::establish(&admin_url)
        .await
        .with_context(|| format!("connecting to {}", redact(&admin_url)))?;
    let role = quote_ident(embedded::APP_ROLE);
    diesel::sql_query(format!(
        "DO $$ BEGIN \
           IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{app}') THEN CREATE ROLE {role}; END IF; \
         END $$",
        app = embedded::APP_ROLE
    ))
    .execute(&mut conn)
    .await?;
    // The password is ours (base64url): nothing in it needs quoting.
    diesel::sql_query(format!(
        "ALTER ROLE {role} WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION \
         PASSWORD '{}'",
        cluster.app_password()
    ))
    .execute(&mut conn)
    .await?;
    Ok(())
}

/// Creates `database` on the server of `admin_url` unless it exists,
/// optionally as a copy of `template` and owned by `owner`.
pub async fn create_database(
    admin_url: &str,
    database: &str,
    template: Option<&str>,
    owner: Option<&str>,
) -> anyhow::Result<bool> {
    let mut conn = AsyncPgConnection::establish(admin_url)
        .await
        .with_context(|| format!("connecting to {}", redact(admin_url)))?;
    let exists: bool = diesel::select(diesel::dsl::exists(
        pg_database::table.filter(pg_database::datname.eq(database)),
    ))
    .get_result(&mut conn)
    .await?;
    if exists {
        return Ok(false);
    }
    let mut sql = format!("CREATE DATABASE {}", quote_ident(database));
    if let Some(template) = template {
        sql.push_str(&format!(" TEMPLATE {}", quote_ident(template)));
    }
    if let Some(owner) = owner {
        sql.push_str(&format!(" OWNER {}", quote_ident(owner)));
    }
    diesel::sql_query(sql).execute(&mut conn).await?;
    Ok(true)
}

pub async fn drop_database(admin_url: &str, database: &str) -> anyhow::Result<()> {
    let mut conn = AsyncPgConnection::establish(admin_url).await?;
    diesel::sql_query(format!(
        "DROP DATABASE IF EXISTS {} WITH (FORCE)",
        quote_ident(database)
    ))
    .execute(&mut conn)
    .await?;
    Ok(())
}

/// Whether the database answers a trivial query.
pub async fn ping(pool: &DbPool) -> bool {
    let Ok(mut conn) = pool.get().await else {
        return false;
    };
    diesel::sql_query("SELECT 1")
        .execute(&mut conn)
        .await
        .is_ok()
}

diesel::table! {
    pg_database (datname) {
        datname -> Text,
    }
}

fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// The URL without its password, for logs and errors.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let credentials = &url[scheme_end + 3..at];
            match credentials.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme_end + 3], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}
