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
`application/problem+json` document with a stable `code`.",
        license(name = "MIT", identifier = "MIT")
    ),
    servers((url = "http://localhost:8080", description = "Local development")),
    tags(
        (name = "articles", description = "Published articles"),
        (name = "categories", description = "Sections (chuyên mục), a tree"),
        (name = "tags", description = "Topics"),
        (name = "authors", description = "Bylines"),
        (name = "system", description = "Health and readiness"),
    ),
    components(schemas(Problem))
)]
pub struct ApiDoc;

/// The complete spec, as the running service serves it.
pub fn spec() -> utoipa::openapi::OpenApi {
    let (_, spec) = actix_web::App::new()
        .into_utoipa_app()
        .openapi(ApiDoc::openapi())
        .configure(crate::api::config)
        .split_for_parts();
    spec
}

pub fn spec_json() -> String {
    let mut json = spec().to_pretty_json().expect("the spec serialises");
    json.push('\n');
    json
}
