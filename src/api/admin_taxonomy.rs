//! The write side of categories, tags, authors, media records and the
//! hand-pinned related list of an article.
//!
//! Tags and media: authors and up. Categories and authors: editors and up.
//! Each write is audited and clears this instance's response cache.

use actix_web::{HttpResponse, delete, patch, post, put, web};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use crate::api::admin::CategoryKey;
use crate::api::auth::Staff;
use crate::api::{AppState, params};
use crate::auth::Role;
use crate::domain::keys;
use crate::domain::text;
use crate::error::{ApiError, ApiResult, ParameterError, Problem};
use crate::models::category::CategoryTree;
use crate::models::{audit, change, editorial, webhook};
use crate::schema::{article_authors, article_related, articles, authors, categories, media, tags};
use crate::views::{AuthorView, TagView, category_ref};

/// A name of 1 to 200 characters and a slug (given, or made from the name).
fn name_and_slug(
    errors: &mut Vec<ParameterError>,
    name: Option<&str>,
    slug: Option<&str>,
) -> (Option<String>, Option<String>) {
    let name = name.map(str::trim);
    if let Some(n) = name
        && (n.is_empty() || n.chars().count() > 200)
    {
        errors.push(ParameterError {
            parameter: "name".into(),
            reason: "must be 1 to 200 characters".into(),
        });
    }
    let slug = match (slug, name) {
        (Some(s), _) => Some(s.to_owned()),
        (None, Some(n)) => Some(text::slugify(n)),
        (None, None) => None,
    };
    if let Some(s) = &slug
        && (!text::is_slug(s) || s.len() > 120)
    {
        errors.push(ParameterError {
            parameter: "slug".into(),
            reason: "must be lowercase letters, digits and single hyphens, at most 120 characters"
                .into(),
        });
    }
    // Names are plain text: stored so that they never open a tag.
    (name.map(text::defuse_markup), slug)
}

// ---------------------------------------------------------------- tags

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"name": "Bình đẳng giới", "description": "Tin về bình đẳng giới."}))]
pub struct TagInput {
    /// 1 to 200 characters, not only spaces.
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = "\\S",
        example = "Bình đẳng giới"
    )]
    pub name: Option<String>,
    /// Made from the name when absent on create.
    #[schema(pattern = "^[a-z0-9]+(?:-[a-z0-9]+)*$", max_length = 120)]
    pub slug: Option<String>,
    pub description: Option<String>,
}

/// Create a tag.
#[utoipa::path(
    operation_id = "create_tag",
    tag = "admin",
    security(("bearer" = [])),
    request_body = TagInput,
    responses(
        (status = 201, description = "Created", body = TagView),
        (status = 400, description = "Malformed JSON", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Contributors may not", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The slug is taken", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/admin/tags")]
pub async fn create_tag(
    state: web::Data<AppState>,
    staff: Staff,
    body: web::Json<TagInput>,
) -> ApiResult<HttpResponse> {
    staff.require(Role::Author, "manage tags")?;
    let mut errors = Vec::new();
    if body.name.is_none() {
        errors.push(ParameterError {
            parameter: "name".into(),
            reason: "is required".into(),
        });
    }
    let (name, slug) = name_and_slug(&mut errors, body.name.as_deref(), body.slug.as_deref());
    ApiError::fail_if_any(errors)?;
    let mut conn = state.conn().await?;
    let tag = state
        .change(&mut conn, async |conn, change| {
            let tag: crate::models::tag::Tag = diesel::insert_into(tags::table)
                .values((
                    tags::name.eq(name.unwrap_or_default()),
                    tags::slug.eq(slug.unwrap_or_default()),
                    tags::description.eq(body
                        .description
                        .as_deref()
                        .map(text::defuse_markup)
                        .unwrap_or_default()),
                ))
                .returning(crate::models::tag::Tag::as_returning())
                .get_result(conn)
                .await?;
            audit::record(
                conn,
                Some(staff.id),
                "create",
                "tag",
                Some(tag.id),
                serde_json::json!({"slug": tag.slug}),
            )
            .await?;
            change.purge(keys::TAGS);
            change.purge(keys::tag(tag.id));
            Ok(tag)
        })
        .await?;
    Ok(HttpResponse::Created().json(TagView::from(tag)))
}

/// Change a tag.
#[utoipa::path(
    operation_id = "update_tag",
    tag = "admin",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "The tag's id", minimum = 1, maximum = 9223372036854775807_i64, example = 1)),
    request_body = TagInput,
    responses(
        (status = 200, description = "Saved", body = TagView),
        (status = 400, description = "The id is not a positive integer, or the body is not valid JSON for this endpoint", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Contributors may not", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such tag", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The slug is taken", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields", body = Problem, content_type = "application/problem+json"),
    )
)]
#[patch("/admin/tags/{id}")]
pub async fn update_tag(
    state: web::Data<AppState>,
    staff: Staff,
    path: web::Path<String>,
    body: web::Json<TagInput>,
) -> ApiResult<HttpResponse> {
    staff.require(Role::Author, "manage tags")?;
    let id = params::positive("id", &path)?;
    let mut errors = Vec::new();
    let (name, _) = name_and_slug(&mut errors, body.name.as_deref(), None);
    let (_, slug) = name_and_slug(&mut errors, None, body.slug.as_deref());
    ApiError::fail_if_any(errors)?;
    let mut conn = state.conn().await?;
    let tag = state
        .change(&mut conn, async |conn, change| {
            let current: crate::models::tag::Tag = tags::table
                .find(id)
                .select(crate::models::tag::Tag::as_select())
                .first(conn)
                .await
                .optional()?
                .ok_or_else(|| ApiError::not_found("tag", id.to_string()))?;
            let tag: crate::models::tag::Tag = diesel::update(tags::table.find(id))
                .set((
                    tags::name.eq(name.unwrap_or(current.name)),
                    tags::slug.eq(slug.unwrap_or(current.slug)),
                    tags::description.eq(body
                        .description
                        .as_deref()
                        .map_or(current.description, text::defuse_markup)),
                    tags::updated_at.eq(chrono::Utc::now()),
                ))
                .returning(crate::models::tag::Tag::as_returning())
                .get_result(conn)
                .await?;
            audit::record(
                conn,
                Some(staff.id),
                "update",
                "tag",
                Some(id),
                serde_json::json!({}),
            )
            .await?;
            change.purge(keys::TAGS);
            change.purge(keys::tag(id));
            Ok(tag)
        })
        .await?;
    Ok(HttpResponse::Ok().json(TagView::from(tag)))
}

/// Delete a tag. Editors may delete a tag in use (it is removed from its
/// articles); authors only one that no article carries.
#[utoipa::path(
    operation_id = "delete_tag",
    tag = "admin",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "The tag's id", minimum = 1, maximum = 9223372036854775807_i64, example = 1)),
    responses(
        (status = 204, description = "Deleted"),
        (status = 400, description = "The id is not a positive integer, or the body is not valid JSON for this endpoint", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "A contributor, or an author deleting a tag in use", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such tag", body = Problem, content_type = "application/problem+json"),
    )
)]
#[delete("/admin/tags/{id}")]
pub async fn delete_tag(
    state: web::Data<AppState>,
    staff: Staff,
    path: web::Path<String>,
) -> ApiResult<HttpResponse> {
    staff.require(Role::Author, "manage tags")?;
    let id = params::positive("id", &path)?;
    let mut conn = state.conn().await?;
    state
        .change(&mut conn, async |conn, change| {
            if staff.role < Role::Editor {
                let carried: i64 = crate::schema::article_tags::table
                    .filter(crate::schema::article_tags::tag_id.eq(id))
                    .count()
                    .get_result(conn)
                    .await?;
                if carried > 0 {
                    return Err(ApiError::Forbidden(format!(
                        "{carried} article(s) carry this tag; only editors may delete a tag in use"
                    )));
                }
            }
            let n = diesel::delete(tags::table.find(id)).execute(conn).await?;
            if n == 0 {
                return Err(ApiError::not_found("tag", id.to_string()));
            }
            audit::record(
                conn,
                Some(staff.id),
                "delete",
                "tag",
                Some(id),
                serde_json::json!({}),
            )
            .await?;
            change.purge(keys::TAGS);
            change.purge(keys::tag(id));
            change.lists(keys::List::Tag(id));
            Ok(())
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

// ---------------------------------------------------------------- authors

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"name": "Trần Thanh Mai", "bio": "Phóng viên mảng xã hội.", "avatar_url": "/media/authors/tran-thanh-mai.jpg"}))]
pub struct AuthorInput {
    /// 1 to 200 characters, not only spaces.
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = "\\S",
        example = "Trần Thanh Mai"
    )]
    pub name: Option<String>,
    /// Made from the name when absent on create.
    #[schema(pattern = "^[a-z0-9]+(?:-[a-z0-9]+)*$", max_length = 120)]
    pub slug: Option<String>,
    pub bio: Option<String>,
    /// An http(s) URL or a path; `null` removes it.
    #[serde(default, deserialize_with = "crate::api::admin::nullable")]
    #[schema(value_type = Option<String>)]
    pub avatar_url: Option<Option<String>>,
}

fn check_avatar(errors: &mut Vec<ParameterError>, url: Option<&str>) {
    if let Some(url) = url
        && !text::is_web_url(url)
    {
        errors.push(ParameterError {
            parameter: "avatar_url".into(),
            reason: "must be an http(s) URL or a path".into(),
        });
    }
}

async fn author_response(
    state: &AppState,
    conn: &diesel_async::AsyncPgConnection,
    status: actix_web::http::StatusCode,
    author: crate::models::author::Author,
) -> ApiResult<HttpResponse> {
    let tree = CategoryTree::default();
    let presenter = crate::views::Presenter {
        settings: &state.settings,
        tree: &tree,
    };
    let avatars =
        crate::models::author::avatar_media(conn, [&author], &state.settings.site_url).await?;
    Ok(HttpResponse::build(status).json(presenter.author(author, &avatars)))
}

/// Create an author (byline).
#[utoipa::path(
    operation_id = "create_author",
    tag = "admin",
    security(("bearer" = [])),
    request_body = AuthorInput,
    responses(
        (status = 201, description = "Created", body = AuthorView),
        (status = 400, description = "The id is not a positive integer, or the body is not valid JSON for this endpoint", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Takes the editor role", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The slug is taken", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/admin/authors")]
pub async fn create_author(
    state: web::Data<AppState>,
    staff: Staff,
    body: web::Json<AuthorInput>,
) -> ApiResult<HttpResponse> {
    staff.require(Role::Editor, "manage authors")?;
    let mut errors = Vec::new();
    if body.name.is_none() {
        errors.push(ParameterError {
            parameter: "name".into(),
            reason: "is required".into(),
        });
    }
    let (name, slug) = name_and_slug(&mut errors, body.name.as_deref(), body.slug.as_deref());
    let avatar_url = body.avatar_url.clone().flatten();
    check_avatar(&mut errors, avatar_url.as_deref());
    ApiError::fail_if_any(errors)?;
    let mut conn = state.conn().await?;
    let author = state
        .change(&mut conn, async |conn, change| {
            let author: crate::models::author::Author = diesel::insert_into(authors::table)
                .values((
                    authors::name.eq(name.unwrap_or_default()),
                    authors::slug.eq(slug.unwrap_or_default()),
                    authors::bio.eq(body
                        .bio
                        .as_deref()
                        .map(text::defuse_markup)
                        .unwrap_or_default()),
                    authors::avatar_url.eq(avatar_url),
                ))
                .returning(crate::models::author::Author::as_returning())
                .get_result(conn)
                .await?;
            audit::record(
                conn,
                Some(staff.id),
                "create",
                "author",
                Some(author.id),
                serde_json::json!({"slug": author.slug}),
            )
            .await?;
            change.purge(keys::AUTHORS);
            change.purge(keys::author(author.id));
            Ok(author)
        })
        .await?;
    author_response(&state, &conn, actix_web::http::StatusCode::CREATED, author).await
}

/// Rename an author, change the slug, bio or avatar.
#[utoipa::path(
    operation_id = "update_author",
    tag = "admin",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "The author's id", minimum = 1, maximum = 9223372036854775807_i64, example = 1)),
    request_body = AuthorInput,
    responses(
        (status = 200, description = "Saved", body = AuthorView),
        (status = 400, description = "Malformed JSON, unknown fields or a bad id", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Takes the editor role", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such author", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The slug is taken", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields", body = Problem, content_type = "application/problem+json"),
    )
)]
#[patch("/admin/authors/{id}")]
pub async fn update_author(
    state: web::Data<AppState>,
    staff: Staff,
    path: web::Path<String>,
    body: web::Json<AuthorInput>,
) -> ApiResult<HttpResponse> {
    staff.require(Role::Editor, "manage authors")?;
    let id = params::positive("id", &path)?;
    let mut errors = Vec::new();
    let (name, _) = name_and_slug(&mut errors, body.name.as_deref(), None);
    let (_, slug) = name_and_slug(&mut errors, None, body.slug.as_deref());
    if let Some(Some(url)) = &body.avatar_url {
        check_avatar(&mut errors, Some(url));
    }
    ApiError::fail_if_any(errors)?;
    let mut conn = state.conn().await?;
    let author = state
        .change(&mut conn, async |conn, change| {
            let current: crate::models::author::Author = authors::table
                .find(id)
                .select(crate::models::author::Author::as_select())
                .for_update()
                .first(conn)
                .await
                .optional()?
                .ok_or_else(|| ApiError::not_found("author", id.to_string()))?;
            let author: crate::models::author::Author = diesel::update(authors::table.find(id))
                .set((
                    authors::name.eq(name.unwrap_or(current.name)),
                    authors::slug.eq(slug.unwrap_or(current.slug)),
                    authors::bio.eq(body.bio.as_deref().map_or(current.bio, text::defuse_markup)),
                    authors::avatar_url.eq(body.avatar_url.clone().unwrap_or(current.avatar_url)),
                    authors::updated_at.eq(chrono::Utc::now()),
                ))
                .returning(crate::models::author::Author::as_returning())
                .get_result(conn)
                .await?;
            audit::record(
                conn,
                Some(staff.id),
                "update",
                "author",
                Some(id),
                serde_json::json!({"slug": author.slug}),
            )
            .await?;
            change.purge(keys::AUTHORS);
            change.purge(keys::author(id));
            Ok(author)
        })
        .await?;
    author_response(&state, &conn, actix_web::http::StatusCode::OK, author).await
}

/// Delete an author who is in no byline.
#[utoipa::path(
    operation_id = "delete_author",
    tag = "admin",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "The author's id", minimum = 1, maximum = 9223372036854775807_i64, example = 1)),
    responses(
        (status = 204, description = "Deleted"),
        (status = 400, description = "The id is not a positive integer, or the body is not valid JSON for this endpoint", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Takes the editor role", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such author", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The author is in bylines", body = Problem, content_type = "application/problem+json"),
    )
)]
#[delete("/admin/authors/{id}")]
pub async fn delete_author(
    state: web::Data<AppState>,
    staff: Staff,
    path: web::Path<String>,
) -> ApiResult<HttpResponse> {
    staff.require(Role::Editor, "manage authors")?;
    let id = params::positive("id", &path)?;
    let mut conn = state.conn().await?;
    state
        .change(&mut conn, async |conn, change| {
            let bylines: i64 = article_authors::table
                .filter(article_authors::author_id.eq(id))
                .count()
                .get_result(conn)
                .await?;
            if bylines > 0 {
                return Err(ApiError::Conflict(format!(
                    "the author is in {bylines} byline(s); change those articles first"
                )));
            }
            let n = diesel::delete(authors::table.find(id))
                .execute(conn)
                .await?;
            if n == 0 {
                return Err(ApiError::not_found("author", id.to_string()));
            }
            audit::record(
                conn,
                Some(staff.id),
                "delete",
                "author",
                Some(id),
                serde_json::json!({}),
            )
            .await?;
            change.purge(keys::AUTHORS);
            change.purge(keys::author(id));
            change.lists(keys::List::Author(id));
            Ok(())
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

// ---------------------------------------------------------------- media

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"url": "/media/2023/11/2147034_dsc_0597_11282810.jpg", "alt": "Lễ phát động tại KCN Đông Mai", "caption": "Quang cảnh lễ phát động.", "credit": "Báo Quảng Ninh", "width": 1200, "height": 800, "mime_type": "image/jpeg"}))]
pub struct MediaInput {
    pub url: String,
    #[serde(default)]
    #[schema(max_length = 2000)]
    pub alt: String,
    #[schema(max_length = 2000)]
    pub caption: Option<String>,
    #[schema(max_length = 2000)]
    pub credit: Option<String>,
    pub width: Option<i32>,
    pub height: Option<i32>,
    pub mime_type: String,
}

/// Record a media file (the file itself lives on your storage or CDN).
#[utoipa::path(
    operation_id = "create_media",
    tag = "admin",
    security(("bearer" = [])),
    request_body = MediaInput,
    responses(
        (status = 201, description = "Recorded", body = crate::views::MediaView),
        (status = 400, description = "Malformed JSON", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Contributors may not", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/admin/media")]
pub async fn create_media(
    state: web::Data<AppState>,
    staff: Staff,
    body: web::Json<MediaInput>,
) -> ApiResult<HttpResponse> {
    staff.require(Role::Author, "manage media")?;
    let mut m = body.into_inner();
    let mut errors = Vec::new();
    check_media(
        &mut errors,
        Some(&m.url),
        Some(&m.mime_type),
        &[("width", m.width), ("height", m.height)],
    );
    crate::api::media::check_text(
        &mut errors,
        &[
            ("alt", Some(&m.alt)),
            ("caption", m.caption.as_deref()),
            ("credit", m.credit.as_deref()),
        ],
    );
    ApiError::fail_if_any(errors)?;
    m.alt = crate::api::media::alt_text(&m.alt);
    m.caption = m.caption.as_deref().map(crate::api::media::inline_html);
    m.credit = m.credit.as_deref().map(crate::api::media::inline_html);
    let mut conn = state.conn().await?;
    let row = state
        .change(&mut conn, async |conn, change| {
            let row: crate::models::media::Media = diesel::insert_into(media::table)
                .values(crate::models::media::NewMedia {
                    url: &m.url,
                    alt: &m.alt,
                    caption: m.caption.as_deref(),
                    credit: m.credit.as_deref(),
                    width: m.width,
                    height: m.height,
                    mime_type: &m.mime_type,
                })
                .returning(crate::models::media::Media::as_returning())
                .get_result(conn)
                .await?;
            audit::record(
                conn,
                Some(staff.id),
                "create",
                "media",
                Some(row.id),
                serde_json::json!({}),
            )
            .await?;
            change.purge(keys::media(row.id));
            Ok(row)
        })
        .await?;
    Ok(media_response(
        &state,
        actix_web::http::StatusCode::CREATED,
        &row,
    ))
}

fn media_response(
    state: &AppState,
    status: actix_web::http::StatusCode,
    row: &crate::models::media::Media,
) -> HttpResponse {
    let tree = CategoryTree::default();
    let presenter = crate::views::Presenter {
        settings: &state.settings,
        tree: &tree,
    };
    HttpResponse::build(status).json(presenter.media(row))
}

fn check_media(
    errors: &mut Vec<ParameterError>,
    url: Option<&str>,
    mime_type: Option<&str>,
    sizes: &[(&str, Option<i32>)],
) {
    if url.is_some_and(|u| !text::is_web_url(u)) {
        errors.push(ParameterError {
            parameter: "url".into(),
            reason: "must be an http(s) URL or a path".into(),
        });
    }
    let mime_ok = |m: &str| {
        m.split_once('/').is_some_and(|(a, b)| {
            !a.is_empty()
                && !b.is_empty()
                && a.chars().all(|c| c.is_ascii_lowercase())
                && b.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || ".+-".contains(c))
        })
    };
    if mime_type.is_some_and(|m| !mime_ok(m)) {
        errors.push(ParameterError {
            parameter: "mime_type".into(),
            reason: "must be a MIME type such as image/jpeg".into(),
        });
    }
    for (field, value) in sizes {
        if value.is_some_and(|v| v <= 0) {
            errors.push(ParameterError {
                parameter: (*field).into(),
                reason: "must be positive".into(),
            });
        }
    }
}

/// Changes to a media record; absent fields stay, `null` clears an optional one.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"alt": "Lễ phát động tại KCN Đông Mai", "credit": "Báo Quảng Ninh"}))]
pub struct MediaPatch {
    pub url: Option<String>,
    #[schema(max_length = 2000)]
    pub alt: Option<String>,
    #[serde(default, deserialize_with = "crate::api::admin::nullable")]
    #[schema(value_type = Option<String>, max_length = 2000)]
    pub caption: Option<Option<String>>,
    #[serde(default, deserialize_with = "crate::api::admin::nullable")]
    #[schema(value_type = Option<String>, max_length = 2000)]
    pub credit: Option<Option<String>>,
    #[serde(default, deserialize_with = "crate::api::admin::nullable")]
    #[schema(value_type = Option<i32>)]
    pub width: Option<Option<i32>>,
    #[serde(default, deserialize_with = "crate::api::admin::nullable")]
    #[schema(value_type = Option<i32>)]
    pub height: Option<Option<i32>>,
    pub mime_type: Option<String>,
    /// Where crops are centred (0..1 each way); new rendition URLs follow.
    pub focal_point: Option<crate::views::FocalPoint>,
}

/// Change a media record's metadata. Covers show the change at once; image
/// blocks keep the snapshot taken when their article was saved, until it is
/// saved again.
#[utoipa::path(
    operation_id = "update_media",
    tag = "admin",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "The media record's id", minimum = 1, maximum = 9223372036854775807_i64, example = 1)),
    request_body = MediaPatch,
    responses(
        (status = 200, description = "Saved", body = crate::views::MediaView),
        (status = 400, description = "Malformed JSON, unknown fields or a bad id", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Contributors may not", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such media record", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields", body = Problem, content_type = "application/problem+json"),
    )
)]
#[patch("/admin/media/{id}")]
pub async fn update_media(
    state: web::Data<AppState>,
    staff: Staff,
    path: web::Path<String>,
    body: web::Json<MediaPatch>,
) -> ApiResult<HttpResponse> {
    staff.require(Role::Author, "manage media")?;
    let id = params::positive("id", &path)?;
    let m = body.into_inner();
    let mut errors = Vec::new();
    check_media(
        &mut errors,
        m.url.as_deref(),
        m.mime_type.as_deref(),
        &[("width", m.width.flatten()), ("height", m.height.flatten())],
    );
    crate::api::media::check_text(
        &mut errors,
        &[
            ("alt", m.alt.as_deref()),
            ("caption", m.caption.as_ref().and_then(Option::as_deref)),
            ("credit", m.credit.as_ref().and_then(Option::as_deref)),
        ],
    );
    if let Some(f) = m.focal_point
        && !((0.0..=1.0).contains(&f.x) && (0.0..=1.0).contains(&f.y))
    {
        errors.push(ParameterError {
            parameter: "focal_point".into(),
            reason: "x and y must be from 0 to 1".into(),
        });
    }
    ApiError::fail_if_any(errors)?;
    let mut conn = state.conn().await?;
    let row = state
        .change(&mut conn, async |conn, change| {
            let current = crate::api::media::lock_for_edit(conn, id, &staff).await?;
            // An uploaded file's address and size are its own: replace the
            // file instead (PUT …/file).
            if current.storage_key.is_some() {
                let fixed = [
                    ("url", m.url.is_some()),
                    ("width", m.width.is_some()),
                    ("height", m.height.is_some()),
                    ("mime_type", m.mime_type.is_some()),
                ];
                let errors: Vec<ParameterError> = fixed
                    .iter()
                    .filter(|(_, sent)| *sent)
                    .map(|(field, _)| ParameterError {
                        parameter: (*field).into(),
                        reason: "comes from the uploaded file; replace the file to change it"
                            .into(),
                    })
                    .collect();
                ApiError::fail_if_any(errors)?;
            }
            let focal = m
                .focal_point
                .map_or((current.focal_x, current.focal_y), |f| (f.x, f.y));
            let row: crate::models::media::Media = diesel::update(media::table.find(id))
                .set((
                    media::focal_x.eq(focal.0),
                    media::focal_y.eq(focal.1),
                    media::url.eq(m.url.unwrap_or(current.url)),
                    media::alt.eq(m
                        .alt
                        .as_deref()
                        .map_or(current.alt, crate::api::media::alt_text)),
                    media::caption.eq(m.caption.map_or(current.caption, |c| {
                        c.as_deref().map(crate::api::media::inline_html)
                    })),
                    media::credit.eq(m.credit.map_or(current.credit, |c| {
                        c.as_deref().map(crate::api::media::inline_html)
                    })),
                    media::width.eq(m.width.unwrap_or(current.width)),
                    media::height.eq(m.height.unwrap_or(current.height)),
                    media::mime_type.eq(m.mime_type.unwrap_or(current.mime_type)),
                    media::updated_at.eq(chrono::Utc::now()),
                ))
                .returning(crate::models::media::Media::as_returning())
                .get_result(conn)
                .await?;
            audit::record(
                conn,
                Some(staff.id),
                "update",
                "media",
                Some(id),
                serde_json::json!({}),
            )
            .await?;
            change.purge(keys::media(id));
            Ok(row)
        })
        .await?;
    Ok(media_response(
        &state,
        actix_web::http::StatusCode::OK,
        &row,
    ))
}

/// Delete a media record no article uses (as cover or in an image block),
/// and its uploaded file and renditions unless another record has the
/// same file. (The demo's shipped pictures stay in the binary.)
#[utoipa::path(
    operation_id = "delete_media",
    tag = "admin",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "The media record's id", minimum = 1, maximum = 9223372036854775807_i64, example = 1)),
    responses(
        (status = 204, description = "Deleted"),
        (status = 400, description = "A bad id", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Contributors may not", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such media record", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "An article uses it", body = Problem, content_type = "application/problem+json"),
    )
)]
#[delete("/admin/media/{id}")]
pub async fn delete_media(
    state: web::Data<AppState>,
    staff: Staff,
    path: web::Path<String>,
) -> ApiResult<HttpResponse> {
    staff.require(Role::Author, "manage media")?;
    let id = params::positive("id", &path)?;
    let mut conn = state.conn().await?;
    let file = state
        .change(&mut conn, async |conn, change| {
            let exists: Option<i64> = media::table
                .find(id)
                .select(media::id)
                .for_update()
                .first(conn)
                .await
                .optional()?;
            if exists.is_none() {
                return Err(ApiError::not_found("media", id.to_string()));
            }
            let users = crate::models::media::users(conn, id, 5).await?;
            if !users.is_empty() {
                return Err(ApiError::Conflict(format!(
                    "articles use this media record (ids {users:?}); change them first"
                )));
            }
            let stored: Option<(String, String)> = diesel::delete(media::table.find(id))
                .returning((media::storage_key, media::content_hash))
                .get_result::<(Option<String>, Option<String>)>(conn)
                .await
                .map(|(key, hash)| key.zip(hash))?;
            audit::record(
                conn,
                Some(staff.id),
                "delete",
                "media",
                Some(id),
                serde_json::json!({}),
            )
            .await?;
            change.purge(keys::media(id));
            // The file goes too, unless another record has the same one.
            Ok(match stored {
                Some((key, hash)) if !crate::models::media::key_in_use(conn, &key, id).await? => {
                    Some((key, hash))
                }
                _ => None,
            })
        })
        .await?;
    if let Some((key, hash)) = file {
        let hot = &state.settings.media.hot;
        let renditions = format!("r/{hash}/");
        hot.invalidate(&key);
        for (cached, _) in hot.iter() {
            if cached.starts_with(&renditions) {
                hot.invalidate(cached.as_str());
            }
        }
        let storage = &state.settings.media.storage;
        let removed = async {
            storage.delete(&key).await?;
            storage.delete_tree(&format!("r/{hash}")).await
        }
        .await;
        if let Err(e) = removed {
            log::warn!("deleting the file of media record {id} ({key}) failed: {e:#}");
        }
    }
    Ok(HttpResponse::NoContent().finish())
}

// ---------------------------------------------------------------- categories

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"name": "Già hóa dân số", "parent": "dan-so", "position": 2}))]
pub struct CategoryInput {
    /// 1 to 200 characters, not only spaces.
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = "\\S",
        example = "Già hóa dân số"
    )]
    pub name: Option<String>,
    /// Made from the name when absent on create.
    #[schema(pattern = "^[a-z0-9]+(?:-[a-z0-9]+)*$", max_length = 120)]
    pub slug: Option<String>,
    pub description: Option<String>,
    /// The parent's slug or id; `null` makes it a root.
    #[serde(default, deserialize_with = "crate::api::admin::nullable")]
    #[schema(value_type = Option<CategoryKey>)]
    pub parent: Option<Option<CategoryKey>>,
    /// Order among siblings.
    pub position: Option<i32>,
}

fn resolve_parent(tree: &CategoryTree, key: &CategoryKey) -> ApiResult<i64> {
    let found = match key {
        CategoryKey::Id(id) => tree.get(*id),
        CategoryKey::Slug(slug) => tree.by_slug(slug),
    };
    found
        .map(|c| c.id)
        .ok_or_else(|| ApiError::validation("parent", "does not exist"))
}

/// Create a category.
#[utoipa::path(
    operation_id = "create_category",
    tag = "admin",
    security(("bearer" = [])),
    request_body = CategoryInput,
    responses(
        (status = 201, description = "Created", body = crate::views::CategoryRef),
        (status = 400, description = "The id is not a positive integer, or the body is not valid JSON for this endpoint", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Takes the editor role", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The slug is taken", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/admin/categories")]
pub async fn create_category(
    state: web::Data<AppState>,
    staff: Staff,
    body: web::Json<CategoryInput>,
) -> ApiResult<HttpResponse> {
    staff.require(Role::Editor, "manage categories")?;
    let mut errors = Vec::new();
    if body.name.is_none() {
        errors.push(ParameterError {
            parameter: "name".into(),
            reason: "is required".into(),
        });
    }
    let (name, slug) = name_and_slug(&mut errors, body.name.as_deref(), body.slug.as_deref());
    ApiError::fail_if_any(errors)?;
    let mut conn = state.conn().await?;
    let tree = CategoryTree::load(&conn).await?;
    let parent_id = match &body.parent {
        Some(Some(key)) => Some(resolve_parent(&tree, key)?),
        _ => None,
    };
    let row = state
        .change(&mut conn, async |conn, change| {
            let row: crate::models::category::Category = diesel::insert_into(categories::table)
                .values(crate::models::category::NewCategory {
                    parent_id,
                    position: body.position.unwrap_or(0),
                    slug: slug.as_deref().unwrap_or_default(),
                    name: name.as_deref().unwrap_or_default(),
                    description: &text::defuse_markup(
                        body.description.as_deref().unwrap_or_default(),
                    ),
                })
                .returning(crate::models::category::Category::as_returning())
                .get_result(conn)
                .await?;
            audit::record(
                conn,
                Some(staff.id),
                "create",
                "category",
                Some(row.id),
                serde_json::json!({"slug": row.slug}),
            )
            .await?;
            change.purge(keys::CATEGORIES);
            change.purge(keys::category(row.id));
            let payload = webhook::category_payload(
                "category.created",
                row.id,
                &row.slug,
                &state.settings.site_url,
            );
            webhook::enqueue(conn, "category.created", &payload).await?;
            Ok(row)
        })
        .await?;
    Ok(HttpResponse::Created().json(category_ref(&row)))
}

/// Rename, move (never under itself or its descendants) or reorder a category.
#[utoipa::path(
    operation_id = "update_category",
    tag = "admin",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "The category's id", minimum = 1, maximum = 9223372036854775807_i64, example = 2)),
    request_body = CategoryInput,
    responses(
        (status = 200, description = "Saved", body = crate::views::CategoryRef),
        (status = 400, description = "The id is not a positive integer, or the body is not valid JSON for this endpoint", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Takes the editor role", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such category", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The slug is taken", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields, or a move that would make a cycle", body = Problem, content_type = "application/problem+json"),
    )
)]
#[patch("/admin/categories/{id}")]
pub async fn update_category(
    state: web::Data<AppState>,
    staff: Staff,
    path: web::Path<String>,
    body: web::Json<CategoryInput>,
) -> ApiResult<HttpResponse> {
    staff.require(Role::Editor, "manage categories")?;
    let id = params::positive("id", &path)?;
    let mut errors = Vec::new();
    let (name, _) = name_and_slug(&mut errors, body.name.as_deref(), None);
    let (_, slug) = name_and_slug(&mut errors, None, body.slug.as_deref());
    ApiError::fail_if_any(errors)?;
    let mut conn = state.conn().await?;
    let row = state
        .change(&mut conn, async |conn, change| {
            // Serialise tree changes so two moves cannot build a cycle together.
            diesel::sql_query("LOCK TABLE categories IN SHARE ROW EXCLUSIVE MODE")
                .execute(conn)
                .await?;
            let tree = CategoryTree::load(conn).await?;
            let current = tree
                .get(id)
                .cloned()
                .ok_or_else(|| ApiError::not_found("category", id.to_string()))?;
            let parent_id = match &body.parent {
                None => current.parent_id,
                Some(None) => None,
                Some(Some(key)) => {
                    let parent = resolve_parent(&tree, key)?;
                    if tree.subtree_ids(id).contains(&parent) {
                        return Err(ApiError::validation(
                            "parent",
                            "would put the category under itself",
                        ));
                    }
                    Some(parent)
                }
            };
            let row: crate::models::category::Category = diesel::update(categories::table.find(id))
                .set((
                    categories::name.eq(name.unwrap_or(current.name)),
                    categories::slug.eq(slug.unwrap_or(current.slug)),
                    categories::description.eq(body
                        .description
                        .as_deref()
                        .map_or(current.description, text::defuse_markup)),
                    categories::parent_id.eq(parent_id),
                    categories::position.eq(body.position.unwrap_or(current.position)),
                    categories::updated_at.eq(chrono::Utc::now()),
                ))
                .returning(crate::models::category::Category::as_returning())
                .get_result(conn)
                .await?;
            audit::record(
                conn,
                Some(staff.id),
                "update",
                "category",
                Some(id),
                serde_json::json!({}),
            )
            .await?;
            change.purge(keys::CATEGORIES);
            change.purge(keys::category(id));
            change.category_lists(&tree, id);
            if let Some(parent) = parent_id {
                change.category_lists(&tree, parent);
            }
            if parent_id != current.parent_id {
                let after: Vec<i64> = parent_id
                    .into_iter()
                    .chain(
                        parent_id
                            .iter()
                            .flat_map(|p| tree.ancestors(*p))
                            .map(|c| c.id),
                    )
                    .collect();
                let before: Vec<i64> = tree.ancestors(id).iter().map(|c| c.id).collect();
                change::articles_moved(conn, &tree.subtree_ids(id), &before, &after).await?;
            }
            let payload = webhook::category_payload(
                "category.updated",
                id,
                &row.slug,
                &state.settings.site_url,
            );
            webhook::enqueue(conn, "category.updated", &payload).await?;
            Ok(row)
        })
        .await?;
    Ok(HttpResponse::Ok().json(category_ref(&row)))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct DeleteCategoryQuery {
    /// Slug of the category that takes this one's articles and children.
    #[param(
        pattern = "^[a-z0-9]+(?:-[a-z0-9]+)*$",
        max_length = 200,
        example = "xa-hoi"
    )]
    move_to: Option<String>,
}

/// Delete a category: only when empty, or with `move_to` naming where its
/// articles and child categories go.
#[utoipa::path(
    operation_id = "delete_category",
    tag = "admin",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "The category's id", minimum = 1, maximum = 9223372036854775807_i64, example = 2), DeleteCategoryQuery),
    responses(
        (status = 204, description = "Deleted"),
        (status = 400, description = "The id is not a positive integer, or the body is not valid JSON for this endpoint", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Takes the editor role", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such category", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Not empty and no `move_to`", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`move_to` is missing, itself or below it", body = Problem, content_type = "application/problem+json"),
    )
)]
#[delete("/admin/categories/{id}")]
pub async fn delete_category(
    state: web::Data<AppState>,
    staff: Staff,
    path: web::Path<String>,
    query: web::Query<DeleteCategoryQuery>,
) -> ApiResult<HttpResponse> {
    staff.require(Role::Editor, "manage categories")?;
    let id = params::positive("id", &path)?;
    let move_to = params::slug("move_to", query.move_to.as_deref())?.map(str::to_owned);
    let mut conn = state.conn().await?;
    state.change(&mut conn, async |conn, change| {
        diesel::sql_query("LOCK TABLE categories IN SHARE ROW EXCLUSIVE MODE").execute(conn).await?;
        let tree = CategoryTree::load(conn).await?;
        if tree.get(id).is_none() {
            return Err(ApiError::not_found("category", id.to_string()));
        }
        let target = match &move_to {
            Some(slug) => {
                let t = tree.by_slug(slug).ok_or_else(|| ApiError::validation("move_to", "does not exist"))?;
                if tree.subtree_ids(id).contains(&t.id) {
                    return Err(ApiError::validation("move_to", "is the category itself or below it"));
                }
                Some(t.id)
            }
            None => None,
        };
        let article_count: i64 = articles::table
            .filter(articles::category_id.eq(id))
            .count()
            .get_result(conn)
            .await?;
        let children = tree.children(Some(id)).count();
        match target {
            None if article_count > 0 || children > 0 => {
                return Err(ApiError::Conflict(format!(
                    "the category has {article_count} article(s) and {children} child categor(ies); pass move_to"
                )));
            }
            None => {}
            Some(target) => {
                let mut before = vec![id];
                before.extend(tree.ancestors(id).iter().map(|c| c.id));
                let mut after = vec![target];
                after.extend(tree.ancestors(target).iter().map(|c| c.id));
                // Named before the move, while they are still in the subtree.
                change::articles_moved(conn, &tree.subtree_ids(id), &before, &after).await?;
                diesel::update(articles::table.filter(articles::category_id.eq(id)))
                    .set(articles::category_id.eq(target))
                    .execute(conn)
                    .await?;
                diesel::update(categories::table.filter(categories::parent_id.eq(id)))
                    .set(categories::parent_id.eq(target))
                    .execute(conn)
                    .await?;
            }
        }
        diesel::delete(categories::table.find(id)).execute(conn).await?;
        audit::record(conn, Some(staff.id), "delete", "category", Some(id), serde_json::json!({"moved_to": target})).await?;
        change.purge(keys::CATEGORIES);
        change.purge(keys::category(id));
        change.category_lists(&tree, id);
        if let Some(target) = target {
            change.category_lists(&tree, target);
        }
        let slug = tree.get(id).map(|c| c.slug.clone()).unwrap_or_default();
        let payload = webhook::category_payload("category.deleted", id, &slug, &state.settings.site_url);
        webhook::enqueue(conn, "category.deleted", &payload).await?;
        Ok(())
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

// ---------------------------------------------------------------- related

#[derive(Debug, Deserialize, serde::Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"articles": [12, 15]}))]
pub struct RelatedInput {
    /// Ids of the articles to pin, in order (at most 20).
    #[schema(max_items = 20)]
    pub articles: Vec<i64>,
}

/// Most related articles an editor may pin.
const MAX_PINNED: usize = 20;

/// Set the hand-pinned related articles of an article, in order.
#[utoipa::path(
    operation_id = "set_related_articles",
    tag = "admin",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "The article's id", minimum = 1, maximum = 9223372036854775807_i64, example = 1)),
    request_body = RelatedInput,
    responses(
        (status = 200, description = "The pinned ids, in order", body = RelatedInput),
        (status = 400, description = "The id is not a positive integer, or the body is not valid JSON for this endpoint", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The role does not allow it", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such article", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Itself, a duplicate, too many or unknown articles", body = Problem, content_type = "application/problem+json"),
    )
)]
#[put("/admin/articles/{id}/related")]
pub async fn set_related_articles(
    state: web::Data<AppState>,
    staff: Staff,
    path: web::Path<String>,
    body: web::Json<RelatedInput>,
) -> ApiResult<HttpResponse> {
    let id = params::positive("id", &path)?;
    let wanted = body.into_inner().articles;
    // Refused before any other work: the list's size bounds all of it.
    if wanted.len() > MAX_PINNED {
        return Err(ApiError::validation(
            "articles",
            format!("may name at most {MAX_PINNED} articles"),
        ));
    }
    let mut conn = state.conn().await?;
    let row = editorial::find_any(&mut conn, id)
        .await?
        .ok_or_else(|| ApiError::not_found("article", id.to_string()))?;
    crate::api::admin::may_edit(&staff, row.created_by, &row.status)?;
    let mut errors = Vec::new();
    // A contributor sees only their own articles and public ones, so the
    // answer must not tell others' drafts from ids that do not exist.
    let mut visible = articles::table
        .filter(articles::id.eq_any(&wanted))
        .select(articles::id)
        .into_boxed();
    if staff.role == Role::Contributor {
        visible = visible.filter(
            articles::created_by
                .eq(staff.id)
                .or(crate::models::is_visible()),
        );
    }
    let existing: Vec<i64> = visible.load(&mut conn).await?;
    for (i, other) in wanted.iter().enumerate() {
        if *other == id {
            errors.push(ParameterError {
                parameter: format!("articles[{i}]"),
                reason: "is the article itself".into(),
            });
        } else if wanted[..i].contains(other) {
            errors.push(ParameterError {
                parameter: format!("articles[{i}]"),
                reason: "is listed twice".into(),
            });
        } else if !existing.contains(other) {
            errors.push(ParameterError {
                parameter: format!("articles[{i}]"),
                reason: format!("article {other} does not exist or is not yours to see"),
            });
        }
    }
    ApiError::fail_if_any(errors)?;
    state
        .change(&mut conn, async |conn, change| {
            diesel::delete(article_related::table.filter(article_related::article_id.eq(id)))
                .execute(conn)
                .await?;
            let rows: Vec<_> = wanted
                .iter()
                .enumerate()
                .map(|(position, other)| {
                    (
                        article_related::article_id.eq(id),
                        article_related::related_article_id.eq(*other),
                        article_related::position.eq(position as i32),
                    )
                })
                .collect();
            diesel::insert_into(article_related::table)
                .values(&rows)
                .execute(conn)
                .await?;
            audit::record(
                conn,
                Some(staff.id),
                "set_related",
                "article",
                Some(id),
                serde_json::json!({"articles": wanted}),
            )
            .await?;
            change.purge(keys::article(id));
            Ok(())
        })
        .await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({"articles": wanted})))
}
