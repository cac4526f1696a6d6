//! Authors: the people in bylines.

use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use crate::models::media::Media;
use crate::schema::{authors, media};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = authors)]
pub struct Author {
    pub id: i64,
    pub slug: String,
    pub name: String,
    pub bio: String,
    pub avatar_url: Option<String>,
}

/// What a byline shows.
#[derive(Debug, Clone, Queryable, Selectable, serde::Deserialize)]
#[diesel(table_name = authors)]
pub struct AuthorRef {
    pub id: i64,
    pub slug: String,
    pub name: String,
    /// For the `Last-Modified` of the pages that show it.
    pub updated_at: chrono::DateTime<chrono::Utc>,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = authors)]
pub struct NewAuthor<'a> {
    pub slug: &'a str,
    pub name: &'a str,
    pub bio: &'a str,
    pub avatar_url: Option<&'a str>,
}

pub async fn find_by_slug(mut conn: &AsyncPgConnection, slug: &str) -> QueryResult<Option<Author>> {
    authors::table
        .filter(authors::slug.eq(slug.to_owned()))
        .select(Author::as_select())
        .first(&mut conn)
        .await
        .optional()
}

/// A page of authors in slug order, after `after_slug`.
pub async fn list_page(
    mut conn: &AsyncPgConnection,
    after_slug: Option<&str>,
    limit: i64,
) -> QueryResult<Vec<Author>> {
    let mut query = authors::table.into_boxed();
    if let Some(after) = after_slug {
        query = query.filter(authors::slug.gt(after.to_owned()));
    }
    query
        .order(authors::slug)
        .limit(limit + 1)
        .select(Author::as_select())
        .load(&mut conn)
        .await
}

/// Media records of the uploaded files that `authors` use as avatars
/// (matched by the content hash in their URL), for their size,
/// placeholder and focal point. One query for a page of authors.
pub async fn avatar_media<'a>(
    mut conn: &AsyncPgConnection,
    authors: impl IntoIterator<Item = &'a Author>,
    site_url: &str,
) -> QueryResult<Vec<Media>> {
    let hashes: Vec<String> = authors
        .into_iter()
        .filter_map(|a| a.avatar_url.as_deref())
        .filter_map(|url| crate::media::view::known(url, site_url))
        .filter(|known| known.width.is_none())
        .map(|known| known.hash)
        .collect();
    if hashes.is_empty() {
        return Ok(Vec::new());
    }
    media::table
        .filter(media::content_hash.eq_any(hashes))
        .select(Media::as_select())
        .load(&mut conn)
        .await
}
