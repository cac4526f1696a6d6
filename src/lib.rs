//! Newsroom: a headless JSON/REST content API for news publishers.
//!
//! [`build_app`] is the one place the HTTP application is assembled; the
//! binary and the integration tests both serve it through [`serve`].

pub mod api;
pub mod auth;
pub mod config;
pub mod counter;
pub mod db;
pub mod domain;
pub mod error;
pub mod http;
pub mod jobs;
pub mod media;
pub mod models;
pub mod openapi;
pub mod partners;
pub mod schema;
pub mod seed;
pub mod users;
pub mod views;

use std::net::TcpListener;

use actix_web::body::MessageBody;
use actix_web::dev::{Server, ServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::middleware::Logger;
use actix_web::{App, HttpResponse, web};
use utoipa_actix_web::AppExt;
use utoipa_swagger_ui::SwaggerUi;

use crate::api::AppState;
use crate::api::system::{ServedSpec, fallback, openapi_json};
use crate::http::ratelimit::Partners;

/// Largest JSON request body accepted.
const JSON_LIMIT: usize = 2 * 1024 * 1024;

/// What every worker shares: state (with the response cache) and the spec.
#[derive(Clone)]
pub struct Shared {
    state: web::Data<AppState>,
    spec: web::Data<ServedSpec>,
    routes: http::cors::RouteMethods,
    /// Partner keys, rate limits and usage counts.
    partners: web::Data<Partners>,
}

impl Shared {
    /// Writes buffered view counts now, while the server runs.
    pub async fn flush_views(&self) -> anyhow::Result<i64> {
        self.state.flush_views().await
    }

    /// Writes buffered view counts after the server has stopped, so a clean
    /// shutdown loses none.
    pub async fn flush_views_after_stop(&self) -> anyhow::Result<i64> {
        self.state.flush_views_after_stop().await
    }

    /// Writes buffered partner key usage after the server has stopped
    /// (on a connection of its own, as `flush_views_after_stop` does).
    pub async fn flush_usage_after_stop(&self) -> anyhow::Result<i64> {
        use deadpool::managed::Manager as _;
        if self.partners.usage.pending() == 0 {
            return Ok(0);
        }
        let mut conn = self.state.pool.manager().create().await?;
        Ok(self.partners.usage.flush(&mut conn).await?)
    }

    /// Whether the response cache keeps responses now (it does once it
    /// hears purges).
    pub fn is_caching(&self) -> bool {
        self.state.cache.is_keeping()
    }

    pub fn new(state: AppState) -> Self {
        let spec = openapi::spec();
        Self {
            routes: http::cors::RouteMethods::from_spec(&spec),
            partners: web::Data::new(Partners::new(&state.settings)),
            state: web::Data::new(state),
            spec: web::Data::new(ServedSpec::new(&spec)),
        }
    }
}

/// The application: routes, error rendering, logging, docs.
pub fn build_app(
    shared: Shared,
) -> App<
    impl ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<impl MessageBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    let cors = http::cors::CorsByAudience::new(shared.state.settings.cors.clone(), shared.routes);
    let (app, _) = App::new()
        .into_utoipa_app()
        .app_data(shared.state)
        .app_data(shared.spec)
        .app_data(shared.partners)
        .app_data(web::QueryConfig::default().error_handler(error::query_error))
        .app_data(
            web::JsonConfig::default()
                .limit(JSON_LIMIT)
                .error_handler(error::json_error),
        )
        .app_data(web::PathConfig::default().error_handler(error::path_error))
        // Before the /api/v1 scope, which would otherwise take the path.
        .route("/api/v1/openapi.json", web::get().to(openapi_json))
        .configure(api::config)
        .split_for_parts();
    app.route(
        "/docs",
        web::get().to(|| async {
            HttpResponse::PermanentRedirect()
                .insert_header(("Location", "/docs/"))
                .finish()
        }),
    )
    .service(
        SwaggerUi::new("/docs/{_:.*}").config(
            utoipa_swagger_ui::Config::from("/api/v1/openapi.json").try_it_out_enabled(true),
        ),
    )
    .default_service(web::to(fallback))
    // br, gzip or zstd, as `Accept-Encoding` asks (images are left alone),
    // for what the cache layer does not compress itself.
    .wrap(actix_web::middleware::Compress::default())
    // ETags, surrogate keys, and public reads kept compressed until purged.
    .wrap(actix_web::middleware::from_fn(http::cache::cache_and_etag))
    // Keys checked and limits counted before the cache may answer; inside
    // CORS, so a browser can read a 401 or 429.
    .wrap(actix_web::middleware::from_fn(
        http::ratelimit::keys_and_limits,
    ))
    .wrap(cors)
    .wrap(actix_web::middleware::from_fn(http::request::prepare))
    // Every body is what its Content-Type says: no browser sniffs JSON
    // (or a problem document) into HTML.
    .wrap(actix_web::middleware::DefaultHeaders::new().add(("X-Content-Type-Options", "nosniff")))
    .wrap(access_log())
}

/// One line per request: the client (as the trusted proxies tell it, as
/// rate limits and view counts see it), request line, status, bytes,
/// latency and request id. Left out of the chain entirely when the filter
/// drops its lines (`RUST_LOG=warn`), since gathering them costs.
fn access_log() -> actix_web::middleware::Condition<Logger> {
    let enabled = log::log_enabled!(target: "actix_web::middleware::logger", log::Level::Info);
    let logger = Logger::new("%{client}xi \"%r\" %s %b %Dms %{x-request-id}o")
        .custom_request_replace("client", |req| {
            let trusted = req
                .app_data::<web::Data<AppState>>()
                .map_or(&[][..], |state| &state.settings.trusted_proxies[..]);
            http::client::client_ip(req.request(), trusted)
                .map_or_else(|| "-".to_owned(), |ip| ip.to_string())
        });
    actix_web::middleware::Condition::new(enabled, logger)
}

/// Serves the application on `listener` until the server is stopped.
pub fn serve(
    listener: TcpListener,
    shared: Shared,
    workers: Option<usize>,
) -> std::io::Result<Server> {
    // Before any HTTP client (purges, webhooks) is built.
    http::tls_crypto();
    let app_shared = shared.clone();
    let mut server = actix_web::HttpServer::new(move || build_app(app_shared.clone()))
        .listen(listener)?
        .shutdown_timeout(10);
    if let Some(workers) = workers {
        server = server.workers(workers);
    }
    let state = shared.state.clone();
    let partners = shared.partners.clone();
    jobs::start(&state);
    if !state.replicas.is_empty() {
        let cache = state.cache.clone();
        actix_web::rt::spawn(state.replicas.clone().watch(
            state.pool.clone(),
            jobs::purge::CHANNEL,
            move |payload| cache.purge(&domain::keys::Keys::parse(payload)),
        ));
    }
    let every = std::time::Duration::from_secs(state.settings.view_flush_secs.max(1));
    actix_web::rt::spawn(async move {
        let mut tick = actix_web::rt::time::interval(every);
        tick.tick().await;
        loop {
            tick.tick().await;
            if let Err(e) = state.flush_views().await {
                log::warn!("writing view counts failed (kept for the next try): {e}");
            }
            if let Err(e) = partners.flush_usage(&state.pool).await {
                log::warn!("writing API key usage failed (kept for the next try): {e}");
            }
        }
    });
    let partners = shared.partners.clone();
    actix_web::rt::spawn(async move {
        // Addresses back to a full bucket are forgotten, so the map holds
        // only those active in the last minute or so.
        let mut tick = actix_web::rt::time::interval(std::time::Duration::from_secs(60));
        loop {
            tick.tick().await;
            partners.housekeeping();
        }
    });
    Ok(server.run())
}
