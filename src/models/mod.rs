//! Diesel row structs, inserts and queries. Functions here return
//! `QueryResult`; turning them into HTTP answers is the handlers' job.

pub mod article;
pub mod author;
pub mod category;
pub mod media;
pub mod tag;

use chrono::Utc;
use diesel::dsl::sql;
use diesel::pg::Pg;
use diesel::prelude::*;
use diesel::sql_types::Bool;

use crate::schema::articles;

/// The statuses that can be public; `published_at` decides when.
pub const PUBLIC_STATUS_SQL: &str = "articles.status IN ('published', 'scheduled')";

/// Published (or scheduled and due) and not in the future. Written as literal
/// SQL so the planner can match the partial indexes' `WHERE` clause.
pub fn is_visible() -> Box<dyn BoxableExpression<articles::table, Pg, SqlType = Bool>> {
    Box::new(
        sql::<Bool>(PUBLIC_STATUS_SQL).and(articles::published_at.assume_not_null().le(Utc::now())),
    )
}

/// Articles the public may see, as a boxed query to add filters to.
pub fn visible_articles() -> articles::BoxedQuery<'static, Pg> {
    articles::table.filter(is_visible()).into_boxed()
}
