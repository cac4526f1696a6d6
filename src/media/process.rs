//! An upload, checked and cleaned: its type judged by its bytes, its size
//! in pixels read from the header before anything is decoded, its EXIF
//! orientation applied and every piece of metadata (GPS, camera, comments)
//! left behind by encoding it again.

use std::io::Cursor;

use actix_web::web::Bytes;
use image::{DynamicImage, ImageDecoder, ImageFormat, ImageReader, Limits};

use crate::error::ApiError;
use crate::media::{MediaSettings, content_hash};

/// A clean original, ready to store.
#[derive(Debug, Clone)]
pub struct Cleaned {
    pub bytes: Bytes,
    pub extension: &'static str,
    pub mime_type: &'static str,
    pub width: u32,
    pub height: u32,
    /// A BlurHash of the picture, for a placeholder while it loads.
    pub placeholder: String,
    pub hash: String,
}

impl Cleaned {
    pub fn key(&self) -> String {
        format!("o/{}.{}", self.hash, self.extension)
    }
}

const ACCEPTED: &str = "JPEG, PNG, WebP, AVIF or GIF";

/// An upload's format: one `image` reads, or AVIF (read by `media::avif`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Image(ImageFormat),
    Avif,
}

/// Checks and cleans an upload. CPU-bound: run it off the async workers.
pub fn clean(bytes: &[u8], settings: &MediaSettings) -> Result<Cleaned, ApiError> {
    if bytes.len() as u64 > settings.max_bytes {
        return Err(ApiError::PayloadTooLarge(settings.max_bytes as usize));
    }
    let kind = sniff(bytes)?;
    let image = match kind {
        Kind::Image(format) => decode(bytes, format, settings.max_pixels, true)?,
        Kind::Avif => decode_avif(bytes, settings.max_pixels)?,
    };
    let (width, height) = (image.width(), image.height());
    let placeholder = placeholder(&image);
    let quality = 90;
    // An AVIF is kept as a JPEG (a PNG when it has transparency):
    // encoding AVIF again would take seconds a megapixel, and renditions
    // are made in AVIF anyway.
    let format = match kind {
        Kind::Image(format) => format,
        Kind::Avif if image.color().has_alpha() => ImageFormat::Png,
        Kind::Avif => ImageFormat::Jpeg,
    };
    let (encoded, extension, mime_type) = match format {
        ImageFormat::Jpeg => (
            encode_jpeg(&flatten(image), width, height, quality)?,
            "jpg",
            "image/jpeg",
        ),
        ImageFormat::WebP => {
            let encoded = if image.color().has_alpha() {
                let rgba = image.to_rgba8();
                webp::Encoder::from_rgba(&rgba, width, height)
                    .encode(f32::from(quality))
                    .to_vec()
            } else {
                crate::media::renditions::encode_webp(&image.into_rgb8(), width, height, quality)?
            };
            (encoded, "webp", "image/webp")
        }
        // PNG stays lossless; a GIF keeps its first frame, as a PNG.
        _ => {
            let mut out = Cursor::new(Vec::new());
            image
                .write_to(&mut out, ImageFormat::Png)
                .map_err(|e| ApiError::Internal(anyhow::anyhow!("encoding a PNG: {e}")))?;
            (out.into_inner(), "png", "image/png")
        }
    };
    let hash = content_hash(&encoded);
    Ok(Cleaned {
        bytes: Bytes::from(encoded),
        extension,
        mime_type,
        width,
        height,
        placeholder,
        hash,
    })
}

/// The format, judged by the bytes alone.
fn sniff(bytes: &[u8]) -> Result<Kind, ApiError> {
    let unsupported = || {
        ApiError::UnsupportedMediaType(format!(
            "the file is not a {ACCEPTED} image (judged by its content, not its name)"
        ))
    };
    if is_avif(bytes) {
        return Ok(Kind::Avif);
    }
    let format = image::guess_format(bytes).map_err(|_| unsupported())?;
    match format {
        ImageFormat::Jpeg | ImageFormat::Png | ImageFormat::WebP | ImageFormat::Gif => {
            Ok(Kind::Image(format))
        }
        _ => Err(unsupported()),
    }
}

/// An ISO-BMFF file whose major or a compatible brand is AVIF (`avif`,
/// `avis`): some encoders put `mif1` first.
fn is_avif(bytes: &[u8]) -> bool {
    if bytes.len() < 12 || &bytes[4..8] != b"ftyp" {
        return false;
    }
    let size = u32::from_be_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]) as usize;
    let brands = bytes[..size.clamp(12, bytes.len().min(256))]
        .get(8..)
        .unwrap_or_default();
    // The major brand, the minor version, then compatible brands.
    brands
        .chunks_exact(4)
        .enumerate()
        .any(|(i, b)| i != 1 && matches!(b, b"avif" | b"avis"))
}

/// Decodes an image of a known format. The header's dimensions are
/// checked against `max_pixels` first, and the decoder's allocations are
/// capped too, so a small file claiming a huge picture costs nothing.
/// With `orient`, the EXIF orientation is applied.
pub fn decode(
    bytes: &[u8],
    format: ImageFormat,
    max_pixels: u64,
    orient: bool,
) -> Result<DynamicImage, ApiError> {
    let reader = || {
        let mut reader = ImageReader::with_format(Cursor::new(bytes), format);
        let mut limits = Limits::default();
        // 16-bit RGBA is 8 bytes a pixel, plus the decoder's own buffers.
        limits.max_alloc = Some(max_pixels.saturating_mul(8).saturating_add(64 << 20));
        limits.max_image_width = Some(65_535);
        limits.max_image_height = Some(65_535);
        reader.limits(limits);
        reader
    };
    let (width, height) = reader().into_dimensions().map_err(|e| {
        ApiError::UnprocessableImage(format!("the image's header cannot be read: {e}"))
    })?;
    let pixels = u64::from(width) * u64::from(height);
    if pixels > max_pixels || width == 0 || height == 0 {
        return Err(ApiError::UnprocessableImage(format!(
            "the image is {width} × {height} pixels; at most {max_pixels} pixels are accepted"
        )));
    }
    if format == ImageFormat::Jpeg && !jpeg_is_complete(bytes) {
        return Err(ApiError::UnprocessableImage(
            "the JPEG is truncated: its last scan has no end".into(),
        ));
    }
    let unreadable = |e: image::ImageError| {
        ApiError::UnprocessableImage(format!(
            "the image cannot be decoded (truncated or corrupt?): {e}"
        ))
    };
    let mut decoder = reader().into_decoder().map_err(unreadable)?;
    let orientation = if orient {
        decoder.orientation().ok()
    } else {
        None
    };
    let mut image = DynamicImage::from_decoder(decoder).map_err(unreadable)?;
    if let Some(orientation) = orientation {
        image.apply_orientation(orientation);
    }
    Ok(image)
}

/// Decodes an AVIF: its size (the container's `ispe` and the AV1
/// header's, whichever is larger) checked against `max_pixels` before
/// anything is decoded, and its `irot`/`imir` applied.
fn decode_avif(bytes: &[u8], max_pixels: u64) -> Result<DynamicImage, ApiError> {
    let (width, height) = crate::media::avif::dimensions(bytes)?;
    let pixels = u64::from(width) * u64::from(height);
    if pixels > max_pixels || width == 0 || height == 0 {
        return Err(ApiError::UnprocessableImage(format!(
            "the image is {width} × {height} pixels; at most {max_pixels} pixels are accepted"
        )));
    }
    crate::media::avif::decode(bytes, max_pixels)
}

/// Whether an end-of-image marker follows the last start of scan: a
/// decoder fills a cut-off JPEG with grey rather than failing.
fn jpeg_is_complete(bytes: &[u8]) -> bool {
    let last_scan = bytes.windows(2).rposition(|w| w == [0xFF, 0xDA]);
    let end = bytes.windows(2).rposition(|w| w == [0xFF, 0xD9]);
    matches!((last_scan, end), (Some(s), Some(e)) if e > s)
}

/// RGB, with any transparency laid on white (JPEG has none). Consumes the
/// image: an RGB one is handed over without a copy.
pub fn flatten(image: DynamicImage) -> Vec<u8> {
    if !image.color().has_alpha() {
        return image.into_rgb8().into_raw();
    }
    let rgba = image.to_rgba8();
    let mut out = Vec::with_capacity(rgba.len() / 4 * 3);
    for px in rgba.pixels() {
        let [r, g, b, a] = px.0;
        let a = u16::from(a);
        let over = |c: u8| ((u16::from(c) * a + 255 * (255 - a) + 127) / 255) as u8;
        out.extend_from_slice(&[over(r), over(g), over(b)]);
    }
    out
}

/// Baseline JPEG (4:2:0 below quality 90, 4:4:4 from it).
pub fn encode_jpeg(rgb: &[u8], width: u32, height: u32, quality: u8) -> Result<Vec<u8>, ApiError> {
    let side = |n: u32| {
        u16::try_from(n).map_err(|_| {
            ApiError::UnprocessableImage(format!("a JPEG is at most 65,535 pixels a side, not {n}"))
        })
    };
    let mut out = Vec::new();
    jpeg_encoder::Encoder::new(&mut out, quality)
        .encode(
            rgb,
            side(width)?,
            side(height)?,
            jpeg_encoder::ColorType::Rgb,
        )
        .map_err(|e| ApiError::Internal(anyhow::anyhow!("encoding a JPEG: {e}")))?;
    Ok(out)
}

/// A 4 × 3 component BlurHash, from a small copy of the picture.
pub fn placeholder(image: &DynamicImage) -> String {
    let small = image.thumbnail(32, 32).to_rgba8();
    blurhash::encode(4, 3, small.width(), small.height(), small.as_raw()).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::is_avif;

    #[test]
    fn avif_is_known_by_its_brands() {
        assert!(is_avif(b"\0\0\0\x1cftypavif\0\0\0\0avifmif1miaf"));
        assert!(is_avif(b"\0\0\0\x18ftypmif1\0\0\0\0mif1avif"));
        assert!(!is_avif(b"\0\0\0\x18ftypheic\0\0\0\0mif1heic"));
        assert!(!is_avif(b"\0\0\0\x14ftypmif1avif"));
        assert!(!is_avif(b"\xff\xd8\xff\xe0"));
    }
}
