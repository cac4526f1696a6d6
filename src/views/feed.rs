//! Feeds and sitemaps as their readers take them: RSS 2.0, JSON Feed 1.1,
//! sitemaps (index and pages) and the Google News sitemap. XML is written
//! with quick-xml, which escapes every text and attribute; characters XML
//! 1.0 cannot carry at all (most C0 controls) are left out.

use std::borrow::Cow;
use std::io;

use chrono::{DateTime, FixedOffset, SecondsFormat};
use quick_xml::Writer;
use quick_xml::events::{BytesDecl, BytesText, Event};
use serde::Serialize;
use utoipa::ToSchema;

use crate::views::ArticleSummary;

/// A feed before it is written in one format or the other.
#[derive(Debug)]
pub struct Feed {
    pub title: String,
    pub description: String,
    /// The site's home page.
    pub home_page_url: String,
    pub language: String,
    /// Unique within the site, e.g. `news.example.vn`, for item ids.
    pub host: String,
    pub items: Vec<FeedEntry>,
}

/// One article of a feed.
#[derive(Debug)]
pub struct FeedEntry {
    /// With its tags.
    pub article: ArticleSummary,
    /// The body as HTML, only in a full-text feed (`None`: an excerpt feed).
    pub content_html: Option<String>,
}

impl FeedEntry {
    /// The lead (sapo), or the excerpt of an article without one.
    fn lead(&self) -> &str {
        if self.article.summary.trim().is_empty() {
            &self.article.excerpt
        } else {
            &self.article.summary
        }
    }
}

impl Feed {
    /// A stable id: survives a change of slug or URL.
    fn item_id(&self, id: i64) -> String {
        format!("article-{id}@{}", self.host)
    }

    /// When the newest change shown happened (`None` for an empty feed):
    /// derived from the items, so the same content gives the same bytes.
    fn last_change(&self) -> Option<DateTime<FixedOffset>> {
        self.items.iter().map(|e| e.article.updated_at).max()
    }
}

/// Leaves out what XML 1.0 cannot carry (C0 controls but tab, CR and LF;
/// U+FFFE, U+FFFF); escaping is quick-xml's job.
fn xml_chars(text: &str) -> Cow<'_, str> {
    let allowed = |c: char| !matches!(c, '\u{0}'..='\u{8}' | '\u{b}' | '\u{c}' | '\u{e}'..='\u{1f}' | '\u{fffe}' | '\u{ffff}');
    if text.chars().all(allowed) {
        Cow::Borrowed(text)
    } else {
        Cow::Owned(text.chars().filter(|c| allowed(*c)).collect())
    }
}

fn text(s: &str) -> BytesText<'static> {
    BytesText::new(&xml_chars(s)).into_owned()
}

/// `Wed, 15 Nov 2023 13:59:00 +0700`: RFC 822 (as RFC 2822 writes it), in
/// the site's time zone.
pub fn rfc822(at: DateTime<FixedOffset>) -> String {
    at.to_rfc2822()
}

/// `2023-11-15T13:59:00+07:00`: the W3C date-time sitemaps take.
pub fn w3c(at: DateTime<FixedOffset>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Secs, false)
}

fn document(write: impl FnOnce(&mut Writer<Vec<u8>>) -> io::Result<()>) -> String {
    let mut writer = Writer::new_with_indent(Vec::with_capacity(16 * 1024), b' ', 1);
    let written = writer
        .write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))
        .and_then(|()| write(&mut writer));
    // Writing to memory does not fail.
    debug_assert!(written.is_ok(), "{written:?}");
    String::from_utf8(writer.into_inner()).unwrap_or_default()
}

fn element(w: &mut Writer<Vec<u8>>, name: &str, value: &str) -> io::Result<()> {
    w.create_element(name).write_text_content(text(value))?;
    Ok(())
}

/// RSS 2.0, with Dublin Core for bylines, Media RSS for the cover and
/// `content:encoded` for full text.
pub fn rss(feed: &Feed) -> String {
    document(|w| {
        w.create_element("rss")
            .with_attribute(("version", "2.0"))
            .with_attribute(("xmlns:dc", "http://purl.org/dc/elements/1.1/"))
            .with_attribute(("xmlns:content", "http://purl.org/rss/1.0/modules/content/"))
            .with_attribute(("xmlns:media", "http://search.yahoo.com/mrss/"))
            .write_inner_content(|w| {
                w.create_element("channel").write_inner_content(|w| {
                    element(w, "title", &feed.title)?;
                    element(w, "link", &feed.home_page_url)?;
                    element(w, "description", &feed.description)?;
                    element(w, "language", &feed.language)?;
                    element(w, "generator", "Newsroom")?;
                    if let Some(at) = feed.last_change() {
                        element(w, "lastBuildDate", &rfc822(at))?;
                    }
                    for entry in &feed.items {
                        rss_item(w, feed, entry)?;
                    }
                    Ok(())
                })?;
                Ok(())
            })?;
        Ok(())
    })
}

fn rss_item(w: &mut Writer<Vec<u8>>, feed: &Feed, entry: &FeedEntry) -> io::Result<()> {
    let a = &entry.article;
    w.create_element("item").write_inner_content(|w| {
        element(w, "title", &a.title)?;
        element(w, "link", &a.url)?;
        element(w, "description", entry.lead())?;
        if let Some(html) = &entry.content_html {
            element(w, "content:encoded", html)?;
        }
        w.create_element("guid")
            .with_attribute(("isPermaLink", "false"))
            .write_text_content(text(&feed.item_id(a.id)))?;
        element(w, "pubDate", &rfc822(a.published_at))?;
        for author in &a.authors {
            element(w, "dc:creator", &author.name)?;
        }
        element(w, "category", &a.category.name)?;
        for tag in a.tags.iter().flatten() {
            element(w, "category", &tag.name)?;
        }
        if let Some(cover) = &a.cover {
            let m = &cover.media;
            // RSS wants a length; the file's size is not stored, and 0 is
            // what readers take as "unknown".
            w.create_element("enclosure")
                .with_attribute(("url", xml_chars(&m.url).as_ref()))
                .with_attribute(("length", "0"))
                .with_attribute(("type", xml_chars(&m.mime_type).as_ref()))
                .write_empty()?;
            let width = m.width.map(|v| v.to_string());
            let height = m.height.map(|v| v.to_string());
            let mut content = w
                .create_element("media:content")
                .with_attribute(("url", xml_chars(&m.url).as_ref()))
                .with_attribute(("medium", "image"))
                .with_attribute(("type", xml_chars(&m.mime_type).as_ref()));
            if let Some(width) = &width {
                content = content.with_attribute(("width", width.as_str()));
            }
            if let Some(height) = &height {
                content = content.with_attribute(("height", height.as_str()));
            }
            let caption = cover.caption.as_deref().unwrap_or(&m.alt);
            if caption.is_empty() {
                content.write_empty()?;
            } else {
                content.write_inner_content(|w| element(w, "media:description", caption))?;
            }
        }
        Ok(())
    })?;
    Ok(())
}

/// A JSON Feed 1.1 document.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "version": "https://jsonfeed.org/version/1.1",
    "title": "Newsroom – Xã hội",
    "home_page_url": "http://localhost:8080",
    "description": "Bài mới nhất chuyên mục Xã hội",
    "language": "vi",
    "items": [{
        "id": "article-1@localhost:8080",
        "url": "http://localhost:8080/quang-ninh-huong-ung-thang-hanh-dong-vi-binh-dang-gioi",
        "title": "Quảng Ninh hưởng ứng Tháng hành động vì bình đẳng giới",
        "summary": "Ngày 10/11, tại KCN Đông Mai (TX Quảng Yên)…",
        "content_text": "Ngày 10/11, tại KCN Đông Mai (TX Quảng Yên)…",
        "image": "http://localhost:8080/media/2023/11/2147034_dsc_0597_11282810.jpg",
        "date_published": "2023-11-15T13:59:00+07:00",
        "date_modified": "2023-11-15T13:59:00+07:00",
        "authors": [{"name": "Trần Thanh Mai"}],
        "tags": ["Dân số", "Bình đẳng giới"],
        "language": "vi"
    }]
}))]
pub struct JsonFeed {
    /// Always `https://jsonfeed.org/version/1.1`.
    #[schema(example = "https://jsonfeed.org/version/1.1")]
    pub version: &'static str,
    pub title: String,
    pub home_page_url: String,
    pub description: String,
    #[schema(example = "vi")]
    pub language: String,
    /// Newest first.
    pub items: Vec<JsonFeedItem>,
}

/// An article in a JSON Feed.
#[derive(Debug, Serialize, ToSchema)]
pub struct JsonFeedItem {
    /// Stable across renames: `article-{id}@{site host}`.
    #[schema(example = "article-1@localhost:8080")]
    pub id: String,
    pub url: String,
    pub title: String,
    /// The lead paragraph (sapo).
    pub summary: String,
    /// The lead again, in an excerpt feed (the default).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content_text: Option<String>,
    /// The whole body as HTML, only in a full-text feed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content_html: Option<String>,
    /// The cover image.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
    pub date_published: DateTime<FixedOffset>,
    pub date_modified: DateTime<FixedOffset>,
    pub authors: Vec<JsonFeedAuthor>,
    /// The category, then the tags.
    pub tags: Vec<String>,
    #[schema(example = "vi")]
    pub language: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct JsonFeedAuthor {
    #[schema(example = "Trần Thanh Mai")]
    pub name: String,
}

/// The feed as JSON Feed 1.1.
pub fn json_feed(feed: Feed) -> JsonFeed {
    let items = feed
        .items
        .into_iter()
        .map(|entry| {
            let summary = entry.lead().to_owned();
            let a = entry.article;
            JsonFeedItem {
                id: format!("article-{}@{}", a.id, feed.host),
                content_text: entry.content_html.is_none().then(|| summary.clone()),
                content_html: entry.content_html,
                summary,
                image: a.cover.map(|c| c.media.url),
                date_published: a.published_at,
                date_modified: a.updated_at,
                authors: a
                    .authors
                    .into_iter()
                    .map(|author| JsonFeedAuthor { name: author.name })
                    .collect(),
                tags: std::iter::once(a.category.name)
                    .chain(a.tags.into_iter().flatten().map(|t| t.name))
                    .collect(),
                url: a.url,
                title: a.title,
                language: a.language,
            }
        })
        .collect();
    JsonFeed {
        version: "https://jsonfeed.org/version/1.1",
        title: feed.title,
        home_page_url: feed.home_page_url,
        description: feed.description,
        language: feed.language,
        items,
    }
}

const SITEMAP_NS: &str = "http://www.sitemaps.org/schemas/sitemap/0.9";
const NEWS_NS: &str = "http://www.google.com/schemas/sitemap-news/0.9";

/// A sitemap index: each sitemap's address and when it last changed.
pub fn sitemap_index(sitemaps: &[(String, DateTime<FixedOffset>)]) -> String {
    document(|w| {
        w.create_element("sitemapindex")
            .with_attribute(("xmlns", SITEMAP_NS))
            .write_inner_content(|w| {
                for (loc, lastmod) in sitemaps {
                    w.create_element("sitemap").write_inner_content(|w| {
                        element(w, "loc", loc)?;
                        element(w, "lastmod", &w3c(*lastmod))
                    })?;
                }
                Ok(())
            })?;
        Ok(())
    })
}

/// A sitemap: each article's address and when it last changed.
pub fn sitemap(urls: &[(String, DateTime<FixedOffset>)]) -> String {
    document(|w| {
        w.create_element("urlset")
            .with_attribute(("xmlns", SITEMAP_NS))
            .write_inner_content(|w| {
                for (loc, lastmod) in urls {
                    w.create_element("url").write_inner_content(|w| {
                        element(w, "loc", loc)?;
                        element(w, "lastmod", &w3c(*lastmod))
                    })?;
                }
                Ok(())
            })?;
        Ok(())
    })
}

/// An article of the Google News sitemap.
#[derive(Debug)]
pub struct NewsUrl {
    pub loc: String,
    pub language: String,
    pub title: String,
    pub published_at: DateTime<FixedOffset>,
}

/// The Google News sitemap: `news:publication` names the site and the
/// article's language.
pub fn news_sitemap(site_name: &str, urls: &[NewsUrl]) -> String {
    document(|w| {
        w.create_element("urlset")
            .with_attribute(("xmlns", SITEMAP_NS))
            .with_attribute(("xmlns:news", NEWS_NS))
            .write_inner_content(|w| {
                for url in urls {
                    w.create_element("url").write_inner_content(|w| {
                        element(w, "loc", &url.loc)?;
                        w.create_element("news:news").write_inner_content(|w| {
                            w.create_element("news:publication")
                                .write_inner_content(|w| {
                                    element(w, "news:name", site_name)?;
                                    element(w, "news:language", &url.language)
                                })?;
                            element(w, "news:publication_date", &w3c(url.published_at))?;
                            element(w, "news:title", &url.title)
                        })?;
                        Ok(())
                    })?;
                }
                Ok(())
            })?;
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_written_in_the_site_offset() {
        let at = DateTime::parse_from_rfc3339("2023-11-15T13:59:00+07:00").unwrap();
        assert_eq!(rfc822(at), "Wed, 15 Nov 2023 13:59:00 +0700");
        assert_eq!(w3c(at), "2023-11-15T13:59:00+07:00");
    }

    #[test]
    fn text_is_escaped_and_stripped_of_what_xml_cannot_hold() {
        let at = DateTime::parse_from_rfc3339("2023-11-15T13:59:00+07:00").unwrap();
        let xml = sitemap(&[("http://x.vn/a?b=1&c=<d>\u{1}".into(), at)]);
        assert!(
            xml.contains("<loc>http://x.vn/a?b=1&amp;c=&lt;d&gt;</loc>"),
            "{xml}"
        );
    }
}
