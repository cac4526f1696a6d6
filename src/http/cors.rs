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

/// The methods a route may take, in the order preflights list them.
const METHODS: [Method; 6] = [
    Method::GET,
    Method::HEAD,
    Method::POST,
    Method::PUT,
    Method::PATCH,
    Method::DELETE,
];

/// A set of [`METHODS`], one bit each.
type MethodSet = u8;

fn bit(method: &Method) -> MethodSet {
    METHODS
        .iter()
        .position(|m| m == method)
        .map_or(0, |i| 1 << i)
}

fn methods_of(set: MethodSet) -> Vec<Method> {
    METHODS
        .iter()
        .enumerate()
        .filter(|(i, _)| set & (1 << i) != 0)
        .map(|(_, m)| m.clone())
        .collect()
}

/// The methods each route takes, from the route table (the spec's paths).
#[derive(Debug, Clone, Default)]
pub struct RouteMethods(Vec<(Vec<String>, MethodSet)>);

impl RouteMethods {
    pub fn from_spec(spec: &utoipa::openapi::OpenApi) -> Self {
        let routes = spec
            .paths
            .paths
            .iter()
            .map(|(path, item)| {
                let mut set = 0;
                for (method, operation) in [
                    (Method::GET, &item.get),
                    (Method::POST, &item.post),
                    (Method::PUT, &item.put),
                    (Method::PATCH, &item.patch),
                    (Method::DELETE, &item.delete),
                ] {
                    if operation.is_some() {
                        set |= bit(&method);
                    }
                }
                (path.split('/').map(str::to_owned).collect(), set)
            })
            .collect();
        Self(routes)
    }

    /// The methods of every route `path` may be (`{x}` matches any
    /// segment), `HEAD` wherever `GET`; `GET, HEAD` for a path no route
    /// takes. Runs on every request: no allocation.
    fn set_of(&self, path: &str) -> MethodSet {
        let mut set = 0;
        for (template, route) in &self.0 {
            let mut segments = path.split('/');
            let fits = template.iter().all(|t| {
                segments
                    .next()
                    .is_some_and(|s| t == s || (t.starts_with('{') && !s.is_empty()))
            }) && segments.next().is_none();
            if fits {
                set |= route;
            }
        }
        if set == 0 {
            set = bit(&Method::GET);
        }
        if set & bit(&Method::GET) != 0 {
            set |= bit(&Method::HEAD);
        }
        set
    }

    pub fn of(&self, path: &str) -> Vec<Method> {
        methods_of(self.set_of(path))
    }
}

/// Every policy, one middleware.
#[derive(Clone)]
pub struct CorsByAudience {
    origins: CorsOrigins,
    routes: RouteMethods,
}

/// Which policy: the audience (staff or not) and the route's methods.
type PolicyKey = (bool, MethodSet);

/// For a path no route takes.
const FALLBACK: PolicyKey = (false, 0b11);

impl CorsByAudience {
    pub fn new(origins: CorsOrigins, routes: RouteMethods) -> Self {
        Self { origins, routes }
    }

    /// Every (audience, methods) pair a route has, and the fallback.
    fn policies(&self) -> Vec<PolicyKey> {
        let mut out = vec![FALLBACK];
        for (template, _) in &self.routes.0 {
            let path = template.join("/");
            let key = (super::is_staff_path(&path), self.routes.set_of(&path));
            if !out.contains(&key) {
                out.push(key);
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
            .map(|key| {
                let policy = self.policy(key.0, &methods_of(key.1));
                (key, policy.new_transform(Shared(service.clone())))
            })
            .collect();
        let routes = self.routes.clone();
        Box::pin(async move {
            let mut policies = HashMap::new();
            let mut actual = [FALLBACK; 2];
            for (key, transform) in pending {
                if key.0 && actual[1] == FALLBACK {
                    actual[1] = key;
                }
                policies.insert(key, transform.await?);
            }
            Ok(CorsByAudienceService {
                policies,
                routes,
                actual,
            })
        })
    }
}

pub struct CorsByAudienceService<S> {
    policies: HashMap<PolicyKey, CorsMiddleware<Shared<S>>>,
    routes: RouteMethods,
    /// The policy for requests that are not preflights, public and staff:
    /// the methods a policy allows only matter to a preflight, so these
    /// skip looking up the route's methods (which would cost more than a
    /// cache hit).
    actual: [PolicyKey; 2],
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
        let key = if req.method() == Method::OPTIONS {
            (staff, self.routes.set_of(path))
        } else {
            self.actual[usize::from(staff)]
        };
        let policy = self
            .policies
            .get(&key)
            .or_else(|| self.policies.get(&FALLBACK))
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
