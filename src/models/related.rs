//! Related articles by score (`strategy=auto`) and by shared tags.
//!
//! One statement each. Candidates come from three bounded, indexed sources
//! (the newest 50 of the same category, the newest 50 of each of the
//! article's tags, the newest 50 whose title or summary shares a pair of
//! adjacent words with this title); only those are scored. No full scan and
//! no query per candidate, whatever the size of the archive.

use chrono::{DateTime, Utc};
use diesel::QueryableByName;
use diesel::sql_types::BigInt;
use diesel_async::AsyncPgConnection;

use crate::domain::search::similarity_tsquery;
use crate::models::sql::{Bind, Statement};

#[derive(Debug, QueryableByName)]
struct Row {
    #[diesel(sql_type = BigInt)]
    id: i64,
}

/// How many candidates each source offers.
const PER_SOURCE: i64 = 50;

/// Scores: same category 1, each shared tag 0.8, title/summary similarity up
/// to about 3 (ts_rank × 3), all divided by 1 + (days apart / 30).
pub async fn scored(
    conn: &AsyncPgConnection,
    article_id: i64,
    title: &str,
    exclude: &[i64],
    limit: i64,
    now: DateTime<Utc>,
) -> diesel::QueryResult<Vec<i64>> {
    let mut st = Statement::default();
    // Planned for each title: the generic plan reads the title index and
    // rechecks every article sharing a pair of common words (2 s at 100,000
    // articles, measured), where walking the newest and filtering takes 3 ms.
    st.plan_per_call();
    let id = st.param(Bind::BigInt(article_id));
    let now = st.param(Bind::Time(now));
    let per = st.param(Bind::BigInt(PER_SOURCE));
    let visible = format!("a.public_status AND a.published_at <= {now}");
    let (text_source, text_score) = match similarity_tsquery(title) {
        Some(q) => {
            let q = st.param(Bind::Text(q));
            (
                format!(
                    " UNION (SELECT a.id FROM articles a WHERE {visible} \
                       AND a.search_head @@ to_tsquery('newsroom_fold', {q}) \
                       ORDER BY a.published_at DESC, a.id DESC LIMIT {per})"
                ),
                format!(" + 3.0 * ts_rank(a.search_head, to_tsquery('newsroom_fold', {q}))"),
            )
        }
        None => (String::new(), String::new()),
    };
    let exclude = st.param(Bind::BigInts(exclude.to_vec()));
    let limit = st.param(Bind::BigInt(limit));
    st.sql = format!(
        "WITH src AS MATERIALIZED (SELECT id, category_id, published_at FROM articles WHERE id = {id}), \
         src_tags AS MATERIALIZED (SELECT tag_id FROM article_tags WHERE article_id = {id}), \
         cand AS ( \
           (SELECT a.id FROM articles a WHERE {visible} AND a.category_id = (SELECT category_id FROM src) \
              ORDER BY a.published_at DESC, a.id DESC LIMIT {per}) \
           UNION (SELECT x.article_id FROM src_tags s CROSS JOIN LATERAL \
              (SELECT t.article_id FROM article_tags t WHERE t.tag_id = s.tag_id \
               ORDER BY t.article_id DESC LIMIT {per}) x) \
           {text_source} \
         ) \
         SELECT a.id FROM cand c JOIN articles a ON a.id = c.id CROSS JOIN src \
           CROSS JOIN LATERAL (SELECT count(*) AS n FROM article_tags t \
             WHERE t.article_id = a.id AND t.tag_id IN (SELECT tag_id FROM src_tags)) sh \
         WHERE {visible} AND a.id <> {id} AND a.id <> ALL({exclude}) \
         ORDER BY ((CASE WHEN a.category_id = src.category_id THEN 1.0 ELSE 0.0 END) \
                   + 0.8 * sh.n{text_score}) \
                  / (1.0 + abs(extract(epoch FROM (a.published_at - coalesce(src.published_at, a.published_at)))) / 2592000.0) DESC, \
                  a.published_at DESC, a.id DESC \
         LIMIT {limit}"
    );
    Ok(st
        .load::<Row>(conn)
        .await?
        .into_iter()
        .map(|r| r.id)
        .collect())
}

/// Articles sharing the most tags with this one, newest first among equals.
pub async fn by_tags(
    conn: &AsyncPgConnection,
    article_id: i64,
    exclude: &[i64],
    limit: i64,
    now: DateTime<Utc>,
) -> diesel::QueryResult<Vec<i64>> {
    let mut st = Statement::default();
    let id = st.param(Bind::BigInt(article_id));
    let now = st.param(Bind::Time(now));
    let per = st.param(Bind::BigInt(PER_SOURCE * 2));
    let exclude = st.param(Bind::BigInts(exclude.to_vec()));
    let limit = st.param(Bind::BigInt(limit));
    st.sql = format!(
        "WITH cand AS (SELECT x.article_id AS id, count(*) AS shared \
           FROM (SELECT tag_id FROM article_tags WHERE article_id = {id}) s CROSS JOIN LATERAL \
             (SELECT t.article_id FROM article_tags t WHERE t.tag_id = s.tag_id \
              ORDER BY t.article_id DESC LIMIT {per}) x \
           GROUP BY x.article_id) \
         SELECT a.id FROM cand c JOIN articles a ON a.id = c.id \
         WHERE a.public_status AND a.published_at <= {now} AND a.id <> {id} AND a.id <> ALL({exclude}) \
         ORDER BY c.shared DESC, a.published_at DESC, a.id DESC LIMIT {limit}"
    );
    Ok(st
        .load::<Row>(conn)
        .await?
        .into_iter()
        .map(|r| r.id)
        .collect())
}

/// The scored list kept for `article_id`, when it was scored less than
/// `max_age` ago.
pub async fn stored(
    mut conn: &AsyncPgConnection,
    article_id: i64,
    max_age: std::time::Duration,
) -> diesel::QueryResult<Option<Vec<i64>>> {
    use crate::schema::related_auto;
    use diesel::prelude::*;
    use diesel_async::RunQueryDsl;
    let since =
        Utc::now() - chrono::Duration::from_std(max_age).unwrap_or(chrono::Duration::zero());
    let ids: Option<Vec<Option<i64>>> = related_auto::table
        .filter(related_auto::article_id.eq(article_id))
        .filter(related_auto::computed_at.gt(since))
        .select(related_auto::ids)
        .first(&mut conn)
        .await
        .optional()?;
    Ok(ids.map(|ids| ids.into_iter().flatten().collect()))
}

/// Keeps `ids`, scored at `scored_at` for the article as it was at
/// `updated_at`. Nothing is kept when the article has changed since (its
/// change dropped the list, and this one may predate it).
pub async fn store(
    mut conn: &AsyncPgConnection,
    article_id: i64,
    updated_at: DateTime<Utc>,
    ids: &[i64],
    scored_at: DateTime<Utc>,
) -> diesel::QueryResult<()> {
    use diesel_async::RunQueryDsl;
    let mut st = Statement::default();
    let id = st.param(Bind::BigInt(article_id));
    let ids = st.param(Bind::BigInts(ids.to_vec()));
    let at = st.param(Bind::Time(scored_at));
    let updated = st.param(Bind::Time(updated_at));
    st.sql = format!(
        "INSERT INTO related_auto (article_id, ids, computed_at) \
         SELECT id, {ids}, {at} FROM articles WHERE id = {id} AND updated_at = {updated} \
         ON CONFLICT (article_id) DO UPDATE SET ids = excluded.ids, computed_at = excluded.computed_at"
    );
    st.execute(&mut conn).await.map(drop)
}
