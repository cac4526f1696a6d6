//! The test harness: one private PostgreSQL cluster per test run, a migrated
//! template database, and per test a fresh database cloned from it plus the
//! real application served on a port-0 listener.

use std::net::TcpListener;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock};

use actix_web::dev::ServerHandle;
use diesel_async::{AsyncConnection, AsyncPgConnection};
use newsroom::api::AppState;
use newsroom::config::Settings;
use newsroom::db::embedded::APP_ROLE;
use newsroom::db::{self, ClusterOptions, EmbeddedPostgres};
use reqwest::StatusCode;
use reqwest::header::HeaderMap;
use serde_json::Value;

pub const TEMPLATE: &str = "newsroom_template";
pub const SITE_URL: &str = "http://news.test";

struct Cluster {
    pg: Mutex<Option<EmbeddedPostgres>>,
    data_dir: PathBuf,
    /// As the application role, with `{db}` for the database.
    app_url: String,
    /// As the superuser, for creating and dropping databases.
    admin_url: String,
}

static CLUSTER: OnceLock<Cluster> = OnceLock::new();
static NEXT_DB: AtomicUsize = AtomicUsize::new(0);

unsafe extern "C" {
    fn atexit(callback: extern "C" fn()) -> std::os::raw::c_int;
}

/// Runs when the test binary exits: stop the cluster and delete its files.
extern "C" fn stop_cluster() {
    if let Some(cluster) = CLUSTER.get() {
        if let Some(mut pg) = cluster.pg.lock().ok().and_then(|mut pg| pg.take()) {
            pg.stop();
        }
        let _ = std::fs::remove_dir_all(&cluster.data_dir);
    }
}

fn cluster() -> &'static Cluster {
    CLUSTER.get_or_init(|| {
        let _ = env_logger::builder().is_test(true).try_init();
        remove_stale_clusters();
        let data_dir = std::env::temp_dir().join(format!("newsroom-test-{}", std::process::id()));
        let pg = EmbeddedPostgres::start(&data_dir, ClusterOptions { ephemeral: true })
            .expect("starting the test PostgreSQL cluster");
        let data_dir = pg.data_dir().to_path_buf();
        let admin = pg.admin_url("postgres");
        let template = pg.url(TEMPLATE);
        let app_url = pg.url("{db}");
        let admin_url = pg.admin_url("{db}");
        // Migrating needs a runtime of its own: the caller may be inside one.
        // The template is migrated as the application role, as `newsroom
        // serve` is: the tests prove it needs no superuser.
        let pg = std::thread::spawn(move || {
            let rt = tokio::runtime::Runtime::new().expect("a runtime");
            rt.block_on(async {
                db::ensure_app_role(&pg).await?;
                db::create_database(&admin, TEMPLATE, None, Some(APP_ROLE)).await?;
                db::run_migrations(&template).await?;
                anyhow::Ok(pg)
            })
        })
        .join()
        .expect("the template thread")
        .expect("creating the template database");
        unsafe {
            atexit(stop_cluster);
        }
        Cluster {
            pg: Mutex::new(Some(pg)),
            data_dir,
            app_url,
            admin_url,
        }
    })
}

/// Clusters of earlier runs whose test process died without cleaning up.
fn remove_stale_clusters() {
    let Ok(entries) = std::fs::read_dir(std::env::temp_dir()) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(pid) = name
            .strip_prefix("newsroom-test-")
            .and_then(|p| p.parse::<u32>().ok())
        else {
            continue;
        };
        if PathBuf::from(format!("/proc/{pid}")).exists() {
            continue;
        }
        EmbeddedPostgres::stop_abandoned(&entry.path());
        let _ = std::fs::remove_dir_all(entry.path());
    }
}

/// `database` as the application role.
pub fn url(database: &str) -> String {
    cluster().app_url.replace("{db}", database)
}

/// `database` as the superuser.
pub fn admin_url(database: &str) -> String {
    cluster().admin_url.replace("{db}", database)
}

/// The settings tests run with unless they say otherwise.
pub fn settings() -> Settings {
    Settings {
        site_url: SITE_URL.into(),
        // Tests write view counts when they choose to.
        view_flush_secs: 3600,
        ..Settings::default()
    }
}

/// A running application on its own database.
pub struct TestApp {
    pub base: String,
    pub client: reqwest::Client,
    pub database: String,
    handle: ServerHandle,
    shared: newsroom::Shared,
    /// Whether dropping this app drops its database (not for a second
    /// instance on another's database).
    owns_database: bool,
}

impl TestApp {
    /// An empty database (migrated, no content).
    pub async fn spawn() -> Self {
        Self::spawn_with(settings()).await
    }

    /// With the demo content loaded.
    pub async fn with_demo() -> Self {
        let app = Self::spawn().await;
        let mut conn = app.conn().await;
        assert!(
            newsroom::seed::demo::load(&mut conn)
                .await
                .expect("demo loads")
        );
        app
    }

    pub async fn spawn_with(settings: Settings) -> Self {
        let cluster = cluster();
        let database = format!(
            "test_{}_{}",
            std::process::id(),
            NEXT_DB.fetch_add(1, Ordering::Relaxed)
        );
        db::create_database(
            &admin_url("postgres"),
            &database,
            Some(TEMPLATE),
            Some(APP_ROLE),
        )
        .await
        .expect("cloning the template");
        let _ = cluster;
        let caching = settings.cache_ttl_secs > 0;
        let app = Self::serve_on(database, settings, true);
        if caching {
            app.until_caching().await;
        }
        app
    }

    /// Another instance serving this app's database, as a second server
    /// behind a load balancer would.
    pub async fn another_instance(&self, settings: Settings) -> Self {
        let caching = settings.cache_ttl_secs > 0;
        let app = Self::serve_on(self.database.clone(), settings, false);
        if caching {
            app.until_caching().await;
        }
        app
    }

    /// Waits until the response cache (when on) hears purges and keeps
    /// responses.
    pub async fn until_caching(&self) {
        for _ in 0..500 {
            if self.shared.is_caching() {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        panic!("the cache never started listening for purges");
    }

    fn serve_on(database: String, settings: Settings, owns_database: bool) -> Self {
        let pool = db::pool(&url(&database), 4).expect("a pool");
        let state = AppState::new(pool, settings);
        let listener = TcpListener::bind("127.0.0.1:0").expect("a port");
        let port = listener.local_addr().expect("an address").port();
        let shared = newsroom::Shared::new(state);
        let server = newsroom::serve(listener, shared.clone(), Some(1)).expect("the server starts");
        let handle = server.handle();
        actix_web::rt::spawn(server);
        Self {
            base: format!("http://127.0.0.1:{port}"),
            // Idle connections are dropped before the server's 5 s
            // keep-alive ends, so no request races the server's close.
            client: reqwest::Client::builder()
                .pool_idle_timeout(std::time::Duration::from_secs(2))
                .build()
                .expect("a client"),
            database,
            handle,
            shared,
            owns_database,
        }
    }

    /// Writes the buffered view counts now; how many views were written.
    pub async fn flush_views(&self) -> i64 {
        self.shared.flush_views().await.expect("the flush")
    }

    /// Stops the server gracefully and then writes the buffered views, as
    /// `newsroom serve` does on SIGTERM; how many views were written.
    pub async fn stop(&self) -> i64 {
        self.handle.stop(true).await;
        self.shared
            .flush_views_after_stop()
            .await
            .expect("the flush")
    }

    /// A direct connection to this test's database, for fixtures.
    pub async fn conn(&self) -> AsyncPgConnection {
        AsyncPgConnection::establish(&url(&self.database))
            .await
            .expect("a connection")
    }

    pub async fn get(&self, path: &str) -> Response {
        self.request(reqwest::Method::GET, path, &[]).await
    }

    pub async fn request(
        &self,
        method: reqwest::Method,
        path: &str,
        headers: &[(&str, &str)],
    ) -> Response {
        let mut request = self.client.request(method, format!("{}{path}", self.base));
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let response = request.send().await.expect("the request is answered");
        let status = response.status();
        let headers = response.headers().clone();
        let text = response.text().await.expect("a body");
        let json = serde_json::from_str(&text).unwrap_or(Value::Null);
        Response {
            status,
            headers,
            text,
            json,
        }
    }

    /// The slugs of a list response's items.
    pub async fn slugs(&self, path: &str) -> Vec<String> {
        let response = self.get(path).await;
        assert_eq!(response.status, 200, "{path}: {}", response.text);
        slugs(&response.json)
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        // The stop command is sent now; its completion would need this very
        // thread's runtime, so it is not awaited.
        drop(self.handle.stop(false));
        if !self.owns_database {
            return;
        }
        let database = self.database.clone();
        // DROP DATABASE ... WITH (FORCE) closes the server's pooled connections.
        std::thread::spawn(move || {
            let rt = tokio::runtime::Runtime::new().expect("a runtime");
            rt.block_on(db::drop_database(&admin_url("postgres"), &database))
        })
        .join()
        .ok();
    }
}

pub struct Response {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub text: String,
    pub json: Value,
}

impl Response {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Asserts an RFC 9457 problem with this status and code.
    pub fn assert_problem(&self, status: u16, code: &str) {
        assert_eq!(self.status.as_u16(), status, "{}", self.text);
        assert_eq!(
            self.header("content-type"),
            Some("application/problem+json"),
            "{}",
            self.text
        );
        assert_eq!(self.json["status"], status, "{}", self.text);
        assert_eq!(self.json["code"], code, "{}", self.text);
        assert_eq!(
            self.json["type"],
            format!("urn:newsroom:problem:{code}"),
            "{}",
            self.text
        );
        assert!(self.json["title"].is_string() && self.json["detail"].is_string());
    }
}

pub fn slugs(list: &Value) -> Vec<String> {
    list["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|i| i["slug"].as_str().expect("slug").to_owned())
        .collect()
}
