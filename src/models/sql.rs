//! Hand-built SQL statements with numbered parameters, for the queries
//! Diesel's DSL cannot express (tsvector operators, `UNION ALL` branches,
//! lateral joins). Every value is a bound parameter, and each statement
//! is prepared once per connection.

use chrono::{DateTime, Utc};
use diesel::QueryableByName;
use diesel::pg::Pg;
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};
use diesel::sql_types::{Array, BigInt, Text, Timestamptz, Untyped};
use diesel_async::{AsyncPgConnection, RunQueryDsl};

pub enum Bind {
    Text(String),
    BigInt(i64),
    BigInts(Vec<i64>),
    Time(DateTime<Utc>),
    Date(chrono::NaiveDate),
}

/// SQL text and its parameters, numbered as they are added.
#[derive(Default)]
pub struct Statement {
    pub sql: String,
    binds: Vec<Bind>,
    planned_per_call: bool,
}

impl Statement {
    /// Not kept prepared: PostgreSQL plans it for the values of each call.
    /// For a statement whose best plan depends on a value's selectivity (a
    /// `tsquery`: common words want the newest rows walked in order and
    /// filtered, rare ones the GIN index) and whose generic plan, which a
    /// kept statement may fall back to after five calls, is right for one
    /// kind and takes seconds on the other. Planning costs each call about
    /// as much as a small query, so only where that was seen.
    pub fn plan_per_call(&mut self) {
        self.planned_per_call = true;
    }

    pub fn param(&mut self, bind: Bind) -> String {
        self.binds.push(bind);
        format!("${}", self.binds.len())
    }

    pub async fn load<T>(self, mut conn: &AsyncPgConnection) -> diesel::QueryResult<Vec<T>>
    where
        T: QueryableByName<diesel::pg::Pg> + Send + 'static,
    {
        RunQueryDsl::load(self, &mut conn).await
    }

    fn push_bind<'b>(
        &'b self,
        number: usize,
        out: &mut AstPass<'_, 'b, Pg>,
    ) -> diesel::QueryResult<()> {
        let bind = self.binds.get(number.wrapping_sub(1)).ok_or_else(|| {
            diesel::result::Error::QueryBuilderError(format!("no parameter ${number}").into())
        })?;
        match bind {
            Bind::Text(v) => out.push_bind_param::<Text, _>(v),
            Bind::BigInt(v) => out.push_bind_param::<BigInt, _>(v),
            Bind::BigInts(v) => out.push_bind_param::<Array<BigInt>, _>(v),
            Bind::Time(v) => out.push_bind_param::<Timestamptz, _>(v),
            Bind::Date(v) => out.push_bind_param::<diesel::sql_types::Date, _>(v),
        }
    }
}

/// The text is walked placeholder by placeholder, each `$n` handed to
/// Diesel as its parameter (Diesel numbers them again, in order; one used
/// twice is sent twice). Unlike `sql_query`, the statement may be kept
/// prepared: the connection's statement cache keys it by its text, of
/// which each caller makes a handful of shapes, so PostgreSQL parses it
/// once per connection and the call is one round trip, not two.
impl QueryFragment<Pg> for Statement {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> diesel::QueryResult<()> {
        if self.planned_per_call {
            out.unsafe_to_cache_prepared();
        }
        let mut rest = self.sql.as_str();
        while let Some(at) = rest.find('$') {
            let digits = rest[at + 1..]
                .bytes()
                .take_while(u8::is_ascii_digit)
                .count();
            if digits == 0 {
                out.push_sql(&rest[..=at]);
                rest = &rest[at + 1..];
                continue;
            }
            out.push_sql(&rest[..at]);
            let number = rest[at + 1..at + 1 + digits].parse().unwrap_or(usize::MAX);
            self.push_bind(number, &mut out)?;
            rest = &rest[at + 1 + digits..];
        }
        out.push_sql(rest);
        Ok(())
    }
}

impl QueryId for Statement {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl Query for Statement {
    type SqlType = Untyped;
}
