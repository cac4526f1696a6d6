//! The demo site: a small Vietnamese publication built into the binary
//! (`src/seed/demo.json`), loaded in one transaction.

use std::collections::HashMap;

use anyhow::{Context, anyhow};
use chrono::{DateTime, FixedOffset, Utc};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use serde::Deserialize;

use crate::domain::body::{Block, ListStyle, MediaSnapshot};
use crate::models::article::{NewArticleAuthor, NewArticleRelated, NewArticleTag};
use crate::models::author::NewAuthor;
use crate::models::category::NewCategory;
use crate::models::media::NewStoredMedia;
use crate::models::tag::NewTag;
use crate::schema::{
    article_authors, article_related, article_tags, articles, authors, categories, media, tags,
};
use crate::seed::Derived;

const DEMO_JSON: &str = include_str!("demo.json");

#[derive(Deserialize)]
struct Demo {
    categories: Vec<DemoCategory>,
    tags: Vec<DemoTag>,
    authors: Vec<DemoAuthor>,
    media: Vec<DemoMedia>,
    articles: Vec<DemoArticle>,
}

#[derive(Deserialize)]
struct DemoCategory {
    slug: String,
    name: String,
    description: String,
    parent: Option<String>,
    position: i32,
}

#[derive(Deserialize)]
struct DemoTag {
    slug: String,
    name: String,
}

#[derive(Deserialize)]
struct DemoAuthor {
    slug: String,
    name: String,
    bio: String,
    avatar_url: Option<String>,
}

#[derive(Deserialize)]
struct DemoMedia {
    key: String,
    url: String,
    alt: String,
    caption: Option<String>,
    credit: Option<String>,
    width: Option<i32>,
    height: Option<i32>,
    mime_type: String,
}

#[derive(Deserialize)]
struct DemoArticle {
    slug: String,
    title: String,
    summary: String,
    category: String,
    tags: Vec<String>,
    authors: Vec<String>,
    status: String,
    published_at: Option<DateTime<FixedOffset>>,
    updated_at: Option<DateTime<FixedOffset>>,
    featured: bool,
    source: Option<String>,
    cover: Option<DemoCover>,
    seo: DemoSeo,
    related: Vec<String>,
    body: Vec<DemoBlock>,
}

#[derive(Deserialize)]
struct DemoCover {
    media: String,
    caption: Option<String>,
}

#[derive(Deserialize)]
struct DemoSeo {
    meta_title: Option<String>,
    meta_description: Option<String>,
    canonical_url: Option<String>,
    social_image: Option<String>,
}

/// Blocks as written in the demo file: images name media by key.
#[derive(Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum DemoBlock {
    Paragraph {
        text: String,
    },
    Heading {
        level: u8,
        text: String,
    },
    List {
        style: ListStyle,
        items: Vec<String>,
    },
    Quote {
        text: String,
        citation: Option<String>,
    },
    Image {
        media: String,
        caption: Option<String>,
        credit: Option<String>,
    },
    Embed {
        provider: String,
        url: String,
        title: Option<String>,
    },
}

/// Loads the demo site unless articles already exist. Returns whether it did.
pub async fn load(conn: &mut AsyncPgConnection) -> anyhow::Result<bool> {
    if crate::seed::has_articles(conn).await? {
        return Ok(false);
    }
    let demo: Demo =
        serde_json::from_str(DEMO_JSON).context("reading the built-in demo content")?;
    conn.transaction::<_, anyhow::Error, _>(async |conn| insert(conn, &demo).await)
        .await?;
    Ok(true)
}

async fn insert(conn: &mut AsyncPgConnection, demo: &Demo) -> anyhow::Result<()> {
    // Parents before children, whatever the file's order.
    let mut category_ids: HashMap<&str, i64> = HashMap::new();
    while category_ids.len() < demo.categories.len() {
        let before = category_ids.len();
        for c in &demo.categories {
            if category_ids.contains_key(c.slug.as_str()) {
                continue;
            }
            let parent_id = match &c.parent {
                None => None,
                Some(p) => match category_ids.get(p.as_str()) {
                    Some(id) => Some(*id),
                    None => continue,
                },
            };
            let id: i64 = diesel::insert_into(categories::table)
                .values(NewCategory {
                    parent_id,
                    position: c.position,
                    slug: &c.slug,
                    name: &c.name,
                    description: &c.description,
                })
                .returning(categories::id)
                .get_result(conn)
                .await?;
            category_ids.insert(&c.slug, id);
        }
        if category_ids.len() == before {
            return Err(anyhow!("demo categories name a parent that does not exist"));
        }
    }

    let mut tag_ids = HashMap::new();
    for t in &demo.tags {
        let id: i64 = diesel::insert_into(tags::table)
            .values(NewTag {
                slug: &t.slug,
                name: &t.name,
                description: "",
            })
            .returning(tags::id)
            .get_result(conn)
            .await?;
        tag_ids.insert(t.slug.as_str(), id);
    }

    let mut author_ids = HashMap::new();
    for a in &demo.authors {
        let id: i64 = diesel::insert_into(authors::table)
            .values(NewAuthor {
                slug: &a.slug,
                name: &a.name,
                bio: &a.bio,
                avatar_url: a.avatar_url.as_deref(),
            })
            .returning(authors::id)
            .get_result(conn)
            .await?;
        author_ids.insert(a.slug.as_str(), id);
    }

    let mut media_by_key: HashMap<&str, (i64, &DemoMedia)> = HashMap::new();
    for m in &demo.media {
        // A picture shipped in the binary is recorded as a stored file, so
        // it is served with renditions.
        let shipped = crate::media::shipped::facts(&m.url);
        let id: i64 = diesel::insert_into(media::table)
            .values(NewStoredMedia {
                url: &m.url,
                alt: &m.alt,
                caption: m.caption.as_deref(),
                credit: m.credit.as_deref(),
                width: shipped.as_ref().map(|(_, f)| f.width as i32).or(m.width),
                height: shipped.as_ref().map(|(_, f)| f.height as i32).or(m.height),
                mime_type: &m.mime_type,
                storage_key: shipped.as_ref().map(|(key, _)| *key),
                content_hash: shipped.as_ref().map(|(_, f)| f.hash.as_str()),
                byte_size: shipped
                    .as_ref()
                    .and_then(|(key, _)| crate::media::shipped::bytes(key).map(|b| b.len() as i64)),
                placeholder: shipped.as_ref().map(|(_, f)| f.placeholder.as_str()),
            })
            .returning(media::id)
            .get_result(conn)
            .await?;
        media_by_key.insert(m.key.as_str(), (id, m));
    }
    let media_id = |key: &str| {
        media_by_key
            .get(key)
            .map(|(id, _)| *id)
            .ok_or_else(|| anyhow!("demo media `{key}` does not exist"))
    };

    let mut article_ids = HashMap::new();
    for a in &demo.articles {
        let blocks = a
            .body
            .iter()
            .map(|b| block(b, &media_by_key))
            .collect::<anyhow::Result<Vec<_>>>()?;
        let derived = Derived::new(&a.summary, &blocks);
        let category_id = *category_ids
            .get(a.category.as_str())
            .ok_or_else(|| anyhow!("demo category `{}` does not exist", a.category))?;
        let published_at = a.published_at.map(|t| t.with_timezone(&Utc));
        let mut new = derived.new_article(
            &a.slug,
            &a.title,
            &a.summary,
            category_id,
            &a.status,
            published_at,
        );
        if let Some(updated) = a.updated_at {
            new.updated_at = updated.with_timezone(&Utc);
        }
        new.featured = a.featured;
        new.source = a.source.as_deref();
        new.cover_media_id = a.cover.as_ref().map(|c| media_id(&c.media)).transpose()?;
        new.cover_caption = a.cover.as_ref().and_then(|c| c.caption.as_deref());
        new.meta_title = a.seo.meta_title.as_deref();
        new.meta_description = a.seo.meta_description.as_deref();
        new.canonical_url = a.seo.canonical_url.as_deref();
        new.social_image_id = a.seo.social_image.as_deref().map(media_id).transpose()?;
        let id: i64 = diesel::insert_into(articles::table)
            .values(new)
            .returning(articles::id)
            .get_result(conn)
            .await?;
        article_ids.insert(a.slug.as_str(), id);

        let links: Vec<NewArticleTag> = a
            .tags
            .iter()
            .map(|t| {
                tag_ids
                    .get(t.as_str())
                    .map(|&tag_id| NewArticleTag {
                        article_id: id,
                        tag_id,
                    })
                    .ok_or_else(|| anyhow!("demo tag `{t}` does not exist"))
            })
            .collect::<anyhow::Result<_>>()?;
        diesel::insert_into(article_tags::table)
            .values(&links)
            .execute(conn)
            .await?;
        let byline: Vec<NewArticleAuthor> = a
            .authors
            .iter()
            .enumerate()
            .map(|(position, s)| {
                author_ids
                    .get(s.as_str())
                    .map(|&author_id| NewArticleAuthor {
                        article_id: id,
                        author_id,
                        position: position as i32,
                    })
                    .ok_or_else(|| anyhow!("demo author `{s}` does not exist"))
            })
            .collect::<anyhow::Result<_>>()?;
        diesel::insert_into(article_authors::table)
            .values(&byline)
            .execute(conn)
            .await?;
    }

    for a in &demo.articles {
        let id = article_ids[a.slug.as_str()];
        let pins: Vec<NewArticleRelated> = a
            .related
            .iter()
            .enumerate()
            .map(|(position, s)| {
                article_ids
                    .get(s.as_str())
                    .map(|&related_article_id| NewArticleRelated {
                        article_id: id,
                        related_article_id,
                        position: position as i32,
                    })
                    .ok_or_else(|| anyhow!("demo related article `{s}` does not exist"))
            })
            .collect::<anyhow::Result<_>>()?;
        diesel::insert_into(article_related::table)
            .values(&pins)
            .execute(conn)
            .await?;
    }
    Ok(())
}

fn block(b: &DemoBlock, media: &HashMap<&str, (i64, &DemoMedia)>) -> anyhow::Result<Block> {
    Ok(match b {
        DemoBlock::Paragraph { text } => Block::Paragraph { text: text.clone() },
        DemoBlock::Heading { level, text } => Block::Heading {
            level: *level,
            text: text.clone(),
        },
        DemoBlock::List { style, items } => Block::List {
            style: *style,
            items: items.clone(),
        },
        DemoBlock::Quote { text, citation } => Block::Quote {
            text: text.clone(),
            citation: citation.clone(),
        },
        DemoBlock::Image {
            media: key,
            caption,
            credit,
        } => {
            let (id, m) = media
                .get(key.as_str())
                .ok_or_else(|| anyhow!("demo media `{key}` does not exist"))?;
            Block::Image {
                media_id: *id,
                media: Some({
                    let shipped = crate::media::shipped::facts(&m.url);
                    let mut snapshot = MediaSnapshot::new(
                        m.url.clone(),
                        m.alt.clone(),
                        shipped.as_ref().map(|(_, f)| f.width as i32).or(m.width),
                        shipped.as_ref().map(|(_, f)| f.height as i32).or(m.height),
                        m.mime_type.clone(),
                    );
                    snapshot.placeholder = shipped.map(|(_, f)| f.placeholder);
                    snapshot
                }),
                caption: caption.clone(),
                credit: credit.clone(),
            }
        }
        DemoBlock::Embed {
            provider,
            url,
            title,
        } => Block::Embed {
            provider: provider.clone(),
            url: url.clone(),
            title: title.clone(),
        },
    })
}

pub const ADMIN_EMAIL: &str = "admin@newsroom.test";

/// The demo site's admin account, linked to no author.
pub async fn create_admin(conn: &mut AsyncPgConnection, password: &str) -> anyhow::Result<i64> {
    let hash = crate::auth::hash_password(password)?;
    Ok(crate::models::staff::create(
        conn,
        crate::models::staff::NewStaffUser {
            email: ADMIN_EMAIL,
            display_name: "Ban biên tập",
            role: "admin",
            author_id: None,
            password_hash: &hash,
        },
    )
    .await?)
}
