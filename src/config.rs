//! Settings from command-line flags and the environment. Every setting has a
//! default, so `newsroom` runs with none given.

use std::path::PathBuf;

use chrono_tz::Tz;
use clap::{Args, Parser, Subcommand};
use ipnet::IpNet;

use crate::auth::TokenKeys;
use crate::http::cache_control::{CachePolicy, EdgeTtls};
use crate::http::cors::CorsOrigins;
use crate::media::MediaSettings;
use crate::media::storage::{S3Config, Storage};

#[derive(Debug, Parser)]
#[command(
    name = "newsroom",
    version,
    about = "Headless JSON/REST content API for news publishers"
)]
pub struct Cli {
    #[command(flatten)]
    pub options: Options,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the API (the default). Without DATABASE_URL, runs a private
    /// PostgreSQL cluster and loads the demo content into an empty database.
    Serve,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Load content into the database.
    Seed(SeedArgs),
    /// Print the OpenAPI spec (JSON) to standard output.
    Openapi,
    /// Manage staff accounts.
    #[command(subcommand)]
    User(UserCommand),
    /// Manage partner API keys.
    #[command(subcommand)]
    Key(KeyCommand),
}

#[derive(Debug, Subcommand)]
pub enum KeyCommand {
    /// Create a key; its secret is printed once and never again.
    Create {
        /// Who the key is for (1 to 200 characters).
        #[arg(long)]
        name: String,
        /// How to reach them: an email address, a URL, a name.
        #[arg(long, default_value = "")]
        contact: String,
        /// `read` (implied) or `full_text`; repeat for several.
        #[arg(long = "scope", value_parser = ["read", "full_text"])]
        scopes: Vec<String>,
        /// Requests per minute (default 1200).
        #[arg(long)]
        per_minute: Option<i64>,
        /// Requests allowed at once on top of the steady rate (default 120).
        #[arg(long)]
        burst: Option<i64>,
        /// When the key stops working, RFC 3339 (`2027-01-01T00:00:00+07:00`).
        #[arg(long, value_parser = rfc3339)]
        expires: Option<chrono::DateTime<chrono::Utc>>,
    },
    /// List keys (never their secrets).
    List,
    /// Give a key a new secret, printed once; the old one stops working.
    Rotate {
        /// The key's id, as `key list` shows it.
        id: i64,
    },
    /// Revoke a key for good.
    Revoke {
        /// The key's id, as `key list` shows it.
        id: i64,
    },
}

fn rfc3339(text: &str) -> Result<chrono::DateTime<chrono::Utc>, String> {
    chrono::DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&chrono::Utc))
        .map_err(|e| format!("`{text}` is not an RFC 3339 time: {e}"))
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create an account. The password is read from standard input, or
    /// generated and printed when standard input is a terminal or empty.
    Create {
        #[arg(long)]
        email: String,
        #[arg(long, value_parser = ["admin", "editor", "author", "contributor"])]
        role: String,
        #[arg(long)]
        name: Option<String>,
    },
    /// List accounts.
    List,
    /// Change an account's role.
    SetRole {
        #[arg(long)]
        email: String,
        #[arg(long, value_parser = ["admin", "editor", "author", "contributor"])]
        role: String,
    },
    /// Disable an account and revoke its sign-ins.
    Disable {
        #[arg(long)]
        email: String,
    },
}

#[derive(Debug, Args)]
#[group(required = true, multiple = false)]
pub struct SeedArgs {
    /// The small demo site (idempotent: skipped when articles exist).
    #[arg(long)]
    pub demo: bool,
    /// N synthetic Vietnamese articles for benchmarks.
    #[arg(long, value_name = "N")]
    pub synthetic: Option<u64>,
}

#[derive(Debug, Clone, Args)]
pub struct Options {
    /// PostgreSQL URL. When unset, a private cluster under --data-dir is used.
    #[arg(long, env = "DATABASE_URL", global = true, hide_env_values = true)]
    pub database_url: Option<String>,
    /// Read replicas: PostgreSQL URLs of streaming replicas of DATABASE_URL
    /// (comma-separated). Anonymous public reads go to one that is up and
    /// within NEWSROOM_REPLICA_MAX_LAG; staff requests, writes and the
    /// reads right after a write go to the primary. `/readyz` shows each.
    #[arg(
        long,
        env = "DATABASE_REPLICA_URLS",
        value_delimiter = ',',
        global = true,
        hide_env_values = true
    )]
    pub database_replica_urls: Vec<String>,
    /// Seconds a read replica may be behind the primary before reads skip
    /// it (checked every second against the primary's WAL position).
    #[arg(long, env = "NEWSROOM_REPLICA_MAX_LAG", default_value_t = 5, global = true,
          value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub replica_max_lag: u64,
    /// Address to listen on. `PORT` alone also works (binds 0.0.0.0:PORT).
    #[arg(long, env = "NEWSROOM_ADDR", global = true)]
    pub addr: Option<String>,
    #[arg(long, env = "PORT", global = true, hide = true)]
    pub port: Option<u16>,
    /// Where the private PostgreSQL cluster lives when DATABASE_URL is unset.
    #[arg(
        long,
        env = "NEWSROOM_DATA_DIR",
        default_value = ".newsroom",
        global = true
    )]
    pub data_dir: PathBuf,
    /// Database connections per process.
    #[arg(long, env = "NEWSROOM_POOL_SIZE", default_value_t = 16, global = true)]
    pub pool_size: usize,
    /// HTTP worker threads (default: one per core).
    #[arg(long, env = "NEWSROOM_WORKERS", global = true)]
    pub workers: Option<usize>,
    /// The site's time zone: times in responses carry its offset.
    #[arg(
        long,
        env = "NEWSROOM_TIMEZONE",
        default_value = "Asia/Ho_Chi_Minh",
        global = true
    )]
    pub timezone: Tz,
    /// The public web address of the site, for canonical and media URLs.
    #[arg(
        long,
        env = "NEWSROOM_SITE_URL",
        default_value = "http://localhost:8080",
        global = true
    )]
    pub site_url: String,
    /// Seconds a public GET response may be kept in the in-process cache at
    /// most (0 turns the cache off). Writes purge what they change at once;
    /// this is only a safety net.
    #[arg(
        long,
        env = "NEWSROOM_CACHE_TTL",
        default_value_t = 3600,
        global = true
    )]
    pub cache_ttl: u64,
    /// Megabytes of responses the in-process cache holds at most.
    #[arg(long, env = "NEWSROOM_CACHE_MB", default_value_t = 256, global = true,
          value_parser = clap::value_parser!(u64).range(1..=1_048_576))]
    pub cache_mb: u64,
    /// Seconds an article's scored related list (`strategy=auto`) is kept
    /// in the database and used before it is scored again (0: scored on
    /// every request). A change to the article or its tags drops it at once;
    /// articles published since are missed until then.
    #[arg(long, env = "NEWSROOM_RELATED_MAX_AGE", default_value_t = 600, global = true,
          value_parser = clap::value_parser!(u64).range(0..=86_400))]
    pub related_max_age: u64,
    /// Where to send edge purges (comma-separated URLs, e.g. a Varnish with
    /// the xkey module): after each write, one `PURGE` request to each,
    /// naming the keys in `xkey-purge`. Setting it raises the default
    /// `s-maxage` values (see NEWSROOM_EDGE_TTL).
    #[arg(
        long,
        env = "NEWSROOM_PURGE_URLS",
        value_delimiter = ',',
        global = true
    )]
    pub purge_urls: Vec<String>,
    /// A file holding the secret for signing staff access tokens (at least
    /// 32 bytes). The environment variable JWT_SECRET works too; there is
    /// no flag for the secret itself, which `ps` would show to every user.
    #[arg(long, env = "NEWSROOM_JWT_SECRET_FILE", global = true)]
    pub jwt_secret_file: Option<PathBuf>,
    /// Lifetime of staff access tokens, in seconds.
    #[arg(
        long,
        env = "NEWSROOM_ACCESS_TOKEN_TTL",
        default_value_t = 900,
        global = true
    )]
    pub access_token_ttl: i64,
    /// Lifetime of staff refresh tokens, in days.
    #[arg(
        long,
        env = "NEWSROOM_REFRESH_TOKEN_DAYS",
        default_value_t = 30,
        global = true
    )]
    pub refresh_token_days: i64,
    /// Seconds during which repeated views of an article from one client
    /// count once.
    #[arg(
        long,
        env = "NEWSROOM_VIEW_WINDOW",
        default_value_t = 600,
        global = true
    )]
    pub view_window: u64,
    /// Seconds between writes of buffered view counts to the database.
    #[arg(long, env = "NEWSROOM_VIEW_FLUSH", default_value_t = 5, global = true)]
    pub view_flush: u64,
    /// Days the change feed keeps its changes and tombstones: a `since`
    /// token older than this answers 410 (sync again from a full list),
    /// and an article unpublished longer ago answers 404 instead of 410.
    #[arg(long, env = "NEWSROOM_CHANGES_DAYS", default_value_t = 30, global = true,
          value_parser = clap::value_parser!(u64).range(1..=3650))]
    pub changes_days: u64,
    /// Whether webhook endpoints may be on loopback, private, link-local or
    /// CGNAT addresses (refused by default, also after DNS resolution).
    #[arg(
        long,
        env = "NEWSROOM_WEBHOOK_ALLOW_PRIVATE",
        default_value_t = false,
        global = true
    )]
    pub webhook_allow_private: bool,
    /// Milliseconds before a webhook's first retry; each retry waits twice
    /// as long (with ±20% jitter), at most 720 times this (an hour by
    /// default).
    #[arg(long, env = "NEWSROOM_WEBHOOK_BACKOFF_MS", default_value_t = 5000, global = true,
          value_parser = clap::value_parser!(u64).range(1..=3_600_000))]
    pub webhook_backoff_ms: u64,
    /// Attempts of one webhook delivery before it is marked failed (and
    /// its endpoint disabled): 34 span about a day (24.4 h) with the
    /// default backoff.
    #[arg(long, env = "NEWSROOM_WEBHOOK_ATTEMPTS", default_value_t = 34, global = true,
          value_parser = clap::value_parser!(u32).range(1..=100))]
    pub webhook_attempts: u32,
    /// Milliseconds a webhook endpoint has to answer.
    #[arg(long, env = "NEWSROOM_WEBHOOK_TIMEOUT_MS", default_value_t = 10_000, global = true,
          value_parser = clap::value_parser!(u64).range(100..=60_000))]
    pub webhook_timeout_ms: u64,
    /// Whether this instance sends webhooks (every instance does by
    /// default; `false` makes one that only serves).
    #[arg(long, env = "NEWSROOM_WEBHOOK_DELIVERY", default_value_t = true,
          action = clap::ArgAction::Set, global = true)]
    pub webhook_delivery: bool,
    /// A PEM file of certificate authorities trusted for https webhook
    /// endpoints besides the system's (a company CA, a test CA).
    #[arg(long, env = "NEWSROOM_WEBHOOK_CA_FILE", global = true)]
    pub webhook_ca_file: Option<std::path::PathBuf>,
    /// At most this many views of one article count from one client
    /// address per view window, whatever its other headers say.
    #[arg(
        long,
        env = "NEWSROOM_VIEWS_PER_ADDRESS",
        default_value_t = 20,
        global = true
    )]
    pub views_per_address: u32,
    /// Proxies (addresses or CIDR blocks, comma-separated) whose
    /// `Forwarded` / `X-Forwarded-For` headers are believed: your load
    /// balancer or CDN. Empty (the default): the peer address is the client.
    #[arg(
        long,
        env = "NEWSROOM_TRUSTED_PROXIES",
        value_delimiter = ',',
        value_parser = proxy,
        global = true
    )]
    pub trusted_proxies: Vec<IpNet>,
    /// Origins whose pages may call the API from a browser, comma-separated
    /// (`https://www.example.vn,https://cms.example.vn`). `*` opens the
    /// public read API to every origin; the staff API only ever answers
    /// listed origins. Empty (the default): no cross-origin access.
    #[arg(
        long,
        env = "NEWSROOM_CORS_ORIGINS",
        value_delimiter = ',',
        global = true
    )]
    pub cors_origins: Vec<String>,
    /// Seconds shared caches (a CDN, Varnish) may keep each kind of public
    /// response (`s-maxage`): `article=60,list=30,search=30,taxonomy=300`,
    /// or with NEWSROOM_PURGE_URLS set (purges reach the edge)
    /// `article=3600,list=300,search=300,taxonomy=3600`; kinds left out keep
    /// these defaults.
    #[arg(long, env = "NEWSROOM_EDGE_TTL", default_value = "", global = true)]
    pub edge_ttl: String,
    /// Seconds a shared cache may serve a stale copy while it refetches.
    #[arg(
        long,
        env = "NEWSROOM_STALE_WHILE_REVALIDATE",
        default_value_t = 30,
        global = true
    )]
    pub stale_while_revalidate: u32,
    /// Seconds a shared cache may serve a stale copy while the API is down.
    #[arg(
        long,
        env = "NEWSROOM_STALE_IF_ERROR",
        default_value_t = 86_400,
        global = true
    )]
    pub stale_if_error: u32,
    /// Requests per minute that each client address without an API key may
    /// make to the public API, per instance (GCRA: this steady rate, plus
    /// bursts of NEWSROOM_RATE_LIMIT_ANON_BURST). 0 turns the limit off.
    #[arg(
        long,
        env = "NEWSROOM_RATE_LIMIT_ANON_PER_MIN",
        default_value_t = 600,
        global = true
    )]
    pub rate_limit_anon_per_min: u32,
    /// Requests an anonymous client address may make at once.
    #[arg(long, env = "NEWSROOM_RATE_LIMIT_ANON_BURST", default_value_t = 200, global = true,
          value_parser = clap::value_parser!(u32).range(1..))]
    pub rate_limit_anon_burst: u32,
    /// Seconds an instance remembers a checked API key. A change made on
    /// an instance applies there at once; other instances see it within
    /// this time. 0: every keyed request reads the key from the database.
    #[arg(
        long,
        env = "NEWSROOM_API_KEY_CACHE_SECS",
        default_value_t = 10,
        global = true
    )]
    pub api_key_cache_secs: u64,
    /// The publication's name, as feeds and the Google News sitemap show it.
    #[arg(
        long,
        env = "NEWSROOM_SITE_NAME",
        default_value = "Newsroom",
        global = true
    )]
    pub site_name: String,
    /// Articles in each RSS and JSON feed, newest first (1 to 500).
    #[arg(long, env = "NEWSROOM_FEED_ITEMS", default_value_t = 50, global = true,
          value_parser = clap::value_parser!(u16).range(1..=500))]
    pub feed_items: u16,
    /// Where uploaded images and their renditions are kept when no S3
    /// bucket is set (default: `media` under --data-dir).
    #[arg(long, env = "NEWSROOM_MEDIA_DIR", global = true)]
    pub media_dir: Option<PathBuf>,
    /// An S3 (or S3-compatible) bucket for media instead of the local
    /// folder. Credentials come from NEWSROOM_MEDIA_S3_ACCESS_KEY_ID and
    /// NEWSROOM_MEDIA_S3_SECRET_ACCESS_KEY (or the usual AWS_* variables).
    #[arg(long, env = "NEWSROOM_MEDIA_S3_BUCKET", global = true)]
    pub media_s3_bucket: Option<String>,
    /// The S3 endpoint, for S3-compatible stores (MinIO, Garage, R2…);
    /// AWS itself when unset.
    #[arg(long, env = "NEWSROOM_MEDIA_S3_ENDPOINT", global = true)]
    pub media_s3_endpoint: Option<String>,
    /// The bucket's region.
    #[arg(
        long,
        env = "NEWSROOM_MEDIA_S3_REGION",
        default_value = "us-east-1",
        global = true
    )]
    pub media_s3_region: String,
    /// Bytes an uploaded image may have at most.
    #[arg(long, env = "NEWSROOM_MEDIA_MAX_BYTES", default_value_t = 30 * 1024 * 1024, global = true,
          value_parser = clap::value_parser!(u64).range(1024..=1024 * 1024 * 1024))]
    pub media_max_bytes: u64,
    /// Pixels (width × height) an uploaded image may have at most: checked
    /// from its header before anything is decoded, so a decompression bomb
    /// costs nothing.
    #[arg(long, env = "NEWSROOM_MEDIA_MAX_PIXELS", default_value_t = 50_000_000, global = true,
          value_parser = clap::value_parser!(u64).range(1..=1_000_000_000))]
    pub media_max_pixels: u64,
    /// Rendition widths in pixels, comma-separated (never wider than the
    /// original: a narrower one gets its own width as the largest).
    #[arg(
        long,
        env = "NEWSROOM_MEDIA_WIDTHS",
        value_delimiter = ',',
        default_value = "320,480,640,960,1280,1600,2048",
        global = true
    )]
    pub media_widths: Vec<u32>,
    /// Rendition crops, comma-separated: `original` and aspect ratios
    /// `W:H` (cut around each image's focal point).
    #[arg(
        long,
        env = "NEWSROOM_MEDIA_CROPS",
        value_delimiter = ',',
        default_value = "original,16:9,4:3,1:1",
        global = true
    )]
    pub media_crops: Vec<String>,
    /// Lossy quality of JPEG and WebP renditions (1 to 100).
    #[arg(long, env = "NEWSROOM_MEDIA_QUALITY", default_value_t = 80, global = true,
          value_parser = clap::value_parser!(u8).range(1..=100))]
    pub media_quality: u8,
    /// Whether an upload makes all its renditions at once in the
    /// background (otherwise each is made on its first request).
    #[arg(long, env = "NEWSROOM_MEDIA_EAGER", default_value_t = true,
          action = clap::ArgAction::Set, global = true)]
    pub media_eager: bool,
}

impl Options {
    /// The read replicas' URLs, blanks left out.
    pub fn replica_urls(&self) -> Vec<String> {
        self.database_replica_urls
            .iter()
            .map(|u| u.trim().to_owned())
            .filter(|u| !u.is_empty())
            .collect()
    }

    pub fn listen_addr(&self) -> String {
        match (&self.addr, self.port) {
            (Some(addr), _) => addr.clone(),
            (None, Some(port)) => format!("0.0.0.0:{port}"),
            (None, None) => "127.0.0.1:8080".to_owned(),
        }
    }

    /// The settings for handlers. Without a configured signing secret, a
    /// development run (`development`: the private cluster) makes up one;
    /// a production run refuses to start.
    pub fn settings(&self, development: bool) -> anyhow::Result<Settings> {
        let from_env = std::env::var("JWT_SECRET").ok().filter(|s| !s.is_empty());
        let secret = match (from_env, &self.jwt_secret_file) {
            (Some(secret), _) => secret.trim().as_bytes().to_vec(),
            (None, Some(file)) => std::fs::read_to_string(file)
                .map_err(|e| {
                    anyhow::anyhow!("reading the JWT secret file {}: {e}", file.display())
                })?
                .trim()
                .as_bytes()
                .to_vec(),
            (None, None) if development => {
                log::warn!(
                    "no JWT_SECRET configured: signing staff tokens with a random secret for this run \
                     (tokens stop working when it restarts)"
                );
                TokenKeys::random_secret()
            }
            (None, None) => anyhow::bail!(
                "JWT_SECRET (or NEWSROOM_JWT_SECRET_FILE) must be set when DATABASE_URL is: \
                 staff tokens need a signing secret of at least 32 bytes shared by every instance"
            ),
        };
        anyhow::ensure!(
            self.access_token_ttl > 0 && self.refresh_token_days > 0,
            "token lifetimes must be positive"
        );
        anyhow::ensure!(
            self.view_flush > 0,
            "NEWSROOM_VIEW_FLUSH must be at least 1 second"
        );
        Ok(Settings {
            site_url: self.site_url.trim_end_matches('/').to_owned(),
            timezone: self.timezone,
            cache_ttl_secs: self.cache_ttl,
            cache_bytes: self.cache_mb * 1024 * 1024,
            related_max_age: std::time::Duration::from_secs(self.related_max_age),
            purge_urls: purge_urls(&self.purge_urls)?,
            view_window_secs: self.view_window,
            view_flush_secs: self.view_flush,
            changes_days: self.changes_days,
            webhooks: WebhookSettings {
                allow_private: self.webhook_allow_private,
                backoff: std::time::Duration::from_millis(self.webhook_backoff_ms),
                attempts: self.webhook_attempts,
                timeout: std::time::Duration::from_millis(self.webhook_timeout_ms),
                deliver: self.webhook_delivery,
                extra_roots: match &self.webhook_ca_file {
                    Some(path) => read_roots(path)?,
                    None => Vec::new(),
                },
            },
            views_per_address: self.views_per_address,
            trusted_proxies: self.trusted_proxies.clone(),
            cors: CorsOrigins::parse(&self.cors_origins)?,
            cache_control: CachePolicy::new(
                {
                    let base = if self.purge_urls.is_empty() {
                        EdgeTtls::default()
                    } else {
                        EdgeTtls::purged()
                    };
                    base.overridden_by(&self.edge_ttl)
                        .map_err(|e| anyhow::anyhow!("NEWSROOM_EDGE_TTL: {e}"))?
                },
                self.stale_while_revalidate,
                self.stale_if_error,
            ),
            anon_per_minute: self.rate_limit_anon_per_min,
            anon_burst: self.rate_limit_anon_burst,
            api_key_cache_secs: self.api_key_cache_secs,
            site_name: self.site_name.trim().to_owned(),
            feed_items: self.feed_items,
            media: self.media_settings()?,
            tokens: TokenKeys::new(
                &secret,
                chrono::Duration::seconds(self.access_token_ttl),
                chrono::Duration::days(self.refresh_token_days),
            )?,
        })
    }
}

impl Options {
    /// Media storage and rendition settings; the store is opened (a
    /// local folder is created) here, so a bad setting stops the start.
    fn media_settings(&self) -> anyhow::Result<MediaSettings> {
        let store = match &self.media_s3_bucket {
            Some(bucket) if !bucket.trim().is_empty() => {
                let env = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
                Storage::s3(&S3Config {
                    bucket: bucket.trim().to_owned(),
                    endpoint: self.media_s3_endpoint.clone().filter(|e| !e.is_empty()),
                    region: self.media_s3_region.clone(),
                    access_key_id: env("NEWSROOM_MEDIA_S3_ACCESS_KEY_ID"),
                    secret_access_key: env("NEWSROOM_MEDIA_S3_SECRET_ACCESS_KEY"),
                })?
            }
            _ => Storage::local(
                &self
                    .media_dir
                    .clone()
                    .unwrap_or_else(|| self.data_dir.join("media")),
            )?,
        };
        MediaSettings::new(
            store,
            self.media_max_bytes,
            self.media_max_pixels,
            &self.media_widths,
            &self.media_crops,
            self.media_quality,
            self.media_eager,
        )
        .map_err(|e| anyhow::anyhow!("media settings: {e}"))
    }
}

/// What request handlers need to know about the deployment.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Without a trailing slash.
    pub site_url: String,
    pub timezone: Tz,
    pub cache_ttl_secs: u64,
    /// Bytes of responses the in-process cache holds at most.
    pub cache_bytes: u64,
    /// How long a stored related list is used (zero: never stored).
    pub related_max_age: std::time::Duration,
    /// Edge caches to purge after each write.
    pub purge_urls: Vec<String>,
    /// Repeated views from one client within this many seconds count once.
    pub view_window_secs: u64,
    /// How often buffered view counts are written.
    pub view_flush_secs: u64,
    /// Days the change feed keeps changes and tombstones.
    pub changes_days: u64,
    pub webhooks: WebhookSettings,
    /// Views of one article counted per client address per window.
    pub views_per_address: u32,
    /// Whose forwarding headers name the client.
    pub trusted_proxies: Vec<IpNet>,
    /// Who may call from a browser on another origin.
    pub cors: CorsOrigins,
    /// `Cache-Control` of public responses, per kind.
    pub cache_control: CachePolicy,
    /// Requests per minute per anonymous client address (0: no limit).
    pub anon_per_minute: u32,
    pub anon_burst: u32,
    /// How long a checked API key is remembered (0: not at all).
    pub api_key_cache_secs: u64,
    /// The publication's name in feeds and the news sitemap.
    pub site_name: String,
    /// Articles per RSS / JSON feed.
    pub feed_items: u16,
    /// Where images are stored and which renditions are made.
    pub media: MediaSettings,
    pub tokens: TokenKeys,
}

/// How webhooks are delivered.
#[derive(Debug, Clone)]
pub struct WebhookSettings {
    /// Endpoints on loopback, private and link-local addresses are allowed.
    pub allow_private: bool,
    /// The wait before the first retry (doubling, at most 720 times this).
    pub backoff: std::time::Duration,
    /// Attempts before a delivery is marked failed.
    pub attempts: u32,
    /// How long an endpoint has to answer.
    pub timeout: std::time::Duration,
    /// Whether this instance runs the delivery worker.
    pub deliver: bool,
    /// Certificate authorities trusted for https endpoints besides the
    /// system's.
    pub extra_roots: Vec<rustls::pki_types::CertificateDer<'static>>,
}

/// The certificates of a PEM file (at least one).
fn read_roots(
    path: &std::path::Path,
) -> anyhow::Result<Vec<rustls::pki_types::CertificateDer<'static>>> {
    use rustls::pki_types::pem::PemObject;
    let roots = rustls::pki_types::CertificateDer::pem_file_iter(path)
        .and_then(Iterator::collect::<Result<Vec<_>, _>>)
        .map_err(|e| anyhow::anyhow!("NEWSROOM_WEBHOOK_CA_FILE {}: {e}", path.display()))?;
    anyhow::ensure!(
        !roots.is_empty(),
        "NEWSROOM_WEBHOOK_CA_FILE {} holds no certificate",
        path.display()
    );
    Ok(roots)
}

impl Default for WebhookSettings {
    fn default() -> Self {
        Self {
            allow_private: false,
            backoff: std::time::Duration::from_secs(5),
            attempts: 34,
            timeout: std::time::Duration::from_secs(10),
            deliver: true,
            extra_roots: Vec::new(),
        }
    }
}

impl Default for Settings {
    /// Development defaults with a random signing secret.
    fn default() -> Self {
        Self {
            site_url: "http://localhost:8080".into(),
            timezone: chrono_tz::Asia::Ho_Chi_Minh,
            cache_ttl_secs: 0,
            cache_bytes: 256 * 1024 * 1024,
            related_max_age: std::time::Duration::from_secs(600),
            purge_urls: Vec::new(),
            view_window_secs: 600,
            view_flush_secs: 5,
            changes_days: 30,
            webhooks: WebhookSettings::default(),
            views_per_address: 20,
            trusted_proxies: Vec::new(),
            cors: CorsOrigins::default(),
            cache_control: CachePolicy::default(),
            // Off unless asked for, as the response cache is: tests and
            // development runs send bursts from one address.
            anon_per_minute: 0,
            anon_burst: 200,
            api_key_cache_secs: 10,
            site_name: "Newsroom".into(),
            feed_items: 50,
            // A temporary folder of its own, removed when the last copy of
            // these settings goes (tests run many apps in one process).
            media: MediaSettings::temporary(),
            tokens: TokenKeys::new(
                &TokenKeys::random_secret(),
                chrono::Duration::minutes(15),
                chrono::Duration::days(30),
            )
            .expect("a 32-byte secret is accepted"),
        }
    }
}

/// Purge targets must be absolute http(s) URLs without credentials.
fn purge_urls(given: &[String]) -> anyhow::Result<Vec<String>> {
    given
        .iter()
        .map(|u| u.trim())
        .filter(|u| !u.is_empty())
        .map(|u| {
            let url = reqwest::Url::parse(u)
                .map_err(|e| anyhow::anyhow!("NEWSROOM_PURGE_URLS: `{u}` is not a URL: {e}"))?;
            anyhow::ensure!(
                matches!(url.scheme(), "http" | "https") && url.has_host(),
                "NEWSROOM_PURGE_URLS: `{u}` must be an http or https URL"
            );
            Ok(url.to_string())
        })
        .collect()
}

/// A proxy: an address (`10.0.0.5`) or a block (`10.0.0.0/8`).
fn proxy(text: &str) -> Result<IpNet, String> {
    let text = text.trim();
    text.parse::<IpNet>()
        .or_else(|_| text.parse::<std::net::IpAddr>().map(IpNet::from))
        .map_err(|_| format!("`{text}` is neither an address nor a CIDR block"))
}
