//! Scheduled articles come due without any write, so no change purges
//! what they affect. This timer sleeps until the next due time (or until
//! a purge from any instance says the schedule may have changed), then
//! purges the keys of every article that came due, as publishing it would.
//!
//! Every instance runs its own timer for its own cache; each also sends the
//! edge purge, so with several instances the edge gets the same purge once
//! per instance (harmless: a purge is idempotent).

use std::time::Duration;

use chrono::{DateTime, Utc};
use diesel::dsl::min;
use diesel::prelude::*;
use diesel_async::RunQueryDsl;

use crate::api::AppState;
use crate::domain::keys::{self, Keys};
use crate::models::change;
use crate::schema::articles;

/// The longest sleep without looking again.
const IDLE: Duration = Duration::from_secs(60);

pub async fn run(state: AppState) {
    let mut since = Utc::now();
    loop {
        let now = Utc::now();
        let next = match came_due(&state, since, now).await {
            Ok((keys, next)) => {
                if !keys.is_empty() {
                    log::info!("scheduled articles came due; purging {} keys", keys.len());
                    state.purger.committed(&keys);
                }
                since = now;
                next
            }
            Err(e) => {
                log::warn!("checking scheduled articles failed (retrying): {e}");
                Some(now + chrono::Duration::seconds(5))
            }
        };
        let wait = next
            .and_then(|t| (t - Utc::now()).to_std().ok())
            .unwrap_or(Duration::ZERO)
            .min(IDLE);
        let wait = if next.is_none() { IDLE } else { wait };
        tokio::select! {
            // A millisecond past the due time: visibility is `published_at <= now`.
            () = tokio::time::sleep(wait + Duration::from_millis(1)) => {}
            () = state.purger.changed.notified() => {}
        }
    }
}

/// The keys of the articles that became public in `(since, now]`, and the
/// next due time after `now`.
async fn came_due(
    state: &AppState,
    since: DateTime<Utc>,
    now: DateTime<Utc>,
) -> anyhow::Result<(Keys, Option<DateTime<Utc>>)> {
    let mut conn = state.pool.get().await?;
    let due: Vec<i64> = articles::table
        .filter(articles::public_status)
        .filter(articles::published_at.gt(since))
        .filter(articles::published_at.le(now))
        .select(articles::id)
        .load(&mut conn)
        .await?;
    let mut keys = Keys::default();
    for id in due {
        let shown = change::shown(&mut conn, id, now).await?;
        keys.extend(&keys::article_change(id, None, shown.as_ref()));
    }
    let next: Option<DateTime<Utc>> = articles::table
        .filter(articles::public_status)
        .filter(articles::published_at.gt(now))
        .select(min(articles::published_at))
        .first(&mut conn)
        .await?;
    Ok((keys, next))
}
