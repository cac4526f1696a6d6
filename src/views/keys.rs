//! The surrogate keys of each view: every record it shows.

use crate::domain::keys::{self, Keys};
use crate::views::{Article, ArticleSummary, Cover, MediaView, RelatedArticle};

fn cover(cover: Option<&Cover>, out: &mut Keys) {
    if let Some(c) = cover {
        media(&c.media, out);
    }
}

fn media(m: &MediaView, out: &mut Keys) {
    out.add(keys::media(m.id));
}

impl ArticleSummary {
    pub fn keys(&self, out: &mut Keys) {
        out.add(keys::article(self.id));
        out.add(keys::category(self.category.id));
        for a in &self.authors {
            out.add(keys::author(a.id));
        }
        for t in self.tags.iter().flatten() {
            out.add(keys::tag(t.id));
        }
        cover(self.cover.as_ref(), out);
    }
}

impl RelatedArticle {
    pub fn keys(&self, out: &mut Keys) {
        out.add(keys::article(self.id));
        cover(self.cover.as_ref(), out);
    }
}

impl Article {
    pub fn keys(&self, out: &mut Keys) {
        out.add(keys::article(self.id));
        out.add(keys::category(self.category.id));
        for c in &self.breadcrumbs {
            out.add(keys::category(c.id));
        }
        for a in &self.authors {
            out.add(keys::author(a.id));
        }
        for t in &self.tags {
            out.add(keys::tag(t.id));
        }
        cover(self.cover.as_ref(), out);
        if let Some(m) = &self.seo.social_image {
            media(m, out);
        }
        if let Some(related) = &self.related {
            // Chosen automatically, from the whole archive's text.
            out.add(keys::SEARCH);
            for r in related {
                r.keys(out);
            }
        }
    }
}

/// The keys of a list of cards, plus `base`.
pub fn of_summaries<'a>(
    base: impl IntoIterator<Item = String>,
    items: impl IntoIterator<Item = &'a ArticleSummary>,
) -> Keys {
    let mut out: Keys = base.into_iter().collect();
    for item in items {
        item.keys(&mut out);
    }
    out
}
