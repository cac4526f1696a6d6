//! `GET /search` and `GET /search/suggest`.

use actix_web::{HttpResponse, get, web};
use chrono::{DateTime, Utc};
use futures_util::try_join;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::api::articles::{FilterArgs, resolve_filter, summaries};
use crate::api::{AppState, params};
use crate::domain::cursor;
use crate::domain::keys::{self, Keys};
use crate::domain::search::SearchQuery;
use crate::error::{ApiError, ApiResult, Problem};
use crate::http::cache::surrogate_keys;
use crate::models::article;
use crate::models::search::{self, After, SearchOrder};
use crate::views::ArticleSummary;
use crate::views::params::SearchSortParam;

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct SearchParams {
    /// What to look for, 1 to 200 characters. Words match with or without
    /// diacritics (`binh dang gioi` finds `bình đẳng giới`); `"a phrase"`
    /// matches words in order; `-word` or `-"a phrase"` excludes. Any other
    /// punctuation only separates words.
    #[param(
        required = true,
        min_length = 1,
        max_length = 200,
        example = "\"bình đẳng giới\" quang ninh -covid"
    )]
    q: Option<String>,
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
    /// Published at or after this RFC 3339 time (inclusive).
    #[param(value_type = Option<String>, format = DateTime, example = "2023-11-01T00:00:00+07:00")]
    published_after: Option<String>,
    /// Published before this RFC 3339 time (exclusive).
    #[param(value_type = Option<String>, format = DateTime, example = "2023-12-01T00:00:00+07:00")]
    published_before: Option<String>,
    /// `relevance` (the default: title matches, then summary, then body;
    /// exact diacritics before folded ones; newest first within each) or
    /// `-published_at` (newest first).
    #[param(value_type = Option<SearchSortParam>, inline, example = "relevance")]
    sort: Option<String>,
    /// Page size, 1 to 50; default 10.
    #[param(value_type = Option<i64>, minimum = 1, maximum = 50, example = 10)]
    limit: Option<String>,
    /// `next_cursor` of the previous page (of the same query; opaque, only
    /// the server's own cursors are accepted).
    #[param(
        pattern = "^[A-Za-z0-9_-]+$",
        min_length = 1,
        max_length = 400,
        example = "MXxzZWFyY2gtcmVsfDEyMzQ1fDB8MTcwMDAzMTU0MDAwMDAwMHwx"
    )]
    cursor: Option<String>,
}

/// Where the words matched, with `<mark>` around them. HTML-escaped text:
/// safe to insert as HTML.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "title": "Quảng Ninh hưởng ứng Tháng hành động vì <mark>bình</mark> <mark>đẳng</mark> <mark>giới</mark>",
    "snippet": "… hưởng ứng Tháng hành động vì <mark>bình</mark> <mark>đẳng</mark> <mark>giới</mark> và phòng ngừa, ứng phó với bạo lực …"
}))]
pub struct SearchHighlight {
    pub title: String,
    /// One or two fragments of the summary and body around the matches.
    pub snippet: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SearchHit {
    #[serde(flatten)]
    pub article: ArticleSummary,
    pub highlight: SearchHighlight,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SearchResults {
    pub items: Vec<SearchHit>,
    /// Pass as `cursor` (with the same `q` and filters) for the next page;
    /// `null` on the last page.
    #[schema(example = "MXxzZWFyY2gtcmVsfDEyMzQ1fDB8MTcwMDAzMTU0MDAwMDAwMHwx")]
    pub next_cursor: Option<String>,
    /// `true` when nothing matched as typed and these are the hits of
    /// `corrected_query`, the query with misspelt words replaced by the
    /// closest words of titles and summaries; such results are one page.
    #[schema(example = false)]
    pub fuzzy: bool,
    /// What was searched instead, folded ("did you mean"); `null` unless
    /// `fuzzy`.
    #[schema(example = json!(null))]
    pub corrected_query: Option<String>,
}

const DEFAULT_LIMIT: i64 = 10;
/// Words in a snippet.
const SNIPPET_WORDS: usize = 32;
const MAX_LIMIT: i64 = 50;

fn parse_query(q: Option<&str>) -> ApiResult<SearchQuery> {
    let q = q.ok_or_else(|| ApiError::invalid("q", "is required"))?;
    SearchQuery::parse(q).map_err(|e| ApiError::invalid("q", e.reason()))
}

fn scope(order: SearchOrder) -> &'static str {
    match order {
        SearchOrder::Relevance => "search-rel",
        SearchOrder::Newest => "search-new",
    }
}

fn encode_cursor(order: SearchOrder, query: &SearchQuery, after: After) -> String {
    cursor::encode_key(
        scope(order),
        &format!(
            "{:x}|{}|{}|{}",
            query.fingerprint(),
            after.tier,
            after.at.timestamp_micros(),
            after.id
        ),
    )
}

fn decode_cursor(text: &str, order: SearchOrder, query: &SearchQuery) -> ApiResult<After> {
    let key = cursor::decode_key(text, scope(order))?;
    let parts: Vec<&str> = key.split('|').collect();
    let [fingerprint, tier, micros, id] = parts[..] else {
        return Err(ApiError::InvalidCursor);
    };
    if fingerprint != format!("{:x}", query.fingerprint()) {
        return Err(ApiError::InvalidCursor);
    }
    let tier: i16 = tier.parse().map_err(|_| ApiError::InvalidCursor)?;
    let micros: i64 = micros.parse().map_err(|_| ApiError::InvalidCursor)?;
    let id: i64 = id.parse().map_err(|_| ApiError::InvalidCursor)?;
    let at = DateTime::from_timestamp_micros(micros).ok_or(ApiError::InvalidCursor)?;
    if !(0..6).contains(&tier) {
        return Err(ApiError::InvalidCursor);
    }
    Ok(After { tier, at, id })
}

/// Search published articles.
///
/// Accent-insensitive full-text search over titles, summaries and bodies,
/// with phrases, exclusions and the list filters. When nothing matches,
/// misspelt words are corrected (`quang nimh` → `quang ninh`), that query's
/// hits are returned, `fuzzy` is `true` and `corrected_query` says what was
/// searched.
#[utoipa::path(
    operation_id = "search_articles",
    tag = "search",
    security(),
    params(SearchParams),
    responses(
        (status = 200, description = "A page of hits, best first", body = SearchResults),
        (status = 400, description = "`q` is missing, empty, too long or has no words; another parameter is invalid", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "The `category`, `tag` or `author` does not exist", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/search")]
pub async fn search_articles(
    state: web::Data<AppState>,
    query: web::Query<SearchParams>,
) -> ApiResult<HttpResponse> {
    let p = query.into_inner();
    let q = parse_query(p.q.as_deref())?;
    let order = match p.sort.as_deref() {
        None | Some("relevance") => SearchOrder::Relevance,
        Some("-published_at") => SearchOrder::Newest,
        Some(_) => {
            return Err(ApiError::invalid(
                "sort",
                "must be relevance or -published_at",
            ));
        }
    };
    let limit = params::limit(p.limit.as_deref(), DEFAULT_LIMIT, MAX_LIMIT)?;
    let after = p
        .cursor
        .as_deref()
        .map(|c| decode_cursor(c, order, &q))
        .transpose()?;
    let mut conn = state.read_conn().await?;
    let (tree, filter) = resolve_filter(
        &state,
        &conn,
        FilterArgs {
            category: p.category.as_deref(),
            tag: p.tag.as_deref(),
            author: p.author.as_deref(),
            published_after: p.published_after.as_deref(),
            published_before: p.published_before.as_deref(),
        },
    )
    .await?;
    let now = Utc::now();
    let mut hits = search::hits(&mut conn, &q, &filter, order, after, limit, now).await?;
    // Nothing at all: correct misspelt words against the words of titles
    // and summaries and search again (one page, no cursor).
    let mut corrected = None;
    if hits.is_empty() && after.is_none() {
        let fixes = search::corrections(&mut conn, &q.folded_words()).await?;
        if let Some(fixed) = q.corrected(&fixes) {
            hits = search::hits(&mut conn, &fixed, &filter, order, None, limit, now).await?;
            hits.truncate(limit as usize);
            if !hits.is_empty() {
                corrected = Some(fixed);
            }
        }
    }
    let fuzzy = corrected.is_some();
    let next_cursor = if hits.len() as i64 > limit {
        hits.truncate(limit as usize);
        hits.last().map(|h| {
            encode_cursor(
                order,
                &q,
                After {
                    tier: h.tier,
                    at: h.published_at,
                    id: h.id,
                },
            )
        })
    } else {
        None
    };
    let ids: Vec<i64> = hits.iter().map(|h| h.id).collect();
    // Even tiers are the exact-diacritic ones (see `models::search`): their
    // highlights mark only the words with the query's own diacritics.
    let exact = |id: i64| {
        !fuzzy
            && order == SearchOrder::Relevance
            && q.has_diacritics()
            && hits.iter().any(|h| h.id == id && h.tier % 2 == 0)
    };
    let conn = &*conn;
    let cards = article::visible_cards(conn, &ids).await?;
    let marker = corrected.as_ref().unwrap_or(&q).marker(false);
    // Bodies only for the hits whose title and summary do not match.
    let body_ids: Vec<i64> = cards
        .iter()
        .filter(|c| {
            let exact = exact(c.id);
            !marker.finds(&c.title, exact) && !marker.finds(&c.summary, exact)
        })
        .map(|c| c.id)
        .collect();
    let bodies = async {
        search::bodies(conn, &body_ids)
            .await
            .map_err(ApiError::from)
    };
    let (summaries, bodies) = try_join!(summaries(&state, conn, &tree, &cards, false), bodies)?;
    let items = summaries
        .into_iter()
        .map(|article| {
            let exact = exact(article.id);
            let source = bodies
                .iter()
                .find(|(id, _)| *id == article.id)
                .map_or(article.summary.as_str(), |(_, body)| body.as_str());
            let highlight = SearchHighlight {
                title: marker.highlight(&article.title, exact),
                snippet: marker.snippet(source, exact, SNIPPET_WORDS),
            };
            SearchHit { article, highlight }
        })
        .collect::<Vec<SearchHit>>();
    let keys = crate::views::keys::of_summaries(
        [crate::domain::keys::SEARCH.to_owned()],
        items.iter().map(|hit| &hit.article),
    );
    Ok(HttpResponse::Ok()
        .insert_header(surrogate_keys(&keys))
        .json(SearchResults {
            items,
            next_cursor,
            fuzzy,
            corrected_query: corrected.map(|c| c.text()),
        }))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct SuggestParams {
    /// What the reader has typed so far; the last word may be partial.
    #[param(required = true, min_length = 1, max_length = 200, example = "binh da")]
    q: Option<String>,
    /// How many titles, 1 to 20; default 8.
    #[param(value_type = Option<i64>, minimum = 1, maximum = 20, example = 8)]
    limit: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": 1,
    "slug": "quang-ninh-huong-ung-thang-hanh-dong-vi-binh-dang-gioi",
    "title": "Quảng Ninh hưởng ứng Tháng hành động vì bình đẳng giới",
    "title_html": "Quảng Ninh hưởng ứng Tháng hành động vì <mark>bình</mark> <mark>đẳng</mark> giới",
    "url": "http://localhost:8080/quang-ninh-huong-ung-thang-hanh-dong-vi-binh-dang-gioi",
    "published_at": "2023-11-15T13:59:00+07:00"
}))]
pub struct Suggestion {
    pub id: i64,
    pub slug: String,
    pub title: String,
    /// The title, HTML-escaped, with `<mark>` around the typed words.
    pub title_html: String,
    pub url: String,
    pub published_at: DateTime<chrono::FixedOffset>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SuggestionList {
    pub items: Vec<Suggestion>,
}

/// Titles for search-as-you-type.
///
/// Every word must start a word of the title (with or without diacritics):
/// `binh da` suggests "… bình đẳng giới". Newest first.
#[utoipa::path(
    operation_id = "suggest_titles",
    tag = "search",
    security(),
    params(SuggestParams),
    responses(
        (status = 200, description = "Matching titles, newest first", body = SuggestionList),
        (status = 400, description = "`q` is missing, empty, too long or has no words", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/search/suggest")]
pub async fn suggest_titles(
    state: web::Data<AppState>,
    query: web::Query<SuggestParams>,
) -> ApiResult<HttpResponse> {
    let q = parse_query(query.q.as_deref())?;
    let limit = params::limit(query.limit.as_deref(), 8, 20)?;
    let mut conn = state.read_conn().await?;
    let rows = search::suggest(&mut conn, &q, limit, Utc::now()).await?;
    let marker = q.marker(true);
    let tree = crate::models::category::CategoryTree::default();
    let presenter = crate::views::Presenter {
        settings: &state.settings,
        tree: &tree,
    };
    let items: Vec<Suggestion> = rows
        .into_iter()
        .map(|r| Suggestion {
            url: presenter.article_url(&r.slug),
            title_html: marker.highlight(&r.title, false),
            published_at: presenter.time(r.published_at),
            id: r.id,
            slug: r.slug,
            title: r.title,
        })
        .collect();
    let mut keys: Keys = [keys::SEARCH.to_owned()].into_iter().collect();
    for item in &items {
        keys.add(keys::article(item.id));
    }
    Ok(HttpResponse::Ok()
        .insert_header(surrogate_keys(&keys))
        .json(SuggestionList { items }))
}
