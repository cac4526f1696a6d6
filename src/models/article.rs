//! Articles: the rows, the public list query with keyset pagination, and
//! batch loads of their relations (one query per relation per page).

use chrono::{DateTime, Utc};
use diesel::pg::Pg;
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use crate::domain::cursor::Cursor;
use crate::models::author::AuthorRef;
use crate::models::tag::TagRef;
use crate::models::visible_articles;
use crate::schema::{article_authors, article_related, article_tags, articles, authors, tags};

/// What a list item needs: everything but the body.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = articles)]
pub struct ArticleCard {
    pub id: i64,
    pub slug: String,
    pub title: String,
    pub summary: String,
    pub excerpt: String,
    pub cover_media_id: Option<i64>,
    pub cover_caption: Option<String>,
    pub category_id: i64,
    pub published_at: Option<DateTime<Utc>>,
    pub updated_at: DateTime<Utc>,
    pub word_count: i32,
    pub reading_time_minutes: i32,
    pub featured: bool,
    pub language: String,
    pub canonical_url: Option<String>,
}

/// The whole article row.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = articles)]
pub struct Article {
    pub id: i64,
    pub slug: String,
    pub title: String,
    pub summary: String,
    pub body: serde_json::Value,
    pub body_html: String,
    pub body_text: String,
    pub excerpt: String,
    pub word_count: i32,
    pub reading_time_minutes: i32,
    pub cover_media_id: Option<i64>,
    pub cover_caption: Option<String>,
    pub category_id: i64,
    pub status: String,
    pub published_at: Option<DateTime<Utc>>,
    pub first_published_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub meta_title: Option<String>,
    pub meta_description: Option<String>,
    pub canonical_url: Option<String>,
    pub social_image_id: Option<i64>,
    pub language: String,
    pub featured: bool,
    pub source: Option<String>,
    pub version: i32,
    /// The staff user who created it (ownership for roles below editor).
    pub created_by: Option<i64>,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = articles)]
pub struct NewArticle<'a> {
    pub slug: &'a str,
    pub title: &'a str,
    pub summary: &'a str,
    pub body: serde_json::Value,
    pub body_html: &'a str,
    pub body_text: &'a str,
    pub excerpt: &'a str,
    pub word_count: i32,
    pub reading_time_minutes: i32,
    pub cover_media_id: Option<i64>,
    pub cover_caption: Option<&'a str>,
    pub category_id: i64,
    pub status: &'a str,
    pub published_at: Option<DateTime<Utc>>,
    pub first_published_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub meta_title: Option<&'a str>,
    pub meta_description: Option<&'a str>,
    pub canonical_url: Option<&'a str>,
    pub social_image_id: Option<i64>,
    pub language: &'a str,
    pub featured: bool,
    pub source: Option<&'a str>,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = article_tags)]
pub struct NewArticleTag {
    pub article_id: i64,
    pub tag_id: i64,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = article_authors)]
pub struct NewArticleAuthor {
    pub article_id: i64,
    pub author_id: i64,
    pub position: i32,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = article_related)]
pub struct NewArticleRelated {
    pub article_id: i64,
    pub related_article_id: i64,
    pub position: i32,
}

/// The orders a public list can be walked in; each has a matching index.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArticleSort {
    NewestFirst,
    OldestFirst,
    RecentlyUpdated,
}

impl ArticleSort {
    /// Names the sort inside cursors, so a cursor only fits its own order.
    pub fn cursor_scope(self) -> &'static str {
        match self {
            Self::NewestFirst => "a-pub-desc",
            Self::OldestFirst => "a-pub-asc",
            Self::RecentlyUpdated => "a-upd-desc",
        }
    }

    pub fn cursor_after(self, card: &ArticleCard) -> Cursor {
        let at = match self {
            Self::NewestFirst | Self::OldestFirst => card.published_at.unwrap_or_default(),
            Self::RecentlyUpdated => card.updated_at,
        };
        Cursor::new(self.cursor_scope(), at, card.id)
    }
}

/// Filters of the public article list, already resolved to ids.
#[derive(Debug, Clone, Default)]
pub struct ArticleFilter {
    pub category_ids: Option<Vec<i64>>,
    pub tag_id: Option<i64>,
    pub author_id: Option<i64>,
    pub featured: Option<bool>,
    /// Inclusive.
    pub published_after: Option<DateTime<Utc>>,
    /// Exclusive.
    pub published_before: Option<DateTime<Utc>>,
    pub language: Option<String>,
}

fn filtered(filter: &ArticleFilter) -> articles::BoxedQuery<'static, Pg> {
    apply_filter(visible_articles(), filter)
}

/// Narrows `query` (public or not) by `filter`.
pub fn apply_filter(
    mut query: articles::BoxedQuery<'static, Pg>,
    filter: &ArticleFilter,
) -> articles::BoxedQuery<'static, Pg> {
    match filter.category_ids.as_deref() {
        Some([one]) => query = query.filter(articles::category_id.eq(*one)),
        Some(many) => query = query.filter(articles::category_id.eq_any(many.to_vec())),
        None => {}
    }
    if let Some(tag_id) = filter.tag_id {
        query = query.filter(
            articles::id.eq_any(
                article_tags::table
                    .filter(article_tags::tag_id.eq(tag_id))
                    .select(article_tags::article_id),
            ),
        );
    }
    if let Some(author_id) = filter.author_id {
        query = query.filter(
            articles::id.eq_any(
                article_authors::table
                    .filter(article_authors::author_id.eq(author_id))
                    .select(article_authors::article_id),
            ),
        );
    }
    match filter.featured {
        Some(true) => query = query.filter(articles::featured),
        Some(false) => query = query.filter(diesel::dsl::not(articles::featured)),
        None => {}
    }
    if let Some(after) = filter.published_after {
        query = query.filter(articles::published_at.ge(after));
    }
    if let Some(before) = filter.published_before {
        query = query.filter(articles::published_at.lt(before));
    }
    if let Some(language) = &filter.language {
        query = query.filter(articles::language.eq(language.clone()));
    }
    query
}

/// One page of published articles: up to `limit + 1` rows, so the caller can
/// tell whether another page follows.
pub async fn list_page(
    mut conn: &AsyncPgConnection,
    filter: &ArticleFilter,
    sort: ArticleSort,
    after: Option<Cursor>,
    limit: i64,
) -> QueryResult<Vec<ArticleCard>> {
    let mut query = filtered(filter);
    // Keyset: a range on the sort column (which the index seeks to) plus a
    // tie-break on id among rows sharing the cursor's time.
    if let Some(c) = after {
        query = match sort {
            ArticleSort::NewestFirst => query.filter(
                articles::published_at
                    .le(c.at)
                    .and(articles::published_at.lt(c.at).or(articles::id.lt(c.id))),
            ),
            ArticleSort::OldestFirst => query.filter(
                articles::published_at
                    .ge(c.at)
                    .and(articles::published_at.gt(c.at).or(articles::id.gt(c.id))),
            ),
            ArticleSort::RecentlyUpdated => query.filter(
                articles::updated_at
                    .le(c.at)
                    .and(articles::updated_at.lt(c.at).or(articles::id.lt(c.id))),
            ),
        };
    }
    query = match sort {
        ArticleSort::NewestFirst => {
            query.order((articles::published_at.desc(), articles::id.desc()))
        }
        ArticleSort::OldestFirst => query.order((articles::published_at.asc(), articles::id.asc())),
        ArticleSort::RecentlyUpdated => {
            query.order((articles::updated_at.desc(), articles::id.desc()))
        }
    };
    query
        .limit(limit + 1)
        .select(ArticleCard::as_select())
        .load(&mut conn)
        .await
}

pub async fn count(mut conn: &AsyncPgConnection, filter: &ArticleFilter) -> QueryResult<i64> {
    filtered(filter)
        .select(diesel::dsl::count_star())
        .get_result(&mut conn)
        .await
}

/// A public article with what its page shows beside it: bylines (in
/// order), tags (by name) and its cover and social image.
pub struct ArticlePage {
    pub article: Article,
    pub authors: Vec<AuthorRef>,
    pub tags: Vec<TagRef>,
    pub media: Vec<crate::models::media::Media>,
}

/// How a page names its article.
#[derive(Debug, Clone)]
pub enum PageKey {
    Slug(String),
    Id(i64),
}

impl PageKey {
    /// The public article with this key (none, or one row).
    fn article(&self) -> articles::BoxedQuery<'static, Pg> {
        match self {
            Self::Slug(slug) => visible_articles().filter(articles::slug.eq(slug.clone())),
            Self::Id(id) => visible_articles().filter(articles::id.eq(*id)),
        }
    }
}

/// A public article's page: the row, its bylines, its tags and its cover
/// and social image in one round trip. The four statements are pipelined,
/// each finding the article by `key` itself (an index probe), so none
/// waits for another's answer; each is a plain statement PostgreSQL keeps
/// prepared with a generic plan.
pub async fn find_page(
    conn: &AsyncPgConnection,
    key: &PageKey,
) -> QueryResult<Option<ArticlePage>> {
    let row = async {
        let mut conn = conn;
        key.article()
            .select(Article::as_select())
            .first::<Article>(&mut conn)
            .await
            .optional()
    };
    let bylines = async {
        let mut conn = conn;
        article_authors::table
            .inner_join(authors::table)
            .filter(article_authors::article_id.eq_any(key.article().select(articles::id)))
            .order(article_authors::position)
            .select(AuthorRef::as_select())
            .load::<AuthorRef>(&mut conn)
            .await
    };
    let tags = async {
        let mut conn = conn;
        article_tags::table
            .inner_join(tags::table)
            .filter(article_tags::article_id.eq_any(key.article().select(articles::id)))
            .order(tags::name)
            .select(TagRef::as_select())
            .load::<TagRef>(&mut conn)
            .await
    };
    let media = async {
        let mut conn = conn;
        use crate::schema::media;
        media::table
            // A UNION, not `IN (cover) OR IN (social)`, which PostgreSQL
            // answers with a scan of the whole media table.
            .filter(
                media::id.nullable().eq_any(
                    key.article()
                        .select(articles::cover_media_id)
                        .union(key.article().select(articles::social_image_id)),
                ),
            )
            .select(crate::models::media::Media::as_select())
            .load(&mut conn)
            .await
    };
    let (row, authors, tags, media) = futures_util::try_join!(row, bylines, tags, media)?;
    Ok(row.map(|article| ArticlePage {
        article,
        authors,
        tags,
        media,
    }))
}

/// A public article by slug.
pub async fn find_visible_by_slug(
    mut conn: &AsyncPgConnection,
    slug: &str,
) -> QueryResult<Option<Article>> {
    visible_articles()
        .filter(articles::slug.eq(slug.to_owned()))
        .select(Article::as_select())
        .first(&mut conn)
        .await
        .optional()
}

pub async fn find_visible_by_id(
    mut conn: &AsyncPgConnection,
    id: i64,
) -> QueryResult<Option<Article>> {
    visible_articles()
        .filter(articles::id.eq(id))
        .select(Article::as_select())
        .first(&mut conn)
        .await
        .optional()
}

/// Bylines of many articles, in byline order.
pub async fn authors_of(
    mut conn: &AsyncPgConnection,
    article_ids: &[i64],
) -> QueryResult<Vec<(i64, AuthorRef)>> {
    let mut query = article_authors::table
        .inner_join(authors::table)
        .into_boxed();
    // One id gets `= $1`: PostgreSQL keeps a generic plan for it, while
    // `= ANY($1)` is re-planned on every execution.
    query = match article_ids {
        [one] => query.filter(article_authors::article_id.eq(*one)),
        many => query.filter(article_authors::article_id.eq_any(many.to_vec())),
    };
    query
        .order((article_authors::article_id, article_authors::position))
        .select((article_authors::article_id, AuthorRef::as_select()))
        .load(&mut conn)
        .await
}

/// Tags of many articles, by name.
pub async fn tags_of(
    mut conn: &AsyncPgConnection,
    article_ids: &[i64],
) -> QueryResult<Vec<(i64, TagRef)>> {
    let mut query = article_tags::table.inner_join(tags::table).into_boxed();
    query = match article_ids {
        [one] => query.filter(article_tags::article_id.eq(*one)),
        many => query.filter(article_tags::article_id.eq_any(many.to_vec())),
    };
    query
        .order((article_tags::article_id, tags::name))
        .select((article_tags::article_id, TagRef::as_select()))
        .load(&mut conn)
        .await
}

/// Hand-pinned related articles that are public, in the editor's order.
pub async fn pinned_related(
    mut conn: &AsyncPgConnection,
    article_id: i64,
    limit: i64,
) -> QueryResult<Vec<ArticleCard>> {
    article_related::table
        .inner_join(articles::table.on(articles::id.eq(article_related::related_article_id)))
        .filter(article_related::article_id.eq(article_id))
        .filter(articles::public_status)
        .filter(articles::published_at.assume_not_null().le(Utc::now()))
        .order((article_related::position, articles::id))
        .limit(limit)
        .select(ArticleCard::as_select())
        .load(&mut conn)
        .await
}

/// Public articles by id, in the order of `ids` (missing ones left out).
pub async fn visible_cards(
    mut conn: &AsyncPgConnection,
    ids: &[i64],
) -> QueryResult<Vec<ArticleCard>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut cards: Vec<ArticleCard> = visible_articles()
        .filter(articles::id.eq_any(ids.to_vec()))
        .select(ArticleCard::as_select())
        .load(&mut conn)
        .await?;
    cards.sort_by_key(|c| ids.iter().position(|id| *id == c.id));
    Ok(cards)
}

/// "Cùng chuyên mục": the newest public articles of a category, except one.
pub async fn newest_in_category(
    mut conn: &AsyncPgConnection,
    category_id: i64,
    except_id: i64,
    limit: i64,
) -> QueryResult<Vec<ArticleCard>> {
    visible_articles()
        .filter(articles::category_id.eq(category_id))
        .filter(articles::id.ne(except_id))
        .order((articles::published_at.desc(), articles::id.desc()))
        .limit(limit)
        .select(ArticleCard::as_select())
        .load(&mut conn)
        .await
}

impl Article {
    /// The list-item part of the row.
    pub fn card(&self) -> ArticleCard {
        ArticleCard {
            id: self.id,
            slug: self.slug.clone(),
            title: self.title.clone(),
            summary: self.summary.clone(),
            excerpt: self.excerpt.clone(),
            cover_media_id: self.cover_media_id,
            cover_caption: self.cover_caption.clone(),
            category_id: self.category_id,
            published_at: self.published_at,
            updated_at: self.updated_at,
            word_count: self.word_count,
            reading_time_minutes: self.reading_time_minutes,
            featured: self.featured,
            language: self.language.clone(),
            canonical_url: self.canonical_url.clone(),
        }
    }
}
