//! Public category endpoints: the whole tree with article counts, and one
//! category with its ancestors and children.

use std::collections::HashMap;

use actix_web::{HttpResponse, get, web};
use futures_util::try_join;

use crate::api::AppState;
use crate::api::params::NoParams;
use crate::error::{ApiError, ApiResult, Problem};
use crate::models::category::{self, CategoryTree};
use crate::views::{CategoryDetail, CategoryNode, CategoryTreeView, category_ref};

/// Counts per category, with the totals of whole subtrees.
struct Counts {
    own: HashMap<i64, i64>,
}

impl Counts {
    fn own(&self, id: i64) -> i64 {
        self.own.get(&id).copied().unwrap_or(0)
    }

    fn total(&self, tree: &CategoryTree, id: i64) -> i64 {
        tree.subtree_ids(id).iter().map(|c| self.own(*c)).sum()
    }
}

fn node(tree: &CategoryTree, counts: &Counts, c: &category::Category) -> CategoryNode {
    let children: Vec<CategoryNode> = tree
        .children(Some(c.id))
        .map(|child| node(tree, counts, child))
        .collect();
    let own = counts.own(c.id);
    CategoryNode {
        id: c.id,
        slug: c.slug.clone(),
        name: c.name.clone(),
        description: c.description.clone(),
        position: c.position,
        article_count: own,
        total_article_count: own + children.iter().map(|n| n.total_article_count).sum::<i64>(),
        children,
    }
}

/// The category tree.
///
/// Roots and children in editorial order, each with how many published
/// articles it holds directly and in its whole subtree.
#[utoipa::path(
    operation_id = "list_categories",
    tag = "categories",
    security(),
    responses(
        (status = 200, description = "The category tree", body = CategoryTreeView),
        (status = 400, description = "A query parameter was given (none is taken)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/categories")]
pub async fn list_categories(
    state: web::Data<AppState>,
    _: web::Query<NoParams>,
) -> ApiResult<HttpResponse> {
    let conn = state.read_conn().await?;
    let conn = &*conn;
    let (tree, own) = try_join!(state.category_tree(conn), category::article_counts(conn))?;
    let counts = Counts { own };
    let items = tree
        .children(None)
        .map(|root| node(&tree, &counts, root))
        .collect();
    Ok(HttpResponse::Ok()
        .insert_header(crate::http::cache::surrogate_keys(
            &[crate::domain::keys::CATEGORIES.to_owned()]
                .into_iter()
                .collect(),
        ))
        .json(CategoryTreeView { items }))
}

/// Get a category by slug.
///
/// To list its articles (descendants included) use
/// `GET /api/v1/articles?category={slug}`.
#[utoipa::path(
    operation_id = "get_category",
    tag = "categories",
    security(),
    params(("slug" = String, Path, description = "The category's slug", pattern = "^[a-z0-9]+(?:-[a-z0-9]+)*$", max_length = 200, example = "dan-so")),
    responses(
        (status = 200, description = "The category", body = CategoryDetail),
        (status = 400, description = "The slug is not a slug, or a query parameter was given", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No category has this slug", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/categories/{slug}")]
pub async fn get_category(
    state: web::Data<AppState>,
    path: web::Path<String>,
    _: web::Query<NoParams>,
) -> ApiResult<HttpResponse> {
    let slug = crate::api::params::path_slug("slug", &path)?;
    let conn = state.read_conn().await?;
    let conn = &*conn;
    let (tree, own) = try_join!(state.category_tree(conn), category::article_counts(conn))?;
    let c = tree
        .by_slug(&slug)
        .ok_or_else(|| ApiError::not_found("category", &slug))?;
    let counts = Counts { own };
    let detail = CategoryDetail {
        id: c.id,
        slug: c.slug.clone(),
        name: c.name.clone(),
        description: c.description.clone(),
        parent: c.parent_id.and_then(|p| tree.get(p)).map(category_ref),
        ancestors: tree.ancestors(c.id).into_iter().map(category_ref).collect(),
        children: tree.children(Some(c.id)).map(category_ref).collect(),
        article_count: counts.own(c.id),
        total_article_count: counts.total(&tree, c.id),
    };
    Ok(HttpResponse::Ok()
        .insert_header(crate::http::cache::surrogate_keys(
            &[crate::domain::keys::CATEGORIES.to_owned()]
                .into_iter()
                .collect(),
        ))
        .json(detail))
}
