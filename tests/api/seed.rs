//! Issue 12, §2: synthetic articles written with COPY (the bulk way, with
//! the indexes, foreign keys and words trigger set aside, and the small
//! way on top) are what the public API shows, as if saved one by one.

use std::collections::BTreeSet;

use diesel::sql_types::BigInt;
use diesel_async::RunQueryDsl;
use serde_json::Value;

use crate::harness::{TestApp, url};

#[derive(diesel::QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

async fn count(app: &TestApp, sql: &str) -> i64 {
    let mut conn = app.conn().await;
    diesel::sql_query(sql)
        .get_result::<Count>(&mut conn)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
        .n
}

#[derive(diesel::QueryableByName)]
struct Text {
    #[diesel(sql_type = diesel::sql_types::Text)]
    text: String,
}

/// The indexes, foreign keys and triggers of the article tables.
async fn schema(app: &TestApp) -> String {
    let mut conn = app.conn().await;
    diesel::sql_query(
        "SELECT concat_ws(E'\\n', \
             (SELECT string_agg(indexdef, E'\\n' ORDER BY indexname) FROM pg_indexes \
              WHERE tablename IN ('articles', 'article_tags', 'article_authors')), \
             (SELECT string_agg(conname || ' ' || pg_get_constraintdef(oid), E'\\n' \
                                ORDER BY conrelid::regclass::text, conname) \
              FROM pg_constraint WHERE conrelid = ANY \
              (ARRAY['articles', 'article_tags', 'article_authors']::regclass[])), \
             (SELECT string_agg(tgname || ' ' || tgenabled::text, E'\\n' ORDER BY tgname) \
              FROM pg_trigger WHERE tgrelid = 'articles'::regclass AND NOT tgisinternal)) \
         AS text",
    )
    .get_result::<Text>(&mut conn)
    .await
    .expect("the schema")
    .text
}

/// Whether `search_words` holds exactly the words the trigger would have
/// kept, row by row.
async fn words_match(app: &TestApp) {
    let words = "SELECT DISTINCT w FROM articles, unnest(tsvector_to_array(to_tsvector(\
        'public.newsroom_fold'::regconfig, translate(title || ' ' || summary, 'đĐ', 'dD')))) w \
        WHERE length(w) BETWEEN 2 AND 40";
    assert!(count(app, "SELECT count(*) AS n FROM search_words").await > 300);
    assert_eq!(
        count(
            app,
            &format!(
                "SELECT count(*) AS n FROM (({words} EXCEPT SELECT word FROM search_words) \
                 UNION ALL (SELECT word FROM search_words EXCEPT {words})) d"
            )
        )
        .await,
        0
    );
}

fn enc(q: &str) -> String {
    let mut out = String::new();
    for b in q.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Every item of a cursor-paged list (`path` has a query string).
async fn walk(app: &TestApp, path: &str) -> Vec<Value> {
    let mut items = Vec::new();
    let mut next = path.to_owned();
    for _ in 0..1000 {
        let r = app.get(&next).await;
        assert_eq!(r.status, 200, "{next}: {}", r.text);
        items.extend(r.json["items"].as_array().unwrap().iter().cloned());
        match r.json["next_cursor"].as_str() {
            Some(cursor) => next = format!("{path}&cursor={}", enc(cursor)),
            None => return items,
        }
    }
    panic!("{path}: more than 1,000 pages");
}

fn ids(items: &[Value]) -> BTreeSet<i64> {
    items.iter().map(|i| i["id"].as_i64().unwrap()).collect()
}

const VISIBLE: &str = "public_status AND published_at <= now()";

#[actix_web::test]
async fn synthetic_articles_show_everywhere_the_public_looks() {
    let app = TestApp::spawn().await;
    let database = url(&app.database);

    // A partner's position in the change feed from before the load.
    let r = app.get("/api/v1/changes").await;
    assert_eq!(r.status, 200, "{}", r.text);
    let before = r.json["next"].as_str().unwrap().to_owned();

    let schema_before = schema(&app).await;
    assert!(
        schema_before.contains("articles_search_all"),
        "{schema_before}"
    );
    assert!(schema_before.contains("FOREIGN KEY"), "{schema_before}");
    assert!(
        schema_before.contains("articles_remember_words O"),
        "{schema_before}"
    );
    let bulk = newsroom::seed::synthetic::load_with(&database, 3000, true, false)
        .await
        .expect("the bulk load");
    assert_eq!(bulk, 3000);
    words_match(&app).await;
    let small = newsroom::seed::synthetic::load(&database, 200)
        .await
        .expect("the small load");
    assert_eq!(small, 200);

    words_match(&app).await;
    // What the load set aside is back, as it was.
    assert_eq!(schema(&app).await, schema_before);
    assert_eq!(
        count(&app, "SELECT count(*) AS n FROM articles").await,
        3200
    );

    let visible = count(
        &app,
        &format!("SELECT count(*) AS n FROM articles WHERE {VISIBLE}"),
    )
    .await;
    assert!(visible > 3000, "{visible} public articles");

    // The list, page after page: every public article once, newest first.
    let listed = walk(&app, "/api/v1/articles?limit=100").await;
    assert_eq!(listed.len() as i64, visible);
    assert_eq!(ids(&listed).len() as i64, visible);
    let first_article = &listed[0];
    assert!(
        first_article["category"]["slug"].is_string(),
        "{first_article}"
    );
    assert!(!first_article["authors"].as_array().unwrap().is_empty());

    // Category counts add up to the same.
    let r = app.get("/api/v1/categories").await;
    assert_eq!(r.status, 200, "{}", r.text);
    let roots: i64 = r.json["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["parent_id"].is_null())
        .map(|c| c["total_article_count"].as_i64().unwrap())
        .sum();
    assert_eq!(roots, visible, "{}", r.text);

    // Search by a place in the titles: found as often as it is in them.
    let in_titles = count(
        &app,
        &format!("SELECT count(*) AS n FROM articles WHERE {VISIBLE} AND title LIKE 'Đắk Lắk:%'"),
    )
    .await;
    assert!(in_titles > 50, "{in_titles}");
    let found = walk(
        &app,
        &format!("/api/v1/search?q={}&limit=50", enc("dak lak")),
    )
    .await;
    assert_eq!(found.len() as i64, in_titles);
    assert!(
        found
            .iter()
            .all(|h| h["title"].as_str().unwrap().starts_with("Đắk Lắk:")),
        "{found:?}"
    );
    // Suggest reads the words the load added.
    let r = app
        .get(&format!("/api/v1/search/suggest?q={}", enc("dak l")))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(
        !r.json["items"].as_array().unwrap().is_empty(),
        "{}",
        r.text
    );
    // A misspelt word is corrected from the words of the synthetic titles.
    let r = app
        .get(&format!("/api/v1/search?q={}", enc("Dak Lakk")))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(
        !r.json["items"].as_array().unwrap().is_empty(),
        "{}",
        r.text
    );

    // Related articles of one.
    let slug = first_article["slug"].as_str().unwrap();
    let r = app.get(&format!("/api/v1/articles/{slug}/related")).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let related = r.json["items"].as_array().unwrap();
    assert!(!related.is_empty(), "{}", r.text);
    assert!(related.iter().all(|a| a["slug"] != slug));

    // The change feed from before the load names every public article. It
    // hands nothing out past a transaction still running anywhere in the
    // cluster (other tests' included), so a client that has caught up polls
    // again later, as real clients do.
    let mut changed = BTreeSet::new();
    let mut token = before;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    for _ in 0..10_000 {
        let r = app
            .get(&format!("/api/v1/changes?since={token}&limit=100"))
            .await;
        assert_eq!(r.status, 200, "{}", r.text);
        for change in r.json["changes"].as_array().unwrap() {
            assert_eq!(change["action"], "upsert", "{change}");
            changed.insert(change["id"].as_i64().unwrap());
        }
        token = r.json["next"].as_str().unwrap().to_owned();
        if r.json["has_more"] == false {
            if changed == ids(&listed) || std::time::Instant::now() > deadline {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        }
    }
    assert_eq!(changed, ids(&listed));
    let category = first_article["category"]["slug"].as_str().unwrap();
    let in_category = walk(
        &app,
        &format!("/api/v1/articles?limit=100&category={category}"),
    )
    .await;

    // Feeds and sitemaps.
    let r = app
        .get(&format!("/api/v1/feeds/rss.xml?category={category}"))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let newest = in_category[0]["slug"].as_str().unwrap();
    assert!(r.text.contains(newest), "{newest} not in the feed");
    let r = app.get("/api/v1/feeds/feed.json").await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(r.text.contains(slug));
    let r = app.get("/api/v1/sitemaps/index.xml").await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.text.matches("<sitemap>").count(), 1, "{}", r.text);
    let r = app.get("/api/v1/sitemaps/articles/1").await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.text.matches("<url>").count() as i64, visible);
    let r = app.get("/api/v1/sitemaps/news.xml").await;
    assert_eq!(r.status, 200, "{}", r.text);
}
