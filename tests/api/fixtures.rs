//! Small builders for test content, written through the same models and
//! derivations the application uses.

use chrono::{DateTime, Duration, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use newsroom::domain::body::Block;
use newsroom::domain::text::slugify;
use newsroom::models::article::{NewArticleAuthor, NewArticleRelated, NewArticleTag};
use newsroom::models::author::NewAuthor;
use newsroom::models::category::NewCategory;
use newsroom::models::tag::NewTag;
use newsroom::schema::{
    article_authors, article_related, article_tags, articles, authors, categories, tags,
};
use newsroom::seed::Derived;

pub async fn category(conn: &mut AsyncPgConnection, name: &str, parent: Option<i64>) -> i64 {
    let slug = slugify(name);
    diesel::insert_into(categories::table)
        .values(NewCategory {
            parent_id: parent,
            position: 0,
            slug: &slug,
            name,
            description: "",
        })
        .returning(categories::id)
        .get_result(conn)
        .await
        .expect("category")
}

pub async fn tag(conn: &mut AsyncPgConnection, name: &str) -> i64 {
    let slug = slugify(name);
    diesel::insert_into(tags::table)
        .values(NewTag {
            slug: &slug,
            name,
            description: "",
        })
        .returning(tags::id)
        .get_result(conn)
        .await
        .expect("tag")
}

pub async fn author(conn: &mut AsyncPgConnection, name: &str) -> i64 {
    let slug = slugify(name);
    diesel::insert_into(authors::table)
        .values(NewAuthor {
            slug: &slug,
            name,
            bio: "",
            avatar_url: None,
        })
        .returning(authors::id)
        .get_result(conn)
        .await
        .expect("author")
}

/// An article to insert; `Article::new(title, category)` then adjust fields.
pub struct Article {
    pub title: String,
    pub slug: String,
    pub summary: String,
    pub category_id: i64,
    pub status: &'static str,
    pub published_at: Option<DateTime<Utc>>,
    pub updated_at: Option<DateTime<Utc>>,
    pub featured: bool,
    pub language: &'static str,
    pub tags: Vec<i64>,
    pub authors: Vec<i64>,
    pub body: Vec<Block>,
}

impl Article {
    /// Published an hour ago.
    pub fn new(title: &str, category_id: i64) -> Self {
        Self {
            title: title.to_owned(),
            slug: slugify(title),
            summary: format!("Tóm tắt: {title}"),
            category_id,
            status: "published",
            published_at: Some(Utc::now() - Duration::hours(1)),
            updated_at: None,
            featured: false,
            language: "vi",
            tags: Vec::new(),
            authors: Vec::new(),
            body: vec![Block::Paragraph {
                text: format!("Nội dung của bài {title}."),
            }],
        }
    }

    pub fn at(mut self, published_at: DateTime<Utc>) -> Self {
        self.published_at = Some(published_at);
        self
    }

    pub fn slug(mut self, slug: &str) -> Self {
        self.slug = slug.to_owned();
        self
    }

    pub fn tagged(mut self, tags: &[i64]) -> Self {
        self.tags = tags.to_vec();
        self
    }

    pub fn status(mut self, status: &'static str) -> Self {
        self.status = status;
        if status == "draft" {
            self.published_at = None;
        }
        self
    }

    pub async fn insert(self, conn: &mut AsyncPgConnection) -> i64 {
        let derived = Derived::new(&self.summary, &self.body);
        let mut row = derived.new_article(
            &self.slug,
            &self.title,
            &self.summary,
            self.category_id,
            self.status,
            self.published_at,
        );
        row.featured = self.featured;
        row.language = self.language;
        if let Some(updated) = self.updated_at {
            row.updated_at = updated;
        }
        let id: i64 = diesel::insert_into(articles::table)
            .values(row)
            .returning(articles::id)
            .get_result(conn)
            .await
            .expect("article");
        let links: Vec<_> = self
            .tags
            .iter()
            .map(|&tag_id| NewArticleTag {
                article_id: id,
                tag_id,
            })
            .collect();
        diesel::insert_into(article_tags::table)
            .values(&links)
            .execute(conn)
            .await
            .expect("tags");
        let byline: Vec<_> = self
            .authors
            .iter()
            .enumerate()
            .map(|(position, &author_id)| NewArticleAuthor {
                article_id: id,
                author_id,
                position: position as i32,
            })
            .collect();
        diesel::insert_into(article_authors::table)
            .values(&byline)
            .execute(conn)
            .await
            .expect("authors");
        id
    }
}

pub async fn pin_related(conn: &mut AsyncPgConnection, article_id: i64, related: &[i64]) {
    let rows: Vec<_> = related
        .iter()
        .enumerate()
        .map(|(position, &related_article_id)| NewArticleRelated {
            article_id,
            related_article_id,
            position: position as i32,
        })
        .collect();
    diesel::insert_into(article_related::table)
        .values(&rows)
        .execute(conn)
        .await
        .expect("related");
}

/// Total rows of a table, to prove a refused request wrote nothing.
pub async fn article_count(conn: &mut AsyncPgConnection) -> i64 {
    articles::table
        .count()
        .get_result(conn)
        .await
        .expect("count")
}

/// An image in the media library.
pub async fn media(conn: &mut AsyncPgConnection) -> i64 {
    diesel::insert_into(newsroom::schema::media::table)
        .values(newsroom::models::media::NewMedia {
            url: "/media/anh.jpg",
            alt: "Ảnh",
            caption: Some("Chú thích"),
            credit: None,
            width: Some(1200),
            height: Some(800),
            mime_type: "image/jpeg",
        })
        .returning(newsroom::schema::media::id)
        .get_result(conn)
        .await
        .expect("media")
}
