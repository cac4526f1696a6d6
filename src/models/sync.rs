//! The change feed: where a client is in it, and the next page from there.
//!
//! Two streams make the feed:
//!
//! - the rows writes add to `article_changes` (see `change::record`), in
//!   the order of the transaction that wrote them, and only up to the
//!   oldest transaction still running: a row a later transaction wrote may
//!   commit first, but rows below that bound are final, so a client that
//!   has passed one can never see a row appear behind it;
//! - articles that came due on their own (scheduled for a time now past),
//!   by `(published_at, id)`, up to the statement's `now()`.
//!
//! A page names the articles either stream reached; the handler shows
//! each as it is now: a list item if it is public (and matches the
//! filters), a tombstone if not. Following `next` therefore ends with the
//! public set, whatever order things happened in.

use chrono::{DateTime, Utc};
use diesel::QueryableByName;
use diesel::prelude::*;
use diesel::sql_types::{Array, BigInt, Integer, Nullable, Timestamptz};
use diesel_async::{AsyncPgConnection, RunQueryDsl};

/// A place in the feed: everything at or before it has been handed out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Position {
    /// The last change row: (transaction, sequence).
    pub txid: i64,
    pub seq: i64,
    /// The last article that came due: (published_at, id).
    pub due_at: DateTime<Utc>,
    pub due_id: i64,
    /// When the position was handed out (for expiring old tokens).
    pub issued: DateTime<Utc>,
}

/// What a page covers: by category (with its ancestors recorded on each
/// change, so the category itself is enough) and its descendants (for
/// articles that came due), tag and author.
#[derive(Debug, Default, Clone)]
pub struct Scope {
    pub category: Option<i64>,
    pub categories: Option<Vec<i64>>,
    pub tag: Option<i64>,
    pub author: Option<i64>,
}

#[derive(QueryableByName)]
struct Row {
    /// 0: a change row, 1: an article that came due, 2: the snapshot.
    #[diesel(sql_type = Integer)]
    stream: i32,
    #[diesel(sql_type = BigInt)]
    k1: i64,
    #[diesel(sql_type = BigInt)]
    k2: i64,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    at: Option<DateTime<Utc>>,
    #[diesel(sql_type = BigInt)]
    article_id: i64,
}

/// The position "now": where a client starts before it downloads the
/// public set.
pub async fn start(conn: &mut AsyncPgConnection) -> QueryResult<Position> {
    let rows: Vec<Row> = diesel::sql_query(
        "SELECT 2 AS stream, pg_snapshot_xmin(pg_current_snapshot())::text::bigint AS k1, \
         0::bigint AS k2, now() AS at, 0::bigint AS article_id",
    )
    .load(conn)
    .await?;
    let (xmin, now) = <[Row]>::first(&rows)
        .map(|r| (r.k1, r.at.unwrap_or_else(Utc::now)))
        .ok_or(diesel::result::Error::NotFound)?;
    Ok(Position {
        txid: xmin - 1,
        seq: i64::MAX,
        due_at: now,
        due_id: i64::MAX,
        issued: now,
    })
}

/// Up to `limit` articles from each stream after `from`, in order (an
/// article may be named twice), the position after them, and whether
/// either stream has more.
pub async fn page(
    conn: &mut AsyncPgConnection,
    from: Position,
    scope: &Scope,
    limit: i64,
) -> QueryResult<(Vec<i64>, Position, bool)> {
    let rows: Vec<Row> = diesel::sql_query(
        "WITH snap AS MATERIALIZED ( \
             SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint AS xmin, now() AS now \
         ), ch AS ( \
             SELECT c.txid, c.seq, c.article_id FROM article_changes c \
             WHERE (c.txid, c.seq) > ($1, $2) AND c.txid < (SELECT xmin FROM snap) \
               AND ($3::bigint IS NULL OR $3 = ANY (c.categories)) \
               AND ($4::bigint IS NULL OR $4 = ANY (c.tags)) \
               AND ($5::bigint IS NULL OR $5 = ANY (c.authors)) \
             ORDER BY c.txid, c.seq LIMIT $8 \
         ), due AS ( \
             SELECT a.published_at, a.id FROM articles a \
             WHERE a.public_status AND (a.published_at, a.id) > ($6, $7) \
               AND a.published_at <= (SELECT now FROM snap) \
               AND ($9::bigint[] IS NULL OR a.category_id = ANY ($9)) \
               AND ($4::bigint IS NULL OR EXISTS (SELECT 1 FROM article_tags t \
                    WHERE t.article_id = a.id AND t.tag_id = $4)) \
               AND ($5::bigint IS NULL OR EXISTS (SELECT 1 FROM article_authors w \
                    WHERE w.article_id = a.id AND w.author_id = $5)) \
             ORDER BY a.published_at, a.id LIMIT $8 \
         ) \
         SELECT 0 AS stream, txid AS k1, seq AS k2, NULL::timestamptz AS at, article_id FROM ch \
         UNION ALL SELECT 1, 0, id, published_at, id FROM due \
         UNION ALL SELECT 2, xmin, 0, now, 0 FROM snap",
    )
    .bind::<BigInt, _>(from.txid)
    .bind::<BigInt, _>(from.seq)
    .bind::<Nullable<BigInt>, _>(scope.category)
    .bind::<Nullable<BigInt>, _>(scope.tag)
    .bind::<Nullable<BigInt>, _>(scope.author)
    .bind::<Timestamptz, _>(from.due_at)
    .bind::<BigInt, _>(from.due_id)
    .bind::<BigInt, _>(limit)
    .bind::<Nullable<Array<BigInt>>, _>(scope.categories.clone())
    .load(conn)
    .await?;
    let mut ids = Vec::new();
    let mut next = from;
    let (mut changes, mut due) = (0, 0);
    let mut snapshot = None;
    for row in &rows {
        match row.stream {
            0 => {
                changes += 1;
                (next.txid, next.seq) = (row.k1, row.k2);
                ids.push(row.article_id);
            }
            1 => {
                due += 1;
                if let Some(at) = row.at {
                    (next.due_at, next.due_id) = (at, row.k2);
                }
                ids.push(row.article_id);
            }
            _ => snapshot = Some((row.k1, row.at.unwrap_or_else(Utc::now))),
        }
    }
    let (xmin, now) = snapshot.ok_or(diesel::result::Error::NotFound)?;
    // A stream that had less than a page is read up to the snapshot.
    if changes < limit && (xmin - 1, i64::MAX) > (next.txid, next.seq) {
        (next.txid, next.seq) = (xmin - 1, i64::MAX);
    }
    if due < limit && (now, i64::MAX) > (next.due_at, next.due_id) {
        (next.due_at, next.due_id) = (now, i64::MAX);
    }
    next.issued = now;
    Ok((ids, next, changes == limit || due == limit))
}

/// The slug an article had when it stopped being public, if its tombstone
/// is kept: by id or by slug.
pub async fn gone_by_id(conn: &mut AsyncPgConnection, id: i64) -> QueryResult<Option<String>> {
    use crate::schema::gone_articles;
    gone_articles::table
        .find(id)
        .select(gone_articles::slug)
        .first(conn)
        .await
        .optional()
}

pub async fn gone_by_slug(conn: &mut AsyncPgConnection, slug: &str) -> QueryResult<bool> {
    use crate::schema::gone_articles;
    diesel::select(diesel::dsl::exists(
        gone_articles::table.filter(gone_articles::slug.eq(slug)),
    ))
    .get_result(conn)
    .await
}

/// Forgets changes and tombstones older than `days` days; returns how many
/// rows went.
pub async fn prune(conn: &mut AsyncPgConnection, days: i64) -> QueryResult<usize> {
    use crate::schema::{article_changes, gone_articles};
    let before = Utc::now() - chrono::Duration::days(days);
    let changes =
        diesel::delete(article_changes::table.filter(article_changes::changed_at.lt(before)))
            .execute(conn)
            .await?;
    let gone = diesel::delete(gone_articles::table.filter(gone_articles::gone_at.lt(before)))
        .execute(conn)
        .await?;
    Ok(changes + gone)
}
