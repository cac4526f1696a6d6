//! Diesel row structs, inserts and queries. Functions here return
//! `QueryResult`; turning them into HTTP answers is the handlers' job.

pub mod article;
pub mod audit;
pub mod author;
pub mod category;
pub mod change;
pub mod editorial;
pub mod media;
pub mod related;
pub mod search;
pub mod sitemap;
pub mod sql;
pub mod staff;
pub mod sync;
pub mod tag;
pub mod webhook;

use chrono::Utc;
use diesel::pg::Pg;
use diesel::prelude::*;
use diesel::sql_types::Bool;

use crate::schema::articles;

/// Published (or scheduled and due) and not in the future.
///
/// Built from columns and binds only: Diesel caches the prepared statement
/// of such a query (a SQL literal would make it re-plan every time), and
/// `public_status` matches the partial indexes' `WHERE public_status`.
pub fn is_visible() -> Box<dyn BoxableExpression<articles::table, Pg, SqlType = Bool>> {
    Box::new(articles::public_status.and(articles::published_at.assume_not_null().le(Utc::now())))
}

/// Articles the public may see, as a boxed query to add filters to.
pub fn visible_articles() -> articles::BoxedQuery<'static, Pg> {
    articles::table.filter(is_visible()).into_boxed()
}
