//! Every kind of bad input gets an RFC 9457 problem with a stable code, never
//! a 500, and changes nothing.

use reqwest::Method;

use crate::fixtures;
use crate::harness::TestApp;

#[actix_web::test]
async fn bad_query_parameters_are_400_naming_the_parameter() {
    let app = TestApp::with_demo().await;
    let cases = [
        ("/api/v1/articles?limit=0", "limit"),
        ("/api/v1/articles?limit=101", "limit"),
        ("/api/v1/articles?limit=abc", "limit"),
        ("/api/v1/articles?limit=-1", "limit"),
        ("/api/v1/articles?limit=99999999999999999999", "limit"),
        ("/api/v1/articles?sort=title", "sort"),
        ("/api/v1/articles?featured=yes", "featured"),
        ("/api/v1/articles?include_total=maybe", "include_total"),
        (
            "/api/v1/articles?published_after=2023-11-15",
            "published_after",
        ),
        (
            "/api/v1/articles?published_before=15/11/2023",
            "published_before",
        ),
        (
            "/api/v1/articles?published_after=2023-11-15T13:59:00",
            "published_after",
        ),
        (
            "/api/v1/articles?category=X%C3%A3%20h%E1%BB%99i",
            "category",
        ),
        ("/api/v1/articles?tag=a--b", "tag"),
        ("/api/v1/articles?author=", "author"),
        ("/api/v1/articles?language=", "language"),
        ("/api/v1/articles?language=vi;drop", "language"),
        ("/api/v1/articles?fields=", "fields"),
        ("/api/v1/articles?fields=title,,slug", "fields"),
        ("/api/v1/articles?include=author", "include"),
        ("/api/v1/articles?catgory=dan-so", "catgory"),
        ("/api/v1/articles?limit=1&limit=2", "limit"),
        ("/api/v1/articles/id/abc", "id"),
        ("/api/v1/articles/id/0", "id"),
        ("/api/v1/articles/id/-5", "id"),
        ("/api/v1/articles/id/99999999999999999999", "id"),
        ("/api/v1/categories?limit=5", "limit"),
        ("/api/v1/tags?limit=0", "limit"),
        ("/api/v1/articles/abc/related?limit=0", "limit"),
        ("/api/v1/articles/abc?fields=nope", "fields"),
    ];
    for (path, parameter) in cases {
        let r = app.get(path).await;
        r.assert_problem(400, "invalid_parameter");
        assert_eq!(
            r.json["errors"][0]["parameter"], parameter,
            "{path}: {}",
            r.text
        );
    }
}

#[actix_web::test]
async fn bad_cursors_are_400() {
    let app = TestApp::with_demo().await;
    for cursor in [
        "x",
        "AAAA",
        "bm90LWEtY3Vyc29y",
        "MXxhLXB1Yi1kZXNjfGFiY3wx",
        "MXxhLXB1Yi1kZXNjfDF8",
        &"A".repeat(500),
    ] {
        let r = app.get(&format!("/api/v1/articles?cursor={cursor}")).await;
        r.assert_problem(400, "invalid_cursor");
        assert_eq!(r.json["errors"][0]["parameter"], "cursor");
    }
}

#[actix_web::test]
async fn unknown_routes_are_404_and_wrong_methods_405_with_allow() {
    let app = TestApp::with_demo().await;
    for path in [
        "/",
        "/api",
        "/api/v2/articles",
        "/api/v1/nothing",
        "/api/v1/articles/a/b/c",
        "/api/v1/articles/",
    ] {
        app.get(path).await.assert_problem(404, "route_not_found");
    }
    for (method, path) in [
        (Method::POST, "/api/v1/articles"),
        (Method::DELETE, "/api/v1/articles/some-slug"),
        (Method::PUT, "/api/v1/categories/dan-so"),
        (Method::PATCH, "/api/v1/tags"),
        (Method::POST, "/api/v1/openapi.json"),
    ] {
        let r = app.request(method.clone(), path, &[]).await;
        r.assert_problem(405, "method_not_allowed");
        assert_eq!(r.header("allow"), Some("GET, HEAD"), "{method} {path}");
    }
}

#[actix_web::test]
async fn hostile_paths_and_slugs_are_404_not_500() {
    let app = TestApp::with_demo().await;
    let long = "a".repeat(5000);
    for path in [
        "/api/v1/articles/%27%20OR%201%3D1--".to_owned(),
        "/api/v1/articles/Quảng-Ninh".to_owned(),
        "/api/v1/articles/%00".to_owned(),
        "/api/v1/articles/..%2F..%2Fetc%2Fpasswd".to_owned(),
        format!("/api/v1/articles/{long}"),
        format!("/api/v1/articles/{long}/related"),
        "/api/v1/categories/%E2%80%AE".to_owned(),
        "/api/v1/tags/%C0%AF".to_owned(),
    ] {
        let r = app.get(&path).await;
        assert!(r.status.is_client_error(), "{path}: {}", r.status);
        assert_eq!(
            r.header("content-type"),
            Some("application/problem+json"),
            "{path}"
        );
    }
}

#[actix_web::test]
async fn malformed_query_strings_and_bodies_are_problems_and_write_nothing() {
    let app = TestApp::with_demo().await;
    let mut conn = app.conn().await;
    let before = fixtures::article_count(&mut conn).await;
    app.get("/api/v1/articles?limit=%ZZ")
        .await
        .assert_problem(400, "invalid_parameter");
    app.get("/api/v1/articles?cursor=%FF%FE")
        .await
        .assert_problem(400, "invalid_cursor");
    for (method, body) in [
        (Method::POST, "{not json"),
        (Method::PUT, "[1,2"),
        (Method::PATCH, "\u{0}"),
    ] {
        let r = app
            .client
            .request(method, format!("{}/api/v1/articles", app.base))
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 405);
    }
    assert_eq!(fixtures::article_count(&mut conn).await, before);
}
