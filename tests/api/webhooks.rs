//! Issue 10, §2: webhooks, delivered to a real receiving HTTP server that
//! fails, hangs and recovers; signatures checked here independently.

use std::net::TcpListener;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, KeyInit, Mac};
use reqwest::Method;
use serde_json::{Value, json};
use sha2::Sha256;

use crate::admin::{create, draft, send, site, token_for};
use crate::harness::{self, TestApp};

const OK: u8 = 0;
const FAIL: u8 = 1;
const HANG: u8 = 2;
const REDIRECT: u8 = 3;

#[derive(Debug, Clone)]
struct Received {
    id: String,
    timestamp: String,
    signature: String,
    body: String,
    path: String,
    /// What the receiver answered (`OK`, `FAIL` or `HANG`).
    mode: u8,
    at: Instant,
}

impl Received {
    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap()
    }
}

#[derive(Clone, Default)]
struct Receiver {
    mode: Arc<AtomicU8>,
    got: Arc<Mutex<Vec<Received>>>,
}

impl Receiver {
    /// Starts on a free loopback port; its URL.
    fn start(&self) -> String {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let me = self.clone();
        let server = HttpServer::new(move || {
            App::new()
                .app_data(web::Data::new(me.clone()))
                .default_service(web::to(receive))
        })
        .workers(1)
        .listen(listener)
        .unwrap()
        .run();
        actix_web::rt::spawn(server);
        format!("http://127.0.0.1:{port}/hooks")
    }

    /// Starts speaking TLS with a new self-signed certificate for
    /// 127.0.0.1; its URL and the certificate (to trust, or not).
    fn start_tls(&self) -> (String, rustls::pki_types::CertificateDer<'static>) {
        let rcgen::CertifiedKey { cert, signing_key } =
            rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_owned()]).unwrap();
        let key = rustls::pki_types::PrivateKeyDer::Pkcs8(signing_key.serialize_der().into());
        let tls = rustls::ServerConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![cert.der().clone()], key)
        .unwrap();
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let me = self.clone();
        let server = HttpServer::new(move || {
            App::new()
                .app_data(web::Data::new(me.clone()))
                .default_service(web::to(receive))
        })
        .workers(1)
        .listen_rustls_0_23(listener, tls)
        .unwrap()
        .run();
        actix_web::rt::spawn(server);
        (
            format!("https://127.0.0.1:{port}/hooks"),
            cert.der().clone(),
        )
    }

    fn set(&self, mode: u8) {
        self.mode.store(mode, Ordering::SeqCst);
    }

    fn got(&self) -> Vec<Received> {
        self.got.lock().unwrap().clone()
    }

    fn delivered(&self) -> Vec<Received> {
        self.got().into_iter().filter(|r| r.mode == OK).collect()
    }

    /// Waits (at most `secs`) until `done` holds for what arrived.
    async fn until(&self, secs: u64, what: &str, done: impl Fn(&[Received]) -> bool) {
        let end = Instant::now() + Duration::from_secs(secs);
        while Instant::now() < end {
            if done(&self.got()) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        panic!("{what}: not within {secs} s; got {:#?}", self.got());
    }
}

async fn receive(req: HttpRequest, body: web::Bytes, me: web::Data<Receiver>) -> HttpResponse {
    let header = |name: &str| {
        req.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    let mode = me.mode.load(Ordering::SeqCst);
    me.got.lock().unwrap().push(Received {
        id: header("webhook-id"),
        timestamp: header("webhook-timestamp"),
        signature: header("webhook-signature"),
        body: String::from_utf8(body.to_vec()).unwrap(),
        path: req.path().to_owned(),
        mode,
        at: Instant::now(),
    });
    match mode {
        FAIL => HttpResponse::InternalServerError().body("down for maintenance"),
        HANG => {
            tokio::time::sleep(Duration::from_secs(5)).await;
            HttpResponse::Ok().body("too late")
        }
        REDIRECT => HttpResponse::TemporaryRedirect()
            .insert_header(("location", "/elsewhere"))
            .finish(),
        _ => HttpResponse::Ok().body("ok"),
    }
}

/// Checks the Standard Webhooks signature as a receiver would.
fn verify(secret: &str, r: &Received) {
    let key = STANDARD
        .decode(secret.strip_prefix("whsec_").unwrap())
        .unwrap();
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).unwrap();
    mac.update(format!("{}.{}.{}", r.id, r.timestamp, r.body).as_bytes());
    let expected = format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()));
    assert!(
        r.signature.split(' ').any(|s| s == expected),
        "signature {} is not {expected}",
        r.signature
    );
    let ts: i64 = r.timestamp.parse().unwrap();
    assert!((chrono::Utc::now().timestamp() - ts).abs() < 300);
    assert!(r.id.starts_with("msg_"), "{}", r.id);
}

fn settings() -> newsroom::config::Settings {
    let mut s = harness::settings();
    s.webhooks.allow_private = true;
    s.webhooks.backoff = Duration::from_millis(50);
    s.webhooks.timeout = Duration::from_millis(500);
    s
}

async fn register(app: &TestApp, admin: &str, url: &str, events: Value) -> (i64, String) {
    let r = send(
        app,
        Method::POST,
        "/api/v1/admin/webhooks",
        Some(admin),
        Some(json!({"url": url, "events": events, "description": "test"})),
        &[],
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.text);
    (
        r.json["webhook"]["id"].as_i64().unwrap(),
        r.json["secret"].as_str().unwrap().to_owned(),
    )
}

async fn post(app: &TestApp, token: &str, path: &str) {
    let r = send(app, Method::POST, path, Some(token), None, &[]).await;
    assert!(r.status.is_success(), "{path}: {} {}", r.status, r.text);
}

async fn new_article(app: &TestApp, token: &str, title: &str) -> (i64, String) {
    let r = create(app, token, draft(title)).await;
    assert_eq!(r.status, 201, "{}", r.text);
    (
        r.json["id"].as_i64().unwrap(),
        r.json["slug"].as_str().unwrap().to_owned(),
    )
}

#[actix_web::test]
async fn every_event_arrives_signed_and_soon() {
    let app = TestApp::spawn_with(settings()).await;
    site(&app).await;
    let admin = token_for(&app, "admin@newsroom.test", "admin").await;
    let all = Receiver::default();
    let published_only = Receiver::default();
    let (_, secret) = register(&app, &admin, &all.start(), json!(["*"])).await;
    let (_, secret2) = register(
        &app,
        &admin,
        &published_only.start(),
        json!(["article.published"]),
    )
    .await;

    let (id, slug) = new_article(&app, &admin, "Bão số 3 đổ bộ").await;
    // A draft is nobody's business.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(all.got().is_empty(), "{:?}", all.got());

    let published = Instant::now();
    post(
        &app,
        &admin,
        &format!("/api/v1/admin/articles/{id}/publish"),
    )
    .await;
    all.until(5, "published", |g| !g.is_empty()).await;
    let latency = all.got()[0].at - published;
    println!("publish to webhook delivery: {latency:?}");
    assert!(latency < Duration::from_secs(1), "{latency:?}");

    let r = crate::hardening::patch(&app, &admin, id, json!({"title": "Bão số 3 suy yếu"})).await;
    assert_eq!(r.status, 200, "{}", r.text);
    post(
        &app,
        &admin,
        &format!("/api/v1/admin/articles/{id}/unpublish"),
    )
    .await;
    post(
        &app,
        &admin,
        &format!("/api/v1/admin/articles/{id}/publish"),
    )
    .await;
    let r = send(
        &app,
        Method::DELETE,
        &format!("/api/v1/admin/articles/{id}?hard=true"),
        Some(&admin),
        None,
        &[],
    )
    .await;
    assert!(r.status.is_success(), "{}", r.text);

    all.until(5, "five events", |g| g.len() >= 5).await;
    let got = all.got();
    let types: Vec<String> = got
        .iter()
        .map(|r| r.json()["type"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        types,
        [
            "article.published",
            "article.updated",
            "article.unpublished",
            "article.published",
            "article.deleted"
        ]
    );
    let mut ids: Vec<&str> = got.iter().map(|r| r.id.as_str()).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), 5, "one webhook-id per event");
    for r in &got {
        verify(&secret, r);
        let body = r.json();
        assert_eq!(body["data"]["id"], id);
        assert_eq!(
            body["data"]["api_url"],
            format!("{}/api/v1/articles/id/{id}", harness::settings().site_url)
        );
        assert_eq!(
            body["data"]["url"],
            format!(
                "{}/{}",
                harness::settings().site_url,
                body["data"]["slug"].as_str().unwrap()
            )
        );
    }
    assert_eq!(got[0].json()["data"]["slug"], slug.as_str());

    published_only
        .until(5, "two publications", |g| g.len() >= 2)
        .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let got2 = published_only.got();
    assert_eq!(got2.len(), 2, "{got2:?}");
    for r in &got2 {
        verify(&secret2, r);
        assert_eq!(r.json()["type"], "article.published");
    }
    // A second endpoint gets the same event id for the same event.
    assert_eq!(got2[0].id, got[0].id);
}

async fn deliveries(app: &TestApp, admin: &str, hook: i64) -> Vec<Value> {
    let r = send(
        app,
        Method::GET,
        &format!("/api/v1/admin/webhooks/{hook}/deliveries"),
        Some(admin),
        None,
        &[],
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    r.json["items"].as_array().unwrap().clone()
}

async fn webhook(app: &TestApp, admin: &str, hook: i64) -> Value {
    let r = send(
        app,
        Method::GET,
        &format!("/api/v1/admin/webhooks/{hook}"),
        Some(admin),
        None,
        &[],
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    r.json
}

#[actix_web::test]
async fn failures_and_timeouts_are_retried_until_the_receiver_recovers() {
    let app = TestApp::spawn_with(settings()).await;
    site(&app).await;
    let admin = token_for(&app, "admin@newsroom.test", "admin").await;
    let receiver = Receiver::default();
    receiver.set(FAIL);
    let (hook, secret) = register(&app, &admin, &receiver.start(), json!(["article.*"])).await;
    let (id, _) = new_article(&app, &admin, "Giá xăng giảm").await;
    post(
        &app,
        &admin,
        &format!("/api/v1/admin/articles/{id}/publish"),
    )
    .await;
    receiver.until(10, "two failures", |g| g.len() >= 2).await;
    receiver.set(HANG);
    receiver
        .until(10, "a timeout", |g| g.iter().any(|r| r.mode == HANG))
        .await;
    let log = deliveries(&app, &admin, hook).await;
    assert_eq!(log.len(), 1);
    assert_eq!(log[0]["status"], "pending");
    assert!(log[0]["attempts"].as_i64().unwrap() >= 2, "{log:?}");
    receiver.set(OK);
    receiver
        .until(15, "the recovery", |g| g.iter().any(|r| r.mode == OK))
        .await;
    let got = receiver.got();
    let ids: Vec<&str> = got.iter().map(|r| r.id.as_str()).collect();
    assert!(
        ids.iter().all(|i| *i == ids[0]),
        "every attempt is the same message"
    );
    for r in &got {
        verify(&secret, r);
    }
    // The log tells what happened.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let log = deliveries(&app, &admin, hook).await;
    assert_eq!(log[0]["status"], "delivered", "{log:?}");
    assert_eq!(log[0]["last_status_code"], 200);
    assert_eq!(log[0]["last_response_excerpt"], "ok");
    assert!(log[0]["attempts"].as_i64().unwrap() >= 3, "{log:?}");
    assert_eq!(webhook(&app, &admin, hook).await["failure_count"], 0);

    // Replays: one delivery, then everything since a time; same message id.
    let before = receiver.delivered().len();
    let delivery = log[0]["id"].as_i64().unwrap();
    post(
        &app,
        &admin,
        &format!("/api/v1/admin/webhooks/{hook}/deliveries/{delivery}/replay"),
    )
    .await;
    receiver
        .until(5, "the replay", |g| {
            g.iter().filter(|r| r.mode == OK).count() > before
        })
        .await;
    let since = (chrono::Utc::now() - chrono::Duration::hours(1)).to_rfc3339();
    let r = send(
        &app,
        Method::POST,
        &format!(
            "/api/v1/admin/webhooks/{hook}/replay?since={}",
            since.replace('+', "%2B")
        ),
        Some(&admin),
        None,
        &[],
    )
    .await;
    assert_eq!(r.status, 202, "{}", r.text);
    assert_eq!(r.json["replayed"], 1);
    receiver
        .until(5, "the replay since", |g| {
            g.iter().filter(|r| r.mode == OK).count() > before + 1
        })
        .await;
    assert!(receiver.delivered().iter().all(|r| r.id == ids[0]));
    let r = send(
        &app,
        Method::POST,
        &format!("/api/v1/admin/webhooks/{hook}/replay?since=yesterday"),
        Some(&admin),
        None,
        &[],
    )
    .await;
    assert_eq!(r.status, 400, "{}", r.text);
}

#[actix_web::test]
async fn an_endpoint_that_keeps_failing_is_disabled_and_can_be_enabled_again() {
    let mut settings = settings();
    settings.webhooks.attempts = 3;
    settings.webhooks.backoff = Duration::from_millis(20);
    let app = TestApp::spawn_with(settings).await;
    site(&app).await;
    let admin = token_for(&app, "admin@newsroom.test", "admin").await;
    let receiver = Receiver::default();
    receiver.set(FAIL);
    let (hook, _) = register(&app, &admin, &receiver.start(), json!(["*"])).await;
    let (id, _) = new_article(&app, &admin, "Mưa lớn").await;
    post(
        &app,
        &admin,
        &format!("/api/v1/admin/articles/{id}/publish"),
    )
    .await;
    receiver.until(10, "three attempts", |g| g.len() >= 3).await;
    let mut endpoint = Value::Null;
    for _ in 0..100 {
        endpoint = webhook(&app, &admin, hook).await;
        if endpoint["active"] == false {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(endpoint["active"], false, "{endpoint}");
    let reason = endpoint["disabled_reason"].as_str().unwrap();
    assert!(reason.contains("HTTP 500"), "{reason}");
    let log = deliveries(&app, &admin, hook).await;
    assert_eq!(log[0]["status"], "failed");
    assert_eq!(log[0]["attempts"], 3);
    assert_eq!(log[0]["last_response_excerpt"], "down for maintenance");
    // Disabled: later events wait for it (not sent).
    post(
        &app,
        &admin,
        &format!("/api/v1/admin/articles/{id}/unpublish"),
    )
    .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(receiver.got().len(), 3);
    // An admin fixes the receiver and enables the endpoint: what waited goes out.
    receiver.set(OK);
    let r = send(
        &app,
        Method::PATCH,
        &format!("/api/v1/admin/webhooks/{hook}"),
        Some(&admin),
        Some(json!({"active": true})),
        &[],
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json["disabled_reason"], Value::Null);
    assert_eq!(r.json["failure_count"], 0);
    receiver
        .until(5, "the waiting event", |g| {
            g.iter()
                .any(|r| r.mode == OK && r.json()["type"] == "article.unpublished")
        })
        .await;
}

#[actix_web::test]
async fn private_targets_bad_input_and_non_admins_are_refused() {
    // Default settings: private targets are not allowed.
    let app = TestApp::spawn().await;
    let admin = token_for(&app, "admin@newsroom.test", "admin").await;
    let editor = token_for(&app, "bt@newsroom.test", "editor").await;
    for url in [
        "http://127.0.0.1:9/hooks",
        "http://localhost/hooks",
        "http://10.0.0.5/hooks",
        "http://169.254.169.254/latest/meta-data",
        "http://[::1]/hooks",
        "http://100.64.1.1/hooks",
        "ftp://example.com/hooks",
        "not a url",
        "http://user:pw@example.com/",
    ] {
        let r = send(
            &app,
            Method::POST,
            "/api/v1/admin/webhooks",
            Some(&admin),
            Some(json!({"url": url, "events": ["*"]})),
            &[],
        )
        .await;
        r.assert_problem(422, "validation_failed");
        assert!(r.text.contains("url"), "{url}: {}", r.text);
    }
    let r = send(
        &app,
        Method::POST,
        "/api/v1/admin/webhooks",
        Some(&admin),
        Some(json!({"url": "http://127.0.0.1:9/", "events": ["article.exploded"]})),
        &[],
    )
    .await;
    r.assert_problem(422, "validation_failed");
    assert!(r.text.contains("article.exploded"), "{}", r.text);
    let r = send(
        &app,
        Method::POST,
        "/api/v1/admin/webhooks",
        Some(&admin),
        Some(json!({"url": "http://127.0.0.1:9/", "events": ["*"], "colour": "red"})),
        &[],
    )
    .await;
    assert_eq!(r.status, 400, "{}", r.text);
    for (method, path) in [
        (Method::GET, "/api/v1/admin/webhooks"),
        (Method::GET, "/api/v1/admin/webhooks/1"),
        (Method::GET, "/api/v1/admin/webhooks/1/deliveries"),
    ] {
        let r = send(&app, method, path, Some(&editor), None, &[]).await;
        assert_eq!(r.status, 403, "{path}: {}", r.text);
    }
    let r = send(
        &app,
        Method::POST,
        "/api/v1/admin/webhooks",
        Some(&editor),
        Some(json!({"url": "https://example.com/", "events": ["*"]})),
        &[],
    )
    .await;
    assert_eq!(r.status, 403, "{}", r.text);
    let r = send(&app, Method::GET, "/api/v1/admin/webhooks", None, None, &[]).await;
    assert_eq!(r.status, 401, "{}", r.text);
    let r = send(
        &app,
        Method::GET,
        "/api/v1/admin/webhooks/999",
        Some(&admin),
        None,
        &[],
    )
    .await;
    assert_eq!(r.status, 404, "{}", r.text);
}

#[actix_web::test]
async fn scheduled_articles_are_announced_at_their_time_once_and_redirects_are_not_followed() {
    let app = TestApp::spawn_with(settings()).await;
    // A second instance: each event still goes out once.
    let other = app.another_instance(settings()).await;
    site(&app).await;
    let admin = token_for(&app, "admin@newsroom.test", "admin").await;
    let receiver = Receiver::default();
    let (hook, _) = register(
        &app,
        &admin,
        &receiver.start(),
        json!(["article.published"]),
    )
    .await;
    let (id, _) = new_article(&app, &admin, "Khai mạc hội nghị").await;
    let at = chrono::Utc::now() + chrono::Duration::seconds(2);
    let r = send(
        &app,
        Method::POST,
        &format!("/api/v1/admin/articles/{id}/schedule"),
        Some(&admin),
        Some(json!({"at": at.to_rfc3339()})),
        &[],
    )
    .await;
    assert!(r.status.is_success(), "{}", r.text);
    tokio::time::sleep(Duration::from_millis(1000)).await;
    assert!(receiver.got().is_empty(), "not before its time");
    receiver
        .until(5, "the scheduled publication", |g| !g.is_empty())
        .await;
    let late = chrono::Utc::now() - at;
    println!(
        "scheduled article announced {} ms after its time",
        late.num_milliseconds()
    );
    assert!(late < chrono::Duration::seconds(2), "{late}");
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let got = receiver.got();
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0].json()["data"]["id"], id);
    drop(other);

    // A redirect is an answer that is not a success; it is not followed.
    receiver.set(REDIRECT);
    let (id2, _) = new_article(&app, &admin, "Chuyển hướng").await;
    post(
        &app,
        &admin,
        &format!("/api/v1/admin/articles/{id2}/publish"),
    )
    .await;
    receiver
        .until(5, "the redirected attempt", |g| g.len() >= 2)
        .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        receiver.got().iter().all(|r| r.path == "/hooks"),
        "{:?}",
        receiver.got()
    );
    let log = deliveries(&app, &admin, hook).await;
    assert_eq!(log[0]["last_status_code"], 307, "{log:?}");
    assert_eq!(log[0]["status"], "pending");
}

#[actix_web::test]
async fn nothing_is_lost_when_an_instance_dies_mid_delivery() {
    let mut serving = settings();
    // This instance only serves; the killed one and its successor deliver.
    serving.webhooks.deliver = false;
    let app = TestApp::spawn_with(serving).await;
    site(&app).await;
    let admin = token_for(&app, "admin@newsroom.test", "admin").await;
    let receiver = Receiver::default();
    receiver.set(HANG);
    let (hook, secret) = register(&app, &admin, &receiver.start(), json!(["*"])).await;
    let mut ids = Vec::new();
    for title in ["Một", "Hai", "Ba"] {
        let (id, _) = new_article(&app, &admin, title).await;
        post(
            &app,
            &admin,
            &format!("/api/v1/admin/articles/{id}/publish"),
        )
        .await;
        ids.push(id);
    }

    // A delivering instance on a runtime of its own, killed (its runtime
    // dropped, as a crash would) while the receiver holds its requests.
    let mut delivering = settings();
    delivering.webhooks.timeout = Duration::from_secs(30);
    let (kill, killed) = mpsc::channel::<()>();
    let (started, up) = mpsc::channel::<()>();
    std::thread::scope(|scope| {
        let app = &app;
        let delivering = delivering.clone();
        scope.spawn(move || {
            actix_web::rt::System::new().block_on(async move {
                let doomed = app.another_instance(delivering).await;
                started.send(()).unwrap();
                while killed.try_recv().is_err() {
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
                std::mem::forget(doomed);
            });
        });
        up.recv().unwrap();
        let end = Instant::now() + Duration::from_secs(10);
        while receiver.got().len() < 3 && Instant::now() < end {
            std::thread::sleep(Duration::from_millis(20));
        }
        assert_eq!(
            receiver.got().len(),
            3,
            "the doomed instance is mid-delivery"
        );
        kill.send(()).unwrap();
    });
    let log = deliveries(&app, &admin, hook).await;
    assert!(
        log.iter()
            .all(|d| d["status"] == "pending" && d["attempts"] == 0),
        "{log:?}"
    );

    // A restarted instance delivers everything.
    receiver.set(OK);
    let successor = app.another_instance(settings()).await;
    receiver
        .until(10, "every event after the restart", |g| {
            g.iter().filter(|r| r.mode == OK).count() >= 3
        })
        .await;
    let delivered = receiver.delivered();
    let mut sent: Vec<i64> = delivered
        .iter()
        .map(|r| r.json()["data"]["id"].as_i64().unwrap())
        .collect();
    sent.sort_unstable();
    assert_eq!(sent, ids);
    for r in &delivered {
        verify(&secret, r);
    }
    // Each retried delivery carries the webhook-id of its first attempt.
    let first: Vec<String> = receiver.got()[..3].iter().map(|r| r.id.clone()).collect();
    assert!(delivered.iter().all(|r| first.contains(&r.id)));
    tokio::time::sleep(Duration::from_millis(200)).await;
    let log = deliveries(&app, &admin, hook).await;
    assert!(log.iter().all(|d| d["status"] == "delivered"), "{log:?}");
    drop(successor);
}

#[actix_web::test]
async fn https_endpoints_get_their_deliveries_over_verified_tls() {
    let trusted = Receiver::default();
    let (trusted_url, ca) = trusted.start_tls();
    // Same host, a certificate nobody vouches for.
    let stranger = Receiver::default();
    let (stranger_url, _) = stranger.start_tls();
    // Plain HTTP where https was asked for.
    let plain = Receiver::default();
    let plain_url = plain.start().replace("http://", "https://");

    let mut s = settings();
    s.webhooks.extra_roots = vec![ca];
    let app = TestApp::spawn_with(s).await;
    site(&app).await;
    let admin = token_for(&app, "admin@newsroom.test", "admin").await;
    let (_, secret) = register(&app, &admin, &trusted_url, json!(["*"])).await;
    let (bad, _) = register(&app, &admin, &stranger_url, json!(["*"])).await;
    let (clear, _) = register(&app, &admin, &plain_url, json!(["*"])).await;
    let (id, _) = new_article(&app, &admin, "Bảo mật").await;
    post(
        &app,
        &admin,
        &format!("/api/v1/admin/articles/{id}/publish"),
    )
    .await;

    trusted
        .until(10, "a delivery over TLS", |got| {
            got.iter().any(|r| r.json()["type"] == "article.published")
        })
        .await;
    let got = trusted.delivered();
    verify(&secret, &got[0]);

    for (hook, why) in [(bad, "certificate"), (clear, "")] {
        let mut log = Vec::new();
        for _ in 0..200 {
            log = deliveries(&app, &admin, hook).await;
            if log
                .first()
                .is_some_and(|d| d["attempts"].as_i64() > Some(0))
            {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert_eq!(log[0]["status"], "pending", "{log:?}");
        assert_eq!(log[0]["last_status_code"], Value::Null, "{log:?}");
        let excerpt = log[0]["last_response_excerpt"].as_str().unwrap();
        assert!(excerpt.starts_with("request failed"), "{excerpt}");
        assert!(
            format!("{excerpt:?}").to_lowercase().contains(why),
            "{excerpt}"
        );
    }
    assert!(
        stranger.got().is_empty(),
        "an unverified server got the event"
    );
    assert!(
        plain.got().iter().all(|r| r.body.is_empty()),
        "nothing is sent in the clear"
    );
}

#[actix_web::test]
async fn category_events_go_to_endpoints_that_asked_for_them() {
    let app = TestApp::spawn_with(settings()).await;
    site(&app).await;
    let admin = token_for(&app, "admin@newsroom.test", "admin").await;
    let categories = Receiver::default();
    let articles = Receiver::default();
    let (_, secret) = register(&app, &admin, &categories.start(), json!(["category.*"])).await;
    register(&app, &admin, &articles.start(), json!(["article.*"])).await;

    let call = async |method: Method, path: &str, body: Option<Value>| {
        let r = send(&app, method, path, Some(&admin), body, &[]).await;
        assert!(r.status.is_success(), "{path}: {} {}", r.status, r.text);
        r.json
    };
    let created = call(
        Method::POST,
        "/api/v1/admin/categories",
        Some(json!({"name": "Thế giới"})),
    )
    .await;
    let id = created["id"].as_i64().unwrap();
    call(
        Method::PATCH,
        &format!("/api/v1/admin/categories/{id}"),
        Some(json!({"name": "Quốc tế", "slug": "quoc-te"})),
    )
    .await;
    call(
        Method::DELETE,
        &format!("/api/v1/admin/categories/{id}"),
        None,
    )
    .await;

    categories
        .until(10, "three category events", |got| got.len() >= 3)
        .await;
    let got = categories.delivered();
    let seen: Vec<(String, String)> = got
        .iter()
        .map(|r| {
            let v = r.json();
            assert_eq!(v["data"]["id"], id);
            (
                v["type"].as_str().unwrap().to_owned(),
                v["data"]["slug"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let mut sorted = seen.clone();
    sorted.sort();
    assert_eq!(
        sorted,
        [
            ("category.created".to_owned(), "the-gioi".to_owned()),
            ("category.deleted".to_owned(), "quoc-te".to_owned()),
            ("category.updated".to_owned(), "quoc-te".to_owned()),
        ]
    );
    for r in &got {
        verify(&secret, r);
        let v = r.json();
        let want = format!("/api/v1/categories/{}", v["data"]["slug"].as_str().unwrap());
        assert!(
            v["data"]["api_url"].as_str().unwrap().ends_with(&want),
            "{}",
            r.body
        );
    }
    // An article subscriber heard none of it.
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(articles.got().is_empty(), "{:#?}", articles.got());

    // Unknown event names are still refused, with the list.
    let r = send(
        &app,
        Method::POST,
        "/api/v1/admin/webhooks",
        Some(&admin),
        Some(json!({"url": categories.start(), "events": ["category.renamed"]})),
        &[],
    )
    .await;
    assert_eq!(r.status, 422, "{}", r.text);
    assert!(r.text.contains("category.*"), "{}", r.text);
}
