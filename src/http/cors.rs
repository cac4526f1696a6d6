//! Cross-origin access for browsers, with actix-cors: the public read API
//! for the configured origins (or any, with `*`), the staff API
//! (`/admin`, `/auth`) only for listed origins, with credentials, never for
//! `*`. Two actix-cors policies over one service, chosen by the path.

use std::rc::Rc;

use actix_cors::{Cors, CorsMiddleware};
use actix_web::Error;
use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{Service, ServiceRequest, ServiceResponse, Transform, forward_ready};
use actix_web::http::{Method, header};
use futures_util::future::LocalBoxFuture;

/// Origins that browsers may call from, as configured.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CorsOrigins {
    /// `*` was given: any origin may read the public API.
    pub any_public: bool,
    /// Listed origins (`https://www.example.vn`): the public and staff APIs.
    pub listed: Vec<String>,
}

impl CorsOrigins {
    /// `*` or origins (`scheme://host[:port]`, nothing after), comma-separated.
    pub fn parse(values: &[String]) -> anyhow::Result<Self> {
        let mut origins = Self::default();
        for value in values.iter().map(|v| v.trim()).filter(|v| !v.is_empty()) {
            if value == "*" {
                origins.any_public = true;
                continue;
            }
            let url = ammonia::Url::parse(value).map_err(|e| {
                anyhow::anyhow!("NEWSROOM_CORS_ORIGINS: `{value}` is not an origin: {e}")
            })?;
            let origin = url.origin().ascii_serialization();
            anyhow::ensure!(
                matches!(url.scheme(), "http" | "https") && value.trim_end_matches('/') == origin,
                "NEWSROOM_CORS_ORIGINS: `{value}` is not an origin such as https://www.example.vn \
                 (a scheme, a host and maybe a port; no path)"
            );
            origins.listed.push(origin);
        }
        Ok(origins)
    }
}

/// Request headers browsers may send, and response headers they may read.
fn common(cors: Cors) -> Cors {
    cors.allowed_headers([
        header::CONTENT_TYPE,
        header::IF_NONE_MATCH,
        header::IF_MODIFIED_SINCE,
        header::HeaderName::from_static("x-client-id"),
        header::HeaderName::from_static("x-request-id"),
    ])
    .expose_headers([
        header::ETAG,
        header::LAST_MODIFIED,
        header::LINK,
        header::LOCATION,
        header::RETRY_AFTER,
        header::HeaderName::from_static("x-request-id"),
        header::HeaderName::from_static("ratelimit"),
        header::HeaderName::from_static("ratelimit-policy"),
    ])
    .max_age(86_400)
    // Other clients (curl, servers) send Origin too: answer them, just
    // without CORS headers; browsers enforce the rest.
    .block_on_origin_mismatch(false)
}

/// Both policies, one middleware.
#[derive(Clone)]
pub struct CorsByAudience {
    origins: CorsOrigins,
}

impl CorsByAudience {
    pub fn new(origins: CorsOrigins) -> Self {
        Self { origins }
    }

    fn public(&self) -> Cors {
        let mut cors =
            common(Cors::default()).allowed_methods([Method::GET, Method::HEAD, Method::POST]);
        if self.origins.any_public {
            // The same answer for every origin: no `Vary: Origin`, so a
            // shared cache keeps one copy.
            cors = cors
                .allow_any_origin()
                .send_wildcard()
                .disable_vary_header();
        } else {
            for origin in &self.origins.listed {
                cors = cors.allowed_origin(origin);
            }
        }
        cors
    }

    fn staff(&self) -> Cors {
        let mut cors = common(Cors::default())
            .allowed_methods([
                Method::GET,
                Method::HEAD,
                Method::POST,
                Method::PUT,
                Method::PATCH,
                Method::DELETE,
            ])
            .allowed_header(header::AUTHORIZATION)
            .allowed_header(header::IF_MATCH)
            .supports_credentials();
        for origin in &self.origins.listed {
            cors = cors.allowed_origin(origin);
        }
        cors
    }
}

/// The wrapped service, shared by both policies.
pub struct Shared<S>(Rc<S>);

impl<S, B> Service<ServiceRequest> for Shared<S>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error>,
{
    type Response = ServiceResponse<B>;
    type Error = Error;
    type Future = S::Future;

    fn poll_ready(
        &self,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<(), Self::Error>> {
        self.0.poll_ready(cx)
    }

    fn call(&self, req: ServiceRequest) -> Self::Future {
        self.0.call(req)
    }
}

impl<S, B> Transform<S, ServiceRequest> for CorsByAudience
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error> + 'static,
    S::Future: 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<BoxBody>;
    type Error = Error;
    type InitError = ();
    type Transform = CorsByAudienceService<S>;
    type Future = LocalBoxFuture<'static, Result<Self::Transform, ()>>;

    fn new_transform(&self, service: S) -> Self::Future {
        let service = Rc::new(service);
        let public = self.public().new_transform(Shared(service.clone()));
        let staff = self.staff().new_transform(Shared(service));
        Box::pin(async move {
            Ok(CorsByAudienceService {
                public: public.await?,
                staff: staff.await?,
            })
        })
    }
}

pub struct CorsByAudienceService<S> {
    public: CorsMiddleware<Shared<S>>,
    staff: CorsMiddleware<Shared<S>>,
}

impl<S, B> Service<ServiceRequest> for CorsByAudienceService<S>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error> + 'static,
    S::Future: 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<BoxBody>;
    type Error = Error;
    type Future = LocalBoxFuture<'static, Result<ServiceResponse<BoxBody>, Error>>;

    forward_ready!(public);

    fn call(&self, req: ServiceRequest) -> Self::Future {
        // The decoded path, as the router sees it.
        let future = if super::is_staff_path(req.match_info().as_str()) {
            self.staff.call(req)
        } else {
            self.public.call(req)
        };
        Box::pin(async move { Ok(future.await?.map_into_boxed_body()) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_are_origins() {
        let parsed = CorsOrigins::parse(&[
            "https://www.example.vn".into(),
            " http://127.0.0.1:8081/ ".into(),
            "*".into(),
        ])
        .unwrap();
        assert!(parsed.any_public);
        assert_eq!(
            parsed.listed,
            ["https://www.example.vn", "http://127.0.0.1:8081"]
        );
        for bad in ["www.example.vn", "https://x.vn/path", "ftp://x.vn", "null"] {
            assert!(CorsOrigins::parse(&[bad.into()]).is_err(), "{bad}");
        }
    }
}
