//! Categories ("chuyên mục"): a tree kept small enough to load whole, so
//! ancestors (breadcrumbs) and descendants (section pages) are computed in
//! memory from one query.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use crate::models::is_visible;
use crate::schema::{articles, categories};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = categories)]
pub struct Category {
    pub id: i64,
    pub parent_id: Option<i64>,
    pub position: i32,
    pub slug: String,
    pub name: String,
    pub description: String,
    pub updated_at: chrono::DateTime<chrono::Utc>,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = categories)]
pub struct NewCategory<'a> {
    pub parent_id: Option<i64>,
    pub position: i32,
    pub slug: &'a str,
    pub name: &'a str,
    pub description: &'a str,
}

/// Every category, indexed for tree walks.
#[derive(Debug, Default)]
pub struct CategoryTree {
    /// Ordered by (parent, position, id): siblings in editorial order.
    nodes: Vec<Category>,
    by_id: HashMap<i64, usize>,
    by_slug: HashMap<String, usize>,
}

impl CategoryTree {
    pub async fn load(mut conn: &AsyncPgConnection) -> QueryResult<Self> {
        let nodes = categories::table
            .order((
                categories::parent_id.asc().nulls_first(),
                categories::position,
                categories::id,
            ))
            .select(Category::as_select())
            .load(&mut conn)
            .await?;
        Ok(Self::new(nodes))
    }

    pub fn new(nodes: Vec<Category>) -> Self {
        let by_id = nodes.iter().enumerate().map(|(i, c)| (c.id, i)).collect();
        let by_slug = nodes
            .iter()
            .enumerate()
            .map(|(i, c)| (c.slug.clone(), i))
            .collect();
        Self {
            nodes,
            by_id,
            by_slug,
        }
    }

    pub fn get(&self, id: i64) -> Option<&Category> {
        self.by_id.get(&id).map(|&i| &self.nodes[i])
    }

    pub fn by_slug(&self, slug: &str) -> Option<&Category> {
        self.by_slug.get(slug).map(|&i| &self.nodes[i])
    }

    /// Root first, ending with the parent of `id` (not `id` itself).
    pub fn ancestors(&self, id: i64) -> Vec<&Category> {
        let mut path = Vec::new();
        let mut current = self.get(id).and_then(|c| c.parent_id);
        // The depth bound guards against a cycle that the database should never hold.
        while let Some(parent) = current.and_then(|p| self.get(p)) {
            if path.len() > self.nodes.len() {
                break;
            }
            path.push(parent);
            current = parent.parent_id;
        }
        path.reverse();
        path
    }

    pub fn children(&self, id: Option<i64>) -> impl Iterator<Item = &Category> {
        self.nodes.iter().filter(move |c| c.parent_id == id)
    }

    /// `id` and every category below it.
    pub fn subtree_ids(&self, id: i64) -> Vec<i64> {
        let mut ids = vec![id];
        let mut next = 0;
        while next < ids.len() && ids.len() <= self.nodes.len() {
            let parent = ids[next];
            ids.extend(self.children(Some(parent)).map(|c| c.id));
            next += 1;
        }
        ids
    }

    pub fn iter(&self) -> impl Iterator<Item = &Category> {
        self.nodes.iter()
    }
}

/// The category tree kept in memory between changes, so public pages do
/// not read it on every request. A copy is reused while the categories'
/// generation (moved on by every purge that names a category, see
/// [`crate::http::cache::ResponseCache::categories_generation`]) is the one
/// it was read at, and for at most [`TreeMemo::SAFETY`] in any case.
#[derive(Default)]
pub struct TreeMemo(Mutex<Option<Memo>>);

struct Memo {
    generation: u64,
    read_at: Instant,
    tree: Arc<CategoryTree>,
}

impl TreeMemo {
    /// The longest a copy is reused, even without a change: a safety net
    /// for writes that reach the database some other way.
    pub const SAFETY: Duration = Duration::from_secs(60);

    /// The tree at `generation` (`None`: purges may be missed, so read it
    /// afresh and keep nothing).
    pub async fn get(
        &self,
        conn: &AsyncPgConnection,
        generation: Option<u64>,
    ) -> QueryResult<Arc<CategoryTree>> {
        if let Some(generation) = generation {
            let kept = self.0.lock().unwrap_or_else(|e| e.into_inner());
            if let Some(memo) = kept.as_ref()
                && memo.generation == generation
                && memo.read_at.elapsed() < Self::SAFETY
            {
                return Ok(memo.tree.clone());
            }
        }
        // Read after taking the generation: a change committed meanwhile
        // moves it on, and the next request reads again.
        let read_at = Instant::now();
        let tree = Arc::new(CategoryTree::load(conn).await?);
        if let Some(generation) = generation {
            let mut kept = self.0.lock().unwrap_or_else(|e| e.into_inner());
            if kept.as_ref().is_none_or(|m| m.generation <= generation) {
                *kept = Some(Memo {
                    generation,
                    read_at,
                    tree: tree.clone(),
                });
            }
        }
        Ok(tree)
    }
}

/// Published articles per category (not counting descendants).
pub async fn article_counts(mut conn: &AsyncPgConnection) -> QueryResult<HashMap<i64, i64>> {
    let rows: Vec<(i64, i64)> = articles::table
        .filter(is_visible())
        .group_by(articles::category_id)
        .select((articles::category_id, diesel::dsl::count_star()))
        .load(&mut conn)
        .await?;
    Ok(rows.into_iter().collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(id: i64, parent_id: Option<i64>, slug: &str) -> Category {
        Category {
            id,
            parent_id,
            position: 0,
            slug: slug.into(),
            name: slug.into(),
            description: String::new(),
            updated_at: chrono::Utc::now(),
        }
    }

    #[test]
    fn walks_up_and_down() {
        let tree = CategoryTree::new(vec![
            node(1, None, "xa-hoi"),
            node(2, Some(1), "dan-so"),
            node(3, Some(2), "gia-hoa"),
            node(4, None, "kinh-te"),
        ]);
        let path: Vec<_> = tree.ancestors(3).iter().map(|c| c.id).collect();
        assert_eq!(path, [1, 2]);
        assert_eq!(tree.subtree_ids(1), [1, 2, 3]);
        assert_eq!(tree.subtree_ids(4), [4]);
        assert_eq!(tree.by_slug("dan-so").map(|c| c.id), Some(2));
    }
}
