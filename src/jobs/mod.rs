//! Work outside requests: purge fan-out (LISTEN/NOTIFY and the edge) and
//! the timer that purges scheduled articles when they come due.

pub mod purge;
pub mod schedule;

use crate::api::AppState;

/// Starts the background work of a serving instance on the current
/// runtime: the purge listener, the edge purge sender and the schedule
/// timer. Each runs until the runtime stops.
pub fn start(state: &AppState) {
    let purger = state.purger.clone();
    let pool = state.pool.clone();
    actix_web::rt::spawn(purge::listen(
        async move || {
            use deadpool::managed::Manager as _;
            Ok(pool.manager().create().await?)
        },
        purger,
    ));
    if let Some((queue, urls)) = state.purger.take_edge_queue() {
        actix_web::rt::spawn(purge::send_to_edge(queue, urls));
    }
    actix_web::rt::spawn(schedule::run(state.clone()));
}
