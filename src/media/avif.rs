//! AVIF uploads: the container read by `avif-parse` and by a small walk of
//! its boxes (the primary item's `ispe` size, `irot` and `imir`), the AV1
//! inside decoded by `rav1d`, the Rust port of dav1d, built without its
//! assembly so the build needs neither nasm nor a C toolchain.
//!
//! rav1d's only published interface is dav1d's C one; the few calls below
//! follow kornelski's `avif-decode` 3 (BSD-3-Clause), which needs a newer
//! Rust than ours and turns rav1d's assembly on (so nasm) on x86.

use std::mem::MaybeUninit;
use std::ptr::{self, NonNull};

use image::{DynamicImage, RgbImage, RgbaImage};
use rav1d::include::dav1d::data::Dav1dData;
use rav1d::include::dav1d::dav1d::{Dav1dContext, Dav1dSettings};
use rav1d::include::dav1d::headers::*;
use rav1d::include::dav1d::picture::Dav1dPicture;
use rav1d::src::lib::{
    dav1d_close, dav1d_data_create, dav1d_data_unref, dav1d_default_settings, dav1d_get_picture,
    dav1d_open, dav1d_picture_unref, dav1d_send_data,
};

use crate::error::ApiError;

/// What the container says of its primary image before anything is
/// decoded.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Container {
    /// The `ispe` property: the picture's size as the file declares it.
    pub size: Option<(u32, u32)>,
    /// Transformations in the order the file lists them: `irot` (quarter
    /// turns anticlockwise) and `imir` (0: about the vertical axis, that is
    /// left and right swapped; 1: about the horizontal axis).
    pub transforms: [Option<Transform>; 2],
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transform {
    Rotate(u8),
    Mirror(u8),
}

fn corrupt(what: impl std::fmt::Display) -> ApiError {
    ApiError::UnprocessableImage(format!(
        "the AVIF cannot be read (truncated or corrupt?): {what}"
    ))
}

/// An ISO-BMFF box: its four-letter type and its content.
type IsoBox<'a> = ([u8; 4], &'a [u8]);

/// The file's boxes, one level. A box running past the end is an error (a
/// truncated file), not a shorter box.
fn boxes(mut bytes: &[u8]) -> Result<Vec<IsoBox<'_>>, ApiError> {
    let mut out = Vec::new();
    while !bytes.is_empty() {
        let header = bytes
            .get(..8)
            .ok_or_else(|| corrupt("a box is cut short"))?;
        let size32 = u32::from_be_bytes([header[0], header[1], header[2], header[3]]);
        let kind: [u8; 4] = [header[4], header[5], header[6], header[7]];
        let (size, start) = match size32 {
            0 => (bytes.len() as u64, 8),
            1 => {
                let large = bytes
                    .get(8..16)
                    .ok_or_else(|| corrupt("a box is cut short"))?;
                (u64::from_be_bytes(large.try_into().unwrap_or_default()), 16)
            }
            n => (u64::from(n), 8),
        };
        if size < start as u64 || size > bytes.len() as u64 {
            return Err(corrupt(format!(
                "the `{}` box runs past the end of the file",
                String::from_utf8_lossy(&kind)
            )));
        }
        let (this, rest) = bytes.split_at(size as usize);
        out.push((kind, &this[start..]));
        bytes = rest;
    }
    Ok(out)
}

fn child<'a>(list: &[IsoBox<'a>], kind: &[u8; 4]) -> Option<&'a [u8]> {
    list.iter().find(|(k, _)| k == kind).map(|(_, c)| *c)
}

fn be(bytes: &[u8], at: usize, len: usize) -> Result<u32, ApiError> {
    let b = bytes
        .get(at..at + len)
        .ok_or_else(|| corrupt("a property is cut short"))?;
    Ok(b.iter().fold(0, |n, b| (n << 8) | u32::from(*b)))
}

/// Reads the primary item's size and orientation from the `meta` box.
pub fn container(bytes: &[u8]) -> Result<Container, ApiError> {
    let top = boxes(bytes)?;
    let meta = child(&top, b"meta").ok_or_else(|| corrupt("it has no `meta` box"))?;
    // `meta` is a full box: version and flags first.
    let meta = boxes(meta.get(4..).unwrap_or_default())?;
    let pitm = child(&meta, b"pitm").ok_or_else(|| corrupt("it names no primary item"))?;
    let primary = if pitm.first() == Some(&0) {
        be(pitm, 4, 2)?
    } else {
        be(pitm, 4, 4)?
    };
    let mut out = Container::default();
    let Some(iprp) = child(&meta, b"iprp") else {
        return Ok(out);
    };
    let iprp = boxes(iprp)?;
    let (Some(ipco), Some(ipma)) = (child(&iprp, b"ipco"), child(&iprp, b"ipma")) else {
        return Ok(out);
    };
    let properties = boxes(ipco)?;
    let version = ipma.first().copied().unwrap_or(0);
    let wide_index = ipma.get(3).is_some_and(|flags| flags & 1 == 1);
    let entries = be(ipma, 4, 4)?;
    let mut at = 8;
    for _ in 0..entries {
        let id_len = if version < 1 { 2 } else { 4 };
        let item = be(ipma, at, id_len)?;
        at += id_len;
        let count = be(ipma, at, 1)?;
        at += 1;
        let index_len = if wide_index { 2 } else { 1 };
        for _ in 0..count {
            let raw = be(ipma, at, index_len)?;
            at += index_len;
            if item != primary {
                continue;
            }
            // The top bit says whether the property is essential.
            let index = raw & if wide_index { 0x7fff } else { 0x7f };
            let Some((kind, content)) = (index as usize)
                .checked_sub(1)
                .and_then(|i| properties.get(i))
            else {
                continue;
            };
            match kind {
                b"ispe" => out.size = Some((be(content, 4, 4)?, be(content, 8, 4)?)),
                b"irot" | b"imir" => {
                    let value = (be(content, 0, 1)? & 0b11) as u8;
                    let t = if kind == b"irot" {
                        Transform::Rotate(value)
                    } else {
                        Transform::Mirror(value & 1)
                    };
                    if let Some(slot) = out.transforms.iter_mut().find(|s| s.is_none()) {
                        *slot = Some(t);
                    }
                }
                _ => {}
            }
        }
    }
    Ok(out)
}

/// The picture's size: the container's `ispe` when it has one, and the AV1
/// sequence header's largest frame (what the decoder would allocate) in
/// any case, the larger of the two each way. Nothing is decoded.
pub fn dimensions(bytes: &[u8]) -> Result<(u32, u32), ApiError> {
    let declared = container(bytes)?.size.unwrap_or((0, 0));
    let avif = avif_parse::read_avif(&mut &bytes[..]).map_err(corrupt)?;
    let header = avif.primary_item_metadata().map_err(corrupt)?;
    Ok((
        declared.0.max(header.max_frame_width.get()),
        declared.1.max(header.max_frame_height.get()),
    ))
}

/// Decodes an AVIF (the caller has checked its dimensions) to 8 bits a
/// channel, with its transparency, and applies its `irot` and `imir`.
pub fn decode(bytes: &[u8], max_pixels: u64) -> Result<DynamicImage, ApiError> {
    let container = container(bytes)?;
    let avif = avif_parse::read_avif(&mut &bytes[..]).map_err(corrupt)?;
    let mut decoder = Decoder::new(max_pixels)?;
    let color = decoder.decode(&avif.primary_item)?;
    let (width, height, mut rgb) = color.rgb()?;
    let mut image = match avif.alpha_item.as_deref() {
        None => DynamicImage::ImageRgb8(
            RgbImage::from_raw(width, height, rgb)
                .ok_or_else(|| corrupt("its planes do not match its size"))?,
        ),
        Some(alpha_item) => {
            let alpha = decoder.decode(alpha_item)?;
            let (aw, ah, gray) = alpha.gray()?;
            if (aw, ah) != (width, height) {
                return Err(corrupt("its transparency is not the picture's size"));
            }
            let mut rgba = Vec::with_capacity(rgb.len() / 3 * 4);
            for (px, a) in rgb.chunks_exact_mut(3).zip(gray) {
                if avif.premultiplied_alpha && a > 0 {
                    for c in px.iter_mut() {
                        *c = ((u16::from(*c) * 255 + u16::from(a) / 2) / u16::from(a)).min(255)
                            as u8;
                    }
                }
                rgba.extend_from_slice(&[px[0], px[1], px[2], a]);
            }
            DynamicImage::ImageRgba8(
                RgbaImage::from_raw(width, height, rgba)
                    .ok_or_else(|| corrupt("its planes do not match its size"))?,
            )
        }
    };
    for t in container.transforms.into_iter().flatten() {
        image = match t {
            // Quarter turns anticlockwise.
            Transform::Rotate(1) => image.rotate270(),
            Transform::Rotate(2) => image.rotate180(),
            Transform::Rotate(3) => image.rotate90(),
            Transform::Rotate(_) => image,
            Transform::Mirror(0) => image.fliph(),
            Transform::Mirror(_) => image.flipv(),
        };
    }
    Ok(image)
}

/// One rav1d context; frames are decoded one at a time.
struct Decoder {
    ctx: Option<Dav1dContext>,
    picture: Option<Dav1dPicture>,
}

impl Decoder {
    fn new(max_pixels: u64) -> Result<Self, ApiError> {
        // SAFETY: dav1d's C interface as documented: the settings are
        // written by `dav1d_default_settings` before they are read, and
        // `dav1d_open` writes the context.
        unsafe {
            let mut settings = MaybeUninit::<Dav1dSettings>::uninit();
            dav1d_default_settings(NonNull::from(&mut settings).cast());
            let settings = settings.assume_init_mut();
            // One thread: decoding runs under `MediaSettings::work`, one
            // image per core.
            settings.n_threads = 1;
            settings.max_frame_delay = 1;
            settings.apply_grain = 1;
            // The decoder refuses frames larger than this itself: a header
            // that lied about the size cannot make it allocate more.
            settings.frame_size_limit = u32::try_from(max_pixels).unwrap_or(u32::MAX);
            // No logger (its cookie and callback are both optional
            // pointers, so all zeroes is `None, None`): a bad upload is
            // answered with a 422, not a line on the server's stderr.
            settings.logger = std::mem::zeroed();
            let mut ctx = None;
            let res = dav1d_open(Some(NonNull::from(&mut ctx)), Some(NonNull::from(settings)));
            if res.0 != 0 {
                return Err(ApiError::Internal(anyhow::anyhow!(
                    "opening the AV1 decoder: error {}",
                    res.0
                )));
            }
            Ok(Self { ctx, picture: None })
        }
    }

    /// Decodes one AV1 item; the frame lives until the next call.
    fn decode(&mut self, av1: &[u8]) -> Result<Frame<'_>, ApiError> {
        let ctx = self.ctx.ok_or_else(|| corrupt("the decoder is closed"))?;
        if av1.is_empty() {
            return Err(corrupt("its image item is empty"));
        }
        // SAFETY: `data` is created by rav1d with room for `av1`, handed to
        // it, and unreferenced once; pictures it returns are unreferenced
        // when replaced or on drop.
        let picture = unsafe {
            let mut data = Dav1dData::default();
            let buf = dav1d_data_create(Some(NonNull::from(&mut data)), av1.len());
            let Some(buf) = NonNull::new(buf) else {
                return Err(ApiError::Internal(anyhow::anyhow!(
                    "the AV1 decoder could not allocate its input"
                )));
            };
            ptr::copy_nonoverlapping(av1.as_ptr(), buf.as_ptr(), av1.len());
            let mut last: Option<Dav1dPicture> = None;
            let mut sent = Ok(());
            loop {
                let res = dav1d_send_data(Some(ctx), Some(NonNull::from(&mut data)));
                if res.0 == 0 {
                    break;
                }
                // Full: take a picture out, then send the rest.
                let mut pending = Dav1dPicture::default();
                let got = dav1d_get_picture(Some(ctx), Some(NonNull::from(&mut pending)));
                if got.0 != 0 {
                    dav1d_picture_unref(Some(NonNull::from(&mut pending)));
                    sent = Err(corrupt(format!("the AV1 decoder refused it ({})", res.0)));
                    break;
                }
                if let Some(mut previous) = last.replace(pending) {
                    dav1d_picture_unref(Some(NonNull::from(&mut previous)));
                }
            }
            dav1d_data_unref(Some(NonNull::from(&mut data)));
            if let Err(e) = sent {
                if let Some(mut previous) = last.take() {
                    dav1d_picture_unref(Some(NonNull::from(&mut previous)));
                }
                return Err(e);
            }
            // A layered item yields a picture per layer: keep the last.
            loop {
                let mut picture = Dav1dPicture::default();
                let res = dav1d_get_picture(Some(ctx), Some(NonNull::from(&mut picture)));
                if res.0 != 0 {
                    dav1d_picture_unref(Some(NonNull::from(&mut picture)));
                    break;
                }
                if let Some(mut previous) = last.replace(picture) {
                    dav1d_picture_unref(Some(NonNull::from(&mut previous)));
                }
            }
            last.ok_or_else(|| corrupt("no frame could be decoded"))?
        };
        if let Some(mut old) = self.picture.replace(picture) {
            // SAFETY: a picture rav1d returned, unreferenced once.
            unsafe { dav1d_picture_unref(Some(NonNull::from(&mut old))) };
        }
        Ok(Frame(self.picture.as_ref().expect("just stored")))
    }
}

impl Drop for Decoder {
    fn drop(&mut self) {
        // SAFETY: the picture and context came from rav1d and are released
        // once.
        unsafe {
            if let Some(picture) = &mut self.picture {
                dav1d_picture_unref(Some(NonNull::from(picture)));
            }
            dav1d_close(Some(NonNull::from(&mut self.ctx)));
        }
    }
}

/// A decoded frame, borrowed from the decoder.
struct Frame<'a>(&'a Dav1dPicture);

/// One plane of a frame, read in place (no copy of a large picture's
/// planes): 8-bit samples, or 16-bit ones from 10 bits on.
struct Plane<'a> {
    width: usize,
    height: usize,
    /// Bytes from one row to the next.
    stride: usize,
    wide: bool,
    raw: &'a [u8],
}

impl Plane<'_> {
    fn at(&self, x: usize, y: usize) -> u16 {
        if self.wide {
            let i = y * self.stride + 2 * x;
            u16::from_ne_bytes([self.raw[i], self.raw[i + 1]])
        } else {
            u16::from(self.raw[y * self.stride + x])
        }
    }
}

impl Frame<'_> {
    fn size(&self) -> (usize, usize) {
        (self.0.p.w.max(0) as usize, self.0.p.h.max(0) as usize)
    }

    fn plane(&self, n: usize) -> Result<Plane<'_>, ApiError> {
        let p = &self.0.p;
        let (ss_x, ss_y) = match (n, p.layout) {
            (0, _) | (_, DAV1D_PIXEL_LAYOUT_I444) => (0, 0),
            (_, DAV1D_PIXEL_LAYOUT_I420) => (1, 1),
            (_, DAV1D_PIXEL_LAYOUT_I422) => (1, 0),
            _ => return Err(corrupt("an unknown pixel layout")),
        };
        let (w, h) = self.size();
        let (width, height) = ((w + ss_x) >> ss_x, (h + ss_y) >> ss_y);
        let wide = p.bpc > 8;
        let bytes_per = if wide { 2 } else { 1 };
        let stride = self.0.stride[usize::from(n != 0)];
        let data = self.0.data[n].ok_or_else(|| corrupt("a plane is missing"))?;
        if stride <= 0 || (stride as usize) < width * bytes_per || width == 0 || height == 0 {
            return Err(corrupt("a plane has an impossible stride"));
        }
        let stride = stride as usize;
        // SAFETY: rav1d allocates `stride` bytes for each of the plane's
        // `height` rows, and the picture outlives this borrow.
        let raw = unsafe {
            std::slice::from_raw_parts(
                data.as_ptr().cast::<u8>(),
                stride * (height - 1) + width * bytes_per,
            )
        };
        Ok(Plane {
            width,
            height,
            stride,
            wide,
            raw,
        })
    }

    fn full_range(&self) -> bool {
        // SAFETY: the sequence header lives as long as the picture.
        self.0
            .seq_hdr
            .is_some_and(|h| unsafe { h.as_ref() }.color_range != 0)
    }

    fn matrix(&self) -> u32 {
        // SAFETY: as `full_range`.
        self.0
            .seq_hdr
            .map_or(DAV1D_MC_BT601, |h| unsafe { h.as_ref() }.mtrx)
    }

    /// Luma (or a sample) as 0.0..=1.0, and chroma as -0.5..=0.5.
    fn normaliser(&self) -> (impl Fn(u16) -> f32, impl Fn(u16) -> f32) {
        let depth = self.0.p.bpc.clamp(8, 16) as u32;
        let max = ((1u32 << depth) - 1) as f32;
        let scale = (1u32 << (depth - 8)) as f32;
        let full = self.full_range();
        let luma = move |v: u16| {
            if full {
                f32::from(v) / max
            } else {
                (f32::from(v) - 16.0 * scale) / (219.0 * scale)
            }
        };
        let chroma = move |v: u16| {
            if full {
                f32::from(v) / max - 0.5
            } else {
                (f32::from(v) - 128.0 * scale) / (224.0 * scale)
            }
        };
        (luma, chroma)
    }

    /// The frame as 8-bit RGB.
    fn rgb(&self) -> Result<(u32, u32, Vec<u8>), ApiError> {
        let (w, h) = self.size();
        let y = self.plane(0)?;
        let (luma, chroma) = self.normaliser();
        let to8 = |v: f32| (v.clamp(0.0, 1.0) * 255.0 + 0.5) as u8;
        let mut out = Vec::with_capacity(w * h * 3);
        if self.0.p.layout == DAV1D_PIXEL_LAYOUT_I400 {
            for row in 0..h {
                for col in 0..w {
                    let v = to8(luma(y.at(col, row)));
                    out.extend_from_slice(&[v, v, v]);
                }
            }
        } else {
            let (u, v) = (self.plane(1)?, self.plane(2)?);
            let (kr, kb) = match self.matrix() {
                DAV1D_MC_BT709 => (0.2126, 0.0722),
                DAV1D_MC_BT2020_NCL | DAV1D_MC_BT2020_CL => (0.2627, 0.0593),
                DAV1D_MC_FCC => (0.30, 0.11),
                DAV1D_MC_SMPTE240 => (0.212, 0.087),
                _ => (0.299, 0.114),
            };
            let identity = self.matrix() == DAV1D_MC_IDENTITY;
            let (sx, sy) = (w.div_ceil(u.width), h.div_ceil(u.height));
            for row in 0..h {
                let cy = (row / sy).min(u.height - 1);
                for col in 0..w {
                    let cx = (col / sx).min(u.width - 1);
                    let yy = luma(y.at(col, row));
                    let (cb, cr) = (chroma(u.at(cx, cy)), chroma(v.at(cx, cy)));
                    let (r, g, b) = if identity {
                        // GBR: Y is green, U blue, V red.
                        (cr + 0.5, yy, cb + 0.5)
                    } else {
                        let r = yy + 2.0 * (1.0 - kr) * cr;
                        let b = yy + 2.0 * (1.0 - kb) * cb;
                        (r, (yy - kr * r - kb * b) / (1.0 - kr - kb), b)
                    };
                    out.extend_from_slice(&[to8(r), to8(g), to8(b)]);
                }
            }
        }
        Ok((w as u32, h as u32, out))
    }

    /// The luma plane as 8-bit samples (an alpha item).
    fn gray(&self) -> Result<(u32, u32, Vec<u8>), ApiError> {
        let y = self.plane(0)?;
        let (luma, _) = self.normaliser();
        let mut out = Vec::with_capacity(y.width * y.height);
        for row in 0..y.height {
            for col in 0..y.width {
                out.push((luma(y.at(col, row)).clamp(0.0, 1.0) * 255.0 + 0.5) as u8);
            }
        }
        Ok((y.width as u32, y.height as u32, out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The left half red, the right half blue.
    fn encoded(width: u32, height: u32, depth: ravif::BitDepth) -> Vec<u8> {
        let pixels: Vec<ravif::RGB8> = (0..width * height)
            .map(|i| {
                if i % width < width / 2 {
                    ravif::RGB8::new(220, 30, 30)
                } else {
                    ravif::RGB8::new(30, 30, 220)
                }
            })
            .collect();
        let img = ravif::Img::new(&pixels[..], width as usize, height as usize);
        ravif::Encoder::new()
            .with_quality(90.0)
            .with_speed(10)
            .with_bit_depth(depth)
            .encode_rgb(img)
            .unwrap()
            .avif_file
    }

    fn is_red(p: &[u8]) -> bool {
        p[0] > 180 && p[2] < 80
    }

    fn is_blue(p: &[u8]) -> bool {
        p[0] < 80 && p[2] > 180
    }

    #[test]
    fn eight_and_ten_bits_decode_alike() {
        for depth in [ravif::BitDepth::Eight, ravif::BitDepth::Ten] {
            let file = encoded(48, 32, depth);
            assert_eq!(dimensions(&file).unwrap(), (48, 32));
            let c = container(&file).unwrap();
            assert_eq!(c.size, Some((48, 32)));
            assert_eq!(c.transforms, [None, None]);
            let image = decode(&file, 1 << 20).unwrap().into_rgb8();
            assert_eq!(image.dimensions(), (48, 32));
            assert!(is_red(&image.get_pixel(4, 16).0), "{depth:?}");
            assert!(is_blue(&image.get_pixel(44, 16).0), "{depth:?}");
        }
    }

    #[test]
    fn mirroring_is_applied() {
        // ravif writes no `imir`: its `pixi` property, associated with the
        // picture, becomes one (about the vertical axis: left and right
        // swapped).
        let mut file = encoded(48, 32, ravif::BitDepth::Eight);
        let at = file.windows(4).position(|w| w == b"pixi").unwrap();
        file[at..at + 4].copy_from_slice(b"imir");
        file[at + 4] = 0;
        assert_eq!(
            container(&file).unwrap().transforms,
            [Some(Transform::Mirror(0)), None]
        );
        let image = decode(&file, 1 << 20).unwrap().into_rgb8();
        assert!(is_blue(&image.get_pixel(4, 16).0));
        assert!(is_red(&image.get_pixel(44, 16).0));
    }

    fn peak_rss_mb() -> u64 {
        std::fs::read_to_string("/proc/self/status")
            .ok()
            .and_then(|s| {
                let line = s.lines().find(|l| l.starts_with("VmHWM:"))?.to_owned();
                line.split_whitespace().nth(1)?.parse::<u64>().ok()
            })
            .map_or(0, |kb| kb / 1024)
    }

    /// A 12-megapixel AVIF's upload cost (decoding, then cleaning as an
    /// upload is): `cargo test --release --lib avif_twelve_megapixels --
    /// --ignored --nocapture` (unoptimised, the YUV to RGB step is many
    /// times slower).
    #[test]
    #[ignore = "a timing, not a check: run it by name"]
    fn avif_twelve_megapixels() {
        let (width, height) = (4000u32, 3000u32);
        let pixels: Vec<ravif::RGB8> = (0..width * height)
            .map(|i| {
                let (x, y) = (i % width, i / width);
                ravif::RGB8::new((x / 16) as u8, (y / 12) as u8, ((x + y) / 28) as u8)
            })
            .collect();
        let img = ravif::Img::new(&pixels[..], width as usize, height as usize);
        let file = ravif::Encoder::new()
            .with_quality(80.0)
            .with_speed(10)
            .encode_rgb(img)
            .unwrap()
            .avif_file;
        drop(pixels);
        // Forget encoding's peak (Linux: 5 resets the high-water mark).
        let _ = std::fs::write("/proc/self/clear_refs", "5");
        let before = peak_rss_mb();
        let started = std::time::Instant::now();
        let image = decode(&file, 50_000_000).unwrap();
        let decoded_in = started.elapsed();
        assert_eq!((image.width(), image.height()), (width, height));
        drop(image);
        let started = std::time::Instant::now();
        let settings = crate::media::MediaSettings::temporary();
        let cleaned = crate::media::process::clean(&file, &settings).unwrap();
        println!(
            "a 12-MP AVIF ({} KB): decoded in {} ms; cleaned (decode, placeholder, JPEG q90 of {} KB) in {} ms; peak RSS {} MB (before: {before} MB)",
            file.len() / 1024,
            decoded_in.as_millis(),
            cleaned.bytes.len() / 1024,
            started.elapsed().as_millis(),
            peak_rss_mb(),
        );
    }

    #[test]
    fn cut_or_lying_files_are_refused_without_a_panic() {
        let file = encoded(48, 32, ravif::BitDepth::Eight);
        for cut in [0, 7, 12, 40, file.len() / 2, file.len() - 1] {
            let part = &file[..cut];
            assert!(
                dimensions(part).is_err() || decode(part, 1 << 20).is_err(),
                "{cut} bytes"
            );
        }
        // The decoder's own limit holds even when the header is believed.
        assert!(decode(&file, 100).is_err());
    }
}
