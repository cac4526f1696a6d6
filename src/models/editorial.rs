//! Writing articles: the editable state of an article, its validation, and
//! saving it with optimistic concurrency, a revision and an audit entry in
//! one transaction.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use serde::{Deserialize, Serialize};

use crate::domain::body::{Block, MediaSnapshot, has_unsafe_link, render, sanitize_inline};
use crate::domain::text;
use crate::error::{ApiError, ParameterError};
use crate::media::view::FocalPoint;
use crate::models::article::Article;
use crate::models::{audit, media};
use crate::schema::{
    article_authors, article_revisions, article_slugs, article_tags, articles, authors, categories,
    tags,
};
use crate::seed::Derived;

/// Everything an editor can change, as stored in a revision.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Editable {
    pub title: String,
    pub slug: String,
    pub summary: String,
    pub body: Vec<Block>,
    pub category_id: i64,
    pub tag_ids: Vec<i64>,
    pub author_ids: Vec<i64>,
    pub cover_media_id: Option<i64>,
    pub cover_caption: Option<String>,
    pub featured: bool,
    pub language: String,
    pub source: Option<String>,
    pub meta_title: Option<String>,
    pub meta_description: Option<String>,
    pub canonical_url: Option<String>,
    pub social_image_id: Option<i64>,
}

impl Editable {
    pub async fn load(conn: &mut AsyncPgConnection, row: &Article) -> QueryResult<Self> {
        let tag_ids = article_tags::table
            .filter(article_tags::article_id.eq(row.id))
            .select(article_tags::tag_id)
            .order(article_tags::tag_id)
            .load(conn)
            .await?;
        let author_ids = article_authors::table
            .filter(article_authors::article_id.eq(row.id))
            .order(article_authors::position)
            .select(article_authors::author_id)
            .load(conn)
            .await?;
        Ok(Self {
            title: row.title.clone(),
            slug: row.slug.clone(),
            summary: row.summary.clone(),
            body: serde_json::from_value(row.body.clone()).unwrap_or_default(),
            category_id: row.category_id,
            tag_ids,
            author_ids,
            cover_media_id: row.cover_media_id,
            cover_caption: row.cover_caption.clone(),
            featured: row.featured,
            language: row.language.clone(),
            source: row.source.clone(),
            meta_title: row.meta_title.clone(),
            meta_description: row.meta_description.clone(),
            canonical_url: row.canonical_url.clone(),
            social_image_id: row.social_image_id,
        })
    }
}

fn invalid(errors: &mut Vec<ParameterError>, field: impl Into<String>, reason: impl Into<String>) {
    errors.push(ParameterError {
        parameter: field.into(),
        reason: reason.into(),
    });
}

/// Most blocks, list items, and bytes of plain text a body may have; the
/// text bound keeps the search vectors under PostgreSQL's 1 MB limit.
pub const MAX_BLOCKS: usize = 500;
pub const MAX_LIST_ITEMS: usize = 200;
pub const MAX_BODY_TEXT_BYTES: usize = 300_000;

/// Checks every field, collecting every problem (nothing is written when
/// there is one), sanitises inline HTML and fills in image snapshots.
pub async fn validate(conn: &mut AsyncPgConnection, state: &mut Editable) -> Result<(), ApiError> {
    let mut errors = Vec::new();
    // PostgreSQL cannot store NUL in text: refuse it wherever it is.
    if serde_json::to_string(state).is_ok_and(|json| json.contains("\\u0000")) {
        return Err(ApiError::invalid(
            "request",
            "contains a character that cannot be stored (such as NUL, U+0000)",
        ));
    }
    let title_chars = state.title.trim().chars().count();
    if title_chars == 0 || title_chars > 300 {
        invalid(&mut errors, "title", "must be 1 to 300 characters");
    }
    state.title = state.title.trim().to_owned();
    if !text::is_slug(&state.slug) {
        invalid(
            &mut errors,
            "slug",
            "must be lowercase letters, digits and single hyphens, at most 200 characters",
        );
    }
    if state.summary.chars().count() > 2000 {
        invalid(&mut errors, "summary", "must be at most 2000 characters");
    }
    if !(2..=35).contains(&state.language.len())
        || !state
            .language
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-')
    {
        invalid(
            &mut errors,
            "language",
            "must be a language tag such as `vi`",
        );
    }
    if let Some(url) = &state.canonical_url
        && !text::is_http_url(url)
    {
        invalid(&mut errors, "canonical_url", "must be an http(s) URL");
    }
    if state.body.len() > MAX_BLOCKS {
        invalid(
            &mut errors,
            "body",
            format!("may have at most {MAX_BLOCKS} blocks"),
        );
        return Err(ApiError::Validation(errors));
    }

    let mut image_ids = Vec::new();
    for (i, block) in state.body.iter().enumerate() {
        let at = |field: &str| format!("body[{i}].{field}");
        let check_text = |errors: &mut Vec<ParameterError>, field: &str, t: &str| {
            if t.trim().is_empty() {
                invalid(errors, at(field), "must not be empty");
            } else if has_unsafe_link(t) {
                invalid(
                    errors,
                    at(field),
                    "contains a link with an unsafe scheme (javascript:, data:, …)",
                );
            }
        };
        match block {
            Block::Paragraph { text } => check_text(&mut errors, "text", text),
            Block::Heading { level, text } => {
                if !(2..=4).contains(level) {
                    invalid(&mut errors, at("level"), "must be 2, 3 or 4");
                }
                check_text(&mut errors, "text", text);
            }
            Block::List { items, .. } => {
                if items.is_empty() || items.len() > MAX_LIST_ITEMS {
                    invalid(
                        &mut errors,
                        at("items"),
                        format!("must have 1 to {MAX_LIST_ITEMS} items"),
                    );
                    continue;
                }
                for (j, item) in items.iter().enumerate() {
                    check_text(&mut errors, &format!("items[{j}]"), item);
                }
            }
            Block::Quote { text, citation } => {
                check_text(&mut errors, "text", text);
                if citation.as_deref().is_some_and(has_unsafe_link) {
                    invalid(
                        &mut errors,
                        at("citation"),
                        "contains a link with an unsafe scheme",
                    );
                }
            }
            Block::Image {
                media_id,
                caption,
                credit,
                ..
            } => {
                image_ids.push((i, *media_id));
                for (field, value) in [("caption", caption), ("credit", credit)] {
                    if value.as_deref().is_some_and(has_unsafe_link) {
                        invalid(
                            &mut errors,
                            at(field),
                            "contains a link with an unsafe scheme",
                        );
                    }
                }
            }
            Block::Embed { provider, url, .. } => {
                if provider.trim().is_empty() || provider.len() > 50 {
                    invalid(&mut errors, at("provider"), "must be 1 to 50 characters");
                }
                if !text::is_http_url(url) {
                    invalid(&mut errors, at("url"), "must be an http(s) URL");
                }
            }
        }
    }

    // References, checked in batches.
    let mut wanted_media: Vec<i64> = image_ids.iter().map(|(_, id)| *id).collect();
    wanted_media.extend(state.cover_media_id);
    wanted_media.extend(state.social_image_id);
    let found_media: HashMap<i64, media::Media> = media::by_ids(conn, &wanted_media)
        .await?
        .into_iter()
        .map(|m| (m.id, m))
        .collect();
    for (i, id) in &image_ids {
        if !found_media.contains_key(id) {
            invalid(
                &mut errors,
                format!("body[{i}].media_id"),
                format!("media {id} does not exist"),
            );
        }
    }
    if let Some(id) = state
        .cover_media_id
        .filter(|id| !found_media.contains_key(id))
    {
        invalid(
            &mut errors,
            "cover_media_id",
            format!("media {id} does not exist"),
        );
    }
    if let Some(id) = state
        .social_image_id
        .filter(|id| !found_media.contains_key(id))
    {
        invalid(
            &mut errors,
            "social_image_id",
            format!("media {id} does not exist"),
        );
    }
    let category_exists: bool = diesel::select(diesel::dsl::exists(
        categories::table.find(state.category_id),
    ))
    .get_result(conn)
    .await?;
    if !category_exists {
        invalid(&mut errors, "category", "does not exist");
    }
    if errors.is_empty() && render(&state.body).text.len() > MAX_BODY_TEXT_BYTES {
        invalid(
            &mut errors,
            "body",
            format!("may hold at most {MAX_BODY_TEXT_BYTES} bytes of text"),
        );
    }
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }

    // Plain-text fields never carry markup; inline HTML fields are sanitised.
    let defuse = |v: &mut String| *v = text::defuse_markup(v);
    defuse(&mut state.title);
    defuse(&mut state.summary);
    for v in [
        &mut state.cover_caption,
        &mut state.source,
        &mut state.meta_title,
        &mut state.meta_description,
    ]
    .into_iter()
    .flatten()
    {
        defuse(v);
    }
    for block in &mut state.body {
        match block {
            Block::Paragraph { text } | Block::Heading { text, .. } => {
                *text = sanitize_inline(text)
            }
            Block::Quote { text, citation } => {
                *text = sanitize_inline(text);
                if let Some(c) = citation {
                    *c = sanitize_inline(c);
                }
            }
            Block::List { items, .. } => items
                .iter_mut()
                .for_each(|item| *item = sanitize_inline(item)),
            Block::Image {
                media_id,
                media,
                caption,
                credit,
            } => {
                if let Some(c) = credit {
                    *c = sanitize_inline(c);
                }
                let m = &found_media[media_id];
                let mut snapshot = MediaSnapshot::new(
                    m.url.clone(),
                    m.alt.clone(),
                    m.width,
                    m.height,
                    m.mime_type.clone(),
                );
                // Renditions are worked out when the article is read, from
                // the URL's content hash, the size and the focal point.
                snapshot.placeholder = m.placeholder.clone();
                snapshot.focal_point = FocalPoint {
                    x: m.focal_x,
                    y: m.focal_y,
                };
                *media = Some(snapshot);
                if let Some(c) = caption {
                    *c = sanitize_inline(c);
                }
            }
            Block::Embed {
                provider, title, ..
            } => {
                defuse(provider);
                if let Some(t) = title {
                    defuse(t);
                }
            }
        }
    }
    Ok(())
}

/// Ids for slugs; every unknown slug is reported under `field[i]`.
pub async fn resolve_slugs(
    conn: &mut AsyncPgConnection,
    field: &str,
    slugs: &[String],
    errors: &mut Vec<ParameterError>,
) -> QueryResult<Vec<i64>> {
    let found: HashMap<String, i64> = if field == "tags" {
        tags::table
            .filter(tags::slug.eq_any(slugs))
            .select((tags::slug, tags::id))
            .load(conn)
            .await?
    } else {
        authors::table
            .filter(authors::slug.eq_any(slugs))
            .select((authors::slug, authors::id))
            .load(conn)
            .await?
    }
    .into_iter()
    .collect();
    let mut ids = Vec::new();
    for (i, slug) in slugs.iter().enumerate() {
        match found.get(slug) {
            Some(id) if !ids.contains(id) => ids.push(*id),
            Some(_) => invalid(errors, format!("{field}[{i}]"), "is listed twice"),
            None => invalid(
                errors,
                format!("{field}[{i}]"),
                format!("`{slug}` does not exist"),
            ),
        }
    }
    Ok(ids)
}

/// Article slugs that public routes use as literal path segments
/// (`/articles/id/…`, `/articles/most-read`).
pub const RESERVED_SLUGS: [&str; 2] = ["id", "most-read"];

/// A slug that no article uses now or used before and no route reserves:
/// `base`, `base-2`, …
pub async fn free_slug(
    conn: &mut AsyncPgConnection,
    base: &str,
    except: Option<i64>,
) -> QueryResult<String> {
    let base: String = base
        .chars()
        .take(180)
        .collect::<String>()
        .trim_end_matches('-')
        .to_owned();
    let base = if base.is_empty() {
        "bai-viet".to_owned()
    } else {
        base
    };
    for n in 1.. {
        let candidate = if n == 1 {
            base.clone()
        } else {
            format!("{base}-{n}")
        };
        let taken_now: Option<i64> = articles::table
            .filter(articles::slug.eq(&candidate))
            .select(articles::id)
            .first(conn)
            .await
            .optional()?;
        let taken_before: Option<i64> = article_slugs::table
            .filter(article_slugs::slug.eq(&candidate))
            .select(article_slugs::article_id)
            .first(conn)
            .await
            .optional()?;
        let taken = RESERVED_SLUGS.contains(&candidate.as_str())
            || taken_now
                .or(taken_before)
                .is_some_and(|id| Some(id) != except);
        if !taken {
            return Ok(candidate);
        }
    }
    unreachable!("some suffix is free")
}

/// Refuses a slug that a route reserves, that another article has, or that
/// another article had (its old address must keep redirecting there).
async fn check_slug_is_free(
    conn: &mut AsyncPgConnection,
    slug: &str,
    id: Option<i64>,
) -> Result<(), ApiError> {
    if RESERVED_SLUGS.contains(&slug) {
        return Err(ApiError::validation(
            "slug",
            format!("`{slug}` is reserved by the API's own routes"),
        ));
    }
    let now: Option<i64> = articles::table
        .filter(articles::slug.eq(slug))
        .select(articles::id)
        .first(conn)
        .await
        .optional()?;
    let before: Option<i64> = article_slugs::table
        .filter(article_slugs::slug.eq(slug))
        .select(article_slugs::article_id)
        .first(conn)
        .await
        .optional()?;
    if now.is_some_and(|other| Some(other) != id) {
        return Err(ApiError::Conflict(format!(
            "another article has the slug `{slug}`"
        )));
    }
    if before.is_some_and(|other| Some(other) != id) {
        return Err(ApiError::Conflict(format!(
            "`{slug}` was another article's address and still leads to it"
        )));
    }
    Ok(())
}

/// Where an article moved to, for a slug it used to have.
pub async fn moved_to(conn: &mut AsyncPgConnection, old_slug: &str) -> QueryResult<Option<String>> {
    article_slugs::table
        .inner_join(articles::table)
        .filter(article_slugs::slug.eq(old_slug))
        .select(articles::slug)
        .first(conn)
        .await
        .optional()
}

/// Workflow fields that a save sets alongside the editable ones.
#[derive(Debug, Clone)]
pub struct Workflow {
    pub status: String,
    pub published_at: Option<DateTime<Utc>>,
    pub first_published_at: Option<DateTime<Utc>>,
}

/// Writes `state` as the next version of article `id` (or a new article when
/// `id` is None), if its version is still `expected_version`. Stores a
/// revision and an audit entry. Call inside a transaction.
pub async fn save(
    conn: &mut AsyncPgConnection,
    actor: i64,
    id: Option<i64>,
    expected_version: i32,
    state: &Editable,
    workflow: &Workflow,
    action: &str,
) -> Result<Article, ApiError> {
    check_slug_is_free(conn, &state.slug, id).await?;
    let derived = Derived::new(&state.summary, &state.body);
    let now = Utc::now();
    let row = (
        articles::slug.eq(&state.slug),
        articles::title.eq(&state.title),
        articles::summary.eq(&state.summary),
        articles::body.eq(&derived.body),
        articles::body_html.eq(&derived.html),
        articles::body_text.eq(&derived.text),
        articles::excerpt.eq(&derived.excerpt),
        articles::word_count.eq(derived.word_count),
        articles::reading_time_minutes.eq(derived.reading_time_minutes),
        articles::cover_media_id.eq(state.cover_media_id),
        articles::cover_caption.eq(&state.cover_caption),
        articles::category_id.eq(state.category_id),
        articles::featured.eq(state.featured),
        articles::language.eq(&state.language),
        articles::source.eq(&state.source),
        articles::meta_title.eq(&state.meta_title),
        articles::meta_description.eq(&state.meta_description),
        articles::canonical_url.eq(&state.canonical_url),
        articles::social_image_id.eq(state.social_image_id),
    );
    let workflow_row = (
        articles::status.eq(&workflow.status),
        articles::published_at.eq(workflow.published_at),
        articles::first_published_at.eq(workflow.first_published_at),
        articles::updated_at.eq(now),
    );
    let saved: Article = match id {
        None => {
            diesel::insert_into(articles::table)
                .values((
                    row,
                    workflow_row,
                    articles::created_by.eq(actor),
                    articles::created_at.eq(now),
                ))
                .returning(Article::as_returning())
                .get_result(conn)
                .await?
        }
        Some(id) => {
            let previous_slug: Option<(String, Option<DateTime<Utc>>)> = articles::table
                .find(id)
                .select((articles::slug, articles::first_published_at))
                .first(conn)
                .await
                .optional()?;
            let updated: Option<Article> = diesel::update(
                articles::table
                    .filter(articles::id.eq(id))
                    .filter(articles::version.eq(expected_version)),
            )
            .set((
                row,
                workflow_row,
                articles::version.eq(articles::version + 1),
            ))
            .returning(Article::as_returning())
            .get_result(conn)
            .await
            .optional()?;
            let Some(updated) = updated else {
                let current: Option<i32> = articles::table
                    .find(id)
                    .select(articles::version)
                    .first(conn)
                    .await
                    .optional()?;
                return Err(match current {
                    Some(current) => ApiError::VersionMismatch {
                        sent: expected_version,
                        current,
                    },
                    None => ApiError::not_found("article", id.to_string()),
                });
            };
            // A published article's old address keeps answering, with a redirect.
            if let Some((old, Some(_))) = previous_slug
                && old != updated.slug
            {
                diesel::insert_into(article_slugs::table)
                    .values((
                        article_slugs::slug.eq(&old),
                        article_slugs::article_id.eq(id),
                    ))
                    .on_conflict(article_slugs::slug)
                    .do_update()
                    .set(article_slugs::article_id.eq(id))
                    .execute(conn)
                    .await?;
            }
            // Its own former address, taken back: no longer a redirect.
            diesel::delete(
                article_slugs::table
                    .filter(article_slugs::slug.eq(&updated.slug))
                    .filter(article_slugs::article_id.eq(id)),
            )
            .execute(conn)
            .await?;
            updated
        }
    };

    diesel::delete(article_tags::table.filter(article_tags::article_id.eq(saved.id)))
        .execute(conn)
        .await?;
    let tag_rows: Vec<_> = state
        .tag_ids
        .iter()
        .map(|&tag_id| {
            (
                article_tags::article_id.eq(saved.id),
                article_tags::tag_id.eq(tag_id),
            )
        })
        .collect();
    diesel::insert_into(article_tags::table)
        .values(&tag_rows)
        .execute(conn)
        .await?;
    diesel::delete(article_authors::table.filter(article_authors::article_id.eq(saved.id)))
        .execute(conn)
        .await?;
    let author_rows: Vec<_> = state
        .author_ids
        .iter()
        .enumerate()
        .map(|(position, &author_id)| {
            (
                article_authors::article_id.eq(saved.id),
                article_authors::author_id.eq(author_id),
                article_authors::position.eq(position as i32),
            )
        })
        .collect();
    diesel::insert_into(article_authors::table)
        .values(&author_rows)
        .execute(conn)
        .await?;

    let snapshot = serde_json::json!({
        "article": state,
        "status": workflow.status,
        "published_at": workflow.published_at,
    });
    diesel::insert_into(article_revisions::table)
        .values((
            article_revisions::article_id.eq(saved.id),
            article_revisions::number.eq(saved.version),
            article_revisions::created_by.eq(actor),
            article_revisions::content.eq(&snapshot),
        ))
        .execute(conn)
        .await?;
    audit::record(
        conn,
        Some(actor),
        action,
        "article",
        Some(saved.id),
        serde_json::json!({"version": saved.version, "status": saved.status}),
    )
    .await?;
    Ok(saved)
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = article_revisions)]
pub struct Revision {
    pub number: i32,
    pub created_by: Option<i64>,
    pub created_at: DateTime<Utc>,
    pub content: serde_json::Value,
}

pub async fn revisions(
    conn: &mut AsyncPgConnection,
    article_id: i64,
) -> QueryResult<Vec<Revision>> {
    article_revisions::table
        .filter(article_revisions::article_id.eq(article_id))
        .order(article_revisions::number.desc())
        .select(Revision::as_select())
        .load(conn)
        .await
}

pub async fn revision(
    conn: &mut AsyncPgConnection,
    article_id: i64,
    number: i32,
) -> QueryResult<Option<Revision>> {
    article_revisions::table
        .filter(article_revisions::article_id.eq(article_id))
        .filter(article_revisions::number.eq(number))
        .select(Revision::as_select())
        .first(conn)
        .await
        .optional()
}

pub async fn find_any(conn: &mut AsyncPgConnection, id: i64) -> QueryResult<Option<Article>> {
    articles::table
        .find(id)
        .select(Article::as_select())
        .first(conn)
        .await
        .optional()
}
