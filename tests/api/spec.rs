//! The committed OpenAPI spec and Diesel schema match the code, and the
//! migrations run down and up again.

use std::process::Command;

use diesel_async::AsyncPgConnection;
use diesel_async::async_connection_wrapper::AsyncConnectionWrapper;
use diesel_migrations::MigrationHarness;
use serde_json::{Value, json};

use crate::harness::{self, TestApp};

const REGENERATE: &str = "cargo run -- openapi > openapi/openapi.json";

#[test]
fn the_committed_openapi_spec_is_current() {
    let committed =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/openapi/openapi.json"))
            .unwrap_or_default();
    let generated = newsroom::openapi::spec_json();
    assert!(
        committed == generated,
        "openapi/openapi.json differs from the spec the code generates; regenerate it with `{REGENERATE}` and commit it"
    );
}

#[test]
fn every_operation_is_documented_with_schemas_and_examples() {
    let spec: Value = serde_json::from_str(&newsroom::openapi::spec_json()).unwrap();
    assert!(spec["openapi"].as_str().unwrap().starts_with("3.1"));
    assert_eq!(spec["info"]["license"]["name"], "MIT");
    let mut operation_ids = Vec::new();
    for (path, item) in spec["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let id = op["operationId"]
                .as_str()
                .unwrap_or_else(|| panic!("{method} {path}: operationId"));
            operation_ids.push(id.to_owned());
            assert!(
                op["summary"].as_str().is_some_and(|s| !s.is_empty()),
                "{id}: summary"
            );
            assert!(
                op["tags"].as_array().is_some_and(|t| !t.is_empty()),
                "{id}: tags"
            );
            for param in op["parameters"].as_array().into_iter().flatten() {
                let name = param["name"].as_str().unwrap();
                assert!(
                    param["description"].as_str().is_some_and(|d| !d.is_empty()),
                    "{id}: {name} description"
                );
                assert!(param["schema"].is_object(), "{id}: {name} schema");
                assert!(!param["example"].is_null(), "{id}: {name} example");
            }
            for (status, response) in op["responses"].as_object().unwrap() {
                assert!(response["description"].is_string(), "{id} {status}");
                // No content and redirects have no body to describe.
                if status == "204" || status.starts_with('3') {
                    continue;
                }
                let content = response["content"]
                    .as_object()
                    .unwrap_or_else(|| panic!("{id} {status}: content"));
                for (media_type, body) in content {
                    assert!(
                        body["schema"].is_object(),
                        "{id} {status} {media_type}: schema"
                    );
                    if status.starts_with('4') {
                        assert_eq!(media_type, "application/problem+json", "{id} {status}");
                    }
                }
            }
        }
    }
    for expected in [
        "list_articles",
        "get_article",
        "get_article_by_id",
        "list_related_articles",
        "list_categories",
        "get_category",
        "list_tags",
        "get_tag",
        "list_authors",
        "get_author",
        "get_health",
        "get_readiness",
    ] {
        assert!(
            operation_ids.iter().any(|id| id == expected),
            "{expected} is missing"
        );
    }
    let schemas = spec["components"]["schemas"].as_object().unwrap();
    for name in [
        "Article",
        "ArticleSummary",
        "ArticleList",
        "Problem",
        "Block",
        "CategoryNode",
        "RelatedArticle",
    ] {
        assert!(schemas.contains_key(name), "schema {name}");
    }
    for name in [
        "Problem",
        "ArticleSummary",
        "MediaView",
        "CategoryRef",
        "CategoryDetail",
        "TagView",
        "AuthorView",
        "RelatedArticle",
    ] {
        assert!(
            !schemas[name]["example"].is_null() || !schemas[name]["examples"].is_null(),
            "{name} has an example"
        );
    }
}

/// What the handlers refuse is in the spec: slugs and ids in paths and
/// queries carry their pattern or minimum, every operation states its
/// security (none or a partner key for public ones, bearer for staff ones), and `fields=`
/// responses may leave any field out.
#[test]
fn the_spec_states_the_constraints_the_code_enforces() {
    let spec: Value = serde_json::from_str(&newsroom::openapi::spec_json()).unwrap();
    const SLUG: &str = "^[a-z0-9]+(?:-[a-z0-9]+)*$";
    for (path, item) in spec["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let id = op["operationId"].as_str().unwrap();
            let security = op["security"]
                .as_array()
                .unwrap_or_else(|| panic!("{id} ({method} {path}) declares no security"));
            if path.starts_with("/api/v1/admin/") {
                assert_eq!(security.len(), 1, "{id}: bearer");
                assert!(security[0].get("bearer").is_some(), "{id}: bearer");
            } else {
                // Anonymous (`{}`), or a partner key in either header.
                let allowed = [
                    json!({}),
                    json!({"api_key": []}),
                    json!({"api_key_bearer": []}),
                ];
                assert!(
                    security.is_empty()
                        || (security.first() == Some(&allowed[0])
                            && security.iter().all(|s| allowed.contains(s))),
                    "{id}: public operations take no credentials or a partner key: {security:?}"
                );
            }
            for param in op["parameters"].as_array().into_iter().flatten() {
                let name = param["name"].as_str().unwrap();
                let schema = &param["schema"];
                let slug_valued = name == "slug"
                    || name == "move_to"
                    || (param["in"] == "query" && ["category", "tag", "author"].contains(&name));
                if slug_valued {
                    assert_eq!(schema["pattern"], SLUG, "{id}: {name} pattern");
                    assert_eq!(schema["maxLength"], 200, "{id}: {name} maxLength");
                }
                if param["in"] == "path" && (name == "id" || name == "n") {
                    assert_eq!(schema["minimum"], 1, "{id}: {name} minimum");
                }
                if name == "limit" {
                    assert_eq!(schema["minimum"], 1, "{id}: limit minimum");
                    assert!(schema["maximum"].is_i64(), "{id}: limit maximum");
                }
                if name == "cursor" {
                    assert_eq!(schema["minLength"], 1, "{id}: cursor minLength");
                }
                if ["sort", "strategy", "period", "status"].contains(&name) {
                    assert!(schema["enum"].is_array(), "{id}: {name} enum");
                }
                if ["fields", "include"].contains(&name) {
                    assert!(schema["items"]["enum"].is_array(), "{id}: {name} enum");
                    assert_eq!(param["explode"], false, "{id}: {name} comma-separated");
                }
            }
        }
    }
    let schemas = &spec["components"]["schemas"];
    for name in ["ArticleFields", "ArticleSummaryFields"] {
        let required = schemas[name]["required"].as_array();
        assert!(
            required.is_none_or(|r| r.is_empty()),
            "{name}: nothing required"
        );
    }
    for name in ["ArticleResponse", "ArticleListResponse"] {
        assert_eq!(
            schemas[name]["anyOf"].as_array().map(Vec::len),
            Some(2),
            "{name}"
        );
    }
}

#[actix_web::test]
async fn the_running_service_serves_the_same_spec_and_the_docs() {
    let app = TestApp::spawn().await;
    let r = app.get("/api/v1/openapi.json").await;
    assert_eq!(r.status, 200);
    let generated: Value = serde_json::from_str(&newsroom::openapi::spec_json()).unwrap();
    assert_eq!(r.json, generated);
    let docs = app.get("/docs/").await;
    assert_eq!(docs.status, 200);
    assert!(docs.text.contains("swagger-ui"));
    // Served from the binary, not a CDN.
    assert!(
        !docs.text.contains("https://"),
        "the docs page loads nothing from the internet"
    );
    let bundle = app.get("/docs/swagger-ui-bundle.js").await;
    assert_eq!(bundle.status, 200);
    assert!(bundle.text.len() > 100_000);
    let redirect = app
        .client
        .get(format!("{}/docs", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(redirect.status(), 200, "follows to /docs/");
}

/// `src/schema.rs` is what `diesel print-schema` makes of the migrations.
/// Needs the Diesel CLI (`cargo install diesel_cli --no-default-features
/// --features postgres`); CI always has it.
#[test]
fn the_committed_diesel_schema_matches_the_migrations() {
    let has_cli = Command::new("diesel")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !has_cli {
        assert!(
            std::env::var_os("CI").is_none(),
            "the Diesel CLI is required in CI to check src/schema.rs"
        );
        eprintln!("skipped: the Diesel CLI is not installed");
        return;
    }
    // The template database is migrated as the application migrates.
    let output = Command::new("diesel")
        .args([
            "print-schema",
            "--database-url",
            &harness::url(harness::TEMPLATE),
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("diesel print-schema runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let committed =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/src/schema.rs")).unwrap();
    assert!(
        String::from_utf8_lossy(&output.stdout) == committed,
        "src/schema.rs differs from the migrations; regenerate it with `diesel print-schema > src/schema.rs`"
    );
}

#[actix_web::test]
async fn migrations_revert_and_reapply_cleanly() {
    let app = TestApp::spawn().await;
    let url = harness::url(&app.database);
    tokio::task::spawn_blocking(move || {
        use diesel::Connection;
        let mut conn =
            <AsyncConnectionWrapper<AsyncPgConnection> as Connection>::establish(&url).unwrap();
        let reverted = conn
            .revert_all_migrations(newsroom::db::MIGRATIONS)
            .unwrap()
            .len();
        assert!(reverted >= 2);
        let applied = conn
            .run_pending_migrations(newsroom::db::MIGRATIONS)
            .unwrap();
        assert_eq!(applied.len(), reverted);
    })
    .await
    .unwrap();
    assert_eq!(app.get("/api/v1/articles").await.status, 200);
}
