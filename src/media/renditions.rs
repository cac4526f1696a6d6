//! Making renditions: the original decoded once; each crop cut and
//! resized with `fast_image_resize` (Lanczos3) to its widest rendition
//! and every narrower one resized from the next wider (not from the
//! original: a 12-megapixel photo is read once per crop, not once per
//! width); then all frames encoded on every core, widest first.
//!
//! Encoders: JPEG with `jpeg-encoder` (SIMD; the `image` crate's writer
//! is several times slower), WebP with libwebp through the `webp` crate
//! (the `image` crate only writes lossless WebP, several times larger),
//! AVIF with `ravif` (rav1e, pure Rust, built without its assembly).

use std::sync::atomic::{AtomicUsize, Ordering};

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

/// One resized frame and the renditions encoded from it.
struct Frame<'a> {
    crop: Crop,
    width: u32,
    height: u32,
    rgb: Vec<u8>,
    wanted: Vec<&'a Planned>,
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

    /// Renditions `planned` (of one focal point), encoded. Frames of the
    /// same crop and width are resized once for all their formats; the
    /// work is shared among `threads` threads. Consumes the original, so
    /// its pixels are freed before encoding starts.
    pub fn render(
        self,
        planned: &[Planned],
        focal: (u32, u32),
        quality: u8,
        threads: usize,
    ) -> Result<Vec<(String, Bytes)>, ApiError> {
        // Per crop, its frames widest first.
        let mut crops: Vec<Vec<Frame<'_>>> = Vec::new();
        for p in planned {
            let chain = match crops.iter_mut().find(|c| c[0].crop == p.crop) {
                Some(chain) => chain,
                None => {
                    crops.push(Vec::new());
                    crops.last_mut().expect("just pushed")
                }
            };
            match chain
                .iter_mut()
                .find(|f| (f.width, f.height) == (p.width, p.height))
            {
                Some(frame) => frame.wanted.push(p),
                None => chain.push(Frame {
                    crop: p.crop,
                    width: p.width,
                    height: p.height,
                    rgb: Vec::new(),
                    wanted: vec![p],
                }),
            }
        }
        for chain in &mut crops {
            chain.sort_by_key(|f| std::cmp::Reverse(f.width));
        }
        // Heaviest crops first, so the threads finish together.
        crops.sort_by_key(|c| std::cmp::Reverse(u64::from(c[0].width) * u64::from(c[0].height)));
        let resized: Vec<Vec<Frame<'_>>> = in_parallel(crops, threads, |mut chain| {
            let frame = chain[0].crop.frame(self.width, self.height, focal);
            let mut made: Vec<Vec<u8>> = Vec::with_capacity(chain.len());
            for i in 0..chain.len() {
                let from = match made.last() {
                    None => Region {
                        rgb: &self.rgb,
                        width: self.width,
                        height: self.height,
                        crop: frame,
                    },
                    Some(wider) => {
                        let (w, h) = (chain[i - 1].width, chain[i - 1].height);
                        Region {
                            rgb: wider,
                            width: w,
                            height: h,
                            crop: (0, 0, w, h),
                        }
                    }
                };
                let rgb = resize(&from, chain[i].width, chain[i].height);
                made.push(rgb);
            }
            for (f, rgb) in chain.iter_mut().zip(made) {
                f.rgb = rgb;
            }
            chain
        });
        drop(self.rgb);
        let frames: Vec<Frame<'_>> = resized.into_iter().flatten().collect();
        let mut jobs: Vec<(&Frame<'_>, &Planned)> = frames
            .iter()
            .flat_map(|f| f.wanted.iter().map(move |p| (f, *p)))
            .collect();
        // Widest (and AVIF, the slowest) first.
        jobs.sort_by_key(|(f, p)| {
            std::cmp::Reverse(
                u64::from(f.width)
                    * u64::from(f.height)
                    * if p.format == Format::Avif { 8 } else { 1 },
            )
        });
        in_parallel(jobs, threads, |(frame, p)| {
            Ok((p.key.clone(), encode(&frame.rgb, p, quality)?))
        })
        .into_iter()
        .collect()
    }
}

/// A part of an RGB picture.
struct Region<'a> {
    rgb: &'a [u8],
    width: u32,
    height: u32,
    /// `(left, top, width, height)`.
    crop: (u32, u32, u32, u32),
}

fn resize(from: &Region<'_>, width: u32, height: u32) -> Vec<u8> {
    let (left, top, cw, ch) = from.crop;
    let src = ImageRef::new(from.width, from.height, from.rgb, PixelType::U8x3)
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

/// `f` over `items` on up to `threads` threads, results in `items`' order.
fn in_parallel<T: Send, R: Send>(
    items: Vec<T>,
    threads: usize,
    f: impl Fn(T) -> R + Sync,
) -> Vec<R> {
    let count = items.len();
    let threads = threads.clamp(1, count.max(1));
    let slots: Vec<std::sync::Mutex<Option<T>>> = items
        .into_iter()
        .map(|t| std::sync::Mutex::new(Some(t)))
        .collect();
    let next = AtomicUsize::new(0);
    let mut done: Vec<(usize, R)> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(|| {
                    let mut out = Vec::new();
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(slot) = slots.get(i) else {
                            return out;
                        };
                        let item = slot
                            .lock()
                            .unwrap_or_else(|e| e.into_inner())
                            .take()
                            .expect("each item is taken once");
                        out.push((i, f(item)));
                    }
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| w.join().expect("a rendition thread"))
            .collect()
    });
    done.sort_by_key(|(i, _)| *i);
    done.into_iter().map(|(_, r)| r).collect()
}

fn encode(rgb: &[u8], p: &Planned, quality: u8) -> Result<Bytes, ApiError> {
    Ok(Bytes::from(match p.format {
        Format::Jpeg => encode_jpeg(rgb, p.width, p.height, quality)?,
        Format::Webp => encode_webp(rgb, p.width, p.height, quality)?,
        Format::Avif => encode_avif(rgb, p.width, p.height, quality)?,
    }))
}

/// Lossy WebP. libwebp's `method` trades time for size: 4 (its default)
/// on small frames, where it costs little; 2 on wide ones, about twice
/// as fast for a few percent more bytes.
pub fn encode_webp(rgb: &[u8], width: u32, height: u32, quality: u8) -> Result<Vec<u8>, ApiError> {
    let mut config = webp::WebPConfig::new()
        .map_err(|()| ApiError::Internal(anyhow::anyhow!("libwebp's configuration")))?;
    config.quality = f32::from(quality);
    config.method = if u64::from(width) * u64::from(height) > 700_000 {
        2
    } else {
        4
    };
    webp::Encoder::from_rgb(rgb, width, height)
        .encode_advanced(&config)
        .map(|m| m.to_vec())
        .map_err(|e| ApiError::Internal(anyhow::anyhow!("encoding a WebP: {e:?}")))
}

/// AVIF at rav1e's speed 9 (of 10): on a first request, so time counts.
/// ravif's quality scale is lower than JPEG's for the same look.
pub fn encode_avif(rgb: &[u8], width: u32, height: u32, quality: u8) -> Result<Vec<u8>, ApiError> {
    let pixels: Vec<ravif::RGB8> = rgb
        .chunks_exact(3)
        .map(|c| ravif::RGB8::new(c[0], c[1], c[2]))
        .collect();
    let image = ravif::Img::new(&pixels[..], width as usize, height as usize);
    ravif::Encoder::new()
        .with_quality((f32::from(quality) - 10.0).clamp(1.0, 100.0))
        .with_speed(9)
        .with_bit_depth(ravif::BitDepth::Eight)
        .encode_rgb(image)
        .map(|e| e.avif_file)
        .map_err(|e| ApiError::Internal(anyhow::anyhow!("encoding an AVIF: {e}")))
}
