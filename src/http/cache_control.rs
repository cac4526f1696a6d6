//! `Cache-Control` for public responses, per kind of resource: browsers
//! revalidate every time (`max-age=0`, cheap with the ETag), shared caches
//! (a CDN, Varnish) keep a copy for `s-maxage` seconds and may serve it a
//! little stale while they refetch, or much longer while the origin is down.

use std::str::FromStr;

use actix_web::http::header::HeaderValue;

/// What a public response is, for how long a shared cache may keep it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// One article (by slug or id).
    Article,
    /// Article lists, related articles, most read.
    List,
    /// Search and suggestions.
    Search,
    /// Categories, tags, authors.
    Taxonomy,
}

impl Kind {
    /// The kind of a public API path (decoded, as the router saw it).
    pub fn of(path: &str) -> Self {
        let rest = path.strip_prefix("/api/v1/").unwrap_or(path);
        let mut segments = rest.split('/');
        match (segments.next(), segments.next(), segments.next()) {
            (Some("search"), _, _) => Self::Search,
            (Some("categories" | "tags" | "authors"), _, _) => Self::Taxonomy,
            (Some("articles"), Some("most-read") | None, _) => Self::List,
            (Some("articles"), Some("id"), Some(_)) => Self::Article,
            (Some("articles"), Some(_), None) => Self::Article,
            _ => Self::List,
        }
    }
}

/// Seconds a shared cache may keep each kind (`s-maxage`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EdgeTtls {
    pub article: u32,
    pub list: u32,
    pub search: u32,
    pub taxonomy: u32,
}

impl Default for EdgeTtls {
    fn default() -> Self {
        Self {
            article: 60,
            list: 30,
            search: 30,
            taxonomy: 300,
        }
    }
}

impl EdgeTtls {
    /// The defaults when purges reach the edge: a change shows at once, so
    /// copies may live longer.
    pub fn purged() -> Self {
        Self {
            article: 3600,
            list: 300,
            search: 300,
            taxonomy: 3600,
        }
    }

    /// These values, with the kinds named in `text`
    /// (`article=60,list=30,…`) set.
    pub fn overridden_by(self, text: &str) -> Result<Self, String> {
        let mut ttls = self;
        for pair in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (kind, seconds) = pair
                .split_once('=')
                .ok_or_else(|| format!("`{pair}` is not kind=seconds"))?;
            let seconds: u32 = seconds
                .trim()
                .parse()
                .ok()
                .filter(|s| *s <= 31_536_000)
                .ok_or_else(|| format!("`{pair}`: seconds must be 0 to 31536000"))?;
            let slot = match kind.trim() {
                "article" => &mut ttls.article,
                "list" => &mut ttls.list,
                "search" => &mut ttls.search,
                "taxonomy" => &mut ttls.taxonomy,
                other => {
                    return Err(format!(
                        "unknown kind `{other}` (article, list, search, taxonomy)"
                    ));
                }
            };
            *slot = seconds;
        }
        Ok(ttls)
    }
}

impl FromStr for EdgeTtls {
    type Err = String;

    /// Over the defaults without edge purges.
    fn from_str(text: &str) -> Result<Self, String> {
        Self::default().overridden_by(text)
    }
}

/// The header values, made once.
#[derive(Debug, Clone)]
pub struct CachePolicy {
    article: HeaderValue,
    list: HeaderValue,
    search: HeaderValue,
    taxonomy: HeaderValue,
}

impl CachePolicy {
    pub fn new(ttls: EdgeTtls, stale_while_revalidate: u32, stale_if_error: u32) -> Self {
        let value = |s_maxage: u32| {
            HeaderValue::from_str(&format!(
                "public, max-age=0, s-maxage={s_maxage}, \
                 stale-while-revalidate={stale_while_revalidate}, stale-if-error={stale_if_error}"
            ))
            .expect("digits and commas make a header value")
        };
        Self {
            article: value(ttls.article),
            list: value(ttls.list),
            search: value(ttls.search),
            taxonomy: value(ttls.taxonomy),
        }
    }

    pub fn header(&self, kind: Kind) -> HeaderValue {
        match kind {
            Kind::Article => self.article.clone(),
            Kind::List => self.list.clone(),
            Kind::Search => self.search.clone(),
            Kind::Taxonomy => self.taxonomy.clone(),
        }
    }
}

impl Default for CachePolicy {
    fn default() -> Self {
        Self::new(EdgeTtls::default(), 30, 86_400)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_have_kinds_and_ttls_parse() {
        assert_eq!(Kind::of("/api/v1/articles/quang-ninh"), Kind::Article);
        assert_eq!(Kind::of("/api/v1/articles/id/7"), Kind::Article);
        assert_eq!(Kind::of("/api/v1/articles"), Kind::List);
        assert_eq!(Kind::of("/api/v1/articles/most-read"), Kind::List);
        assert_eq!(Kind::of("/api/v1/articles/quang-ninh/related"), Kind::List);
        assert_eq!(Kind::of("/api/v1/search/suggest"), Kind::Search);
        assert_eq!(Kind::of("/api/v1/tags/binh-dang-gioi"), Kind::Taxonomy);
        let ttls: EdgeTtls = "article=600, taxonomy=0".parse().unwrap();
        assert_eq!((ttls.article, ttls.list, ttls.taxonomy), (600, 30, 0));
        assert!("article".parse::<EdgeTtls>().is_err());
        assert!("page=5".parse::<EdgeTtls>().is_err());
        assert!("list=-1".parse::<EdgeTtls>().is_err());
    }
}
