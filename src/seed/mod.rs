//! Content loaders: the demo site (`seed --demo`, and the first `serve`
//! without DATABASE_URL) and synthetic articles for benchmarks.

pub mod bulk;
pub mod demo;
pub mod synthetic;

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use crate::domain::body::{self, Block};
use crate::domain::text;
use crate::models::article::NewArticle;
use crate::schema::articles;

/// An article's stored fields derived from its body and summary.
pub struct Derived {
    pub body: serde_json::Value,
    pub html: String,
    pub text: String,
    pub excerpt: String,
    pub word_count: i32,
    pub reading_time_minutes: i32,
}

impl Derived {
    pub fn new(summary: &str, blocks: &[Block]) -> Self {
        let rendered = body::render(blocks);
        let source = if summary.trim().is_empty() {
            &rendered.text
        } else {
            summary
        };
        Self {
            body: serde_json::to_value(blocks).expect("blocks serialise"),
            excerpt: text::defuse_markup(&text::excerpt(source, text::EXCERPT_CHARS)),
            html: rendered.html,
            text: rendered.text,
            word_count: rendered.word_count,
            reading_time_minutes: rendered.reading_time_minutes,
        }
    }

    /// An insert with the derived fields filled in and the rest defaulted.
    pub fn new_article<'a>(
        &'a self,
        slug: &'a str,
        title: &'a str,
        summary: &'a str,
        category_id: i64,
        status: &'a str,
        published_at: Option<DateTime<Utc>>,
    ) -> NewArticle<'a> {
        let created = published_at.unwrap_or_else(Utc::now);
        NewArticle {
            slug,
            title,
            summary,
            body: self.body.clone(),
            body_html: &self.html,
            body_text: &self.text,
            excerpt: &self.excerpt,
            word_count: self.word_count,
            reading_time_minutes: self.reading_time_minutes,
            cover_media_id: None,
            cover_caption: None,
            category_id,
            status,
            published_at,
            first_published_at: published_at.filter(|_| status != "draft"),
            created_at: created,
            updated_at: created,
            meta_title: None,
            meta_description: None,
            canonical_url: None,
            social_image_id: None,
            language: "vi",
            featured: false,
            source: None,
        }
    }
}

/// Whether any article exists (seeding the demo is skipped then).
pub async fn has_articles(conn: &mut AsyncPgConnection) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(articles::table.select(articles::id)))
        .get_result(conn)
        .await
}
