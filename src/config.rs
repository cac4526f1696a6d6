//! Settings from command-line flags and the environment. Every setting has a
//! default, so `newsroom` runs with none given.

use std::path::PathBuf;

use chrono_tz::Tz;
use clap::{Args, Parser, Subcommand};

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
    /// Seconds a public GET response may be served from the in-process cache
    /// (0 turns the cache off).
    #[arg(long, env = "NEWSROOM_CACHE_TTL", default_value_t = 1, global = true)]
    pub cache_ttl: u64,
}

impl Options {
    pub fn listen_addr(&self) -> String {
        match (&self.addr, self.port) {
            (Some(addr), _) => addr.clone(),
            (None, Some(port)) => format!("0.0.0.0:{port}"),
            (None, None) => "127.0.0.1:8080".to_owned(),
        }
    }

    pub fn settings(&self) -> Settings {
        Settings {
            site_url: self.site_url.trim_end_matches('/').to_owned(),
            timezone: self.timezone,
            cache_ttl_secs: self.cache_ttl,
        }
    }
}

/// What request handlers need to know about the deployment.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Without a trailing slash.
    pub site_url: String,
    pub timezone: Tz,
    pub cache_ttl_secs: u64,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            site_url: "http://localhost:8080".into(),
            timezone: chrono_tz::Asia::Ho_Chi_Minh,
            cache_ttl_secs: 0,
        }
    }
}
