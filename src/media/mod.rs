//! Uploaded images: where they are stored, how an upload is checked and
//! cleaned, and the renditions (widths × crops × formats) made from it.
//!
//! Every URL here is content-addressed: a stored original is
//! `o/{hash}.{ext}` and a rendition `r/{hash}/{variant}/{width}.{ext}`,
//! where `hash` is the clean original's SHA-256 and `variant` names the
//! crop and, for crops, the focal point it was cut around. A new file or
//! focal point makes new URLs, so every one is served as immutable.

pub mod avif;
pub mod process;
pub mod renditions;
pub mod shipped;
pub mod storage;
pub mod view;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, Weak};

use storage::Storage;

/// An output format of renditions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    Avif,
    Jpeg,
    Webp,
}

impl Format {
    /// In the order `srcset`s are listed: smallest files first.
    pub const ALL: [Format; 3] = [Format::Avif, Format::Webp, Format::Jpeg];

    /// Whether eager making (after an upload) includes this format. AVIF
    /// costs several times a WebP to encode, so it is made on its first
    /// request only, frame by frame.
    pub fn eager(self) -> bool {
        self != Self::Avif
    }

    pub fn extension(self) -> &'static str {
        match self {
            Self::Avif => "avif",
            Self::Jpeg => "jpg",
            Self::Webp => "webp",
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::Avif => "avif",
            Self::Jpeg => "jpeg",
            Self::Webp => "webp",
        }
    }

    pub fn mime(self) -> &'static str {
        match self {
            Self::Avif => "image/avif",
            Self::Jpeg => "image/jpeg",
            Self::Webp => "image/webp",
        }
    }

    pub fn from_extension(ext: &str) -> Option<Self> {
        match ext {
            "avif" => Some(Self::Avif),
            "jpg" => Some(Self::Jpeg),
            "webp" => Some(Self::Webp),
            _ => None,
        }
    }
}

/// A rendition's frame: the whole picture, or an aspect ratio cut around
/// the focal point.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Crop {
    Original,
    Aspect(u32, u32),
}

impl Crop {
    /// As settings write it: `original`, `16:9` (or `16x9`).
    pub fn parse(text: &str) -> Result<Self, String> {
        let text = text.trim();
        if text == "original" {
            return Ok(Self::Original);
        }
        let (a, b) = text
            .split_once([':', 'x'])
            .ok_or_else(|| format!("`{text}` is neither `original` nor a ratio like `16:9`"))?;
        let parse = |n: &str| {
            n.trim()
                .parse::<u32>()
                .ok()
                .filter(|n| (1..=100).contains(n))
        };
        match (parse(a), parse(b)) {
            (Some(a), Some(b)) => Ok(Self::Aspect(a, b)),
            _ => Err(format!(
                "`{text}`: a ratio's sides are whole numbers from 1 to 100"
            )),
        }
    }

    /// As JSON and URLs write it: `original`, `16x9`.
    pub fn name(self) -> String {
        match self {
            Self::Original => "original".into(),
            Self::Aspect(a, b) => format!("{a}x{b}"),
        }
    }

    /// The frame `(left, top, width, height)` within a `width × height`
    /// picture, as large as fits, centred on the focal point (in
    /// thousandths of each side) as far as the edges allow.
    pub fn frame(self, width: u32, height: u32, focal: (u32, u32)) -> (u32, u32, u32, u32) {
        let Self::Aspect(a, b) = self else {
            return (0, 0, width, height);
        };
        let (w, h) = (u64::from(width), u64::from(height));
        let (a, b) = (u64::from(a), u64::from(b));
        // Wider than the ratio: full height; otherwise full width.
        let (cw, ch) = if w * b > h * a {
            (((h * a + b / 2) / b).clamp(1, w), h)
        } else {
            (w, ((w * b + a / 2) / a).clamp(1, h))
        };
        let place = |side: u64, cut: u64, at: u32| -> u64 {
            let centre = side * u64::from(at.min(1000)) / 1000;
            centre.saturating_sub(cut / 2).min(side - cut)
        };
        let left = place(w, cw, focal.0);
        let top = place(h, ch, focal.1);
        (left as u32, top as u32, cw as u32, ch as u32)
    }
}

/// How images are taken in, stored and cut.
#[derive(Debug, Clone)]
pub struct MediaSettings {
    pub storage: Storage,
    /// Bytes an upload may have.
    pub max_bytes: u64,
    /// Pixels (width × height) an upload may have.
    pub max_pixels: u64,
    /// Rendition widths, ascending.
    pub widths: Vec<u32>,
    pub crops: Vec<Crop>,
    /// JPEG and WebP quality.
    pub quality: u8,
    /// Make every rendition right after an upload.
    pub eager: bool,
    /// Turns at decoding and encoding: at most one image per core.
    pub work: Arc<tokio::sync::Semaphore>,
    /// One maker per rendition: concurrent first requests wait for it.
    flights: Arc<Mutex<HashMap<String, Weak<tokio::sync::Mutex<()>>>>>,
    /// Times an original was decoded to make renditions (for tests and
    /// logs: concurrent first requests must make a rendition once).
    pub batches: Arc<std::sync::atomic::AtomicUsize>,
    /// Content-addressed files served lately, kept in memory (they never
    /// change, so there is nothing to purge): 64 MB at most.
    pub hot: moka::sync::Cache<String, actix_web::web::Bytes>,
}

impl MediaSettings {
    pub fn new(
        storage: Storage,
        max_bytes: u64,
        max_pixels: u64,
        widths: &[u32],
        crops: &[String],
        quality: u8,
        eager: bool,
    ) -> Result<Self, String> {
        let mut widths: Vec<u32> = widths.to_vec();
        widths.sort_unstable();
        widths.dedup();
        if widths.is_empty() || widths.iter().any(|w| !(16..=8192).contains(w)) {
            return Err("rendition widths must be from 16 to 8192 pixels".into());
        }
        let mut parsed = Vec::new();
        for crop in crops.iter().filter(|c| !c.trim().is_empty()) {
            let crop = Crop::parse(crop)?;
            if !parsed.contains(&crop) {
                parsed.push(crop);
            }
        }
        if !parsed.contains(&Crop::Original) {
            parsed.insert(0, Crop::Original);
        }
        Ok(Self {
            storage,
            max_bytes,
            max_pixels,
            widths,
            crops: parsed,
            quality: quality.clamp(1, 100),
            eager,
            work: Arc::new(tokio::sync::Semaphore::new(
                std::thread::available_parallelism().map_or(1, |n| n.get()),
            )),
            flights: Arc::default(),
            batches: Arc::default(),
            hot: moka::sync::Cache::builder()
                .max_capacity(64 * 1024 * 1024)
                .weigher(|key: &String, bytes: &actix_web::web::Bytes| {
                    u32::try_from(key.len() + bytes.len()).unwrap_or(u32::MAX)
                })
                .build(),
        })
    }

    /// The defaults, on a temporary folder of their own; renditions are
    /// made on first request.
    pub fn temporary() -> Self {
        let storage = Storage::temporary().expect("a temporary media folder");
        Self::new(
            storage,
            30 * 1024 * 1024,
            50_000_000,
            &[320, 480, 640, 960, 1280, 1600, 2048],
            &["original", "16:9", "4:3", "1:1"].map(String::from),
            80,
            false,
        )
        .expect("the default media settings are valid")
    }

    /// The widths made for a frame `width` pixels wide: those narrower
    /// than it, and the frame's own width when a configured one was
    /// wider. Never wider than the frame.
    pub fn widths_for(&self, width: u32) -> Vec<u32> {
        let mut out: Vec<u32> = self.widths.iter().copied().filter(|w| *w < width).collect();
        if out.len() < self.widths.len() {
            out.push(width);
        }
        out
    }

    /// The lock for making `key`: whoever holds it makes the rendition;
    /// the others wait, then find it stored.
    pub fn flight(&self, key: &str) -> Arc<tokio::sync::Mutex<()>> {
        let mut flights = self.flights.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(lock) = flights.get(key).and_then(Weak::upgrade) {
            return lock;
        }
        flights.retain(|_, lock| lock.strong_count() > 0);
        let lock = Arc::new(tokio::sync::Mutex::new(()));
        flights.insert(key.to_owned(), Arc::downgrade(&lock));
        lock
    }
}

/// Focal point as stored (0..1 each way) → thousandths, as URLs carry it.
pub fn focal_thousandths(x: f64, y: f64) -> (u32, u32) {
    let t = |v: f64| (v.clamp(0.0, 1.0) * 1000.0).round() as u32;
    (t(x), t(y))
}

/// One rendition of a stored image.
#[derive(Debug, Clone, PartialEq)]
pub struct Planned {
    pub crop: Crop,
    pub width: u32,
    pub height: u32,
    pub format: Format,
    /// Its storage key (and URL path under `/media/`).
    pub key: String,
}

/// What renditions need to know of a stored original.
#[derive(Debug, Clone, Copy)]
pub struct Source<'a> {
    pub hash: &'a str,
    pub width: u32,
    pub height: u32,
    /// Thousandths of width and height.
    pub focal: (u32, u32),
}

impl Source<'_> {
    /// The URL segment naming crop and focal point.
    pub fn variant(&self, crop: Crop) -> String {
        match crop {
            Crop::Original => "original".into(),
            crop => format!("{}_{}_{}", crop.name(), self.focal.0, self.focal.1),
        }
    }
}

impl MediaSettings {
    /// Every rendition of `source`, crop by crop, narrow to wide.
    pub fn plan(&self, source: Source<'_>) -> Vec<Planned> {
        let mut out = Vec::new();
        for &crop in &self.crops {
            let (_, _, cw, ch) = crop.frame(source.width, source.height, source.focal);
            let variant = source.variant(crop);
            for width in self.widths_for(cw) {
                let height = ((u64::from(width) * u64::from(ch) + u64::from(cw) / 2)
                    / u64::from(cw))
                .max(1) as u32;
                for format in Format::ALL {
                    out.push(Planned {
                        crop,
                        width,
                        height,
                        format,
                        key: format!("r/{}/{variant}/{width}.{}", source.hash, format.extension()),
                    });
                }
            }
        }
        out
    }
}

/// A rendition key taken apart: `r/{hash}/{variant}/{width}.{ext}`.
#[derive(Debug, Clone, PartialEq)]
pub struct RenditionKey {
    pub hash: String,
    pub crop: Crop,
    pub focal: Option<(u32, u32)>,
    pub width: u32,
    pub format: Format,
}

impl RenditionKey {
    pub fn parse(key: &str) -> Option<Self> {
        let mut parts = key.strip_prefix("r/")?.split('/');
        let (hash, variant, file) = (parts.next()?, parts.next()?, parts.next()?);
        if parts.next().is_some() || !is_hash(hash) {
            return None;
        }
        let (width, ext) = file.split_once('.')?;
        let width: u32 = width.parse().ok().filter(|w| *w > 0)?;
        let format = Format::from_extension(ext)?;
        let (crop, focal) = if variant == "original" {
            (Crop::Original, None)
        } else {
            let mut v = variant.split('_');
            let crop = Crop::parse(v.next()?).ok()?;
            let x: u32 = v.next()?.parse().ok().filter(|x| *x <= 1000)?;
            let y: u32 = v.next()?.parse().ok().filter(|y| *y <= 1000)?;
            if v.next().is_some() || crop == Crop::Original {
                return None;
            }
            (crop, Some((x, y)))
        };
        Some(Self {
            hash: hash.to_owned(),
            crop,
            focal,
            width,
            format,
        })
    }
}

/// A content hash as keys carry it: 32 lowercase hex digits.
pub fn is_hash(text: &str) -> bool {
    text.len() == 32
        && text
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// The first 128 bits of the SHA-256 of `bytes`, in hex.
pub fn content_hash(bytes: &[u8]) -> String {
    use sha2::Digest;
    let digest = sha2::Sha256::digest(bytes);
    digest[..16].iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_fit_and_follow_the_focal_point() {
        assert_eq!(
            Crop::Original.frame(1200, 800, (500, 500)),
            (0, 0, 1200, 800)
        );
        // 16:9 of 1200×800 is 1200×675, moved down as far as it goes.
        assert_eq!(
            Crop::Aspect(16, 9).frame(1200, 800, (500, 1000)),
            (0, 125, 1200, 675)
        );
        assert_eq!(
            Crop::Aspect(1, 1).frame(1200, 800, (0, 500)),
            (0, 0, 800, 800)
        );
        assert_eq!(
            Crop::Aspect(1, 1).frame(1200, 800, (500, 500)),
            (200, 0, 800, 800)
        );
    }

    #[test]
    fn never_wider_than_the_frame() {
        let settings = MediaSettings::temporary();
        assert_eq!(settings.widths_for(700), [320, 480, 640, 700]);
        assert_eq!(
            settings.widths_for(4000),
            [320, 480, 640, 960, 1280, 1600, 2048]
        );
        assert_eq!(settings.widths_for(100), [100]);
        let plan = settings.plan(Source {
            hash: "0123456789abcdef0123456789abcdef",
            width: 700,
            height: 300,
            focal: (500, 500),
        });
        assert!(plan.iter().all(|p| p.width <= 700 && p.height <= 300));
        for p in &plan {
            let parsed = RenditionKey::parse(&p.key).expect("a planned key parses");
            assert_eq!(
                (parsed.crop, parsed.width, parsed.format),
                (p.crop, p.width, p.format)
            );
        }
    }
}
