//! What a write changed, as the surrogate keys it purges.
//!
//! A staff write runs through `AppState::change`, which hands its work a
//! [`Change`] to name what it touched; the keys are queued for every
//! instance in the same transaction and purged after the commit.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use crate::domain::keys::{self, Keys, Placement, Shown};
use crate::models::category::CategoryTree;
use crate::schema::{article_authors, article_tags, articles};

#[derive(Debug, Default)]
pub struct Change {
    keys: Keys,
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
        Ok(())
    }
}

/// How the public sees article `id` at `now`: `None` when it is not public
/// (a draft, archived, scheduled for later, or gone).
pub async fn shown(
    conn: &mut AsyncPgConnection,
    id: i64,
    now: DateTime<Utc>,
) -> QueryResult<Option<Shown>> {
    type Row = (i64, bool, Option<DateTime<Utc>>, bool, String);
    let row: Option<Row> = articles::table
        .find(id)
        .select((
            articles::category_id,
            articles::public_status,
            articles::published_at,
            articles::featured,
            articles::language,
        ))
        .first(conn)
        .await
        .optional()?;
    let Some((category_id, public, published_at, featured, language)) = row else {
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
