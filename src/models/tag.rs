//! Tags: free-form topics shared across categories.

use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use crate::schema::tags;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = tags)]
pub struct Tag {
    pub id: i64,
    pub slug: String,
    pub name: String,
    pub description: String,
}

/// What an article shows of its tags.
#[derive(Debug, Clone, Queryable, Selectable, serde::Deserialize)]
#[diesel(table_name = tags)]
pub struct TagRef {
    pub id: i64,
    pub slug: String,
    pub name: String,
    /// For the `Last-Modified` of the pages that show it.
    pub updated_at: chrono::DateTime<chrono::Utc>,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = tags)]
pub struct NewTag<'a> {
    pub slug: &'a str,
    pub name: &'a str,
    pub description: &'a str,
}

pub async fn find_by_slug(mut conn: &AsyncPgConnection, slug: &str) -> QueryResult<Option<Tag>> {
    tags::table
        .filter(tags::slug.eq(slug.to_owned()))
        .select(Tag::as_select())
        .first(&mut conn)
        .await
        .optional()
}

/// A page of tags in slug order, after `after_slug`.
pub async fn list_page(
    mut conn: &AsyncPgConnection,
    after_slug: Option<&str>,
    limit: i64,
) -> QueryResult<Vec<Tag>> {
    let mut query = tags::table.into_boxed();
    if let Some(after) = after_slug {
        query = query.filter(tags::slug.gt(after.to_owned()));
    }
    query
        .order(tags::slug)
        .limit(limit + 1)
        .select(Tag::as_select())
        .load(&mut conn)
        .await
}
