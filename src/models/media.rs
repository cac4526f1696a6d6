//! Media records: images and their metadata (the files live elsewhere).

use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use crate::schema::{articles, media};

#[derive(Debug, Clone, Queryable, Selectable)]
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
