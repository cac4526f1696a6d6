//! The queries behind feeds and sitemaps: each reads a bounded range of an
//! index (an id range, the last 48 hours, one seek per sitemap), never the
//! whole archive.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Timestamptz};
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use crate::models::visible_articles;
use crate::schema::articles;

/// Article ids per sitemap: sitemap `n` (from 1) lists the public articles
/// with ids from `(n - 1) * PAGE_IDS` up to `n * PAGE_IDS`, so it never
/// exceeds the protocol's 50,000 URLs and stays where it is as the archive
/// grows. The index `articles_sitemap_pages` is built on `id / 10000`.
pub const PAGE_IDS: i64 = 10_000;

/// Google News takes articles of the last two days, at most 1,000.
pub const NEWS_HOURS: i64 = 48;
pub const NEWS_MAX: i64 = 1_000;

/// One sitemap of the index and when something in it last changed.
#[derive(Debug, Clone, QueryableByName)]
pub struct SitemapPage {
    /// From 0; shown to clients from 1.
    #[diesel(sql_type = BigInt)]
    pub page: i64,
    #[diesel(sql_type = Timestamptz)]
    pub lastmod: DateTime<Utc>,
}

/// The sitemaps that hold at least one public article, in order, each with
/// its newest `updated_at`: one seek per sitemap in `articles_sitemap_pages`.
pub async fn pages(
    mut conn: &AsyncPgConnection,
    now: DateTime<Utc>,
) -> QueryResult<Vec<SitemapPage>> {
    diesel::sql_query(
        "SELECT p.page, l.lastmod \
         FROM generate_series(0, (SELECT coalesce(max(id), 0) FROM articles WHERE public_status) / 10000) AS p(page) \
         CROSS JOIN LATERAL ( \
             SELECT a.updated_at AS lastmod FROM articles a \
             WHERE a.public_status AND (a.id / 10000) = p.page AND a.published_at <= $1 \
             ORDER BY a.updated_at DESC LIMIT 1 \
         ) l \
         ORDER BY p.page",
    )
    .bind::<Timestamptz, _>(now)
    .load(&mut conn)
    .await
}

/// A URL of a sitemap: the article's slug and when it last changed.
#[derive(Debug, Clone, Queryable)]
pub struct SitemapEntry {
    pub slug: String,
    pub updated_at: DateTime<Utc>,
}

/// The public articles of sitemap `page` (from 0), by id: a range scan of
/// the primary key, at most `PAGE_IDS` rows.
pub async fn page(mut conn: &AsyncPgConnection, page: i64) -> QueryResult<Vec<SitemapEntry>> {
    let from = page.saturating_mul(PAGE_IDS);
    let to = from.saturating_add(PAGE_IDS);
    visible_articles()
        .filter(articles::id.ge(from))
        .filter(articles::id.lt(to))
        .order(articles::id)
        .select((articles::slug, articles::updated_at))
        .load(&mut conn)
        .await
}

/// An article of the news sitemap.
#[derive(Debug, Clone, Queryable)]
pub struct NewsEntry {
    pub id: i64,
    pub slug: String,
    pub title: String,
    pub published_at: DateTime<Utc>,
    pub language: String,
}

/// Public articles published since `since`, newest first, at most
/// `NEWS_MAX`: a range of `articles_public_published`.
pub async fn news(
    mut conn: &AsyncPgConnection,
    since: DateTime<Utc>,
) -> QueryResult<Vec<NewsEntry>> {
    visible_articles()
        .filter(articles::published_at.ge(since))
        .order((articles::published_at.desc(), articles::id.desc()))
        .limit(NEWS_MAX)
        .select((
            articles::id,
            articles::slug,
            articles::title,
            articles::published_at.assume_not_null(),
            articles::language,
        ))
        .load(&mut conn)
        .await
}

/// The rendered bodies of `ids` (for full-text feeds), by primary key.
pub async fn bodies(mut conn: &AsyncPgConnection, ids: &[i64]) -> QueryResult<Vec<(i64, String)>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    articles::table
        .filter(articles::id.eq_any(ids.to_vec()))
        .select((articles::id, articles::body_html))
        .load(&mut conn)
        .await
}
