//! Cross-origin access for browsers, with actix-cors: the public read API
//! for the configured origins (or any, with `*`), the staff API
//! (`/admin`, `/auth`) only for listed origins, with credentials, never for
//! `*`. One actix-cors policy per audience and set of methods a route
//! takes, over one service, chosen by the path: a preflight names exactly
//! the methods of the route asked about.

use std::collections::HashMap;
use std::rc::Rc;

use actix_cors::{Cors, CorsMiddleware};
use actix_web::Error;
use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{Service, ServiceRequest, ServiceResponse, Transform};
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

/// The methods each route takes, from the route table (the spec's paths).
#[derive(Debug, Clone, Default)]
pub struct RouteMethods(Vec<(Vec<String>, Vec<Method>)>);

impl RouteMethods {
    pub fn from_spec(spec: &utoipa::openapi::OpenApi) -> Self {
        let routes = spec
            .paths
            .paths
            .iter()
            .map(|(path, item)| {
                let mut methods = Vec::new();
                for (method, operation) in [
                    (Method::GET, &item.get),
                    (Method::POST, &item.post),
                    (Method::PUT, &item.put),
                    (Method::PATCH, &item.patch),
                    (Method::DELETE, &item.delete),
                ] {
                    if operation.is_some() {
                        methods.push(method);
                    }
                }
                (path.split('/').map(str::to_owned).collect(), methods)
            })
            .collect();
        Self(routes)
    }

    /// The methods of every route `path` may be (`{x}` matches any
    /// segment), `HEAD` wherever `GET`; `GET, HEAD` for a path no route
    /// takes.
    pub fn of(&self, path: &str) -> Vec<Method> {
        let segments: Vec<&str> = path.split('/').collect();
        let mut methods: Vec<Method> = Vec::new();
        for (template, route) in &self.0 {
            let fits = template.len() == segments.len()
                && template
                    .iter()
                    .zip(&segments)
                    .all(|(t, s)| t == s || (t.starts_with('{') && !s.is_empty()));
            if fits {
                methods.extend(route.iter().cloned());
            }
        }
        if methods.is_empty() {
            methods.push(Method::GET);
        }
        if methods.contains(&Method::GET) {
            methods.push(Method::HEAD);
        }
        let order = |m: &Method| {
            [
                Method::GET,
                Method::HEAD,
                Method::POST,
                Method::PUT,
                Method::PATCH,
                Method::DELETE,
            ]
            .iter()
            .position(|o| o == m)
        };
        methods.sort_by_key(order);
        methods.dedup();
        methods
    }
}

/// Every policy, one middleware.
#[derive(Clone)]
pub struct CorsByAudience {
    origins: CorsOrigins,
    routes: RouteMethods,
}

/// Which policy: the audience and the route's methods.
type PolicyKey = (bool, String);

fn policy_key(staff: bool, methods: &[Method]) -> PolicyKey {
    let names: Vec<&str> = methods.iter().map(Method::as_str).collect();
    (staff, names.join(","))
}

impl CorsByAudience {
    pub fn new(origins: CorsOrigins, routes: RouteMethods) -> Self {
        Self { origins, routes }
    }

    /// Every (audience, methods) pair a route has, and the fallback.
    fn policies(&self) -> Vec<(bool, Vec<Method>)> {
        let mut out: Vec<(bool, Vec<Method>)> = vec![(false, vec![Method::GET, Method::HEAD])];
        for (template, _) in &self.routes.0 {
            let path = template.join("/");
            let pair = (super::is_staff_path(&path), self.routes.of(&path));
            if !out.contains(&pair) {
                out.push(pair);
            }
        }
        out
    }

    fn policy(&self, staff: bool, methods: &[Method]) -> Cors {
        if staff {
            self.staff(methods)
        } else {
            self.public(methods)
        }
    }

    fn public(&self, methods: &[Method]) -> Cors {
        let mut cors = common(Cors::default()).allowed_methods(methods.to_vec());
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

    fn staff(&self, methods: &[Method]) -> Cors {
        let mut cors = common(Cors::default())
            .allowed_methods(methods.to_vec())
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
        let pending: Vec<_> = self
            .policies()
            .into_iter()
            .map(|(staff, methods)| {
                let key = policy_key(staff, &methods);
                let policy = self.policy(staff, &methods);
                (key, policy.new_transform(Shared(service.clone())))
            })
            .collect();
        let routes = self.routes.clone();
        Box::pin(async move {
            let mut policies = HashMap::new();
            for (key, transform) in pending {
                policies.insert(key, transform.await?);
            }
            Ok(CorsByAudienceService { policies, routes })
        })
    }
}

pub struct CorsByAudienceService<S> {
    policies: HashMap<PolicyKey, CorsMiddleware<Shared<S>>>,
    routes: RouteMethods,
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

    fn poll_ready(
        &self,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<(), Self::Error>> {
        // They all wrap the same service.
        match self.policies.values().next() {
            Some(policy) => policy.poll_ready(cx),
            None => std::task::Poll::Ready(Ok(())),
        }
    }

    fn call(&self, req: ServiceRequest) -> Self::Future {
        // The decoded path, as the router sees it.
        let path = req.match_info().as_str();
        let staff = super::is_staff_path(path);
        let key = policy_key(staff, &self.routes.of(path));
        let policy = self
            .policies
            .get(&key)
            .or_else(|| {
                self.policies
                    .get(&policy_key(false, &[Method::GET, Method::HEAD]))
            })
            .expect("the fallback policy exists");
        let future = policy.call(req);
        Box::pin(async move { Ok(future.await?.map_into_boxed_body()) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_route_allows_its_own_methods() {
        let routes = RouteMethods::from_spec(&crate::openapi::spec());
        let names = |path: &str| {
            routes
                .of(path)
                .iter()
                .map(|m| m.as_str().to_owned())
                .collect::<Vec<_>>()
                .join(",")
        };
        assert_eq!(names("/api/v1/articles"), "GET,HEAD");
        assert_eq!(names("/api/v1/articles/bai-moi/views"), "POST");
        assert_eq!(names("/api/v1/admin/articles"), "GET,HEAD,POST");
        assert_eq!(
            names("/api/v1/admin/articles/7"),
            "GET,HEAD,PUT,PATCH,DELETE"
        );
        assert_eq!(names("/api/v1/auth/login"), "POST");
        assert_eq!(names("/api/v1/nowhere"), "GET,HEAD");
    }

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
