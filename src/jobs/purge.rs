//! Purges: how a committed change empties every cache that holds what it
//! changed.
//!
//! - This instance's cache, at once, before the writer's request answers
//!   (an editor who saves and then reads sees the save).
//! - Every instance's cache (this one's again, harmlessly): the change's
//!   transaction queues `pg_notify`, which PostgreSQL delivers on commit and
//!   only then; each instance keeps one connection listening. While that
//!   connection is down, notifications may be missed, so the instance
//!   empties its cache and keeps nothing until it listens again.
//! - The edge: one `PURGE` request per purge to each configured URL
//!   (`NEWSROOM_PURGE_URLS`), naming the keys in `xkey-purge`, as Varnish's
//!   xkey module takes them (`deploy/varnish/newsroom.vcl`).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use diesel::sql_types::Text;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use futures_util::StreamExt;
use tokio::sync::{Notify, mpsc};

use crate::domain::keys::Keys;
use crate::http::cache::ResponseCache;

/// The NOTIFY channel purges travel on.
pub const CHANNEL: &str = "newsroom_purge";

/// A NOTIFY payload must stay under 8000 bytes; longer key lists are sent
/// as several notifications (and several edge requests, which keeps each
/// header well under Varnish's 8 KB default).
const CHUNK_BYTES: usize = 6000;

/// When an edge purge is sent again.
const EDGE_REPEAT: Duration = Duration::from_secs(2);

/// How often the listening connection is checked while it is quiet.
const LISTEN_CHECK: Duration = Duration::from_secs(30);

/// Edge purges waiting to be sent, and where to.
pub type EdgeQueue = (mpsc::UnboundedReceiver<Keys>, Vec<String>);

/// Sends a change's purges; shared by every worker.
#[derive(Clone)]
pub struct Purger {
    pub cache: ResponseCache,
    edge: Option<mpsc::UnboundedSender<Keys>>,
    /// Taken by [`Purger::take_edge_queue`] when the server starts.
    edge_queue: Arc<Mutex<Option<EdgeQueue>>>,
    /// Rung on every purge from any instance: the schedule may have changed.
    pub changed: Arc<Notify>,
}

impl Purger {
    pub fn new(cache: ResponseCache, edge_urls: Vec<String>) -> Self {
        let (edge, edge_queue) = if edge_urls.is_empty() {
            (None, None)
        } else {
            let (tx, rx) = mpsc::unbounded_channel();
            (Some(tx), Some((rx, edge_urls)))
        };
        Self {
            cache,
            edge,
            edge_queue: Arc::new(Mutex::new(edge_queue)),
            changed: Arc::new(Notify::new()),
        }
    }

    /// After a commit: this instance's cache now, the edge soon.
    pub fn committed(&self, keys: &Keys) {
        if keys.is_empty() {
            return;
        }
        self.cache.purge(keys);
        self.changed.notify_one();
        if let Some(edge) = &self.edge {
            // The sender lives as long as the server; a send fails only
            // while it shuts down.
            let _ = edge.send(keys.clone());
        }
    }

    /// The queue of edge purges and where to send them, once.
    pub fn take_edge_queue(&self) -> Option<EdgeQueue> {
        self.edge_queue
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take()
    }
}

/// Queues the purge of `keys` in the current transaction: every listening
/// instance receives it if, and when, the transaction commits.
pub async fn notify(conn: &mut AsyncPgConnection, keys: &Keys) -> diesel::QueryResult<()> {
    for chunk in chunks(keys) {
        diesel::sql_query("SELECT pg_notify($1, $2)")
            .bind::<Text, _>(CHANNEL)
            .bind::<Text, _>(chunk)
            .execute(conn)
            .await?;
    }
    Ok(())
}

/// Space-separated key lists of at most `CHUNK_BYTES` each.
fn chunks(keys: &Keys) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut current = String::new();
    for key in keys.iter() {
        if !current.is_empty() && current.len() + 1 + key.len() > CHUNK_BYTES {
            out.push(std::mem::take(&mut current));
        }
        if !current.is_empty() {
            current.push(' ');
        }
        current.push_str(key);
    }
    if !current.is_empty() {
        out.push(current);
    }
    out
}

/// Listens for every instance's purges until the server stops; reconnects
/// with backoff, emptying the cache after each reconnection.
pub async fn listen(connect: impl AsyncFn() -> anyhow::Result<AsyncPgConnection>, purger: Purger) {
    let mut backoff = Duration::from_millis(250);
    let mut first = true;
    loop {
        match listening(&connect).await {
            Ok(mut conn) => {
                if !first {
                    log::warn!("listening for purges again; emptying the response cache");
                }
                // Whatever was cached before now may have missed a purge.
                purger.cache.clear();
                purger.cache.set_listening(true);
                purger.changed.notify_one();
                first = false;
                backoff = Duration::from_millis(250);
                if let Err(e) = relay(&mut conn, &purger).await {
                    log::warn!("the purge listener's connection failed: {e}");
                }
                // Deaf now: keep nothing, and serve nothing that a purge
                // might since have removed.
                purger.cache.set_listening(false);
                purger.cache.clear();
            }
            Err(e) => log::warn!("cannot listen for purges (retrying in {backoff:?}): {e}"),
        }
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(Duration::from_secs(10));
    }
}

async fn listening(
    connect: &impl AsyncFn() -> anyhow::Result<AsyncPgConnection>,
) -> anyhow::Result<AsyncPgConnection> {
    let mut conn = connect().await?;
    diesel::sql_query(format!("LISTEN {CHANNEL}"))
        .execute(&mut conn)
        .await?;
    Ok(conn)
}

/// Hands each notification to the cache until the connection fails.
async fn relay(conn: &mut AsyncPgConnection, purger: &Purger) -> anyhow::Result<()> {
    loop {
        let quiet = {
            let stream = conn.notifications_stream();
            let mut stream = std::pin::pin!(stream);
            loop {
                match tokio::time::timeout(LISTEN_CHECK, stream.next()).await {
                    Ok(Some(Ok(note))) => {
                        purger.cache.purge(&Keys::parse(&note.payload));
                        purger.changed.notify_one();
                    }
                    Ok(Some(Err(e))) => return Err(e.into()),
                    Ok(None) => anyhow::bail!("the connection closed"),
                    Err(_) => break true,
                }
            }
        };
        // Quiet for a while: prove the connection still answers (a peer
        // gone without a word would otherwise leave it waiting forever).
        if quiet {
            tokio::time::timeout(LISTEN_CHECK, diesel::sql_query("SELECT 1").execute(conn))
                .await
                .map_err(|_| anyhow::anyhow!("the connection stopped answering"))??;
        }
    }
}

/// Sends queued edge purges until the server stops, merging those that
/// queued up while one was being sent, and sends each once more
/// `EDGE_REPEAT` later: a fetch the edge began before the purge (or one
/// answered by an instance that had not heard the purge yet, from its own
/// cache) may land after it and would otherwise live until `s-maxage`.
pub async fn send_to_edge(mut queue: mpsc::UnboundedReceiver<Keys>, urls: Vec<String>) {
    crate::http::tls_crypto();
    let client = match reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .build()
    {
        Ok(client) => client,
        Err(e) => {
            log::error!("no HTTP client for edge purges: {e}");
            return;
        }
    };
    let method = reqwest::Method::from_bytes(b"PURGE").expect("PURGE is a valid method");
    let mut repeats: std::collections::VecDeque<(tokio::time::Instant, Keys)> = Default::default();
    loop {
        let next_repeat = repeats.front().map(|(at, _)| *at);
        let keys = tokio::select! {
            queued = queue.recv() => match queued {
                Some(mut keys) => {
                    while let Ok(more) = queue.try_recv() {
                        keys.extend(&more);
                    }
                    repeats.push_back((tokio::time::Instant::now() + EDGE_REPEAT, keys.clone()));
                    keys
                }
                None => return,
            },
            () = sleep_until(next_repeat) => match repeats.pop_front() {
                Some((_, keys)) => keys,
                None => continue,
            },
        };
        for url in &urls {
            for chunk in chunks(&keys) {
                let mut wait = Duration::from_millis(200);
                for attempt in 1..=4 {
                    let sent = client
                        .request(method.clone(), url)
                        .header("xkey-purge", &chunk)
                        .send()
                        .await;
                    match sent {
                        Ok(r) if r.status().is_success() => break,
                        Ok(r) => {
                            log::warn!("edge purge at {url}: {} (attempt {attempt})", r.status())
                        }
                        Err(e) => log::warn!("edge purge at {url} failed (attempt {attempt}): {e}"),
                    }
                    if attempt < 4 {
                        tokio::time::sleep(wait).await;
                        wait *= 5;
                    }
                }
            }
        }
    }
}

/// Sleeps until `at`, or forever without one.
async fn sleep_until(at: Option<tokio::time::Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_key_lists_are_split_under_the_payload_limit() {
        let keys: Keys = (0..2000).map(|i| format!("article-{i}")).collect();
        let parts = chunks(&keys);
        assert!(parts.len() > 1);
        assert!(parts.iter().all(|p| p.len() <= CHUNK_BYTES));
        let back: usize = parts.iter().map(|p| Keys::parse(p).len()).sum();
        assert_eq!(back, 2000);
    }
}
