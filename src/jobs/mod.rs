//! Work outside requests: purge fan-out (LISTEN/NOTIFY and the edge), the
//! timer that purges scheduled articles when they come due, and the hourly
//! pruning of the change feed.

pub mod purge;
pub mod schedule;
pub mod webhooks;

use crate::api::AppState;

/// Starts the background work of a serving instance on the current
/// runtime: the purge listener, the edge purge sender, the schedule
/// timer, the pruning of the change feed and the webhook worker. Each runs until the runtime stops.
pub fn start(state: &AppState) {
    let caching = state.settings.cache_ttl_secs > 0;
    // Heard even with the response cache off: the category tree is kept in
    // memory between changes either way.
    let pool = state.pool.clone();
    actix_web::rt::spawn(purge::listen(
        async move || {
            use deadpool::managed::Manager as _;
            Ok(pool.manager().create().await?)
        },
        state.purger.clone(),
    ));
    let edge = state.purger.take_edge_queue();
    if caching || edge.is_some() {
        actix_web::rt::spawn(schedule::run(state.clone()));
    }
    if let Some((queue, urls)) = edge {
        actix_web::rt::spawn(purge::send_to_edge(queue, urls));
    }
    actix_web::rt::spawn(prune_changes(state.clone()));
    if state.settings.webhooks.deliver {
        actix_web::rt::spawn(webhooks::run(state.clone()));
    }
}

/// Forgets change-feed rows and tombstones past their keeping, hourly
/// (every instance does it; the deletes are idempotent).
async fn prune_changes(state: AppState) {
    let days = i64::try_from(state.settings.changes_days).unwrap_or(i64::MAX);
    let mut tick = actix_web::rt::time::interval(std::time::Duration::from_secs(3600));
    loop {
        tick.tick().await;
        let pruned = async {
            let mut conn = state.pool.get().await?;
            anyhow::Ok(crate::models::sync::prune(&mut conn, days).await?)
        }
        .await;
        match pruned {
            Ok(0) => {}
            Ok(n) => {
                log::info!("change feed: forgot {n} changes and tombstones older than {days} days")
            }
            Err(e) => log::warn!("pruning the change feed failed (next hour again): {e}"),
        }
    }
}
