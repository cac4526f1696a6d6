//! Issue 10, part 1: partner API keys (admin API and `newsroom key …`),
//! how the public API takes them, and rate limits per key and per client
//! address, with the draft's `RateLimit` headers and 429 problems.

use std::io::Write;
use std::process::{Command, Stdio};

use diesel_async::RunQueryDsl;
use reqwest::Method;
use serde_json::{Value, json};

use crate::admin::{send, token_for};
use crate::harness::{self, Response, TestApp};

/// What a secret looks like: a recognisable prefix, then 8 + 43 characters.
fn is_secret(text: &str) -> bool {
    let Some(rest) = text.strip_prefix("nr_live_") else {
        return false;
    };
    let Some((lookup, random)) = rest.split_once('_') else {
        return false;
    };
    lookup.len() == 8
        && lookup
            .bytes()
            .all(|b| b.is_ascii_lowercase() || (b'2'..=b'7').contains(&b))
        && random.len() == 43
        && random.bytes().all(|b| b.is_ascii_alphanumeric())
}

async fn admin(app: &TestApp) -> String {
    token_for(app, "quan.tri@newsroom.test", "admin").await
}

async fn create_key(app: &TestApp, token: &str, body: Value) -> (i64, String) {
    let r = send(
        app,
        Method::POST,
        "/api/v1/admin/keys",
        Some(token),
        Some(body),
        &[],
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let secret = r.json["secret"].as_str().unwrap().to_owned();
    assert!(is_secret(&secret), "{secret}");
    (r.json["key"]["id"].as_i64().unwrap(), secret)
}

/// A public read with the key in `X-Api-Key`.
async fn read_with(app: &TestApp, path: &str, secret: &str) -> Response {
    app.request(Method::GET, path, &[("x-api-key", secret)])
        .await
}

/// A public read with the key in `Authorization`.
async fn read_with_bearer(app: &TestApp, path: &str, secret: &str) -> Response {
    let bearer = format!("Bearer {secret}");
    app.request(Method::GET, path, &[("authorization", &bearer)])
        .await
}

/// A 401 problem that serves nothing of what was asked.
fn assert_refused(r: &Response) {
    r.assert_problem(401, "unauthorized");
    assert!(r.json.get("items").is_none(), "{}", r.text);
    assert!(r.header("www-authenticate").is_some());
}

async fn demo(app: &TestApp) {
    let mut conn = app.conn().await;
    assert!(newsroom::seed::demo::load(&mut conn).await.unwrap());
}

async fn usage(app: &TestApp, token: &str, id: i64) -> (i64, i64) {
    let r = send(
        app,
        Method::GET,
        &format!("/api/v1/admin/keys/{id}/usage"),
        Some(token),
        None,
        &[],
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let items = r.json["items"].as_array().unwrap();
    (
        items.iter().map(|d| d["requests"].as_i64().unwrap()).sum(),
        items.iter().map(|d| d["limited"].as_i64().unwrap()).sum(),
    )
}

#[actix_web::test]
async fn admins_create_list_update_rotate_and_revoke_keys() {
    let app = TestApp::spawn().await;
    demo(&app).await;
    let token = admin(&app).await;
    let (id, secret) = create_key(
        &app,
        &token,
        json!({"name": "Báo Mới", "contact": "api@baomoi.example", "scopes": ["read"]}),
    )
    .await;

    // Listed and readable, never with the secret.
    let list = send(
        &app,
        Method::GET,
        "/api/v1/admin/keys",
        Some(&token),
        None,
        &[],
    )
    .await;
    assert_eq!(list.status, 200, "{}", list.text);
    let item = &list.json["items"][0];
    assert_eq!(item["id"], id);
    assert_eq!(item["name"], "Báo Mới");
    assert_eq!(item["scopes"], json!(["read"]));
    assert_eq!(item["status"], "active");
    assert_eq!(
        (item["per_minute"].as_i64(), item["burst"].as_i64()),
        (Some(1200), Some(120))
    );
    assert!(secret.starts_with(item["prefix"].as_str().unwrap()));
    let path = format!("/api/v1/admin/keys/{id}");
    let one = send(&app, Method::GET, &path, Some(&token), None, &[]).await;
    assert_eq!(one.json["contact"], "api@baomoi.example");
    let audit = send(
        &app,
        Method::GET,
        "/api/v1/admin/audit",
        Some(&token),
        None,
        &[],
    )
    .await;
    assert!(audit.text.contains("api_key"), "{}", audit.text);
    for text in [&list.text, &one.text, &audit.text] {
        assert!(!text.contains(&secret[17..]), "the secret leaked: {text}");
    }

    // Both header forms read, with the key's limit in the headers.
    for r in [
        read_with(&app, "/api/v1/articles?limit=2", &secret).await,
        read_with_bearer(&app, "/api/v1/articles?limit=2", &secret).await,
    ] {
        assert_eq!(r.status, 200, "{}", r.text);
        assert_eq!(r.json["items"].as_array().unwrap().len(), 2);
        assert_eq!(
            r.header("ratelimit-policy"),
            Some("\"partner\";q=1200;w=60;newsroom-burst=120")
        );
        assert!(
            r.header("ratelimit")
                .unwrap()
                .starts_with("\"partner\";r=11")
        );
    }

    // An update applies at once on this instance.
    let r = send(
        &app,
        Method::PATCH,
        &path,
        Some(&token),
        Some(json!({"name": "Báo Mới (app)", "per_minute": 300, "burst": 30, "scopes": ["read", "full_text"], "expires_at": "2030-01-01T00:00:00+07:00"})),
        &[],
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json["scopes"], json!(["read", "full_text"]));
    assert_eq!(r.json["expires_at"], "2029-12-31T17:00:00Z");
    let r = read_with(&app, "/api/v1/articles?limit=1", &secret).await;
    assert_eq!(
        r.header("ratelimit-policy"),
        Some("\"partner\";q=300;w=60;newsroom-burst=30")
    );

    // The largest limit is stored as it is (the table's own check agrees
    // with the API's), and set back.
    for per_minute in [60_000_000, 300] {
        let r = send(
            &app,
            Method::PATCH,
            &path,
            Some(&token),
            Some(json!({ "per_minute": per_minute })),
            &[],
        )
        .await;
        assert_eq!(r.status, 200, "{}", r.text);
        assert_eq!(r.json["per_minute"], per_minute);
    }

    // Bad input changes nothing.
    let before = send(&app, Method::GET, &path, Some(&token), None, &[])
        .await
        .json;
    for (body, status, field) in [
        (json!({"per_minute": -5}), 422, "per_minute"),
        (json!({"per_minute": 60_000_001}), 422, "per_minute"),
        (json!({"burst": 0}), 422, "burst"),
        (json!({"burst": 100_001}), 422, "burst"),
        (json!({"name": "x".repeat(201)}), 422, "name"),
        (json!({"name": "   "}), 422, "name"),
        (json!({"contact": "c".repeat(321)}), 422, "contact"),
        (json!({"scopes": ["read", "write"]}), 422, "scopes"),
        (json!({"expires_at": "tomorrow"}), 422, "expires_at"),
        (
            json!({"expires_at": "2001-01-01T00:00:00Z"}),
            422,
            "expires_at",
        ),
        (
            json!({"expires_at": "2999-01-01T00:00:00Z"}),
            422,
            "expires_at",
        ),
        (json!({"per_minute": 100, "name": ""}), 422, "name"),
        (json!({"secret": "mine"}), 400, ""),
        (json!({"per_minute": "many"}), 400, ""),
    ] {
        let r = send(
            &app,
            Method::PATCH,
            &path,
            Some(&token),
            Some(body.clone()),
            &[],
        )
        .await;
        let code = if status == 422 {
            "validation_failed"
        } else {
            "malformed_body"
        };
        r.assert_problem(status, code);
        if !field.is_empty() {
            assert!(
                r.json["errors"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|e| e["parameter"] == field),
                "{body}: {}",
                r.text
            );
        }
    }
    for body in [
        json!({"name": "y".repeat(100_000)}),
        json!({"name": "Ok", "per_minute": 0}),
        json!({"name": "Ok", "expires_at": "soon"}),
        json!({"contact": "no name"}),
    ] {
        let r = send(
            &app,
            Method::POST,
            "/api/v1/admin/keys",
            Some(&token),
            Some(body.clone()),
            &[],
        )
        .await;
        assert!(matches!(r.status.as_u16(), 400 | 422), "{body}: {}", r.text);
    }
    let after = send(&app, Method::GET, &path, Some(&token), None, &[])
        .await
        .json;
    assert_eq!(before, after);
    let list = send(
        &app,
        Method::GET,
        "/api/v1/admin/keys",
        Some(&token),
        None,
        &[],
    )
    .await;
    assert_eq!(list.json["items"].as_array().unwrap().len(), 1);

    // Rotation: a new secret, shown once; the old one stops working.
    let r = send(
        &app,
        Method::POST,
        &format!("{path}/rotate"),
        Some(&token),
        None,
        &[],
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let rotated = r.json["secret"].as_str().unwrap().to_owned();
    assert!(is_secret(&rotated) && rotated != secret);
    assert!(r.json["key"]["rotated_at"].is_string());
    assert_refused(&read_with(&app, "/api/v1/articles", &secret).await);
    assert_refused(&read_with_bearer(&app, "/api/v1/articles", &secret).await);
    assert_eq!(
        read_with(&app, "/api/v1/articles", &rotated).await.status,
        200
    );

    // Revocation: for good.
    let r = send(
        &app,
        Method::POST,
        &format!("{path}/revoke"),
        Some(&token),
        None,
        &[],
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json["status"], "revoked");
    let revoked_at = r.json["revoked_at"].clone();
    let refused = read_with(&app, "/api/v1/articles", &rotated).await;
    assert_refused(&refused);
    assert!(refused.json["detail"].as_str().unwrap().contains("revoked"));
    assert_refused(
        &read_with_bearer(&app, "/api/v1/articles/slug-that-does-not-matter", &rotated).await,
    );
    let again = send(
        &app,
        Method::POST,
        &format!("{path}/revoke"),
        Some(&token),
        None,
        &[],
    )
    .await;
    assert_eq!(again.json["revoked_at"], revoked_at);
    send(
        &app,
        Method::POST,
        &format!("{path}/rotate"),
        Some(&token),
        None,
        &[],
    )
    .await
    .assert_problem(409, "conflict");
    send(
        &app,
        Method::POST,
        "/api/v1/admin/keys/999/revoke",
        Some(&token),
        None,
        &[],
    )
    .await
    .assert_problem(404, "not_found");
}

#[actix_web::test]
async fn unknown_malformed_and_expired_keys_are_refused_and_staff_tokens_still_work() {
    // Keys read from the database on every request, so a change made
    // behind the server's back shows at once.
    let app = TestApp::spawn_with(newsroom::config::Settings {
        api_key_cache_secs: 0,
        ..harness::settings()
    })
    .await;
    demo(&app).await;
    let token = admin(&app).await;
    let (id, secret) = create_key(&app, &token, json!({"name": "Zalo"})).await;

    // Well-formed but never issued; malformed; another secret with the
    // same public prefix; two different keys at once.
    let forged = format!("{}{}", &secret[..17], "A".repeat(43));
    for bad in [
        "nr_live_abcdefgh_0123456789012345678901234567890123456789012".to_owned(),
        "abc".to_owned(),
        "nr_live_".to_owned(),
        forged,
    ] {
        assert_refused(&read_with(&app, "/api/v1/articles", &bad).await);
        // In `Authorization`, only what starts as a key is judged as one
        // (anything else is a staff token, or nothing, as before).
        if bad.starts_with("nr_live_") {
            assert_refused(&read_with_bearer(&app, "/api/v1/categories", &bad).await);
        }
    }
    let other = create_key(&app, &token, json!({"name": "Other"})).await.1;
    let both = app
        .request(
            Method::GET,
            "/api/v1/articles",
            &[
                ("x-api-key", &secret),
                ("authorization", &format!("Bearer {other}")),
            ],
        )
        .await;
    assert_refused(&both);
    // A public POST is refused too.
    let r = app
        .request(
            Method::POST,
            "/api/v1/articles/x/views",
            &[("x-api-key", "nope")],
        )
        .await;
    assert_refused(&r);

    // Expired.
    let mut conn = app.conn().await;
    diesel::sql_query("UPDATE api_keys SET expires_at = now() - interval '1 minute' WHERE id = $1")
        .bind::<diesel::sql_types::BigInt, _>(id)
        .execute(&mut conn)
        .await
        .unwrap();
    let r = read_with(&app, "/api/v1/articles", &secret).await;
    assert_refused(&r);
    assert!(
        r.json["detail"].as_str().unwrap().contains("expired"),
        "{}",
        r.text
    );
    let listed = send(
        &app,
        Method::GET,
        &format!("/api/v1/admin/keys/{id}"),
        Some(&token),
        None,
        &[],
    )
    .await;
    assert_eq!(listed.json["status"], "expired");

    // Staff access tokens work as before, on public and staff paths.
    let r = app
        .request(
            Method::GET,
            "/api/v1/articles",
            &[("authorization", &format!("Bearer {token}"))],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(r.header("ratelimit").is_none());
    let r = send(
        &app,
        Method::GET,
        "/api/v1/admin/articles",
        Some(&token),
        None,
        &[],
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    // A key is not a staff credential.
    let r = send(
        &app,
        Method::GET,
        "/api/v1/admin/keys",
        Some(&other),
        None,
        &[],
    )
    .await;
    r.assert_problem(401, "unauthorized");
}

#[actix_web::test]
async fn only_admins_manage_keys() {
    let app = TestApp::spawn().await;
    let token = admin(&app).await;
    let (id, _) = create_key(&app, &token, json!({"name": "Zalo"})).await;
    let editor = token_for(&app, "bien.tap@newsroom.test", "editor").await;
    let calls = [
        (
            Method::POST,
            "/api/v1/admin/keys".to_owned(),
            Some(json!({"name": "x"})),
        ),
        (Method::GET, "/api/v1/admin/keys".to_owned(), None),
        (Method::GET, format!("/api/v1/admin/keys/{id}"), None),
        (
            Method::PATCH,
            format!("/api/v1/admin/keys/{id}"),
            Some(json!({"burst": 5})),
        ),
        (
            Method::POST,
            format!("/api/v1/admin/keys/{id}/rotate"),
            None,
        ),
        (
            Method::POST,
            format!("/api/v1/admin/keys/{id}/revoke"),
            None,
        ),
        (Method::GET, format!("/api/v1/admin/keys/{id}/usage"), None),
    ];
    for (method, path, body) in calls {
        send(
            &app,
            method.clone(),
            &path,
            Some(&editor),
            body.clone(),
            &[],
        )
        .await
        .assert_problem(403, "forbidden");
        send(&app, method, &path, None, body, &[])
            .await
            .assert_problem(401, "unauthorized");
    }
    let r = send(
        &app,
        Method::GET,
        &format!("/api/v1/admin/keys/{id}"),
        Some(&token),
        None,
        &[],
    )
    .await;
    assert_eq!(
        (r.json["status"].as_str(), r.json["burst"].as_i64()),
        (Some("active"), Some(120))
    );
}

fn newsroom(app: &TestApp, args: &[&str]) -> (bool, String, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_newsroom"))
        .args(args)
        .env("DATABASE_URL", harness::url(&app.database))
        .env("RUST_LOG", "warn")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary runs");
    child.stdin.take().unwrap().write_all(b"").unwrap();
    let out = child.wait_with_output().unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn secret_in(stdout: &str) -> String {
    stdout
        .split_whitespace()
        .find(|w| w.starts_with("nr_live_") && w.len() > 30)
        .unwrap_or_else(|| panic!("no secret in {stdout}"))
        .to_owned()
}

#[actix_web::test]
async fn key_commands_create_list_rotate_and_revoke() {
    let app = TestApp::spawn_with(newsroom::config::Settings {
        api_key_cache_secs: 0,
        ..harness::settings()
    })
    .await;
    demo(&app).await;
    let (ok, out, err) = newsroom(
        &app,
        &[
            "key",
            "create",
            "--name",
            "Tin Nhanh",
            "--contact",
            "dev@tinnhanh.example",
            "--scope",
            "full_text",
            "--per-minute",
            "90",
            "--burst",
            "9",
            "--expires",
            "2030-01-01T00:00:00+07:00",
        ],
    );
    assert!(ok, "{err}");
    let secret = secret_in(&out);
    assert!(is_secret(&secret));
    assert!(out.contains("[read, full_text] 90/min, burst 9"), "{out}");
    let r = read_with(&app, "/api/v1/articles?limit=1", &secret).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(
        r.header("ratelimit-policy"),
        Some("\"partner\";q=90;w=60;newsroom-burst=9")
    );

    let (ok, list, _) = newsroom(&app, &["key", "list"]);
    assert!(
        ok && list.contains("Tin Nhanh") && list.contains("active"),
        "{list}"
    );
    assert!(
        !list.contains(&secret[17..]),
        "the list shows secrets: {list}"
    );
    let id = list.split('\t').next().unwrap().trim().to_owned();

    // Bad input: refused, nothing stored.
    for args in [
        vec!["key", "create", "--name", "x", "--per-minute=-5"],
        vec!["key", "create", "--name", "", "--burst", "3"],
        vec!["key", "create", "--name", "x", "--expires", "yesterday"],
        vec![
            "key",
            "create",
            "--name",
            "x",
            "--expires",
            "2001-01-01T00:00:00Z",
        ],
        vec!["key", "create", "--name", "x", "--scope", "write"],
        vec!["key", "rotate", "999"],
        vec!["key", "revoke", "999"],
    ] {
        let (ok, _, err) = newsroom(&app, &args);
        assert!(!ok, "{args:?} succeeded");
        assert!(!err.is_empty());
    }
    assert_eq!(newsroom(&app, &["key", "list"]).1.lines().count(), 1);

    let (ok, out, err) = newsroom(&app, &["key", "rotate", &id]);
    assert!(ok, "{err}");
    let rotated = secret_in(&out);
    assert_ne!(rotated, secret);
    assert_refused(&read_with(&app, "/api/v1/articles", &secret).await);
    assert_eq!(
        read_with(&app, "/api/v1/articles", &rotated).await.status,
        200
    );

    let (ok, out, err) = newsroom(&app, &["key", "revoke", &id]);
    assert!(ok && out.contains("revoked"), "{err}");
    assert_refused(&read_with_bearer(&app, "/api/v1/articles", &rotated).await);
    assert!(newsroom(&app, &["key", "list"]).1.contains("revoked"));
    assert!(
        !newsroom(&app, &["key", "rotate", &id]).0,
        "a revoked key was rotated"
    );
}

fn limited_settings() -> newsroom::config::Settings {
    newsroom::config::Settings {
        anon_per_minute: 60,
        anon_burst: 3,
        // The test client is the trusted proxy, so `X-Forwarded-For` names
        // the (pretend) client address.
        trusted_proxies: vec!["127.0.0.1/32".parse().unwrap()],
        cors: newsroom::http::cors::CorsOrigins::parse(&["*".to_owned()]).unwrap(),
        ..harness::settings()
    }
}

async fn from(app: &TestApp, address: &str, extra: &[(&str, &str)]) -> Response {
    let mut headers = vec![("x-forwarded-for", address)];
    headers.extend_from_slice(extra);
    app.request(Method::GET, "/api/v1/categories", &headers)
        .await
}

#[actix_web::test]
async fn a_burst_then_429_with_retry_after_in_separate_buckets() {
    let app = TestApp::spawn_with(limited_settings()).await;
    demo(&app).await;
    let token = admin(&app).await;

    // An anonymous address: its burst, then a 429 problem.
    let mut remaining = Vec::new();
    for _ in 0..3 {
        let r = from(&app, "203.0.113.1", &[]).await;
        assert_eq!(r.status, 200, "{}", r.text);
        assert_eq!(
            r.header("ratelimit-policy"),
            Some("\"anonymous\";q=60;w=60;newsroom-burst=3")
        );
        remaining.push(r.header("ratelimit").unwrap().to_owned());
    }
    assert_eq!(
        remaining,
        [
            "\"anonymous\";r=2;t=1",
            "\"anonymous\";r=1;t=1",
            "\"anonymous\";r=0;t=1"
        ]
    );
    let r = from(&app, "203.0.113.1", &[("origin", "https://app.example.vn")]).await;
    r.assert_problem(429, "rate_limited");
    let retry: u64 = r.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=60).contains(&retry));
    assert_eq!(
        r.header("ratelimit"),
        Some(&*format!("\"anonymous\";r=0;t={retry}"))
    );
    assert!(r.header("ratelimit-policy").is_some());
    assert!(r.json.get("items").is_none());
    // Browsers may read the limit headers of a refusal.
    let exposed = r
        .header("access-control-expose-headers")
        .unwrap()
        .to_lowercase();
    assert!(
        exposed.contains("ratelimit") && exposed.contains("retry-after"),
        "{exposed}"
    );

    // Another address has a bucket of its own.
    assert_eq!(from(&app, "203.0.113.2", &[]).await.status, 200);
    // An invalid bearer token is an anonymous read; a staff token is not limited.
    from(
        &app,
        "203.0.113.1",
        &[("authorization", "Bearer not-a-token")],
    )
    .await
    .assert_problem(429, "rate_limited");
    let bearer = format!("Bearer {token}");
    let staff = from(&app, "203.0.113.1", &[("authorization", &bearer)]).await;
    assert_eq!(staff.status, 200, "{}", staff.text);
    assert!(staff.header("ratelimit").is_none());

    // Each key has its own bucket, whatever address it comes from.
    let (a_id, a) = create_key(
        &app,
        &token,
        json!({"name": "A", "per_minute": 60, "burst": 2}),
    )
    .await;
    let (_, b) = create_key(
        &app,
        &token,
        json!({"name": "B", "per_minute": 60, "burst": 2}),
    )
    .await;
    for _ in 0..2 {
        let r = from(&app, "203.0.113.1", &[("x-api-key", &a)]).await;
        assert_eq!(r.status, 200, "{}", r.text);
        assert!(r.header("ratelimit").unwrap().starts_with("\"partner\";"));
    }
    let r = from(
        &app,
        "203.0.113.9",
        &[("authorization", &format!("Bearer {a}"))],
    )
    .await;
    r.assert_problem(429, "rate_limited");
    assert!(r.header("retry-after").is_some());
    assert!(r.json["detail"].as_str().unwrap().contains("this API key"));
    assert_eq!(
        from(&app, "203.0.113.1", &[("x-api-key", &b)]).await.status,
        200
    );

    // Counted per day, refusals too, once written.
    assert_eq!(usage(&app, &token, a_id).await, (3, 1));
}

#[actix_web::test]
async fn forwarding_headers_count_only_from_trusted_proxies() {
    let app = TestApp::spawn_with(newsroom::config::Settings {
        trusted_proxies: Vec::new(),
        // Nothing refills during the test, however slow the machine.
        anon_per_minute: 1,
        ..limited_settings()
    })
    .await;
    for i in 0..3 {
        let r = from(&app, &format!("203.0.113.{i}"), &[]).await;
        assert_eq!(r.status, 200, "{}", r.text);
    }
    // Another claimed address buys no fresh bucket: the peer is the client.
    from(&app, "198.51.100.7", &[])
        .await
        .assert_problem(429, "rate_limited");
    // Unknown keys count against the address as well: guessing is limited.
    let guess = "nr_live_abcdefgh_0123456789012345678901234567890123456789012";
    let r = from(&app, "198.51.100.8", &[("x-api-key", guess)]).await;
    r.assert_problem(429, "rate_limited");
}

#[actix_web::test]
async fn keyed_reads_are_served_from_the_cache_and_still_counted() {
    let app = TestApp::spawn_with(newsroom::config::Settings {
        cache_ttl_secs: 60,
        ..harness::settings()
    })
    .await;
    demo(&app).await;
    let token = admin(&app).await;
    let (id, secret) = create_key(
        &app,
        &token,
        json!({"name": "Cache", "per_minute": 60, "burst": 3}),
    )
    .await;
    let path = "/api/v1/articles?limit=3";
    let first = read_with(&app, path, &secret).await;
    assert_eq!(first.status, 200, "{}", first.text);
    assert_eq!(first.header("x-cache"), Some("miss"));
    let second = read_with_bearer(&app, path, &secret).await;
    assert_eq!(
        second.header("x-cache"),
        Some("hit"),
        "{:?}",
        second.headers
    );
    assert_eq!(second.text, first.text);
    assert_eq!(second.header("etag"), first.header("etag"));
    assert!(second.header("cache-control").unwrap().contains("public"));
    // The same copy as anonymous readers get.
    assert_eq!(app.get(path).await.header("x-cache"), Some("hit"));
    // The key is checked before the cache answers: over its limit, refused.
    let third = read_with(&app, path, &secret).await;
    assert_eq!(third.status, 200);
    read_with(&app, path, &secret)
        .await
        .assert_problem(429, "rate_limited");
    // Unknown keys get nothing, cached or not.
    assert_refused(&read_with(&app, path, &format!("{}{}", &secret[..17], "B".repeat(43))).await);
    assert_eq!(usage(&app, &token, id).await, (4, 1));

    // A `full_text` key may get other content than everyone else: the
    // shared cache neither serves nor keeps its answers.
    let (_, full) = create_key(
        &app,
        &token,
        json!({"name": "Full", "scopes": ["read", "full_text"]}),
    )
    .await;
    let path = "/api/v1/categories";
    let r = read_with(&app, path, &full).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.header("x-cache"), None);
    assert_eq!(r.header("cache-control"), Some("private, no-cache"));
    assert_eq!(app.get(path).await.header("x-cache"), Some("miss"));
    assert_eq!(
        read_with_bearer(&app, path, &full).await.header("x-cache"),
        None
    );
}
