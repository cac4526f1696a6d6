//! The `newsroom` binary: parse the command line, find or start the
//! database, apply migrations, then serve or run the one-off command.

use std::net::TcpListener;
use std::process::ExitCode;

use anyhow::Context;
use clap::Parser;
use diesel_async::{AsyncConnection, AsyncPgConnection};

use newsroom::config::{Cli, Command, Options};
use newsroom::db::{self, ClusterOptions, EmbeddedPostgres};
use newsroom::{api::AppState, openapi, seed};

const DATABASE: &str = "newsroom";

#[actix_web::main]
async fn main() -> ExitCode {
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("info")).init();
    let cli = Cli::parse();
    match run(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    let command = cli.command.unwrap_or(Command::Serve);
    if let Command::Openapi = command {
        print!("{}", openapi::spec_json());
        return Ok(());
    }
    let options = cli.options;
    // Kept alive until the command ends; dropping it stops a cluster we started.
    let (url, cluster) = database(&options).await?;
    let applied = db::run_migrations(&url).await?;
    if applied > 0 {
        log::info!("applied {applied} migration(s)");
    }
    match command {
        Command::Migrate => println!("database is up to date ({applied} migration(s) applied)"),
        Command::Seed(args) => {
            if args.demo {
                let mut conn = AsyncPgConnection::establish(&url).await?;
                if seed::demo::load(&mut conn).await? {
                    println!("demo content loaded");
                } else {
                    println!("articles already exist; demo content not loaded");
                }
            } else if let Some(n) = args.synthetic {
                let started = std::time::Instant::now();
                let inserted = seed::synthetic::load(&url, n).await?;
                println!(
                    "inserted {inserted} synthetic articles in {:.1}s",
                    started.elapsed().as_secs_f64()
                );
            }
        }
        Command::Serve => {
            // Checked before seeding, so a misconfigured start changes nothing.
            let settings = options.settings(cluster.is_some())?;
            if cluster.is_some() {
                let mut conn = AsyncPgConnection::establish(&url).await?;
                if seed::demo::load(&mut conn).await? {
                    log::info!("empty database: loaded the demo content");
                    let password = newsroom::auth::generate_password();
                    seed::demo::create_admin(&mut conn, &password).await?;
                    println!(
                        "Demo admin for the write API: {} / {password}",
                        seed::demo::ADMIN_EMAIL
                    );
                }
            }
            serve(&options, settings, &url).await?;
        }
        Command::User(command) => {
            let mut conn = AsyncPgConnection::establish(&url).await?;
            newsroom::users::run(&mut conn, command).await?;
        }
        Command::Key(command) => {
            let mut conn = AsyncPgConnection::establish(&url).await?;
            newsroom::partners::cli::run(&mut conn, command).await?;
        }
        Command::Openapi => unreachable!("handled above"),
    }
    drop(cluster);
    Ok(())
}

/// DATABASE_URL when set; otherwise the private cluster under --data-dir,
/// with its `newsroom` database created on first use.
async fn database(options: &Options) -> anyhow::Result<(String, Option<EmbeddedPostgres>)> {
    if let Some(url) = &options.database_url {
        return Ok((url.clone(), None));
    }
    let data_dir = options.data_dir.join("pg");
    let cluster = tokio::task::spawn_blocking(move || {
        EmbeddedPostgres::start(&data_dir, ClusterOptions::default())
    })
    .await??;
    db::ensure_app_role(&cluster).await?;
    let owner = Some(db::embedded::APP_ROLE);
    db::create_database(&cluster.admin_url("postgres"), DATABASE, None, owner).await?;
    Ok((cluster.url(DATABASE), Some(cluster)))
}

async fn serve(
    options: &Options,
    settings: newsroom::config::Settings,
    url: &str,
) -> anyhow::Result<()> {
    let pool = db::pool(url, options.pool_size)?;
    let replica_urls = options.replica_urls();
    let replicas = db::replicas::Replicas::new(
        &replica_urls,
        options.pool_size,
        std::time::Duration::from_secs(options.replica_max_lag),
    )?;
    if !replica_urls.is_empty() {
        log::info!(
            "{} read replica(s); skipped when more than {} s behind",
            replica_urls.len(),
            options.replica_max_lag
        );
    }
    let state = AppState::new(pool, settings).with_replicas(replicas);
    let addr = options.listen_addr();
    let listener = TcpListener::bind(&addr).with_context(|| format!("binding {addr}"))?;
    log::info!(
        "serving on http://{} (API under /api/v1, docs at /docs)",
        listener.local_addr()?
    );
    let shared = newsroom::Shared::new(state);
    newsroom::serve(listener, shared.clone(), options.workers)?
        .await
        .context("running the HTTP server")?;
    let written = shared.flush_views_after_stop().await?;
    let used = shared.flush_usage_after_stop().await?;
    log::info!("stopped; wrote {written} buffered view(s) and {used} keyed request(s)");
    Ok(())
}
