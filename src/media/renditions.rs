//! Making renditions: the original decoded once, each frame cut and
//! resized with `fast_image_resize` (Lanczos3), then encoded as JPEG
//! (the `image` crate) and WebP (libwebp, through the `webp` crate: the
//! `image` crate only writes lossless WebP, several times larger).

use actix_web::web::Bytes;
use fast_image_resize::images::{Image, ImageRef};
use fast_image_resize::{FilterType, PixelType, ResizeAlg, ResizeOptions, Resizer};

use crate::error::ApiError;
use crate::media::process::{decode, encode_jpeg, flatten};
use crate::media::{Crop, Format, Planned};

/// A decoded original, as RGB.
pub struct Decoded {
    rgb: Vec<u8>,
    width: u32,
    height: u32,
}

impl Decoded {
    /// From a stored (already clean and upright) original.
    pub fn new(bytes: &[u8], max_pixels: u64) -> Result<Self, ApiError> {
        let format = image::guess_format(bytes)
            .map_err(|e| ApiError::Internal(anyhow::anyhow!("a stored original: {e}")))?;
        let image = decode(bytes, format, max_pixels, false)?;
        let (width, height) = (image.width(), image.height());
        Ok(Self {
            width,
            height,
            rgb: flatten(image),
        })
    }

    pub fn dimensions(&self) -> (u32, u32) {
        (self.width, self.height)
    }

    /// The frame `crop` around `focal`, `width × height` pixels.
    fn resize(&self, crop: Crop, focal: (u32, u32), width: u32, height: u32) -> Vec<u8> {
        let (left, top, cw, ch) = crop.frame(self.width, self.height, focal);
        let src = ImageRef::new(self.width, self.height, &self.rgb, PixelType::U8x3)
            .expect("the buffer holds width × height RGB pixels");
        let mut dst = Image::new(width, height, PixelType::U8x3);
        let options = ResizeOptions::new()
            .crop(
                f64::from(left),
                f64::from(top),
                f64::from(cw),
                f64::from(ch),
            )
            .resize_alg(ResizeAlg::Convolution(FilterType::Lanczos3));
        Resizer::new()
            .resize(&src, &mut dst, &options)
            .expect("same pixel type on both sides");
        dst.into_vec()
    }

    /// Renditions `planned` (of one focal point), encoded. Frames of the
    /// same crop and width are resized once for all their formats; the
    /// work is shared among `threads` threads.
    pub fn render(
        &self,
        planned: &[Planned],
        focal: (u32, u32),
        quality: u8,
        threads: usize,
    ) -> Result<Vec<(String, Bytes)>, ApiError> {
        let mut frames: Vec<(Crop, u32, u32, Vec<&Planned>)> = Vec::new();
        for p in planned {
            match frames
                .iter_mut()
                .find(|(c, w, h, _)| (*c, *w, *h) == (p.crop, p.width, p.height))
            {
                Some(frame) => frame.3.push(p),
                None => frames.push((p.crop, p.width, p.height, vec![p])),
            }
        }
        // Widest first, so the threads finish together.
        frames.sort_by_key(|f| std::cmp::Reverse(u64::from(f.1) * u64::from(f.2)));
        let threads = threads.clamp(1, frames.len().max(1));
        let next = std::sync::atomic::AtomicUsize::new(0);
        let results: Vec<Result<Vec<(String, Bytes)>, ApiError>> = std::thread::scope(|scope| {
            let workers: Vec<_> = (0..threads)
                .map(|_| {
                    scope.spawn(|| {
                        let mut out = Vec::new();
                        loop {
                            let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                            let Some((crop, width, height, wanted)) = frames.get(i) else {
                                return Ok(out);
                            };
                            let rgb = self.resize(*crop, focal, *width, *height);
                            for p in wanted {
                                out.push((p.key.clone(), encode(&rgb, p, quality)?));
                            }
                        }
                    })
                })
                .collect();
            workers
                .into_iter()
                .map(|w| w.join().expect("a rendition thread"))
                .collect()
        });
        let mut out = Vec::new();
        for r in results {
            out.extend(r?);
        }
        Ok(out)
    }
}

fn encode(rgb: &[u8], p: &Planned, quality: u8) -> Result<Bytes, ApiError> {
    Ok(Bytes::from(match p.format {
        Format::Jpeg => encode_jpeg(rgb, p.width, p.height, quality)?,
        Format::Webp => webp::Encoder::from_rgb(rgb, p.width, p.height)
            .encode(f32::from(quality))
            .to_vec(),
    }))
}
