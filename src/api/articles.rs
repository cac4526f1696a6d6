//! Public article endpoints: the list with its filters and keyset
//! pagination, one article by slug or id, and "Cùng chuyên mục".

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use actix_web::{HttpResponse, get, web};
use futures_util::try_join;
use serde::Deserialize;
use utoipa::IntoParams;

use crate::api::{AppState, params};
use crate::domain::cursor::Cursor;
use crate::domain::keys::{self, Keys};
use crate::error::{ApiError, ApiResult, Problem};
use crate::http::cache::surrogate_keys;
use crate::models::article::{self, ArticleCard, ArticleFilter, ArticleSort};
use crate::models::category::CategoryTree;
use crate::models::{author, media, tag};
use crate::views::params::{
    ArticleFieldParam, ArticleIncludeParam, ArticleSortParam, ListIncludeParam, StrategyParam,
    SummaryFieldParam,
};
use crate::views::partial::{ArticleListResponse, ArticleResponse};
use crate::views::{
    ArticleList, ArticleSummary, AuthorSummary, Presenter, RelatedArticle, RelatedList, TagSummary,
};

const SUMMARY_FIELDS: &[&str] = &[
    "id",
    "slug",
    "title",
    "summary",
    "excerpt",
    "url",
    "cover",
    "category",
    "authors",
    "tags",
    "published_at",
    "updated_at",
    "word_count",
    "reading_time_minutes",
    "featured",
    "language",
];

const ARTICLE_FIELDS: &[&str] = &[
    "id",
    "slug",
    "title",
    "summary",
    "excerpt",
    "url",
    "cover",
    "category",
    "breadcrumbs",
    "authors",
    "tags",
    "body",
    "body_html",
    "body_text",
    "published_at",
    "first_published_at",
    "created_at",
    "updated_at",
    "word_count",
    "reading_time_minutes",
    "featured",
    "language",
    "source",
    "seo",
    "version",
    "related",
];

const DEFAULT_RELATED: i64 = 5;
const MAX_RELATED: i64 = 20;

/// Filters, order and paging of the public article list.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ArticleListQuery {
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
    /// Only featured (`true`) or only non-featured (`false`) articles.
    #[param(value_type = Option<bool>, example = true)]
    featured: Option<String>,
    /// Published at or after this RFC 3339 time (inclusive).
    #[param(value_type = Option<String>, format = DateTime, example = "2023-11-15T00:00:00+07:00")]
    published_after: Option<String>,
    /// Published before this RFC 3339 time (exclusive).
    #[param(value_type = Option<String>, format = DateTime, example = "2023-11-16T00:00:00+07:00")]
    published_before: Option<String>,
    /// Language tag, e.g. `vi`: letters, digits and hyphens.
    #[param(
        pattern = "^[A-Za-z0-9-]+$",
        min_length = 1,
        max_length = 35,
        example = "vi"
    )]
    language: Option<String>,
    /// `-published_at` (newest first, the default), `published_at` (oldest
    /// first) or `-updated_at` (recently updated first).
    #[param(value_type = Option<ArticleSortParam>, inline, example = "-published_at")]
    sort: Option<String>,
    /// Page size, 1 to 100; default 20.
    #[param(value_type = Option<i64>, minimum = 1, maximum = 100, example = 20)]
    limit: Option<String>,
    /// `next_cursor` of the previous page (opaque; only the server's own
    /// cursors for the same `sort` are accepted).
    #[param(
        pattern = "^[A-Za-z0-9_-]+$",
        min_length = 1,
        max_length = 400,
        example = "MXxhLXB1Yi1kZXNjfDE3MDAwMzE1NDAwMDAwMDB8MQ"
    )]
    cursor: Option<String>,
    /// `true` adds `total`, the number of matching articles (costs a count).
    #[param(value_type = Option<bool>, example = true)]
    include_total: Option<String>,
    /// Comma-separated fields to keep in each item, e.g. `id,slug,title`;
    /// the items then have only those (`ArticleSummaryFields`).
    #[param(value_type = Option<Vec<SummaryFieldParam>>, inline, style = Form, explode = false, min_items = 1, example = json!(["id", "slug", "title", "published_at"]))]
    fields: Option<String>,
    /// Comma-separated relations to embed: `tags`.
    #[param(value_type = Option<Vec<ListIncludeParam>>, inline, style = Form, explode = false, min_items = 1, example = json!(["tags"]))]
    include: Option<String>,
}

/// Options of a single article.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ArticleQuery {
    /// Comma-separated fields to keep, e.g. `title,body,authors`; the
    /// article then has only those (`ArticleFields`).
    #[param(value_type = Option<Vec<ArticleFieldParam>>, inline, style = Form, explode = false, min_items = 1, example = json!(["title", "summary", "body_html", "authors"]))]
    fields: Option<String>,
    /// Comma-separated relations to embed: `related` (5 related articles).
    #[param(value_type = Option<Vec<ArticleIncludeParam>>, inline, style = Form, explode = false, min_items = 1, example = json!(["related"]))]
    include: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct RelatedQuery {
    /// How many, 1 to 20; default 5.
    #[param(value_type = Option<i64>, minimum = 1, maximum = 20, example = 5)]
    limit: Option<String>,
    /// `auto` (default): a score mixing same category, shared tags and
    /// shared word pairs in title and summary, decaying with the time
    /// between the two articles; `category`: "Cùng chuyên mục", the newest
    /// of the same category; `tags`: most shared tags first; `manual`: only
    /// the hand-pinned ones. Pinned articles always come first.
    #[param(value_type = Option<StrategyParam>, inline, example = "auto")]
    strategy: Option<String>,
}

/// List published articles.
///
/// Newest first by default. Pages are linked by an opaque cursor: follow
/// `next_cursor` until it is `null`. A walk returns every matching article
/// exactly once even while new articles are published, and a deep page costs
/// what the first one does.
#[utoipa::path(
    operation_id = "list_articles",
    tag = "articles",
    security(),
    params(ArticleListQuery),
    responses(
        (status = 200, description = "A page of articles", body = ArticleListResponse),
        (status = 400, description = "A parameter is invalid", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "The `category`, `tag` or `author` does not exist", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/articles")]
pub async fn list_articles(
    state: web::Data<AppState>,
    query: web::Query<ArticleListQuery>,
) -> ApiResult<HttpResponse> {
    let q = query.into_inner();
    let sort = match q.sort.as_deref() {
        None | Some("-published_at") => ArticleSort::NewestFirst,
        Some("published_at") => ArticleSort::OldestFirst,
        Some("-updated_at") => ArticleSort::RecentlyUpdated,
        Some(_) => {
            return Err(ApiError::invalid(
                "sort",
                "must be one of -published_at, published_at, -updated_at",
            ));
        }
    };
    let limit = params::limit(q.limit.as_deref(), params::DEFAULT_LIMIT, params::MAX_LIMIT)?;
    let after = q
        .cursor
        .as_deref()
        .map(|c| Cursor::decode(c, sort.cursor_scope()))
        .transpose()?;
    let fields = params::names("fields", q.fields.as_deref(), SUMMARY_FIELDS)?;
    let include = params::names("include", q.include.as_deref(), &["tags"])?;
    let with_tags = include.as_ref().is_some_and(|i| i.contains("tags"));
    let include_total =
        params::boolean("include_total", q.include_total.as_deref())?.unwrap_or(false);
    let language = match q.language {
        Some(l)
            if l.is_empty()
                || l.len() > 35
                || !l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') =>
        {
            return Err(ApiError::invalid(
                "language",
                "must be a language tag such as `vi`",
            ));
        }
        other => other,
    };
    let featured = params::boolean("featured", q.featured.as_deref())?;
    let conn = state.read_conn().await?;
    let conn = &*conn;
    let (tree, mut filter) = resolve_filter(
        &state,
        conn,
        FilterArgs {
            category: q.category.as_deref(),
            tag: q.tag.as_deref(),
            author: q.author.as_deref(),
            published_after: q.published_after.as_deref(),
            published_before: q.published_before.as_deref(),
        },
    )
    .await?;
    filter.featured = featured;
    filter.language = language;

    let (mut cards, total) = try_join!(
        article::list_page(conn, &filter, sort, after, limit),
        async {
            if include_total {
                article::count(conn, &filter).await.map(Some)
            } else {
                Ok(None)
            }
        },
    )?;
    let next_cursor = if cards.len() as i64 > limit {
        cards.truncate(limit as usize);
        cards.last().map(|c| sort.cursor_after(c).encode())
    } else {
        None
    };
    let items = summaries(&state, conn, &tree, &cards, with_tags).await?;
    let by_update = sort == ArticleSort::RecentlyUpdated;
    let lists = list_keys(&filter, by_update);
    let keys = crate::views::keys::of_summaries(lists, &items);
    let body = ArticleList {
        items,
        next_cursor,
        total,
    };
    let mut ok = HttpResponse::Ok();
    ok.insert_header(surrogate_keys(&keys));
    Ok(match fields {
        None => ok.json(body),
        Some(fields) => {
            let items: Vec<_> = body
                .items
                .iter()
                .map(|i| params::trimmed(i, Some(&fields)))
                .collect();
            let mut json = serde_json::json!({"items": items, "next_cursor": body.next_cursor});
            if let Some(total) = body.total {
                json["total"] = total.into();
            }
            ok.json(json)
        }
    })
}

/// The list filters shared by the article list, search, most-read and the
/// admin list, as the client gave them.
/// The lists a filtered list of articles is: the most specific ones its
/// filters name (any change to its members shows in one of them).
pub(crate) fn list_keys(filter: &ArticleFilter, by_update: bool) -> Vec<String> {
    let mut lists = Vec::new();
    if let Some(category) = filter.category_ids.as_ref().and_then(|ids| ids.first()) {
        lists.push(keys::List::Category(*category));
    }
    if let Some(tag) = filter.tag_id {
        lists.push(keys::List::Tag(tag));
    }
    if let Some(author) = filter.author_id {
        lists.push(keys::List::Author(author));
    }
    if lists.is_empty() {
        lists.push(keys::List::All);
    }
    lists
        .into_iter()
        .map(|l| keys::list(l, by_update))
        .collect()
}

#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct FilterArgs<'a> {
    pub category: Option<&'a str>,
    pub tag: Option<&'a str>,
    pub author: Option<&'a str>,
    pub published_after: Option<&'a str>,
    pub published_before: Option<&'a str>,
}

/// Checks `args` and resolves the slugs to ids (a category to its whole
/// subtree), loading the category tree alongside. Unknown slugs are 404s.
pub(crate) async fn resolve_filter(
    state: &AppState,
    conn: &diesel_async::AsyncPgConnection,
    args: FilterArgs<'_>,
) -> ApiResult<(Arc<CategoryTree>, ArticleFilter)> {
    let category = params::slug("category", args.category)?;
    let tag_slug = params::slug("tag", args.tag)?;
    let author_slug = params::slug("author", args.author)?;
    let mut filter = ArticleFilter {
        published_after: params::time("published_after", args.published_after)?,
        published_before: params::time("published_before", args.published_before)?,
        ..ArticleFilter::default()
    };
    let (tree, found_tag, found_author) = try_join!(
        state.category_tree(conn),
        async {
            match tag_slug {
                Some(s) => tag::find_by_slug(conn, s).await.map(Some),
                None => Ok(None),
            }
        },
        async {
            match author_slug {
                Some(s) => author::find_by_slug(conn, s).await.map(Some),
                None => Ok(None),
            }
        },
    )?;
    if let Some(slug) = category {
        let c = tree
            .by_slug(slug)
            .ok_or_else(|| ApiError::not_found("category", slug))?;
        filter.category_ids = Some(tree.subtree_ids(c.id));
    }
    if let Some(found) = found_tag {
        let t = found.ok_or_else(|| ApiError::not_found("tag", tag_slug.unwrap_or_default()))?;
        filter.tag_id = Some(t.id);
    }
    if let Some(found) = found_author {
        let a =
            found.ok_or_else(|| ApiError::not_found("author", author_slug.unwrap_or_default()))?;
        filter.author_id = Some(a.id);
    }
    Ok((tree, filter))
}

/// Builds list items for `cards`, loading their relations in one pipelined
/// round trip (one query per relation, not per article).
pub(crate) async fn summaries(
    state: &AppState,
    conn: &diesel_async::AsyncPgConnection,
    tree: &CategoryTree,
    cards: &[ArticleCard],
    with_tags: bool,
) -> ApiResult<Vec<ArticleSummary>> {
    let ids: Vec<i64> = cards.iter().map(|c| c.id).collect();
    let cover_ids: Vec<i64> = cards.iter().filter_map(|c| c.cover_media_id).collect();
    let (authors, tags, covers) = try_join!(
        article::authors_of(conn, &ids),
        async {
            if with_tags {
                article::tags_of(conn, &ids).await
            } else {
                Ok(Vec::new())
            }
        },
        media::by_ids(conn, &cover_ids),
    )?;
    let mut authors_by_article: HashMap<i64, Vec<AuthorSummary>> = HashMap::new();
    for (article_id, a) in authors {
        authors_by_article
            .entry(article_id)
            .or_default()
            .push(a.into());
    }
    let mut tags_by_article: HashMap<i64, Vec<TagSummary>> = HashMap::new();
    for (article_id, t) in tags {
        tags_by_article
            .entry(article_id)
            .or_default()
            .push(t.into());
    }
    let presenter = Presenter {
        settings: &state.settings,
        tree,
    };
    Ok(cards
        .iter()
        .map(|card| {
            presenter.summary(
                card,
                &covers,
                authors_by_article.remove(&card.id).unwrap_or_default(),
                with_tags.then(|| tags_by_article.remove(&card.id).unwrap_or_default()),
            )
        })
        .collect())
}

/// Get a published article by slug.
///
/// Drafts, archived articles and articles scheduled for later are 404.
#[utoipa::path(
    operation_id = "get_article",
    tag = "articles",
    security(),
    params(
        ("slug" = String, Path, description = "The article's slug", pattern = "^[a-z0-9]+(?:-[a-z0-9]+)*$", max_length = 200, example = "quang-ninh-huong-ung-thang-hanh-dong-vi-binh-dang-gioi-va-phong-ngua-ung-pho-voi-bao-luc-tren-co-so"),
        ArticleQuery,
    ),
    responses(
        (status = 200, description = "The article", body = ArticleResponse),
        (status = 301, description = "The article was renamed; `Location` has its current address"),
        (status = 400, description = "A parameter is invalid", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No published article has this slug", body = Problem, content_type = "application/problem+json"),
        (status = 410, description = "The article was published and has been taken down (unpublished, archived, deleted or moved to a later date); said for NEWSROOM_CHANGES_DAYS days", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/articles/{slug}")]
pub async fn get_article(
    state: web::Data<AppState>,
    req: actix_web::HttpRequest,
    path: web::Path<String>,
    query: web::Query<ArticleQuery>,
) -> ApiResult<HttpResponse> {
    let slug = params::path_slug("slug", &path)?;
    let (fields, with_related) = article_options(&query)?;
    let mut conn = state.read_conn().await?;
    let Some(page) = article::find_page(&conn, &article::PageKey::Slug(slug.clone())).await? else {
        // A renamed article answers at its old address with a redirect.
        return match crate::models::editorial::moved_to(&mut conn, &slug).await? {
            Some(current) => {
                let query = req.query_string();
                let location = if query.is_empty() {
                    format!("/api/v1/articles/{current}")
                } else {
                    format!("/api/v1/articles/{current}?{query}")
                };
                Ok(HttpResponse::MovedPermanently()
                    .insert_header((actix_web::http::header::LOCATION, location))
                    .finish())
            }
            None if crate::models::sync::gone_by_slug(&mut conn, &slug).await? => Err(gone(&slug)),
            None => Err(ApiError::not_found("article", &slug)),
        };
    };
    article_response(&state, &conn, page, fields, with_related).await
}

/// The answer for an article that was public and is not any more.
fn gone(key: &str) -> ApiError {
    ApiError::Gone(format!(
        "the article `{key}` was published and has been taken down"
    ))
}

/// Get a published article by id.
#[utoipa::path(
    operation_id = "get_article_by_id",
    tag = "articles",
    security(),
    params(
        ("id" = i64, Path, description = "The article's id", minimum = 1, maximum = 9223372036854775807_i64, example = 1),
        ArticleQuery,
    ),
    responses(
        (status = 200, description = "The article", body = ArticleResponse),
        (status = 400, description = "The id or a parameter is invalid", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No published article has this id", body = Problem, content_type = "application/problem+json"),
        (status = 410, description = "The article was published and has been taken down; said for NEWSROOM_CHANGES_DAYS days", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/articles/id/{id}")]
pub async fn get_article_by_id(
    state: web::Data<AppState>,
    path: web::Path<String>,
    query: web::Query<ArticleQuery>,
) -> ApiResult<HttpResponse> {
    let raw = path.into_inner();
    let id = params::positive("id", &raw)?;
    let (fields, with_related) = article_options(&query)?;
    let mut conn = state.read_conn().await?;
    let Some(page) = article::find_page(&conn, &article::PageKey::Id(id)).await? else {
        return Err(
            match crate::models::sync::gone_by_id(&mut conn, id).await? {
                Some(_) => gone(&raw),
                None => ApiError::not_found("article", raw),
            },
        );
    };
    article_response(&state, &conn, page, fields, with_related).await
}

fn article_options(query: &ArticleQuery) -> ApiResult<(Option<BTreeSet<String>>, bool)> {
    let fields = params::names("fields", query.fields.as_deref(), ARTICLE_FIELDS)?;
    let include = params::names("include", query.include.as_deref(), &["related"])?;
    Ok((fields, include.is_some_and(|i| i.contains("related"))))
}

async fn article_response(
    state: &AppState,
    conn: &diesel_async::AsyncPgConnection,
    page: article::ArticlePage,
    fields: Option<BTreeSet<String>>,
    with_related: bool,
) -> ApiResult<HttpResponse> {
    let article::ArticlePage {
        article: row,
        authors,
        tags,
        media,
    } = page;
    let (tree, related) = try_join!(state.category_tree(conn), async {
        if with_related {
            related_cards(state, conn, &row, Strategy::Auto, DEFAULT_RELATED)
                .await
                .map(Some)
        } else {
            Ok(None)
        }
    },)?;
    // When the page last changed: the article, its category and those
    // above it, its tags, authors and media, all read for the page anyway.
    // Not with related articles, which change on their own.
    let last_modified = (!with_related).then(|| {
        let categories = tree
            .get(row.category_id)
            .into_iter()
            .chain(tree.ancestors(row.category_id))
            .map(|c| c.updated_at);
        let others = authors
            .iter()
            .map(|a| a.updated_at)
            .chain(tags.iter().map(|t| t.updated_at))
            .chain(media.iter().map(|m| m.updated_at));
        categories
            .chain(others)
            .fold(row.updated_at, chrono::DateTime::max)
    });
    let related = match related {
        Some(cards) => Some(related_views(state, conn, &tree, cards).await?),
        None => None,
    };
    let presenter = Presenter {
        settings: &state.settings,
        tree: &tree,
    };
    let view = presenter.article(
        row,
        &media,
        authors.into_iter().map(Into::into).collect(),
        tags.into_iter().map(Into::into).collect(),
        related,
    );
    let mut keys = Keys::default();
    view.keys(&mut keys);
    let mut ok = HttpResponse::Ok();
    ok.insert_header(surrogate_keys(&keys));
    if let Some(at) = last_modified {
        let at = std::time::SystemTime::from(at);
        ok.insert_header(actix_web::http::header::LastModified(at.into()));
    }
    Ok(match fields {
        None => ok.json(view),
        Some(fields) => ok.json(params::trimmed(&view, Some(&fields))),
    })
}

/// How related articles are chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Strategy {
    Auto,
    Category,
    Tags,
    Manual,
}

impl Strategy {
    fn parse(value: Option<&str>) -> ApiResult<Self> {
        Ok(match value {
            None | Some("auto") => Self::Auto,
            Some("category") => Self::Category,
            Some("tags") => Self::Tags,
            Some("manual") => Self::Manual,
            Some(_) => {
                return Err(ApiError::invalid(
                    "strategy",
                    "must be auto, category, tags or manual",
                ));
            }
        })
    }
}

/// Related articles: hand-pinned ones first, then by `strategy`; each card
/// says whether it was pinned. Never the article itself, never an
/// unpublished one, no duplicates.
async fn related_cards(
    state: &AppState,
    conn: &diesel_async::AsyncPgConnection,
    row: &article::Article,
    strategy: Strategy,
    limit: i64,
) -> diesel::QueryResult<Vec<(ArticleCard, bool)>> {
    let pinned = article::pinned_related(conn, row.id, limit).await?;
    let room = limit - pinned.len() as i64;
    let pinned_ids: Vec<i64> = pinned.iter().map(|c| c.id).collect();
    let mut out: Vec<(ArticleCard, bool)> = pinned.into_iter().map(|c| (c, true)).collect();
    if room <= 0 || strategy == Strategy::Manual {
        return Ok(out);
    }
    let now = chrono::Utc::now();
    let rest = match strategy {
        Strategy::Category => {
            // Enough to fill the page even if every pinned one is among them.
            let newest =
                article::newest_in_category(conn, row.category_id, row.id, limit + room).await?;
            newest
                .into_iter()
                .filter(|c| !pinned_ids.contains(&c.id))
                .take(room as usize)
                .collect()
        }
        Strategy::Tags => {
            let ids = crate::models::related::by_tags(conn, row.id, &pinned_ids, room, now).await?;
            article::visible_cards(conn, &ids).await?
        }
        Strategy::Auto => {
            let ids: Vec<i64> = scored_related(state, conn, row)
                .await?
                .into_iter()
                .filter(|id| !pinned_ids.contains(id))
                .collect();
            // Taken down since it was scored: left out here.
            let mut cards = article::visible_cards(conn, &ids).await?;
            cards.truncate(room as usize);
            cards
        }
        Strategy::Manual => Vec::new(),
    };
    out.extend(rest.into_iter().map(|c| (c, false)));
    Ok(out)
}

/// How many scored related ids are kept: a full page even when as many
/// are pinned or taken down.
const KEPT_RELATED: i64 = 2 * MAX_RELATED;

/// The article's related ids by score (`strategy=auto`), best first: the
/// list kept in the database while it is younger than
/// `NEWSROOM_RELATED_MAX_AGE`, else scored now (a few milliseconds) and kept
/// for the next reads by a write on the primary that this answer does not
/// wait for.
async fn scored_related(
    state: &AppState,
    conn: &diesel_async::AsyncPgConnection,
    row: &article::Article,
) -> diesel::QueryResult<Vec<i64>> {
    use crate::models::related;
    let max_age = state.settings.related_max_age;
    if !max_age.is_zero()
        && let Some(ids) = related::stored(conn, row.id, max_age).await?
    {
        return Ok(ids);
    }
    let now = chrono::Utc::now();
    let ids = related::scored(conn, row.id, &row.title, &[], KEPT_RELATED, now).await?;
    if !max_age.is_zero() {
        let (pool, id, updated_at, kept) =
            (state.pool.clone(), row.id, row.updated_at, ids.clone());
        actix_web::rt::spawn(async move {
            let stored = match pool.get().await {
                Ok(conn) => related::store(&conn, id, updated_at, &kept, now).await,
                Err(e) => {
                    log::debug!("related list of article {id} not kept: {e}");
                    return;
                }
            };
            if let Err(e) = stored {
                log::warn!("related list of article {id} not kept: {e}");
            }
        });
    }
    Ok(ids)
}

async fn related_views(
    state: &AppState,
    conn: &diesel_async::AsyncPgConnection,
    tree: &CategoryTree,
    cards: Vec<(ArticleCard, bool)>,
) -> ApiResult<Vec<RelatedArticle>> {
    let cover_ids: Vec<i64> = cards.iter().filter_map(|(c, _)| c.cover_media_id).collect();
    let covers = media::by_ids(conn, &cover_ids).await?;
    let presenter = Presenter {
        settings: &state.settings,
        tree,
    };
    Ok(cards
        .iter()
        .map(|(card, pinned)| presenter.related(card, &covers, *pinned))
        .collect())
}

/// Related articles.
///
/// Articles an editor pinned by hand come first, then the others by
/// `strategy` (`auto` by default; `category` is "Cùng chuyên mục"). Never
/// the article itself, never an unpublished article, no duplicates. The
/// `auto` list is scored once and kept for `NEWSROOM_RELATED_MAX_AGE`
/// seconds (default 600); a change to the article or its tags drops it at
/// once, and articles taken down are left out at once.
#[utoipa::path(
    operation_id = "list_related_articles",
    tag = "articles",
    security(),
    params(
        ("slug" = String, Path, description = "The article's slug", pattern = "^[a-z0-9]+(?:-[a-z0-9]+)*$", max_length = 200, example = "quang-ninh-huong-ung-thang-hanh-dong-vi-binh-dang-gioi-va-phong-ngua-ung-pho-voi-bao-luc-tren-co-so"),
        RelatedQuery,
    ),
    responses(
        (status = 200, description = "Related articles", body = RelatedList),
        (status = 400, description = "A parameter is invalid", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No published article has this slug", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/articles/{slug}/related")]
pub async fn list_related_articles(
    state: web::Data<AppState>,
    path: web::Path<String>,
    query: web::Query<RelatedQuery>,
) -> ApiResult<HttpResponse> {
    let slug = params::path_slug("slug", &path)?;
    let limit = params::limit(query.limit.as_deref(), DEFAULT_RELATED, MAX_RELATED)?;
    let strategy = Strategy::parse(query.strategy.as_deref())?;
    let conn = state.read_conn().await?;
    let conn = &*conn;
    let (row, tree) = try_join!(
        article::find_visible_by_slug(conn, &slug),
        state.category_tree(conn)
    )?;
    let row = row.ok_or_else(|| ApiError::not_found("article", &slug))?;
    let cards = related_cards(&state, conn, &row, strategy, limit).await?;
    let items = related_views(&state, conn, &tree, cards).await?;
    let mut keys = Keys::default();
    keys.add(keys::article(row.id));
    match strategy {
        Strategy::Manual => {}
        Strategy::Category => {
            keys.add(keys::list(keys::List::Category(row.category_id), false));
        }
        // Drawn from the tags' lists and the whole archive's text.
        Strategy::Tags | Strategy::Auto => keys.add(keys::SEARCH),
    }
    for item in &items {
        item.keys(&mut keys);
    }
    Ok(HttpResponse::Ok()
        .insert_header(surrogate_keys(&keys))
        .json(RelatedList { items }))
}
