//! What a write changed, as the surrogate keys it purges and the entries
//! of the change feed it adds.
//!
//! A staff write runs through `AppState::change`, which hands its work a
//! [`Change`] to name what it touched; in the same transaction the keys
//! are queued for every instance and the feed's rows written ([`record`]),
//! and the keys are purged after the commit.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use crate::domain::keys::{self, Keys, Placement, Shown};
use crate::models::category::CategoryTree;
use crate::models::webhook;
use crate::schema::{article_authors, article_changes, article_tags, articles, gone_articles};

#[derive(Debug, Default)]
pub struct Change {
    keys: Keys,
    /// How readers saw each article written, before and after.
    articles: Vec<(i64, Option<Shown>, Option<Shown>)>,
}

impl Change {
    pub fn purge(&mut self, key: impl Into<String>) {
        self.keys.add(key);
    }

    pub fn keys(&self) -> &Keys {
        &self.keys
    }

    /// A list of articles, in both orders: its members changed.
    pub fn lists(&mut self, list: keys::List) {
        self.keys.add(keys::list(list, false));
        self.keys.add(keys::list(list, true));
    }

    /// The lists of category `id` and of every category above it in `tree`:
    /// articles joined or left them.
    pub fn category_lists(&mut self, tree: &CategoryTree, id: i64) {
        self.lists(keys::List::Category(id));
        for above in tree.ancestors(id) {
            self.lists(keys::List::Category(above.id));
        }
    }

    /// Records the keys a write of article `id` affects, given how readers
    /// saw it before the write (from [`shown`], read in the same
    /// transaction before writing).
    pub async fn article(
        &mut self,
        conn: &mut AsyncPgConnection,
        id: i64,
        before: Option<Shown>,
    ) -> QueryResult<()> {
        let after = shown(conn, id, Utc::now()).await?;
        self.keys
            .extend(&keys::article_change(id, before.as_ref(), after.as_ref()));
        if before.is_some() || after.is_some() {
            self.articles.push((id, before, after));
        }
        Ok(())
    }
}

/// Writes the change feed's rows for `change` (in its transaction): one for
/// every article readers saw change, where it was before and after, and the
/// tombstone of one that stopped being public (gone again when it is back),
/// and the webhook deliveries of its event (`article.published`,
/// `…updated`, `…unpublished` or `…deleted`); `site_url` makes the
/// events' links.
pub async fn record(
    conn: &mut AsyncPgConnection,
    change: &Change,
    site_url: &str,
) -> QueryResult<()> {
    for (id, before, after) in &change.articles {
        let event = match (before, after) {
            (None, Some(now)) => Some(("article.published", now)),
            (Some(_), Some(now)) => Some(("article.updated", now)),
            (Some(was), None) => {
                let exists: bool = diesel::select(diesel::dsl::exists(articles::table.find(id)))
                    .get_result(conn)
                    .await?;
                Some((
                    if exists {
                        "article.unpublished"
                    } else {
                        "article.deleted"
                    },
                    was,
                ))
            }
            (None, None) => None,
        };
        if let Some((event_type, shown)) = event {
            let payload =
                webhook::article_payload(event_type, *id, &shown.slug, site_url, Utc::now());
            webhook::enqueue(conn, event_type, &payload).await?;
        }
        let mut categories: Vec<i64> = Vec::new();
        let mut tags: Vec<i64> = Vec::new();
        let mut authors: Vec<i64> = Vec::new();
        for placement in [before, after].into_iter().flatten().map(|s| &s.placement) {
            categories.extend(&placement.categories);
            tags.extend(&placement.tags);
            authors.extend(&placement.authors);
        }
        for list in [&mut categories, &mut tags, &mut authors] {
            list.sort_unstable();
            list.dedup();
        }
        diesel::insert_into(article_changes::table)
            .values((
                article_changes::article_id.eq(id),
                article_changes::categories.eq(categories),
                article_changes::tags.eq(tags),
                article_changes::authors.eq(authors),
            ))
            .execute(conn)
            .await?;
        match (before, after) {
            (Some(was), None) => {
                diesel::insert_into(gone_articles::table)
                    .values((
                        gone_articles::article_id.eq(id),
                        gone_articles::slug.eq(&was.slug),
                    ))
                    .on_conflict(gone_articles::article_id)
                    .do_update()
                    .set((
                        gone_articles::slug.eq(&was.slug),
                        gone_articles::gone_at.eq(diesel::dsl::now),
                    ))
                    .execute(conn)
                    .await?;
            }
            (_, Some(_)) => {
                diesel::delete(gone_articles::table.find(id))
                    .execute(conn)
                    .await?;
            }
            (None, None) => {}
        }
    }
    Ok(())
}

/// Change-feed rows for the public articles in categories `within` that a
/// taxonomy write (a category moved, or deleted with its articles moved)
/// took from under the categories `before` to under `after` (each with
/// its ancestors): a client that follows a filtered feed sees them come or
/// go. The article's own category is named too, for its new path.
pub async fn articles_moved(
    conn: &mut AsyncPgConnection,
    within: &[i64],
    before: &[i64],
    after: &[i64],
) -> QueryResult<usize> {
    use diesel::sql_types::{Array, BigInt};
    let mut categories: Vec<i64> = before.iter().chain(after).copied().collect();
    categories.sort_unstable();
    categories.dedup();
    diesel::sql_query(
        "INSERT INTO article_changes (article_id, categories) \
         SELECT a.id, array_append($2, a.category_id) FROM articles a \
         WHERE a.category_id = ANY ($1) AND a.public_status AND a.published_at <= now() \
         ORDER BY a.id",
    )
    .bind::<Array<BigInt>, _>(within)
    .bind::<Array<BigInt>, _>(categories)
    .execute(conn)
    .await
}

/// How the public sees article `id` at `now`: `None` when it is not public
/// (a draft, archived, scheduled for later, or gone).
pub async fn shown(
    conn: &mut AsyncPgConnection,
    id: i64,
    now: DateTime<Utc>,
) -> QueryResult<Option<Shown>> {
    type Row = (String, i64, bool, Option<DateTime<Utc>>, bool, String);
    let row: Option<Row> = articles::table
        .find(id)
        .select((
            articles::slug,
            articles::category_id,
            articles::public_status,
            articles::published_at,
            articles::featured,
            articles::language,
        ))
        .first(conn)
        .await
        .optional()?;
    let Some((slug, category_id, public, published_at, featured, language)) = row else {
        return Ok(None);
    };
    if !public || published_at.is_none_or(|t| t > now) {
        return Ok(None);
    }
    let tags: Vec<i64> = article_tags::table
        .filter(article_tags::article_id.eq(id))
        .select(article_tags::tag_id)
        .order(article_tags::tag_id)
        .load(conn)
        .await?;
    let authors: Vec<i64> = article_authors::table
        .filter(article_authors::article_id.eq(id))
        .select(article_authors::author_id)
        .order(article_authors::author_id)
        .load(conn)
        .await?;
    let tree = CategoryTree::load(conn).await?;
    let mut categories = vec![category_id];
    categories.extend(tree.ancestors(category_id).iter().rev().map(|c| c.id));
    Ok(Some(Shown {
        id,
        slug,
        placement: Placement {
            categories,
            tags,
            authors,
            featured,
            language,
            published_at,
        },
    }))
}
