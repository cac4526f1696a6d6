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

/// AVIF, on a first request, so time counts: rav1e (without its
/// assembly) at speed 10 on frames over 0.7 megapixels (3.1 s for
/// 2048 × 1536 on a busy 2-core machine, against 6.7 s at speed 9, for
/// 28% more bytes), 9 on smaller ones. ravif's quality scale is lower
/// than JPEG's for the same look.
pub fn encode_avif(rgb: &[u8], width: u32, height: u32, quality: u8) -> Result<Vec<u8>, ApiError> {
    let pixels: Vec<ravif::RGB8> = rgb
        .chunks_exact(3)
        .map(|c| ravif::RGB8::new(c[0], c[1], c[2]))
        .collect();
    let image = ravif::Img::new(&pixels[..], width as usize, height as usize);
    ravif::Encoder::new()
        .with_quality((f32::from(quality) - 10.0).clamp(1.0, 100.0))
        .with_speed(if u64::from(width) * u64::from(height) > 700_000 {
            10
        } else {
            9
        })
        .with_bit_depth(ravif::BitDepth::Eight)
        .encode_rgb(image)
        .map(|e| e.avif_file)
        .map_err(|e| ApiError::Internal(anyhow::anyhow!("encoding an AVIF: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::media::{MediaSettings, Source};

    fn peak_rss_mb() -> u64 {
        std::fs::read_to_string("/proc/self/status")
            .ok()
            .and_then(|s| {
                s.lines()
                    .find(|l| l.starts_with("VmHWM:"))
                    .and_then(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok())
            })
            .map_or(0, |kb| kb / 1024)
    }

    /// CPU seconds this process has used (user + system): on a busy
    /// machine, the figure that does not depend on the neighbours.
    fn cpu_seconds() -> f64 {
        let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
        let fields: Vec<&str> = stat
            .rsplit_once(')')
            .map_or("", |(_, rest)| rest)
            .split_whitespace()
            .collect();
        let ticks = |i: usize| {
            fields
                .get(i)
                .and_then(|f| f.parse::<f64>().ok())
                .unwrap_or(0.0)
        };
        // utime and stime, fields 14 and 15 (11 and 12 after the name), at
        // 100 ticks a second.
        (ticks(11) + ticks(12)) / 100.0
    }

    /// A 4000 × 3000 photo-like JPEG (gradients under noise), quality 90.
    fn twelve_megapixel_jpeg() -> Vec<u8> {
        let (w, h) = (4000u32, 3000u32);
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        let mut rgb = Vec::with_capacity((w * h * 3) as usize);
        for y in 0..h {
            for x in 0..w {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                let noise = (seed % 48) as u32;
                rgb.extend_from_slice(&[
                    (x * 255 / w)
                        .saturating_sub(24)
                        .saturating_add(noise)
                        .min(255) as u8,
                    (y * 255 / h)
                        .saturating_sub(24)
                        .saturating_add(noise)
                        .min(255) as u8,
                    (((x + y) * 255) / (w + h)) as u8,
                ]);
            }
        }
        encode_jpeg(&rgb, w, h, 90).expect("a JPEG")
    }

    /// The full eager set (every crop and width, WebP and JPEG) of a
    /// 12-megapixel photo, and AVIF's first-request cost, timed, beside
    /// main's former way: `cargo test --release --lib twelve_megapixels --
    /// --ignored --nocapture` (unoptimised, the encoders' generic code is
    /// many times slower and the figures mean nothing).
    #[test]
    #[ignore = "a timing, not a check: run it by name"]
    fn twelve_megapixels() {
        let settings = MediaSettings::temporary();
        let photo = twelve_megapixel_jpeg();
        let hash = crate::media::content_hash(&photo);
        let source = Source {
            hash: &hash,
            width: 4000,
            height: 3000,
            focal: (500, 500),
        };
        let eager: Vec<Planned> = settings
            .plan(source)
            .into_iter()
            .filter(|p| p.format.eager())
            .collect();
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
        let before = peak_rss_mb();
        for run in 1..=2 {
            let cpu = cpu_seconds();
            let started = std::time::Instant::now();
            let decoded = Decoded::new(&photo, 50_000_000).expect("decodes");
            let decoded_in = started.elapsed();
            let made = decoded
                .render(&eager, (500, 500), 80, threads)
                .expect("renders");
            let bytes: usize = made.iter().map(|(_, b)| b.len()).sum();
            println!(
                "run {run}: {} renditions ({} KB) of a 12-MP JPEG ({} KB) in {} ms ({:.1} CPU s; decode {} ms), {threads} threads, peak RSS {} MB (before: {before} MB)",
                made.len(),
                bytes / 1024,
                photo.len() / 1024,
                started.elapsed().as_millis(),
                cpu_seconds() - cpu,
                decoded_in.as_millis(),
                peak_rss_mb(),
            );
        }
        // As main made them before (for the figures' "before"): every frame
        // resized from the original, the `image` crate's JPEG writer,
        // libwebp at its default method, frames shared among the threads.
        let cpu = cpu_seconds();
        let started = std::time::Instant::now();
        let decoded = Decoded::new(&photo, 50_000_000).expect("decodes");
        let mut frames: Vec<(Crop, u32, u32, Vec<&Planned>)> = Vec::new();
        for p in &eager {
            match frames
                .iter_mut()
                .find(|f| (f.0, f.1, f.2) == (p.crop, p.width, p.height))
            {
                Some(f) => f.3.push(p),
                None => frames.push((p.crop, p.width, p.height, vec![p])),
            }
        }
        let old: Vec<usize> = in_parallel(frames, threads, |(crop, width, height, wanted)| {
            let region = Region {
                rgb: &decoded.rgb,
                width: decoded.width,
                height: decoded.height,
                crop: crop.frame(decoded.width, decoded.height, (500, 500)),
            };
            let rgb = resize(&region, width, height);
            wanted
                .iter()
                .map(|p| match p.format {
                    Format::Jpeg => {
                        let mut out = Vec::new();
                        image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 80)
                            .encode(&rgb, width, height, image::ExtendedColorType::Rgb8)
                            .expect("a JPEG");
                        out.len()
                    }
                    _ => webp::Encoder::from_rgb(&rgb, width, height)
                        .encode(80.0)
                        .len(),
                })
                .sum()
        });
        println!(
            "before (main's way): {} frames in {} ms ({:.1} CPU s)",
            old.len(),
            started.elapsed().as_millis(),
            cpu_seconds() - cpu
        );
        for width in [640, 2048] {
            let one: Vec<Planned> = settings
                .plan(source)
                .into_iter()
                .filter(|p| {
                    p.format == Format::Avif && p.crop == Crop::Original && p.width == width
                })
                .collect();
            let cpu = cpu_seconds();
            let started = std::time::Instant::now();
            let made = Decoded::new(&photo, 50_000_000)
                .expect("decodes")
                .render(&one, (500, 500), 80, threads)
                .expect("renders");
            println!(
                "AVIF on first request, {width} px: {} ms ({:.1} CPU s; {} KB), peak RSS {} MB",
                started.elapsed().as_millis(),
                cpu_seconds() - cpu,
                made[0].1.len() / 1024,
                peak_rss_mb(),
            );
        }
    }
}
