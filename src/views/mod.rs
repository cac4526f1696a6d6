//! The JSON the API speaks: response types with their OpenAPI schemas, and
//! the conversions from database rows (times in the site's time zone, media
//! URLs made absolute, canonical URLs filled in).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Arc;

use chrono::{DateTime, FixedOffset, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use crate::config::Settings;
use crate::domain::body::{Block, MediaSnapshot};
pub use crate::media::view::{FocalPoint, RenditionView};
use crate::models::article::{Article as ArticleRow, ArticleCard};
use crate::models::author::{Author, AuthorRef};
use crate::models::category::{Category, CategoryTree};
use crate::models::media::Media;
use crate::models::tag::{Tag, TagRef};

pub mod feed;
pub mod keys;
pub mod params;

/// A page of articles.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"items": [{"id": 1, "slug": "quang-ninh-huong-ung-thang-hanh-dong-vi-binh-dang-gioi", "title": "Quảng Ninh hưởng ứng Tháng hành động vì bình đẳng giới", "summary": "Ngày 10/11, tại KCN Đông Mai (TX Quảng Yên)…", "excerpt": "Ngày 10/11, tại KCN Đông Mai (TX Quảng Yên), Sở LĐ-TB&XH phối hợp với LĐLĐ tỉnh…", "url": "http://localhost:8080/quang-ninh-huong-ung-thang-hanh-dong-vi-binh-dang-gioi", "cover": null, "category": {"id": 2, "slug": "dan-so", "name": "Dân số"}, "authors": [{"id": 1, "slug": "tran-thanh-mai", "name": "Trần Thanh Mai"}], "published_at": "2023-11-15T13:59:00+07:00", "updated_at": "2023-11-15T13:59:00+07:00", "word_count": 352, "reading_time_minutes": 2, "featured": false, "language": "vi"}], "next_cursor": "MXxhLXB1Yi1kZXNjfDE3MDAwMzE1NDAwMDAwMDB8MQ", "total": 22}))]
pub struct ArticleList {
    pub items: Vec<ArticleSummary>,
    /// Pass as `cursor` to get the next page; `null` on the last page.
    #[schema(example = "MXxhLXB1Yi1kZXNjfDE3MDAwMzE1NDAwMDAwMDB8NDI")]
    pub next_cursor: Option<String>,
    /// How many articles match the filters; only with `include_total=true`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub total: Option<i64>,
}

/// An article as shown in lists: everything but the body.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": 1,
    "slug": "quang-ninh-huong-ung-thang-hanh-dong-vi-binh-dang-gioi",
    "title": "Quảng Ninh hưởng ứng Tháng hành động vì bình đẳng giới và phòng ngừa ứng phó với bạo lực trên cơ sở giới",
    "summary": "Ngày 10/11, tại KCN Đông Mai (TX Quảng Yên), Sở LĐ-TB&XH phối hợp với LĐLĐ tỉnh…",
    "excerpt": "Ngày 10/11, tại KCN Đông Mai (TX Quảng Yên), Sở LĐ-TB&XH phối hợp với LĐLĐ tỉnh, Ban Quản lý Khu kinh tế Quảng Ninh, UBND TX Quảng Yên tổ chức lễ phát…",
    "url": "http://localhost:8080/quang-ninh-huong-ung-thang-hanh-dong-vi-binh-dang-gioi",
    "cover": null,
    "category": {"id": 2, "slug": "dan-so", "name": "Dân số"},
    "authors": [{"id": 1, "slug": "tran-thanh-mai", "name": "Trần Thanh Mai"}],
    "published_at": "2023-11-15T13:59:00+07:00",
    "updated_at": "2023-11-15T13:59:00+07:00",
    "word_count": 352,
    "reading_time_minutes": 2,
    "featured": false,
    "language": "vi"
}))]
pub struct ArticleSummary {
    pub id: i64,
    pub slug: String,
    pub title: String,
    /// The lead paragraph (sapo).
    pub summary: String,
    /// About 160 characters, cut at a word boundary, ending in `…`.
    pub excerpt: String,
    /// The canonical web address of the article.
    pub url: String,
    pub cover: Option<Cover>,
    pub category: CategoryRef,
    /// The byline, in order.
    pub authors: Vec<AuthorSummary>,
    /// Only with `include=tags`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tags: Option<Vec<TagSummary>>,
    pub published_at: DateTime<FixedOffset>,
    pub updated_at: DateTime<FixedOffset>,
    pub word_count: i32,
    pub reading_time_minutes: i32,
    pub featured: bool,
    /// BCP 47 language tag.
    #[schema(example = "vi")]
    pub language: String,
}

/// One article with its body and everything a page needs.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": 1,
    "slug": "quang-ninh-huong-ung-thang-hanh-dong-vi-binh-dang-gioi",
    "title": "Quảng Ninh hưởng ứng Tháng hành động vì bình đẳng giới",
    "summary": "Ngày 10/11, tại KCN Đông Mai (TX Quảng Yên), Sở LĐ-TB&XH phối hợp với LĐLĐ tỉnh tổ chức lễ phát động.",
    "excerpt": "Ngày 10/11, tại KCN Đông Mai (TX Quảng Yên), Sở LĐ-TB&XH phối hợp với LĐLĐ tỉnh tổ chức lễ phát động.",
    "url": "http://localhost:8080/quang-ninh-huong-ung-thang-hanh-dong-vi-binh-dang-gioi",
    "cover": {"media": {"id": 1, "url": "http://localhost:8080/media/2023/11/2147034_dsc_0597_11282810.jpg", "alt": "Lễ phát động tại KCN Đông Mai", "caption": null, "credit": "Báo Quảng Ninh", "width": 1200, "height": 800, "mime_type": "image/jpeg", "placeholder": null, "focal_point": {"x": 0.5, "y": 0.5}, "renditions": {}, "srcset": {}}, "caption": "Lễ phát động tại KCN Đông Mai."},
    "category": {"id": 2, "slug": "dan-so", "name": "Dân số"},
    "breadcrumbs": [{"id": 1, "slug": "xa-hoi", "name": "Xã hội"}, {"id": 2, "slug": "dan-so", "name": "Dân số"}],
    "authors": [{"id": 1, "slug": "tran-thanh-mai", "name": "Trần Thanh Mai"}],
    "tags": [{"id": 1, "slug": "binh-dang-gioi", "name": "Bình đẳng giới"}],
    "body": [{"type": "paragraph", "text": "Tại buổi lễ phát động, đại diện Sở LĐ-TB&XH kêu gọi các cấp, ngành…"}],
    "body_html": "<p>Tại buổi lễ phát động, đại diện Sở LĐ-TB&amp;XH kêu gọi các cấp, ngành…</p>",
    "body_text": "Tại buổi lễ phát động, đại diện Sở LĐ-TB&XH kêu gọi các cấp, ngành…",
    "published_at": "2023-11-15T13:59:00+07:00",
    "first_published_at": "2023-11-15T13:59:00+07:00",
    "created_at": "2023-11-15T13:59:00+07:00",
    "updated_at": "2023-11-15T13:59:00+07:00",
    "word_count": 352,
    "reading_time_minutes": 2,
    "featured": false,
    "language": "vi",
    "source": "Báo Quảng Ninh",
    "seo": {"meta_title": "Quảng Ninh hưởng ứng Tháng hành động vì bình đẳng giới", "meta_description": "Ngày 10/11, tại KCN Đông Mai…", "canonical_url": "http://localhost:8080/quang-ninh-huong-ung-thang-hanh-dong-vi-binh-dang-gioi", "social_image": null},
    "version": 1
}))]
pub struct Article {
    pub id: i64,
    pub slug: String,
    pub title: String,
    /// The lead paragraph (sapo).
    pub summary: String,
    pub excerpt: String,
    /// The article's address on the site (always the site's own; see
    /// `seo.canonical_url` for where search engines should look).
    pub url: String,
    pub cover: Option<Cover>,
    pub category: CategoryRef,
    /// From the root category down to the article's own (breadcrumbs).
    pub breadcrumbs: Vec<CategoryRef>,
    pub authors: Vec<AuthorSummary>,
    pub tags: Vec<TagSummary>,
    /// The body as structured blocks, for native rendering.
    pub body: Vec<Block>,
    /// The body rendered to sanitised HTML.
    #[schema(example = "<p>Tại buổi lễ phát động, đại diện Sở LĐ-TB&amp;XH kêu gọi…</p>")]
    pub body_html: String,
    /// The body as plain text, paragraphs separated by a blank line.
    pub body_text: String,
    pub published_at: DateTime<FixedOffset>,
    /// When it was first published; `published_at` may be later after a re-publish.
    pub first_published_at: Option<DateTime<FixedOffset>>,
    pub created_at: DateTime<FixedOffset>,
    pub updated_at: DateTime<FixedOffset>,
    pub word_count: i32,
    pub reading_time_minutes: i32,
    pub featured: bool,
    #[schema(example = "vi")]
    pub language: String,
    /// Where the story comes from, e.g. a partner newspaper.
    #[schema(example = "Báo Quảng Ninh")]
    pub source: Option<String>,
    pub seo: Seo,
    /// Increases with every save; send it back to update (optimistic concurrency).
    pub version: i32,
    /// Only with `include=related`: the same list as `/articles/{slug}/related`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub related: Option<Vec<RelatedArticle>>,
}

/// Search-engine and social fields, with fallbacks already applied.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"meta_title": "Quảng Ninh hưởng ứng Tháng hành động vì bình đẳng giới", "meta_description": "Ngày 10/11, tại KCN Đông Mai…", "canonical_url": "http://localhost:8080/quang-ninh-huong-ung-thang-hanh-dong-vi-binh-dang-gioi", "social_image": null}))]
pub struct Seo {
    /// `<title>`: the meta title, or the article title.
    pub meta_title: String,
    /// `<meta name="description">`: the meta description, or the excerpt.
    pub meta_description: String,
    pub canonical_url: String,
    /// The image for social cards: the social image, or the cover.
    pub social_image: Option<MediaView>,
}

/// A compact article for "Cùng chuyên mục" and related boxes.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": 2,
    "slug": "ra-quan-dieu-tra-dan-so-va-nha-o-giua-ky-nam-2024",
    "title": "Ra quân điều tra dân số và nhà ở giữa kỳ năm 2024",
    "excerpt": "Nhằm thu thập thông tin về dân số, nhà ở làm cơ sở để đánh giá tình hình phát triển kinh tế - xã hội, lễ ra…",
    "url": "http://localhost:8080/ra-quan-dieu-tra-dan-so-va-nha-o-giua-ky-nam-2024",
    "cover": null,
    "published_at": "2024-04-01T08:30:00+07:00",
    "pinned": false
}))]
pub struct RelatedArticle {
    pub id: i64,
    pub slug: String,
    pub title: String,
    pub excerpt: String,
    pub url: String,
    pub cover: Option<Cover>,
    pub published_at: DateTime<FixedOffset>,
    /// Whether an editor pinned it by hand.
    pub pinned: bool,
}

/// A list of related articles.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"items": [{"id": 2, "slug": "ra-quan-dieu-tra-dan-so-va-nha-o-giua-ky-nam-2024", "title": "Ra quân điều tra dân số và nhà ở giữa kỳ năm 2024", "excerpt": "Nhằm thu thập thông tin về dân số, nhà ở làm cơ sở để đánh giá tình hình phát triển kinh tế - xã hội, lễ ra…", "url": "http://localhost:8080/ra-quan-dieu-tra-dan-so-va-nha-o-giua-ky-nam-2024", "cover": null, "published_at": "2024-04-01T09:30:00+07:00", "pinned": false}]}))]
pub struct RelatedList {
    pub items: Vec<RelatedArticle>,
}

/// The cover image as placed on this article.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"media": {"id": 1, "url": "http://localhost:8080/media/2023/11/2147034_dsc_0597_11282810.jpg", "alt": "Lễ phát động tại KCN Đông Mai", "caption": null, "credit": "Báo Quảng Ninh", "width": 1200, "height": 800, "mime_type": "image/jpeg", "placeholder": null, "focal_point": {"x": 0.5, "y": 0.5}, "renditions": {}, "srcset": {}}, "caption": "Lễ phát động tại KCN Đông Mai."}))]
pub struct Cover {
    pub media: MediaView,
    /// The caption for this placement, plain text (falls back to the media
    /// caption, turned into text).
    pub caption: Option<String>,
}

/// An image from the media library. Uploaded images (and the demo's) come
/// with `renditions` for each crop and ready-made `srcset` strings; a record
/// that points at an external file has neither (empty objects).
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": 1,
    "url": "http://localhost:8080/media/2023/11/2147034_dsc_0597_11282810.jpg",
    "alt": "Lễ phát động tại KCN Đông Mai",
    "caption": "Các đại biểu tham dự lễ phát động.",
    "credit": "Báo Quảng Ninh",
    "width": 1200,
    "height": 800,
    "mime_type": "image/jpeg",
    "placeholder": "LKO2?U%2Tw=w]~RBVZRi};RPxuwH",
    "focal_point": {"x": 0.5, "y": 0.5},
    "renditions": {"1x1": [{"url": "http://localhost:8080/media/r/8d7b2c1e0f3a4b5c6d7e8f9a0b1c2d3e/1x1_500_500/320.webp", "width": 320, "height": 320, "format": "webp"}]},
    "srcset": {"1x1": {"webp": "http://localhost:8080/media/r/8d7b2c1e0f3a4b5c6d7e8f9a0b1c2d3e/1x1_500_500/320.webp 320w", "jpeg": "http://localhost:8080/media/r/8d7b2c1e0f3a4b5c6d7e8f9a0b1c2d3e/1x1_500_500/320.jpg 320w"}}
}))]
pub struct MediaView {
    pub id: i64,
    /// Absolute URL of the file.
    pub url: String,
    /// Alternative text, plain text.
    pub alt: String,
    /// Inline HTML (sanitised as a paragraph's: `strong`, `em`, `b`, `i`, `a`).
    pub caption: Option<String>,
    /// Inline HTML, as `caption`.
    pub credit: Option<String>,
    pub width: Option<i32>,
    pub height: Option<i32>,
    pub mime_type: String,
    /// A BlurHash (4 × 3 components) to paint while the picture loads.
    pub placeholder: Option<String>,
    /// The point crops keep in frame, 0..1 from the left and the top.
    pub focal_point: FocalPoint,
    /// Per crop (`original`, `16x9`, `4x3`, `1x1`): every rendition,
    /// narrow to wide, in AVIF, WebP and JPEG. Never wider than the original.
    pub renditions: BTreeMap<String, Vec<RenditionView>>,
    /// Per crop, per format (`avif`, `webp`, `jpeg`): a ready `srcset` value.
    pub srcset: BTreeMap<String, BTreeMap<String, String>>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({"id": 2, "slug": "dan-so", "name": "Dân số"}))]
pub struct CategoryRef {
    pub id: i64,
    pub slug: String,
    pub name: String,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"id": 1, "slug": "tran-thanh-mai", "name": "Trần Thanh Mai"}))]
pub struct AuthorSummary {
    pub id: i64,
    pub slug: String,
    pub name: String,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"id": 1, "slug": "binh-dang-gioi", "name": "Bình đẳng giới"}))]
pub struct TagSummary {
    pub id: i64,
    pub slug: String,
    pub name: String,
}

/// A node of the category tree.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"id": 2, "slug": "dan-so", "name": "Dân số", "description": "Công tác dân số và phát triển.", "position": 0, "article_count": 4, "total_article_count": 4, "children": []}))]
pub struct CategoryNode {
    pub id: i64,
    pub slug: String,
    pub name: String,
    pub description: String,
    /// Order among its siblings.
    pub position: i32,
    /// Published articles filed directly in this category.
    pub article_count: i64,
    /// Published articles in this category and all below it.
    pub total_article_count: i64,
    #[schema(no_recursion)]
    pub children: Vec<CategoryNode>,
}

/// The whole category tree, roots in editorial order.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"items": [{"id": 1, "slug": "xa-hoi", "name": "Xã hội", "description": "Tin tức đời sống xã hội.", "position": 0, "article_count": 0, "total_article_count": 4, "children": [{"id": 2, "slug": "dan-so", "name": "Dân số", "description": "Công tác dân số và phát triển.", "position": 0, "article_count": 4, "total_article_count": 4, "children": []}]}]}))]
pub struct CategoryTreeView {
    pub items: Vec<CategoryNode>,
}

/// One category with its place in the tree.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": 2, "slug": "dan-so", "name": "Dân số", "description": "Tin tức về công tác dân số.",
    "parent": {"id": 1, "slug": "xa-hoi", "name": "Xã hội"},
    "ancestors": [{"id": 1, "slug": "xa-hoi", "name": "Xã hội"}],
    "children": [], "article_count": 5, "total_article_count": 5
}))]
pub struct CategoryDetail {
    pub id: i64,
    pub slug: String,
    pub name: String,
    pub description: String,
    pub parent: Option<CategoryRef>,
    /// From the root down to the parent (breadcrumbs).
    pub ancestors: Vec<CategoryRef>,
    /// Direct children in editorial order.
    pub children: Vec<CategoryRef>,
    pub article_count: i64,
    pub total_article_count: i64,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"id": 1, "slug": "binh-dang-gioi", "name": "Bình đẳng giới", "description": "Tin về bình đẳng giới."}))]
pub struct TagView {
    pub id: i64,
    pub slug: String,
    pub name: String,
    pub description: String,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"items": [{"id": 1, "slug": "binh-dang-gioi", "name": "Bình đẳng giới", "description": ""}], "next_cursor": null}))]
pub struct TagList {
    pub items: Vec<TagView>,
    pub next_cursor: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"id": 1, "slug": "tran-thanh-mai", "name": "Trần Thanh Mai", "bio": "Phóng viên mảng xã hội.", "avatar_url": "http://localhost:8080/media/authors/tran-thanh-mai.jpg",
    "avatar": {"url": "http://localhost:8080/media/authors/tran-thanh-mai.jpg", "alt": "Trần Thanh Mai", "width": 400, "height": 400, "mime_type": "image/jpeg", "placeholder": "LKO2?U%2Tw=w]~RBVZRi};RPxuwH", "focal_point": {"x": 0.5, "y": 0.5},
        "renditions": {"1x1": [{"url": "http://localhost:8080/media/r/8d7b2c1e0f3a4b5c6d7e8f9a0b1c2d3e/1x1_500_500/320.webp", "width": 320, "height": 320, "format": "webp"}]},
        "srcset": {"1x1": {"webp": "http://localhost:8080/media/r/8d7b2c1e0f3a4b5c6d7e8f9a0b1c2d3e/1x1_500_500/320.webp 320w"}}}}))]
pub struct AuthorView {
    pub id: i64,
    pub slug: String,
    pub name: String,
    pub bio: String,
    /// The avatar's address (kept for older apps: `avatar` says more).
    pub avatar_url: Option<String>,
    /// The avatar with its size, placeholder and renditions (`null`
    /// without one).
    pub avatar: Option<MediaSnapshot>,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"items": [{"id": 1, "slug": "tran-thanh-mai", "name": "Trần Thanh Mai", "bio": "Phóng viên mảng xã hội.", "avatar_url": null}], "next_cursor": null}))]
pub struct AuthorList {
    pub items: Vec<AuthorView>,
    pub next_cursor: Option<String>,
}

/// Health and readiness answers.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"status": "ok"}))]
pub struct Health {
    /// `ok`, or `unavailable` when a dependency is down.
    pub status: String,
}

/// Turns rows into views for one request: the settings plus the category
/// tree already loaded for it.
pub struct Presenter<'a> {
    pub settings: &'a Arc<Settings>,
    pub tree: &'a CategoryTree,
}

impl Presenter<'_> {
    pub fn time(&self, t: DateTime<Utc>) -> DateTime<FixedOffset> {
        t.with_timezone(&self.settings.timezone).fixed_offset()
    }

    /// Relative media paths become absolute under the site's address.
    pub fn absolute(&self, url: &str) -> String {
        if url.starts_with('/') {
            format!("{}{url}", self.settings.site_url)
        } else {
            url.to_owned()
        }
    }

    /// Stored HTML with site paths (`src="/media/…"`, `href="/…"`) made
    /// absolute, as the JSON's URLs are, so a WebView or a partner's page
    /// shows the pictures. The renderer and the sanitiser always write
    /// these attributes with double quotes.
    pub fn absolute_html(&self, html: &str) -> String {
        let with_srcset = self.with_srcset(html);
        let html = with_srcset.as_str();
        let site = &self.settings.site_url;
        let mut out = String::with_capacity(html.len());
        let mut rest = html;
        while let Some(at) = rest.find("=\"/") {
            let (head, tail) = rest.split_at(at + 2);
            out.push_str(head);
            let attribute = head[..head.len() - 2].rsplit(' ').next().unwrap_or("");
            if matches!(attribute, "src" | "href") && !tail.starts_with("//") {
                out.push_str(site);
            }
            rest = tail;
        }
        out.push_str(rest);
        out
    }

    /// Images of stored files get a `srcset` of their WebP renditions (the
    /// whole picture, never wider than it) and `sizes`; `src` stays the
    /// original, for the rare browser without WebP. Stored HTML is the
    /// renderer's own (`<img src="…" alt="…" width="…" height="…" …>`).
    fn with_srcset(&self, html: &str) -> String {
        const SIZES: &str = "(max-width: 800px) 100vw, 800px";
        let mut out = String::with_capacity(html.len());
        let mut rest = html;
        while let Some(at) = rest.find("<img src=\"") {
            let (head, tail) = rest.split_at(at + "<img src=\"".len());
            out.push_str(head);
            rest = tail;
            let Some(src_end) = rest.find('"') else { break };
            let src = &rest[..src_end];
            let tag = &rest[..rest.find('>').unwrap_or(rest.len())];
            let number = |name: &str| -> Option<u32> {
                let from = tag.find(&format!(" {name}=\""))? + name.len() + 3;
                tag[from..].split('"').next()?.parse().ok()
            };
            let hash = src
                .strip_prefix("/media/o/")
                .and_then(|f| f.split('.').next())
                .filter(|h| crate::media::is_hash(h))
                .map(str::to_owned)
                .or_else(|| crate::media::shipped::facts(src).map(|(_, f)| f.hash));
            out.push_str(&rest[..=src_end]);
            rest = &rest[src_end + 1..];
            let (Some(hash), Some(width), Some(height)) = (hash, number("width"), number("height"))
            else {
                continue;
            };
            if tag.contains(" srcset=") {
                continue;
            }
            let source = crate::media::Source {
                hash: &hash,
                width,
                height,
                focal: (500, 500),
            };
            let set: Vec<String> = self
                .settings
                .media
                .plan(source)
                .into_iter()
                .filter(|p| {
                    p.crop == crate::media::Crop::Original && p.format == crate::media::Format::Webp
                })
                .map(|p| {
                    format!(
                        "{} {}w",
                        self.absolute(&format!("/media/{}", p.key)),
                        p.width
                    )
                })
                .collect();
            let _ = write!(out, " srcset=\"{}\" sizes=\"{SIZES}\"", set.join(", "));
        }
        out.push_str(rest);
        out
    }

    /// The article's address on this site. Always the site's own: a
    /// canonical URL elsewhere (syndicated copies) is an SEO hint in
    /// `seo.canonical_url`, never where readers are sent.
    pub fn article_url(&self, slug: &str) -> String {
        format!("{}/{slug}", self.settings.site_url)
    }

    pub fn category(&self, id: i64) -> CategoryRef {
        self.tree
            .get(id)
            .map(category_ref)
            .unwrap_or_else(|| CategoryRef {
                id,
                slug: String::new(),
                name: String::new(),
            })
    }

    pub fn breadcrumbs(&self, id: i64) -> Vec<CategoryRef> {
        let mut path: Vec<CategoryRef> = self
            .tree
            .ancestors(id)
            .into_iter()
            .map(category_ref)
            .collect();
        path.push(self.category(id));
        path
    }

    pub fn media(&self, m: &Media) -> MediaView {
        let (renditions, srcset) = m
            .source()
            .map(|source| self.settings.media.describe(source, |u| self.absolute(u)))
            .unwrap_or_default();
        MediaView {
            id: m.id,
            url: self.absolute(&m.url),
            alt: m.alt.clone(),
            caption: m.caption.clone(),
            credit: m.credit.clone(),
            width: m.width,
            height: m.height,
            mime_type: m.mime_type.clone(),
            placeholder: m.placeholder.clone(),
            focal_point: FocalPoint {
                x: m.focal_x,
                y: m.focal_y,
            },
            renditions,
            srcset,
        }
    }

    pub fn cover(&self, card: &ArticleCard, media: &[Media]) -> Option<Cover> {
        let m = media.iter().find(|m| Some(m.id) == card.cover_media_id)?;
        Some(Cover {
            caption: card
                .cover_caption
                .clone()
                .or_else(|| m.caption.as_deref().map(crate::domain::body::caption_text)),
            media: self.media(m),
        })
    }

    pub fn summary(
        &self,
        card: &ArticleCard,
        media: &[Media],
        authors: Vec<AuthorSummary>,
        tags: Option<Vec<TagSummary>>,
    ) -> ArticleSummary {
        ArticleSummary {
            id: card.id,
            slug: card.slug.clone(),
            title: card.title.clone(),
            summary: card.summary.clone(),
            excerpt: card.excerpt.clone(),
            url: self.article_url(&card.slug),
            cover: self.cover(card, media),
            category: self.category(card.category_id),
            authors,
            tags,
            published_at: self.time(card.published_at.unwrap_or_default()),
            updated_at: self.time(card.updated_at),
            word_count: card.word_count,
            reading_time_minutes: card.reading_time_minutes,
            featured: card.featured,
            language: card.language.clone(),
        }
    }

    pub fn related(&self, card: &ArticleCard, media: &[Media], pinned: bool) -> RelatedArticle {
        RelatedArticle {
            id: card.id,
            slug: card.slug.clone(),
            title: card.title.clone(),
            excerpt: card.excerpt.clone(),
            url: self.article_url(&card.slug),
            cover: self.cover(card, media),
            published_at: self.time(card.published_at.unwrap_or_default()),
            pinned,
        }
    }

    #[allow(clippy::too_many_arguments)]
    pub fn article(
        &self,
        row: ArticleRow,
        media: &[Media],
        authors: Vec<AuthorSummary>,
        tags: Vec<TagSummary>,
        related: Option<Vec<RelatedArticle>>,
    ) -> Article {
        let card = row.card();
        let url = self.article_url(&row.slug);
        let canonical_url = row
            .canonical_url
            .clone()
            .filter(|c| !c.is_empty())
            .unwrap_or_else(|| url.clone());
        let cover = self.cover(&card, media);
        let social_image = row
            .social_image_id
            .or(row.cover_media_id)
            .and_then(|id| media.iter().find(|m| m.id == id))
            .map(|m| self.media(m));
        // Stored bodies were validated on save; an unreadable one is shown empty
        // rather than failing the page.
        let mut body: Vec<Block> = serde_json::from_value(row.body).unwrap_or_else(|e| {
            log::error!("article {} has an unreadable body: {e}", row.id);
            Vec::new()
        });
        self.image_blocks(&mut body);
        Article {
            id: row.id,
            seo: Seo {
                meta_title: row.meta_title.clone().unwrap_or_else(|| row.title.clone()),
                meta_description: row
                    .meta_description
                    .clone()
                    .unwrap_or_else(|| row.excerpt.clone()),
                canonical_url,
                social_image,
            },
            slug: row.slug,
            title: row.title,
            summary: row.summary,
            excerpt: row.excerpt,
            url,
            cover,
            category: self.category(row.category_id),
            breadcrumbs: self.breadcrumbs(row.category_id),
            authors,
            tags,
            body,
            body_html: self.absolute_html(&row.body_html),
            body_text: row.body_text,
            published_at: self.time(row.published_at.unwrap_or_default()),
            first_published_at: row.first_published_at.map(|t| self.time(t)),
            created_at: self.time(row.created_at),
            updated_at: self.time(row.updated_at),
            word_count: row.word_count,
            reading_time_minutes: row.reading_time_minutes,
            featured: row.featured,
            language: row.language,
            source: row.source,
            version: row.version,
            related,
        }
    }

    /// Each image block's picture as `picture` shows it: the public
    /// article and the staff one show the same media objects.
    pub fn image_blocks(&self, body: &mut [Block]) {
        for block in body {
            if let Block::Image { media: Some(m), .. } = block {
                self.picture(m);
            }
        }
    }

    /// A picture's snapshot as the JSON sends it: URL made absolute, and
    /// for a stored file its renditions and `srcset`s (and, for a shipped
    /// one, what an old snapshot may lack: size and placeholder).
    pub fn picture(&self, m: &mut MediaSnapshot) {
        if let Some(known) = crate::media::view::known(&m.url, &self.settings.site_url) {
            let as_i32 = |n: Option<u32>| n.and_then(|n| i32::try_from(n).ok());
            if known.width.is_some() {
                m.width = as_i32(known.width);
                m.height = as_i32(known.height);
            }
            if m.placeholder.is_none() {
                m.placeholder = known.placeholder;
            }
            let side = |n: Option<i32>| n.and_then(|n| u32::try_from(n).ok()).filter(|n| *n > 0);
            if let (Some(width), Some(height)) = (side(m.width), side(m.height)) {
                let source = crate::media::Source {
                    hash: &known.hash,
                    width,
                    height,
                    focal: crate::media::focal_thousandths(m.focal_point.x, m.focal_point.y),
                };
                (m.renditions, m.srcset) =
                    self.settings.media.describe(source, |u| self.absolute(u));
            }
        }
        m.url = self.absolute(&m.url);
    }

    /// `avatars`: the media records of uploaded avatar files (see
    /// `models::author::avatar_media`).
    pub fn author(&self, a: Author, avatars: &[Media]) -> AuthorView {
        let avatar = a.avatar_url.as_deref().map(|url| {
            let hash = crate::media::view::known(url, &self.settings.site_url).map(|k| k.hash);
            let row = avatars
                .iter()
                .find(|m| hash.is_some() && m.content_hash == hash);
            let mut snapshot = MediaSnapshot::new(
                url.to_owned(),
                row.map(|m| m.alt.clone())
                    .filter(|alt| !alt.trim().is_empty())
                    .unwrap_or_else(|| a.name.clone()),
                row.and_then(|m| m.width),
                row.and_then(|m| m.height),
                row.map(|m| m.mime_type.clone())
                    .unwrap_or_else(|| crate::media::view::mime_type(url).to_owned()),
            );
            if let Some(m) = row {
                snapshot.placeholder = m.placeholder.clone();
                snapshot.focal_point = FocalPoint {
                    x: m.focal_x,
                    y: m.focal_y,
                };
            }
            self.picture(&mut snapshot);
            snapshot
        });
        AuthorView {
            id: a.id,
            slug: a.slug,
            name: a.name,
            bio: a.bio,
            avatar_url: a.avatar_url.map(|u| self.absolute(&u)),
            avatar,
        }
    }
}

pub fn category_ref(c: &Category) -> CategoryRef {
    CategoryRef {
        id: c.id,
        slug: c.slug.clone(),
        name: c.name.clone(),
    }
}

impl From<AuthorRef> for AuthorSummary {
    fn from(a: AuthorRef) -> Self {
        Self {
            id: a.id,
            slug: a.slug,
            name: a.name,
        }
    }
}

impl From<TagRef> for TagSummary {
    fn from(t: TagRef) -> Self {
        Self {
            id: t.id,
            slug: t.slug,
            name: t.name,
        }
    }
}

impl From<Tag> for TagView {
    fn from(t: Tag) -> Self {
        Self {
            id: t.id,
            slug: t.slug,
            name: t.name,
            description: t.description,
        }
    }
}

/// Response schemas for `fields=`: the same objects with only the fields
/// asked for, so none of them is required. Built from the full schemas, so
/// the two never drift apart; the responses offer both (`anyOf`).
pub mod partial {
    use std::borrow::Cow;

    use utoipa::openapi::schema::{AnyOfBuilder, ArrayBuilder, Schema};
    use utoipa::openapi::{Ref, RefOr};
    use utoipa::{PartialSchema, ToSchema};

    /// `T`'s schema with an empty `required` list and a description saying why.
    fn without_required<T: ToSchema>(what: &str) -> RefOr<Schema> {
        let mut schema = T::schema();
        if let RefOr::T(Schema::Object(object)) = &mut schema {
            object.required.clear();
            object.description = Some(format!(
                "{what} as trimmed by `fields=`: only the fields asked for are present."
            ));
            object.example = None;
        }
        schema
    }

    fn reference<T: ToSchema>() -> RefOr<Schema> {
        RefOr::Ref(Ref::from_schema_name(T::name()))
    }

    /// Adds `T` and what it refers to.
    fn collect<T: ToSchema>(schemas: &mut Vec<(String, RefOr<Schema>)>) {
        schemas.push((T::name().into_owned(), T::schema()));
        T::schemas(schemas);
    }

    /// [`super::Article`] with `fields=`.
    pub struct ArticleFields;

    impl PartialSchema for ArticleFields {
        fn schema() -> RefOr<Schema> {
            without_required::<super::Article>("An article")
        }
    }

    impl ToSchema for ArticleFields {
        fn name() -> Cow<'static, str> {
            "ArticleFields".into()
        }
        fn schemas(schemas: &mut Vec<(String, RefOr<Schema>)>) {
            super::Article::schemas(schemas);
        }
    }

    /// [`super::ArticleSummary`] with `fields=`.
    pub struct ArticleSummaryFields;

    impl PartialSchema for ArticleSummaryFields {
        fn schema() -> RefOr<Schema> {
            without_required::<super::ArticleSummary>("An article summary")
        }
    }

    impl ToSchema for ArticleSummaryFields {
        fn name() -> Cow<'static, str> {
            "ArticleSummaryFields".into()
        }
        fn schemas(schemas: &mut Vec<(String, RefOr<Schema>)>) {
            super::ArticleSummary::schemas(schemas);
        }
    }

    /// A page of articles trimmed by `fields=`.
    pub struct ArticleFieldsList;

    impl PartialSchema for ArticleFieldsList {
        fn schema() -> RefOr<Schema> {
            let mut schema = super::ArticleList::schema();
            if let RefOr::T(Schema::Object(object)) = &mut schema {
                object.description =
                    Some("A page of articles whose items are trimmed by `fields=`.".into());
                object.example = None;
                object.properties.insert(
                    "items".into(),
                    ArrayBuilder::new()
                        .items(reference::<ArticleSummaryFields>())
                        .into(),
                );
            }
            schema
        }
    }

    impl ToSchema for ArticleFieldsList {
        fn name() -> Cow<'static, str> {
            "ArticleFieldsList".into()
        }
        fn schemas(schemas: &mut Vec<(String, RefOr<Schema>)>) {
            collect::<ArticleSummaryFields>(schemas);
        }
    }

    /// One article: whole, or trimmed when `fields=` is given.
    pub struct ArticleResponse;

    impl PartialSchema for ArticleResponse {
        fn schema() -> RefOr<Schema> {
            AnyOfBuilder::new()
                .item(reference::<super::Article>())
                .item(reference::<ArticleFields>())
                .description(Some(
                    "The article; with `fields=`, only the fields asked for (`ArticleFields`).",
                ))
                .into()
        }
    }

    impl ToSchema for ArticleResponse {
        fn schemas(schemas: &mut Vec<(String, RefOr<Schema>)>) {
            collect::<super::Article>(schemas);
            collect::<ArticleFields>(schemas);
        }
    }

    /// A page of articles: whole items, or trimmed ones when `fields=` is given.
    pub struct ArticleListResponse;

    impl PartialSchema for ArticleListResponse {
        fn schema() -> RefOr<Schema> {
            AnyOfBuilder::new()
                .item(reference::<super::ArticleList>())
                .item(reference::<ArticleFieldsList>())
                .description(Some(
                    "A page of articles; with `fields=`, each item has only the fields asked for (`ArticleFieldsList`).",
                ))
                .into()
        }
    }

    impl ToSchema for ArticleListResponse {
        fn schemas(schemas: &mut Vec<(String, RefOr<Schema>)>) {
            collect::<super::ArticleList>(schemas);
            collect::<ArticleFieldsList>(schemas);
        }
    }
}
