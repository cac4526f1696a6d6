//! HTTP handlers, one module per resource, composed under `/api/v1`.

pub mod admin;
pub mod admin_keys;
pub mod admin_taxonomy;
pub mod admin_users;
pub mod admin_webhooks;
pub mod articles;
pub mod auth;
pub mod authors;
pub mod categories;
pub mod changes;
pub mod feeds;
pub mod media;
pub mod most_read;
pub mod params;
pub mod search;
pub mod system;
pub mod tags;

use std::sync::Arc;

use actix_web::web;
use utoipa_actix_web::scope;
use utoipa_actix_web::service_config::ServiceConfig;

use crate::config::Settings;
use crate::counter::ViewCounter;
use crate::db::replicas::Replicas;
use crate::db::{DbConn, DbPool};
use crate::domain::keys::{self, Keys};
use crate::error::{ApiError, ApiResult};
use crate::http::cache::ResponseCache;
use crate::jobs::purge::{self, Purger};
use crate::models::change::Change;

/// Shared by every worker: the pools, the deployment's settings, the
/// buffered view counts and the response cache with its purges.
#[derive(Clone)]
pub struct AppState {
    /// The primary: every write, and every read that must see the latest.
    pub pool: DbPool,
    /// Read replicas for anonymous public reads (none by default).
    pub replicas: Replicas,
    pub settings: Arc<Settings>,
    pub views: Arc<ViewCounter>,
    pub cache: ResponseCache,
    pub purger: Purger,
    /// Turns at the password hash: at most half the cores hash at once.
    pub password_checks: Arc<tokio::sync::Semaphore>,
    /// Rung after each change: the webhook worker looks for deliveries.
    pub webhooks: Arc<tokio::sync::Notify>,
    /// The category tree, read again only after a category changes.
    pub categories: Arc<crate::models::category::TreeMemo>,
}

impl AppState {
    pub fn new(pool: DbPool, settings: Settings) -> Self {
        let views = ViewCounter::new(
            std::time::Duration::from_secs(settings.view_window_secs),
            settings.views_per_address,
            settings.timezone,
        );
        let cache = ResponseCache::new(settings.cache_ttl_secs, settings.cache_bytes);
        let purger = Purger::new(cache.clone(), settings.purge_urls.clone());
        Self {
            pool,
            replicas: Replicas::default(),
            settings: Arc::new(settings),
            views: Arc::new(views),
            cache,
            purger,
            password_checks: Arc::new(tokio::sync::Semaphore::new(password_check_slots())),
            webhooks: Arc::new(tokio::sync::Notify::new()),
            categories: Arc::default(),
        }
    }

    /// The category tree for a public page: from memory while no category
    /// has changed since it was read (and purges are heard), else from
    /// `conn`.
    pub async fn category_tree(
        &self,
        conn: &diesel_async::AsyncPgConnection,
    ) -> diesel::QueryResult<Arc<crate::models::category::CategoryTree>> {
        self.categories
            .get(conn, self.cache.categories_generation())
            .await
    }

    /// Writes the buffered view counts now, through the pool (the server
    /// does this every few seconds while it runs).
    pub async fn flush_views(&self) -> anyhow::Result<i64> {
        if self.views.pending() == 0 {
            return Ok(0);
        }
        let mut conn = self.pool.get().await?;
        let written = self.views.flush(&mut conn).await?;
        if written > 0 {
            // New counts may reorder "Đọc nhiều" on every instance.
            let keys: Keys = [keys::MOST_READ].into_iter().collect();
            purge::notify(&mut conn, &keys).await?;
            self.replicas.wrote();
            self.purger.committed(&keys);
        }
        Ok(written)
    }

    /// One change: `work` writes (and records its audit row and the keys it
    /// affects in `change`) inside a transaction that also queues the
    /// purge for every instance; after the commit this instance's cache and
    /// the edge are purged. A handler names what changed and cannot forget
    /// the rest.
    ///
    /// (The transaction is driven by hand rather than by `transaction()`,
    /// which wants a `Send` future that a generic `work` cannot promise. A
    /// connection dropped mid-transaction is discarded by the pool, as it
    /// would be there.)
    pub async fn change<T>(
        &self,
        conn: &mut diesel_async::AsyncPgConnection,
        work: impl AsyncFnOnce(&mut diesel_async::AsyncPgConnection, &mut Change) -> ApiResult<T>,
    ) -> ApiResult<T> {
        use diesel_async::{AnsiTransactionManager, TransactionManager};
        let mut change = Change::default();
        AnsiTransactionManager::begin_transaction(conn).await?;
        let done = match work(conn, &mut change).await {
            Ok(out) => async {
                crate::models::change::record(conn, &change, &self.settings.site_url).await?;
                purge::notify(conn, change.keys()).await
            }
            .await
            .map(|()| out)
            .map_err(ApiError::from),
            Err(e) => Err(e),
        };
        match done {
            Ok(out) => {
                AnsiTransactionManager::commit_transaction(conn).await?;
                // Before the purge: the next read of what changed must not
                // come from a replica that has not replayed it yet.
                self.replicas.wrote();
                self.purger.committed(change.keys());
                // Deliveries may have been queued.
                self.webhooks.notify_one();
                Ok(out)
            }
            Err(e) => {
                if let Err(undo) = AnsiTransactionManager::rollback_transaction(conn).await {
                    // The pool discards the connection; the write's own
                    // error is the one to report.
                    log::warn!("rolling back a failed change failed too: {undo}");
                }
                Err(e)
            }
        }
    }

    /// The last write, once the server has stopped: on a connection of its
    /// own, as the pooled ones belonged to the HTTP workers' runtimes, which
    /// are gone by then.
    pub async fn flush_views_after_stop(&self) -> anyhow::Result<i64> {
        use deadpool::managed::Manager as _;
        if self.views.pending() == 0 {
            return Ok(0);
        }
        let mut conn = self.pool.manager().create().await?;
        Ok(self.views.flush(&mut conn).await?)
    }

    /// Uses read replicas for anonymous public reads.
    pub fn with_replicas(mut self, replicas: Replicas) -> Self {
        self.replicas = replicas;
        self
    }

    /// A pooled connection to the primary; a pool timeout becomes a 503.
    pub async fn conn(&self) -> ApiResult<DbConn> {
        Ok(self.pool.get().await?)
    }

    /// A connection for an anonymous public read: a replica's when one is
    /// in use and has every write this instance knows of (see
    /// `db::replicas`), else the primary's.
    pub async fn read_conn(&self) -> ApiResult<DbConn> {
        if let Some(pool) = self.replicas.pick() {
            match pool.get().await {
                Ok(conn) => return Ok(conn),
                Err(e) => log::debug!("no replica connection, reading from the primary: {e}"),
            }
        }
        self.conn().await
    }
}

fn password_check_slots() -> usize {
    std::thread::available_parallelism().map_or(1, |n| (n.get() / 2).max(1))
}

/// The versioned public API. Literal segments (`/articles/id/…`) are
/// registered before the slug patterns they would otherwise fall into.
pub fn config(cfg: &mut ServiceConfig) {
    cfg.service(
        scope::scope("/api/v1")
            .service(articles::list_articles)
            .service(most_read::list_most_read)
            .service(changes::list_changes)
            .service(most_read::record_view)
            .service(search::suggest_titles)
            .service(search::search_articles)
            .service(articles::get_article_by_id)
            .service(articles::list_related_articles)
            .service(articles::get_article)
            .service(categories::list_categories)
            .service(categories::get_category)
            .service(tags::list_tags)
            .service(tags::get_tag)
            .service(authors::list_authors)
            .service(authors::get_author)
            .service(feeds::get_rss_feed)
            .service(feeds::get_json_feed)
            .service(feeds::get_sitemap_index)
            .service(feeds::get_sitemap)
            .service(feeds::get_news_sitemap)
            .service(auth::login)
            .service(auth::refresh)
            .service(auth::logout)
            .service(admin::create_article)
            .service(admin::list_admin_articles)
            .service(admin::list_audit_entries)
            .service(admin::list_article_revisions)
            .service(admin::get_article_revision)
            .service(admin::restore_article_revision)
            .service(admin::publish_article)
            .service(admin::schedule_article)
            .service(admin::unpublish_article)
            .service(admin::get_admin_article)
            .service(admin::update_article)
            .service(admin::replace_article)
            .service(admin::delete_article)
            .service(admin_taxonomy::set_related_articles)
            .service(admin_taxonomy::create_tag)
            .service(admin_taxonomy::update_tag)
            .service(admin_taxonomy::delete_tag)
            .service(admin_taxonomy::create_author)
            .service(admin_taxonomy::update_author)
            .service(admin_taxonomy::delete_author)
            .service(media::upload_media)
            // Other methods on this path would reach `/admin/media/{id}`.
            .route(
                "/admin/media/files",
                web::route().to(media::files_other_method),
            )
            .service(media::replace_media_file)
            .service(admin_taxonomy::create_media)
            .service(admin_taxonomy::update_media)
            .service(admin_taxonomy::delete_media)
            .service(admin_users::list_staff_users)
            .service(admin_users::create_staff_user)
            .service(admin_users::update_staff_user)
            .service(admin_keys::create_api_key)
            .service(admin_keys::list_api_keys)
            .service(admin_keys::get_api_key)
            .service(admin_keys::update_api_key)
            .service(admin_keys::rotate_api_key)
            .service(admin_keys::revoke_api_key)
            .service(admin_keys::list_api_key_usage)
            .service(admin_webhooks::create_webhook)
            .service(admin_webhooks::list_webhooks)
            .service(admin_webhooks::get_webhook)
            .service(admin_webhooks::update_webhook)
            .service(admin_webhooks::delete_webhook)
            .service(admin_webhooks::list_webhook_deliveries)
            .service(admin_webhooks::replay_webhook_delivery)
            .service(admin_webhooks::replay_webhook_deliveries)
            .service(admin_taxonomy::create_category)
            .service(admin_taxonomy::update_category)
            .service(admin_taxonomy::delete_category),
    )
    .route("/feed.xml", web::get().to(feeds::redirect_rss))
    .route("/rss", web::get().to(feeds::redirect_rss))
    .route("/feed.json", web::get().to(feeds::redirect_json_feed))
    .route("/sitemap.xml", web::get().to(feeds::redirect_sitemap))
    .route(
        "/news-sitemap.xml",
        web::get().to(feeds::redirect_news_sitemap),
    )
    .route("/media/{key:.+}", web::get().to(media::serve_media))
    .route("/media/{key:.+}", web::head().to(media::serve_media))
    .service(system::healthz)
    .service(system::readyz);
}
