//! Issue 10, §4: the change feed, and 410 for articles taken down.

use std::collections::BTreeMap;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::Utc;
use diesel_async::RunQueryDsl;
use reqwest::Method;
use serde_json::{Value, json};

use crate::admin::{create, draft, send, site, token_for};
use crate::harness::TestApp;

/// A client's copy: id → title.
type Copy = BTreeMap<i64, String>;

async fn post(app: &TestApp, token: &str, path: &str, body: Option<Value>) -> Value {
    let r = send(app, Method::POST, path, Some(token), body, &[]).await;
    assert!(
        r.status.is_success() || r.status.is_redirection(),
        "{path}: {} {}",
        r.status,
        r.text
    );
    r.json
}

async fn publish(app: &TestApp, token: &str, id: i64) {
    post(
        app,
        token,
        &format!("/api/v1/admin/articles/{id}/publish"),
        None,
    )
    .await;
}

async fn unpublish(app: &TestApp, token: &str, id: i64) {
    post(
        app,
        token,
        &format!("/api/v1/admin/articles/{id}/unpublish"),
        None,
    )
    .await;
}

async fn schedule(app: &TestApp, token: &str, id: i64, seconds: i64) {
    let at = Utc::now() + chrono::Duration::seconds(seconds);
    post(
        app,
        token,
        &format!("/api/v1/admin/articles/{id}/schedule"),
        Some(json!({"at": at.to_rfc3339()})),
    )
    .await;
}

async fn new_article(app: &TestApp, token: &str, title: &str) -> (i64, String) {
    let r = create(app, token, draft(title)).await;
    assert_eq!(r.status, 201, "{}", r.text);
    (
        r.json["id"].as_i64().unwrap(),
        r.json["slug"].as_str().unwrap().to_owned(),
    )
}

async fn start(app: &TestApp, filter: &str) -> String {
    let r = app.get(&format!("/api/v1/changes?{filter}")).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json["changes"], json!([]));
    r.json["next"].as_str().unwrap().to_owned()
}

/// Waits until no transaction still running (in any database of the
/// cluster) is older than the newest change.
async fn until_horizon_passes_every_change(app: &TestApp) {
    #[derive(diesel::QueryableByName)]
    struct Passed {
        #[diesel(sql_type = diesel::sql_types::Bool)]
        passed: bool,
    }
    use diesel_async::RunQueryDsl;
    let mut conn = app.conn().await;
    for _ in 0..200 {
        let row: Passed = diesel::sql_query(
            "SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint \
             > coalesce((SELECT max(txid) FROM article_changes), 0) AS passed",
        )
        .get_result(&mut conn)
        .await
        .unwrap();
        if row.passed {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("a transaction elsewhere in the cluster ran for 10 s");
}

/// Applies pages from `token` until none has more; the token after them.
async fn sync(app: &TestApp, token: &str, filter: &str, copy: &mut Copy) -> String {
    let mut token = token.to_owned();
    loop {
        let r = app
            .get(&format!("/api/v1/changes?since={token}&limit=3&{filter}"))
            .await;
        assert_eq!(r.status, 200, "{}", r.text);
        if std::env::var("DEBUG_FEED").is_ok() {
            eprintln!(
                "{filter} {token} -> {}",
                r.text.chars().take(600).collect::<String>()
            );
        }
        for change in r.json["changes"].as_array().unwrap() {
            let id = change["id"].as_i64().unwrap();
            match change["action"].as_str().unwrap() {
                "upsert" => {
                    assert_eq!(change["article"]["id"], id);
                    copy.insert(id, change["article"]["title"].as_str().unwrap().into());
                }
                "remove" => {
                    copy.remove(&id);
                }
                other => panic!("action {other}"),
            }
        }
        token = r.json["next"].as_str().unwrap().to_owned();
        if r.json["has_more"] == false {
            return token;
        }
    }
}

/// The public set as the list shows it (one page holds it here).
async fn public(app: &TestApp, filter: &str) -> Copy {
    let r = app
        .get(&format!("/api/v1/articles?limit=100&{filter}"))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(r.json["next_cursor"].is_null());
    r.json["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            (
                i["id"].as_i64().unwrap(),
                i["title"].as_str().unwrap().into(),
            )
        })
        .collect()
}

#[actix_web::test]
async fn a_client_that_follows_the_feed_ends_with_the_public_set() {
    let app = TestApp::spawn().await;
    site(&app).await;
    let mut conn = app.conn().await;
    crate::fixtures::category(&mut conn, "Kinh tế", None).await;
    let editor = token_for(&app, "bt@newsroom.test", "editor").await;
    let admin = token_for(&app, "admin@newsroom.test", "admin").await;
    let mut ids = Vec::new();
    for i in 0..8 {
        let (id, _) = new_article(&app, &editor, &format!("Bài số {i}")).await;
        if i < 4 {
            publish(&app, &editor, id).await;
        }
        ids.push(id);
    }
    // A client takes a token, then downloads the list: one whole and one
    // within a section.
    let filters = ["", "category=xa-hoi"];
    let mut clients = Vec::new();
    for filter in filters {
        let token = start(&app, filter).await;
        clients.push((filter, token, public(&app, filter).await));
    }

    // Writers change everything while the clients sync.
    let writers = {
        let (app, editor, admin, ids) = (&app, &editor, &admin, &ids);
        async move {
            for round in 0..3 {
                for (k, &id) in ids.iter().enumerate() {
                    match (round + k) % 6 {
                        0 => {
                            crate::hardening::patch(
                                app,
                                editor,
                                id,
                                json!({"title": format!("Sửa {round}-{k}")}),
                            )
                            .await;
                        }
                        1 => {
                            send(
                                app,
                                Method::POST,
                                &format!("/api/v1/admin/articles/{id}/publish"),
                                Some(editor.as_str()),
                                None,
                                &[],
                            )
                            .await;
                        }
                        2 => {
                            send(
                                app,
                                Method::POST,
                                &format!("/api/v1/admin/articles/{id}/unpublish"),
                                Some(editor.as_str()),
                                None,
                                &[],
                            )
                            .await;
                        }
                        3 => {
                            // Out of the filtered section and back in later.
                            let to = if round % 2 == 0 { "kinh-te" } else { "dan-so" };
                            crate::hardening::patch(app, editor, id, json!({"category": to})).await;
                        }
                        4 => {
                            let at = Utc::now() + chrono::Duration::seconds(2);
                            send(
                                app,
                                Method::POST,
                                &format!("/api/v1/admin/articles/{id}/unpublish"),
                                Some(editor.as_str()),
                                None,
                                &[],
                            )
                            .await;
                            send(
                                app,
                                Method::POST,
                                &format!("/api/v1/admin/articles/{id}/schedule"),
                                Some(editor.as_str()),
                                Some(json!({"at": at.to_rfc3339()})),
                                &[],
                            )
                            .await;
                        }
                        _ => {}
                    }
                }
            }
            // One deleted for good.
            let r = send(
                app,
                Method::DELETE,
                &format!("/api/v1/admin/articles/{}?hard=true", ids[0]),
                Some(admin.as_str()),
                None,
                &[],
            )
            .await;
            assert_eq!(r.status, 204, "{}", r.text);
        }
    };
    let syncing = {
        let app = &app;
        let mut clients = clients.clone();
        async move {
            for _ in 0..30 {
                for (filter, token, copy) in clients.iter_mut() {
                    *token = sync(app, token, filter, copy).await;
                }
                tokio::time::sleep(Duration::from_millis(30)).await;
            }
            clients
        }
    };
    let ((), synced) = tokio::join!(writers, syncing);
    // Scheduled articles come due; then every client catches up.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    // The feed waits behind any write transaction still running in the
    // cluster (other tests' too), so a client may need a few more calls.
    for (filter, mut token, mut copy) in synced {
        let expected = public(&app, filter).await;
        assert!(!expected.is_empty(), "{filter}: something stays public");
        for _ in 0..50 {
            token = sync(&app, &token, filter, &mut copy).await;
            if copy == expected {
                break;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        assert_eq!(copy, expected, "the copy for `{filter}` converged");
    }
}

#[actix_web::test]
async fn a_change_that_commits_late_is_not_skipped() {
    let app = TestApp::spawn().await;
    site(&app).await;
    let editor = token_for(&app, "bt@newsroom.test", "editor").await;
    let (early, _) = new_article(&app, &editor, "Ghi trước, xong sau").await;
    let (late, _) = new_article(&app, &editor, "Ghi sau, xong trước").await;
    publish(&app, &editor, early).await;
    publish(&app, &editor, late).await;
    // The horizon is the whole cluster's: another test's transaction may
    // hold it behind the publishes, and a position taken then would hand
    // them out below.
    until_horizon_passes_every_change(&app).await;
    let token = start(&app, "").await;

    // A change that starts first and commits last, beside one through the
    // API that starts later and commits first.
    let mut slow = app.conn().await;
    for statement in [
        "BEGIN".to_owned(),
        format!("INSERT INTO article_changes (article_id) VALUES ({early})"),
    ] {
        diesel::sql_query(statement)
            .execute(&mut slow)
            .await
            .unwrap();
    }
    let r = crate::hardening::patch(&app, &editor, late, json!({"title": "Sửa sớm"})).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let mut copy = Copy::new();
    let token = sync(&app, &token, "", &mut copy).await;
    assert!(
        copy.is_empty(),
        "nothing past a transaction still running is handed out: {copy:?}"
    );
    diesel::sql_query("COMMIT")
        .execute(&mut slow)
        .await
        .unwrap();
    sync(&app, &token, "", &mut copy).await;
    let want: Copy = [
        (early, "Ghi trước, xong sau".into()),
        (late, "Sửa sớm".into()),
    ]
    .into();
    assert_eq!(copy, want);
}

#[actix_web::test]
async fn an_article_taken_down_answers_410_and_one_never_public_404() {
    let app = TestApp::spawn().await;
    site(&app).await;
    let editor = token_for(&app, "bt@newsroom.test", "editor").await;
    let admin = token_for(&app, "admin@newsroom.test", "admin").await;
    let (id, slug) = new_article(&app, &editor, "Bài sẽ gỡ").await;
    let (_, draft_slug) = new_article(&app, &editor, "Bản nháp").await;
    app.get(&format!("/api/v1/articles/{draft_slug}"))
        .await
        .assert_problem(404, "not_found");
    publish(&app, &editor, id).await;
    assert_eq!(
        app.get(&format!("/api/v1/articles/{slug}")).await.status,
        200
    );

    unpublish(&app, &editor, id).await;
    app.get(&format!("/api/v1/articles/{slug}"))
        .await
        .assert_problem(410, "gone");
    app.get(&format!("/api/v1/articles/id/{id}"))
        .await
        .assert_problem(410, "gone");
    // Back, then moved to a later date: gone again until then.
    publish(&app, &editor, id).await;
    assert_eq!(
        app.get(&format!("/api/v1/articles/{slug}")).await.status,
        200
    );
    unpublish(&app, &editor, id).await;
    schedule(&app, &editor, id, 3600).await;
    app.get(&format!("/api/v1/articles/{slug}"))
        .await
        .assert_problem(410, "gone");
    // Deleted for good: still 410 while the tombstone is kept.
    let r = send(
        &app,
        Method::DELETE,
        &format!("/api/v1/admin/articles/{id}?hard=true"),
        Some(&admin),
        None,
        &[],
    )
    .await;
    assert_eq!(r.status, 204, "{}", r.text);
    app.get(&format!("/api/v1/articles/{slug}"))
        .await
        .assert_problem(410, "gone");
    app.get(&format!("/api/v1/articles/id/{id}"))
        .await
        .assert_problem(410, "gone");
}

#[actix_web::test]
async fn bad_tokens_and_parameters_are_problems_and_old_tokens_410() {
    let app = TestApp::spawn().await;
    site(&app).await;
    let token = start(&app, "").await;
    let forge = |key: &str| URL_SAFE_NO_PAD.encode(format!("1|changes|{key}"));
    let now = Utc::now().timestamp_micros();
    let old = (Utc::now() - chrono::Duration::days(40)).timestamp_micros();
    for bad in [
        "x".to_owned(),
        "A".repeat(500),
        URL_SAFE_NO_PAD.encode(format!("1|a-pub|{now}|1")),
        forge("1|2|3"),
        forge(&format!("+1|2|{now}|4|{now}")),
        forge(&format!("1|2|{}|4|{now}", i64::MAX)),
    ] {
        app.get(&format!("/api/v1/changes?since={bad}"))
            .await
            .assert_problem(400, "invalid_parameter");
    }
    app.get(&format!(
        "/api/v1/changes?since={}",
        forge(&format!("1|2|{now}|4|{old}"))
    ))
    .await
    .assert_problem(410, "gone");
    for (query, status, code) in [
        (format!("since={token}&limit=0"), 400, "invalid_parameter"),
        (format!("since={token}&limit=501"), 400, "invalid_parameter"),
        (format!("since={token}&category=khong-co"), 404, "not_found"),
        (format!("since={token}&tag=khong-co"), 404, "not_found"),
        (format!("since={token}&sort=x"), 400, "invalid_parameter"),
    ] {
        app.get(&format!("/api/v1/changes?{query}"))
            .await
            .assert_problem(status, code);
    }
    let r = app
        .get(&format!("/api/v1/changes?since={token}&utm_source=zalo"))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
}

/// Syncs until the copy is the public set (a moment's wait: the feed only
/// hands out rows below the oldest transaction still running, and other
/// tests write in the same cluster).
async fn converge(app: &TestApp, token: &mut String, filter: &str, copy: &mut Copy) {
    for _ in 0..50 {
        *token = sync(app, token, filter, copy).await;
        if *copy == public(app, filter).await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(*copy, public(app, filter).await, "{filter}");
}

#[actix_web::test]
async fn moving_or_deleting_a_category_reaches_clients_that_filter_by_category() {
    let app = TestApp::spawn().await;
    site(&app).await;
    let admin = token_for(&app, "admin@newsroom.test", "admin").await;
    let r = send(
        &app,
        Method::POST,
        "/api/v1/admin/categories",
        Some(&admin),
        Some(json!({"name": "Thế giới"})),
        &[],
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.text);
    for title in ["Dân số già", "Mức sinh thấp"] {
        let (id, _) = new_article(&app, &admin, title).await;
        publish(&app, &admin, id).await;
    }
    let dan_so = app.get("/api/v1/categories/dan-so").await.json["id"]
        .as_i64()
        .unwrap();

    // Two clients, one per root category, each with its copy.
    let mut clients = Vec::new();
    for filter in ["category=xa-hoi", "category=the-gioi"] {
        let token = start(&app, filter).await;
        let copy = public(&app, filter).await;
        clients.push((filter, token, copy));
    }
    assert_eq!(clients[0].2.len(), 2);
    assert!(clients[1].2.is_empty());

    // "Dân số" moves from under "Xã hội" to under "Thế giới".
    let r = send(
        &app,
        Method::PATCH,
        &format!("/api/v1/admin/categories/{dan_so}"),
        Some(&admin),
        Some(json!({"parent": "the-gioi"})),
        &[],
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    for (filter, token, copy) in &mut clients {
        converge(&app, token, filter, copy).await;
    }
    assert!(clients[0].2.is_empty(), "{:?}", clients[0].2);
    assert_eq!(clients[1].2.len(), 2);

    // Deleted, its articles moved back under "Xã hội".
    let r = send(
        &app,
        Method::DELETE,
        &format!("/api/v1/admin/categories/{dan_so}?move_to=xa-hoi"),
        Some(&admin),
        None,
        &[],
    )
    .await;
    assert_eq!(r.status, 204, "{}", r.text);
    for (filter, token, copy) in &mut clients {
        converge(&app, token, filter, copy).await;
    }
    assert_eq!(clients[0].2.len(), 2);
    assert!(clients[1].2.is_empty(), "{:?}", clients[1].2);
}
