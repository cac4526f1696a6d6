//! Public tag endpoints.

use actix_web::{HttpResponse, get, web};
use serde::Deserialize;
use utoipa::IntoParams;

use crate::api::{AppState, params};
use crate::domain::cursor;
use crate::error::{ApiError, ApiResult, Problem};
use crate::models::tag;
use crate::views::{TagList, TagView};

/// Paging of an alphabetical list (tags, authors).
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct SlugPageQuery {
    /// Page size, 1 to 100; default 20.
    #[param(value_type = Option<i64>, minimum = 1, maximum = 100, example = 20)]
    pub limit: Option<String>,
    /// `next_cursor` of the previous page (opaque; only the server's own
    /// cursors for the same list are accepted).
    #[param(
        pattern = "^[A-Za-z0-9_-]+$",
        min_length = 1,
        max_length = 400,
        example = "MXx0YWdzfGJpbmgtZGFuZy1naW9p"
    )]
    pub cursor: Option<String>,
}

impl SlugPageQuery {
    /// The page size and the slug to continue after.
    pub fn parse(&self, scope: &str) -> ApiResult<(i64, Option<String>)> {
        let limit = params::limit(
            self.limit.as_deref(),
            params::DEFAULT_LIMIT,
            params::MAX_LIMIT,
        )?;
        let after = self
            .cursor
            .as_deref()
            .map(|c| cursor::decode_key(c, scope))
            .transpose()?;
        Ok((limit, after))
    }
}

/// Trims a `limit + 1` page to `limit` and returns the cursor after it.
pub fn next_page<T>(
    rows: &mut Vec<T>,
    limit: i64,
    scope: &str,
    slug: impl Fn(&T) -> &str,
) -> Option<String> {
    if rows.len() as i64 <= limit {
        return None;
    }
    rows.truncate(limit as usize);
    rows.last().map(|r| cursor::encode_key(scope, slug(r)))
}

/// List tags, alphabetically by slug.
#[utoipa::path(
    operation_id = "list_tags",
    tag = "tags",
    security(),
    params(SlugPageQuery),
    responses(
        (status = 200, description = "A page of tags", body = TagList),
        (status = 400, description = "A parameter is invalid", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/tags")]
pub async fn list_tags(
    state: web::Data<AppState>,
    query: web::Query<SlugPageQuery>,
) -> ApiResult<HttpResponse> {
    let (limit, after) = query.parse("tags")?;
    let conn = state.read_conn().await?;
    let mut rows = tag::list_page(&conn, after.as_deref(), limit).await?;
    let next_cursor = next_page(&mut rows, limit, "tags", |t| &t.slug);
    let items = rows.into_iter().map(TagView::from).collect();
    Ok(HttpResponse::Ok()
        .insert_header(crate::http::cache::surrogate_keys(
            &[crate::domain::keys::TAGS.to_owned()].into_iter().collect(),
        ))
        .json(TagList { items, next_cursor }))
}

/// Get a tag by slug.
///
/// To list its articles use `GET /api/v1/articles?tag={slug}`.
#[utoipa::path(
    operation_id = "get_tag",
    tag = "tags",
    security(),
    params(("slug" = String, Path, description = "The tag's slug", pattern = "^[a-z0-9]+(?:-[a-z0-9]+)*$", max_length = 200, example = "binh-dang-gioi")),
    responses(
        (status = 200, description = "The tag", body = TagView),
        (status = 400, description = "The slug is not a slug, or a query parameter was given", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No tag has this slug", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/tags/{slug}")]
pub async fn get_tag(
    state: web::Data<AppState>,
    path: web::Path<String>,
    _: web::Query<params::NoParams>,
) -> ApiResult<HttpResponse> {
    let slug = params::path_slug("slug", &path)?;
    let conn = state.read_conn().await?;
    let found = tag::find_by_slug(&conn, &slug)
        .await?
        .ok_or_else(|| ApiError::not_found("tag", &slug))?;
    Ok(HttpResponse::Ok()
        .insert_header(crate::http::cache::surrogate_keys(
            &[crate::domain::keys::tag(found.id)].into_iter().collect(),
        ))
        .json(TagView::from(found)))
}
