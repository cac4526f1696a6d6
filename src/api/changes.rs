//! The change feed: what changed in the public set since a token.

use actix_web::{HttpResponse, get, web};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::api::articles::{FilterArgs, resolve_filter, summaries};
use crate::api::{AppState, params};
use crate::domain::cursor;
use crate::error::{ApiError, ApiResult, Problem};
use crate::models::article::{ArticleCard, apply_filter};
use crate::models::sync::{self, Position, Scope};
use crate::models::visible_articles;
use crate::schema::articles;
use crate::views::ArticleSummary;

const DEFAULT_LIMIT: i64 = 100;
const MAX_LIMIT: i64 = 500;
const TOKEN_SCOPE: &str = "changes";

/// Tokens are refused a little before their rows are pruned: a change a
/// long transaction wrote may be dated before the token was issued.
const TOKEN_SLACK_HOURS: i64 = 1;

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ChangesQuery {
    /// The `next` token of the previous page. Without it, the answer is an
    /// empty page whose `next` is now: take it first, then download the
    /// list, then follow the token.
    #[param(
        max_length = 200,
        example = "MXxjaGFuZ2VzfDc0MXw5MjIzMzcyMDM2ODU0Nzc1ODA3fDE3MDAwMzE1NDAwMDAwMDB8OTIyMzM3MjAzNjg1NDc3NTgwN3wxNzAwMDMxNTQwMDAwMDAw"
    )]
    since: Option<String>,
    /// Articles per page (1–500; default 100).
    #[param(value_type = Option<i64>, minimum = 1, maximum = 500, example = 100)]
    limit: Option<String>,
    /// Category slug: changes of articles that are, or were, in it or a
    /// category below it.
    #[param(
        pattern = "^[a-z0-9]+(?:-[a-z0-9]+)*$",
        max_length = 200,
        example = "xa-hoi"
    )]
    category: Option<String>,
    /// Tag slug.
    #[param(
        pattern = "^[a-z0-9]+(?:-[a-z0-9]+)*$",
        max_length = 200,
        example = "binh-dang-gioi"
    )]
    tag: Option<String>,
    /// Author slug.
    #[param(
        pattern = "^[a-z0-9]+(?:-[a-z0-9]+)*$",
        max_length = 200,
        example = "tran-thanh-mai"
    )]
    author: Option<String>,
}

/// One article that changed: as it is now, or a tombstone.
#[derive(Debug, Serialize, ToSchema)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum ChangeEntry {
    /// Public now (and within the filters): keep this copy.
    Upsert {
        id: i64,
        article: Box<ArticleSummary>,
    },
    /// Not public now (unpublished, archived, deleted, scheduled for
    /// later) or no longer within the filters: drop it.
    Remove { id: i64 },
}

/// A page of the change feed.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"changes": [{"action": "remove", "id": 42}], "next": "MXxjaGFuZ2VzfDc0MXw5MjIzMzcyMDM2ODU0Nzc1ODA3fDE3MDAwMzE1NDAwMDAwMDB8OTIyMzM3MjAzNjg1NDc3NTgwN3wxNzAwMDMxNTQwMDAwMDAw", "has_more": false}))]
pub struct ChangeFeed {
    /// Each article once, as it is at the time of this answer.
    pub changes: Vec<ChangeEntry>,
    /// Pass as `since` for what changes next.
    pub next: String,
    /// Another page is ready now; ask again at once.
    pub has_more: bool,
}

fn encode(p: &Position) -> String {
    cursor::encode_key(
        TOKEN_SCOPE,
        &format!(
            "{}|{}|{}|{}|{}",
            p.txid,
            p.seq,
            p.due_at.timestamp_micros(),
            p.due_id,
            p.issued.timestamp_micros()
        ),
    )
}

fn decode(text: &str) -> ApiResult<Position> {
    let bad = || ApiError::invalid("since", "is not a token this feed issued");
    if text.len() > 200 {
        return Err(bad());
    }
    let key = cursor::decode_key(text, TOKEN_SCOPE).map_err(|_| bad())?;
    let parts: Vec<i64> = key
        .split('|')
        .map(str::parse)
        .collect::<Result<_, _>>()
        .map_err(|_| bad())?;
    let [txid, seq, due_micros, due_id, issued_micros] = parts[..] else {
        return Err(bad());
    };
    let time = |micros| chrono::DateTime::from_timestamp_micros(micros).ok_or_else(bad);
    let position = Position {
        txid,
        seq,
        due_at: time(due_micros)?,
        due_id,
        issued: time(issued_micros)?,
    };
    // One spelling per position.
    if encode(&position) != text {
        return Err(bad());
    }
    Ok(position)
}

/// What changed in the public set since a token.
///
/// Every change to public content since `since`, oldest first: articles
/// that became public or changed, as list items (`upsert`), and ids of
/// those that stopped being public (`remove`). A client that applies every
/// page and follows `next` holds exactly the public set (within its
/// filters), whatever happened concurrently: a change that commits late is
/// never skipped, and a scheduled article appears when it comes due.
#[utoipa::path(
    operation_id = "list_changes",
    tag = "articles",
    security(),
    params(ChangesQuery),
    responses(
        (status = 200, description = "Changes since the token (none without one), and the next token", body = ChangeFeed),
        (status = 400, description = "A parameter or the token is invalid", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "The `category`, `tag` or `author` does not exist", body = Problem, content_type = "application/problem+json"),
        (status = 410, description = "The token is older than the changes kept (NEWSROOM_CHANGES_DAYS): download the list again and start from a new token", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/changes")]
pub async fn list_changes(
    state: web::Data<AppState>,
    query: web::Query<ChangesQuery>,
) -> ApiResult<HttpResponse> {
    let q = query.into_inner();
    let limit = params::limit(q.limit.as_deref(), DEFAULT_LIMIT, MAX_LIMIT)?;
    let since = q.since.as_deref().map(decode).transpose()?;
    if let Some(from) = &since {
        let kept = i64::try_from(state.settings.changes_days).unwrap_or(i64::MAX);
        let oldest = chrono::Utc::now() - chrono::Duration::days(kept)
            + chrono::Duration::hours(TOKEN_SLACK_HOURS);
        if from.issued < oldest {
            return Err(ApiError::Gone(format!(
                "this token is older than the {kept} days of changes kept; download the list again and start from a new token"
            )));
        }
    }
    let mut conn = state.read_conn().await?;
    let (tree, filter) = resolve_filter(
        &state,
        &conn,
        FilterArgs {
            category: q.category.as_deref(),
            tag: q.tag.as_deref(),
            author: q.author.as_deref(),
            ..FilterArgs::default()
        },
    )
    .await?;
    let Some(from) = since else {
        let now = sync::start(&mut conn).await?;
        return Ok(answer(ChangeFeed {
            changes: Vec::new(),
            next: encode(&now),
            has_more: false,
        }));
    };
    let scope = Scope {
        category: filter
            .category_ids
            .as_deref()
            .and_then(<[i64]>::first)
            .copied(),
        categories: filter.category_ids.clone(),
        tag: filter.tag_id,
        author: filter.author_id,
    };
    let (mut ids, next, has_more) = sync::page(&mut conn, from, &scope, limit).await?;
    let mut seen = std::collections::HashSet::new();
    ids.retain(|id| seen.insert(*id));
    // As they are now: public and within the filters, or not.
    let cards: Vec<ArticleCard> = if ids.is_empty() {
        Vec::new()
    } else {
        apply_filter(visible_articles(), &filter)
            .filter(articles::id.eq_any(ids.clone()))
            .select(ArticleCard::as_select())
            .load(&mut conn)
            .await?
    };
    let items = summaries(&state, &conn, &tree, &cards, false).await?;
    let mut by_id: std::collections::HashMap<i64, ArticleSummary> =
        items.into_iter().map(|i| (i.id, i)).collect();
    let changes = ids
        .into_iter()
        .map(|id| match by_id.remove(&id) {
            Some(article) => ChangeEntry::Upsert {
                id,
                article: Box::new(article),
            },
            None => ChangeEntry::Remove { id },
        })
        .collect();
    Ok(answer(ChangeFeed {
        changes,
        next: encode(&next),
        has_more,
    }))
}

/// Named by no surrogate key, so no cache keeps it (`Cache-Control:
/// public, no-cache`): each answer depends on the moment.
fn answer(feed: ChangeFeed) -> HttpResponse {
    HttpResponse::Ok().json(feed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_round_trip_and_refuse_forgeries() {
        let at = chrono::DateTime::from_timestamp_micros(1_700_031_540_000_000).unwrap();
        let p = Position {
            txid: 741,
            seq: i64::MAX,
            due_at: at,
            due_id: 12,
            issued: at,
        };
        assert_eq!(decode(&encode(&p)).unwrap(), p);
        for bad in [
            "",
            "x",
            &"A".repeat(300),
            &cursor::encode_key("a-pub", "1|2|3|4|5"),
        ] {
            assert!(decode(bad).is_err(), "{bad}");
        }
        let plus = cursor::encode_key(TOKEN_SCOPE, "+741|1|2|3|4");
        assert!(decode(&plus).is_err());
    }
}
