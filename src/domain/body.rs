//! Article bodies as structured blocks, and what is derived from them on
//! every save: sanitised HTML, plain text, word count and reading time.
//!
//! Inline text may carry `<strong>`, `<em>`, `<b>`, `<i>` and `<a href>`;
//! everything else is stripped by ammonia, never trusted.

use std::collections::{BTreeMap, HashSet};
use std::fmt::Write;
use std::sync::LazyLock;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::domain::text::{defuse_markup, is_web_url};
use crate::media::view::{FocalPoint, RenditionView, Renditions, Srcsets};

/// One block of an article body.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum Block {
    /// A paragraph of inline text.
    #[schema(example = json!({"type": "paragraph", "text": "Tại buổi lễ phát động, đại diện Sở LĐ-TB&XH kêu gọi các cấp, ngành…"}))]
    Paragraph {
        /// Inline text; may contain `<strong>`, `<em>` and `<a href>`.
        text: String,
    },
    /// A section heading.
    #[schema(example = json!({"type": "heading", "level": 2, "text": "Đẩy mạnh tuyên truyền"}))]
    Heading {
        /// 2, 3 or 4 (the article title is the level-1 heading).
        #[schema(minimum = 2, maximum = 4)]
        level: u8,
        text: String,
    },
    /// A bulleted or numbered list.
    #[schema(example = json!({"type": "list", "style": "unordered", "items": ["Tuyên truyền", "Giáo dục"]}))]
    List {
        style: ListStyle,
        items: Vec<String>,
    },
    /// A quotation, with an optional citation.
    #[schema(example = json!({"type": "quote", "text": "Bình đẳng giới là trách nhiệm của toàn xã hội.", "citation": "Sở LĐ-TB&XH"}))]
    Quote {
        /// Inline HTML, as a paragraph's.
        text: String,
        /// Inline HTML, as a paragraph's.
        #[serde(default)]
        citation: Option<String>,
    },
    /// An image from the media library.
    #[schema(example = json!({"type": "image", "media_id": 1, "media": {"url": "http://localhost:8080/media/2023/11/2147034_dsc_0597_11282810.jpg", "alt": "Lễ phát động", "width": 1200, "height": 800, "mime_type": "image/jpeg"}, "caption": "Quang cảnh lễ phát động.", "credit": "Báo Quảng Ninh"}))]
    Image {
        media_id: i64,
        /// The media record as it was when the article was saved.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        media: Option<MediaSnapshot>,
        /// Inline HTML, as a paragraph's.
        #[serde(default)]
        caption: Option<String>,
        /// Inline HTML, as a paragraph's.
        #[serde(default)]
        credit: Option<String>,
    },
    /// Third-party content (video, social post) shown by URL.
    #[schema(example = json!({"type": "embed", "provider": "youtube", "url": "https://www.youtube.com/watch?v=dQw4w9WgXcQ", "title": "Phóng sự"}))]
    Embed {
        /// For example `youtube`, `facebook`, `tiktok`.
        provider: String,
        url: String,
        /// Plain text (it becomes the link's text in `body_html`).
        #[serde(default)]
        title: Option<String>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
#[schema(example = "unordered")]
pub enum ListStyle {
    Ordered,
    Unordered,
}

/// What a picture needs to render without another request: an image
/// block's media record as it was when its article was saved, or an
/// author's avatar. Stored files (uploads and the demo's) carry
/// `renditions` per crop and ready `srcset` strings, worked out when the
/// JSON is sent (so they follow the configured widths); a picture at an
/// external URL has neither (empty objects).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({
    "url": "http://localhost:8080/media/2023/11/2147034_dsc_0597_11282810.jpg",
    "alt": "Lễ phát động tại KCN Đông Mai",
    "width": 1200,
    "height": 800,
    "mime_type": "image/jpeg",
    "placeholder": "LKO2?U%2Tw=w]~RBVZRi};RPxuwH",
    "focal_point": {"x": 0.5, "y": 0.5},
    "renditions": {"original": [{"url": "http://localhost:8080/media/r/8d7b2c1e0f3a4b5c6d7e8f9a0b1c2d3e/original/320.avif", "width": 320, "height": 213, "format": "avif"}]},
    "srcset": {"original": {"avif": "http://localhost:8080/media/r/8d7b2c1e0f3a4b5c6d7e8f9a0b1c2d3e/original/320.avif 320w", "webp": "http://localhost:8080/media/r/8d7b2c1e0f3a4b5c6d7e8f9a0b1c2d3e/original/320.webp 320w", "jpeg": "http://localhost:8080/media/r/8d7b2c1e0f3a4b5c6d7e8f9a0b1c2d3e/original/320.jpg 320w"}}
}))]
pub struct MediaSnapshot {
    #[schema(example = "/media/2023/11/2147034_dsc_0597_11282810.jpg")]
    pub url: String,
    pub alt: String,
    pub width: Option<i32>,
    pub height: Option<i32>,
    #[schema(example = "image/jpeg")]
    pub mime_type: String,
    /// A BlurHash (4 × 3 components) to paint while the picture loads.
    #[serde(default)]
    pub placeholder: Option<String>,
    /// The point crops keep in frame.
    #[serde(default)]
    pub focal_point: FocalPoint,
    /// Per crop (`original`, `16x9`, `4x3`, `1x1`): every rendition,
    /// narrow to wide, in AVIF, WebP and JPEG. Never wider than the file.
    // Spelled out, not the alias: utoipa names an alias's schema after its
    // outer type, and both maps would share one `BTreeMap` component.
    #[serde(default)]
    pub renditions: BTreeMap<String, Vec<RenditionView>>,
    /// Per crop, per format (`avif`, `webp`, `jpeg`): a ready `srcset`.
    #[serde(default)]
    pub srcset: BTreeMap<String, BTreeMap<String, String>>,
}

impl MediaSnapshot {
    /// A snapshot of a picture with no renditions yet (the JSON's
    /// presenter adds them).
    pub fn new(
        url: String,
        alt: String,
        width: Option<i32>,
        height: Option<i32>,
        mime_type: String,
    ) -> Self {
        Self {
            url,
            alt,
            width,
            height,
            mime_type,
            placeholder: None,
            focal_point: FocalPoint::default(),
            renditions: Renditions::new(),
            srcset: Srcsets::new(),
        }
    }
}

/// Everything derived from the blocks, stored beside them.
#[derive(Debug, Clone, PartialEq)]
pub struct Rendered {
    pub html: String,
    pub text: String,
    pub word_count: i32,
    pub reading_time_minutes: i32,
}

/// Vietnamese news is read at roughly this pace.
const WORDS_PER_MINUTE: usize = 200;

static INLINE: LazyLock<ammonia::Builder<'static>> = LazyLock::new(inline_builder);

/// What inline text may keep: a few phrasing tags and http(s)/mailto links.
pub fn inline_builder() -> ammonia::Builder<'static> {
    let mut builder = ammonia::Builder::empty();
    builder
        .tags(HashSet::from(["strong", "em", "b", "i", "a"]))
        .tag_attributes([("a", HashSet::from(["href"]))].into())
        .url_schemes(HashSet::from(["http", "https", "mailto"]))
        .link_rel(Some("noopener noreferrer"))
        .clean_content_tags(HashSet::from(["script", "style"]));
    builder
}

static STRIP: LazyLock<ammonia::Builder<'static>> = LazyLock::new(|| {
    let mut builder = ammonia::Builder::empty();
    builder.clean_content_tags(HashSet::from(["script", "style"]));
    builder
});

/// Inline text made safe to place inside an HTML element, and stable:
/// cleaning it again changes nothing. One pass is not always that: from
/// `<a <strong><table><tr><td><a href=…>x</a>` the parser builds an `<a>`
/// inside an `<a>` (by way of the table's foster parenting), whose
/// serialisation a browser parses as two anchors side by side. So it is
/// cleaned until nothing changes (twice in that case; once in practice).
pub fn sanitize_inline(text: &str) -> String {
    let mut clean = INLINE.clean(text).to_string();
    for _ in 0..4 {
        let again = INLINE.clean(&clean).to_string();
        if again == clean {
            break;
        }
        clean = again;
    }
    clean
}

/// Inline text as plain text: every tag removed and entities decoded, but
/// what was escaped text never comes back as a tag (see
/// [`defuse_markup`]).
pub fn strip_inline(text: &str) -> String {
    let escaped = STRIP.clean(text).to_string();
    defuse_markup(
        &escaped
            .replace("&nbsp;", "\u{a0}")
            .replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&quot;", "\"")
            .replace("&#39;", "'")
            .replace("&amp;", "&"),
    )
}

/// A media record's caption (inline HTML) as plain text, for the places that
/// promise text (`cover.caption`): [`strip_inline`], skipped when there is
/// no tag or entity to remove.
pub fn caption_text(html: &str) -> String {
    if html.contains(['<', '&']) {
        strip_inline(html)
    } else {
        html.to_owned()
    }
}

/// Whether inline HTML links anywhere but http(s), mailto or a relative
/// address, judged on the `href`s a browser would see (entities decoded,
/// tabs and newlines dropped), not on the raw text: `Open data: …` is text.
pub fn has_unsafe_link(text: &str) -> bool {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};
    let found = Arc::new(AtomicBool::new(false));
    let flag = found.clone();
    let mut builder = inline_builder();
    // ammonia drops links of schemes it does not allow before the filter
    // sees them: let the dangerous ones through to be reported (other
    // unknown schemes are still dropped when the text is sanitised).
    builder.add_url_schemes([
        "javascript",
        "vbscript",
        "data",
        "file",
        "blob",
        "filesystem",
    ]);
    builder.attribute_filter(move |_, attribute, value| {
        if attribute == "href" && !is_safe_href(value) {
            flag.store(true, Ordering::Relaxed);
        }
        Some(value.into())
    });
    builder.clean(text);
    found.load(Ordering::Relaxed)
}

fn is_safe_href(value: &str) -> bool {
    // Browsers drop tabs and newlines anywhere in a URL, and leading spaces
    // and control characters.
    let url: String = value
        .trim_start_matches(|c: char| c <= ' ')
        .chars()
        .filter(|c| !matches!(c, '\t' | '\n' | '\r'))
        .collect();
    let end = url.find(['/', '?', '#']).unwrap_or(url.len());
    match url[..end].split_once(':') {
        None => true,
        Some((scheme, _)) => ["http", "https", "mailto"]
            .iter()
            .any(|s| scheme.eq_ignore_ascii_case(s)),
    }
}

/// `text` with the five HTML-significant characters escaped.
pub(crate) fn escape_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            // Parsers drop NUL, so a page holding one is not what readers get.
            '\0' => {}
            c => out.push(c),
        }
    }
    out
}

pub fn render(blocks: &[Block]) -> Rendered {
    let mut html = String::new();
    let mut text = String::new();
    let mut push_text = |t: &str| {
        let t = t.trim();
        if !t.is_empty() {
            if !text.is_empty() {
                text.push_str("\n\n");
            }
            text.push_str(t);
        }
    };
    for block in blocks {
        match block {
            Block::Paragraph { text: t } => {
                let _ = write!(html, "<p>{}</p>", sanitize_inline(t));
                push_text(&strip_inline(t));
            }
            Block::Heading { level, text: t } => {
                let level = (*level).clamp(2, 4);
                let _ = write!(html, "<h{level}>{}</h{level}>", sanitize_inline(t));
                push_text(&strip_inline(t));
            }
            Block::List { style, items } => {
                let tag = match style {
                    ListStyle::Ordered => "ol",
                    ListStyle::Unordered => "ul",
                };
                let _ = write!(html, "<{tag}>");
                for item in items {
                    let _ = write!(html, "<li>{}</li>", sanitize_inline(item));
                }
                let _ = write!(html, "</{tag}>");
                let plain: Vec<String> = items.iter().map(|i| strip_inline(i)).collect();
                push_text(&plain.join("\n"));
            }
            Block::Quote { text: t, citation } => {
                let _ = write!(html, "<blockquote><p>{}</p>", sanitize_inline(t));
                if let Some(c) = citation.as_deref().filter(|c| !c.trim().is_empty()) {
                    let _ = write!(html, "<cite>{}</cite>", sanitize_inline(c));
                }
                html.push_str("</blockquote>");
                push_text(&strip_inline(t));
            }
            Block::Image {
                media,
                caption,
                credit,
                ..
            } => {
                html.push_str("<figure>");
                if let Some(m) = media.as_ref().filter(|m| is_web_url(&m.url)) {
                    let _ = write!(
                        html,
                        "<img src=\"{}\" alt=\"{}\"",
                        escape_text(&m.url),
                        escape_text(&m.alt)
                    );
                    if let (Some(w), Some(h)) = (m.width, m.height) {
                        let _ = write!(html, " width=\"{w}\" height=\"{h}\"");
                    }
                    html.push_str(" loading=\"lazy\">");
                }
                let caption = caption.as_deref().map(str::trim).unwrap_or("");
                let credit = credit.as_deref().map(str::trim).unwrap_or("");
                if !caption.is_empty() || !credit.is_empty() {
                    html.push_str("<figcaption>");
                    html.push_str(&sanitize_inline(caption));
                    if !credit.is_empty() {
                        let _ = write!(html, " <small>{}</small>", sanitize_inline(credit));
                    }
                    html.push_str("</figcaption>");
                }
                html.push_str("</figure>");
            }
            Block::Embed {
                provider,
                url,
                title,
            } => {
                if is_web_url(url) {
                    let label = title.as_deref().unwrap_or(url);
                    let _ = write!(
                        html,
                        "<figure class=\"embed\" data-provider=\"{}\"><a href=\"{}\" rel=\"noopener noreferrer\">{}</a></figure>",
                        escape_text(provider),
                        escape_text(url),
                        escape_text(label)
                    );
                }
            }
        }
    }
    // Punctuation standing alone (`-`, `&`) is not a word.
    let words = text
        .split_whitespace()
        .filter(|w| w.chars().any(char::is_alphanumeric))
        .count();
    Rendered {
        html,
        word_count: i32::try_from(words).unwrap_or(i32::MAX),
        reading_time_minutes: i32::try_from(words.div_ceil(WORDS_PER_MINUTE)).unwrap_or(i32::MAX),
        text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_sanitised_html_and_plain_text() {
        let blocks = vec![
            Block::Heading {
                level: 2,
                text: "Bình đẳng giới".into(),
            },
            Block::Paragraph {
                text: "Một <strong>đoạn</strong> <script>alert(1)</script><a href=\"javascript:x\" onclick=\"y\">văn</a> &amp; bản".into(),
            },
            Block::Quote {
                text: "Trích dẫn".into(),
                citation: Some("<b>Nguồn</b><img src=x onerror=alert(1)>".into()),
            },
        ];
        let r = render(&blocks);
        assert!(r.html.contains("<h2>Bình đẳng giới</h2>"));
        assert!(r.html.contains("<strong>đoạn</strong>"));
        assert!(!r.html.contains("script"));
        assert!(!r.html.contains("javascript"));
        assert!(!r.html.contains("onclick"));
        assert!(!r.html.contains("onerror"));
        // Citations are inline HTML, sanitised as paragraphs are.
        assert!(r.html.contains("<cite><b>Nguồn</b></cite>"));
        assert_eq!(r.text, "Bình đẳng giới\n\nMột đoạn văn & bản\n\nTrích dẫn");
        assert_eq!(r.word_count, 9);
        assert_eq!(r.reading_time_minutes, 1);
    }

    #[test]
    fn inline_html_is_cleaned_until_it_is_stable() {
        // Found by the property test: one pass left an anchor in an anchor.
        let once =
            sanitize_inline(r#"<a <strong><table><tr><td><a href="javascript:alert(1)">x</a>"#);
        assert_eq!(sanitize_inline(&once), once);
        assert!(!once.contains("javascript"), "{once}");
        assert_eq!(once.matches("<a ").count(), once.matches("</a>").count());
    }
}
