//! Surrogate keys: the names of what a public response depends on.
//!
//! A response lists its keys in `Surrogate-Key` and `xkey`; a write names
//! the keys it affects, and every cache holding a response with one of
//! them (this instance's, the other instances', the CDN's) drops it. Both
//! sides build their names here, so they cannot drift apart.
//!
//! | key | on responses that show… | purged when… |
//! |---|---|---|
//! | `article-{id}` | that article (its page, or a card in a list) | it changes in any way |
//! | `category-{id}`, `tag-{id}`, `author-{id}`, `media-{id}` | that record's fields | the record changes |
//! | `categories`, `tags`, `authors` | the category tree (with its counts), the tag list, the author list | one is added, edited or removed; for `categories`, also when an article joins or leaves a category |
//! | `articles`, `articles-category-{id}`, `articles-tag-{id}`, `articles-author-{id}` | a list of articles (all, or filtered) | an article joins or leaves that list, or moves within its order |
//! | `updated-…` (the same list names) | a list ordered by `updated_at` | also when any member is edited |
//! | `search` | search results, suggestions, automatic related lists | any public article's text or visibility changes |
//! | `most-read` | "Đọc nhiều" | view counts are written, or an article joins or leaves |

use std::collections::BTreeSet;

pub const CATEGORIES: &str = "categories";
pub const TAGS: &str = "tags";
pub const AUTHORS: &str = "authors";
pub const SEARCH: &str = "search";
pub const MOST_READ: &str = "most-read";
/// Every list of articles, before any filter.
pub const ARTICLES: &str = "articles";

pub fn article(id: i64) -> String {
    format!("article-{id}")
}

/// What every category's key begins with.
pub const CATEGORY_PREFIX: &str = "category-";

pub fn category(id: i64) -> String {
    format!("{CATEGORY_PREFIX}{id}")
}

pub fn tag(id: i64) -> String {
    format!("tag-{id}")
}

pub fn author(id: i64) -> String {
    format!("author-{id}")
}

pub fn media(id: i64) -> String {
    format!("media-{id}")
}

/// Which list of articles: all of them, or those of a category (with its
/// subcategories), a tag or an author.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum List {
    All,
    Category(i64),
    Tag(i64),
    Author(i64),
}

/// The key of a list, in publication order or (`by_update`) in the order
/// of last change.
pub fn list(list: List, by_update: bool) -> String {
    let name = match list {
        List::All => ARTICLES.to_owned(),
        List::Category(id) => format!("articles-category-{id}"),
        List::Tag(id) => format!("articles-tag-{id}"),
        List::Author(id) => format!("articles-author-{id}"),
    };
    if by_update {
        format!("updated-{name}")
    } else {
        name
    }
}

/// A set of keys, sorted and without repeats.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Keys(BTreeSet<String>);

impl Keys {
    pub fn add(&mut self, key: impl Into<String>) {
        self.0.insert(key.into());
    }

    pub fn extend(&mut self, other: &Keys) {
        self.0.extend(other.0.iter().cloned());
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn iter(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(String::as_str)
    }

    /// Space-separated, as `Surrogate-Key`, `xkey` and `xkey-purge` take them.
    pub fn joined(&self) -> String {
        self.iter().collect::<Vec<_>>().join(" ")
    }

    /// Reads a space- or comma-separated list; anything that is not a key
    /// (empty, or with characters keys never have) is left out.
    pub fn parse(text: &str) -> Self {
        Self(
            text.split([' ', ','])
                .filter(|k| !k.is_empty() && k.len() <= 100 && k.bytes().all(is_key_byte))
                .map(str::to_owned)
                .collect(),
        )
    }
}

fn is_key_byte(b: u8) -> bool {
    b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-'
}

impl<S: Into<String>> FromIterator<S> for Keys {
    fn from_iter<I: IntoIterator<Item = S>>(iter: I) -> Self {
        Self(iter.into_iter().map(Into::into).collect())
    }
}

/// What decides which lists an article is on, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Placement {
    /// Its category, then that category's ancestors.
    pub categories: Vec<i64>,
    pub tags: Vec<i64>,
    pub authors: Vec<i64>,
    pub featured: bool,
    pub language: String,
    pub published_at: Option<chrono::DateTime<chrono::Utc>>,
}

impl Placement {
    /// The lists this article is on, in both orders.
    pub fn lists(&self, by_update: bool, out: &mut Keys) {
        out.add(list(List::All, by_update));
        for &id in &self.categories {
            out.add(list(List::Category(id), by_update));
        }
        for &id in &self.tags {
            out.add(list(List::Tag(id), by_update));
        }
        for &id in &self.authors {
            out.add(list(List::Author(id), by_update));
        }
    }
}

/// What a public article looked like to readers, before or after a write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shown {
    pub id: i64,
    pub slug: String,
    pub placement: Placement,
}

/// The keys a write of one article affects, given what readers saw before
/// (`None`: not public) and see after.
pub fn article_change(id: i64, before: Option<&Shown>, after: Option<&Shown>) -> Keys {
    let mut keys = Keys::default();
    keys.add(article(id));
    if before.is_none() && after.is_none() {
        return keys;
    }
    keys.add(SEARCH);
    let placements = [before, after].into_iter().flatten().map(|s| &s.placement);
    let moved = before.map(|s| &s.placement) != after.map(|s| &s.placement);
    for placement in placements {
        // An edit moves the article to the top of every list ordered by
        // change; joining, leaving or moving changes every list it is on.
        placement.lists(true, &mut keys);
        if moved {
            placement.lists(false, &mut keys);
        }
    }
    if moved {
        keys.add(CATEGORIES);
        keys.add(MOST_READ);
    }
    keys
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shown(category: i64, tags: &[i64]) -> Shown {
        Shown {
            slug: "a".into(),
            id: 7,
            placement: Placement {
                categories: vec![category, 1],
                tags: tags.to_vec(),
                authors: vec![3],
                featured: false,
                language: "vi".into(),
                published_at: None,
            },
        }
    }

    #[test]
    fn an_edit_in_place_spares_the_lists_in_publication_order() {
        let s = shown(2, &[5]);
        let keys = article_change(7, Some(&s), Some(&s));
        assert!(keys.iter().any(|k| k == "article-7"));
        assert!(keys.iter().any(|k| k == "updated-articles-category-2"));
        assert!(keys.iter().any(|k| k == "search"));
        assert!(!keys.iter().any(|k| k == "articles-category-2"));
        assert!(!keys.iter().any(|k| k == "articles"));
        assert!(!keys.iter().any(|k| k == "categories"));
    }

    #[test]
    fn a_move_purges_the_lists_it_left_and_joined() {
        let keys = article_change(7, Some(&shown(2, &[5])), Some(&shown(4, &[6])));
        for key in [
            "articles",
            "articles-category-2",
            "articles-category-4",
            "articles-category-1",
            "articles-tag-5",
            "articles-tag-6",
            "categories",
            "most-read",
        ] {
            assert!(keys.iter().any(|k| k == key), "{key} missing from {keys:?}");
        }
    }

    #[test]
    fn a_draft_edit_purges_only_its_own_key() {
        assert_eq!(article_change(7, None, None).joined(), "article-7");
    }

    #[test]
    fn parsing_drops_what_is_not_a_key() {
        let keys = Keys::parse("article-1, tag-2  ARTICLE-3 a\u{0}b ");
        assert_eq!(keys.joined(), "article-1 tag-2");
    }
}
