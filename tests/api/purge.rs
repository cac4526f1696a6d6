//! Issue 9, §3–4: surrogate keys on every public response, and a cache that
//! keeps responses until a write purges what they depend on, on this
//! instance, on the others (LISTEN/NOTIFY) and at the edge.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use diesel_async::RunQueryDsl;
use reqwest::Method;
use serde_json::{Value, json};

use crate::admin::{send, token_for};
use crate::fixtures::Article;
use crate::harness::{self, Response, TestApp};
use crate::search::site;

fn cached_settings() -> newsroom::config::Settings {
    newsroom::config::Settings {
        cache_ttl_secs: 3600,
        ..harness::settings()
    }
}

fn keys(r: &Response) -> Vec<String> {
    let keys: Vec<String> = r
        .header("surrogate-key")
        .unwrap_or_default()
        .split(' ')
        .filter(|k| !k.is_empty())
        .map(str::to_owned)
        .collect();
    assert_eq!(
        r.header("xkey"),
        r.header("surrogate-key"),
        "both forms name the same keys"
    );
    keys
}

fn has(r: &Response, key: &str) -> bool {
    keys(r).iter().any(|k| k == key)
}

/// GETs `path` and says whether this instance's cache answered.
async fn read(app: &TestApp, path: &str) -> (Response, bool) {
    let r = app.get(path).await;
    let hit = match r.header("x-cache") {
        Some("hit") => true,
        Some("miss") => false,
        other => panic!("{path}: x-cache {other:?} ({})", r.status),
    };
    (r, hit)
}

/// Reads `path` until the cache holds it.
async fn warm(app: &TestApp, path: &str) -> Response {
    read(app, path).await;
    let (r, hit) = read(app, path).await;
    assert!(hit, "{path} is kept");
    r
}

async fn patch_article(app: &TestApp, token: &str, id: i64, body: Value) -> Response {
    let r = crate::hardening::patch(app, token, id, body).await;
    assert_eq!(r.status, 200, "{}", r.text);
    r
}

async fn action(app: &TestApp, token: &str, id: i64, what: &str, body: Option<Value>) {
    let r = send(
        app,
        Method::POST,
        &format!("/api/v1/admin/articles/{id}/{what}"),
        Some(token),
        body,
        &[],
    )
    .await;
    assert_eq!(r.status, 200, "{what}: {}", r.text);
}

/// Polls `check` every 20 ms until it holds or `limit` passes; how long it took.
async fn within(limit: Duration, mut check: impl AsyncFnMut() -> bool) -> Option<Duration> {
    let start = Instant::now();
    while start.elapsed() < limit {
        if check().await {
            return Some(start.elapsed());
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    None
}

#[actix_web::test]
async fn every_public_response_names_what_it_depends_on() {
    let app = TestApp::spawn_with(cached_settings()).await;
    let s = site(&app).await;
    let mut conn = app.conn().await;
    let mut a = Article::new("Bài có thẻ", s.dan_so);
    a.tags = vec![s.tag];
    a.authors = vec![s.author];
    let id = a.insert(&mut conn).await;

    let page = app.get("/api/v1/articles/bai-co-the").await;
    for key in [
        format!("article-{id}"),
        format!("category-{}", s.dan_so),
        // The breadcrumbs show the parent section.
        format!("category-{}", s.xa_hoi),
        format!("tag-{}", s.tag),
        format!("author-{}", s.author),
    ] {
        assert!(has(&page, &key), "{key} in {:?}", keys(&page));
    }
    let list = app.get("/api/v1/articles").await;
    assert!(has(&list, "articles") && has(&list, &format!("article-{id}")));
    let by_category = app.get("/api/v1/articles?category=xa-hoi").await;
    assert!(has(
        &by_category,
        &format!("articles-category-{}", s.xa_hoi)
    ));
    assert!(!has(&by_category, "articles"), "{:?}", keys(&by_category));
    let by_update = app.get("/api/v1/articles?sort=-updated_at").await;
    assert!(has(&by_update, "updated-articles"));
    let by_tag = app.get("/api/v1/articles?tag=binh-dang-gioi").await;
    assert!(has(&by_tag, &format!("articles-tag-{}", s.tag)));
    for (path, key) in [
        ("/api/v1/search?q=the", "search".to_owned()),
        ("/api/v1/search/suggest?q=bai", "search".to_owned()),
        ("/api/v1/articles/most-read", "most-read".to_owned()),
        (
            "/api/v1/articles/bai-co-the/related",
            format!("article-{id}"),
        ),
        ("/api/v1/categories", "categories".to_owned()),
        ("/api/v1/categories/dan-so", "categories".to_owned()),
        ("/api/v1/tags", "tags".to_owned()),
        ("/api/v1/tags/binh-dang-gioi", format!("tag-{}", s.tag)),
        ("/api/v1/authors", "authors".to_owned()),
        (
            "/api/v1/authors/tran-thanh-mai",
            format!("author-{}", s.author),
        ),
    ] {
        let r = app.get(path).await;
        assert_eq!(r.status, 200, "{path}: {}", r.text);
        assert!(has(&r, &key), "{path}: {key} in {:?}", keys(&r));
        assert!(
            r.header("cache-control").unwrap().contains("s-maxage="),
            "{path}"
        );
    }
    // Staff answers and errors name nothing and are never kept.
    let token = token_for(&app, "bien.tap@newsroom.test", "editor").await;
    let staff = send(
        &app,
        Method::GET,
        "/api/v1/admin/articles",
        Some(&token),
        None,
        &[],
    )
    .await;
    assert_eq!(staff.status, 200);
    assert!(staff.header("surrogate-key").is_none() && staff.header("x-cache").is_none());
    let missing = app.get("/api/v1/articles/khong-co").await;
    assert!(missing.header("surrogate-key").is_none());
    assert!(missing.header("x-cache").is_none());
}

#[actix_web::test]
async fn an_edit_purges_exactly_the_pages_that_show_the_article() {
    let app = TestApp::spawn_with(cached_settings()).await;
    let s = site(&app).await;
    let mut conn = app.conn().await;
    let edited = Article::new("Bài sẽ sửa", s.dan_so).insert(&mut conn).await;
    Article::new("Bài kinh tế", s.kinh_te)
        .insert(&mut conn)
        .await;
    let token = token_for(&app, "bien.tap@newsroom.test", "editor").await;

    let unrelated = [
        "/api/v1/articles/bai-kinh-te",
        "/api/v1/articles?category=kinh-te",
        "/api/v1/tags",
        "/api/v1/authors",
        // An edit in place changes no counts and no membership.
        "/api/v1/categories",
    ];
    let affected = [
        "/api/v1/articles/bai-se-sua",
        "/api/v1/articles?category=dan-so",
        "/api/v1/articles?category=xa-hoi",
        "/api/v1/articles",
        "/api/v1/articles?sort=-updated_at",
        "/api/v1/search?q=bai",
    ];
    for path in unrelated.iter().chain(&affected) {
        warm(&app, path).await;
    }
    patch_article(&app, &token, edited, json!({"title": "Bài đã sửa"})).await;

    for path in affected {
        let (r, hit) = read(&app, path).await;
        assert!(!hit, "{path} was purged");
        assert!(r.text.contains("Bài đã sửa"), "{path}: {}", r.text);
    }
    for path in unrelated {
        let (_, hit) = read(&app, path).await;
        assert!(hit, "{path} does not depend on the edit and stays cached");
    }
}

#[actix_web::test]
async fn taking_an_article_down_or_moving_it_purges_every_list_it_was_on() {
    let app = TestApp::spawn_with(cached_settings()).await;
    let s = site(&app).await;
    let mut conn = app.conn().await;
    let moved = Article::new("Bài chuyển mục", s.dan_so)
        .insert(&mut conn)
        .await;
    let gone = Article::new("Bài bị gỡ", s.kinh_te).insert(&mut conn).await;
    let token = token_for(&app, "bien.tap@newsroom.test", "editor").await;

    for path in [
        "/api/v1/articles?category=dan-so",
        "/api/v1/articles?category=kinh-te",
        "/api/v1/categories",
        "/api/v1/articles/bai-bi-go",
    ] {
        warm(&app, path).await;
    }
    patch_article(&app, &token, moved, json!({"category": "kinh-te"})).await;
    assert!(
        app.slugs("/api/v1/articles?category=dan-so")
            .await
            .is_empty()
    );
    assert_eq!(
        app.slugs("/api/v1/articles?category=kinh-te").await,
        ["bai-bi-go", "bai-chuyen-muc"]
    );
    let (tree, hit) = read(&app, "/api/v1/categories").await;
    assert!(!hit, "the counts changed: {}", tree.text);

    warm(&app, "/api/v1/articles?category=kinh-te").await;
    action(&app, &token, gone, "unpublish", None).await;
    let page = app.get("/api/v1/articles/bai-bi-go").await;
    page.assert_problem(410, "gone");
    assert_eq!(
        app.slugs("/api/v1/articles?category=kinh-te").await,
        ["bai-chuyen-muc"]
    );
}

#[actix_web::test]
async fn renaming_a_tag_purges_the_pages_that_show_it_and_no_others() {
    let app = TestApp::spawn_with(cached_settings()).await;
    let s = site(&app).await;
    let mut conn = app.conn().await;
    let mut tagged = Article::new("Bài gắn thẻ", s.dan_so);
    tagged.tags = vec![s.tag];
    tagged.insert(&mut conn).await;
    Article::new("Bài không thẻ", s.dan_so)
        .insert(&mut conn)
        .await;
    let token = token_for(&app, "bien.tap@newsroom.test", "editor").await;
    for path in [
        "/api/v1/articles/bai-gan-the",
        "/api/v1/articles/bai-khong-the",
        "/api/v1/tags",
        "/api/v1/tags/binh-dang-gioi",
    ] {
        warm(&app, path).await;
    }
    let r = send(
        &app,
        Method::PATCH,
        &format!("/api/v1/admin/tags/{}", s.tag),
        Some(&token),
        Some(json!({"name": "Bình đẳng"})),
        &[],
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let (page, hit) = read(&app, "/api/v1/articles/bai-gan-the").await;
    assert!(!hit && page.text.contains("\"Bình đẳng\""), "{}", page.text);
    assert!(!read(&app, "/api/v1/tags").await.1);
    assert!(!read(&app, "/api/v1/tags/binh-dang-gioi").await.1);
    assert!(read(&app, "/api/v1/articles/bai-khong-the").await.1);
}

#[actix_web::test]
async fn a_cached_response_is_kept_once_per_encoding_and_decodes_to_the_same_body() {
    let app = TestApp::spawn_with(cached_settings()).await;
    let s = site(&app).await;
    let mut conn = app.conn().await;
    for i in 0..12 {
        Article::new(&format!("Bài số {i} về bình đẳng giới"), s.dan_so)
            .insert(&mut conn)
            .await;
    }
    let path = "/api/v1/articles";
    let plain = warm(&app, path).await;
    assert!(plain.text.len() > 1024);
    assert!(plain.header("content-encoding").is_none());
    for encoding in ["br", "gzip", "zstd"] {
        for round in 0..2 {
            let response = app
                .client
                .get(format!("{}{path}", app.base))
                .header("accept-encoding", encoding)
                .send()
                .await
                .unwrap();
            let headers = response.headers().clone();
            assert_eq!(headers["content-encoding"], encoding);
            assert_eq!(headers["x-cache"], "hit", "{encoding} round {round}");
            assert_eq!(
                headers["etag"].to_str().unwrap(),
                plain.header("etag").unwrap()
            );
            let bytes = response.bytes().await.unwrap();
            assert!(
                bytes.len() < plain.text.len() / 2,
                "{encoding}: {}",
                bytes.len()
            );
            let decoded = match encoding {
                "br" => {
                    let mut out = Vec::new();
                    brotli::BrotliDecompress(&mut &bytes[..], &mut out).unwrap();
                    out
                }
                "gzip" => {
                    let mut out = Vec::new();
                    std::io::Read::read_to_end(
                        &mut flate2::read::GzDecoder::new(&bytes[..]),
                        &mut out,
                    )
                    .unwrap();
                    out
                }
                _ => zstd::stream::decode_all(&bytes[..]).unwrap(),
            };
            assert_eq!(decoded, plain.text.as_bytes(), "{encoding}");
        }
    }
    // Small bodies go as they are.
    let small = app
        .request(Method::GET, "/api/v1/tags", &[("accept-encoding", "gzip")])
        .await;
    assert!(small.text.len() < 1024);
    assert!(small.header("content-encoding").is_none());
}

#[actix_web::test]
async fn purges_reach_the_other_instances_and_a_lost_listener_empties_the_cache() {
    let a = TestApp::spawn_with(cached_settings()).await;
    let b = a.another_instance(cached_settings()).await;
    let s = site(&a).await;
    let mut conn = a.conn().await;
    let id = Article::new("Bài hai máy", s.dan_so)
        .insert(&mut conn)
        .await;
    let token = token_for(&a, "bien.tap@newsroom.test", "editor").await;
    let path = "/api/v1/articles/bai-hai-may";
    warm(&b, path).await;
    patch_article(&a, &token, id, json!({"title": "Sửa trên máy A"})).await;
    let took = within(Duration::from_secs(5), async || {
        b.get(path).await.text.contains("Sửa trên máy A")
    })
    .await;
    assert!(took.is_some(), "instance B never saw the edit made on A");

    // A change that B cannot hear about (written straight to the database)
    // stays invisible on B while B's cache holds the page…
    warm(&b, path).await;
    diesel::sql_query("UPDATE articles SET title = 'Sửa thẳng vào CSDL' WHERE id = $1")
        .bind::<diesel::sql_types::BigInt, _>(id)
        .execute(&mut conn)
        .await
        .unwrap();
    assert!(read(&b, path).await.1);
    // …until B's listening connection drops: B cannot know what it missed,
    // so it empties its cache when it listens again.
    let mut admin = <diesel_async::AsyncPgConnection as diesel_async::AsyncConnection>::establish(
        &harness::admin_url(&a.database),
    )
    .await
    .unwrap();
    #[derive(diesel::QueryableByName)]
    struct Killed {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let killed: Killed = diesel::sql_query(
        "SELECT count(pg_terminate_backend(pid))::int8 AS n FROM pg_stat_activity \
         WHERE datname = current_database() AND query LIKE 'LISTEN newsroom_purge%'",
    )
    .get_result(&mut admin)
    .await
    .unwrap();
    assert_eq!(killed.n, 2, "one listener per instance");
    let took = within(Duration::from_secs(10), async || {
        b.get(path).await.text.contains("Sửa thẳng vào CSDL")
    })
    .await;
    assert!(
        took.is_some(),
        "B kept serving what it may have missed a purge of"
    );
}

#[actix_web::test]
async fn a_scheduled_article_appears_at_its_time_without_any_write() {
    let app = TestApp::spawn_with(cached_settings()).await;
    let s = site(&app).await;
    let mut conn = app.conn().await;
    Article::new("Bài cũ", s.dan_so).insert(&mut conn).await;
    let token = token_for(&app, "bien.tap@newsroom.test", "editor").await;
    let r = crate::admin::create(&app, &token, crate::admin::draft("Bài hẹn giờ")).await;
    assert_eq!(r.status, 201, "{}", r.text);
    let id = r.json["id"].as_i64().unwrap();
    let due = chrono::Utc::now() + chrono::Duration::seconds(2);
    action(
        &app,
        &token,
        id,
        "schedule",
        Some(json!({"at": due.to_rfc3339()})),
    )
    .await;
    let list = warm(&app, "/api/v1/articles?category=dan-so").await;
    assert!(!list.text.contains("bai-hen-gio"));
    warm(&app, "/api/v1/articles?category=kinh-te").await;
    let took = within(Duration::from_secs(10), async || {
        app.slugs("/api/v1/articles?category=dan-so")
            .await
            .contains(&"bai-hen-gio".to_owned())
    })
    .await;
    assert!(took.is_some(), "the scheduled article never appeared");
    assert!(chrono::Utc::now() >= due);
    assert!(read(&app, "/api/v1/articles?category=kinh-te").await.1);
}

/// A real HTTP server standing in for Varnish's purge endpoint: it records
/// each request's method and `xkey-purge` header.
async fn purge_receiver() -> (String, Arc<Mutex<Vec<(String, String)>>>) {
    let seen: Arc<Mutex<Vec<(String, String)>>> = Arc::default();
    let record = seen.clone();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/", listener.local_addr().unwrap());
    let server = actix_web::HttpServer::new(move || {
        let record = record.clone();
        actix_web::App::new().default_service(actix_web::web::to(
            move |req: actix_web::HttpRequest| {
                let record = record.clone();
                async move {
                    let keys = req
                        .headers()
                        .get("xkey-purge")
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or_default()
                        .to_owned();
                    record
                        .lock()
                        .unwrap()
                        .push((req.method().to_string(), keys));
                    actix_web::HttpResponse::Ok().body("purged")
                }
            },
        ))
    })
    .workers(1)
    .listen(listener)
    .unwrap()
    .run();
    actix_web::rt::spawn(server);
    (url, seen)
}

#[actix_web::test]
async fn each_write_sends_one_purge_to_the_edge_naming_its_keys() {
    let (url, seen) = purge_receiver().await;
    let settings = newsroom::config::Settings {
        purge_urls: vec![url],
        ..cached_settings()
    };
    let app = TestApp::spawn_with(settings).await;
    let s = site(&app).await;
    let mut conn = app.conn().await;
    let id = Article::new("Bài ra rìa", s.dan_so).insert(&mut conn).await;
    let token = token_for(&app, "bien.tap@newsroom.test", "editor").await;
    patch_article(&app, &token, id, json!({"title": "Bài đã ra rìa"})).await;
    let took = within(Duration::from_secs(5), async || {
        !seen.lock().unwrap().is_empty()
    })
    .await;
    assert!(took.is_some(), "no purge reached the edge");
    let purges = seen.lock().unwrap().clone();
    assert_eq!(purges.len(), 1, "one purge at once: {purges:?}");
    let (method, keys) = &purges[0];
    assert_eq!(method, "PURGE");
    let keys: Vec<&str> = keys.split(' ').collect();
    for key in [
        format!("article-{id}"),
        "search".to_owned(),
        format!("updated-articles-category-{}", s.dan_so),
    ] {
        assert!(keys.contains(&key.as_str()), "{key} in {keys:?}");
    }
    // Edits in place leave the lists in publication order alone.
    assert!(!keys.contains(&"articles"), "{keys:?}");
    // The same purge once more a moment later, for fetches that were on
    // their way when the first one landed.
    let again = within(Duration::from_secs(5), async || {
        seen.lock().unwrap().len() == 2
    })
    .await;
    assert!(again.is_some(), "the purge was not repeated");
    assert_eq!(seen.lock().unwrap()[1], purges[0]);
}

#[actix_web::test]
async fn articles_say_when_what_they_show_last_changed() {
    for settings in [harness::settings(), cached_settings()] {
        let app = TestApp::spawn_with(settings).await;
        let s = site(&app).await;
        let mut conn = app.conn().await;
        let mut a = Article::new("Bài có ngày sửa", s.dan_so);
        a.tags = vec![s.tag];
        a.insert(&mut conn).await;
        let path = "/api/v1/articles/bai-co-ngay-sua";
        let first = app.get(path).await;
        let since = first
            .header("last-modified")
            .expect("Last-Modified")
            .to_owned();
        // An unchanged article answers 304 to its date…
        let again = app
            .request(Method::GET, path, &[("if-modified-since", &since)])
            .await;
        assert_eq!(again.status, 304);
        assert!(again.text.is_empty());
        // …but If-None-Match decides when both are sent.
        let both = app
            .request(
                Method::GET,
                path,
                &[
                    ("if-modified-since", &since),
                    ("if-none-match", "W/\"other\""),
                ],
            )
            .await;
        assert_eq!(both.status, 200);
        // Renaming the tag the page shows moves the date on (dates have
        // one-second precision).
        tokio::time::sleep(Duration::from_millis(1100)).await;
        let token = token_for(&app, "bien.tap@newsroom.test", "editor").await;
        let r = send(
            &app,
            Method::PATCH,
            &format!("/api/v1/admin/tags/{}", s.tag),
            Some(&token),
            Some(json!({"name": "Bình đẳng"})),
            &[],
        )
        .await;
        assert_eq!(r.status, 200, "{}", r.text);
        let after = app
            .request(Method::GET, path, &[("if-modified-since", &since)])
            .await;
        assert_eq!(after.status, 200, "the tag's rename shows");
        assert_ne!(after.header("last-modified"), Some(since.as_str()));
        // With related articles, which change on their own, there is no date.
        let related = app.get(&format!("{path}?include=related")).await;
        assert_eq!(related.status, 200);
        assert!(related.header("last-modified").is_none());
    }
}
