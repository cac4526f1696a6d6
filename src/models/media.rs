//! Media records: images and their metadata. An uploaded file is kept in
//! the media storage under `storage_key`; a record without one points at a
//! file elsewhere (`url`).

use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use crate::schema::{articles, media};

/// A media record. Also read as the JSON of its row (`to_jsonb`), which
/// is why the field names are the column names.
#[derive(Debug, Clone, Queryable, Selectable, serde::Deserialize)]
#[diesel(table_name = media)]
pub struct Media {
    pub id: i64,
    pub url: String,
    pub alt: String,
    pub caption: Option<String>,
    pub credit: Option<String>,
    pub width: Option<i32>,
    pub height: Option<i32>,
    pub mime_type: String,
    /// For the `Last-Modified` of the pages that show it.
    pub updated_at: chrono::DateTime<chrono::Utc>,
    /// Where the clean original is stored (`None`: an external file).
    pub storage_key: Option<String>,
    /// The clean original's hash, as rendition keys carry it.
    pub content_hash: Option<String>,
    pub byte_size: Option<i64>,
    /// A BlurHash of the picture.
    pub placeholder: Option<String>,
    /// The point crops keep in frame, 0..1 from the left and the top.
    pub focal_x: f64,
    pub focal_y: f64,
}

impl Media {
    /// What renditions need, for a stored file with known dimensions.
    pub fn source(&self) -> Option<crate::media::Source<'_>> {
        let width = u32::try_from(self.width?).ok()?;
        let height = u32::try_from(self.height?).ok()?;
        Some(crate::media::Source {
            hash: self.content_hash.as_deref()?,
            width,
            height,
            focal: crate::media::focal_thousandths(self.focal_x, self.focal_y),
        })
    }
}

/// A record of an uploaded file.
#[derive(Debug, Insertable)]
#[diesel(table_name = media)]
pub struct NewStoredMedia<'a> {
    pub url: &'a str,
    pub alt: &'a str,
    pub caption: Option<&'a str>,
    pub credit: Option<&'a str>,
    pub width: Option<i32>,
    pub height: Option<i32>,
    pub mime_type: &'a str,
    pub storage_key: Option<&'a str>,
    pub content_hash: Option<&'a str>,
    pub byte_size: Option<i64>,
    pub placeholder: Option<&'a str>,
}

/// Records whose file has content hash `hash` (the same picture uploaded
/// twice shares its stored file and renditions).
pub async fn with_hash(conn: &mut AsyncPgConnection, hash: &str) -> QueryResult<Vec<Media>> {
    media::table
        .filter(media::content_hash.eq(hash))
        .select(Media::as_select())
        .load(conn)
        .await
}

/// Whether a record other than `except` keeps its file at `key`.
pub async fn key_in_use(conn: &mut AsyncPgConnection, key: &str, except: i64) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        media::table
            .filter(media::storage_key.eq(key))
            .filter(media::id.ne(except)),
    ))
    .get_result(conn)
    .await
}

#[derive(Debug, Insertable)]
#[diesel(table_name = media)]
pub struct NewMedia<'a> {
    pub url: &'a str,
    pub alt: &'a str,
    pub caption: Option<&'a str>,
    pub credit: Option<&'a str>,
    pub width: Option<i32>,
    pub height: Option<i32>,
    pub mime_type: &'a str,
}

pub async fn by_ids(mut conn: &AsyncPgConnection, ids: &[i64]) -> QueryResult<Vec<Media>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let query = match ids {
        [one] => media::table.filter(media::id.eq(*one)).into_boxed(),
        many => media::table
            .filter(media::id.eq_any(many.to_vec()))
            .into_boxed(),
    };
    query.select(Media::as_select()).load(&mut conn).await
}

/// Articles that use media record `id`: as cover, social image or in an
/// image block.
fn using(id: i64) -> articles::BoxedQuery<'static, diesel::pg::Pg> {
    use diesel::PgJsonbExpressionMethods;
    articles::table
        .filter(
            articles::cover_media_id
                .eq(id)
                .or(articles::social_image_id.eq(id))
                .or(articles::body.contains(serde_json::json!([{"media_id": id}]))),
        )
        .into_boxed()
}

/// Ids of the articles that use media record `id`, at most `limit`.
pub async fn users(conn: &mut AsyncPgConnection, id: i64, limit: i64) -> QueryResult<Vec<i64>> {
    using(id)
        .select(articles::id)
        .order(articles::id)
        .limit(limit)
        .load(conn)
        .await
}

/// Whether an article that someone other than `staff_id` created uses
/// media record `id`.
pub async fn used_by_others(
    conn: &mut AsyncPgConnection,
    id: i64,
    staff_id: i64,
) -> QueryResult<bool> {
    use diesel::PgExpressionMethods;
    diesel::select(diesel::dsl::exists(
        using(id).filter(articles::created_by.is_distinct_from(staff_id)),
    ))
    .get_result(conn)
    .await
}
