//! Uploaded images: upload and replace a record's file (staff), and serve
//! originals and renditions under `/media/` (everyone).
//!
//! Serving reads the storage first, so a rendition made once costs one
//! read; a rendition not stored yet is made on its first request, by one
//! request only, while concurrent ones for the same URL wait for it.

use std::ops::Range;

use actix_web::http::StatusCode;
use actix_web::http::header;
use actix_web::web::{self, Bytes, BytesMut};
use actix_web::{HttpRequest, HttpResponse, post, put};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use futures_util::StreamExt;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use crate::api::auth::Staff;
use crate::api::{AppState, params};
use crate::auth::Role;
use crate::domain::{keys, text};
use crate::error::{ApiError, ApiResult, ParameterError, Problem};
use crate::media::process::Cleaned;
use crate::media::renditions::Decoded;
use crate::media::storage::ReadError;
use crate::media::{Planned, RenditionKey, Source, shipped};
use crate::models::audit;
use crate::models::media::{Media, NewStoredMedia};
use crate::schema::{authors, media};

/// `Cache-Control` of content-addressed files: they never change.
const IMMUTABLE: &str = "public, max-age=31536000, immutable";
/// Of other stored files (the demo's, at their historic paths).
const STABLE: &str = "public, max-age=86400";
/// Of a redirect from a crop around a focal point no longer set.
const MOVED: &str = "public, max-age=300";
/// Characters of alt text, captions and credits.
pub(crate) const MAX_TEXT: usize = 2000;

/// Alt text, caption and credit of an upload sent as a raw body.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UploadQuery {
    /// What the picture shows, for readers who cannot see it.
    #[param(example = "Lễ phát động tại KCN Đông Mai", max_length = 2000)]
    pub alt: Option<String>,
    /// The caption shown under the picture (inline HTML, as a paragraph's).
    #[param(example = "Quang cảnh lễ phát động.", max_length = 2000)]
    pub caption: Option<String>,
    /// Who took or owns the picture.
    #[param(example = "Báo Quảng Ninh", max_length = 2000)]
    pub credit: Option<String>,
}

/// A `multipart/form-data` upload.
#[derive(Debug, ToSchema)]
#[allow(dead_code)]
pub struct UploadForm {
    /// The image: JPEG, PNG, WebP or GIF (judged by its content).
    #[schema(value_type = String, format = Binary)]
    file: Vec<u8>,
    alt: Option<String>,
    caption: Option<String>,
    credit: Option<String>,
}

struct Upload {
    bytes: Bytes,
    text: UploadQuery,
}

/// Upload an image into the media library: `multipart/form-data` with a
/// `file` part (and `alt`, `caption`, `credit`), or the image itself as
/// the body with its `Content-Type` (text fields in the query string).
/// JPEG, PNG, WebP, AVIF (stored as JPEG, or PNG when transparent) or GIF
/// (its first frame, as PNG), judged by content; the orientation (EXIF,
/// or AVIF's `irot`/`imir`) is applied and all metadata (GPS included) is
/// stripped from the stored file.
#[utoipa::path(
    operation_id = "upload_media",
    tag = "admin",
    security(("bearer" = [])),
    params(UploadQuery),
    request_body(content(
        (UploadForm = "multipart/form-data"),
        (Vec<u8> = "image/jpeg"),
        (Vec<u8> = "image/png"),
        (Vec<u8> = "image/webp"),
        (Vec<u8> = "image/avif"),
        (Vec<u8> = "image/gif"),
    )),
    responses(
        (status = 201, description = "Stored", body = crate::views::MediaView),
        (status = 400, description = "A malformed form", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Contributors may not", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "More bytes than NEWSROOM_MEDIA_MAX_BYTES", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not a JPEG, PNG, WebP, AVIF or GIF image (judged by content)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Unreadable, truncated, or more pixels than NEWSROOM_MEDIA_MAX_PIXELS", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/admin/media/files")]
pub async fn upload_media(
    state: web::Data<AppState>,
    staff: Staff,
    req: HttpRequest,
    query: web::Query<UploadQuery>,
    payload: web::Payload,
) -> ApiResult<HttpResponse> {
    staff.require(Role::Author, "manage media")?;
    let upload = read_upload(&state, &req, query.into_inner(), payload).await?;
    let text = &upload.text;
    let alt = alt_text(text.alt.as_deref().unwrap_or(""));
    let caption = text.caption.as_deref().map(inline_html);
    let credit = text.credit.as_deref().map(inline_html);
    let cleaned = clean(&state, upload.bytes.clone()).await?;
    store_original(&state, &cleaned).await?;
    let key = cleaned.key();
    let url = format!("/media/{key}");
    let mut conn = state.conn().await?;
    let row = state
        .change(&mut conn, async |conn, change| {
            let row: Media = diesel::insert_into(media::table)
                .values(NewStoredMedia {
                    url: &url,
                    alt: &alt,
                    caption: caption.as_deref(),
                    credit: credit.as_deref(),
                    width: Some(cleaned.width as i32),
                    height: Some(cleaned.height as i32),
                    mime_type: cleaned.mime_type,
                    storage_key: Some(&key),
                    content_hash: Some(&cleaned.hash),
                    byte_size: Some(cleaned.bytes.len() as i64),
                    placeholder: Some(&cleaned.placeholder),
                })
                .returning(Media::as_returning())
                .get_result(conn)
                .await?;
            audit::record(
                conn,
                Some(staff.id),
                "upload",
                "media",
                Some(row.id),
                serde_json::json!({"bytes": cleaned.bytes.len(), "hash": cleaned.hash}),
            )
            .await?;
            change.purge(keys::media(row.id));
            Ok(row)
        })
        .await?;
    make_all_later(&state, &row, cleaned.bytes);
    Ok(respond(&state, StatusCode::CREATED, &row))
}

/// Replace a media record's file (same forms as the upload; alt text,
/// caption and credit change only when sent). Its renditions follow, at
/// new URLs; the focal point goes back to the centre. The old file stays
/// while article snapshots may still show it.
#[utoipa::path(
    operation_id = "replace_media_file",
    tag = "admin",
    security(("bearer" = [])),
    params(
        ("id" = i64, Path, description = "The media record's id", minimum = 1, maximum = 9223372036854775807_i64, example = 1),
        UploadQuery,
    ),
    request_body(content(
        (UploadForm = "multipart/form-data"),
        (Vec<u8> = "image/jpeg"),
        (Vec<u8> = "image/png"),
        (Vec<u8> = "image/webp"),
        (Vec<u8> = "image/avif"),
        (Vec<u8> = "image/gif"),
    )),
    responses(
        (status = 200, description = "Replaced", body = crate::views::MediaView),
        (status = 400, description = "A malformed form or a bad id", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Contributors may not; authors not on others' articles' media", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such media record", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "More bytes than NEWSROOM_MEDIA_MAX_BYTES", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not a JPEG, PNG, WebP, AVIF or GIF image (judged by content)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Unreadable, truncated, or more pixels than NEWSROOM_MEDIA_MAX_PIXELS", body = Problem, content_type = "application/problem+json"),
    )
)]
#[put("/admin/media/{id}/file")]
pub async fn replace_media_file(
    state: web::Data<AppState>,
    staff: Staff,
    path: web::Path<String>,
    req: HttpRequest,
    query: web::Query<UploadQuery>,
    payload: web::Payload,
) -> ApiResult<HttpResponse> {
    staff.require(Role::Author, "manage media")?;
    let id = params::positive("id", &path)?;
    let upload = read_upload(&state, &req, query.into_inner(), payload).await?;
    let text = upload.text;
    let cleaned = clean(&state, upload.bytes.clone()).await?;
    store_original(&state, &cleaned).await?;
    let key = cleaned.key();
    let url = format!("/media/{key}");
    let mut conn = state.conn().await?;
    let row = state
        .change(&mut conn, async |conn, change| {
            let current = lock_for_edit(conn, id, &staff).await?;
            let row: Media = diesel::update(media::table.find(id))
                .set((
                    media::url.eq(&url),
                    media::alt.eq(text.alt.as_deref().map_or(current.alt, alt_text)),
                    media::caption.eq(text.caption.as_deref().map(inline_html).or(current.caption)),
                    media::credit.eq(text.credit.as_deref().map(inline_html).or(current.credit)),
                    media::width.eq(Some(cleaned.width as i32)),
                    media::height.eq(Some(cleaned.height as i32)),
                    media::mime_type.eq(cleaned.mime_type),
                    media::storage_key.eq(Some(&key)),
                    media::content_hash.eq(Some(&cleaned.hash)),
                    media::byte_size.eq(Some(cleaned.bytes.len() as i64)),
                    media::placeholder.eq(Some(&cleaned.placeholder)),
                    media::focal_x.eq(0.5),
                    media::focal_y.eq(0.5),
                    media::updated_at.eq(chrono::Utc::now()),
                ))
                .returning(Media::as_returning())
                .get_result(conn)
                .await?;
            // Avatars name a file, not a record: those that named the old
            // file follow the record to the new one (as covers and image
            // blocks do), or they would point at a file no record
            // describes, without size or placeholder.
            if current.url != url && current.storage_key.is_some() {
                let old = [
                    current.url.clone(),
                    format!("{}{}", state.settings.site_url, current.url),
                ];
                let moved: Vec<i64> = diesel::update(authors::table)
                    .filter(authors::avatar_url.eq_any(&old))
                    .set((
                        authors::avatar_url.eq(&url),
                        authors::updated_at.eq(chrono::Utc::now()),
                    ))
                    .returning(authors::id)
                    .get_results(conn)
                    .await?;
                if !moved.is_empty() {
                    change.purge(keys::AUTHORS);
                }
                for author in moved {
                    change.purge(keys::author(author));
                }
            }
            audit::record(
                conn,
                Some(staff.id),
                "replace_file",
                "media",
                Some(id),
                serde_json::json!({"bytes": cleaned.bytes.len(), "hash": cleaned.hash, "previous": current.content_hash}),
            )
            .await?;
            change.purge(keys::media(id));
            Ok(row)
        })
        .await?;
    make_all_later(&state, &row, cleaned.bytes);
    Ok(respond(&state, StatusCode::OK, &row))
}

fn respond(state: &AppState, status: StatusCode, row: &Media) -> HttpResponse {
    let tree = crate::models::category::CategoryTree::default();
    let presenter = crate::views::Presenter {
        settings: &state.settings,
        tree: &tree,
    };
    HttpResponse::build(status)
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(presenter.media(row))
}

/// The upload's bytes (at most the configured number) and text fields.
async fn read_upload(
    state: &AppState,
    req: &HttpRequest,
    query: UploadQuery,
    mut payload: web::Payload,
) -> ApiResult<Upload> {
    let max = state.settings.media.max_bytes as usize;
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    let content_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    if content_type.starts_with("multipart/form-data") {
        // The form's own overhead is small next to the file.
        if declared.is_some_and(|n| n > max as u64 + 64 * 1024) {
            return Err(ApiError::PayloadTooLarge(max));
        }
        let mut form = actix_multipart::Multipart::new(req.headers(), payload);
        let mut upload = Upload {
            bytes: Bytes::new(),
            text: query,
        };
        let mut has_file = false;
        while let Some(field) = form.next().await {
            let mut field = field.map_err(|e| ApiError::MalformedBody(e.to_string()))?;
            let name = field.name().unwrap_or("").to_owned();
            let limit = if name == "file" { max } else { MAX_TEXT * 4 };
            let mut data = BytesMut::new();
            while let Some(chunk) = field.next().await {
                let chunk = chunk.map_err(|e| ApiError::MalformedBody(e.to_string()))?;
                if data.len() + chunk.len() > limit {
                    return Err(if name == "file" {
                        ApiError::PayloadTooLarge(max)
                    } else {
                        ApiError::validation(name, format!("must be at most {MAX_TEXT} characters"))
                    });
                }
                data.extend_from_slice(&chunk);
            }
            let text = || {
                String::from_utf8(data.to_vec())
                    .map_err(|_| ApiError::validation(name.clone(), "must be UTF-8 text"))
            };
            match name.as_str() {
                "file" => {
                    upload.bytes = data.freeze();
                    has_file = true;
                }
                "alt" => upload.text.alt = Some(text()?),
                "caption" => upload.text.caption = Some(text()?),
                "credit" => upload.text.credit = Some(text()?),
                _ => {}
            }
        }
        if !has_file {
            return Err(ApiError::validation("file", "the form has no `file` part"));
        }
        check_upload_text(&upload.text)?;
        return Ok(upload);
    }
    if declared.is_some_and(|n| n > max as u64) {
        return Err(ApiError::PayloadTooLarge(max));
    }
    let mut data = BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|e| ApiError::MalformedBody(e.to_string()))?;
        if data.len() + chunk.len() > max {
            return Err(ApiError::PayloadTooLarge(max));
        }
        data.extend_from_slice(&chunk);
    }
    if data.is_empty() {
        return Err(ApiError::validation(
            "body",
            "send the image as the body, or as the `file` part of a multipart/form-data form",
        ));
    }
    check_upload_text(&query)?;
    Ok(Upload {
        bytes: data.freeze(),
        text: query,
    })
}

/// Alt text as stored: plain text that never opens a tag.
pub(crate) fn alt_text(alt: &str) -> String {
    text::defuse_markup(alt.trim())
}

/// A caption or credit as stored: inline HTML, sanitised as a paragraph's.
pub(crate) fn inline_html(value: &str) -> String {
    crate::domain::body::sanitize_inline(value.trim())
}

/// Alt text, captions and credits, whether uploaded or written as JSON:
/// at most `MAX_TEXT` characters each, checked before any is sanitised.
pub(crate) fn check_text(errors: &mut Vec<ParameterError>, texts: &[(&str, Option<&str>)]) {
    for (field, value) in texts {
        if value.is_some_and(|v| v.chars().count() > MAX_TEXT) {
            errors.push(ParameterError {
                parameter: (*field).into(),
                reason: format!("must be at most {MAX_TEXT} characters"),
            });
        }
    }
}

/// An upload's alt text, caption and credit, checked as `check_text` does.
fn check_upload_text(text: &UploadQuery) -> ApiResult<()> {
    let mut errors = Vec::new();
    check_text(
        &mut errors,
        &[
            ("alt", text.alt.as_deref()),
            ("caption", text.caption.as_deref()),
            ("credit", text.credit.as_deref()),
        ],
    );
    ApiError::fail_if_any(errors)
}

/// Checks and cleans an upload off the async workers, one image per core.
async fn clean(state: &AppState, bytes: Bytes) -> ApiResult<Cleaned> {
    let media = state.settings.media.clone();
    let _turn = media
        .work
        .clone()
        .acquire_owned()
        .await
        .map_err(|e| ApiError::Internal(e.into()))?;
    web::block(move || crate::media::process::clean(&bytes, &media))
        .await
        .map_err(|e| ApiError::Internal(anyhow::anyhow!("the image worker failed: {e}")))?
}

/// Stores a clean original unless the same picture is stored already.
async fn store_original(state: &AppState, cleaned: &Cleaned) -> ApiResult<()> {
    let storage = &state.settings.media.storage;
    let key = cleaned.key();
    if storage
        .size(&key)
        .await
        .map_err(|e| ApiError::Internal(e.into()))?
        .is_none()
    {
        storage.put(&key, cleaned.bytes.clone()).await?;
    }
    Ok(())
}

/// With eager renditions on, makes the whole set in the background.
fn make_all_later(state: &AppState, row: &Media, original: Bytes) {
    if !state.settings.media.eager {
        return;
    }
    let Some(source) = row.source() else {
        return;
    };
    // AVIF is made on first request only (see `Format::eager`).
    let planned: Vec<Planned> = state
        .settings
        .media
        .plan(source)
        .into_iter()
        .filter(|p| p.format.eager())
        .collect();
    let focal = source.focal;
    let media = state.settings.media.clone();
    actix_web::rt::spawn(async move {
        let started = std::time::Instant::now();
        match make(&media, &original, planned, focal).await {
            Ok(made) => log::info!(
                "made {made} renditions in {} ms",
                started.elapsed().as_millis()
            ),
            Err(e) => log::warn!("making renditions after an upload failed: {e}"),
        }
    });
}

/// Makes and stores `planned` renditions of `original`; returns how many.
async fn make(
    media: &crate::media::MediaSettings,
    original: &Bytes,
    planned: Vec<Planned>,
    focal: (u32, u32),
) -> ApiResult<usize> {
    let threads = media.work.available_permits().max(1);
    let _turns = media
        .work
        .clone()
        .acquire_many_owned(threads as u32)
        .await
        .map_err(|e| ApiError::Internal(e.into()))?;
    media
        .batches
        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let (original, max_pixels, quality) = (original.clone(), media.max_pixels, media.quality);
    let made = web::block(move || {
        Decoded::new(&original, max_pixels)?.render(&planned, focal, quality, threads)
    })
    .await
    .map_err(|e| ApiError::Internal(anyhow::anyhow!("the image worker failed: {e}")))??;
    let count = made.len();
    for (key, bytes) in made {
        media.storage.put(&key, bytes).await?;
    }
    Ok(count)
}

/// Serves a stored original or rendition (`GET` and `HEAD`), making a
/// rendition on its first request. A rendition asked for as `….auto` is
/// sent as AVIF when `Accept` takes it, else as WebP when it takes that,
/// else as JPEG (`Vary: Accept`).
pub async fn serve_media(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let key = path.into_inner();
    match key.strip_suffix(".auto") {
        Some(stem) if stem.starts_with("r/") => {
            let accepts = |mime: &str| accepts(&req, mime);
            let ext = if accepts("image/avif") {
                "avif"
            } else if accepts("image/webp") {
                "webp"
            } else {
                "jpg"
            };
            let mut response = serve_key(&state, &req, format!("{stem}.{ext}")).await?;
            response
                .headers_mut()
                .insert(header::VARY, header::HeaderValue::from_static("Accept"));
            Ok(response)
        }
        _ => serve_key(&state, &req, key).await,
    }
}

/// Whether `Accept` names `mime` (without `q=0`). Browsers that decode
/// AVIF or WebP say so in their image requests.
fn accepts(req: &HttpRequest, mime: &str) -> bool {
    req.headers()
        .get_all(header::ACCEPT)
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|item| {
            let mut parts = item.split(';').map(str::trim);
            parts.next().is_some_and(|m| m.eq_ignore_ascii_case(mime))
                && !parts.any(|p| {
                    p.strip_prefix("q=")
                        .and_then(|q| q.trim().parse::<f32>().ok())
                        .is_some_and(|q| q <= 0.0)
                })
        })
}

async fn serve_key(state: &AppState, req: &HttpRequest, key: String) -> ApiResult<HttpResponse> {
    let not_found = || ApiError::not_found("media file", format!("/media/{key}"));
    let storage = &state.settings.media.storage;
    let content_type = content_type(&key).ok_or_else(not_found)?;
    let content_addressed = key.starts_with("o/") || key.starts_with("r/");
    if content_addressed && let Some(bytes) = state.settings.media.hot.get(&key) {
        let etag = etag(&key);
        if matches_etag(req, &etag) {
            return Ok(headers(HttpResponse::NotModified(), &key, &etag).finish());
        }
        return Ok(send(
            req,
            &key,
            &etag,
            content_type,
            bytes.len() as u64,
            |r| bytes.slice(r.start as usize..r.end as usize),
        ));
    }
    // The whole object, when there is no (usable) range to send.
    let size = match storage.size(&key).await {
        Ok(Some(size)) => Some(size),
        Ok(None) => None,
        Err(e) => return Err(ApiError::Internal(e.into())),
    };
    let etag = etag(&key);
    if matches_etag(req, &etag) {
        return Ok(headers(HttpResponse::NotModified(), &key, &etag).finish());
    }
    let Some(size) = size else {
        // Not stored: a shipped file, or a rendition to make now.
        let bytes = if let Some(bytes) = shipped::bytes(&key) {
            Bytes::from_static(bytes)
        } else if let Some(wanted) = RenditionKey::parse(&key) {
            match rendition(state, &key, &wanted).await? {
                Made::Bytes(bytes) => bytes,
                Made::Moved(to) => {
                    return Ok(HttpResponse::TemporaryRedirect()
                        .insert_header((header::LOCATION, format!("/media/{to}")))
                        .insert_header((header::CACHE_CONTROL, MOVED))
                        .finish());
                }
                Made::Nothing => return Err(not_found()),
            }
        } else {
            return Err(not_found());
        };
        return Ok(send(
            req,
            &key,
            &etag,
            content_type,
            bytes.len() as u64,
            |r| bytes.slice(r.start as usize..r.end as usize),
        ));
    };
    let range = wanted_range(req, &etag, size);
    match range {
        Err(()) => Ok(headers(HttpResponse::RangeNotSatisfiable(), &key, &etag)
            .insert_header((header::CONTENT_RANGE, format!("bytes */{size}")))
            .body(Bytes::new())),
        Ok(range) => {
            let object = match storage.get(&key, range.clone()).await {
                Ok(object) => object,
                Err(ReadError::NotFound) => return Err(not_found()),
                Err(ReadError::Store(e)) => return Err(ApiError::Internal(e.into())),
            };
            let mut response = match range {
                Some(_) => {
                    let end = object.offset + object.bytes.len() as u64;
                    let mut r = headers(HttpResponse::PartialContent(), &key, &etag);
                    r.insert_header((
                        header::CONTENT_RANGE,
                        format!(
                            "bytes {}-{}/{}",
                            object.offset,
                            end.saturating_sub(1),
                            object.size
                        ),
                    ));
                    r
                }
                None => {
                    if content_addressed && object.bytes.len() <= 4 * 1024 * 1024 {
                        state
                            .settings
                            .media
                            .hot
                            .insert(key.clone(), object.bytes.clone());
                    }
                    headers(HttpResponse::Ok(), &key, &etag)
                }
            };
            Ok(response
                .insert_header((header::CONTENT_TYPE, content_type))
                .body(object.bytes))
        }
    }
}

/// A response from bytes in memory, honouring a range.
fn send(
    req: &HttpRequest,
    key: &str,
    etag: &str,
    content_type: &'static str,
    size: u64,
    slice: impl Fn(Range<u64>) -> Bytes,
) -> HttpResponse {
    match wanted_range(req, etag, size) {
        Err(()) => headers(HttpResponse::RangeNotSatisfiable(), key, etag)
            .insert_header((header::CONTENT_RANGE, format!("bytes */{size}")))
            .body(Bytes::new()),
        Ok(None) => headers(HttpResponse::Ok(), key, etag)
            .insert_header((header::CONTENT_TYPE, content_type))
            .body(slice(0..size)),
        Ok(Some(r)) => headers(HttpResponse::PartialContent(), key, etag)
            .insert_header((header::CONTENT_TYPE, content_type))
            .insert_header((
                header::CONTENT_RANGE,
                format!("bytes {}-{}/{size}", r.start, r.end - 1),
            ))
            .body(slice(r)),
    }
}

fn headers(
    mut builder: actix_web::HttpResponseBuilder,
    key: &str,
    etag: &str,
) -> actix_web::HttpResponseBuilder {
    let content_addressed = key.starts_with("o/") || key.starts_with("r/");
    builder
        .insert_header((
            header::CACHE_CONTROL,
            if content_addressed { IMMUTABLE } else { STABLE },
        ))
        .insert_header((header::ETAG, etag.to_owned()))
        .insert_header((header::ACCEPT_RANGES, "bytes"));
    builder
}

/// Keys are content-addressed (or, for shipped files, fixed), so the key
/// names the bytes.
fn etag(key: &str) -> String {
    format!("\"{}\"", crate::media::content_hash(key.as_bytes()))
}

fn matches_etag(req: &HttpRequest, etag: &str) -> bool {
    req.headers()
        .get_all(header::IF_NONE_MATCH)
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .any(|t| t == "*" || t.trim_start_matches("W/") == etag)
}

/// The byte range asked for: `Ok(None)` for the whole object (no
/// `Range`, several ranges, a stale `If-Range`), `Err` when it lies
/// outside the object.
fn wanted_range(req: &HttpRequest, etag: &str, size: u64) -> Result<Option<Range<u64>>, ()> {
    let Some(range) = req
        .headers()
        .get(header::RANGE)
        .and_then(|v| v.to_str().ok())
    else {
        return Ok(None);
    };
    if let Some(if_range) = req.headers().get(header::IF_RANGE)
        && if_range.as_bytes() != etag.as_bytes()
    {
        return Ok(None);
    }
    let Some(spec) = range.trim().strip_prefix("bytes=") else {
        return Ok(None);
    };
    if spec.contains(',') {
        return Ok(None);
    }
    let (from, to) = spec.split_once('-').ok_or(())?;
    let (from, to) = (from.trim(), to.trim());
    let range = if from.is_empty() {
        let n: u64 = to.parse().map_err(|_| ())?;
        if n == 0 {
            return Err(());
        }
        size.saturating_sub(n)..size
    } else {
        let start: u64 = from.parse().map_err(|_| ())?;
        let end = if to.is_empty() {
            size
        } else {
            let last: u64 = to.parse().map_err(|_| ())?;
            if last < start {
                return Ok(None);
            }
            (last + 1).min(size)
        };
        start..end
    };
    if range.start >= size || range.is_empty() {
        return Err(());
    }
    Ok(Some(range))
}

fn content_type(key: &str) -> Option<&'static str> {
    let ext = key.rsplit_once('.')?.1.to_ascii_lowercase();
    Some(match ext.as_str() {
        "jpg" | "jpeg" => "image/jpeg",
        "png" => "image/png",
        "webp" => "image/webp",
        "gif" => "image/gif",
        "avif" => "image/avif",
        _ => return None,
    })
}

/// What a rendition's first request found.
enum Made {
    Bytes(Bytes),
    /// The key of the same crop around the record's current focal point.
    Moved(String),
    Nothing,
}

/// Makes rendition `key` if a media record has it in its plan (so no URL
/// can ask for a size or crop we do not offer), stores it, and returns its
/// bytes; `None` when no record has it.
async fn rendition(state: &AppState, key: &str, wanted: &RenditionKey) -> ApiResult<Made> {
    let media = &state.settings.media;
    let flight = media.flight(key);
    let _maker = flight.lock().await;
    // Made by the request this one waited for?
    if let Ok(object) = media.storage.get(key, None).await {
        return Ok(Made::Bytes(object.bytes));
    }
    let rows = {
        let mut conn = state.conn().await?;
        crate::models::media::with_hash(&mut conn, &wanted.hash).await?
    };
    // A frame's first request makes its WebP and JPEG together (the other
    // is asked for soon); an AVIF, several times slower, alone.
    let in_frame = |p: &Planned| {
        p.crop == wanted.crop
            && p.width == wanted.width
            && (p.format == wanted.format || (p.format.eager() && wanted.format.eager()))
    };
    let frame_of = |source: Source<'_>| -> Option<(Vec<Planned>, (u32, u32))> {
        if wanted.focal.is_some_and(|f| f != source.focal) {
            return None;
        }
        let frame: Vec<Planned> = media.plan(source).into_iter().filter(in_frame).collect();
        frame
            .iter()
            .any(|p| p.key == key)
            .then_some((frame, source.focal))
    };
    let mut found = rows.iter().find_map(|row| {
        let (frame, focal) = frame_of(row.source()?)?;
        Some((row.storage_key.clone(), frame, focal))
    });
    // A shipped file no record names (the demo's avatars), at its centre.
    if found.is_none()
        && let Some((shipped_key, facts)) = shipped::by_hash(&wanted.hash)
    {
        found = frame_of(Source {
            hash: &facts.hash,
            width: facts.width,
            height: facts.height,
            focal: (500, 500),
        })
        .map(|(frame, focal)| (Some(shipped_key.to_owned()), frame, focal));
    }
    let Some((Some(original_key), frame, focal)) = found else {
        // A crop around a focal point since moved (an article's image
        // block keeps the one it was saved with): the same crop around
        // the current one. Never made for a point no record has.
        let moved = rows.iter().find_map(|row| {
            let source = row.source()?;
            let now = source.variant(wanted.crop);
            let planned = media.plan(source);
            planned
                .iter()
                .find(|p| {
                    p.crop == wanted.crop && p.width == wanted.width && p.format == wanted.format
                })
                .filter(|_| wanted.focal.is_some() && now != "original")
                .map(|p| p.key.clone())
        });
        return Ok(moved.map_or(Made::Nothing, Made::Moved));
    };
    let original = match media.storage.get(&original_key, None).await {
        Ok(object) => object.bytes,
        Err(ReadError::NotFound) => match shipped::bytes(&original_key) {
            Some(bytes) => Bytes::from_static(bytes),
            None => return Ok(Made::Nothing),
        },
        Err(ReadError::Store(e)) => return Err(ApiError::Internal(e.into())),
    };
    make(media, &original, frame, focal).await?;
    match media.storage.get(key, None).await {
        Ok(object) => Ok(Made::Bytes(object.bytes)),
        Err(ReadError::NotFound) => Ok(Made::Nothing),
        Err(ReadError::Store(e)) => Err(ApiError::Internal(e.into())),
    }
}

/// Media record `id`, locked for the rest of the transaction, when `staff`
/// may change it: what other staff's articles show is theirs, so changing
/// it then takes an editor.
pub(crate) async fn lock_for_edit(
    conn: &mut diesel_async::AsyncPgConnection,
    id: i64,
    staff: &Staff,
) -> ApiResult<Media> {
    let current: Media = media::table
        .find(id)
        .select(Media::as_select())
        .for_update()
        .first(conn)
        .await
        .optional()?
        .ok_or_else(|| ApiError::not_found("media", id.to_string()))?;
    if staff.role < Role::Editor && crate::models::media::used_by_others(conn, id, staff.id).await?
    {
        return Err(ApiError::Forbidden(
            "articles of other staff use this media record; changing it takes the editor role"
                .into(),
        ));
    }
    Ok(current)
}

/// Every method but POST on `/admin/media/files` is a 405: without this
/// route they would reach `/admin/media/{id}` ("files" not being an id).
pub async fn files_other_method(req: HttpRequest) -> ApiResult<HttpResponse> {
    Err(ApiError::MethodNotAllowed {
        method: req.method().to_string(),
        allow: vec!["POST".into()],
    })
}
