//! Issue 8: one regression test per finding of the security review, each
//! through real HTTP (or, for the private cluster, through PostgreSQL
//! itself), each failing on the code the review found.

use std::time::Duration;

use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use reqwest::Method;
use serde_json::{Value, json};

use crate::admin::{PASSWORD, create, draft, login, send, site, staff, token_for};
use crate::fixtures::{self, Article};
use crate::harness::{self, TestApp};

async fn article_id(app: &TestApp, token: &str, title: &str) -> i64 {
    let r = create(app, token, draft(title)).await;
    assert_eq!(r.status, 201, "{}", r.text);
    r.json["id"].as_i64().unwrap()
}

async fn publish(app: &TestApp, token: &str, id: i64) {
    let r = send(
        app,
        Method::POST,
        &format!("/api/v1/admin/articles/{id}/publish"),
        Some(token),
        None,
        &[],
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
}

pub(crate) async fn patch(app: &TestApp, token: &str, id: i64, body: Value) -> harness::Response {
    let current = send(
        app,
        Method::GET,
        &format!("/api/v1/admin/articles/{id}"),
        Some(token),
        None,
        &[],
    )
    .await;
    let etag = current.header("etag").unwrap_or("\"v0\"").to_owned();
    send(
        app,
        Method::PATCH,
        &format!("/api/v1/admin/articles/{id}"),
        Some(token),
        Some(body),
        &[("if-match", &etag)],
    )
    .await
}

// 1. The private cluster asks everyone for a password, and the application
// role is not a superuser.
#[actix_web::test]
async fn the_private_cluster_needs_a_password_and_the_app_is_no_superuser() {
    let app_url = harness::url(harness::TEMPLATE);
    let without_password = app_url.replacen(
        &app_url[app_url.find("://").unwrap() + 3..app_url.find('@').unwrap()],
        "postgres",
        1,
    );
    assert!(
        AsyncPgConnection::establish(&without_password)
            .await
            .is_err(),
        "the superuser got in without a password"
    );
    let mut conn = AsyncPgConnection::establish(&app_url).await.unwrap();
    #[derive(diesel::QueryableByName)]
    struct Flag {
        #[diesel(sql_type = diesel::sql_types::Bool)]
        rolsuper: bool,
    }
    let flag: Flag =
        diesel::sql_query("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
            .get_result(&mut conn)
            .await
            .unwrap();
    assert!(!flag.rolsuper);
    let program = diesel::sql_query("COPY (SELECT 1) TO PROGRAM 'true'")
        .execute(&mut conn)
        .await;
    assert!(program.is_err(), "the application role may run programs");
}

// 2. A planted data folder is refused, and a postmaster.pid naming another
// user's process is not attached to.
#[test]
fn a_planted_data_folder_or_postmaster_is_not_trusted() {
    use newsroom::db::{ClusterOptions, EmbeddedPostgres};
    use std::os::unix::fs::PermissionsExt;
    let root = std::env::temp_dir().join(format!("newsroom-planted-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    std::fs::create_dir_all(&root).unwrap();
    let options = ClusterOptions { ephemeral: true };

    // A folder someone else made (here: `nobody`) is not taken over.
    let planted = root.join("planted");
    std::fs::create_dir(&planted).unwrap();
    std::fs::set_permissions(&planted, std::fs::Permissions::from_mode(0o777)).unwrap();
    let chowned = std::process::Command::new("chown")
        .args(["nobody:", planted.to_str().unwrap()])
        .status()
        .is_ok_and(|s| s.success());
    // Only root can give a folder away; as anyone else, folders of other
    // users are what already exists on the machine.
    if chowned {
        let refused = EmbeddedPostgres::start(&planted, options).expect_err("a planted folder");
        assert!(format!("{refused:#}").contains("refusing"), "{refused:#}");
    }

    // Our own cluster, stopped; then a postmaster.pid naming a process of
    // another user (init, root's; the cluster's owner is `postgres` when
    // the tests run as root, else the user running them) on a port that
    // answers.
    let own = root.join("own");
    let mut first = EmbeddedPostgres::start(&own, options).expect("a cluster");
    let data_dir = first.data_dir().to_path_buf();
    first.stop();
    let decoy = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let decoy_port = decoy.local_addr().unwrap().port();
    std::fs::write(
        data_dir.join("postmaster.pid"),
        format!(
            "1\n{}\n1700000000\n{decoy_port}\n\n127.0.0.1\n0 0\nready\n",
            data_dir.display()
        ),
    )
    .unwrap();
    let mut second = EmbeddedPostgres::start(&own, options).expect("starts its own");
    assert_ne!(second.port(), decoy_port, "attached to a foreign process");
    second.stop();
    let _ = std::fs::remove_dir_all(&root);
    let _ = std::fs::remove_dir_all(&data_dir);
}

// 3. Throttling: forwarded addresses count only from trusted proxies, and a
// guesser behind the balancer does not lock out staff at other addresses.
#[actix_web::test]
async fn forwarded_addresses_are_believed_only_from_trusted_proxies() {
    // Guesses at once, so that no wait can pass meanwhile: how many were
    // admitted and how many throttled (429).
    async fn burst(app: &TestApp, email: &str, forwarded_for: &[String]) -> (usize, usize) {
        let guesses = forwarded_for.iter().map(|xff| async move {
            send(
                app,
                Method::POST,
                "/api/v1/auth/login",
                None,
                Some(json!({"email": email, "password": "sai"})),
                &[("x-forwarded-for", xff)],
            )
            .await
        });
        let statuses: Vec<u16> = futures_util::future::join_all(guesses)
            .await
            .iter()
            .map(|r| r.status.as_u16())
            .collect();
        let count = |s: u16| statuses.iter().filter(|x| **x == s).count();
        // Admitted guesses are checked (401), or, on a machine too slow to
        // hash them in time, answered 503 by the hash queue's bound.
        (count(401) + count(503), count(429))
    }
    // No proxy trusted: rotating X-Forwarded-For does not buy more guesses.
    let app = TestApp::spawn().await;
    staff(&app, "bien.tap@newsroom.test", "editor").await;
    let rotating: Vec<String> = (0..8).map(|i| format!("203.0.113.{i}")).collect();
    assert_eq!(
        burst(&app, "bien.tap@newsroom.test", &rotating).await,
        (5, 3)
    );

    // The balancer (loopback) trusted: a guesser's address is throttled on
    // its own; the owner, elsewhere, signs in at once.
    let app = TestApp::spawn_with(newsroom::config::Settings {
        trusted_proxies: vec!["127.0.0.0/8".parse().unwrap()],
        ..harness::settings()
    })
    .await;
    staff(&app, "quan.tri@newsroom.test", "admin").await;
    let attacker = vec!["198.51.100.66".to_owned(); 10];
    assert_eq!(
        burst(&app, "quan.tri@newsroom.test", &attacker).await,
        (5, 5)
    );
    let owner = send(
        &app,
        Method::POST,
        "/api/v1/auth/login",
        None,
        Some(json!({"email": "quan.tri@newsroom.test", "password": PASSWORD})),
        &[("x-forwarded-for", "192.0.2.10")],
    )
    .await;
    assert_eq!(owner.status, 200, "{}", owner.text);
}

// 4. An access token dies with its sign-in: logout, refresh-token reuse and
// a password reset.
#[actix_web::test]
async fn access_tokens_die_with_their_sign_in() {
    let app = TestApp::spawn().await;
    site(&app).await;
    staff(&app, "bien.tap@newsroom.test", "editor").await;
    let admin = token_for(&app, "quan.tri@newsroom.test", "admin").await;
    let works = |token: String| {
        let app = &app;
        async move {
            send(
                app,
                Method::GET,
                "/api/v1/admin/articles",
                Some(&token),
                None,
                &[],
            )
            .await
            .status
            .as_u16()
        }
    };
    let token = |v: &Value| v["access_token"].as_str().unwrap().to_owned();
    let refresh = |v: &Value| json!({"refresh_token": v["refresh_token"]});

    // Logout.
    let signed_in = login(&app, "bien.tap@newsroom.test").await;
    assert_eq!(works(token(&signed_in)).await, 200);
    let out = send(
        &app,
        Method::POST,
        "/api/v1/auth/logout",
        None,
        Some(refresh(&signed_in)),
        &[],
    )
    .await;
    assert_eq!(out.status, 204);
    assert_eq!(works(token(&signed_in)).await, 401);

    // Reuse of a rotated refresh token ends the sign-in, new tokens included.
    let signed_in = login(&app, "bien.tap@newsroom.test").await;
    let rotated = send(
        &app,
        Method::POST,
        "/api/v1/auth/refresh",
        None,
        Some(refresh(&signed_in)),
        &[],
    )
    .await;
    assert_eq!(rotated.status, 200);
    assert_eq!(works(token(&rotated.json)).await, 200);
    let reuse = send(
        &app,
        Method::POST,
        "/api/v1/auth/refresh",
        None,
        Some(refresh(&signed_in)),
        &[],
    )
    .await;
    reuse.assert_problem(401, "unauthorized");
    assert_eq!(works(token(&signed_in)).await, 401);
    assert_eq!(works(token(&rotated.json)).await, 401);

    // A password reset by an admin.
    let signed_in = login(&app, "bien.tap@newsroom.test").await;
    let id = signed_in["user"]["id"].as_i64().unwrap();
    let reset = send(
        &app,
        Method::PATCH,
        &format!("/api/v1/admin/users/{id}"),
        Some(&admin),
        Some(json!({"password": "một-mật-khẩu-mới-dài"})),
        &[],
    )
    .await;
    assert_eq!(reset.status, 200, "{}", reset.text);
    assert_eq!(works(token(&signed_in)).await, 401);
    // The reason is not told.
    let r = send(
        &app,
        Method::GET,
        "/api/v1/admin/articles",
        Some(&token(&signed_in)),
        None,
        &[],
    )
    .await;
    assert_eq!(
        r.json["detail"],
        "authentication required: the access token is not valid"
    );
}

// 5. A huge list is refused at its size, before any other work.
#[actix_web::test]
async fn oversized_lists_are_refused_before_any_work() {
    let app = TestApp::spawn().await;
    site(&app).await;
    let token = token_for(&app, "bien.tap@newsroom.test", "editor").await;
    let id = article_id(&app, &token, "Bài có liên quan").await;
    let ids: Vec<i64> = (1..=230_000).collect();
    let r = send(
        &app,
        Method::PUT,
        &format!("/api/v1/admin/articles/{id}/related"),
        Some(&token),
        Some(json!({"articles": ids})),
        &[],
    )
    .await;
    r.assert_problem(422, "validation_failed");
    assert!(r.text.len() < 1000, "a {} byte error", r.text.len());
    let tags: Vec<String> = (0..500).map(|i| format!("the-{i}")).collect();
    patch(&app, &token, id, json!({"tags": tags}))
        .await
        .assert_problem(422, "validation_failed");
}

// 6. Logins of any outcome are limited per address.
#[actix_web::test]
async fn successful_logins_are_limited_too() {
    let app = TestApp::spawn().await;
    staff(&app, "bien.tap@newsroom.test", "editor").await;
    // At once: the attempts are counted before any password is checked.
    let logins = (0..40).map(|_| {
        send(
            &app,
            Method::POST,
            "/api/v1/auth/login",
            None,
            Some(json!({"email": "bien.tap@newsroom.test", "password": PASSWORD})),
            &[],
        )
    });
    let answers = futures_util::future::join_all(logins).await;
    let count = |s: u16| answers.iter().filter(|r| r.status == s).count();
    // On a machine too slow to hash the admitted ones in time, the hash
    // queue's bound answers 503 "too many sign-ins at once": still not in.
    assert_eq!(count(200) + count(429) + count(503), 40);
    assert!(
        count(200) >= 1 && count(429) >= 10,
        "{} in, {} throttled",
        count(200),
        count(429)
    );
}

// 7. One address cannot rig "Đọc nhiều" by rotating its other headers.
#[actix_web::test]
async fn one_address_counts_a_bounded_number_of_views() {
    let app = TestApp::spawn().await;
    let s = crate::search::site(&app).await;
    let mut conn = app.conn().await;
    Article::new("Bài bị thổi phồng", s.dan_so)
        .insert(&mut conn)
        .await;
    let mut counted = 0;
    for i in 0..270 {
        let r = app
            .client
            .post(format!(
                "{}/api/v1/articles/bai-bi-thoi-phong/views",
                app.base
            ))
            .header("x-client-id", format!("client-{i}"))
            .header("x-forwarded-for", format!("10.1.{}.{}", i / 200, i % 200))
            .header("forwarded", format!("for=10.2.0.{}", i % 200))
            .header("user-agent", format!("agent-{i}"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 202);
        if r.json::<Value>().await.unwrap()["counted"] == true {
            counted += 1;
        }
    }
    assert_eq!(counted, 20, "the default cap per address per window");
}

// 8. Plain-text fields never carry markup; every inline field is sanitised;
// nothing is sniffed.
#[actix_web::test]
async fn escaped_text_never_comes_back_as_markup() {
    let app = TestApp::spawn().await;
    site(&app).await;
    let token = token_for(&app, "bien.tap@newsroom.test", "editor").await;
    let r = create(
        &app,
        &token,
        json!({
            "title": "Thẻ <img src=x onerror=alert(1)> trong tiêu đề",
            "category": "dan-so",
            "body": [
                {"type": "paragraph", "text": "Văn bản &lt;img src=x onerror=alert(1)&gt; thoát."},
                {"type": "quote", "text": "Trích", "citation": "<img src=x onerror=alert(2)>Nguồn"},
                {"type": "image", "media_id": 1, "caption": "Ảnh", "credit": "<script>alert(3)</script>Báo"},
                {"type": "embed", "provider": "youtube", "url": "https://youtu.be/x", "title": "<svg onload=alert(4)>"}
            ]
        }),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let id = r.json["id"].as_i64().unwrap();
    publish(&app, &token, id).await;
    let slug = r.json["slug"].as_str().unwrap();
    let public = app.get(&format!("/api/v1/articles/{slug}")).await;
    assert_eq!(public.status, 200, "{}", public.text);
    for field in ["title", "excerpt", "body_text"] {
        let text = public.json[field].as_str().unwrap_or_default();
        assert!(!opens_a_tag(text), "{field}: {text}");
    }
    let body = public.json["body"].to_string();
    let html = public.json["body_html"].as_str().unwrap();
    for tag in ["<img src=x", "<script", "<svg"] {
        assert!(!body.contains(tag), "{tag} in {body}");
        assert!(!html.contains(tag), "{tag} in {html}");
    }
    assert!(
        public.json["body_text"]
            .as_str()
            .unwrap()
            .contains("img src=x")
    );
    assert_eq!(public.header("x-content-type-options"), Some("nosniff"));
}

/// Whether `text` holds a `<` that would open a tag or comment in HTML.
fn opens_a_tag(text: &str) -> bool {
    text.as_bytes()
        .windows(2)
        .any(|w| w[0] == b'<' && (w[1].is_ascii_alphabetic() || b"/!?".contains(&w[1])))
}

// 8, continued. Names, descriptions, bios and alt text are plain text too;
// a media record's caption and credit are sanitised inline HTML, and a
// cover that falls back to the media caption gets it as text.
#[actix_web::test]
async fn names_and_media_text_are_text_or_sanitised() {
    let app = TestApp::spawn().await;
    site(&app).await;
    let editor = token_for(&app, "bien.tap@newsroom.test", "editor").await;
    let post = |path: &'static str, body: Value| {
        let (app, editor) = (&app, editor.clone());
        async move {
            let r = send(app, Method::POST, path, Some(&editor), Some(body), &[]).await;
            assert_eq!(r.status, 201, "{path}: {}", r.text);
            r.json
        }
    };
    let tag = post(
        "/api/v1/admin/tags",
        json!({"name": "<img src=x onerror=alert(1)>Thẻ", "description": "<script>alert(2)</script>"}),
    )
    .await;
    let author = post(
        "/api/v1/admin/authors",
        json!({"name": "<b>Tác giả</b>", "bio": "<img src=x onerror=alert(3)>"}),
    )
    .await;
    let category = post(
        "/api/v1/admin/categories",
        json!({"name": "<svg onload=alert(4)>Mục", "description": "<!-- x -->"}),
    )
    .await;
    let media = post(
        "/api/v1/admin/media",
        json!({
            "url": "/media/2023/11/x.jpg", "mime_type": "image/jpeg",
            "alt": "<img src=x onerror=alert(5)>",
            "caption": "<strong>Ảnh</strong> <img src=x onerror=alert(6)>",
            "credit": "<script>alert(7)</script>Báo"
        }),
    )
    .await;
    // Longer than an upload's text may be: refused before any work.
    for (method, path) in [
        (Method::POST, "/api/v1/admin/media".to_owned()),
        (Method::PATCH, "/api/v1/admin/media/1".to_owned()),
    ] {
        let long = "<b>x</b>".repeat(251);
        let r = send(
            &app,
            method,
            &path,
            Some(&editor),
            Some(json!({"url": "/media/y.jpg", "mime_type": "image/jpeg", "caption": long})),
            &[],
        )
        .await;
        r.assert_problem(422, "validation_failed");
        assert!(r.text.contains("caption"), "{}", r.text);
    }
    // An upload checks the same cap, and names every field over it.
    let long = "a".repeat(2001);
    let upload = app
        .client
        .post(format!(
            "{}/api/v1/admin/media/files?caption={long}&credit={long}&alt=ok",
            app.base
        ))
        .bearer_auth(&editor)
        .header("content-type", "image/jpeg")
        .body(b"not read".to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(upload.status(), 422);
    let problem: Value = upload.json().await.unwrap();
    assert_eq!(problem["code"], "validation_failed", "{problem}");
    let named: Vec<&str> = problem["errors"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["parameter"].as_str())
        .collect();
    assert_eq!(named, ["caption", "credit"], "{problem}");
    assert_eq!(media["caption"], "<strong>Ảnh</strong> ");
    assert_eq!(media["credit"], "Báo");
    let media_id = media["id"].as_i64().unwrap();
    let patched = send(
        &app,
        Method::PATCH,
        &format!("/api/v1/admin/media/{media_id}"),
        Some(&editor),
        Some(json!({"caption": "<a href=\"javascript:alert(8)\">Ảnh</a> &lt;img src=x&gt; <em>đẹp</em>"})),
        &[],
    )
    .await;
    assert_eq!(patched.status, 200, "{}", patched.text);
    assert_eq!(
        patched.json["caption"],
        "<a rel=\"noopener noreferrer\">Ảnh</a> &lt;img src=x&gt; <em>đẹp</em>"
    );

    // The public reads, and the media record as staff see it.
    let reads = [
        format!("/api/v1/tags/{}", tag["slug"].as_str().unwrap()),
        format!("/api/v1/authors/{}", author["slug"].as_str().unwrap()),
        format!("/api/v1/categories/{}", category["slug"].as_str().unwrap()),
    ];
    for path in &reads {
        let r = app.get(path).await;
        assert_eq!(r.status, 200, "{path}: {}", r.text);
        for field in ["name", "description", "bio"] {
            if let Some(text) = r.json[field].as_str() {
                assert!(!opens_a_tag(text), "{path} {field}: {text}");
            }
        }
    }
    assert_eq!(author["name"], "<\u{200b}b>Tác giả<\u{200b}/b>");
    assert!(!opens_a_tag(media["alt"].as_str().unwrap()));

    // A cover with no caption of its own shows the media caption as text.
    let id = article_id(&app, &editor, "Bài có ảnh bìa").await;
    let r = patch(&app, &editor, id, json!({"cover_media_id": media_id})).await;
    assert_eq!(r.status, 200, "{}", r.text);
    publish(&app, &editor, id).await;
    let slug = r.json["slug"].as_str().unwrap();
    let public = app.get(&format!("/api/v1/articles/{slug}")).await;
    assert_eq!(public.status, 200, "{}", public.text);
    let caption = public.json["cover"]["caption"].as_str().unwrap();
    assert_eq!(caption, "Ảnh <\u{200b}img src=x> đẹp");
    assert!(!opens_a_tag(caption));
    assert!(
        public.json["cover"]["media"]["caption"]
            .as_str()
            .unwrap()
            .contains("<em>đẹp</em>")
    );
}

// 9. Media others' articles use needs an editor to change; `//host` is not
// a path.
#[actix_web::test]
async fn authors_cannot_deface_media_others_use() {
    let app = TestApp::spawn().await;
    site(&app).await;
    let editor = token_for(&app, "bien.tap@newsroom.test", "editor").await;
    let author = token_for(&app, "tac.gia@newsroom.test", "author").await;
    let id = article_id(&app, &editor, "Bài của biên tập").await;
    patch(&app, &editor, id, json!({"cover_media_id": 1}))
        .await
        .status
        .is_success()
        .then_some(())
        .expect("cover set");
    let deface = send(
        &app,
        Method::PATCH,
        "/api/v1/admin/media/1",
        Some(&author),
        Some(json!({"url": "https://attacker.example/defaced.jpg"})),
        &[],
    )
    .await;
    deface.assert_problem(403, "forbidden");
    for url in [
        "//attacker.example/defaced.jpg",
        "/\\attacker.example/x.jpg",
    ] {
        send(
            &app,
            Method::PATCH,
            "/api/v1/admin/media/1",
            Some(&editor),
            Some(json!({"url": url})),
            &[],
        )
        .await
        .assert_problem(422, "validation_failed");
    }
    let ok = send(
        &app,
        Method::PATCH,
        "/api/v1/admin/media/1",
        Some(&editor),
        Some(json!({"alt": "Lễ phát động"})),
        &[],
    )
    .await;
    assert_eq!(ok.status, 200, "{}", ok.text);
}

// 10. Another article's old address and the reserved slugs cannot be taken.
#[actix_web::test]
async fn slugs_cannot_be_taken_over() {
    let app = TestApp::spawn().await;
    site(&app).await;
    let editor = token_for(&app, "bien.tap@newsroom.test", "editor").await;
    let author = token_for(&app, "tac.gia@newsroom.test", "author").await;
    let victim = article_id(&app, &editor, "Bài gốc").await;
    publish(&app, &editor, victim).await;
    let renamed = patch(&app, &editor, victim, json!({"slug": "bai-goc-moi"})).await;
    assert_eq!(renamed.status, 200, "{}", renamed.text);
    let own = article_id(&app, &author, "Bài của tác giả").await;
    patch(&app, &author, own, json!({"slug": "bai-goc"}))
        .await
        .assert_problem(409, "conflict");
    for reserved in ["id", "most-read"] {
        let r = patch(&app, &author, own, json!({"slug": reserved})).await;
        r.assert_problem(422, "validation_failed");
    }
    // The old address still leads to the victim.
    let r = app
        .request(Method::GET, "/api/v1/articles/bai-goc", &[])
        .await;
    assert_eq!(r.json["slug"], "bai-goc-moi", "{}", r.text);
    // An article may take back its own old address.
    let back = patch(&app, &editor, victim, json!({"slug": "bai-goc"})).await;
    assert_eq!(back.status, 200, "{}", back.text);
}

// 11. A takedown made elsewhere is not served from the cache once seen.
#[actix_web::test]
async fn a_takedown_is_not_served_stale() {
    let app = TestApp::spawn_with(newsroom::config::Settings {
        cache_ttl_secs: 1,
        ..harness::settings()
    })
    .await;
    let s = crate::search::site(&app).await;
    let mut conn = app.conn().await;
    Article::new("Bài sắp gỡ", s.dan_so).insert(&mut conn).await;
    let path = "/api/v1/articles/bai-sap-go";
    assert_eq!(app.get(path).await.status, 200);
    // Taken down directly in the database (as another instance would).
    diesel::sql_query("UPDATE articles SET status = 'archived' WHERE slug = 'bai-sap-go'")
        .execute(&mut conn)
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let mut seen_gone = false;
    for _ in 0..15 {
        let batch = (0..10).map(|_| app.get(path));
        let statuses: Vec<u16> = futures_util::future::join_all(batch)
            .await
            .iter()
            .map(|r| r.status.as_u16())
            .collect();
        if seen_gone {
            assert!(statuses.iter().all(|s| *s == 404), "{statuses:?}");
        }
        seen_gone |= statuses.contains(&404);
    }
    assert!(seen_gone);
}

// 12. `url` is always the site's; other bylines and off-site canonical URLs
// take an editor.
#[actix_web::test]
async fn authors_cannot_borrow_bylines_or_send_readers_away() {
    let app = TestApp::spawn().await;
    site(&app).await;
    let author = token_for(&app, "tac.gia@newsroom.test", "author").await;
    let editor = token_for(&app, "bien.tap@newsroom.test", "editor").await;
    let id = article_id(&app, &author, "Bài của tác giả").await;
    patch(&app, &author, id, json!({"authors": ["tran-thanh-mai"]}))
        .await
        .assert_problem(403, "forbidden");
    patch(
        &app,
        &author,
        id,
        json!({"canonical_url": "https://evil.example/phish"}),
    )
    .await
    .assert_problem(422, "validation_failed");
    let on_site = format!("{}/bai-khac", harness::SITE_URL);
    let r = patch(&app, &author, id, json!({"canonical_url": on_site})).await;
    assert_eq!(r.status, 200, "{}", r.text);
    // An editor may point search engines at a syndicated original; readers
    // are still sent to the site.
    let r = patch(
        &app,
        &editor,
        id,
        json!({"canonical_url": "https://baoquangninh.vn/goc", "authors": ["tran-thanh-mai"]}),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    publish(&app, &editor, id).await;
    let public = app.get("/api/v1/articles/bai-cua-tac-gia").await;
    assert_eq!(
        public.json["url"],
        format!("{}/bai-cua-tac-gia", harness::SITE_URL)
    );
    assert_eq!(
        public.json["seo"]["canonical_url"],
        "https://baoquangninh.vn/goc"
    );
}

// 13, 14, 16, 19: strange text is a 4xx (or found), never a 500.
#[actix_web::test]
async fn strange_bytes_and_words_are_never_a_500() {
    let app = TestApp::spawn().await;
    let s = crate::search::site(&app).await;
    let mut conn = app.conn().await;
    Article::new("Quảng Ninh hưởng ứng", s.dan_so)
        .insert(&mut conn)
        .await;
    let r = app.get("/api/v1/search?q=quang%20nimh%20%D1%8C").await;
    assert_eq!(r.status, 200, "{}", r.text);
    for path in [
        "/api/v1/tags/a%00b",
        "/api/v1/authors/a%00b",
        "/api/v1/categories/a%00b",
        "/api/v1/articles/a%00b",
        "/api/v1/tags?cursor=MXx0YWdzfGEA",
    ] {
        let r = app.get(path).await;
        assert_eq!(r.status, 400, "{path}: {}", r.text);
    }
    let r = send(
        &app,
        Method::POST,
        "/api/v1/auth/login",
        None,
        Some(json!({"email": "a\u{0}@newsroom.test", "password": "x"})),
        &[],
    )
    .await;
    r.assert_problem(400, "invalid_parameter");
    let token = token_for(&app, "bien.tap@newsroom.test", "editor").await;
    let r = create(
        &app,
        &token,
        json!({"title": "Có NUL\u{0}", "category": "dan-so"}),
    )
    .await;
    r.assert_problem(400, "invalid_parameter");
    let r = send(
        &app,
        Method::POST,
        "/api/v1/admin/tags",
        Some(&token),
        Some(json!({"name": "nul\u{0}"})),
        &[],
    )
    .await;
    assert!(r.status.is_client_error(), "{}", r.text);
    // "Open data: …" is text, not a data: link; a real one is refused.
    let r = create(
        &app,
        &token,
        json!({"title": "Dữ liệu mở", "category": "dan-so",
               "body": [{"type": "paragraph", "text": "Open data: dữ liệu mở của tỉnh."}]}),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let r = create(
        &app,
        &token,
        json!({"title": "Liên kết xấu", "category": "dan-so",
               "body": [{"type": "paragraph", "text": "<a href=\"java&#x09;script:alert(1)\">bấm</a>"}]}),
    )
    .await;
    r.assert_problem(422, "validation_failed");
}

// 15. A body over what search can index is a 422.
#[actix_web::test]
async fn an_enormous_body_is_a_422() {
    let app = TestApp::spawn().await;
    site(&app).await;
    let token = token_for(&app, "bien.tap@newsroom.test", "editor").await;
    let id = article_id(&app, &token, "Bài rất dài").await;
    let words: String = (0..200_000).map(|i| format!("từ{i} ")).collect();
    let blocks: Vec<Value> = words
        .as_bytes()
        .chunks(4000)
        .map(|c| json!({"type": "paragraph", "text": String::from_utf8_lossy(c)}))
        .take(400)
        .collect();
    let r = patch(&app, &token, id, json!({"body": blocks})).await;
    r.assert_problem(422, "validation_failed");
    assert_eq!(r.json["errors"][0]["parameter"], "body");
}

// 17. Pinning does not tell a contributor which ids exist.
#[actix_web::test]
async fn pinning_does_not_reveal_others_drafts() {
    let app = TestApp::spawn().await;
    site(&app).await;
    let editor = token_for(&app, "bien.tap@newsroom.test", "editor").await;
    let contributor = token_for(&app, "cong.tac@newsroom.test", "contributor").await;
    let secret = article_id(&app, &editor, "Bản nháp bí mật").await;
    let own = article_id(&app, &contributor, "Bản nháp của tôi").await;
    let pin = |ids: Vec<i64>| {
        let app = &app;
        let contributor = &contributor;
        async move {
            send(
                app,
                Method::PUT,
                &format!("/api/v1/admin/articles/{own}/related"),
                Some(contributor),
                Some(json!({"articles": ids})),
                &[],
            )
            .await
        }
    };
    let existing = pin(vec![secret]).await;
    let missing = pin(vec![999_999]).await;
    existing.assert_problem(422, "validation_failed");
    assert_eq!(
        existing.json["errors"][0]["reason"]
            .as_str()
            .unwrap()
            .replace(&secret.to_string(), "N"),
        missing.json["errors"][0]["reason"]
            .as_str()
            .unwrap()
            .replace("999999", "N"),
    );
}

// 18. The cache judges the decoded path: `%61dmin` is `admin`.
#[actix_web::test]
async fn encoded_admin_paths_are_not_cached() {
    let app = TestApp::spawn_with(newsroom::config::Settings {
        cache_ttl_secs: 60,
        ..harness::settings()
    })
    .await;
    site(&app).await;
    let token = token_for(&app, "bien.tap@newsroom.test", "editor").await;
    let r = send(
        &app,
        Method::GET,
        "/api/v1/%61dmin/articles",
        Some(&token),
        None,
        &[],
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let anonymous = app.get("/api/v1/%61dmin/articles").await;
    anonymous.assert_problem(401, "unauthorized");
}

// 20. No constraint names and no secrets on the command line.
#[actix_web::test]
async fn problems_name_no_constraints_and_the_secret_has_no_flag() {
    let app = TestApp::spawn().await;
    site(&app).await;
    let token = token_for(&app, "bien.tap@newsroom.test", "editor").await;
    let body = json!({"email": "bien.tap@newsroom.test", "role": "author"});
    let admin = token_for(&app, "quan.tri@newsroom.test", "admin").await;
    let r = send(
        &app,
        Method::POST,
        "/api/v1/admin/users",
        Some(&admin),
        Some(body),
        &[],
    )
    .await;
    assert_eq!(r.status, 409, "{}", r.text);
    assert!(
        !r.text.contains("_key") && !r.text.contains("staff_users"),
        "{}",
        r.text
    );
    let _ = token;
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_newsroom"))
        .args(["--jwt-secret", "x", "openapi"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("unexpected argument"));
    let _ = fixtures::article_count;
}
