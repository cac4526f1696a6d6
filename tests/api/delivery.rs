//! Issue 9, what every response carries for browsers and apps: request ids,
//! `HEAD`, tracking parameters ignored, absolute URLs in `body_html`.

use reqwest::Method;

use crate::harness::{SITE_URL, TestApp};

#[actix_web::test]
async fn every_response_has_a_request_id_and_problems_quote_it() {
    let app = TestApp::with_demo().await;
    let r = app.get("/api/v1/articles?limit=1").await;
    let id = r.header("x-request-id").expect("an id").to_owned();
    assert_eq!(id.len(), 32, "{id}");
    assert_ne!(
        app.get("/api/v1/articles?limit=1")
            .await
            .header("x-request-id"),
        Some(&*id)
    );
    // A sane id of the client's is kept; anything else is replaced.
    let r = app
        .request(
            Method::GET,
            "/api/v1/tags",
            &[("x-request-id", "app-42.req:7")],
        )
        .await;
    assert_eq!(r.header("x-request-id"), Some("app-42.req:7"));
    let long = "a".repeat(129);
    for bad in ["has space", "quote\"", long.as_str(), ""] {
        let r = app
            .request(Method::GET, "/api/v1/tags", &[("x-request-id", bad)])
            .await;
        let got = r.header("x-request-id").unwrap();
        assert!(got != bad && got.len() == 32, "{bad:?} → {got}");
    }
    // Problems carry it in the body too: route, parameter and auth errors.
    for path in [
        "/api/v1/nowhere",
        "/api/v1/articles?limit=0",
        "/api/v1/admin/articles",
    ] {
        let r = app
            .request(Method::GET, path, &[("x-request-id", "trace-1")])
            .await;
        assert!(r.status.is_client_error(), "{path}");
        assert_eq!(r.json["request_id"], "trace-1", "{path}: {}", r.text);
        assert_eq!(r.header("x-request-id"), Some("trace-1"));
    }
}

#[actix_web::test]
async fn head_answers_with_the_headers_of_get_and_no_body() {
    let app = TestApp::with_demo().await;
    for path in [
        "/api/v1/articles?limit=3",
        "/api/v1/categories",
        "/api/v1/openapi.json",
        "/readyz",
    ] {
        let get = app.get(path).await;
        let head = app.request(Method::HEAD, path, &[]).await;
        assert_eq!(head.status, get.status, "{path}");
        assert!(head.text.is_empty(), "{path}: a body");
        assert_eq!(head.header("content-type"), get.header("content-type"));
        assert_eq!(head.header("etag"), get.header("etag"), "{path}");
        assert_eq!(
            head.header("content-length"),
            Some(get.text.len().to_string().as_str()),
            "{path}"
        );
    }
    let r = app
        .request(Method::HEAD, "/api/v1/articles/khong-co", &[])
        .await;
    assert_eq!(r.status, 404);
    assert!(r.text.is_empty());
}

#[actix_web::test]
async fn tracking_parameters_are_ignored_and_others_still_refused() {
    let app = TestApp::with_demo().await;
    let plain = app.get("/api/v1/articles?limit=2").await;
    assert_eq!(plain.status, 200);
    for tracked in [
        "/api/v1/articles?limit=2&utm_source=zalo&utm_medium=social",
        "/api/v1/articles?fbclid=IwAR0x&limit=2",
        "/api/v1/articles?limit=2&gclid=Cj0&zarsrc=30&_=1700000000000",
    ] {
        let r = app.get(tracked).await;
        assert_eq!(r.status, 200, "{tracked}: {}", r.text);
        assert_eq!(r.json, plain.json, "{tracked}");
        assert_eq!(r.header("etag"), plain.header("etag"));
    }
    let slug = plain.json["items"][0]["slug"].as_str().unwrap();
    let r = app
        .get(&format!("/api/v1/articles/{slug}?utm_campaign=x&fbclid=y"))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let r = app
        .get("/api/v1/articles?limit=2&utm_source=zalo&bogus=1")
        .await;
    r.assert_problem(400, "invalid_parameter");
    assert_eq!(r.json["errors"][0]["parameter"], "bogus");
}

#[actix_web::test]
async fn body_html_links_media_with_absolute_urls() {
    let app = TestApp::with_demo().await;
    let list = app.get("/api/v1/articles?limit=100").await;
    let mut checked = 0;
    for item in list.json["items"].as_array().unwrap() {
        let slug = item["slug"].as_str().unwrap();
        let article = app.get(&format!("/api/v1/articles/{slug}")).await;
        let html = article.json["body_html"].as_str().unwrap();
        assert!(
            !html.contains("src=\"/") && !html.contains("href=\"/"),
            "{html}"
        );
        if html.contains("<img") {
            assert!(html.contains(&format!("src=\"{SITE_URL}/media/")), "{html}");
            checked += 1;
        }
    }
    assert!(checked > 0, "the demo has pictures in bodies");
}

fn cors_app_settings(origins: &[&str]) -> newsroom::config::Settings {
    newsroom::config::Settings {
        cors: newsroom::http::cors::CorsOrigins::parse(
            &origins.iter().map(|o| o.to_string()).collect::<Vec<_>>(),
        )
        .unwrap(),
        ..crate::harness::settings()
    }
}

async fn preflight(
    app: &TestApp,
    path: &str,
    origin: &str,
    method: &str,
    headers: &str,
) -> crate::harness::Response {
    app.request(
        Method::OPTIONS,
        path,
        &[
            ("origin", origin),
            ("access-control-request-method", method),
            ("access-control-request-headers", headers),
        ],
    )
    .await
}

#[actix_web::test]
async fn listed_origins_may_read_and_sign_in_others_may_not() {
    let app = TestApp::spawn_with(cors_app_settings(&[
        "https://www.example.vn",
        "https://cms.example.vn",
    ]))
    .await;
    let site = "https://www.example.vn";
    // Preflight on a public route, then the read itself.
    let r = preflight(
        &app,
        "/api/v1/articles",
        site,
        "GET",
        "if-none-match,x-client-id",
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.header("access-control-allow-origin"), Some(site));
    assert!(r.header("access-control-max-age").is_some());
    assert_eq!(r.header("access-control-allow-credentials"), None);
    let r = app
        .request(Method::GET, "/api/v1/articles", &[("origin", site)])
        .await;
    assert_eq!(r.header("access-control-allow-origin"), Some(site));
    let exposed = r
        .header("access-control-expose-headers")
        .unwrap()
        .to_lowercase();
    for name in [
        "etag",
        "last-modified",
        "link",
        "location",
        "retry-after",
        "x-request-id",
    ] {
        assert!(exposed.contains(name), "{name} not in {exposed}");
    }
    // The staff API: listed origins, with credentials.
    let cms = "https://cms.example.vn";
    for path in ["/api/v1/auth/login", "/api/v1/admin/articles"] {
        let r = preflight(&app, path, cms, "POST", "authorization,content-type").await;
        assert_eq!(r.status, 200, "{path}: {}", r.text);
        assert_eq!(r.header("access-control-allow-origin"), Some(cms));
        assert_eq!(r.header("access-control-allow-credentials"), Some("true"));
    }
    // Any other origin: a refused preflight (a problem), no CORS headers.
    let evil = "https://evil.example";
    for path in ["/api/v1/articles", "/api/v1/admin/articles"] {
        let r = preflight(&app, path, evil, "GET", "authorization").await;
        r.assert_problem(400, "cors_rejected");
        assert_eq!(r.header("access-control-allow-origin"), None);
    }
    let r = app
        .request(Method::GET, "/api/v1/articles", &[("origin", evil)])
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.header("access-control-allow-origin"), None);
}

#[actix_web::test]
async fn a_wildcard_opens_the_public_api_only() {
    let app = TestApp::spawn_with(cors_app_settings(&["*", "https://cms.example.vn"])).await;
    let anyone = "https://reader.example";
    let r = preflight(&app, "/api/v1/search", anyone, "GET", "x-request-id").await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.header("access-control-allow-origin"), Some("*"));
    let r = app
        .request(Method::GET, "/api/v1/categories", &[("origin", anyone)])
        .await;
    assert_eq!(r.header("access-control-allow-origin"), Some("*"));
    assert_eq!(r.header("access-control-allow-credentials"), None);
    // Never the staff API for `*`.
    preflight(
        &app,
        "/api/v1/admin/articles",
        anyone,
        "GET",
        "authorization",
    )
    .await
    .assert_problem(400, "cors_rejected");
    let r = preflight(
        &app,
        "/api/v1/admin/articles/7",
        "https://cms.example.vn",
        "PATCH",
        "authorization,if-match",
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(
        r.header("access-control-allow-origin"),
        Some("https://cms.example.vn")
    );
    // Each route names its own methods: an article takes PATCH, the
    // collection does not.
    let mut methods: Vec<&str> = r
        .header("access-control-allow-methods")
        .unwrap()
        .split(',')
        .map(str::trim)
        .collect();
    methods.sort_unstable();
    assert_eq!(methods, ["DELETE", "GET", "HEAD", "PATCH", "PUT"]);
    preflight(
        &app,
        "/api/v1/admin/articles",
        "https://cms.example.vn",
        "PATCH",
        "authorization",
    )
    .await
    .assert_problem(400, "cors_rejected");
    preflight(&app, "/api/v1/articles", anyone, "POST", "content-type")
        .await
        .assert_problem(400, "cors_rejected");
    let views = preflight(
        &app,
        "/api/v1/articles/bai-moi/views",
        anyone,
        "POST",
        "content-type",
    )
    .await;
    assert_eq!(views.status, 200, "{}", views.text);
}

#[actix_web::test]
async fn without_origins_nobody_gets_cors_headers() {
    let app = TestApp::with_demo().await;
    let r = app
        .request(
            Method::GET,
            "/api/v1/articles",
            &[("origin", "https://www.example.vn")],
        )
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.header("access-control-allow-origin"), None);
    preflight(
        &app,
        "/api/v1/articles",
        "https://www.example.vn",
        "GET",
        "",
    )
    .await
    .assert_problem(400, "cors_rejected");
}

#[actix_web::test]
async fn bodies_are_compressed_as_the_client_asks() {
    let app = TestApp::with_demo().await;
    let path = "/api/v1/articles?limit=20";
    let plain = app.get(path).await;
    assert_eq!(plain.header("content-encoding"), None);
    let etag = plain.header("etag").unwrap().to_owned();
    assert!(etag.starts_with("W/\""), "{etag}");
    for encoding in ["br", "gzip", "zstd"] {
        let r = app
            .client
            .get(format!("{}{path}", app.base))
            .header("accept-encoding", encoding)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        let headers = r.headers().clone();
        assert_eq!(
            headers
                .get("content-encoding")
                .and_then(|v| v.to_str().ok()),
            Some(encoding)
        );
        assert!(
            headers
                .get("vary")
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| v.to_lowercase().contains("accept-encoding"))
        );
        // The same content: the same (weak) validator, and a 304 for it.
        assert_eq!(headers.get("etag").unwrap().to_str().unwrap(), etag);
        let bytes = r.bytes().await.unwrap();
        assert!(
            bytes.len() * 3 < plain.text.len(),
            "{encoding}: {} of {} bytes",
            bytes.len(),
            plain.text.len()
        );
        let again = app
            .client
            .get(format!("{}{path}", app.base))
            .header("accept-encoding", encoding)
            .header("if-none-match", &etag)
            .send()
            .await
            .unwrap();
        assert_eq!(again.status(), 304);
    }
}

#[actix_web::test]
async fn shared_caches_get_a_lifetime_per_kind_of_resource() {
    let app = TestApp::with_demo().await;
    let list = app.get("/api/v1/articles?limit=1").await;
    let slug = list.json["items"][0]["slug"].as_str().unwrap().to_owned();
    let expect = |s_maxage: u32| {
        format!(
            "public, max-age=0, s-maxage={s_maxage}, stale-while-revalidate=30, stale-if-error=86400"
        )
    };
    for (path, s_maxage) in [
        (format!("/api/v1/articles/{slug}"), 60),
        ("/api/v1/articles?limit=1".to_owned(), 30),
        (format!("/api/v1/articles/{slug}/related"), 30),
        ("/api/v1/search?q=quang+ninh".to_owned(), 30),
        ("/api/v1/categories".to_owned(), 300),
    ] {
        let r = app.get(&path).await;
        assert_eq!(r.status, 200, "{path}: {}", r.text);
        assert_eq!(
            r.header("cache-control"),
            Some(expect(s_maxage).as_str()),
            "{path}"
        );
    }
    // Problems and staff answers are never stored.
    let r = app.get("/api/v1/articles/khong-co").await;
    assert_eq!(r.header("cache-control"), Some("no-store"));
    // Configurable per kind.
    let app = TestApp::spawn_with(newsroom::config::Settings {
        cache_control: newsroom::http::cache_control::CachePolicy::new(
            "taxonomy=3600,list=5".parse().unwrap(),
            10,
            600,
        ),
        ..crate::harness::settings()
    })
    .await;
    let r = app.get("/api/v1/tags").await;
    assert_eq!(
        r.header("cache-control"),
        Some("public, max-age=0, s-maxage=3600, stale-while-revalidate=10, stale-if-error=600")
    );
}
