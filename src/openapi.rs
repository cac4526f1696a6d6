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
(send it back in `If-None-Match` for a 304) and `Cache-Control: public, max-age=0, \
s-maxage=…, stale-while-revalidate=…, stale-if-error=…`; bodies are compressed \
(`br`, `gzip`, `zstd`) as `Accept-Encoding` asks. Browsers on listed origins may \
call the API (CORS; see the README).",
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
        (name = "system", description = "Health and readiness"),
        (name = "auth", description = "Staff sign-in"),
        (name = "admin", description = "The editorial write API (staff only)"),
    ),
    components(schemas(Problem)),
    modifiers(&BearerAuth, &ClosedBlocks)
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
    document_request_ids(&mut spec);
    spec
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
