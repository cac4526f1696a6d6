//! Issue 10, §3: RSS 2.0 and JSON Feed 1.1, sitemaps and the Google News
//! sitemap, read with real parsers (feed-rs for feeds, quick-xml against
//! the sitemap rules), cached and purged like the JSON.

use chrono::{DateTime, Duration, Utc};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use feed_rs::model::FeedType;
use quick_xml::Reader;
use quick_xml::events::Event;
use serde_json::json;

use crate::admin::token_for;
use crate::fixtures::{self, Article};
use crate::harness::{self, Response, TestApp};
use crate::search::{Site, site};

const TRICKY: &str = "Quảng Ninh: \"bình đẳng\" & <giới> — Đồng bào";

fn feed_of(r: &Response) -> feed_rs::model::Feed {
    assert_eq!(r.status, 200, "{}", r.text);
    feed_rs::parser::parse(r.text.as_bytes()).expect("a feed a real parser reads")
}

fn titles(feed: &feed_rs::model::Feed) -> Vec<String> {
    feed.entries
        .iter()
        .map(|e| e.title.as_ref().expect("a title").content.clone())
        .collect()
}

/// A site with: a tricky title in Dân số (under Xã hội) with a tag, a byline
/// and a cover; an older one in Kinh tế; a draft, a scheduled one and one
/// published in the future, none of them public.
async fn stories(app: &TestApp) -> (Site, i64) {
    let s = site(app).await;
    let mut conn = app.conn().await;
    let mut a = Article::new(TRICKY, s.dan_so);
    a.slug = "quang-ninh-binh-dang".into();
    a.summary = "Sapo có dấu: Hạ Long & Cẩm Phả.".into();
    a.tags = vec![s.tag];
    a.authors = vec![s.author];
    let tricky = a.insert(&mut conn).await;
    let cover = fixtures::media(&mut conn).await;
    diesel::update(newsroom::schema::articles::table.find(tricky))
        .set(newsroom::schema::articles::cover_media_id.eq(cover))
        .execute(&mut conn)
        .await
        .expect("a cover");
    Article::new("Kinh tế tăng trưởng", s.kinh_te)
        .at(Utc::now() - Duration::hours(2))
        .insert(&mut conn)
        .await;
    Article::new("Bản nháp", s.dan_so)
        .status("draft")
        .insert(&mut conn)
        .await;
    Article::new("Lên lịch", s.dan_so)
        .status("scheduled")
        .at(Utc::now() + Duration::hours(3))
        .insert(&mut conn)
        .await;
    Article::new("Tương lai", s.dan_so)
        .at(Utc::now() + Duration::hours(3))
        .insert(&mut conn)
        .await;
    (s, tricky)
}

#[actix_web::test]
async fn rss_and_json_feed_carry_the_newest_public_articles() {
    let app = TestApp::spawn().await;
    let (_, tricky) = stories(&app).await;

    let r = app.get("/api/v1/feeds/rss.xml").await;
    assert_eq!(
        r.header("content-type"),
        Some("application/rss+xml; charset=utf-8")
    );
    let rss = feed_of(&r);
    assert_eq!(rss.feed_type, FeedType::RSS2);
    assert_eq!(rss.title.as_ref().unwrap().content, "Newsroom");
    // Newest first; drafts, scheduled and future articles are absent.
    assert_eq!(titles(&rss), [TRICKY, "Kinh tế tăng trưởng"]);
    let first = &rss.entries[0];
    assert_eq!(first.id, format!("article-{tricky}@news.test"));
    assert_eq!(
        first.links[0].href,
        format!("{}/quang-ninh-binh-dang", harness::SITE_URL)
    );
    assert_eq!(
        first.summary.as_ref().unwrap().content,
        "Sapo có dấu: Hạ Long & Cẩm Phả."
    );
    // Excerpts for anonymous readers: no body.
    assert!(first.content.is_none(), "{:?}", first.content);
    assert_eq!(first.authors[0].name.as_deref(), Some("Trần Thanh Mai"));
    let categories: Vec<&str> = first.categories.iter().map(|c| c.term.as_str()).collect();
    assert_eq!(categories, ["Dân số", "Bình đẳng giới"]);
    let image = &first.media[0].content[0];
    assert_eq!(
        image.url.as_ref().unwrap().as_str(),
        format!("{}/media/anh.jpg", harness::SITE_URL)
    );
    assert!(
        r.text
            .contains(r#"<enclosure url="http://news.test/media/anh.jpg""#)
    );
    // RFC 822 dates in the site's time zone.
    let published: DateTime<Utc> = first.published.expect("pubDate");
    assert!(
        (Utc::now() - Duration::hours(1) - published)
            .num_seconds()
            .abs()
            < 60
    );
    let pub_dates: Vec<&str> = r
        .text
        .lines()
        .filter_map(|l| l.trim().strip_prefix("<pubDate>"))
        .collect();
    assert_eq!(pub_dates.len(), 2);
    for d in pub_dates {
        assert!(d.ends_with(" +0700</pubDate>"), "{d}");
        DateTime::parse_from_rfc2822(d.trim_end_matches("</pubDate>")).expect("RFC 822");
    }
    // Escaped, not mangled: the raw XML holds entities.
    assert!(r.text.contains("&amp; &lt;giới&gt;"), "{}", r.text);

    let r = app.get("/api/v1/feeds/feed.json").await;
    assert_eq!(r.header("content-type"), Some("application/feed+json"));
    let jf = feed_of(&r);
    assert_eq!(jf.feed_type, FeedType::JSON);
    assert_eq!(titles(&jf), [TRICKY, "Kinh tế tăng trưởng"]);
    assert_eq!(r.json["version"], "https://jsonfeed.org/version/1.1");
    assert_eq!(r.json["language"], "vi");
    let item = &r.json["items"][0];
    assert_eq!(item["title"], TRICKY);
    assert_eq!(item["content_text"], "Sapo có dấu: Hạ Long & Cẩm Phả.");
    assert!(item.get("content_html").is_none());
    assert_eq!(item["authors"], json!([{"name": "Trần Thanh Mai"}]));
    assert_eq!(item["tags"], json!(["Dân số", "Bình đẳng giới"]));
    assert_eq!(item["image"], "http://news.test/media/anh.jpg");
    assert!(
        item["date_published"].as_str().unwrap().ends_with("+07:00"),
        "{item}"
    );
}

#[actix_web::test]
async fn feeds_by_category_with_descendants_tag_and_author() {
    let app = TestApp::spawn().await;
    stories(&app).await;
    for (query, expected, title) in [
        ("category=xa-hoi", vec![TRICKY], "Newsroom – Xã hội"),
        ("category=dan-so", vec![TRICKY], "Newsroom – Dân số"),
        (
            "category=kinh-te",
            vec!["Kinh tế tăng trưởng"],
            "Newsroom – Kinh tế",
        ),
        (
            "tag=binh-dang-gioi",
            vec![TRICKY],
            "Newsroom – Bình đẳng giới",
        ),
        (
            "author=tran-thanh-mai",
            vec![TRICKY],
            "Newsroom – Trần Thanh Mai",
        ),
        ("tag=y-te", vec![], "Newsroom – Y tế"),
    ] {
        for path in ["/api/v1/feeds/rss.xml", "/api/v1/feeds/feed.json"] {
            let feed = feed_of(&app.get(&format!("{path}?{query}")).await);
            assert_eq!(titles(&feed), expected, "{path}?{query}");
            assert_eq!(feed.title.unwrap().content, title, "{path}?{query}");
        }
    }
    // The same list keys as the JSON list with the same filter.
    let r = app.get("/api/v1/feeds/rss.xml?category=xa-hoi").await;
    let list = app.get("/api/v1/articles?category=xa-hoi").await;
    let key = |r: &Response| {
        r.header("surrogate-key")
            .unwrap()
            .split(' ')
            .find(|k| k.starts_with("articles"))
            .map(str::to_owned)
    };
    assert_eq!(key(&r), key(&list));
    assert!(key(&r).is_some());
}

#[actix_web::test]
async fn bad_feed_requests_are_problems() {
    let app = TestApp::spawn().await;
    stories(&app).await;
    for path in [
        "/api/v1/feeds/rss.xml?category=khong-co",
        "/api/v1/feeds/feed.json?tag=khong-co",
        "/api/v1/feeds/rss.xml?author=khong-co",
        "/api/v1/sitemaps/articles/999",
    ] {
        app.get(path).await.assert_problem(404, "not_found");
    }
    for path in [
        "/api/v1/feeds/rss.xml?category=Not%20A%20Slug",
        "/api/v1/feeds/feed.json?limit=5",
        "/api/v1/sitemaps/index.xml?page=2",
        "/api/v1/sitemaps/articles/0",
        "/api/v1/sitemaps/articles/abc",
        "/api/v1/sitemaps/news.xml?x=1",
    ] {
        let r = app.get(path).await;
        assert_eq!(r.status, 400, "{path}: {}", r.text);
        assert_eq!(r.header("content-type"), Some("application/problem+json"));
    }
}

#[actix_web::test]
async fn short_addresses_redirect() {
    let app = TestApp::spawn().await;
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    for (from, to) in [
        ("/feed.xml", "/api/v1/feeds/rss.xml"),
        (
            "/rss?category=xa-hoi",
            "/api/v1/feeds/rss.xml?category=xa-hoi",
        ),
        ("/feed.json", "/api/v1/feeds/feed.json"),
        ("/sitemap.xml", "/api/v1/sitemaps/index.xml"),
        ("/news-sitemap.xml", "/api/v1/sitemaps/news.xml"),
    ] {
        let r = client
            .get(format!("{}{from}", app.base))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 308, "{from}");
        assert_eq!(r.headers()["location"], to, "{from}");
    }
}

fn cached_settings() -> newsroom::config::Settings {
    newsroom::config::Settings {
        cache_ttl_secs: 3600,
        site_name: "Báo Quảng Ninh".into(),
        ..harness::settings()
    }
}

#[actix_web::test]
async fn feeds_are_cached_validated_and_purged_by_an_edit() {
    let app = TestApp::spawn_with(cached_settings()).await;
    let (_, tricky) = stories(&app).await;
    let token = token_for(&app, "bien.tap@newsroom.test", "editor").await;
    for path in [
        "/api/v1/feeds/rss.xml?category=xa-hoi",
        "/api/v1/feeds/feed.json",
        "/api/v1/sitemaps/index.xml",
        "/api/v1/sitemaps/articles/1",
        "/api/v1/sitemaps/news.xml",
    ] {
        let first = app.get(path).await;
        assert_eq!(first.status, 200, "{path}: {}", first.text);
        assert_eq!(first.header("x-cache"), Some("miss"), "{path}");
        let again = app.get(path).await;
        assert_eq!(again.header("x-cache"), Some("hit"), "{path}");
        assert_eq!(again.text, first.text);
        assert!(
            first.header("cache-control").unwrap().contains("s-maxage="),
            "{path}"
        );
        let etag = first.header("etag").expect("an ETag").to_owned();
        let not_modified = app
            .request(reqwest::Method::GET, path, &[("if-none-match", &etag)])
            .await;
        assert_eq!(not_modified.status, 304, "{path}");
        assert!(not_modified.text.is_empty());
        let head = app.request(reqwest::Method::HEAD, path, &[]).await;
        assert_eq!(head.status, 200, "{path}");
        assert_eq!(head.header("etag"), Some(etag.as_str()), "{path}");
        assert!(head.text.is_empty());
        // Compressed like the JSON.
        let gz = app
            .client
            .get(format!("{}{path}", app.base))
            .header("accept-encoding", "gzip")
            .send()
            .await
            .unwrap();
        if first.text.len() > 1024 {
            assert_eq!(gz.headers()["content-encoding"], "gzip", "{path}");
        }
    }

    let edited = "Tiêu đề mới: Hội nghị & Đối thoại";
    let r = crate::hardening::patch(&app, &token, tricky, json!({"title": edited})).await;
    assert_eq!(r.status, 200, "{}", r.text);
    // The next read shows the edit everywhere, with the cache on.
    let rss = app.get("/api/v1/feeds/rss.xml?category=xa-hoi").await;
    assert_eq!(titles(&feed_of(&rss)), [edited]);
    let jf = app.get("/api/v1/feeds/feed.json").await;
    assert_eq!(titles(&feed_of(&jf))[0], edited);
    let news = app.get("/api/v1/sitemaps/news.xml").await;
    assert!(
        news.text.contains("Hội nghị &amp; Đối thoại"),
        "{}",
        news.text
    );
    assert!(news.text.contains("<news:name>Báo Quảng Ninh</news:name>"));

    // Unpublished: gone from the feed and the sitemaps at once.
    let r = crate::admin::send(
        &app,
        reqwest::Method::POST,
        &format!("/api/v1/admin/articles/{tricky}/unpublish"),
        Some(&token),
        None,
        &[],
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let jf = app.get("/api/v1/feeds/feed.json").await;
    assert_eq!(titles(&feed_of(&jf)), ["Kinh tế tăng trưởng"]);
    let page = app.get("/api/v1/sitemaps/articles/1").await;
    assert!(!page.text.contains("quang-ninh-binh-dang"));
}

/// A sitemap document read with quick-xml: the root's name and namespaces,
/// and every element's path with its text.
struct Xml {
    root: String,
    namespaces: Vec<(String, String)>,
    texts: Vec<(String, String)>,
}

fn read_xml(text: &str) -> Xml {
    let mut reader = Reader::from_str(text);
    let mut path: Vec<String> = Vec::new();
    let mut out = Xml {
        root: String::new(),
        namespaces: Vec::new(),
        texts: Vec::new(),
    };
    // Text arrives in pieces around entity references: joined per element.
    let mut pending = String::new();
    let flush = |path: &[String], pending: &mut String, out: &mut Xml| {
        if !pending.trim().is_empty() {
            out.texts.push((path.join("/"), std::mem::take(pending)));
        }
        pending.clear();
    };
    loop {
        match reader.read_event().expect("well-formed XML") {
            Event::Decl(d) => {
                assert_eq!(&*d.encoding().unwrap().unwrap(), "UTF-8");
            }
            Event::Start(e) => {
                flush(&path, &mut pending, &mut out);
                let name = e.name().as_ref().to_owned();
                if path.is_empty() {
                    out.root = name.clone();
                    for a in e.attributes() {
                        let a = a.unwrap();
                        out.namespaces.push((
                            a.key.as_ref().to_owned(),
                            a.normalized_value(quick_xml::XmlVersion::Implicit1_0)
                                .unwrap()
                                .into_owned(),
                        ));
                    }
                }
                path.push(name);
            }
            Event::End(_) => {
                flush(&path, &mut pending, &mut out);
                path.pop();
            }
            Event::Text(t) => pending.push_str(&t.xml10_content()),
            Event::GeneralRef(r) => pending.push_str(match &*r {
                "amp" => "&",
                "lt" => "<",
                "gt" => ">",
                "quot" => "\"",
                "apos" => "'",
                other => panic!("unexpected entity {other:?}"),
            }),
            Event::Eof => break,
            _ => {}
        }
    }
    out
}

impl Xml {
    fn all(&self, path: &str) -> Vec<&str> {
        self.texts
            .iter()
            .filter(|(p, _)| p == path)
            .map(|(_, v)| v.as_str())
            .collect()
    }
}

fn is_w3c_time(s: &str) -> bool {
    DateTime::parse_from_rfc3339(s).is_ok() && s.ends_with("+07:00") && s.len() == 25
}

const SITEMAP_NS: &str = "http://www.sitemaps.org/schemas/sitemap/0.9";

#[actix_web::test]
async fn sitemaps_follow_the_protocol() {
    let app = TestApp::spawn().await;
    let (s, _) = stories(&app).await;
    let mut conn = app.conn().await;
    // Three days old: in the sitemap, not in the news sitemap.
    Article::new("Tin cũ", s.kinh_te)
        .at(Utc::now() - Duration::hours(72))
        .insert(&mut conn)
        .await;

    let r = app.get("/api/v1/sitemaps/index.xml").await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(
        r.header("content-type"),
        Some("application/xml; charset=utf-8")
    );
    let index = read_xml(&r.text);
    assert_eq!(index.root, "sitemapindex");
    assert_eq!(index.namespaces, [("xmlns".into(), SITEMAP_NS.into())]);
    let locs = index.all("sitemapindex/sitemap/loc");
    assert_eq!(
        locs,
        [format!("{}/api/v1/sitemaps/articles/1", harness::SITE_URL)]
    );
    for lastmod in index.all("sitemapindex/sitemap/lastmod") {
        assert!(is_w3c_time(lastmod), "{lastmod}");
    }

    let path = locs[0].strip_prefix(harness::SITE_URL).unwrap();
    let r = app.get(path).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let page = read_xml(&r.text);
    assert_eq!(page.root, "urlset");
    assert_eq!(page.namespaces, [("xmlns".into(), SITEMAP_NS.into())]);
    let urls = page.all("urlset/url/loc");
    assert!(urls.len() <= 50_000);
    let mut sorted = urls.clone();
    sorted.sort();
    assert_eq!(
        sorted,
        [
            "http://news.test/kinh-te-tang-truong",
            "http://news.test/quang-ninh-binh-dang",
            "http://news.test/tin-cu",
        ]
    );
    let lastmods = page.all("urlset/url/lastmod");
    assert_eq!(lastmods.len(), urls.len());
    assert!(lastmods.iter().all(|l| is_w3c_time(l)), "{lastmods:?}");

    let r = app.get("/api/v1/sitemaps/news.xml").await;
    assert_eq!(r.status, 200, "{}", r.text);
    let news = read_xml(&r.text);
    assert_eq!(news.root, "urlset");
    assert!(
        news.namespaces
            .contains(&("xmlns".into(), SITEMAP_NS.into()))
    );
    assert!(news.namespaces.contains(&(
        "xmlns:news".into(),
        "http://www.google.com/schemas/sitemap-news/0.9".into()
    )));
    // The last 48 hours, newest first, at most 1,000.
    assert_eq!(
        news.all("urlset/url/loc"),
        [
            "http://news.test/quang-ninh-binh-dang",
            "http://news.test/kinh-te-tang-truong"
        ]
    );
    assert_eq!(
        news.all("urlset/url/news:news/news:title"),
        [TRICKY, "Kinh tế tăng trưởng"]
    );
    let base = "urlset/url/news:news/news:publication";
    assert_eq!(news.all(&format!("{base}/news:name")), ["Newsroom"; 2]);
    assert_eq!(news.all(&format!("{base}/news:language")), ["vi"; 2]);
    for at in news.all("urlset/url/news:news/news:publication_date") {
        assert!(is_w3c_time(at), "{at}");
        let at = DateTime::parse_from_rfc3339(at).unwrap();
        assert!(Utc::now() - at.with_timezone(&Utc) < Duration::hours(48));
    }
}

#[actix_web::test]
async fn the_news_sitemap_stops_at_a_thousand() {
    let app = TestApp::spawn().await;
    let s = site(&app).await;
    let mut conn = app.conn().await;
    let now = Utc::now();
    let rows: Vec<_> = (0..1_005)
        .map(|i| {
            let slug = format!("tin-{i}");
            let derived = newsroom::seed::Derived::new(
                "Tóm tắt",
                &[newsroom::domain::body::Block::Paragraph {
                    text: "Nội dung".into(),
                }],
            );
            (slug, derived, now - Duration::minutes(i))
        })
        .collect();
    let values: Vec<_> = rows
        .iter()
        .map(|(slug, derived, at)| {
            derived.new_article(slug, slug, "Tóm tắt", s.kinh_te, "published", Some(*at))
        })
        .collect();
    diesel::insert_into(newsroom::schema::articles::table)
        .values(values)
        .execute(&mut conn)
        .await
        .expect("articles");
    let r = app.get("/api/v1/sitemaps/news.xml").await;
    let news = read_xml(&r.text);
    let locs = news.all("urlset/url/loc");
    assert_eq!(locs.len(), 1_000);
    assert_eq!(locs[0], "http://news.test/tin-0");
    assert_eq!(locs[999], "http://news.test/tin-999");
    // The default feed length is 50.
    let feed = feed_of(&app.get("/api/v1/feeds/rss.xml").await);
    assert_eq!(feed.entries.len(), 50);
}
