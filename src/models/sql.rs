//! Hand-built SQL statements with numbered parameters, for the queries
//! Diesel's DSL cannot express (tsvector operators, `UNION ALL` branches,
//! lateral joins). Every value is a bound parameter.

use chrono::{DateTime, Utc};
use diesel::QueryableByName;
use diesel::sql_types::{Array, BigInt, Text, Timestamptz};
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
}

impl Statement {
    pub fn param(&mut self, bind: Bind) -> String {
        self.binds.push(bind);
        format!("${}", self.binds.len())
    }

    pub async fn load<T>(self, mut conn: &AsyncPgConnection) -> diesel::QueryResult<Vec<T>>
    where
        T: QueryableByName<diesel::pg::Pg> + Send + 'static,
    {
        let mut query = diesel::sql_query(self.sql).into_boxed::<diesel::pg::Pg>();
        for bind in self.binds {
            query = match bind {
                Bind::Text(v) => query.bind::<Text, _>(v),
                Bind::BigInt(v) => query.bind::<BigInt, _>(v),
                Bind::BigInts(v) => query.bind::<Array<BigInt>, _>(v),
                Bind::Time(v) => query.bind::<Timestamptz, _>(v),
                Bind::Date(v) => query.bind::<diesel::sql_types::Date, _>(v),
            };
        }
        query.load(&mut conn).await
    }
}
