//! The editorial write API under `/api/v1/admin`: articles with their
//! workflow (draft, schedule, publish), revisions, and the audit log.
//!
//! Every update must name the version it edits (`If-Match` or `version`);
//! a stale one is refused with 412 and nothing is written.

use std::sync::Arc;

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, delete, get, patch, post, put, web};
use chrono::{DateTime, Utc};
use diesel_async::AsyncPgConnection;
use serde::{Deserialize, Deserializer, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::api::auth::Staff;
use crate::api::{AppState, params};
use crate::auth::Role;
use crate::config::Settings;
use crate::domain::body::Block;
use crate::domain::cursor;
use crate::domain::text;
use crate::error::{ApiError, ApiResult, ParameterError, Problem};
use crate::models::article::Article;
use crate::models::change;
use crate::models::editorial::{self, Editable, Workflow};
use crate::models::{audit, category::CategoryTree};
use crate::views::params::ArticleStatusParam;

/// `null` clears a field, absence keeps it.
pub(crate) fn nullable<'de, D, T>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(d).map(Some)
}

/// A category by slug or by id.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(untagged)]
pub enum CategoryKey {
    Id(i64),
    Slug(String),
}

/// The fields of an article an editor sends. On create, `title` and
/// `category` are required; on PATCH every field is optional; on PUT the
/// article becomes exactly this (absent fields take their defaults).
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "title": "Quảng Ninh hưởng ứng Tháng hành động vì bình đẳng giới",
    "summary": "Ngày 10/11, tại KCN Đông Mai (TX Quảng Yên), Sở LĐ-TB&XH tổ chức lễ phát động.",
    "category": "dan-so",
    "tags": ["binh-dang-gioi"],
    "authors": ["tran-thanh-mai"],
    "body": [{"type": "paragraph", "text": "Tại buổi lễ phát động, đại diện Sở LĐ-TB&XH kêu gọi…"}]
}))]
pub struct ArticleInput {
    /// 1 to 300 characters, not only spaces.
    #[schema(min_length = 1, pattern = "\\S")]
    pub title: Option<String>,
    /// Made from the title when absent on create (diacritics removed, `đ` → `d`).
    #[schema(pattern = "^[a-z0-9]+(?:-[a-z0-9]+)*$", max_length = 200)]
    pub slug: Option<String>,
    #[schema(max_length = 2000)]
    pub summary: Option<String>,
    #[schema(max_items = 500)]
    pub body: Option<Vec<Block>>,
    pub category: Option<CategoryKey>,
    /// Tag slugs.
    pub tags: Option<Vec<String>>,
    /// Author slugs, in byline order.
    pub authors: Option<Vec<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<i64>)]
    pub cover_media_id: Option<Option<i64>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub cover_caption: Option<Option<String>>,
    pub featured: Option<bool>,
    /// A language tag such as `vi`.
    #[schema(pattern = "^[A-Za-z0-9-]{2,35}$", example = "vi")]
    pub language: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub source: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub meta_title: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub meta_description: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub canonical_url: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<i64>)]
    pub social_image_id: Option<Option<i64>>,
    /// The version being edited, when `If-Match` is not sent.
    pub version: Option<i32>,
}

/// An article as editors see it: any status, raw SEO fields, the version.
#[derive(Debug, Serialize, ToSchema)]
pub struct AdminArticle {
    pub id: i64,
    pub slug: String,
    pub title: String,
    pub summary: String,
    pub body: Vec<Block>,
    pub body_html: String,
    pub excerpt: String,
    pub word_count: i32,
    pub reading_time_minutes: i32,
    pub category_id: i64,
    pub tag_ids: Vec<i64>,
    pub author_ids: Vec<i64>,
    pub cover_media_id: Option<i64>,
    pub cover_caption: Option<String>,
    /// `draft`, `scheduled`, `published` or `archived`.
    #[schema(example = "draft")]
    pub status: String,
    pub published_at: Option<DateTime<Utc>>,
    pub first_published_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub featured: bool,
    pub language: String,
    pub source: Option<String>,
    pub meta_title: Option<String>,
    pub meta_description: Option<String>,
    pub canonical_url: Option<String>,
    pub social_image_id: Option<i64>,
    pub created_by: Option<i64>,
    /// Send it back (`If-Match: "v{version}"` or `version`) to update.
    pub version: i32,
}

fn etag(version: i32) -> String {
    format!("\"v{version}\"")
}

/// The staff view; image blocks carry the public article's media objects
/// (absolute URLs, renditions, `srcset`s).
async fn admin_view(
    conn: &mut AsyncPgConnection,
    settings: &Arc<Settings>,
    row: Article,
) -> ApiResult<AdminArticle> {
    let mut state = Editable::load(conn, &row).await?;
    let tree = crate::models::category::CategoryTree::default();
    crate::views::Presenter {
        settings,
        tree: &tree,
    }
    .image_blocks(&mut state.body);
    Ok(AdminArticle {
        id: row.id,
        slug: row.slug,
        title: row.title,
        summary: row.summary,
        body: state.body,
        body_html: row.body_html,
        excerpt: row.excerpt,
        word_count: row.word_count,
        reading_time_minutes: row.reading_time_minutes,
        category_id: row.category_id,
        tag_ids: state.tag_ids,
        author_ids: state.author_ids,
        cover_media_id: row.cover_media_id,
        cover_caption: row.cover_caption,
        status: row.status,
        published_at: row.published_at,
        first_published_at: row.first_published_at,
        created_at: row.created_at,
        updated_at: row.updated_at,
        featured: row.featured,
        language: row.language,
        source: row.source,
        meta_title: row.meta_title,
        meta_description: row.meta_description,
        canonical_url: row.canonical_url,
        social_image_id: row.social_image_id,
        created_by: row.created_by,
        version: row.version,
    })
}

fn respond(status: actix_web::http::StatusCode, view: AdminArticle) -> HttpResponse {
    HttpResponse::build(status)
        .insert_header((header::ETAG, etag(view.version)))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(view)
}

/// The version an update was based on: `If-Match` first, else `version`.
fn expected_version(req: &HttpRequest, body_version: Option<i32>) -> ApiResult<i32> {
    if let Some(value) = req.headers().get(header::IF_MATCH) {
        let text = value.to_str().unwrap_or_default().trim();
        let text = text.trim_start_matches("W/").trim_matches('"');
        return text
            .strip_prefix('v')
            .and_then(|v| v.parse().ok())
            .ok_or_else(|| {
                ApiError::invalid("If-Match", "must be an ETag of this API, e.g. \"v3\"")
            });
    }
    body_version.ok_or(ApiError::PreconditionRequired)
}

/// Whether `staff` may edit an article created by `owner` in `status`.
pub(crate) fn may_edit(staff: &Staff, owner: Option<i64>, status: &str) -> ApiResult<()> {
    let own = owner == Some(staff.id);
    match staff.role {
        Role::Admin | Role::Editor => Ok(()),
        Role::Author if own => Ok(()),
        Role::Contributor if own && status == "draft" => Ok(()),
        _ => Err(ApiError::Forbidden(format!(
            "a {} may edit only {}",
            staff.role,
            if staff.role == Role::Contributor {
                "their own drafts"
            } else {
                "their own articles"
            }
        ))),
    }
}

fn may_publish(staff: &Staff, owner: Option<i64>) -> ApiResult<()> {
    staff.require(Role::Author, "publish, schedule or unpublish")?;
    if staff.role == Role::Author && owner != Some(staff.id) {
        return Err(ApiError::Forbidden(
            "an author may publish only their own articles".into(),
        ));
    }
    Ok(())
}

/// Most tags and bylines an article may have.
const MAX_TAGS: usize = 50;
const MAX_AUTHORS: usize = 20;

/// Who is editing, for the rules that depend on it.
struct Editor<'a> {
    staff: &'a Staff,
    site_url: &'a str,
    /// The byline before this edit (kept as it is by anyone).
    byline: Vec<i64>,
}

impl Editor<'_> {
    /// Below the editor role, a byline may gain only one's own author, and
    /// a canonical URL must be on the site: both change what readers and
    /// search engines are told about who wrote what, and where.
    fn check(&self, state: &Editable, errors: &mut Vec<ParameterError>) -> ApiResult<()> {
        if self.staff.role >= Role::Editor {
            return Ok(());
        }
        let foreign = state
            .author_ids
            .iter()
            .any(|id| !self.byline.contains(id) && Some(*id) != self.staff.author_id);
        if foreign {
            return Err(ApiError::Forbidden(format!(
                "a {} may add only their own author profile to a byline; other bylines take the editor role",
                self.staff.role
            )));
        }
        let on_site = |url: &str| {
            url.strip_prefix(self.site_url)
                .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
        };
        if let Some(url) = &state.canonical_url
            && !on_site(url)
        {
            errors.push(ParameterError {
                parameter: "canonical_url".into(),
                reason: format!(
                    "must be on this site ({}/…); a canonical URL elsewhere takes the editor role",
                    self.site_url
                ),
            });
        }
        Ok(())
    }
}

/// Applies `input` over `state`, resolving slugs to ids.
async fn apply(
    conn: &mut AsyncPgConnection,
    state: &mut Editable,
    input: ArticleInput,
    creating: bool,
    editor: &Editor<'_>,
) -> ApiResult<()> {
    let mut errors: Vec<ParameterError> = Vec::new();
    // Sizes first: they bound every later step.
    for (field, len, max) in [
        ("tags", input.tags.as_ref().map_or(0, Vec::len), MAX_TAGS),
        (
            "authors",
            input.authors.as_ref().map_or(0, Vec::len),
            MAX_AUTHORS,
        ),
    ] {
        if len > max {
            return Err(ApiError::validation(
                field,
                format!("may name at most {max}"),
            ));
        }
    }
    if creating && input.title.is_none() {
        errors.push(ParameterError {
            parameter: "title".into(),
            reason: "is required".into(),
        });
    }
    if creating && input.category.is_none() {
        errors.push(ParameterError {
            parameter: "category".into(),
            reason: "is required".into(),
        });
    }
    if let Some(title) = input.title {
        state.title = title;
    }
    match input.slug {
        Some(slug) => state.slug = slug,
        None if creating => state.slug = text::slugify(&state.title),
        None => {}
    }
    if let Some(v) = input.summary {
        state.summary = v;
    }
    if let Some(v) = input.body {
        state.body = v;
    }
    if let Some(key) = input.category {
        let tree = CategoryTree::load(conn).await?;
        let found = match &key {
            CategoryKey::Id(id) => tree.get(*id),
            CategoryKey::Slug(slug) => tree.by_slug(slug),
        };
        match found {
            Some(c) => state.category_id = c.id,
            None => errors.push(ParameterError {
                parameter: "category".into(),
                reason: "does not exist".into(),
            }),
        }
    }
    if let Some(tags) = input.tags {
        state.tag_ids = editorial::resolve_slugs(conn, "tags", &tags, &mut errors).await?;
    }
    if let Some(authors) = input.authors {
        state.author_ids = editorial::resolve_slugs(conn, "authors", &authors, &mut errors).await?;
    }
    if let Some(v) = input.cover_media_id {
        state.cover_media_id = v;
    }
    if let Some(v) = input.cover_caption {
        state.cover_caption = v;
    }
    if let Some(v) = input.featured {
        state.featured = v;
    }
    if let Some(v) = input.language {
        state.language = v;
    }
    if let Some(v) = input.source {
        state.source = v;
    }
    if let Some(v) = input.meta_title {
        state.meta_title = v;
    }
    if let Some(v) = input.meta_description {
        state.meta_description = v;
    }
    if let Some(v) = input.canonical_url {
        state.canonical_url = v;
    }
    if let Some(v) = input.social_image_id {
        state.social_image_id = v;
    }
    editor.check(state, &mut errors)?;
    // Report everything at once: reference errors found here and field errors.
    match editorial::validate(conn, state).await {
        Ok(()) => {}
        Err(ApiError::Validation(more)) => {
            for e in more {
                if !errors.iter().any(|known| known.parameter == e.parameter) {
                    errors.push(e);
                }
            }
        }
        Err(other) => return Err(other),
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(ApiError::Validation(errors))
    }
}

fn workflow_of(row: &Article) -> Workflow {
    Workflow {
        status: row.status.clone(),
        published_at: row.published_at,
        first_published_at: row.first_published_at,
    }
}

/// Saves an article as one change: the write, its revision and audit
/// row, and the purge of what readers saw before and see after.
#[allow(clippy::too_many_arguments)]
async fn save(
    state: &AppState,
    conn: &mut AsyncPgConnection,
    actor: i64,
    id: Option<i64>,
    expected_version: i32,
    editable: &Editable,
    workflow: &Workflow,
    action: &str,
) -> ApiResult<Article> {
    state
        .change(conn, async |conn, change| {
            let before = match id {
                Some(id) => change::shown(conn, id, Utc::now()).await?,
                None => None,
            };
            let saved = editorial::save(
                conn,
                actor,
                id,
                expected_version,
                editable,
                workflow,
                action,
            )
            .await?;
            change.article(conn, saved.id, before).await?;
            Ok(saved)
        })
        .await
}

async fn load_for_edit(conn: &mut AsyncPgConnection, id: i64) -> ApiResult<Article> {
    editorial::find_any(conn, id)
        .await?
        .ok_or_else(|| ApiError::not_found("article", id.to_string()))
}

/// Create an article (as a draft).
#[utoipa::path(
    operation_id = "create_article",
    tag = "admin",
    security(("bearer" = [])),
    request_body = ArticleInput,
    responses(
        (status = 201, description = "Created, as a draft", body = AdminArticle),
        (status = 400, description = "Malformed JSON", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The slug is another article's, now or before", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields, each listed", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/admin/articles")]
pub async fn create_article(
    state: web::Data<AppState>,
    staff: Staff,
    body: web::Json<ArticleInput>,
) -> ApiResult<HttpResponse> {
    let mut conn = state.conn().await?;
    let mut editable = Editable {
        language: "vi".into(),
        author_ids: staff.author_id.into_iter().collect(),
        ..Editable::default()
    };
    let slug_given = body.slug.is_some();
    let editor = Editor {
        staff: &staff,
        site_url: &state.settings.site_url,
        byline: Vec::new(),
    };
    apply(&mut conn, &mut editable, body.into_inner(), true, &editor).await?;
    if !slug_given {
        editable.slug = editorial::free_slug(&mut conn, &editable.slug, None).await?;
    }
    let workflow = Workflow {
        status: "draft".into(),
        published_at: None,
        first_published_at: None,
    };
    let saved = save(
        &state, &mut conn, staff.id, None, 0, &editable, &workflow, "create",
    )
    .await?;
    let view = admin_view(&mut conn, &state.settings, saved).await?;
    Ok(respond(actix_web::http::StatusCode::CREATED, view))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AdminListQuery {
    /// `draft`, `scheduled`, `published` or `archived`.
    #[param(value_type = Option<ArticleStatusParam>, inline, example = "draft")]
    status: Option<String>,
    /// Words of the title (case-insensitive).
    #[param(example = "bình đẳng")]
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
    /// Published (or scheduled) at or after this RFC 3339 time.
    #[param(value_type = Option<String>, format = DateTime, example = "2023-11-15T00:00:00+07:00")]
    published_after: Option<String>,
    /// Published (or scheduled) before this RFC 3339 time.
    #[param(value_type = Option<String>, format = DateTime, example = "2023-11-16T00:00:00+07:00")]
    published_before: Option<String>,
    /// Page size, 1 to 100; default 20.
    #[param(value_type = Option<i64>, minimum = 1, maximum = 100, example = 20)]
    limit: Option<String>,
    /// `next_cursor` of the previous page (opaque; only the server's own
    /// cursors are accepted).
    #[param(
        pattern = "^[A-Za-z0-9_-]+$",
        min_length = 1,
        max_length = 400,
        example = "MXxhZG1pbnwxNzAwMDAwMDAwMDAwMDAwfDE"
    )]
    cursor: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AdminArticleList {
    pub items: Vec<AdminArticleSummary>,
    pub next_cursor: Option<String>,
}

/// One row of the admin list (selected straight from the table).
#[derive(Debug, Serialize, ToSchema, diesel::Queryable, diesel::Selectable)]
#[diesel(table_name = crate::schema::articles)]
pub struct AdminArticleSummary {
    pub id: i64,
    pub slug: String,
    pub title: String,
    pub status: String,
    pub published_at: Option<DateTime<Utc>>,
    pub updated_at: DateTime<Utc>,
    pub version: i32,
}

/// List articles of any status, recently updated first (contributors see
/// only their own).
#[utoipa::path(
    operation_id = "list_admin_articles",
    tag = "admin",
    security(("bearer" = [])),
    params(AdminListQuery),
    responses(
        (status = 200, description = "A page of articles", body = AdminArticleList),
        (status = 400, description = "A parameter is invalid", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "The `category`, `tag` or `author` does not exist", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/admin/articles")]
pub async fn list_admin_articles(
    state: web::Data<AppState>,
    staff: Staff,
    query: web::Query<AdminListQuery>,
) -> ApiResult<HttpResponse> {
    use crate::schema::articles;
    use diesel::prelude::*;
    use diesel_async::RunQueryDsl;
    let limit = params::limit(
        query.limit.as_deref(),
        params::DEFAULT_LIMIT,
        params::MAX_LIMIT,
    )?;
    let after = query
        .cursor
        .as_deref()
        .map(|c| cursor::Cursor::decode(c, "admin"))
        .transpose()?;
    let mut conn = state.conn().await?;
    let (_, filter) = crate::api::articles::resolve_filter(
        &state,
        &conn,
        crate::api::articles::FilterArgs {
            category: query.category.as_deref(),
            tag: query.tag.as_deref(),
            author: query.author.as_deref(),
            published_after: query.published_after.as_deref(),
            published_before: query.published_before.as_deref(),
        },
    )
    .await?;
    let mut q = crate::models::article::apply_filter(articles::table.into_boxed(), &filter);
    if staff.role == Role::Contributor {
        q = q.filter(articles::created_by.eq(staff.id));
    }
    if let Some(status) = &query.status {
        if !["draft", "scheduled", "published", "archived"].contains(&status.as_str()) {
            return Err(ApiError::invalid(
                "status",
                "must be draft, scheduled, published or archived",
            ));
        }
        q = q.filter(articles::status.eq(status.clone()));
    }
    if let Some(words) = query.q.as_deref().map(str::trim).filter(|w| !w.is_empty()) {
        let escaped = words
            .replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_");
        q = q.filter(articles::title.ilike(format!("%{escaped}%")));
    }
    if let Some(c) = after {
        q = q.filter(
            diesel::dsl::sql::<diesel::sql_types::Bool>("(articles.updated_at, articles.id) < (")
                .bind::<diesel::sql_types::Timestamptz, _>(c.at)
                .sql(", ")
                .bind::<diesel::sql_types::BigInt, _>(c.id)
                .sql(")"),
        );
    }
    let mut items: Vec<AdminArticleSummary> = q
        .order((articles::updated_at.desc(), articles::id.desc()))
        .limit(limit + 1)
        .select(AdminArticleSummary::as_select())
        .load(&mut conn)
        .await?;
    let next_cursor = if items.len() as i64 > limit {
        items.truncate(limit as usize);
        items
            .last()
            .map(|r| cursor::Cursor::new("admin", r.updated_at, r.id).encode())
    } else {
        None
    };
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(AdminArticleList { items, next_cursor }))
}

/// Get an article of any status (contributors: only their own).
#[utoipa::path(
    operation_id = "get_admin_article",
    tag = "admin",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "The article's id", minimum = 1, maximum = 9223372036854775807_i64, example = 1)),
    responses(
        (status = 200, description = "The article; `ETag` carries its version", body = AdminArticle),
        (status = 400, description = "The id is invalid", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "A contributor asking for another's article", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such article", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/admin/articles/{id}")]
pub async fn get_admin_article(
    state: web::Data<AppState>,
    staff: Staff,
    path: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let id = params::positive("id", &path)?;
    let mut conn = state.conn().await?;
    let row = load_for_edit(&mut conn, id).await?;
    if staff.role == Role::Contributor && row.created_by != Some(staff.id) {
        return Err(ApiError::Forbidden(
            "contributors see only their own articles".into(),
        ));
    }
    let view = admin_view(&mut conn, &state.settings, row).await?;
    Ok(respond(actix_web::http::StatusCode::OK, view))
}

async fn update(
    state: &AppState,
    staff: &Staff,
    req: &HttpRequest,
    raw_id: &str,
    input: ArticleInput,
    replace: bool,
) -> ApiResult<HttpResponse> {
    let id = params::positive("id", raw_id)?;
    let expected = expected_version(req, input.version)?;
    let mut conn = state.conn().await?;
    let row = load_for_edit(&mut conn, id).await?;
    let owner = row.created_by;
    may_edit(staff, owner, &row.status)?;
    let current = Editable::load(&mut conn, &row).await?;
    let editor = Editor {
        staff,
        site_url: &state.settings.site_url,
        byline: current.author_ids.clone(),
    };
    let mut editable = if replace {
        Editable {
            slug: row.slug.clone(),
            language: "vi".into(),
            category_id: row.category_id,
            ..Editable::default()
        }
    } else {
        current
    };
    apply(&mut conn, &mut editable, input, replace, &editor).await?;
    let workflow = workflow_of(&row);
    let saved = save(
        state,
        &mut conn,
        staff.id,
        Some(id),
        expected,
        &editable,
        &workflow,
        "update",
    )
    .await?;
    let view = admin_view(&mut conn, &state.settings, saved).await?;
    Ok(respond(actix_web::http::StatusCode::OK, view))
}

/// Change some fields of an article.
///
/// Send `If-Match` with the ETag you read (or `version` in the body). If
/// someone saved in between, the answer is 412 and nothing changes: reload,
/// merge, and save again.
#[utoipa::path(
    operation_id = "update_article",
    tag = "admin",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "The article's id", minimum = 1, maximum = 9223372036854775807_i64, example = 1)),
    request_body = ArticleInput,
    responses(
        (status = 200, description = "Saved; the new version is in `ETag`", body = AdminArticle),
        (status = 400, description = "Malformed JSON or `If-Match`", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The role does not allow it", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such article", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "The article changed since that version", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The slug is another article's, now or before", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields, each listed", body = Problem, content_type = "application/problem+json"),
        (status = 428, description = "No version was given", body = Problem, content_type = "application/problem+json"),
    )
)]
#[patch("/admin/articles/{id}")]
pub async fn update_article(
    state: web::Data<AppState>,
    staff: Staff,
    req: HttpRequest,
    path: web::Path<String>,
    body: web::Json<ArticleInput>,
) -> ApiResult<HttpResponse> {
    update(&state, &staff, &req, &path, body.into_inner(), false).await
}

/// Replace an article's content.
///
/// Like PATCH, but fields left out take their defaults; `title` and
/// `category` are required.
#[utoipa::path(
    operation_id = "replace_article",
    tag = "admin",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "The article's id", minimum = 1, maximum = 9223372036854775807_i64, example = 1)),
    request_body = ArticleInput,
    responses(
        (status = 200, description = "Saved; the new version is in `ETag`", body = AdminArticle),
        (status = 400, description = "Malformed JSON or `If-Match`", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The role does not allow it", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such article", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "The article changed since that version", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The slug is another article's, now or before", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields, each listed", body = Problem, content_type = "application/problem+json"),
        (status = 428, description = "No version was given", body = Problem, content_type = "application/problem+json"),
    )
)]
#[put("/admin/articles/{id}")]
pub async fn replace_article(
    state: web::Data<AppState>,
    staff: Staff,
    req: HttpRequest,
    path: web::Path<String>,
    body: web::Json<ArticleInput>,
) -> ApiResult<HttpResponse> {
    update(&state, &staff, &req, &path, body.into_inner(), true).await
}

/// A workflow change: new status and times, same content.
async fn transition(
    state: &AppState,
    staff: &Staff,
    req: &HttpRequest,
    raw_id: &str,
    action: &'static str,
    at: Option<DateTime<Utc>>,
) -> ApiResult<HttpResponse> {
    let id = params::positive("id", raw_id)?;
    let mut conn = state.conn().await?;
    let row = load_for_edit(&mut conn, id).await?;
    let owner = row.created_by;
    let expected = match req.headers().get(header::IF_MATCH) {
        Some(_) => expected_version(req, None)?,
        None => row.version,
    };
    let now = Utc::now();
    let workflow = match action {
        "publish" => {
            may_publish(staff, owner)?;
            // published_at is set on first publish and kept afterwards.
            let published_at = row
                .first_published_at
                .or(row.published_at.filter(|t| *t <= now))
                .unwrap_or(now);
            Workflow {
                status: "published".into(),
                published_at: Some(published_at),
                first_published_at: Some(row.first_published_at.unwrap_or(published_at)),
            }
        }
        "schedule" => {
            may_publish(staff, owner)?;
            let at = at.ok_or_else(|| ApiError::validation("at", "is required"))?;
            if at <= now {
                return Err(ApiError::validation(
                    "at",
                    "must be in the future; publish instead",
                ));
            }
            Workflow {
                status: "scheduled".into(),
                published_at: Some(at),
                first_published_at: row.first_published_at,
            }
        }
        "unpublish" => {
            may_publish(staff, owner)?;
            Workflow {
                status: "draft".into(),
                published_at: row.published_at,
                first_published_at: row.first_published_at,
            }
        }
        _ => {
            // archive
            if !(staff.role >= Role::Editor
                || (staff.role == Role::Author && owner == Some(staff.id)))
            {
                return Err(ApiError::Forbidden(
                    "deleting another's article takes the editor role".into(),
                ));
            }
            Workflow {
                status: "archived".into(),
                published_at: row.published_at,
                first_published_at: row.first_published_at,
            }
        }
    };
    let editable = Editable::load(&mut conn, &row).await?;
    let saved = save(
        state,
        &mut conn,
        staff.id,
        Some(id),
        expected,
        &editable,
        &workflow,
        action,
    )
    .await?;
    let view = admin_view(&mut conn, &state.settings, saved).await?;
    Ok(respond(actix_web::http::StatusCode::OK, view))
}

/// Publish now (keeps the first publication time of a re-published article).
#[utoipa::path(
    operation_id = "publish_article",
    tag = "admin",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "The article's id", minimum = 1, maximum = 9223372036854775807_i64, example = 1)),
    responses(
        (status = 200, description = "Published", body = AdminArticle),
        (status = 400, description = "The id is not a positive integer, or the body is not valid JSON for this endpoint", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The role does not allow it", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such article", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Its slug is now another article's, now or before", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "`If-Match` names an old version", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/admin/articles/{id}/publish")]
pub async fn publish_article(
    state: web::Data<AppState>,
    staff: Staff,
    req: HttpRequest,
    path: web::Path<String>,
) -> ApiResult<HttpResponse> {
    transition(&state, &staff, &req, &path, "publish", None).await
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"at": "2030-01-01T08:00:00+07:00"}))]
pub struct ScheduleRequest {
    /// When it becomes public (RFC 3339, in the future).
    pub at: DateTime<chrono::FixedOffset>,
}

/// Schedule publication: public at `at`, with no job having to run.
#[utoipa::path(
    operation_id = "schedule_article",
    tag = "admin",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "The article's id", minimum = 1, maximum = 9223372036854775807_i64, example = 1)),
    request_body = ScheduleRequest,
    responses(
        (status = 200, description = "Scheduled", body = AdminArticle),
        (status = 400, description = "Malformed JSON", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The role does not allow it", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such article", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Its slug is now another article's, now or before", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "The article changed meanwhile, or `If-Match` names an old version", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`at` is not in the future", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/admin/articles/{id}/schedule")]
pub async fn schedule_article(
    state: web::Data<AppState>,
    staff: Staff,
    req: HttpRequest,
    path: web::Path<String>,
    body: web::Json<ScheduleRequest>,
) -> ApiResult<HttpResponse> {
    let at = body.at.with_timezone(&Utc);
    transition(&state, &staff, &req, &path, "schedule", Some(at)).await
}

/// Take an article back to draft.
#[utoipa::path(
    operation_id = "unpublish_article",
    tag = "admin",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "The article's id", minimum = 1, maximum = 9223372036854775807_i64, example = 1)),
    responses(
        (status = 200, description = "Back to draft", body = AdminArticle),
        (status = 400, description = "The id is not a positive integer, or the body is not valid JSON for this endpoint", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The role does not allow it", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such article", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Its slug is now another article's, now or before", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "The article changed meanwhile, or `If-Match` names an old version", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/admin/articles/{id}/unpublish")]
pub async fn unpublish_article(
    state: web::Data<AppState>,
    staff: Staff,
    req: HttpRequest,
    path: web::Path<String>,
) -> ApiResult<HttpResponse> {
    transition(&state, &staff, &req, &path, "unpublish", None).await
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct DeleteQuery {
    /// `true` removes the article for good (admins only).
    #[param(value_type = Option<bool>, example = false)]
    hard: Option<String>,
}

/// Delete an article: archive it, or with `hard=true` remove it (admins).
#[utoipa::path(
    operation_id = "delete_article",
    tag = "admin",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "The article's id", minimum = 1, maximum = 9223372036854775807_i64, example = 1), DeleteQuery),
    responses(
        (status = 200, description = "Archived", body = AdminArticle),
        (status = 204, description = "Removed for good"),
        (status = 400, description = "The id is not a positive integer, or the body is not valid JSON for this endpoint", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The role does not allow it", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such article", body = Problem, content_type = "application/problem+json"),
    )
)]
#[delete("/admin/articles/{id}")]
pub async fn delete_article(
    state: web::Data<AppState>,
    staff: Staff,
    req: HttpRequest,
    path: web::Path<String>,
    query: web::Query<DeleteQuery>,
) -> ApiResult<HttpResponse> {
    if params::boolean("hard", query.hard.as_deref())? == Some(true) {
        use crate::schema::articles;
        use diesel::prelude::*;
        use diesel_async::RunQueryDsl;
        staff.require(Role::Admin, "delete articles for good")?;
        let id = params::positive("id", &path)?;
        let mut conn = state.conn().await?;
        let removed = state
            .change(&mut conn, async |conn, change| {
                let before = change::shown(conn, id, chrono::Utc::now()).await?;
                let n = diesel::delete(articles::table.find(id))
                    .execute(conn)
                    .await?;
                if n > 0 {
                    audit::record(
                        conn,
                        Some(staff.id),
                        "hard_delete",
                        "article",
                        Some(id),
                        serde_json::json!({}),
                    )
                    .await?;
                    change.article(conn, id, before).await?;
                }
                Ok(n)
            })
            .await?;
        if removed == 0 {
            return Err(ApiError::not_found("article", id.to_string()));
        }
        return Ok(HttpResponse::NoContent().finish());
    }
    transition(&state, &staff, &req, &path, "archive", None).await
}

/// One saved version of an article.
#[derive(Debug, Serialize, ToSchema)]
pub struct RevisionView {
    pub number: i32,
    pub created_by: Option<i64>,
    pub created_at: DateTime<Utc>,
    /// The full content as saved (only in `GET …/revisions/{n}`).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub content: Option<serde_json::Value>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RevisionList {
    pub items: Vec<RevisionView>,
}

async fn visible_to_editor(
    conn: &mut AsyncPgConnection,
    staff: &Staff,
    id: i64,
) -> ApiResult<Article> {
    let row = load_for_edit(conn, id).await?;
    let owner = row.created_by;
    if staff.role < Role::Editor && owner != Some(staff.id) {
        return Err(ApiError::Forbidden(
            "only editors see the revisions of others' articles".into(),
        ));
    }
    Ok(row)
}

/// The revisions of an article, newest first.
#[utoipa::path(
    operation_id = "list_article_revisions",
    tag = "admin",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "The article's id", minimum = 1, maximum = 9223372036854775807_i64, example = 1)),
    responses(
        (status = 200, description = "Revisions", body = RevisionList),
        (status = 400, description = "The id is not a positive integer, or the body is not valid JSON for this endpoint", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not yours, and not an editor", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such article", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/admin/articles/{id}/revisions")]
pub async fn list_article_revisions(
    state: web::Data<AppState>,
    staff: Staff,
    path: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let id = params::positive("id", &path)?;
    let mut conn = state.conn().await?;
    visible_to_editor(&mut conn, &staff, id).await?;
    let items = editorial::revisions(&mut conn, id)
        .await?
        .into_iter()
        .map(|r| RevisionView {
            number: r.number,
            created_by: r.created_by,
            created_at: r.created_at,
            content: None,
        })
        .collect();
    Ok(HttpResponse::Ok().json(RevisionList { items }))
}

fn parse_revision(raw: &str) -> ApiResult<i32> {
    i32::try_from(params::positive("n", raw)?).map_err(|_| ApiError::invalid("n", "is too large"))
}

/// One revision with its full content.
#[utoipa::path(
    operation_id = "get_article_revision",
    tag = "admin",
    security(("bearer" = [])),
    params(
        ("id" = i64, Path, description = "The article's id", minimum = 1, maximum = 9223372036854775807_i64, example = 1),
        ("n" = i32, Path, description = "The revision number (the version it created)", minimum = 1, maximum = 2147483647, example = 2),
    ),
    responses(
        (status = 200, description = "The revision", body = RevisionView),
        (status = 400, description = "The id is not a positive integer, or the body is not valid JSON for this endpoint", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such article or revision", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/admin/articles/{id}/revisions/{n}")]
pub async fn get_article_revision(
    state: web::Data<AppState>,
    staff: Staff,
    path: web::Path<(String, String)>,
) -> ApiResult<HttpResponse> {
    let (raw_id, raw_n) = path.into_inner();
    let (id, n) = (params::positive("id", &raw_id)?, parse_revision(&raw_n)?);
    let mut conn = state.conn().await?;
    visible_to_editor(&mut conn, &staff, id).await?;
    let r = editorial::revision(&mut conn, id, n)
        .await?
        .ok_or_else(|| ApiError::not_found("revision", format!("{id}/{n}")))?;
    Ok(HttpResponse::Ok().json(RevisionView {
        number: r.number,
        created_by: r.created_by,
        created_at: r.created_at,
        content: Some(r.content),
    }))
}

/// Restore a revision's content as a new version (the workflow status stays).
#[utoipa::path(
    operation_id = "restore_article_revision",
    tag = "admin",
    security(("bearer" = [])),
    params(
        ("id" = i64, Path, description = "The article's id", minimum = 1, maximum = 9223372036854775807_i64, example = 1),
        ("n" = i32, Path, description = "The revision number", minimum = 1, maximum = 2147483647, example = 2),
    ),
    responses(
        (status = 200, description = "Restored as a new version", body = AdminArticle),
        (status = 400, description = "The id is not a positive integer, or the body is not valid JSON for this endpoint", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The role does not allow it", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such article or revision", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The revision's slug is now another article's, now or before", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "`If-Match` names an old version", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "The revision refers to something that no longer exists", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/admin/articles/{id}/revisions/{n}/restore")]
pub async fn restore_article_revision(
    state: web::Data<AppState>,
    staff: Staff,
    req: HttpRequest,
    path: web::Path<(String, String)>,
) -> ApiResult<HttpResponse> {
    let (raw_id, raw_n) = path.into_inner();
    let (id, n) = (params::positive("id", &raw_id)?, parse_revision(&raw_n)?);
    let mut conn = state.conn().await?;
    let row = load_for_edit(&mut conn, id).await?;
    let owner = row.created_by;
    may_edit(&staff, owner, &row.status)?;
    let r = editorial::revision(&mut conn, id, n)
        .await?
        .ok_or_else(|| ApiError::not_found("revision", format!("{id}/{n}")))?;
    let mut editable: Editable = serde_json::from_value(r.content["article"].clone())
        .map_err(|e| ApiError::Internal(anyhow::anyhow!("revision {id}/{n} is unreadable: {e}")))?;
    editable.slug = editorial::free_slug(&mut conn, &editable.slug, Some(id)).await?;
    editorial::validate(&mut conn, &mut editable).await?;
    let expected = match req.headers().get(header::IF_MATCH) {
        Some(_) => expected_version(&req, None)?,
        None => row.version,
    };
    let workflow = workflow_of(&row);
    let saved = save(
        &state,
        &mut conn,
        staff.id,
        Some(id),
        expected,
        &editable,
        &workflow,
        "restore",
    )
    .await?;
    let view = admin_view(&mut conn, &state.settings, saved).await?;
    Ok(respond(actix_web::http::StatusCode::OK, view))
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"id": 7, "at": "2026-11-29T03:00:00Z", "actor_id": 1, "action": "publish", "object_type": "article", "object_id": 12, "details": {"version": 3, "status": "published"}}))]
pub struct AuditEntryView {
    pub id: i64,
    pub at: DateTime<Utc>,
    pub actor_id: Option<i64>,
    pub action: String,
    pub object_type: String,
    pub object_id: Option<i64>,
    #[schema(value_type = Object)]
    pub details: serde_json::Value,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AuditList {
    pub items: Vec<AuditEntryView>,
    pub next_cursor: Option<String>,
}

/// The audit log, newest first (admins only).
#[utoipa::path(
    operation_id = "list_audit_entries",
    tag = "admin",
    security(("bearer" = [])),
    params(crate::api::tags::SlugPageQuery),
    responses(
        (status = 200, description = "A page of the audit log", body = AuditList),
        (status = 400, description = "A parameter is invalid", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/admin/audit")]
pub async fn list_audit_entries(
    state: web::Data<AppState>,
    staff: Staff,
    query: web::Query<crate::api::tags::SlugPageQuery>,
) -> ApiResult<HttpResponse> {
    staff.require(Role::Admin, "read the audit log")?;
    let limit = params::limit(
        query.limit.as_deref(),
        params::DEFAULT_LIMIT,
        params::MAX_LIMIT,
    )?;
    let after = query
        .cursor
        .as_deref()
        .map(|c| cursor::Cursor::decode(c, "audit"))
        .transpose()?;
    let mut conn = state.conn().await?;
    let mut rows = audit::page(&mut conn, after.map(|c| (c.at, c.id)), limit).await?;
    let next_cursor = if rows.len() as i64 > limit {
        rows.truncate(limit as usize);
        rows.last()
            .map(|r| cursor::Cursor::new("audit", r.at, r.id).encode())
    } else {
        None
    };
    let items = rows
        .into_iter()
        .map(|r| AuditEntryView {
            id: r.id,
            at: r.at,
            actor_id: r.actor_id,
            action: r.action,
            object_type: r.object_type,
            object_id: r.object_id,
            details: r.details,
        })
        .collect();
    Ok(HttpResponse::Ok().json(AuditList { items, next_cursor }))
}
