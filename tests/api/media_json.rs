//! Pictures wherever the JSON shows one (image blocks, covers, social
//! images, author avatars) through real HTTP: each carries its size, alt
//! text, placeholder, renditions and `srcset`s, and `body_html` images
//! their `srcset`, `sizes`, size and `loading="lazy"`; every demo picture
//! is a real file; AVIF renditions, and AVIF uploads.

use std::collections::BTreeSet;
use std::io::Cursor;

use image::{DynamicImage, ImageFormat, RgbImage};
use reqwest::Method;
use serde_json::{Value, json};

use crate::admin::{create, draft, send, token_for};
use crate::harness::{self, TestApp};

fn jpeg(width: u32, height: u32) -> Vec<u8> {
    let image = DynamicImage::ImageRgb8(RgbImage::from_fn(width, height, |x, y| {
        image::Rgb([(x * 3 % 256) as u8, (y * 5 % 256) as u8, 128])
    }));
    let mut out = Cursor::new(Vec::new());
    image.write_to(&mut out, ImageFormat::Jpeg).unwrap();
    out.into_inner()
}

struct Got {
    status: u16,
    content_type: Option<String>,
    bytes: Vec<u8>,
}

async fn fetch(app: &TestApp, url: &str, accept: Option<&str>) -> Got {
    let url = url.replace(harness::SITE_URL, &app.base);
    let mut request = app.client.get(url);
    if let Some(accept) = accept {
        request = request.header("accept", accept);
    }
    let response = request.send().await.expect("an answer");
    Got {
        status: response.status().as_u16(),
        content_type: response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned),
        bytes: response.bytes().await.expect("a body").to_vec(),
    }
}

async fn upload(app: &TestApp, token: &str, bytes: Vec<u8>, content_type: &str) -> (u16, Value) {
    let response = app
        .client
        .post(format!(
            "{}/api/v1/admin/media/files?alt=%E1%BA%A2nh%20th%E1%BB%AD",
            app.base
        ))
        .bearer_auth(token)
        .header("content-type", content_type)
        .body(bytes)
        .send()
        .await
        .expect("an answer");
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// Checks what every picture object must carry; for a stored file, that
/// it has renditions in every crop and format, listed in its `srcset`s.
fn assert_picture(m: &Value, stored: bool) {
    for field in [
        "url",
        "alt",
        "width",
        "height",
        "placeholder",
        "renditions",
        "srcset",
    ] {
        assert!(m.get(field).is_some(), "`{field}` missing from {m}");
    }
    if !stored {
        return;
    }
    assert!(m["width"].as_u64().is_some_and(|w| w > 0), "{m}");
    assert!(
        m["placeholder"].as_str().is_some_and(|p| p.len() > 5),
        "{m}"
    );
    let renditions = m["renditions"].as_object().unwrap();
    assert_eq!(
        renditions.keys().collect::<Vec<_>>(),
        ["16x9", "1x1", "4x3", "original"],
        "{m}"
    );
    for (crop, list) in renditions {
        let formats: BTreeSet<&str> = list
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["format"].as_str().unwrap())
            .collect();
        assert_eq!(formats, BTreeSet::from(["avif", "jpeg", "webp"]), "{m}");
        for format in ["avif", "webp", "jpeg"] {
            let set = m["srcset"][crop][format].as_str().unwrap();
            assert!(set.contains(" 320w") || !set.is_empty(), "{m}");
        }
        for r in list.as_array().unwrap() {
            assert!(r["width"].as_u64().unwrap() <= m["width"].as_u64().unwrap());
        }
    }
}

fn image_blocks(article: &Value) -> Vec<&Value> {
    article["body"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|b| b["type"] == "image")
        .map(|b| &b["media"])
        .collect()
}

#[actix_web::test]
async fn image_blocks_avatars_and_body_html_carry_renditions() {
    let app = TestApp::with_demo().await;
    let editor = token_for(&app, "bt@newsroom.test", "editor").await;
    let (status, uploaded) = upload(&app, &editor, jpeg(900, 600), "image/jpeg").await;
    assert_eq!(status, 201, "{uploaded}");
    let id = uploaded["id"].as_i64().unwrap();
    // The focal point is set before the article is saved: its crops follow.
    let r = send(
        &app,
        Method::PATCH,
        &format!("/api/v1/admin/media/{id}"),
        Some(&editor),
        Some(json!({"focal_point": {"x": 0.25, "y": 0.5}})),
        &[],
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let external = send(
        &app,
        Method::POST,
        "/api/v1/admin/media",
        Some(&editor),
        Some(json!({"url": "https://cdn.example.vn/b.jpg", "alt": "Ảnh ngoài", "mime_type": "image/jpeg", "width": 800, "height": 600})),
        &[],
    )
    .await;
    assert_eq!(external.status, 201, "{}", external.text);
    let external_id = external.json["id"].as_i64().unwrap();

    let mut body = draft("Bài có ảnh trong thân bài");
    body["body"] = json!([
        {"type": "paragraph", "text": "Mở đầu."},
        {"type": "image", "media_id": id, "caption": "Chú thích."},
        {"type": "image", "media_id": external_id},
    ]);
    body["cover_media_id"] = json!(id);
    let article = create(&app, &editor, body).await;
    assert_eq!(article.status, 201, "{}", article.text);
    let article_id = article.json["id"].as_i64().unwrap();
    let slug = article.json["slug"].as_str().unwrap().to_owned();
    // What the editor gets back from a save shows the pictures as the
    // public article will.
    let saved = image_blocks(&article.json);
    assert_picture(saved[0], true);
    assert_picture(saved[1], false);
    let r = send(
        &app,
        Method::POST,
        &format!("/api/v1/admin/articles/{article_id}/publish"),
        Some(&editor),
        None,
        &[],
    )
    .await;
    assert!(r.status.is_success(), "{}", r.text);

    let public = app.get(&format!("/api/v1/articles/{slug}")).await;
    assert_eq!(public.status, 200, "{}", public.text);
    let blocks = image_blocks(&public.json);
    assert_eq!(blocks.len(), 2);
    let block = blocks[0];
    assert_picture(block, true);
    assert_eq!(block["alt"], "Ảnh thử");
    assert_eq!(
        (block["width"].as_u64(), block["height"].as_u64()),
        (Some(900), Some(600))
    );
    assert_eq!(block["focal_point"], json!({"x": 0.25, "y": 0.5}));
    // The block's renditions are the cover's (same file, same focal point).
    assert_eq!(
        block["renditions"],
        public.json["cover"]["media"]["renditions"]
    );
    assert_eq!(
        block["srcset"],
        public.json["seo"]["social_image"]["srcset"]
    );
    // The staff article's blocks are the public article's media objects.
    let staff = send(
        &app,
        Method::GET,
        &format!("/api/v1/admin/articles/{article_id}"),
        Some(&editor),
        None,
        &[],
    )
    .await;
    assert_eq!(staff.status, 200, "{}", staff.text);
    assert_eq!(image_blocks(&staff.json), blocks);
    assert_eq!(image_blocks(&article.json), blocks);
    // An external picture keeps working, without renditions.
    assert_picture(blocks[1], false);
    assert_eq!(blocks[1]["url"], "https://cdn.example.vn/b.jpg");
    assert_eq!(blocks[1]["renditions"], json!({}));
    // The block's renditions are served as listed.
    for crop in ["original", "1x1"] {
        let first = &block["renditions"][crop][1];
        let got = fetch(&app, first["url"].as_str().unwrap(), None).await;
        assert_eq!(got.status, 200, "{first}");
        let image = image::load_from_memory(&got.bytes).unwrap();
        assert_eq!(
            (image.width() as u64, image.height() as u64),
            (
                first["width"].as_u64().unwrap(),
                first["height"].as_u64().unwrap()
            )
        );
    }

    // body_html: srcset, sizes, width, height and lazy loading.
    let html = public.json["body_html"].as_str().unwrap();
    let img = html
        .split("<img ")
        .nth(1)
        .and_then(|rest| rest.split('>').next())
        .unwrap();
    for attribute in [
        " srcset=\"",
        " sizes=\"",
        " width=\"900\"",
        " height=\"600\"",
        " loading=\"lazy\"",
    ] {
        assert!(
            img.contains(attribute),
            "{attribute} missing from <img {img}>"
        );
    }
    let srcset_url = img
        .split(" srcset=\"")
        .nth(1)
        .unwrap()
        .split(' ')
        .next()
        .unwrap();
    assert_eq!(fetch(&app, srcset_url, None).await.status, 200);

    // A focal point moved after the article was saved: the block's old
    // crop URLs lead to the crop around the new one.
    let r = send(
        &app,
        Method::PATCH,
        &format!("/api/v1/admin/media/{id}"),
        Some(&editor),
        Some(json!({"focal_point": {"x": 0.75, "y": 0.5}})),
        &[],
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let stale = block["renditions"]["4x3"][0]["url"].as_str().unwrap();
    let response = app
        .client
        .get(stale.replace(harness::SITE_URL, &app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200, "followed to the new crop");
    assert!(
        response.url().path().contains("/4x3_750_500/"),
        "{}",
        response.url()
    );

    // An avatar that is an uploaded file carries its renditions too.
    let author = send(
        &app,
        Method::POST,
        "/api/v1/admin/authors",
        Some(&editor),
        Some(json!({"name": "Lê Thu Hà", "avatar_url": uploaded["url"]})),
        &[],
    )
    .await;
    assert_eq!(author.status, 201, "{}", author.text);
    let avatar = &author.json["avatar"];
    assert_picture(avatar, true);
    assert_eq!(avatar["width"], 900);
    let public = app.get("/api/v1/authors/le-thu-ha").await;
    assert_eq!(public.json["avatar"]["renditions"], avatar["renditions"]);
    let square = avatar["renditions"]["1x1"][0]["url"].as_str().unwrap();
    assert_eq!(fetch(&app, square, None).await.status, 200);
    // An external avatar: a picture object without renditions.
    let other = send(
        &app,
        Method::POST,
        "/api/v1/admin/authors",
        Some(&editor),
        Some(json!({"name": "Vũ Minh", "avatar_url": "https://cdn.example.vn/vu-minh.png"})),
        &[],
    )
    .await;
    assert_eq!(other.status, 201, "{}", other.text);
    assert_picture(&other.json["avatar"], false);
    assert_eq!(other.json["avatar"]["mime_type"], "image/png");
    assert_eq!(other.json["avatar"]["alt"], "Vũ Minh");
}

#[actix_web::test]
async fn every_demo_picture_is_a_real_file_with_renditions() {
    let app = TestApp::with_demo().await;
    let mut pictures: Vec<Value> = Vec::new();
    let mut next = Some("/api/v1/articles?limit=50".to_owned());
    while let Some(page) = next.take() {
        let list = app.get(&page).await;
        assert_eq!(list.status, 200, "{}", list.text);
        for item in list.json["items"].as_array().unwrap() {
            let article = app
                .get(&format!(
                    "/api/v1/articles/{}",
                    item["slug"].as_str().unwrap()
                ))
                .await;
            assert_eq!(article.status, 200);
            pictures.extend(image_blocks(&article.json).into_iter().cloned());
            for cover in [
                &article.json["cover"]["media"],
                &article.json["seo"]["social_image"],
            ] {
                if !cover.is_null() {
                    pictures.push(cover.clone());
                }
            }
            let html = article.json["body_html"].as_str().unwrap();
            for img in html.split("<img ").skip(1) {
                let img = img.split('>').next().unwrap();
                assert!(
                    img.contains(" srcset=\"") && img.contains(" loading=\"lazy\""),
                    "{img}"
                );
            }
        }
        next = list.json["next_cursor"]
            .as_str()
            .map(|c| format!("/api/v1/articles?limit=50&cursor={c}"));
    }
    let authors = app.get("/api/v1/authors?limit=100").await;
    for a in authors.json["items"].as_array().unwrap() {
        assert!(!a["avatar"].is_null(), "{a}");
        pictures.push(a["avatar"].clone());
    }
    let mut seen = BTreeSet::new();
    for m in &pictures {
        let url = m["url"].as_str().unwrap();
        if !seen.insert(url.to_owned()) {
            continue;
        }
        assert_picture(m, true);
        let original = fetch(&app, url, None).await;
        assert_eq!(original.status, 200, "{url}");
        let image = image::load_from_memory(&original.bytes).expect("a real picture");
        assert_eq!(
            (image.width() as u64, image.height() as u64),
            (m["width"].as_u64().unwrap(), m["height"].as_u64().unwrap()),
            "{url}"
        );
        // The narrowest square WebP (its first request decodes the file,
        // cuts around the focal point and encodes: the rest go alike).
        for crop in ["1x1"] {
            let r = m["renditions"][crop]
                .as_array()
                .unwrap()
                .iter()
                .find(|r| r["format"] == "webp")
                .unwrap();
            let got = fetch(&app, r["url"].as_str().unwrap(), None).await;
            assert_eq!(
                (got.status, got.content_type.as_deref()),
                (200, Some("image/webp")),
                "{r}"
            );
        }
    }
    // The 12 pictures of the articles and 6 avatars.
    assert_eq!(seen.len(), 18, "{seen:?}");
}

#[actix_web::test]
async fn avif_renditions_are_served_in_avif_and_by_accept() {
    let app = TestApp::spawn().await;
    let author = token_for(&app, "tg@newsroom.test", "author").await;
    let (status, m) = upload(&app, &author, jpeg(500, 400), "image/jpeg").await;
    assert_eq!(status, 201, "{m}");
    let avif = m["renditions"]["original"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["format"] == "avif")
        .unwrap()
        .clone();
    let got = fetch(&app, avif["url"].as_str().unwrap(), None).await;
    assert_eq!(
        (got.status, got.content_type.as_deref()),
        (200, Some("image/avif"))
    );
    assert_eq!(&got.bytes[4..12], b"ftypavif");
    assert!(
        m["srcset"]["1x1"]["avif"]
            .as_str()
            .unwrap()
            .ends_with(" 400w")
    );
    // `auto` prefers AVIF, then WebP, then JPEG.
    let auto = avif["url"].as_str().unwrap().replace(".avif", ".auto");
    for (accept, expected) in [
        ("image/avif,image/webp,image/apng,*/*;q=0.8", "image/avif"),
        ("image/avif;q=0,image/webp,*/*", "image/webp"),
        ("image/webp,*/*", "image/webp"),
        ("*/*", "image/jpeg"),
    ] {
        let got = fetch(&app, &auto, Some(accept)).await;
        assert_eq!(
            (got.status, got.content_type.as_deref()),
            (200, Some(expected)),
            "{accept}"
        );
    }
}

/// A real AVIF made by ravif: the left half red, the right half blue (so
/// a turn shows), and with `alpha` the bottom half half-transparent.
fn avif(width: u32, height: u32, alpha: bool) -> Vec<u8> {
    let colour = move |x: u32| {
        if x < width / 2 {
            [220u8, 30, 30]
        } else {
            [30, 30, 220]
        }
    };
    let encoder = ravif::Encoder::new().with_quality(90.0).with_speed(10);
    if alpha {
        let pixels: Vec<ravif::RGBA8> = (0..height)
            .flat_map(|y| {
                (0..width).map(move |x| {
                    let [r, g, b] = colour(x);
                    ravif::RGBA8::new(r, g, b, if y < height / 2 { 255 } else { 128 })
                })
            })
            .collect();
        let img = ravif::Img::new(&pixels[..], width as usize, height as usize);
        encoder.encode_rgba(img).unwrap().avif_file
    } else {
        let pixels: Vec<ravif::RGB8> = (0..height)
            .flat_map(|_| {
                (0..width).map(move |x| {
                    let [r, g, b] = colour(x);
                    ravif::RGB8::new(r, g, b)
                })
            })
            .collect();
        let img = ravif::Img::new(&pixels[..], width as usize, height as usize);
        encoder.encode_rgb(img).unwrap().avif_file
    }
}

/// Where `name` (a box's four letters) starts in `file`: its size field.
fn find_box(file: &[u8], name: &[u8; 4]) -> usize {
    file.windows(4)
        .position(|w| w == name)
        .expect("the box is there")
        - 4
}

fn pixel(bytes: &[u8], x: u32, y: u32) -> [u8; 4] {
    image::load_from_memory(bytes)
        .unwrap()
        .to_rgba8()
        .get_pixel(x, y)
        .0
}

#[actix_web::test]
async fn avif_uploads_are_decoded_checked_and_turned() {
    let app = TestApp::spawn().await;
    let author = token_for(&app, "tg@newsroom.test", "author").await;

    // Judged by its bytes: sent as an octet stream, it is an AVIF.
    let file = avif(240, 160, false);
    let (status, m) = upload(&app, &author, file.clone(), "application/octet-stream").await;
    assert_eq!(status, 201, "{m}");
    assert_picture(&m, true);
    assert_eq!(
        (m["width"].as_u64(), m["height"].as_u64()),
        (Some(240), Some(160))
    );
    // Kept as a JPEG (renditions are made in AVIF as for any upload).
    assert_eq!(m["mime_type"], "image/jpeg");
    let original = fetch(&app, m["url"].as_str().unwrap(), None).await;
    assert_eq!(original.status, 200);
    assert_eq!(&original.bytes[..2], [0xFF, 0xD8]);
    let [r, _, b, _] = pixel(&original.bytes, 20, 80);
    assert!(r > 180 && b < 80, "left is red: {r} {b}");
    let [r, _, b, _] = pixel(&original.bytes, 220, 80);
    assert!(r < 80 && b > 180, "right is blue: {r} {b}");
    for format in ["webp", "avif"] {
        let r = m["renditions"]["1x1"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["format"] == format)
            .unwrap();
        let got = fetch(&app, r["url"].as_str().unwrap(), None).await;
        assert_eq!(got.status, 200, "{r}");
    }

    // With transparency: kept as a PNG, alpha and all.
    let (status, m) = upload(&app, &author, avif(64, 48, true), "image/avif").await;
    assert_eq!(status, 201, "{m}");
    assert_eq!(m["mime_type"], "image/png");
    let png = fetch(&app, m["url"].as_str().unwrap(), None).await;
    let [.., top] = pixel(&png.bytes, 10, 5);
    let [.., bottom] = pixel(&png.bytes, 10, 40);
    assert_eq!(top, 255);
    assert!((100..=156).contains(&bottom), "half transparent: {bottom}");

    // `irot` (a quarter turn anticlockwise) is applied: the left (red)
    // half ends at the bottom. ravif writes none, so its `pixi` property
    // (associated with the picture, same size or larger) becomes one.
    let mut turned = file.clone();
    let at = find_box(&turned, b"pixi");
    turned[at + 4..at + 8].copy_from_slice(b"irot");
    turned[at + 8] = 1;
    let (status, m) = upload(&app, &author, turned, "image/avif").await;
    assert_eq!(status, 201, "{m}");
    assert_eq!(
        (m["width"].as_u64(), m["height"].as_u64()),
        (Some(160), Some(240))
    );
    let original = fetch(&app, m["url"].as_str().unwrap(), None).await;
    let [r, _, b, _] = pixel(&original.bytes, 80, 220);
    assert!(r > 180 && b < 80, "bottom is red: {r} {b}");

    // Truncated: a 422, not a grey picture.
    let (status, problem) = upload(
        &app,
        &author,
        file[..file.len() * 2 / 3].to_vec(),
        "image/avif",
    )
    .await;
    assert_eq!(status, 422, "{problem}");
    assert!(
        problem["detail"].as_str().unwrap().contains("AVIF"),
        "{problem}"
    );

    // A small file claiming 30,000 × 30,000 pixels: refused before any
    // decoding.
    let mut huge = file.clone();
    let at = find_box(&huge, b"ispe");
    huge[at + 12..at + 16].copy_from_slice(&30_000u32.to_be_bytes());
    huge[at + 16..at + 20].copy_from_slice(&30_000u32.to_be_bytes());
    let (status, problem) = upload(&app, &author, huge, "image/avif").await;
    assert_eq!(status, 422, "{problem}");
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains("30000 × 30000"),
        "{problem}"
    );

    // Something else sent as `image/avif`: its bytes decide, a 415.
    let (status, problem) = upload(&app, &author, b"GIF89 not really".to_vec(), "image/avif").await;
    assert_eq!(status, 415, "{problem}");
    // Another brand of the same container (HEIC) is not taken for AVIF.
    let mut heic = file.clone();
    for at in [8, 16, 20] {
        if &heic[at..at + 4] == b"avif" {
            heic[at..at + 4].copy_from_slice(b"heic");
        }
    }
    let (status, problem) = upload(&app, &author, heic, "image/avif").await;
    assert_eq!(status, 415, "{problem}");
}

#[actix_web::test]
async fn an_avatar_follows_its_record_when_the_file_is_replaced() {
    let app = TestApp::spawn().await;
    let editor = token_for(&app, "bt@newsroom.test", "editor").await;
    let (status, uploaded) = upload(&app, &editor, jpeg(900, 600), "image/jpeg").await;
    assert_eq!(status, 201, "{uploaded}");
    let id = uploaded["id"].as_i64().unwrap();
    let author = send(
        &app,
        Method::POST,
        "/api/v1/admin/authors",
        Some(&editor),
        Some(json!({"name": "Đỗ Hải Yến", "avatar_url": uploaded["url"]})),
        &[],
    )
    .await;
    assert_eq!(author.status, 201, "{}", author.text);
    let slug = author.json["slug"].as_str().unwrap().to_owned();
    // Read once, so a stale cached copy would show below.
    let before = app.get(&format!("/api/v1/authors/{slug}")).await;
    assert_eq!(before.json["avatar"]["width"], 900, "{}", before.text);

    let response = app
        .client
        .put(format!("{}/api/v1/admin/media/{id}/file", app.base))
        .bearer_auth(&editor)
        .header("content-type", "image/jpeg")
        .body(jpeg(400, 400))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    let replaced: Value = response.json().await.unwrap();
    assert_ne!(replaced["url"], uploaded["url"]);

    let after = app.get(&format!("/api/v1/authors/{slug}")).await;
    assert_eq!(after.status, 200, "{}", after.text);
    let avatar = &after.json["avatar"];
    assert_picture(avatar, true);
    assert_eq!(avatar["url"], replaced["url"], "{avatar}");
    assert_eq!(
        (avatar["width"].as_u64(), avatar["height"].as_u64()),
        (Some(400), Some(400)),
        "{avatar}"
    );
    assert_eq!(avatar["placeholder"], replaced["placeholder"]);
    assert_eq!(after.json["avatar_url"], replaced["url"]);
    let square = avatar["renditions"]["1x1"][0]["url"].as_str().unwrap();
    assert_eq!(fetch(&app, square, None).await.status, 200);
}
