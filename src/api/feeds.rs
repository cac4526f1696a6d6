//! Feeds and sitemaps for partners and search engines: RSS 2.0 and JSON
//! Feed 1.1 (whole site, or one category with its descendants, a tag, an
//! author), the sitemap index with its sitemaps, and the Google News
//! sitemap. They are public reads like the JSON lists: the same surrogate
//! keys, so the same writes purge them, and the same cache and ETags.
//!
//! Short addresses at the root (`/feed.xml`, `/rss`, `/feed.json`,
//! `/sitemap.xml`, `/news-sitemap.xml`) redirect here.

use std::collections::HashMap;

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, get, web};
use futures_util::try_join;
use serde::Deserialize;
use utoipa::IntoParams;

use crate::api::articles::{FilterArgs, list_keys, resolve_filter, summaries};
use crate::api::{AppState, params};
use crate::domain::keys::{self, Keys};
use crate::error::{ApiError, ApiResult, Problem};
use crate::http::cache::surrogate_keys;
use crate::models::article::{self, ArticleSort};
use crate::models::sitemap::{self, NEWS_HOURS, PAGE_IDS};
use crate::models::{author, tag};
use crate::views::Presenter;
use crate::views::feed::{self, Feed, FeedEntry, JsonFeed, NewsUrl};

pub const RSS: &str = "application/rss+xml; charset=utf-8";
pub const JSON_FEED: &str = "application/feed+json";
pub const XML: &str = "application/xml; charset=utf-8";

/// Which articles a feed carries: all, or those of a category (with its
/// descendants), a tag or an author; several filters narrow together.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct FeedQuery {
    /// Category slug; articles of its descendant categories are included.
    #[param(
        pattern = "^[a-z0-9]+(?:-[a-z0-9]+)*$",
        max_length = 200,
        example = "xa-hoi"
    )]
    category: Option<String>,
    /// Tag slug.
    #[param(
        pattern = "^[a-z0-9]+(?:-[a-z0-9]+)*$",
        max_length = 200,
        example = "binh-dang-gioi"
    )]
    tag: Option<String>,
    /// Author slug.
    #[param(
        pattern = "^[a-z0-9]+(?:-[a-z0-9]+)*$",
        max_length = 200,
        example = "tran-thanh-mai"
    )]
    author: Option<String>,
}

/// Whether this request gets whole bodies rather than excerpts.
///
/// Anonymous readers and `read` keys get excerpts; a partner key with the
/// `full_text` scope gets whole bodies. Such requests skip the shared
/// response cache and are answered `private` (see `http::ratelimit`).
fn full_text(req: &HttpRequest) -> bool {
    use actix_web::HttpMessage as _;
    req.extensions()
        .get::<crate::partners::Partner>()
        .is_some_and(crate::partners::Partner::full_text)
}

/// Loads the feed `query` names, with the surrogate keys of everything it
/// shows: the same list keys as `GET /articles` with the same filters,
/// plus each item's own. `full_text` adds each article's body as HTML.
pub async fn load_feed(
    state: &AppState,
    query: &FeedQuery,
    full_text: bool,
) -> ApiResult<(Feed, Keys)> {
    let conn = state.read_conn().await?;
    let conn = &*conn;
    let (tree, filter) = resolve_filter(
        state,
        conn,
        FilterArgs {
            category: query.category.as_deref(),
            tag: query.tag.as_deref(),
            author: query.author.as_deref(),
            ..FilterArgs::default()
        },
    )
    .await?;
    let items = i64::from(state.settings.feed_items);
    // The slugs are known valid and present now; their names title the feed.
    let (mut cards, found_tag, found_author) = try_join!(
        article::list_page(conn, &filter, ArticleSort::NewestFirst, None, items),
        async {
            match query.tag.as_deref() {
                Some(slug) => tag::find_by_slug(conn, slug).await,
                None => Ok(None),
            }
        },
        async {
            match query.author.as_deref() {
                Some(slug) => author::find_by_slug(conn, slug).await,
                None => Ok(None),
            }
        },
    )?;
    cards.truncate(items as usize);
    let summaries = summaries(state, conn, &tree, &cards, true).await?;
    let mut bodies: HashMap<i64, String> = if full_text {
        let ids: Vec<i64> = cards.iter().map(|c| c.id).collect();
        sitemap::bodies(conn, &ids).await?.into_iter().collect()
    } else {
        HashMap::new()
    };

    let mut keys = crate::views::keys::of_summaries(list_keys(&filter, false), &summaries);
    let mut named = Vec::new();
    if let Some(c) = query.category.as_deref().and_then(|s| tree.by_slug(s)) {
        keys.add(keys::category(c.id));
        named.push(c.name.clone());
    }
    if let Some(t) = found_tag {
        keys.add(keys::tag(t.id));
        named.push(t.name);
    }
    if let Some(a) = found_author {
        keys.add(keys::author(a.id));
        named.push(a.name);
    }
    let site = &state.settings.site_name;
    let (title, description) = if named.is_empty() {
        (site.clone(), format!("Bài mới nhất của {site}"))
    } else {
        let what = named.join(" · ");
        (format!("{site} – {what}"), format!("Bài mới nhất: {what}"))
    };
    let presenter = Presenter {
        settings: &state.settings,
        tree: &tree,
    };
    let site_url = &state.settings.site_url;
    Ok((
        Feed {
            title,
            description,
            home_page_url: site_url.clone(),
            language: "vi".into(),
            host: site_host(site_url).to_owned(),
            items: summaries
                .into_iter()
                .map(|article| FeedEntry {
                    content_html: bodies
                        .remove(&article.id)
                        .map(|html| presenter.absolute_html(&html)),
                    article,
                })
                .collect(),
        },
        keys,
    ))
}

/// `news.example.vn` of `https://news.example.vn`.
fn site_host(site_url: &str) -> &str {
    site_url
        .split_once("://")
        .map_or(site_url, |(_, rest)| rest)
        .split('/')
        .next()
        .unwrap_or_default()
}

const RSS_EXAMPLE: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:content="http://purl.org/rss/1.0/modules/content/" xmlns:media="http://search.yahoo.com/mrss/">
 <channel>
  <title>Newsroom – Xã hội</title>
  <link>http://localhost:8080</link>
  <description>Bài mới nhất: Xã hội</description>
  <language>vi</language>
  <generator>Newsroom</generator>
  <lastBuildDate>Wed, 15 Nov 2023 13:59:00 +0700</lastBuildDate>
  <item>
   <title>Quảng Ninh hưởng ứng Tháng hành động vì bình đẳng giới</title>
   <link>http://localhost:8080/quang-ninh-huong-ung-thang-hanh-dong-vi-binh-dang-gioi</link>
   <description>Ngày 10/11, tại KCN Đông Mai (TX Quảng Yên), Sở LĐ-TB&amp;XH phối hợp với LĐLĐ tỉnh…</description>
   <guid isPermaLink="false">article-1@localhost:8080</guid>
   <pubDate>Wed, 15 Nov 2023 13:59:00 +0700</pubDate>
   <dc:creator>Trần Thanh Mai</dc:creator>
   <category>Dân số</category>
   <category>Bình đẳng giới</category>
   <enclosure url="http://localhost:8080/media/2023/11/anh.jpg" length="0" type="image/jpeg"/>
  </item>
 </channel>
</rss>"#;

/// RSS 2.0 feed of the newest articles.
///
/// The newest published articles (`NEWSROOM_FEED_ITEMS`, 50 by default),
/// newest first, of the whole site or filtered as `GET /articles` is:
/// `category` includes its descendant categories. Each item has the title,
/// link, lead (`description`), a stable `guid`, `pubDate` in the site's
/// time zone (`Wed, 15 Nov 2023 13:59:00 +0700`), bylines (`dc:creator`),
/// the category and tags (`category`) and the cover (`enclosure` and
/// `media:content`). Anonymous readers get excerpts; full text
/// (`content:encoded`) is for partner keys licensed for it.
#[utoipa::path(
    operation_id = "get_rss_feed",
    tag = "feeds",
    security(),
    params(FeedQuery),
    responses(
        (status = 200, description = "The feed", content_type = "application/rss+xml", body = String, example = json!(RSS_EXAMPLE)),
        (status = 400, description = "A parameter is invalid or unknown", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "The `category`, `tag` or `author` does not exist", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/feeds/rss.xml")]
pub async fn get_rss_feed(
    state: web::Data<AppState>,
    req: HttpRequest,
    query: web::Query<FeedQuery>,
) -> ApiResult<HttpResponse> {
    let (feed, keys) = load_feed(&state, &query, full_text(&req)).await?;
    Ok(HttpResponse::Ok()
        .content_type(RSS)
        .insert_header(surrogate_keys(&keys))
        .body(feed::rss(&feed)))
}

/// JSON Feed 1.1 of the newest articles.
///
/// The same articles as the RSS feed, as JSON Feed 1.1
/// (<https://jsonfeed.org/version/1.1>): `content_text` holds the lead for
/// anonymous readers; `content_html` (the whole body) is for partner keys
/// licensed for full text. Times are RFC 3339 in the site's time zone.
#[utoipa::path(
    operation_id = "get_json_feed",
    tag = "feeds",
    security(),
    params(FeedQuery),
    responses(
        (status = 200, description = "The feed", content_type = "application/feed+json", body = JsonFeed),
        (status = 400, description = "A parameter is invalid or unknown", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "The `category`, `tag` or `author` does not exist", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/feeds/feed.json")]
pub async fn get_json_feed(
    state: web::Data<AppState>,
    req: HttpRequest,
    query: web::Query<FeedQuery>,
) -> ApiResult<HttpResponse> {
    let (feed, keys) = load_feed(&state, &query, full_text(&req)).await?;
    let body = serde_json::to_vec(&feed::json_feed(feed))
        .map_err(|e| ApiError::Internal(anyhow::anyhow!("writing a JSON feed: {e}")))?;
    Ok(HttpResponse::Ok()
        .content_type(JSON_FEED)
        .insert_header(surrogate_keys(&keys))
        .body(body))
}

/// What every sitemap depends on: which articles are public, their slugs
/// and their last change; an edit, a publication or a takedown of any
/// public article purges `updated-articles`.
fn sitemap_keys() -> Keys {
    [keys::list(keys::List::All, true)].into_iter().collect()
}

fn xml(body: String) -> HttpResponse {
    HttpResponse::Ok()
        .content_type(XML)
        .insert_header(surrogate_keys(&sitemap_keys()))
        .body(body)
}

/// The address of sitemap `page` (from 1), under the site's address: the
/// site routes `/api/v1/sitemaps/` to this API, as it does `/sitemap.xml`.
fn sitemap_url(site_url: &str, page: i64) -> String {
    format!("{site_url}/api/v1/sitemaps/articles/{page}")
}

const INDEX_EXAMPLE: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
 <sitemap>
  <loc>http://localhost:8080/api/v1/sitemaps/articles/1</loc>
  <lastmod>2023-11-15T13:59:00+07:00</lastmod>
 </sitemap>
</sitemapindex>"#;

/// Sitemap index.
///
/// One sitemap per 10,000 article ids (so each lists at most 10,000 URLs,
/// well under the protocol's 50,000), each with the time something in it
/// last changed. Sitemaps without public articles are left out. Also at
/// `/sitemap.xml`.
#[utoipa::path(
    operation_id = "get_sitemap_index",
    tag = "feeds",
    security(),
    responses(
        (status = 200, description = "The sitemap index", content_type = "application/xml", body = String, example = json!(INDEX_EXAMPLE)),
        (status = 400, description = "A query parameter was given (none is taken)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/sitemaps/index.xml")]
pub async fn get_sitemap_index(
    state: web::Data<AppState>,
    _: web::Query<params::NoParams>,
) -> ApiResult<HttpResponse> {
    let conn = state.read_conn().await?;
    let pages = sitemap::pages(&conn, chrono::Utc::now()).await?;
    let tz = state.settings.timezone;
    let site_url = &state.settings.site_url;
    let entries: Vec<_> = pages
        .into_iter()
        .map(|p| {
            (
                sitemap_url(site_url, p.page + 1),
                p.lastmod.with_timezone(&tz).fixed_offset(),
            )
        })
        .collect();
    Ok(xml(feed::sitemap_index(&entries)))
}

const SITEMAP_EXAMPLE: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
 <url>
  <loc>http://localhost:8080/quang-ninh-huong-ung-thang-hanh-dong-vi-binh-dang-gioi</loc>
  <lastmod>2023-11-15T13:59:00+07:00</lastmod>
 </url>
</urlset>"#;

/// One sitemap of the index.
///
/// Sitemap `page` lists the public articles with ids from
/// `(page - 1) * 10000` up to `page * 10000`, by id, each with its last
/// change; a page stays where it is as the archive grows.
#[utoipa::path(
    operation_id = "get_sitemap",
    tag = "feeds",
    security(),
    params(
        ("page" = i64, Path, description = "The sitemap's number, from 1, as the index lists it", minimum = 1, maximum = 922337203685477_i64, example = 1),
    ),
    responses(
        (status = 200, description = "The sitemap", content_type = "application/xml", body = String, example = json!(SITEMAP_EXAMPLE)),
        (status = 400, description = "The page is not a positive integer, or a query parameter was given", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No public article is in this sitemap", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/sitemaps/articles/{page}")]
pub async fn get_sitemap(
    state: web::Data<AppState>,
    path: web::Path<String>,
    _: web::Query<params::NoParams>,
) -> ApiResult<HttpResponse> {
    let raw = path.into_inner();
    let page = params::positive("page", &raw)?;
    if page > i64::MAX / PAGE_IDS {
        return Err(ApiError::not_found("sitemap", raw));
    }
    let conn = state.read_conn().await?;
    let rows = sitemap::page(&conn, page - 1).await?;
    if rows.is_empty() {
        // A sitemap must list at least one URL.
        return Err(ApiError::not_found("sitemap", raw));
    }
    let tz = state.settings.timezone;
    let site_url = &state.settings.site_url;
    let urls: Vec<_> = rows
        .into_iter()
        .map(|r| {
            (
                format!("{site_url}/{}", r.slug),
                r.updated_at.with_timezone(&tz).fixed_offset(),
            )
        })
        .collect();
    Ok(xml(feed::sitemap(&urls)))
}

const NEWS_EXAMPLE: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">
 <url>
  <loc>http://localhost:8080/quang-ninh-huong-ung-thang-hanh-dong-vi-binh-dang-gioi</loc>
  <news:news>
   <news:publication>
    <news:name>Newsroom</news:name>
    <news:language>vi</news:language>
   </news:publication>
   <news:publication_date>2023-11-15T13:59:00+07:00</news:publication_date>
   <news:title>Quảng Ninh hưởng ứng Tháng hành động vì bình đẳng giới</news:title>
  </news:news>
 </url>
</urlset>"#;

/// Google News sitemap.
///
/// Articles published in the last 48 hours, newest first, at most 1,000,
/// each with `news:publication` (the site's name, `NEWSROOM_SITE_NAME`, and
/// the article's language), `news:publication_date` in the site's time
/// zone and `news:title`. Also at `/news-sitemap.xml`.
#[utoipa::path(
    operation_id = "get_news_sitemap",
    tag = "feeds",
    security(),
    responses(
        (status = 200, description = "The news sitemap", content_type = "application/xml", body = String, example = json!(NEWS_EXAMPLE)),
        (status = 400, description = "A query parameter was given (none is taken)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/sitemaps/news.xml")]
pub async fn get_news_sitemap(
    state: web::Data<AppState>,
    _: web::Query<params::NoParams>,
) -> ApiResult<HttpResponse> {
    let conn = state.read_conn().await?;
    let since = chrono::Utc::now() - chrono::Duration::hours(NEWS_HOURS);
    let rows = sitemap::news(&conn, since).await?;
    let tz = state.settings.timezone;
    let site_url = &state.settings.site_url;
    let urls: Vec<NewsUrl> = rows
        .into_iter()
        .map(|r| NewsUrl {
            loc: format!("{site_url}/{}", r.slug),
            language: r.language,
            title: r.title,
            published_at: r.published_at.with_timezone(&tz).fixed_offset(),
        })
        .collect();
    let mut keys = sitemap_keys();
    // Which articles are in it changes with publication order too.
    keys.add(keys::list(keys::List::All, false));
    Ok(HttpResponse::Ok()
        .content_type(XML)
        .insert_header(surrogate_keys(&keys))
        .body(feed::news_sitemap(&state.settings.site_name, &urls)))
}

fn redirect(req: &HttpRequest, to: &str) -> HttpResponse {
    let query = req.query_string();
    let location = if query.is_empty() {
        to.to_owned()
    } else {
        format!("{to}?{query}")
    };
    HttpResponse::PermanentRedirect()
        .insert_header((header::LOCATION, location))
        .finish()
}

// The short addresses are plain routes, like `/docs`: not operations of
// the API, so not in its spec.

/// `/feed.xml` and `/rss`: the RSS feed.
pub async fn redirect_rss(req: HttpRequest) -> HttpResponse {
    redirect(&req, "/api/v1/feeds/rss.xml")
}

/// `/feed.json`: the JSON Feed.
pub async fn redirect_json_feed(req: HttpRequest) -> HttpResponse {
    redirect(&req, "/api/v1/feeds/feed.json")
}

/// `/sitemap.xml`: the sitemap index.
pub async fn redirect_sitemap(req: HttpRequest) -> HttpResponse {
    redirect(&req, "/api/v1/sitemaps/index.xml")
}

/// `/news-sitemap.xml`: the Google News sitemap.
pub async fn redirect_news_sitemap(req: HttpRequest) -> HttpResponse {
    redirect(&req, "/api/v1/sitemaps/news.xml")
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_host_of_the_site() {
        assert_eq!(
            super::site_host("https://news.example.vn"),
            "news.example.vn"
        );
        assert_eq!(
            super::site_host("http://localhost:8080/x"),
            "localhost:8080"
        );
    }
}
