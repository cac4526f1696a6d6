//! Text helpers for Vietnamese content: slugs without diacritics and
//! excerpts cut at a word boundary.

/// About how long an excerpt may be, in characters (not bytes).
pub const EXCERPT_CHARS: usize = 160;

/// Longest slug made from a title or name, in bytes: it fits every field
/// a slug goes into (articles take 200, tags and authors 120).
pub const MAX_GENERATED_SLUG: usize = 120;

/// `Quảng Ninh hưởng ứng…` → `quang-ninh-huong-ung`; `đ` → `d`. At most
/// [`MAX_GENERATED_SLUG`] bytes, cut at a hyphen when there is one.
pub fn slugify(text: &str) -> String {
    let slug = slug::slugify(text);
    if slug.len() <= MAX_GENERATED_SLUG {
        return slug;
    }
    // Slugs are ASCII: any byte is a character boundary.
    let head = &slug[..MAX_GENERATED_SLUG];
    let cut = match head.rfind('-') {
        Some(at) if at > 0 => &head[..at],
        _ => head,
    };
    cut.trim_end_matches('-').to_owned()
}

/// Whether `slug` has the shape the database accepts.
pub fn is_slug(slug: &str) -> bool {
    !slug.is_empty()
        && slug.len() <= 200
        && slug.split('-').all(|part| {
            !part.is_empty()
                && part
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        })
}

/// An absolute `http://` or `https://` URL (any case) with no spaces or
/// control characters.
pub fn is_http_url(url: &str) -> bool {
    let lower = url.trim().to_ascii_lowercase();
    (lower.starts_with("https://") || lower.starts_with("http://"))
        && is_clean(&lower)
        // As browsers (and the sanitiser) parse it: `https://` or
        // `http://[` would be dropped from the page.
        && ammonia::Url::parse(url.trim()).is_ok_and(|u| u.host_str().is_some_and(|h| !h.is_empty()))
}

/// An http(s) URL or a path on the site (`/media/…`): what links, media
/// records and avatars may point to. At most 2,000 bytes.
pub fn is_web_url(url: &str) -> bool {
    let path = url.trim();
    // `//host/…` and `/\host/…` are other sites to a browser, not paths.
    let site_path = path.starts_with('/') && !path.starts_with("//") && !path.starts_with("/\\");
    url.len() <= 2000 && (is_http_url(url) || (site_path && is_clean(path)))
}

fn is_clean(url: &str) -> bool {
    !url.chars().any(|c| c.is_whitespace() || c.is_control())
}

/// Plain text that can never become markup: a `<` directly followed by a
/// letter, `/`, `!` or `?` (what opens a tag or comment in HTML) gets a
/// zero-width space after it. Readers see the same text; a client that
/// wrongly inserts plain text as HTML gets text, never an element.
pub fn defuse_markup(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        out.push(c);
        if c == '<'
            && chars
                .peek()
                .is_some_and(|n| n.is_ascii_alphabetic() || matches!(n, '/' | '!' | '?'))
        {
            out.push('\u{200b}');
        }
    }
    out
}

/// The first `max_chars` characters of `text` or fewer, cut at a word
/// boundary and ended with `…`; `text` itself (trimmed) when it is short
/// enough. Never splits a word or a multi-byte character.
pub fn excerpt(text: &str, max_chars: usize) -> String {
    let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if text.chars().count() <= max_chars {
        return text;
    }
    // Leave room for the ellipsis.
    let budget = max_chars.saturating_sub(1);
    let mut cut = 0;
    for (count, (index, c)) in text.char_indices().enumerate() {
        if count > budget {
            break;
        }
        if c == ' ' {
            cut = index;
        }
    }
    if cut == 0 {
        // One enormous word: cut at a character boundary instead.
        cut = text
            .char_indices()
            .nth(budget)
            .map_or(text.len(), |(index, _)| index);
    }
    let head = text[..cut].trim_end_matches(|c: char| c == ' ' || ",;:-–—(".contains(c));
    format!("{head}…")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn web_urls_are_http_or_site_paths_without_spaces() {
        assert!(is_http_url("https://baoquangninh.vn/a") && is_http_url(" HTTP://x.vn "));
        assert!(!is_http_url("/media/a.jpg") && !is_http_url("javascript:alert(1)"));
        assert!(!is_http_url("https://x.vn/a b"));
        assert!(is_web_url("/media/a.jpg") && is_web_url("https://x.vn/a.jpg"));
        assert!(!is_web_url("data:image/png;base64,x") && !is_web_url("/a\nb"));
        assert!(!is_web_url(&format!("/{}", "a".repeat(2000))));
        assert!(!is_web_url("//attacker.example/x.jpg") && !is_web_url("/\\attacker.example"));
    }

    #[test]
    fn slugs_drop_vietnamese_diacritics() {
        assert_eq!(
            slugify("Quảng Ninh hưởng ứng Tháng hành động vì bình đẳng giới"),
            "quang-ninh-huong-ung-thang-hanh-dong-vi-binh-dang-gioi"
        );
        assert_eq!(slugify("Đông Mai, Đắk Lắk"), "dong-mai-dak-lak");
        assert!(is_slug("dong-mai-2"));
        assert!(!is_slug("Dong-mai") && !is_slug("a--b") && !is_slug("-a") && !is_slug(""));
    }

    #[test]
    fn plain_text_never_opens_a_tag() {
        assert_eq!(defuse_markup("a < b, 3<4"), "a < b, 3<4");
        assert_eq!(
            defuse_markup("<img src=x onerror=alert(1)></p><!--"),
            "<\u{200b}img src=x onerror=alert(1)><\u{200b}/p><\u{200b}!--"
        );
        let once = defuse_markup("<b>");
        assert_eq!(defuse_markup(&once), once);
    }

    #[test]
    fn excerpts_end_at_a_word_with_an_ellipsis() {
        let text = "Ngày 10/11, tại KCN Đông Mai (TX Quảng Yên), Sở LĐ-TB&XH phối hợp với LĐLĐ tỉnh, Ban Quản lý Khu kinh tế Quảng Ninh, UBND TX Quảng Yên tổ chức lễ phát động hưởng ứng Tháng hành động.";
        let e = excerpt(text, EXCERPT_CHARS);
        assert!(e.ends_with('…'));
        assert!(e.chars().count() <= EXCERPT_CHARS);
        let head = e.trim_end_matches('…');
        assert!(text.starts_with(head));
        assert_eq!(text[head.len()..].chars().next(), Some(' '));
        assert_eq!(excerpt("ngắn gọn", 160), "ngắn gọn");
        let long_word = "đ".repeat(300);
        assert_eq!(excerpt(&long_word, 10).chars().count(), 10);
    }
}
