//! Categories, tags and authors.

use chrono::{Duration, Utc};

use crate::fixtures::{self, Article};
use crate::harness::TestApp;

#[actix_web::test]
async fn the_category_tree_with_counts() {
    let app = TestApp::spawn().await;
    let mut conn = app.conn().await;
    let xa_hoi = fixtures::category(&mut conn, "Xã hội", None).await;
    let dan_so = fixtures::category(&mut conn, "Dân số", Some(xa_hoi)).await;
    let _gioi = fixtures::category(&mut conn, "Bình đẳng giới", Some(xa_hoi)).await;
    let kinh_te = fixtures::category(&mut conn, "Kinh tế", None).await;
    Article::new("Một", xa_hoi).insert(&mut conn).await;
    Article::new("Hai", dan_so).insert(&mut conn).await;
    Article::new("Ba", dan_so).insert(&mut conn).await;
    Article::new("Nháp", dan_so)
        .status("draft")
        .insert(&mut conn)
        .await;
    Article::new("Sau", kinh_te)
        .at(Utc::now() + Duration::days(1))
        .insert(&mut conn)
        .await;

    let r = app.get("/api/v1/categories").await;
    assert_eq!(r.status, 200, "{}", r.text);
    let roots = r.json["items"].as_array().unwrap();
    assert_eq!(roots.len(), 2);
    let xh = &roots[0];
    assert_eq!(xh["slug"], "xa-hoi");
    assert_eq!(xh["name"], "Xã hội");
    assert_eq!(xh["article_count"], 1);
    assert_eq!(xh["total_article_count"], 3);
    let children: Vec<&str> = xh["children"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["slug"].as_str().unwrap())
        .collect();
    assert_eq!(children, ["dan-so", "binh-dang-gioi"]);
    assert_eq!(xh["children"][0]["article_count"], 2);
    assert_eq!(
        roots[1]["total_article_count"], 0,
        "future articles are not counted"
    );

    let r = app.get("/api/v1/categories/dan-so").await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json["parent"]["slug"], "xa-hoi");
    assert_eq!(r.json["ancestors"][0]["slug"], "xa-hoi");
    assert_eq!(r.json["children"].as_array().unwrap().len(), 0);
    assert_eq!(r.json["total_article_count"], 2);
    let r = app.get("/api/v1/categories/xa-hoi").await;
    assert_eq!(r.json["parent"], serde_json::Value::Null);
    assert_eq!(r.json["children"].as_array().unwrap().len(), 2);
    assert_eq!(r.json["total_article_count"], 3);
    app.get("/api/v1/categories/khong-co")
        .await
        .assert_problem(404, "not_found");
}

#[actix_web::test]
async fn tags_and_authors_page_alphabetically() {
    let app = TestApp::spawn().await;
    let mut conn = app.conn().await;
    for name in [
        "Quảng Ninh",
        "Bình đẳng giới",
        "Đông Mai",
        "Già hóa dân số",
        "An sinh",
    ] {
        fixtures::tag(&mut conn, name).await;
    }
    let r = app.get("/api/v1/tags?limit=2").await;
    assert_eq!(r.status, 200);
    assert_eq!(
        crate::harness::slugs(&r.json),
        ["an-sinh", "binh-dang-gioi"]
    );
    let cursor = r.json["next_cursor"].as_str().unwrap();
    let r = app
        .get(&format!("/api/v1/tags?limit=2&cursor={cursor}"))
        .await;
    assert_eq!(
        crate::harness::slugs(&r.json),
        ["dong-mai", "gia-hoa-dan-so"]
    );
    let cursor = r.json["next_cursor"].as_str().unwrap();
    let r = app
        .get(&format!("/api/v1/tags?limit=2&cursor={cursor}"))
        .await;
    assert_eq!(crate::harness::slugs(&r.json), ["quang-ninh"]);
    assert_eq!(r.json["next_cursor"], serde_json::Value::Null);

    let r = app.get("/api/v1/tags/dong-mai").await;
    assert_eq!(r.json["name"], "Đông Mai");
    app.get("/api/v1/tags/khong-co")
        .await
        .assert_problem(404, "not_found");

    fixtures::author(&mut conn, "Trần Thanh Mai").await;
    fixtures::author(&mut conn, "Đặng Quốc Bảo").await;
    assert_eq!(
        app.slugs("/api/v1/authors").await,
        ["dang-quoc-bao", "tran-thanh-mai"]
    );
    let r = app.get("/api/v1/authors/tran-thanh-mai").await;
    assert_eq!(r.json["name"], "Trần Thanh Mai");
    assert!(r.json.get("bio").is_some() && r.json.get("avatar_url").is_some());
    app.get("/api/v1/authors/khong-co")
        .await
        .assert_problem(404, "not_found");
    app.get("/api/v1/authors?limit=101")
        .await
        .assert_problem(400, "invalid_parameter");
    app.get("/api/v1/authors?cursor=%%%")
        .await
        .assert_problem(400, "invalid_cursor");
}

#[actix_web::test]
async fn health_and_readiness() {
    let app = TestApp::spawn().await;
    let r = app.get("/healthz").await;
    assert_eq!(
        (r.status.as_u16(), r.json["status"].as_str()),
        (200, Some("ok"))
    );
    let r = app.get("/readyz").await;
    assert_eq!(
        (r.status.as_u16(), r.json["status"].as_str()),
        (200, Some("ok"))
    );
}
