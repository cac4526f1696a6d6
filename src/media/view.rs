//! Renditions as the JSON shows them: for any picture whose file is
//! stored (an upload or a shipped demo file), every rendition's URL per
//! crop and ready `srcset` strings per crop and format. Covers, image
//! blocks, avatars and social images all use this one description.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::media::{MediaSettings, Source, is_hash, shipped};

/// One rendition: a stable, immutable URL.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"url": "http://localhost:8080/media/r/8d7b2c1e0f3a4b5c6d7e8f9a0b1c2d3e/original/640.webp", "width": 640, "height": 427, "format": "webp"}))]
pub struct RenditionView {
    pub url: String,
    pub width: u32,
    pub height: u32,
    /// `avif`, `webp` or `jpeg`.
    pub format: String,
}

/// Where crops are centred.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"x": 0.5, "y": 0.3}))]
pub struct FocalPoint {
    /// 0 (left) to 1 (right).
    #[schema(minimum = 0, maximum = 1)]
    pub x: f64,
    /// 0 (top) to 1 (bottom).
    #[schema(minimum = 0, maximum = 1)]
    pub y: f64,
}

impl Default for FocalPoint {
    fn default() -> Self {
        Self { x: 0.5, y: 0.5 }
    }
}

/// Per crop (`original`, `16x9`, …): its renditions, narrow to wide.
pub type Renditions = BTreeMap<String, Vec<RenditionView>>;
/// Per crop, per format (`avif`, `webp`, `jpeg`): a `srcset` value.
pub type Srcsets = BTreeMap<String, BTreeMap<String, String>>;

/// What a stored file's URL says of it: its content hash, and for a
/// shipped file its dimensions and placeholder as well.
#[derive(Debug, Clone)]
pub struct Known {
    pub hash: String,
    pub width: Option<u32>,
    pub height: Option<u32>,
    pub placeholder: Option<String>,
}

/// The stored file a site path (`/media/…`, or the same under
/// `site_url`) names: a stored original (`/media/o/{hash}.{ext}`) or a
/// shipped demo file. `None` for anything else (external files).
pub fn known(url: &str, site_url: &str) -> Option<Known> {
    let path = url
        .strip_prefix(site_url)
        .filter(|p| p.starts_with('/'))
        .unwrap_or(url);
    if let Some((_, facts)) = shipped::facts(path) {
        return Some(Known {
            hash: facts.hash,
            width: Some(facts.width),
            height: Some(facts.height),
            placeholder: Some(facts.placeholder),
        });
    }
    let file = path.strip_prefix("/media/o/")?;
    let (hash, ext) = file.split_once('.')?;
    (is_hash(hash) && !ext.contains('/')).then(|| Known {
        hash: hash.to_owned(),
        width: None,
        height: None,
        placeholder: None,
    })
}

impl MediaSettings {
    /// Every rendition of `source` and the `srcset`s listing them, with
    /// URLs made absolute by `absolute`.
    pub fn describe(
        &self,
        source: Source<'_>,
        absolute: impl Fn(&str) -> String,
    ) -> (Renditions, Srcsets) {
        let mut renditions = Renditions::new();
        let mut srcset = Srcsets::new();
        for p in self.plan(source) {
            let url = absolute(&format!("/media/{}", p.key));
            let crop = p.crop.name();
            let set = srcset
                .entry(crop.clone())
                .or_default()
                .entry(p.format.name().to_owned())
                .or_default();
            if !set.is_empty() {
                set.push_str(", ");
            }
            let _ = write!(set, "{url} {}w", p.width);
            renditions.entry(crop).or_default().push(RenditionView {
                url,
                width: p.width,
                height: p.height,
                format: p.format.name().to_owned(),
            });
        }
        (renditions, srcset)
    }
}

/// The type a file's extension names (`image/jpeg` when it names none).
pub fn mime_type(url: &str) -> &'static str {
    let ext = url
        .rsplit('/')
        .next()
        .and_then(|file| file.rsplit_once('.'))
        .map(|(_, ext)| ext.to_ascii_lowercase());
    match ext.as_deref() {
        Some("png") => "image/png",
        Some("webp") => "image/webp",
        Some("gif") => "image/gif",
        Some("avif") => "image/avif",
        _ => "image/jpeg",
    }
}
