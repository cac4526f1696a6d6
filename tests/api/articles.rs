//! The public article list, single articles and related articles, on
//! fixtures whose expected answers are obvious.

use std::collections::HashSet;

use chrono::{DateTime, Duration, TimeZone, Utc};
use diesel_async::AsyncPgConnection;
use newsroom::domain::body::Block;
use serde_json::Value;

use crate::fixtures::{self, Article};
use crate::harness::{TestApp, slugs};

fn t(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

/// xa-hoi > dan-so > gia-hoa, and kinh-te; ids in that order.
async fn tree(conn: &mut AsyncPgConnection) -> (i64, i64, i64, i64) {
    let xa_hoi = fixtures::category(conn, "Xã hội", None).await;
    let dan_so = fixtures::category(conn, "Dân số", Some(xa_hoi)).await;
    let gia_hoa = fixtures::category(conn, "Già hóa", Some(dan_so)).await;
    let kinh_te = fixtures::category(conn, "Kinh tế", None).await;
    (xa_hoi, dan_so, gia_hoa, kinh_te)
}

/// Follows `next_cursor` from `path` to the end; returns every slug seen.
async fn walk(app: &TestApp, path: &str) -> Vec<String> {
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    for _ in 0..1000 {
        let url = match &cursor {
            Some(c) => format!("{path}&cursor={c}"),
            None => path.to_owned(),
        };
        let r = app.get(&url).await;
        assert_eq!(r.status, 200, "{}", r.text);
        seen.extend(slugs(&r.json));
        match r.json["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => return seen,
        }
    }
    panic!("the walk did not end");
}

#[actix_web::test]
async fn lists_only_published_articles_newest_first() {
    let app = TestApp::spawn().await;
    let mut conn = app.conn().await;
    let (_, dan_so, _, _) = tree(&mut conn).await;
    let now = Utc::now();
    Article::new("Bài cũ", dan_so)
        .at(now - Duration::days(2))
        .insert(&mut conn)
        .await;
    Article::new("Bài mới", dan_so)
        .at(now - Duration::minutes(5))
        .insert(&mut conn)
        .await;
    Article::new("Bản nháp", dan_so)
        .status("draft")
        .insert(&mut conn)
        .await;
    Article::new("Lưu trữ", dan_so)
        .status("archived")
        .insert(&mut conn)
        .await;
    Article::new("Hẹn giờ", dan_so)
        .status("scheduled")
        .at(now + Duration::hours(3))
        .insert(&mut conn)
        .await;
    Article::new("Xuất bản tương lai", dan_so)
        .at(now + Duration::hours(3))
        .insert(&mut conn)
        .await;
    Article::new("Hẹn giờ đã đến", dan_so)
        .status("scheduled")
        .at(now - Duration::minutes(1))
        .insert(&mut conn)
        .await;

    let r = app.get("/api/v1/articles").await;
    assert_eq!(r.status, 200);
    assert_eq!(slugs(&r.json), ["hen-gio-da-den", "bai-moi", "bai-cu"]);
    assert_eq!(r.json["next_cursor"], Value::Null);
    assert!(r.json.get("total").is_none());
    let item = &r.json["items"][1];
    assert_eq!(item["title"], "Bài mới");
    assert_eq!(item["category"]["slug"], "dan-so");
    assert!(item.get("body").is_none() && item.get("tags").is_none());
    assert!(item["published_at"].as_str().unwrap().ends_with("+07:00"));
}

#[actix_web::test]
async fn a_scheduled_article_appears_at_its_time_with_no_job() {
    let app = TestApp::spawn().await;
    let mut conn = app.conn().await;
    let (_, dan_so, _, _) = tree(&mut conn).await;
    let at = Utc::now() + Duration::seconds(4);
    Article::new("Sắp đăng", dan_so)
        .status("scheduled")
        .at(at)
        .insert(&mut conn)
        .await;
    app.get("/api/v1/articles/sap-dang")
        .await
        .assert_problem(404, "not_found");
    assert!(app.slugs("/api/v1/articles").await.is_empty());
    tokio::time::sleep(
        (at - Utc::now()).to_std().unwrap_or_default() + std::time::Duration::from_millis(200),
    )
    .await;
    assert_eq!(app.get("/api/v1/articles/sap-dang").await.status, 200);
    assert_eq!(app.slugs("/api/v1/articles").await, ["sap-dang"]);
}

#[actix_web::test]
async fn category_filter_includes_descendants() {
    let app = TestApp::spawn().await;
    let mut conn = app.conn().await;
    let (xa_hoi, dan_so, gia_hoa, kinh_te) = tree(&mut conn).await;
    let now = Utc::now();
    Article::new("Gốc", xa_hoi)
        .at(now - Duration::hours(4))
        .insert(&mut conn)
        .await;
    Article::new("Con", dan_so)
        .at(now - Duration::hours(3))
        .insert(&mut conn)
        .await;
    Article::new("Cháu", gia_hoa)
        .at(now - Duration::hours(2))
        .insert(&mut conn)
        .await;
    Article::new("Khác", kinh_te)
        .at(now - Duration::hours(1))
        .insert(&mut conn)
        .await;

    assert_eq!(
        app.slugs("/api/v1/articles?category=xa-hoi").await,
        ["chau", "con", "goc"]
    );
    assert_eq!(
        app.slugs("/api/v1/articles?category=dan-so").await,
        ["chau", "con"]
    );
    assert_eq!(
        app.slugs("/api/v1/articles?category=gia-hoa").await,
        ["chau"]
    );
    assert_eq!(
        app.slugs("/api/v1/articles?category=kinh-te").await,
        ["khac"]
    );
    app.get("/api/v1/articles?category=khong-co")
        .await
        .assert_problem(404, "not_found");
}

#[actix_web::test]
async fn tag_author_featured_language_and_date_filters() {
    let app = TestApp::spawn().await;
    let mut conn = app.conn().await;
    let (_, dan_so, _, _) = tree(&mut conn).await;
    let gioi = fixtures::tag(&mut conn, "Bình đẳng giới").await;
    let mai = fixtures::author(&mut conn, "Trần Thanh Mai").await;
    let hung = fixtures::author(&mut conn, "Nguyễn Văn Hùng").await;

    let mut a = Article::new("Một", dan_so).at(t("2023-11-15T13:59:00+07:00"));
    a.tags = vec![gioi];
    a.authors = vec![mai, hung];
    a.insert(&mut conn).await;
    let mut b = Article::new("Hai", dan_so).at(t("2023-11-15T14:00:00+07:00"));
    b.featured = true;
    b.authors = vec![hung];
    b.insert(&mut conn).await;
    let mut c = Article::new("Three", dan_so).at(t("2023-11-16T00:00:00+07:00"));
    c.language = "en";
    c.insert(&mut conn).await;

    assert_eq!(
        app.slugs("/api/v1/articles?tag=binh-dang-gioi").await,
        ["mot"]
    );
    assert_eq!(
        app.slugs("/api/v1/articles?author=tran-thanh-mai").await,
        ["mot"]
    );
    assert_eq!(
        app.slugs("/api/v1/articles?author=nguyen-van-hung").await,
        ["hai", "mot"]
    );
    assert_eq!(app.slugs("/api/v1/articles?featured=true").await, ["hai"]);
    assert_eq!(
        app.slugs("/api/v1/articles?featured=false").await,
        ["three", "mot"]
    );
    assert_eq!(app.slugs("/api/v1/articles?language=en").await, ["three"]);
    assert_eq!(
        app.slugs("/api/v1/articles?language=vi").await,
        ["hai", "mot"]
    );
    // The time part is honoured: 13:59 is before 14:00 on the same day;
    // `published_after` is inclusive, `published_before` exclusive.
    assert_eq!(
        app.slugs("/api/v1/articles?published_after=2023-11-15T14:00:00%2B07:00")
            .await,
        ["three", "hai"]
    );
    assert_eq!(
        app.slugs("/api/v1/articles?published_before=2023-11-15T14:00:00%2B07:00")
            .await,
        ["mot"]
    );
    assert_eq!(
        app.slugs("/api/v1/articles?published_after=2023-11-15T06:59:00Z&published_before=2023-11-16T00:00:00%2B07:00")
            .await,
        ["hai", "mot"]
    );
    assert_eq!(
        app.slugs("/api/v1/articles?tag=binh-dang-gioi&author=nguyen-van-hung&featured=false")
            .await,
        ["mot"]
    );
    // Byline order is kept.
    let r = app.get("/api/v1/articles?tag=binh-dang-gioi").await;
    let names: Vec<&str> = r.json["items"][0]["authors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Trần Thanh Mai", "Nguyễn Văn Hùng"]);
    app.get("/api/v1/articles?tag=khong-co")
        .await
        .assert_problem(404, "not_found");
    app.get("/api/v1/articles?author=khong-co")
        .await
        .assert_problem(404, "not_found");
}

#[actix_web::test]
async fn sort_orders() {
    let app = TestApp::spawn().await;
    let mut conn = app.conn().await;
    let (_, dan_so, _, _) = tree(&mut conn).await;
    let base = Utc.with_ymd_and_hms(2024, 1, 1, 0, 0, 0).unwrap();
    for (i, name) in ["a", "b", "c"].iter().enumerate() {
        let mut article = Article::new(name, dan_so).at(base + Duration::days(i as i64));
        // Updated in the opposite order to publication.
        article.updated_at = Some(base + Duration::days(10 - i as i64));
        article.insert(&mut conn).await;
    }
    assert_eq!(app.slugs("/api/v1/articles").await, ["c", "b", "a"]);
    assert_eq!(
        app.slugs("/api/v1/articles?sort=-published_at").await,
        ["c", "b", "a"]
    );
    assert_eq!(
        app.slugs("/api/v1/articles?sort=published_at").await,
        ["a", "b", "c"]
    );
    assert_eq!(
        app.slugs("/api/v1/articles?sort=-updated_at").await,
        ["a", "b", "c"]
    );
    assert_eq!(
        walk(&app, "/api/v1/articles?sort=published_at&limit=1").await,
        ["a", "b", "c"]
    );
    assert_eq!(
        walk(&app, "/api/v1/articles?sort=-updated_at&limit=2").await,
        ["a", "b", "c"]
    );
}

#[actix_web::test]
async fn cursor_walks_return_everything_once_even_while_articles_are_published() {
    let app = TestApp::spawn().await;
    let mut conn = app.conn().await;
    let (_, dan_so, _, _) = tree(&mut conn).await;
    let base = Utc::now() - Duration::days(30);
    let mut expected = Vec::new();
    for i in 0..57 {
        // Ties on published_at: groups of three share a timestamp.
        let slug = format!("bai-{i:02}");
        Article::new(&slug, dan_so)
            .at(base + Duration::hours(i / 3))
            .insert(&mut conn)
            .await;
        expected.push(slug);
    }

    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    loop {
        let url = match &cursor {
            Some(c) => format!("/api/v1/articles?limit=10&include_total=true&cursor={c}"),
            None => "/api/v1/articles?limit=10&include_total=true".to_owned(),
        };
        let r = app.get(&url).await;
        assert_eq!(r.status, 200, "{}", r.text);
        if pages == 0 {
            assert_eq!(r.json["total"], 57);
        }
        seen.extend(slugs(&r.json));
        pages += 1;
        // New articles are published during the walk.
        Article::new(&format!("moi-{pages}"), dan_so)
            .at(Utc::now() - Duration::seconds(1))
            .insert(&mut conn)
            .await;
        match r.json["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
    }
    assert_eq!(pages, 6);
    let unique: HashSet<&String> = seen.iter().collect();
    assert_eq!(unique.len(), seen.len(), "no duplicates");
    let mut sorted = seen.clone();
    sorted.sort();
    assert_eq!(sorted, expected, "no gaps, and nothing published later");
    // Newest first with ties broken by id, descending.
    let mut by_order = expected.clone();
    by_order.reverse();
    assert_eq!(seen, by_order);
}

#[actix_web::test]
async fn a_cursor_only_fits_its_own_sort_order() {
    let app = TestApp::spawn().await;
    let mut conn = app.conn().await;
    let (_, dan_so, _, _) = tree(&mut conn).await;
    for name in ["a", "b", "c"] {
        Article::new(name, dan_so).insert(&mut conn).await;
    }
    let r = app.get("/api/v1/articles?limit=1").await;
    let cursor = r.json["next_cursor"].as_str().unwrap().to_owned();
    app.get(&format!(
        "/api/v1/articles?sort=published_at&cursor={cursor}"
    ))
    .await
    .assert_problem(400, "invalid_cursor");
    app.get(&format!("/api/v1/tags?cursor={cursor}"))
        .await
        .assert_problem(400, "invalid_cursor");
    // The same cursor with the same sort and other filters works.
    let r = app
        .get(&format!("/api/v1/articles?category=dan-so&cursor={cursor}"))
        .await;
    assert_eq!(r.status, 200);
}

#[actix_web::test]
async fn fields_trim_and_include_embeds() {
    let app = TestApp::spawn().await;
    let mut conn = app.conn().await;
    let (_, dan_so, _, _) = tree(&mut conn).await;
    let tag = fixtures::tag(&mut conn, "Già hóa dân số").await;
    let mut a = Article::new("Một", dan_so);
    a.tags = vec![tag];
    a.insert(&mut conn).await;

    let r = app.get("/api/v1/articles?fields=id,slug,title").await;
    assert_eq!(r.status, 200);
    let item = r.json["items"][0].as_object().unwrap();
    let mut keys: Vec<&String> = item.keys().collect();
    keys.sort();
    assert_eq!(keys, ["id", "slug", "title"]);
    assert!(r.json.get("next_cursor").is_some());

    let r = app.get("/api/v1/articles?include=tags").await;
    assert_eq!(r.json["items"][0]["tags"][0]["name"], "Già hóa dân số");

    let r = app.get("/api/v1/articles/mot?fields=title,body_html").await;
    let keys: Vec<&String> = r.json.as_object().unwrap().keys().collect();
    assert_eq!(keys.len(), 2);
    assert!(r.json["body_html"].as_str().unwrap().starts_with("<p>"));

    let r = app.get("/api/v1/articles?fields=id,secret").await;
    r.assert_problem(400, "invalid_parameter");
    assert_eq!(r.json["errors"][0]["parameter"], "fields");
    assert!(r.json["detail"].as_str().unwrap().contains("secret"));
    let r = app.get("/api/v1/articles?include=body").await;
    assert_eq!(r.json["errors"][0]["parameter"], "include");
    let r = app.get("/api/v1/articles/mot?include=tags").await;
    assert_eq!(r.json["errors"][0]["parameter"], "include");
}

#[actix_web::test]
async fn one_article_by_slug_and_by_id_with_everything_a_page_needs() {
    let app = TestApp::spawn().await;
    let mut conn = app.conn().await;
    let (xa_hoi, dan_so, gia_hoa, _) = tree(&mut conn).await;
    let _ = (xa_hoi, dan_so);
    let mai = fixtures::author(&mut conn, "Trần Thanh Mai").await;
    let tag = fixtures::tag(&mut conn, "Đông Mai").await;
    let mut a = Article::new(
        "Quảng Ninh hưởng ứng Tháng hành động vì bình đẳng giới",
        gia_hoa,
    )
    .at(t("2023-11-15T13:59:00+07:00"));
    a.authors = vec![mai];
    a.tags = vec![tag];
    a.body = vec![
        Block::Heading { level: 2, text: "Đặc biệt".into() },
        Block::Paragraph {
            text: "Tăng cường <strong>giáo dục</strong> <script>alert('x')</script><a href=\"javascript:alert(1)\" onmouseover=\"x()\">kiến thức</a>.".into(),
        },
        Block::List { style: newsroom::domain::body::ListStyle::Ordered, items: vec!["một".into(), "hai".into()] },
        Block::Quote { text: "Bình đẳng giới".into(), citation: Some("Sở LĐ-TB&XH".into()) },
        Block::Embed { provider: "youtube".into(), url: "https://www.youtube.com/watch?v=abc".into(), title: None },
    ];
    let id = a.insert(&mut conn).await;
    let slug = "quang-ninh-huong-ung-thang-hanh-dong-vi-binh-dang-gioi";

    let r = app.get(&format!("/api/v1/articles/{slug}")).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let a = &r.json;
    assert_eq!(a["id"], id);
    assert_eq!(
        a["title"],
        "Quảng Ninh hưởng ứng Tháng hành động vì bình đẳng giới"
    );
    assert_eq!(a["published_at"], "2023-11-15T13:59:00+07:00");
    assert_eq!(a["authors"][0]["slug"], "tran-thanh-mai");
    assert_eq!(a["tags"][0]["slug"], "dong-mai");
    let crumbs: Vec<&str> = a["breadcrumbs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["slug"].as_str().unwrap())
        .collect();
    assert_eq!(crumbs, ["xa-hoi", "dan-so", "gia-hoa"]);
    assert_eq!(a["body"].as_array().unwrap().len(), 5);
    assert_eq!(
        a["body"][0],
        serde_json::json!({"type": "heading", "level": 2, "text": "Đặc biệt"})
    );
    let html = a["body_html"].as_str().unwrap();
    assert!(html.contains("<h2>Đặc biệt</h2>") && html.contains("<strong>giáo dục</strong>"));
    assert!(html.contains("<ol><li>một</li><li>hai</li></ol>"));
    assert!(
        !html.contains("script") && !html.contains("javascript") && !html.contains("onmouseover"),
        "{html}"
    );
    assert!(
        a["body_text"]
            .as_str()
            .unwrap()
            .contains("Tăng cường giáo dục kiến thức.")
    );
    assert_eq!(a["seo"]["meta_title"], a["title"]);
    assert_eq!(
        a["seo"]["canonical_url"],
        format!("http://news.test/{slug}")
    );
    assert_eq!(a["version"], 1);
    assert_eq!(a["language"], "vi");
    assert!(a.get("related").is_none());

    let by_id = app.get(&format!("/api/v1/articles/id/{id}")).await;
    assert_eq!(by_id.status, 200);
    assert_eq!(by_id.json, r.json);
    app.get("/api/v1/articles/id/999999")
        .await
        .assert_problem(404, "not_found");
    app.get("/api/v1/articles/khong-ton-tai")
        .await
        .assert_problem(404, "not_found");
}

#[actix_web::test]
async fn related_pins_first_then_same_category_never_itself_or_unpublished() {
    let app = TestApp::spawn().await;
    let mut conn = app.conn().await;
    let (_, dan_so, _, kinh_te) = tree(&mut conn).await;
    let now = Utc::now();
    let main = Article::new("Chính", dan_so)
        .at(now - Duration::hours(10))
        .insert(&mut conn)
        .await;
    let mut ids = Vec::new();
    for i in 1..=7 {
        let id = Article::new(&format!("Cùng {i}"), dan_so)
            .at(now - Duration::hours(i))
            .insert(&mut conn)
            .await;
        ids.push(id);
    }
    let draft = Article::new("Nháp", dan_so)
        .status("draft")
        .insert(&mut conn)
        .await;
    let other = Article::new("Khác mục", kinh_te)
        .at(now - Duration::days(3))
        .insert(&mut conn)
        .await;
    // Pinned: another section's article, one that is also among the newest, and a draft.
    fixtures::pin_related(&mut conn, main, &[other, ids[1], draft]).await;

    let r = app
        .get("/api/v1/articles/chinh/related?strategy=category")
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(
        slugs(&r.json),
        ["khac-muc", "cung-2", "cung-1", "cung-3", "cung-4"]
    );
    let pinned: Vec<bool> = r.json["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["pinned"].as_bool().unwrap())
        .collect();
    assert_eq!(pinned, [true, true, false, false, false]);
    let item = &r.json["items"][2];
    for key in ["slug", "title", "excerpt", "cover", "published_at", "url"] {
        assert!(item.get(key).is_some(), "{key}");
    }
    let all = app
        .slugs("/api/v1/articles/chinh/related?strategy=category&limit=20")
        .await;
    assert_eq!(all.len(), 8);
    assert!(!all.contains(&"chinh".to_owned()) && !all.contains(&"nhap".to_owned()));
    // Embedded in the article with include=related.
    let r = app.get("/api/v1/articles/chinh?include=related").await;
    assert_eq!(
        slugs(&serde_json::json!({"items": r.json["related"]})).len(),
        5
    );
    app.get("/api/v1/articles/chinh/related?limit=21")
        .await
        .assert_problem(400, "invalid_parameter");
    app.get("/api/v1/articles/nhap/related")
        .await
        .assert_problem(404, "not_found");
}

#[actix_web::test]
async fn etags_make_a_refresh_cost_nothing() {
    let app = TestApp::spawn().await;
    let mut conn = app.conn().await;
    let (_, dan_so, _, _) = tree(&mut conn).await;
    Article::new("Một", dan_so).insert(&mut conn).await;
    let first = app.get("/api/v1/articles/mot").await;
    let etag = first.header("etag").expect("an etag").to_owned();
    let again = app
        .request(
            reqwest::Method::GET,
            "/api/v1/articles/mot",
            &[("If-None-Match", &etag)],
        )
        .await;
    assert_eq!(again.status, 304);
    assert!(again.text.is_empty());
    assert_eq!(again.header("etag"), Some(etag.as_str()));
    let other = app
        .request(
            reqwest::Method::GET,
            "/api/v1/articles/mot",
            &[("If-None-Match", "\"nope\"")],
        )
        .await;
    assert_eq!(other.status, 200);
    // A change gives a new ETag.
    Article::new("Hai", dan_so).insert(&mut conn).await;
    let list1 = app.get("/api/v1/articles").await;
    Article::new("Ba", dan_so).insert(&mut conn).await;
    let list2 = app.get("/api/v1/articles").await;
    assert_ne!(list1.header("etag"), list2.header("etag"));
}

#[actix_web::test]
async fn the_micro_cache_serves_repeats_until_its_ttl_runs_out() {
    let app = TestApp::spawn_with(newsroom::config::Settings {
        site_url: crate::harness::SITE_URL.into(),
        cache_ttl_secs: 4,
        ..Default::default()
    })
    .await;
    let mut conn = app.conn().await;
    let (_, dan_so, _, _) = tree(&mut conn).await;
    Article::new("Một", dan_so).insert(&mut conn).await;
    assert_eq!(app.slugs("/api/v1/articles").await, ["mot"]);
    Article::new("Hai", dan_so).insert(&mut conn).await;
    assert_eq!(
        app.slugs("/api/v1/articles").await,
        ["mot"],
        "served from the cache"
    );
    tokio::time::sleep(std::time::Duration::from_millis(4300)).await;
    assert_eq!(app.slugs("/api/v1/articles").await, ["hai", "mot"]);
}
