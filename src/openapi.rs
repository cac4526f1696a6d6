//! The OpenAPI document: metadata here, paths and schemas collected from the
//! handlers by utoipa-actix-web. `newsroom openapi` prints it; the committed
//! copy is `openapi/openapi.json`.

use utoipa::OpenApi;
use utoipa_actix_web::AppExt;

use crate::error::Problem;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Newsroom API",
        description = "Headless JSON/REST content API for news publishers.\n\n\
Everything is under `/api/v1`. Times are RFC 3339 with the site's offset \
(`+07:00` for Asia/Ho_Chi_Minh). Lists answer `{\"items\": [...], \"next_cursor\": ...}`: \
follow `next_cursor` until it is `null`. Every error is an RFC 9457 \
`application/problem+json` document with a stable `code` and the \
`request_id` that every response also carries in `X-Request-Id`. `HEAD` \
works wherever `GET` does (same headers, no body). Tracking parameters \
(`utm_*`, `fbclid`, `gclid`, `zarsrc`, `_` and a few more) are ignored; any \
other unknown query parameter is a 400. Public `GET`s carry a weak `ETag` \
(send it back in `If-None-Match` for a 304), `Cache-Control: public, max-age=0, \
s-maxage=…, stale-while-revalidate=…, stale-if-error=…` and the surrogate keys of \
what they show (`Surrogate-Key` and `xkey`): shared caches may keep them until a \
purge names one of those keys, which every write sends. Bodies over 1 KB are \
compressed (`br`, `zstd`, `gzip`) as `Accept-Encoding` asks. Browsers on listed \
origins may call the API (CORS; see the README).\n\n\
Partners send their API key as `Authorization: Bearer nr_live_…` or \
`X-Api-Key: nr_live_…` (schemes `api_key_bearer` and `api_key`; public \
operations also work without one). An unknown, revoked or expired key is a \
401, never an anonymous read. Each key has its own limit; readers without \
a key are limited per client address. Limited responses carry \
`RateLimit-Policy` and `RateLimit` (draft-ietf-httpapi-ratelimit-headers-11), \
and a request over the limit is a 429 with `Retry-After`.",
        license(name = "MIT", identifier = "MIT")
    ),
    // Relative: the host that serves this document (a deployment's own
    // address, or http://localhost:8080 in development).
    servers((url = "/", description = "The host serving this document")),
    tags(
        (name = "articles", description = "Published articles"),
        (name = "search", description = "Accent-insensitive search and search-as-you-type"),
        (name = "categories", description = "Sections (chuyên mục), a tree"),
        (name = "tags", description = "Topics"),
        (name = "authors", description = "Bylines"),
        (name = "feeds", description = "RSS 2.0 and JSON Feed 1.1, sitemaps and the Google News sitemap"),
        (name = "system", description = "Health and readiness"),
        (name = "auth", description = "Staff sign-in"),
        (name = "admin", description = "The editorial write API (staff only)"),
    ),
    components(schemas(Problem)),
    modifiers(&BearerAuth, &PartnerKeys, &ClosedBlocks)
)]
pub struct ApiDoc;

/// Declares the `bearer` scheme that admin operations name.
struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, spec: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let components = spec.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .description(Some("An access token from `POST /api/v1/auth/login`."))
                    .build(),
            ),
        );
    }
}

/// Declares the two ways a partner sends its key (`http::ratelimit`).
struct PartnerKeys;

impl utoipa::Modify for PartnerKeys {
    fn modify(&self, spec: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{
            ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme,
        };
        let components = spec.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "api_key",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
                "X-Api-Key",
                "A partner key (`nr_live_…`), optional on public operations: it raises \
                 the rate limit to the key's own and, with the `full_text` scope, \
                 unlocks full text where others get excerpts.",
            ))),
        );
        components.add_security_scheme(
            "api_key_bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("nr_live_<prefix>_<random>")
                    .description(Some(
                        "The same partner key in `Authorization: Bearer nr_live_…`.",
                    ))
                    .build(),
            ),
        );
    }
}

/// Body blocks are read with `deny_unknown_fields` (see `domain::body`),
/// which utoipa does not carry into the variants of a tagged enum: say it.
struct ClosedBlocks;

impl utoipa::Modify for ClosedBlocks {
    fn modify(&self, spec: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::RefOr;
        use utoipa::openapi::schema::{AdditionalProperties, Schema};
        let Some(components) = spec.components.as_mut() else {
            return;
        };
        if let Some(RefOr::T(Schema::OneOf(blocks))) = components.schemas.get_mut("Block") {
            for variant in &mut blocks.items {
                if let RefOr::T(Schema::Object(object)) = variant {
                    object.additional_properties =
                        Some(Box::new(AdditionalProperties::FreeForm(false)));
                }
            }
        }
    }
}

/// The complete spec, as the running service serves it.
pub fn spec() -> utoipa::openapi::OpenApi {
    let (_, mut spec) = actix_web::App::new()
        .into_utoipa_app()
        .openapi(ApiDoc::openapi())
        .configure(crate::api::config)
        .split_for_parts();
    document_partner_access(&mut spec);
    document_request_ids(&mut spec);
    document_caching(&mut spec);
    spec
}

fn string_header(description: &str, example: &str) -> utoipa::openapi::header::Header {
    use utoipa::openapi::header::HeaderBuilder;
    use utoipa::openapi::schema::{ObjectBuilder, Type};
    HeaderBuilder::new()
        .schema(Some(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .examples([serde_json::json!(example)]),
        ))
        .description(Some(description))
        .build()
}

/// The public reads' validators, cache headers and surrogate keys
/// (`http::cache`): on every public `GET`, once the operations are
/// collected.
fn document_caching(spec: &mut utoipa::openapi::OpenApi) {
    use utoipa::openapi::path::{ParameterBuilder, ParameterIn};
    use utoipa::openapi::schema::{ObjectBuilder, Type};
    use utoipa::openapi::{RefOr, ResponseBuilder};
    let keys = "Surrogate keys: the records and lists this response shows, space-separated \
                (`article-{id}`, `category-{id}`, `tag-{id}`, `author-{id}`, `media-{id}`, \
                `articles`, `articles-category-{id}`, `updated-articles…`, `categories`, `tags`, \
                `authors`, `search`, `most-read`). A purge naming any of them drops the copy.";
    let headers = [
        (
            "ETag",
            string_header(
                "A weak validator of the body, the same for every encoding.",
                "W/\"3f9a0c6e21d4b7a8\"",
            ),
        ),
        (
            "Cache-Control",
            string_header(
                "Browsers revalidate every time; shared caches keep the copy for `s-maxage` \
                 seconds (per kind of resource, configurable) or until purged.",
                "public, max-age=0, s-maxage=60, stale-while-revalidate=30, stale-if-error=86400",
            ),
        ),
        (
            "Surrogate-Key",
            string_header(keys, "article-1 category-4 author-1 tag-2 media-1"),
        ),
        (
            "xkey",
            string_header(
                "The same keys as `Surrogate-Key`, for Varnish's xkey module.",
                "article-1 category-4 author-1 tag-2 media-1",
            ),
        ),
        (
            "X-Cache",
            string_header(
                "`hit` when this instance's cache answered, `miss` when the response was computed.",
                "hit",
            ),
        ),
        (
            "Vary",
            string_header("The body depends on `Accept-Encoding`.", "Accept-Encoding"),
        ),
        (
            "Content-Encoding",
            string_header(
                "`br`, `zstd` or `gzip` as `Accept-Encoding` asks, for bodies over 1 KB; absent otherwise.",
                "br",
            ),
        ),
    ];
    let if_none_match = ParameterBuilder::new()
        .name("If-None-Match")
        .parameter_in(ParameterIn::Header)
        .required(utoipa::openapi::Required::False)
        .description(Some(
            "An `ETag` from an earlier answer (or several, comma-separated, or `*`): \
             if the content is unchanged the answer is a bodiless 304.",
        ))
        // Any length: a tag that is not ours simply does not match.
        .schema(Some(ObjectBuilder::new().schema_type(Type::String)))
        .example(Some(serde_json::json!("W/\"3f9a0c6e21d4b7a8\"")))
        .build();
    let last_modified = string_header(
        "When the article or anything its page shows (its category and those above, \
         its tags, authors, cover and social image) last changed. Absent with \
         `include=related`, whose items change on their own.",
        "Wed, 15 Nov 2023 06:59:00 GMT",
    );
    let if_modified_since = ParameterBuilder::new()
        .name("If-Modified-Since")
        .parameter_in(ParameterIn::Header)
        .required(utoipa::openapi::Required::False)
        .description(Some(
            "A `Last-Modified` from an earlier answer: if nothing changed since, the answer \
             is a bodiless 304. Ignored when `If-None-Match` is sent (prefer that: dates \
             have one-second precision).",
        ))
        // Anything that is not an HTTP date is ignored, as RFC 9110 asks.
        .schema(Some(ObjectBuilder::new().schema_type(Type::String)))
        .example(Some(serde_json::json!("Wed, 15 Nov 2023 06:59:00 GMT")))
        .build();
    for (path, item) in spec.paths.paths.iter_mut() {
        let public = path.starts_with("/api/v1/")
            && !crate::http::is_staff_path(path)
            && path != "/api/v1/openapi.json";
        let Some(get) = item.get.as_mut().filter(|_| public) else {
            continue;
        };
        get.parameters
            .get_or_insert_with(Vec::new)
            .push(RefOr::T(if_none_match.clone()));
        let article = matches!(
            get.operation_id.as_deref(),
            Some("get_article" | "get_article_by_id")
        );
        if article {
            get.parameters
                .get_or_insert_with(Vec::new)
                .push(RefOr::T(if_modified_since.clone()));
        }
        if let Some(RefOr::T(ok)) = get.responses.responses.get_mut("200") {
            for (name, header) in &headers {
                ok.headers.insert((*name).into(), RefOr::T(header.clone()));
            }
            if article {
                ok.headers
                    .insert("Last-Modified".into(), RefOr::T(last_modified.clone()));
            }
        }
        let mut not_modified = ResponseBuilder::new()
            .description("Unchanged since the `ETag` sent in `If-None-Match`: no body.")
            .build();
        for (name, header) in &headers {
            if *name != "Content-Encoding" {
                not_modified
                    .headers
                    .insert((*name).into(), RefOr::T(header.clone()));
            }
        }
        if let Some(RefOr::T(ok)) = get.responses.responses.get("200")
            && let Some(id) = ok.headers.get("X-Request-Id")
        {
            not_modified
                .headers
                .insert("X-Request-Id".into(), id.clone());
        }
        get.responses
            .responses
            .insert("304".into(), RefOr::T(not_modified));
    }
}

/// Public operations take an optional partner key and are rate limited
/// (`http::ratelimit`): the key schemes, the limit headers, 401 and 429.
fn document_partner_access(spec: &mut utoipa::openapi::OpenApi) {
    use utoipa::openapi::security::SecurityRequirement;
    use utoipa::openapi::{ContentBuilder, Ref, RefOr, ResponseBuilder};
    let limit_headers = [
        (
            "RateLimit-Policy",
            string_header(
                "The limit that applies (draft-ietf-httpapi-ratelimit-headers-11): `partner` \
                 for a key, `anonymous` per client address; `q` requests per `w` seconds, \
                 with bursts of `newsroom-burst`. Per instance. Absent for staff and when \
                 anonymous reads are not limited.",
                "\"partner\";q=1200;w=60;newsroom-burst=120",
            ),
        ),
        (
            "RateLimit",
            string_header(
                "Requests left now (`r`) and seconds until the next one is restored (`t`).",
                "\"partner\";r=119;t=1",
            ),
        ),
    ];
    let problem = || {
        ContentBuilder::new()
            .schema(Some(Ref::from_schema_name("Problem")))
            .build()
    };
    let unauthorized = ResponseBuilder::new()
        .description(
            "The API key sent is unknown, revoked or expired (`unauthorized`); nothing is \
             served to it, not even what anonymous readers get.",
        )
        .content("application/problem+json", problem())
        .build();
    let mut too_many = ResponseBuilder::new()
        .description("Over the key's or the address's limit (`rate_limited`): retry later.")
        .content("application/problem+json", problem())
        .header(
            "Retry-After",
            string_header("Seconds to wait before the next request is allowed.", "1"),
        )
        .build();
    for (name, header) in &limit_headers {
        too_many
            .headers
            .insert((*name).into(), RefOr::T(header.clone()));
    }
    for (path, item) in spec.paths.paths.iter_mut() {
        if !path.starts_with("/api/v1/") || crate::http::is_staff_path(path) {
            continue;
        }
        let operations = [
            &mut item.get,
            &mut item.post,
            &mut item.put,
            &mut item.patch,
            &mut item.delete,
        ];
        for operation in operations.into_iter().flatten() {
            // Anonymous, or with a partner key in either header.
            operation.security = Some(vec![
                SecurityRequirement::default(),
                SecurityRequirement::new("api_key", Vec::<String>::new()),
                SecurityRequirement::new("api_key_bearer", Vec::<String>::new()),
            ]);
            let responses = &mut operation.responses.responses;
            for (status, response) in responses.iter_mut() {
                if let (true, RefOr::T(response)) = (status.starts_with('2'), response) {
                    for (name, header) in &limit_headers {
                        response
                            .headers
                            .insert((*name).into(), RefOr::T(header.clone()));
                    }
                }
            }
            responses
                .entry("401".into())
                .or_insert_with(|| RefOr::T(unauthorized.clone()));
            responses.insert("429".into(), RefOr::T(too_many.clone()));
        }
    }
}

/// Every response carries `X-Request-Id` (`http::request`): say so on each,
/// once the handlers' operations are collected.
fn document_request_ids(spec: &mut utoipa::openapi::OpenApi) {
    use utoipa::openapi::RefOr;
    use utoipa::openapi::header::HeaderBuilder;
    use utoipa::openapi::schema::{ObjectBuilder, Type};
    let header = HeaderBuilder::new()
        .schema(Some(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .pattern(Some("^[A-Za-z0-9._:-]{1,128}$"))
                .examples([serde_json::json!("5f0c2a9e1b7d4c3a8e6f1d2c3b4a5968")]),
        ))
        .description(Some(
            "The request's id: the client's own `X-Request-Id` when it sent a sane one \
             (1 to 128 of `A-Z a-z 0-9 . _ : -`), else a new one. Quote it when reporting a problem.",
        ))
        .build();
    for item in spec.paths.paths.values_mut() {
        let operations = [
            &mut item.get,
            &mut item.post,
            &mut item.put,
            &mut item.patch,
            &mut item.delete,
        ];
        for operation in operations.into_iter().flatten() {
            for response in operation.responses.responses.values_mut() {
                if let RefOr::T(response) = response {
                    response
                        .headers
                        .insert("X-Request-Id".into(), RefOr::T(header.clone()));
                }
            }
        }
    }
}

pub fn spec_json() -> String {
    let mut json = spec().to_pretty_json().expect("the spec serialises");
    json.push('\n');
    json
}
