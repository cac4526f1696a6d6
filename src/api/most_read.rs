//! "Đọc nhiều": recording views and the most-read list.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use chrono::{Days, NaiveDate, Utc};
use diesel::QueryableByName;
use diesel::sql_types::BigInt;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::api::articles::{FilterArgs, resolve_filter, summaries};
use crate::api::{AppState, params};
use crate::domain::keys;
use crate::error::{ApiError, ApiResult, Problem};
use crate::http::cache::surrogate_keys;
use crate::models::article;
use crate::models::sql::{Bind, Statement};
use crate::views::ArticleSummary;
use crate::views::params::PeriodParam;

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"counted": true}))]
pub struct ViewRecorded {
    /// `false` when this client's view of the article was already counted
    /// within the window (default 10 minutes).
    pub counted: bool,
}

/// Who is viewing: the app's own install id when it sends one, else the
/// address and user agent; and the address alone, which caps what one
/// address can count however it varies the rest.
fn client_of(req: &HttpRequest, state: &AppState) -> (String, String) {
    let address = crate::http::client::client_ip(req, &state.settings.trusted_proxies)
        .map_or_else(|| "unknown".to_owned(), |ip| ip.to_string());
    if let Some(id) = req
        .headers()
        .get("x-client-id")
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty() && v.len() <= 200)
    {
        return (format!("id:{id}"), address);
    }
    let agent = req
        .headers()
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    (format!("ip:{address}|{agent}"), address)
}

/// Record a view of a published article.
///
/// Cheap: counted in memory and written in batches every few seconds; the
/// article's slug is looked up at most once a minute per instance.
/// Repeated views by one client (its `X-Client-Id` header, else its address
/// and user agent) within 10 minutes count once, and one address counts at
/// most 20 views of an article in that time.
#[utoipa::path(
    operation_id = "record_article_view",
    tag = "articles",
    security(),
    params(
        ("slug" = String, Path, description = "The article's slug", pattern = "^[a-z0-9]+(?:-[a-z0-9]+)*$", max_length = 200, example = "quang-ninh-huong-ung-thang-hanh-dong-vi-binh-dang-gioi-va-phong-ngua-ung-pho-voi-bao-luc-tren-co-so"),
        ("X-Client-Id" = Option<String>, Header, description = "A stable, anonymous id of the app install or browser; an empty one or one over 200 characters is ignored (the address and user agent stand in)", example = "9b2f6c1e-8d1a-4c7e-9f0e-2a6f1d3c4b5a"),
    ),
    responses(
        (status = 202, description = "Accepted", body = ViewRecorded),
        (status = 400, description = "The slug is not a slug", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No published article has this slug", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/articles/{slug}/views")]
pub async fn record_view(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let slug = crate::api::params::path_slug("slug", &path)?;
    let id = match state.views.known_id(&slug) {
        Some(id) => id,
        None => {
            let conn = state.conn().await?;
            let id = article::find_visible_by_slug(&conn, &slug)
                .await?
                .ok_or_else(|| ApiError::not_found("article", &slug))?
                .id;
            state.views.remember_id(&slug, id);
            id
        }
    };
    let (client, address) = client_of(&req, &state);
    let counted = state.views.record(id, &client, &address, Utc::now());
    Ok(HttpResponse::Accepted()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(ViewRecorded { counted }))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct MostReadQuery {
    /// `day` (today and yesterday, in the site's time zone), `week` (the
    /// last 7 days) or `month` (the last 30 days); default `day`.
    #[param(value_type = Option<PeriodParam>, inline, example = "week")]
    period: Option<String>,
    /// Category slug; articles of its descendant categories are included.
    #[param(
        pattern = "^[a-z0-9]+(?:-[a-z0-9]+)*$",
        max_length = 200,
        example = "xa-hoi"
    )]
    category: Option<String>,
    /// How many, 1 to 50; default 10.
    #[param(value_type = Option<i64>, minimum = 1, maximum = 50, example = 10)]
    limit: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MostReadItem {
    #[serde(flatten)]
    pub article: ArticleSummary,
    /// Views counted in the period.
    #[schema(example = 1520)]
    pub views: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MostReadList {
    pub items: Vec<MostReadItem>,
    #[schema(example = "week")]
    pub period: String,
    /// The first day counted (the site's calendar).
    #[schema(value_type = String, format = Date, example = "2023-11-09")]
    pub since: NaiveDate,
}

#[derive(Debug, QueryableByName)]
struct Counted {
    #[diesel(sql_type = BigInt)]
    id: i64,
    #[diesel(sql_type = BigInt)]
    views: i64,
}

/// The most read published articles of a period ("Đọc nhiều").
///
/// From per-day counters; views of the last few seconds may not be in yet.
#[utoipa::path(
    operation_id = "list_most_read",
    tag = "articles",
    security(),
    params(MostReadQuery),
    responses(
        (status = 200, description = "Most viewed first", body = MostReadList),
        (status = 400, description = "A parameter is invalid", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "The `category` does not exist", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/articles/most-read")]
pub async fn list_most_read(
    state: web::Data<AppState>,
    query: web::Query<MostReadQuery>,
) -> ApiResult<HttpResponse> {
    let (period, days) = match query.period.as_deref() {
        None | Some("day") => ("day", 2),
        Some("week") => ("week", 7),
        Some("month") => ("month", 30),
        Some(_) => return Err(ApiError::invalid("period", "must be day, week or month")),
    };
    let limit = params::limit(query.limit.as_deref(), 10, 50)?;
    let conn = state.read_conn().await?;
    let conn = &*conn;
    let (tree, filter) = resolve_filter(
        &state,
        conn,
        FilterArgs {
            category: query.category.as_deref(),
            ..FilterArgs::default()
        },
    )
    .await?;
    let now = Utc::now();
    let today = now.with_timezone(&state.settings.timezone).date_naive();
    let since = today - Days::new(days - 1);
    let mut st = Statement::default();
    let since_param = st.param(Bind::Date(since));
    let now_param = st.param(Bind::Time(now));
    let category = match filter.category_ids {
        Some(ids) => format!(" AND a.category_id = ANY({})", st.param(Bind::BigInts(ids))),
        None => String::new(),
    };
    let limit_param = st.param(Bind::BigInt(limit));
    // Sum the period's counters, sort them, and only then check articles,
    // one primary-key probe at a time until the page is full (joining first
    // made PostgreSQL hash every public article: 40-50 ms at 100,000).
    st.sql = format!(
        "SELECT t.id, t.views FROM \
           (SELECT v.article_id AS id, sum(v.views)::int8 AS views FROM article_daily_views v \
            WHERE v.day >= {since_param} GROUP BY v.article_id ORDER BY 2 DESC, 1 DESC) t \
         CROSS JOIN LATERAL (SELECT 1 FROM articles a WHERE a.id = t.id \
            AND a.public_status AND a.published_at <= {now_param}{category}) visible \
         ORDER BY t.views DESC, t.id DESC LIMIT {limit_param}"
    );
    let counted: Vec<Counted> = st.load(conn).await?;
    let ids: Vec<i64> = counted.iter().map(|c| c.id).collect();
    let cards = article::visible_cards(conn, &ids).await?;
    let items: Vec<MostReadItem> = summaries(&state, conn, &tree, &cards, false)
        .await?
        .into_iter()
        .map(|article| MostReadItem {
            views: counted
                .iter()
                .find(|c| c.id == article.id)
                .map_or(0, |c| c.views),
            article,
        })
        .collect();
    let keys = crate::views::keys::of_summaries(
        [keys::MOST_READ.to_owned()],
        items.iter().map(|i| &i.article),
    );
    Ok(HttpResponse::Ok()
        .insert_header(surrogate_keys(&keys))
        .json(MostReadList {
            items,
            period: period.into(),
            since,
        }))
}
