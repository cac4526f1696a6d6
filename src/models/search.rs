//! Full-text search, suggestions and typo correction, in PostgreSQL.
//!
//! Relevance is a tier, not a float: a match in the title beats one in the
//! summary, which beats one in the body; with diacritics in the query an
//! exact-diacritic match beats a folded one in the same field; within a tier
//! the newest article comes first. Each tier is one branch of a `UNION ALL`
//! under a `LIMIT`, so PostgreSQL stops as soon as the page is full: a
//! common word reads a few rows along the newest-first index, a rare word a
//! few GIN entries. Pages continue with a keyset cursor (tier, time, id).
//!
//! The statements are built as text with numbered parameters: Diesel's DSL
//! has no tsvector operators, and every user-provided value is a bound
//! parameter (the tsquery text itself is built from letters and digits
//! only, see `domain::search`).

use chrono::{DateTime, Utc};
use diesel::QueryableByName;
use diesel::sql_types::{BigInt, SmallInt, Text, Timestamptz};
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use crate::models::sql::{Bind, Statement};

use crate::domain::search::{Scope, SearchQuery};
use crate::models::article::ArticleFilter;

/// The order of search results.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SearchOrder {
    Relevance,
    Newest,
}

/// Where the previous page ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct After {
    pub tier: i16,
    pub at: DateTime<Utc>,
    pub id: i64,
}

#[derive(Debug, Clone, QueryableByName)]
pub struct Hit {
    #[diesel(sql_type = BigInt)]
    pub id: i64,
    #[diesel(sql_type = SmallInt)]
    pub tier: i16,
    #[diesel(sql_type = Timestamptz)]
    pub published_at: DateTime<Utc>,
}

#[derive(Debug, Clone, QueryableByName)]
pub struct Suggestion {
    #[diesel(sql_type = BigInt)]
    pub id: i64,
    #[diesel(sql_type = Text)]
    pub slug: String,
    #[diesel(sql_type = Text)]
    pub title: String,
    #[diesel(sql_type = Timestamptz)]
    pub published_at: DateTime<Utc>,
}

/// `WHERE` conditions on articles `a` that every search statement shares:
/// visibility, the list filters (the same `ArticleFilter` that
/// `article::apply_filter` applies in Diesel's DSL; keep the two in step)
/// and the query's exclusions.
fn common_conditions(
    st: &mut Statement,
    filter: &ArticleFilter,
    query: &SearchQuery,
    now: DateTime<Utc>,
) -> String {
    let now = st.param(Bind::Time(now));
    let mut sql = format!("a.public_status AND a.published_at <= {now}");
    match filter.category_ids.as_deref() {
        Some([one]) => {
            let p = st.param(Bind::BigInt(*one));
            sql += &format!(" AND a.category_id = {p}");
        }
        Some(many) => {
            let p = st.param(Bind::BigInts(many.to_vec()));
            sql += &format!(" AND a.category_id = ANY({p})");
        }
        None => {}
    }
    if let Some(tag) = filter.tag_id {
        let p = st.param(Bind::BigInt(tag));
        sql += &format!(
            " AND EXISTS (SELECT 1 FROM article_tags t WHERE t.article_id = a.id AND t.tag_id = {p})"
        );
    }
    if let Some(author) = filter.author_id {
        let p = st.param(Bind::BigInt(author));
        sql += &format!(
            " AND EXISTS (SELECT 1 FROM article_authors w WHERE w.article_id = a.id AND w.author_id = {p})"
        );
    }
    if let Some(after) = filter.published_after {
        let p = st.param(Bind::Time(after));
        sql += &format!(" AND a.published_at >= {p}");
    }
    if let Some(before) = filter.published_before {
        let p = st.param(Bind::Time(before));
        sql += &format!(" AND a.published_at < {p}");
    }
    if let Some(excluded) = query.excluded() {
        let p = st.param(Bind::Text(excluded));
        sql += &format!(" AND NOT a.search_all @@ to_tsquery('newsroom_fold', {p})");
    }
    sql
}

/// The match condition of each tier, best first.
fn tiers(statement: &mut Statement, query: &SearchQuery, order: SearchOrder) -> Vec<String> {
    let mut tsquery = |exact: bool, scope: Scope| {
        let config = if exact { "simple" } else { "newsroom_fold" };
        let p = statement.param(Bind::Text(query.tsquery(exact, scope, false)));
        format!("to_tsquery('{config}', {p})")
    };
    if order == SearchOrder::Newest {
        return vec![format!(
            "a.search_all @@ {}",
            tsquery(false, Scope::Anywhere)
        )];
    }
    let exact_too = query.has_diacritics();
    let mut conditions = Vec::new();
    for (column, scope) in [
        ("search_head", Scope::Title),
        ("search_head", Scope::Anywhere),
        ("search_all", Scope::Anywhere),
    ] {
        if exact_too {
            conditions.push(format!("a.{column} @@ {}", tsquery(true, scope)));
        }
        conditions.push(format!("a.{column} @@ {}", tsquery(false, scope)));
    }
    conditions
}

/// One page of hits (up to `limit + 1`, so the caller can tell whether
/// another page follows), best first.
pub async fn hits(
    conn: &mut AsyncPgConnection,
    query: &SearchQuery,
    filter: &ArticleFilter,
    order: SearchOrder,
    after: Option<After>,
    limit: i64,
    now: DateTime<Utc>,
) -> diesel::QueryResult<Vec<Hit>> {
    let mut st = Statement::default();
    let common = common_conditions(&mut st, filter, query, now);
    let conditions = tiers(&mut st, query, order);
    let limit = st.param(Bind::BigInt(limit + 1));
    let mut branches = Vec::new();
    for (tier, condition) in conditions.iter().enumerate() {
        let tier = tier as i16;
        if after.is_some_and(|a| a.tier > tier) {
            continue;
        }
        let mut sql = format!(
            "(SELECT a.id, {tier}::int2 AS tier, a.published_at FROM articles a WHERE {common} AND {condition}"
        );
        for earlier in &conditions[..tier as usize] {
            sql += &format!(" AND NOT {earlier}");
        }
        if let Some(a) = after.filter(|a| a.tier == tier) {
            let at = st.param(Bind::Time(a.at));
            let id = st.param(Bind::BigInt(a.id));
            sql += &format!(" AND (a.published_at, a.id) < ({at}, {id})");
        }
        sql += &format!(" ORDER BY a.published_at DESC, a.id DESC LIMIT {limit})");
        branches.push(sql);
    }
    if branches.is_empty() {
        return Ok(Vec::new());
    }
    st.sql = format!(
        "SELECT id, tier, published_at FROM ({}) hits LIMIT {limit}",
        branches.join(" UNION ALL ")
    );
    let mut hits: Vec<Hit> = st.load(conn).await?;
    // Append runs its branches in order; sorting again costs nothing and
    // does not depend on it.
    hits.sort_by(|x, y| (x.tier, y.published_at, y.id).cmp(&(y.tier, x.published_at, x.id)));
    Ok(hits)
}

#[derive(Debug, QueryableByName)]
struct Correction {
    #[diesel(sql_type = Text)]
    input: String,
    #[diesel(sql_type = diesel::sql_types::Nullable<Text>)]
    fixed: Option<String>,
}

/// For each folded word, itself when some title or summary has it, else
/// the closest word that one has (among those with trigram similarity at
/// least 0.2, the fewest edits, then the most similar), else nothing. One
/// statement over `search_words`, a few thousand rows.
pub async fn corrections(
    conn: &mut AsyncPgConnection,
    words: &[String],
) -> diesel::QueryResult<Vec<(String, Option<String>)>> {
    // `%` uses this threshold (session setting; only this query reads it).
    diesel::sql_query("SELECT set_config('pg_trgm.similarity_threshold', '0.2', false)")
        .execute(conn)
        .await?;
    let rows: Vec<Correction> = diesel::sql_query(
        "SELECT w.input, CASE WHEN EXISTS (SELECT 1 FROM search_words s WHERE s.word = w.input) \
           THEN w.input \
           ELSE (SELECT s.word FROM search_words s WHERE s.word % w.input \
                 ORDER BY levenshtein(s.word, w.input), similarity(s.word, w.input) DESC, s.word \
                 LIMIT 1) END AS fixed \
         FROM unnest($1::text[]) AS w(input)",
    )
    .bind::<diesel::sql_types::Array<Text>, _>(words)
    .load(conn)
    .await?;
    Ok(rows.into_iter().map(|r| (r.input, r.fixed)).collect())
}

/// How much of a body a snippet is looked for in: enough for any real
/// match near the top, and a bound on the work for a huge body.
pub const SNIPPET_SOURCE_CHARS: i32 = 20_000;

diesel::define_sql_function!(fn left(text: Text, n: diesel::sql_types::Integer) -> Text);

/// The start of the plain-text bodies of `ids`, for snippets of body matches.
pub async fn bodies(
    mut conn: &AsyncPgConnection,
    ids: &[i64],
) -> diesel::QueryResult<Vec<(i64, String)>> {
    use crate::schema::articles;
    use diesel::{ExpressionMethods, QueryDsl};
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    articles::table
        .filter(articles::id.eq_any(ids.to_vec()))
        .select((
            articles::id,
            left(articles::body_text, SNIPPET_SOURCE_CHARS),
        ))
        .load(&mut conn)
        .await
}

/// Titles starting with what the reader has typed so far, newest first.
pub async fn suggest(
    conn: &mut AsyncPgConnection,
    query: &SearchQuery,
    limit: i64,
    now: DateTime<Utc>,
) -> diesel::QueryResult<Vec<Suggestion>> {
    let mut st = Statement::default();
    let common = common_conditions(&mut st, &ArticleFilter::default(), query, now);
    let tsquery = st.param(Bind::Text(query.tsquery(false, Scope::Title, true)));
    let limit = st.param(Bind::BigInt(limit));
    st.sql = format!(
        "SELECT a.id, a.slug, a.title, a.published_at FROM articles a \
         WHERE {common} AND a.search_head @@ to_tsquery('newsroom_fold', {tsquery}) \
         ORDER BY a.published_at DESC, a.id DESC LIMIT {limit}"
    );
    st.load(conn).await
}
