//! Uploaded images through real HTTP: uploads of every accepted type and
//! the bad ones (truncated, wrong type, bombs, too many bytes), EXIF
//! orientation and GPS, renditions (never upscaled, immutable, ranges,
//! made once), focal points, replacing and deleting files, and the demo's
//! shipped picture.

use std::io::Cursor;

use image::{DynamicImage, ImageFormat, RgbImage};
use serde_json::{Value, json};

use crate::admin::token_for;
use crate::harness::{self, TestApp};

/// A picture with some detail, so encoders have something to keep.
fn picture(width: u32, height: u32) -> DynamicImage {
    DynamicImage::ImageRgb8(RgbImage::from_fn(width, height, |x, y| {
        image::Rgb([
            (x * 7 % 256) as u8,
            (y * 5 % 256) as u8,
            ((x + y) % 256) as u8,
        ])
    }))
}

fn encoded(image: &DynamicImage, format: ImageFormat) -> Vec<u8> {
    let mut out = Cursor::new(Vec::new());
    match format {
        // The GIF encoder wants RGBA.
        ImageFormat::Gif => DynamicImage::ImageRgba8(image.to_rgba8())
            .write_to(&mut out, format)
            .unwrap(),
        _ => image.write_to(&mut out, format).unwrap(),
    }
    out.into_inner()
}

fn jpeg(width: u32, height: u32) -> Vec<u8> {
    encoded(&picture(width, height), ImageFormat::Jpeg)
}

struct Reply {
    status: u16,
    headers: reqwest::header::HeaderMap,
    bytes: Vec<u8>,
    json: Value,
}

impl Reply {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    fn problem(&self, status: u16, code: &str) {
        assert_eq!(
            self.status,
            status,
            "{}",
            String::from_utf8_lossy(&self.bytes)
        );
        assert_eq!(
            self.header("content-type"),
            Some("application/problem+json")
        );
        assert_eq!(self.json["code"], code);
    }
}

async fn send(request: reqwest::RequestBuilder) -> Reply {
    let response = request.send().await.expect("an answer");
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let bytes = response.bytes().await.expect("a body").to_vec();
    let json = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    Reply {
        status,
        headers,
        bytes,
        json,
    }
}

/// Uploads `bytes` as the raw body.
async fn upload_raw(app: &TestApp, token: &str, content_type: &str, bytes: Vec<u8>) -> Reply {
    send(
        app.client
            .post(format!(
                "{}/api/v1/admin/media/files?alt=%E1%BA%A2nh",
                app.base
            ))
            .bearer_auth(token)
            .header("content-type", content_type)
            .body(bytes),
    )
    .await
}

/// Uploads `bytes` as the `file` part of a form, named `filename`.
async fn upload_form(app: &TestApp, token: &str, filename: &str, bytes: &[u8]) -> Reply {
    send(form(
        app.client
            .post(format!("{}/api/v1/admin/media/files", app.base)),
        token,
        filename,
        bytes,
    ))
    .await
}

fn form(
    request: reqwest::RequestBuilder,
    token: &str,
    filename: &str,
    bytes: &[u8],
) -> reqwest::RequestBuilder {
    let boundary = "----newsroom-test-boundary";
    let mut body = Vec::new();
    body.extend_from_slice(
        format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"alt\"\r\n\r\nẢnh lễ phát động\r\n\
             --{boundary}\r\nContent-Disposition: form-data; name=\"credit\"\r\n\r\nBáo Quảng Ninh\r\n\
             --{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{filename}\"\r\n\
             Content-Type: image/jpeg\r\n\r\n"
        )
        .as_bytes(),
    );
    body.extend_from_slice(bytes);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    request
        .bearer_auth(token)
        .header(
            "content-type",
            format!("multipart/form-data; boundary={boundary}"),
        )
        .body(body)
}

async fn fetch(app: &TestApp, url: &str, headers: &[(&str, &str)]) -> Reply {
    let url = if url.starts_with('/') {
        format!("{}{url}", app.base)
    } else {
        url.replace(harness::SITE_URL, &app.base)
    };
    let mut request = app.client.get(url);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    send(request).await
}

fn dimensions(bytes: &[u8]) -> (u32, u32) {
    let image = image::load_from_memory(bytes).expect("a served image decodes");
    (image.width(), image.height())
}

#[actix_web::test]
async fn uploads_of_every_accepted_type_are_stored_and_served() {
    let app = TestApp::spawn().await;
    let author = token_for(&app, "tg@newsroom.test", "author").await;
    let source = picture(300, 200);
    for (format, content_type, served) in [
        (ImageFormat::Jpeg, "image/jpeg", "image/jpeg"),
        (ImageFormat::Png, "image/png", "image/png"),
        (ImageFormat::WebP, "image/webp", "image/webp"),
        // A GIF keeps its first frame, as a PNG.
        (ImageFormat::Gif, "image/gif", "image/png"),
    ] {
        let bytes = encoded(&source, format);
        let r = upload_raw(&app, &author, content_type, bytes).await;
        assert_eq!(
            r.status,
            201,
            "{format:?}: {}",
            String::from_utf8_lossy(&r.bytes)
        );
        assert_eq!(
            (r.json["width"].as_i64(), r.json["height"].as_i64()),
            (Some(300), Some(200))
        );
        assert_eq!(r.json["mime_type"], served);
        assert_eq!(r.json["alt"], "Ảnh");
        assert!(
            r.json["placeholder"].as_str().is_some_and(|p| p.len() > 6),
            "{}",
            r.json
        );
        let url = r.json["url"].as_str().unwrap();
        assert!(url.starts_with("http://news.test/media/o/"), "{url}");
        let file = fetch(&app, url, &[]).await;
        assert_eq!(file.status, 200);
        assert_eq!(file.header("content-type"), Some(served));
        assert_eq!(dimensions(&file.bytes), (300, 200));
    }
    // A form, with its text fields; the file name says nothing.
    let r = upload_form(&app, &author, "anh.bin", &jpeg(120, 80)).await;
    assert_eq!(r.status, 201, "{}", String::from_utf8_lossy(&r.bytes));
    assert_eq!(
        (r.json["alt"].as_str(), r.json["credit"].as_str()),
        (Some("Ảnh lễ phát động"), Some("Báo Quảng Ninh"))
    );
    // Nobody signed in, or a contributor: no upload.
    let anonymous = send(
        app.client
            .post(format!("{}/api/v1/admin/media/files", app.base))
            .header("content-type", "image/jpeg")
            .body(jpeg(10, 10)),
    )
    .await;
    anonymous.problem(401, "unauthorized");
    let contributor = token_for(&app, "ctv@newsroom.test", "contributor").await;
    upload_raw(&app, &contributor, "image/jpeg", jpeg(10, 10))
        .await
        .problem(403, "forbidden");
}

/// The CRC-32 of PNG chunks.
fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in bytes {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// A tiny PNG whose header declares `width × height` pixels.
fn png_declaring(width: u32, height: u32) -> Vec<u8> {
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut chunk = |kind: &[u8], data: &[u8]| {
        png.extend_from_slice(&(data.len() as u32).to_be_bytes());
        let mut body = kind.to_vec();
        body.extend_from_slice(data);
        png.extend_from_slice(&body);
        png.extend_from_slice(&crc32(&body).to_be_bytes());
    };
    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&width.to_be_bytes());
    ihdr.extend_from_slice(&height.to_be_bytes());
    ihdr.extend_from_slice(&[8, 2, 0, 0, 0]);
    chunk(b"IHDR", &ihdr);
    // A few bytes of zlib that would inflate to gigabytes, were they read.
    chunk(
        b"IDAT",
        &[
            0x78, 0x9c, 0xed, 0xc1, 0x01, 0x0d, 0x00, 0x00, 0x00, 0xc2, 0xa0,
        ],
    );
    chunk(b"IEND", &[]);
    png
}

#[actix_web::test]
async fn bad_files_are_problems_and_never_decoded() {
    let mut settings = harness::settings();
    settings.media.max_bytes = 200_000;
    let app = TestApp::spawn_with(settings).await;
    let author = token_for(&app, "tg@newsroom.test", "author").await;

    // A text file named .jpg, sent as a form and as a JPEG body.
    let text = b"Day khong phai la anh, chi la chu.".repeat(20);
    upload_form(&app, &author, "anh.jpg", &text)
        .await
        .problem(415, "unsupported_media_type");
    upload_raw(&app, &author, "image/jpeg", text.clone())
        .await
        .problem(415, "unsupported_media_type");
    // A JPEG cut in half.
    let whole = jpeg(400, 300);
    let cut = whole[..whole.len() / 2].to_vec();
    upload_raw(&app, &author, "image/jpeg", cut)
        .await
        .problem(422, "unprocessable_image");
    // A truncated PNG.
    let png = encoded(&picture(200, 200), ImageFormat::Png);
    upload_raw(&app, &author, "image/png", png[..png.len() / 2].to_vec())
        .await
        .problem(422, "unprocessable_image");
    // 30,000 × 30,000 declared in a few dozen bytes: refused from the header.
    let started = std::time::Instant::now();
    let bomb = upload_raw(&app, &author, "image/png", png_declaring(30_000, 30_000)).await;
    bomb.problem(422, "unprocessable_image");
    assert!(
        bomb.json["detail"]
            .as_str()
            .unwrap()
            .contains("30000 × 30000"),
        "{}",
        bomb.json
    );
    assert!(started.elapsed() < std::time::Duration::from_secs(2));
    // More bytes than the setting allows, raw and as a form.
    let big = vec![0xFFu8; 300_000];
    upload_raw(&app, &author, "image/jpeg", big.clone())
        .await
        .problem(413, "payload_too_large");
    upload_form(&app, &author, "big.jpg", &big)
        .await
        .problem(413, "payload_too_large");
    // An empty body and a form without a file.
    upload_raw(&app, &author, "image/jpeg", Vec::new())
        .await
        .problem(422, "validation_failed");
    // Nothing was recorded.
    let mut conn = app.conn().await;
    use diesel::prelude::*;
    use diesel_async::RunQueryDsl;
    let count: i64 = newsroom::schema::media::table
        .count()
        .get_result(&mut conn)
        .await
        .unwrap();
    assert_eq!(count, 0);
}

/// A JPEG with an APP1 Exif segment: orientation 6 (rotate 90° clockwise
/// to show) and a GPS IFD.
fn jpeg_with_exif(width: u32, height: u32) -> Vec<u8> {
    let plain = jpeg(width, height);
    let mut tiff = b"MM\x00\x2a\x00\x00\x00\x08".to_vec();
    // IFD0: orientation and the GPS IFD's offset (38).
    tiff.extend_from_slice(&2u16.to_be_bytes());
    tiff.extend_from_slice(&[0x01, 0x12, 0x00, 0x03, 0, 0, 0, 1, 0x00, 0x06, 0, 0]);
    tiff.extend_from_slice(&[0x88, 0x25, 0x00, 0x04, 0, 0, 0, 1, 0, 0, 0, 38]);
    tiff.extend_from_slice(&0u32.to_be_bytes());
    // GPS IFD: latitude reference "N" and the latitude 21° 0' 0".
    tiff.extend_from_slice(&2u16.to_be_bytes());
    tiff.extend_from_slice(&[0x00, 0x01, 0x00, 0x02, 0, 0, 0, 2, b'N', 0, 0, 0]);
    tiff.extend_from_slice(&[0x00, 0x02, 0x00, 0x05, 0, 0, 0, 3, 0, 0, 0, 68]);
    tiff.extend_from_slice(&0u32.to_be_bytes());
    for (n, d) in [(21u32, 1u32), (0, 1), (0, 1)] {
        tiff.extend_from_slice(&n.to_be_bytes());
        tiff.extend_from_slice(&d.to_be_bytes());
    }
    let mut app1 = b"Exif\x00\x00".to_vec();
    app1.extend_from_slice(&tiff);
    let mut out = plain[..2].to_vec();
    out.extend_from_slice(&[0xFF, 0xE1]);
    out.extend_from_slice(&((app1.len() + 2) as u16).to_be_bytes());
    out.extend_from_slice(&app1);
    out.extend_from_slice(&plain[2..]);
    out
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[actix_web::test]
async fn exif_orientation_is_applied_and_metadata_stripped() {
    let app = TestApp::spawn().await;
    let author = token_for(&app, "tg@newsroom.test", "author").await;
    let sent = jpeg_with_exif(40, 20);
    assert!(contains(&sent, b"Exif\0\0"));
    let r = upload_raw(&app, &author, "image/jpeg", sent).await;
    assert_eq!(r.status, 201, "{}", String::from_utf8_lossy(&r.bytes));
    // Upright: the 40 × 20 picture is shown 20 wide and 40 high.
    assert_eq!(
        (r.json["width"].as_i64(), r.json["height"].as_i64()),
        (Some(20), Some(40))
    );
    let original = fetch(&app, r.json["url"].as_str().unwrap(), &[]).await;
    assert_eq!(original.status, 200);
    assert_eq!(dimensions(&original.bytes), (20, 40));
    assert!(
        !contains(&original.bytes, b"Exif"),
        "the served original keeps EXIF"
    );
    let rendition = r.json["renditions"]["original"][1]["url"].as_str().unwrap();
    let served = fetch(&app, rendition, &[]).await;
    assert_eq!(served.status, 200);
    assert!(!contains(&served.bytes, b"Exif"));
}

#[actix_web::test]
async fn renditions_are_never_upscaled_immutable_ranged_and_made_once() {
    let settings = harness::settings();
    let media = settings.media.clone();
    let app = TestApp::spawn_with(settings).await;
    let author = token_for(&app, "tg@newsroom.test", "author").await;
    let r = upload_raw(&app, &author, "image/jpeg", jpeg(700, 300)).await;
    assert_eq!(r.status, 201);
    let m = r.json;
    let crops: Vec<&String> = m["renditions"].as_object().unwrap().keys().collect();
    assert_eq!(crops, ["16x9", "1x1", "4x3", "original"]);
    let widths: Vec<i64> = m["renditions"]["original"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["format"] == "webp")
        .map(|r| r["width"].as_i64().unwrap())
        .collect();
    assert_eq!(widths, [320, 480, 640, 700]);
    for list in m["renditions"].as_object().unwrap().values() {
        for r in list.as_array().unwrap() {
            assert!(
                r["width"].as_i64().unwrap() <= 700 && r["height"].as_i64().unwrap() <= 300,
                "{r}"
            );
        }
    }
    let square = &m["renditions"]["1x1"];
    assert_eq!(square.as_array().unwrap().last().unwrap()["width"], 300);
    assert!(
        m["srcset"]["original"]["webp"]
            .as_str()
            .unwrap()
            .ends_with("/original/700.webp 700w")
    );

    // Served as stated, immutable, with an ETag that answers 304.
    let first = &m["renditions"]["4x3"][2];
    let url = first["url"].as_str().unwrap();
    let got = fetch(&app, url, &[]).await;
    assert_eq!(got.status, 200);
    assert_eq!(
        got.header("content-type"),
        Some("image/jpeg")
            .filter(|_| first["format"] == "jpeg")
            .or(Some("image/webp"))
    );
    assert_eq!(
        got.header("cache-control"),
        Some("public, max-age=31536000, immutable")
    );
    assert_eq!(
        dimensions(&got.bytes),
        (
            first["width"].as_u64().unwrap() as u32,
            first["height"].as_u64().unwrap() as u32
        )
    );
    let etag = got.header("etag").unwrap().to_owned();
    let again = fetch(&app, url, &[("if-none-match", &etag)]).await;
    assert_eq!(again.status, 304);
    // Ranges.
    let part = fetch(&app, url, &[("range", "bytes=0-99")]).await;
    assert_eq!(part.status, 206);
    assert_eq!(part.bytes, got.bytes[..100]);
    assert_eq!(
        part.header("content-range"),
        Some(format!("bytes 0-99/{}", got.bytes.len()).as_str())
    );
    let tail = fetch(&app, url, &[("range", "bytes=-10")]).await;
    assert_eq!(
        (tail.status, &tail.bytes[..]),
        (206, &got.bytes[got.bytes.len() - 10..])
    );
    let outside = fetch(
        &app,
        url,
        &[("range", &format!("bytes={}-", got.bytes.len() + 5))],
    )
    .await;
    assert_eq!(outside.status, 416);
    // A width not offered (wider than the original) is not made.
    let wider = url.rsplit_once('/').unwrap().0.to_owned() + "/960.webp";
    assert_eq!(fetch(&app, &wider, &[]).await.status, 404);
    let bogus = format!(
        "{}/media/r/{}/original/320.webp",
        harness::SITE_URL,
        "0".repeat(32)
    );
    assert_eq!(fetch(&app, &bogus, &[]).await.status, 404);

    // `.auto` picks the format by `Accept`.
    let auto = m["renditions"]["original"][0]["url"]
        .as_str()
        .unwrap()
        .rsplit_once('.')
        .unwrap()
        .0
        .to_owned()
        + ".auto";
    let webp = fetch(&app, &auto, &[("accept", "image/webp,*/*")]).await;
    assert_eq!(
        (webp.status, webp.header("content-type")),
        (200, Some("image/webp"))
    );
    assert!(
        webp.header("vary")
            .unwrap()
            .split(", ")
            .any(|v| v == "Accept")
    );
    let jpeg = fetch(&app, &auto, &[("accept", "*/*")]).await;
    assert_eq!(
        (jpeg.status, jpeg.header("content-type")),
        (200, Some("image/jpeg"))
    );

    // Twenty first requests at once all get the same bytes, made once.
    let url = m["renditions"]["16x9"][0]["url"].as_str().unwrap();
    let batches = || media.batches.load(std::sync::atomic::Ordering::Relaxed);
    let before = batches();
    let all = futures_util::future::join_all((0..20).map(|_| fetch(&app, url, &[]))).await;
    assert!(
        all.iter()
            .all(|r| r.status == 200 && r.bytes == all[0].bytes)
    );
    assert_eq!(batches() - before, 1, "twenty first requests made it once");
}

#[actix_web::test]
async fn focal_points_and_new_files_make_new_urls_and_unused_files_are_deleted() {
    let app = TestApp::spawn().await;
    let author = token_for(&app, "tg@newsroom.test", "author").await;
    let m = upload_raw(&app, &author, "image/jpeg", jpeg(800, 400))
        .await
        .json;
    let id = m["id"].as_i64().unwrap();
    let admin_url = format!("{}/api/v1/admin/media/{id}", app.base);
    let patched = send(
        app.client
            .patch(&admin_url)
            .bearer_auth(&author)
            .json(&json!({"focal_point": {"x": 0.9, "y": 0.2}})),
    )
    .await;
    assert_eq!(
        patched.status,
        200,
        "{}",
        String::from_utf8_lossy(&patched.bytes)
    );
    let p = patched.json;
    assert_eq!(p["focal_point"], json!({"x": 0.9, "y": 0.2}));
    // Crops move; the whole picture's renditions stay.
    assert_ne!(p["renditions"]["1x1"], m["renditions"]["1x1"]);
    assert_eq!(p["renditions"]["original"], m["renditions"]["original"]);
    assert!(
        p["renditions"]["1x1"][0]["url"]
            .as_str()
            .unwrap()
            .contains("/1x1_900_200/")
    );
    let moved = fetch(
        &app,
        p["renditions"]["1x1"][0]["url"].as_str().unwrap(),
        &[],
    )
    .await;
    assert_eq!(moved.status, 200);
    // The file's own facts are not edited by hand.
    let refused = send(
        app.client
            .patch(&admin_url)
            .bearer_auth(&author)
            .json(&json!({"width": 10})),
    )
    .await;
    refused.problem(422, "validation_failed");
    let out_of_range = send(
        app.client
            .patch(&admin_url)
            .bearer_auth(&author)
            .json(&json!({"focal_point": {"x": 1.5, "y": 0}})),
    )
    .await;
    out_of_range.problem(422, "validation_failed");

    // A new file: new URLs, new dimensions, the focal point back in the middle.
    let replaced = send(form(
        app.client.put(format!("{admin_url}/file")),
        &author,
        "moi.png",
        &encoded(&picture(500, 500), ImageFormat::Png),
    ))
    .await;
    assert_eq!(
        replaced.status,
        200,
        "{}",
        String::from_utf8_lossy(&replaced.bytes)
    );
    let n = replaced.json;
    assert_ne!(n["url"], p["url"]);
    assert_eq!(
        (n["width"].as_i64(), n["mime_type"].as_str()),
        (Some(500), Some("image/png"))
    );
    assert_eq!(n["focal_point"], json!({"x": 0.5, "y": 0.5}));
    assert_ne!(n["renditions"]["original"], p["renditions"]["original"]);

    // Deleted: the record, its file and its renditions.
    let url = n["url"].as_str().unwrap().to_owned();
    let rendition = n["renditions"]["original"][0]["url"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(fetch(&app, &rendition, &[]).await.status, 200);
    let gone = send(app.client.delete(&admin_url).bearer_auth(&author)).await;
    assert_eq!(gone.status, 204);
    assert_eq!(fetch(&app, &url, &[]).await.status, 404);
    assert_eq!(fetch(&app, &rendition, &[]).await.status, 404);
}

#[actix_web::test]
async fn external_records_work_as_before() {
    let app = TestApp::spawn().await;
    let author = token_for(&app, "tg@newsroom.test", "author").await;
    let r = send(app.client.post(format!("{}/api/v1/admin/media", app.base)).bearer_auth(&author).json(&json!({"url": "https://cdn.example.vn/a.jpg", "alt": "Ảnh", "mime_type": "image/jpeg", "width": 800, "height": 600}))).await;
    assert_eq!(r.status, 201);
    assert_eq!(r.json["url"], "https://cdn.example.vn/a.jpg");
    assert_eq!(r.json["renditions"], json!({}));
    assert_eq!(r.json["srcset"], json!({}));
    assert_eq!(r.json["placeholder"], Value::Null);
}

#[actix_web::test]
async fn the_demo_picture_is_served_with_renditions() {
    let app = TestApp::with_demo().await;
    let original = fetch(&app, "/media/2023/11/2147034_dsc_0597_11282810.jpg", &[]).await;
    assert_eq!(original.status, 200);
    assert_eq!(original.header("content-type"), Some("image/jpeg"));
    assert_eq!(dimensions(&original.bytes), (1200, 800));
    // HEAD: the same headers, no body.
    let head = send(app.client.head(format!(
        "{}/media/2023/11/2147034_dsc_0597_11282810.jpg",
        app.base
    )))
    .await;
    assert_eq!((head.status, head.bytes.len()), (200, 0));
    assert_eq!(head.header("content-type"), Some("image/jpeg"));
    // Nothing outside the storage, and nothing but images.
    for path in [
        "/media/..%2F..%2F..%2Fetc%2Fpasswd",
        "/media/%2e%2e/%2e%2e/etc/passwd.jpg",
        "/media/o/../../Cargo.toml",
        "/media/2023/11/nothing.jpg",
    ] {
        assert_eq!(fetch(&app, path, &[]).await.status, 404, "{path}");
    }
    let article = app
        .get(&format!("/api/v1/articles/{}", crate::demo::SEED_SLUG))
        .await;
    assert_eq!(article.status, 200);
    let cover = &article.json["cover"]["media"];
    assert!(cover["placeholder"].as_str().is_some(), "{cover}");
    let wide = cover["renditions"]["16x9"].as_array().unwrap();
    assert_eq!(wide.last().unwrap()["width"], 1200);
    let webp = wide.iter().find(|r| r["format"] == "webp").unwrap();
    let small = fetch(&app, webp["url"].as_str().unwrap(), &[]).await;
    assert_eq!(small.status, 200);
    assert_eq!(dimensions(&small.bytes), (320, 180));
    let html = article.json["body_html"].as_str().unwrap();
    assert!(
        html.contains(" srcset=\"http://news.test/media/r/"),
        "{html}"
    );
    assert!(
        html.contains(" sizes=\"") && html.contains(" loading=\"lazy\""),
        "{html}"
    );
}
