//! Public author endpoints.

use actix_web::{HttpResponse, get, web};

use crate::api::AppState;
use crate::api::tags::{SlugPageQuery, next_page};
use crate::error::{ApiError, ApiResult, Problem};
use crate::models::author;
use crate::models::category::CategoryTree;
use crate::views::{AuthorList, AuthorView, Presenter};

/// List authors, alphabetically by slug.
#[utoipa::path(
    operation_id = "list_authors",
    tag = "authors",
    security(),
    params(SlugPageQuery),
    responses(
        (status = 200, description = "A page of authors", body = AuthorList),
        (status = 400, description = "A parameter is invalid", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/authors")]
pub async fn list_authors(
    state: web::Data<AppState>,
    query: web::Query<SlugPageQuery>,
) -> ApiResult<HttpResponse> {
    let (limit, after) = query.parse("authors")?;
    let conn = state.read_conn().await?;
    let mut rows = author::list_page(&conn, after.as_deref(), limit).await?;
    let next_cursor = next_page(&mut rows, limit, "authors", |a| &a.slug);
    let tree = CategoryTree::default();
    let presenter = Presenter {
        settings: &state.settings,
        tree: &tree,
    };
    let avatars = author::avatar_media(&conn, &rows, &state.settings.site_url).await?;
    let items = rows
        .into_iter()
        .map(|a| presenter.author(a, &avatars))
        .collect();
    Ok(HttpResponse::Ok()
        .insert_header(crate::http::cache::surrogate_keys(
            &[crate::domain::keys::AUTHORS.to_owned()]
                .into_iter()
                .collect(),
        ))
        .json(AuthorList { items, next_cursor }))
}

/// Get an author by slug.
///
/// To list their articles use `GET /api/v1/articles?author={slug}`.
#[utoipa::path(
    operation_id = "get_author",
    tag = "authors",
    security(),
    params(("slug" = String, Path, description = "The author's slug", pattern = "^[a-z0-9]+(?:-[a-z0-9]+)*$", max_length = 200, example = "tran-thanh-mai")),
    responses(
        (status = 200, description = "The author", body = AuthorView),
        (status = 400, description = "The slug is not a slug, or a query parameter was given", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No author has this slug", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/authors/{slug}")]
pub async fn get_author(
    state: web::Data<AppState>,
    path: web::Path<String>,
    _: web::Query<crate::api::params::NoParams>,
) -> ApiResult<HttpResponse> {
    let slug = crate::api::params::path_slug("slug", &path)?;
    let conn = state.read_conn().await?;
    let found = author::find_by_slug(&conn, &slug)
        .await?
        .ok_or_else(|| ApiError::not_found("author", &slug))?;
    let avatars = author::avatar_media(&conn, [&found], &state.settings.site_url).await?;
    let tree = CategoryTree::default();
    let presenter = Presenter {
        settings: &state.settings,
        tree: &tree,
    };
    Ok(HttpResponse::Ok()
        .insert_header(crate::http::cache::surrogate_keys(
            &[crate::domain::keys::author(found.id)]
                .into_iter()
                .collect(),
        ))
        .json(presenter.author(found, &avatars)))
}
