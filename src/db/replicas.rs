//! Read replicas (`DATABASE_REPLICA_URLS`): which one an anonymous public
//! read may use. A background check compares each replica's replayed WAL
//! position with the primary's about once a second; a replica that is down,
//! is not (or no longer) in recovery, or is further behind than
//! `NEWSROOM_REPLICA_MAX_LAG` is skipped and reads go to the primary.
//!
//! Lag is measured in time without trusting the replica's replay timestamp
//! (stale on an idle primary): each check records the primary's current
//! LSN, and a replica is as old as the newest of those samples it has
//! replayed. So an idle pair reads 0 s and a replica cut off from a busy
//! primary ages by the second.
//!
//! A write fences the replicas: every write (this instance's, or another's
//! heard as a purge notification) bumps a write count, and a replica serves
//! reads again only once it has replayed a primary LSN read after that
//! bump. Purges empty the caches the moment a write commits; without the
//! fence, the next read could fetch the old row from a replica a few
//! milliseconds behind and cache it again until its lifetime ends. With it,
//! reads go to the primary for the milliseconds until the replicas have the
//! write (an editor who saves and then reads sees the save, through any
//! instance). The purges heard from other instances are repeated once the
//! replicas have caught up, for a read that slipped in between the cache's
//! purge and the fence (two connections hear the same notification).

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use diesel::sql_types::{Bool, Nullable, Text};
use diesel_async::AsyncPgConnection;
use futures_util::StreamExt;
use serde::Serialize;
use tokio::sync::Notify;
use utoipa::ToSchema;

use super::{DbPool, redact};

/// How often replicas are checked when nothing is written.
const CHECK_EVERY: Duration = Duration::from_secs(1);
/// How soon a fenced replica is checked again after a write.
const FENCE_CHECK: Duration = Duration::from_millis(20);
/// How long one check may wait for a server's answer.
const CHECK_TIMEOUT: Duration = Duration::from_secs(1);
/// How far back primary LSN samples are kept (lag beyond this reads as
/// at least this).
const HISTORY: Duration = Duration::from_secs(120);

/// The read replicas of one instance and what the last check found.
#[derive(Clone, Default)]
pub struct Replicas {
    inner: Arc<Inner>,
}

#[derive(Default)]
struct Inner {
    replicas: Vec<Replica>,
    max_lag: Duration,
    /// Round-robin among usable replicas.
    next: AtomicUsize,
    /// Writes seen so far (the fence's count).
    writes: AtomicU64,
    /// Whether the check's connection listens for other instances' writes.
    listening: AtomicBool,
    /// Whether the primary answered the last check.
    primary_up: AtomicBool,
    /// Rung on each write: check soon.
    wake: Notify,
    /// Purges heard from other instances, repeated once replicas caught up:
    /// (write count, payload, when heard).
    heard: Mutex<Vec<(u64, String, Instant)>>,
}

struct Replica {
    /// Host, port and database; never the password.
    name: String,
    pool: DbPool,
    /// Serves reads (before the fence is applied).
    usable: AtomicBool,
    /// The write count it has replayed past.
    caught_up: AtomicU64,
    status: Mutex<ReplicaStatus>,
}

/// One replica as the last check found it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ReplicaStatus {
    /// Its host, port and database.
    #[schema(example = "replica-1:5432/newsroom")]
    pub name: String,
    pub state: ReplicaState,
    /// How old its data may be, in seconds (null when it or the primary
    /// did not answer).
    #[schema(example = 0.0)]
    pub lag_seconds: Option<f64>,
    /// Bytes of WAL it has still to replay (null when unknown).
    #[schema(example = 0)]
    pub lag_bytes: Option<i64>,
    /// Why it is skipped, when it is.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

/// `in_use`: anonymous reads go to it. `lagging`: further behind than
/// NEWSROOM_REPLICA_MAX_LAG. `down`: it does not answer. `not_replica`: it
/// is not in recovery (promoted, or the URL names a primary). `starting`:
/// not checked yet. All but `in_use` send reads to the primary.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ReplicaState {
    InUse,
    Lagging,
    Down,
    NotReplica,
    Starting,
}

impl Replicas {
    /// Replicas at `urls`, each with its own pool of `pool_size`
    /// connections (made on first use).
    pub fn new(urls: &[String], pool_size: usize, max_lag: Duration) -> anyhow::Result<Self> {
        let replicas = urls
            .iter()
            .map(|url| {
                let name = name_of(url);
                Ok(Replica {
                    pool: super::pool_with_timeout(url, pool_size, CHECK_TIMEOUT)?,
                    usable: AtomicBool::new(false),
                    caught_up: AtomicU64::new(0),
                    status: Mutex::new(ReplicaStatus {
                        name: name.clone(),
                        state: ReplicaState::Starting,
                        lag_seconds: None,
                        lag_bytes: None,
                        detail: None,
                    }),
                    name,
                })
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        Ok(Self {
            inner: Arc::new(Inner {
                replicas,
                max_lag,
                ..Inner::default()
            }),
        })
    }

    pub fn is_empty(&self) -> bool {
        self.inner.replicas.is_empty()
    }

    /// A replica's pool for an anonymous read, or `None`: use the primary.
    pub fn pick(&self) -> Option<&DbPool> {
        let inner = &*self.inner;
        let n = inner.replicas.len();
        if n == 0 {
            return None;
        }
        // While this instance hears every write, a replica must have each
        // one seen so far. Deaf to them, it cannot know: the primary
        // serves, unless the primary is down too (then no write happens,
        // and replicas serve what they have).
        let fenced = inner.listening.load(Ordering::Acquire);
        if !fenced && inner.primary_up.load(Ordering::Acquire) {
            return None;
        }
        let writes = inner.writes.load(Ordering::Acquire);
        let start = inner.next.fetch_add(1, Ordering::Relaxed);
        (0..n)
            .map(|i| &inner.replicas[(start + i) % n])
            .find(|r| {
                r.usable.load(Ordering::Acquire)
                    && (!fenced || r.caught_up.load(Ordering::Acquire) >= writes)
            })
            .map(|r| &r.pool)
    }

    /// A write committed: reads go to the primary until the replicas have
    /// it. Call before purging the caches.
    /// Returns the write count now.
    pub fn wrote(&self) -> u64 {
        if self.is_empty() {
            return 0;
        }
        let count = self.inner.writes.fetch_add(1, Ordering::AcqRel) + 1;
        self.inner.wake.notify_one();
        count
    }

    /// What the last check found, replica by replica.
    pub fn statuses(&self) -> Vec<ReplicaStatus> {
        self.inner
            .replicas
            .iter()
            .map(|r| r.status.lock().unwrap_or_else(|e| e.into_inner()).clone())
            .collect()
    }

    /// Checks the replicas until the server stops, and listens on the
    /// primary for other instances' writes on `channel` (the purge
    /// channel); `repurge` gets each heard payload again once the replicas
    /// have replayed it.
    pub async fn watch(self, primary: DbPool, channel: &'static str, repurge: impl Fn(&str)) {
        let listener = self.clone().listen(primary.clone(), channel);
        let checker = self.check_forever(&primary, repurge);
        futures_util::future::join(listener, checker).await;
    }

    async fn check_forever(&self, primary: &DbPool, repurge: impl Fn(&str)) {
        let mut history = LsnHistory::default();
        // Connections of the check's own, outside the pools: a pool busy
        // with requests must not make a server look down.
        let mut probes = Probes {
            primary: None,
            replicas: self.inner.replicas.iter().map(|_| None).collect(),
        };
        loop {
            self.check(primary, &mut probes, &mut history).await;
            self.repeat_purges(&repurge);
            let inner = &*self.inner;
            let behind = inner.replicas.iter().any(|r| {
                r.usable.load(Ordering::Acquire)
                    && r.caught_up.load(Ordering::Acquire) < inner.writes.load(Ordering::Acquire)
            });
            let wait = if behind { FENCE_CHECK } else { CHECK_EVERY };
            let _ = tokio::time::timeout(wait, inner.wake.notified()).await;
            if !behind {
                // Let the write's WAL reach the replicas before looking.
                tokio::time::sleep(Duration::from_millis(2)).await;
            }
        }
    }

    async fn check(&self, primary: &DbPool, probes: &mut Probes, history: &mut LsnHistory) {
        let inner = &*self.inner;
        // Read before the primary's LSN: every write counted here has
        // committed at or before that LSN.
        let writes = inner.writes.load(Ordering::Acquire);
        let now = Instant::now();
        let primary_lsn = match ask(&mut probes.primary, primary, PRIMARY_POSITION).await {
            Ok(Position {
                lsn: Some(lsn),
                recovery: false,
            }) => parse_lsn(&lsn).ok(),
            Ok(_) => None,
            Err(e) => {
                log::debug!("replica check: the primary's position: {e}");
                None
            }
        };
        if inner
            .primary_up
            .swap(primary_lsn.is_some(), Ordering::AcqRel)
            != primary_lsn.is_some()
        {
            match primary_lsn {
                Some(_) => log::info!("replica check: the primary answers again"),
                None => log::warn!("replica check: the primary does not answer"),
            }
        }
        if let Some(lsn) = primary_lsn {
            history.record(now, lsn, writes);
        }
        let checks =
            inner
                .replicas
                .iter()
                .zip(probes.replicas.iter_mut())
                .map(|(r, probe)| async move {
                    let replay = match ask(probe, &r.pool, REPLICA_POSITION).await {
                        Ok(Position {
                            lsn: Some(lsn),
                            recovery: true,
                        }) => parse_lsn(&lsn).map(Some),
                        Ok(_) => Ok(None),
                        Err(e) => Err(e),
                    };
                    (r, replay)
                });
        for (replica, replay) in futures_util::future::join_all(checks).await {
            let status = match replay {
                Err(e) => {
                    // Its pooled connections are dead too: drop them, so
                    // its return starts afresh.
                    replica.pool.retain(|_, _| false);
                    ReplicaStatus {
                        name: replica.name.clone(),
                        state: ReplicaState::Down,
                        lag_seconds: None,
                        lag_bytes: None,
                        detail: Some(e.to_string()),
                    }
                }
                Ok(None) => ReplicaStatus {
                    name: replica.name.clone(),
                    state: ReplicaState::NotReplica,
                    lag_seconds: None,
                    lag_bytes: None,
                    detail: Some("not in recovery (promoted, or a primary)".into()),
                },
                Ok(Some(replayed)) => {
                    if let Some(caught) = history.writes_replayed(replayed) {
                        replica.caught_up.fetch_max(caught, Ordering::AcqRel);
                    }
                    match primary_lsn {
                        Some(lsn) => {
                            let lag = history.lag(replayed, now);
                            let too_old = lag > inner.max_lag;
                            ReplicaStatus {
                                name: replica.name.clone(),
                                state: if too_old {
                                    ReplicaState::Lagging
                                } else {
                                    ReplicaState::InUse
                                },
                                lag_seconds: Some(round_ms(lag)),
                                lag_bytes: Some(
                                    i64::try_from(lsn.saturating_sub(replayed)).unwrap_or(i64::MAX),
                                ),
                                detail: too_old.then(|| {
                                    format!(
                                        "behind by more than NEWSROOM_REPLICA_MAX_LAG ({} s)",
                                        inner.max_lag.as_secs_f64()
                                    )
                                }),
                            }
                        }
                        None => ReplicaStatus {
                            name: replica.name.clone(),
                            state: ReplicaState::InUse,
                            lag_seconds: None,
                            lag_bytes: None,
                            detail: Some("the primary does not answer: serving what it has".into()),
                        },
                    }
                }
            };
            let usable = status.state == ReplicaState::InUse;
            if replica.usable.swap(usable, Ordering::AcqRel) != usable {
                log::info!(
                    "replica {}: {} {}",
                    replica.name,
                    if usable { "in use" } else { "skipped" },
                    status.detail.as_deref().unwrap_or("")
                );
            }
            *replica.status.lock().unwrap_or_else(|e| e.into_inner()) = status;
        }
    }

    /// Repeats heard purges that every usable replica has replayed (or
    /// that are older than the lag allowed).
    fn repeat_purges(&self, repurge: &impl Fn(&str)) {
        let inner = &*self.inner;
        let floor = inner
            .replicas
            .iter()
            .filter(|r| r.usable.load(Ordering::Acquire))
            .map(|r| r.caught_up.load(Ordering::Acquire))
            .min()
            .unwrap_or(u64::MAX);
        let due: Vec<String> = {
            let mut heard = inner.heard.lock().unwrap_or_else(|e| e.into_inner());
            let (due, keep) = std::mem::take(&mut *heard)
                .into_iter()
                .partition(|(at, _, when)| *at <= floor || when.elapsed() > inner.max_lag * 2);
            *heard = keep;
            due.into_iter().map(|(_, payload, _)| payload).collect()
        };
        for payload in due {
            repurge(&payload);
        }
    }

    /// Listens on the primary for other instances' writes until the server
    /// stops, reconnecting with backoff.
    async fn listen(self, primary: DbPool, channel: &'static str) {
        use deadpool::managed::Manager as _;
        use diesel_async::RunQueryDsl;
        let inner = &*self.inner;
        let mut backoff = Duration::from_millis(250);
        loop {
            let listening = async {
                let mut conn = primary.manager().create().await?;
                diesel::sql_query(format!("LISTEN {channel}"))
                    .execute(&mut conn)
                    .await?;
                anyhow::Ok(conn)
            }
            .await;
            match listening {
                Ok(mut conn) => {
                    // Writes missed while deaf: fence everything.
                    self.wrote();
                    inner.listening.store(true, Ordering::Release);
                    backoff = Duration::from_millis(250);
                    if let Err(e) = self.relay(&mut conn).await {
                        log::warn!("replica fence: the listening connection failed: {e}");
                    }
                    inner.listening.store(false, Ordering::Release);
                }
                Err(e) => log::warn!("replica fence: cannot listen (retrying in {backoff:?}): {e}"),
            }
            tokio::time::sleep(backoff).await;
            backoff = (backoff * 2).min(Duration::from_secs(10));
        }
    }

    async fn relay(&self, conn: &mut AsyncPgConnection) -> anyhow::Result<()> {
        use diesel_async::RunQueryDsl;
        let inner = &*self.inner;
        loop {
            let quiet = {
                let stream = conn.notifications_stream();
                let mut stream = std::pin::pin!(stream);
                loop {
                    match tokio::time::timeout(Duration::from_secs(30), stream.next()).await {
                        Ok(Some(Ok(note))) => {
                            let at = self.wrote();
                            inner.heard.lock().unwrap_or_else(|e| e.into_inner()).push((
                                at,
                                note.payload,
                                Instant::now(),
                            ));
                        }
                        Ok(Some(Err(e))) => return Err(e.into()),
                        Ok(None) => anyhow::bail!("the connection closed"),
                        Err(_) => break true,
                    }
                }
            };
            if quiet {
                tokio::time::timeout(
                    Duration::from_secs(30),
                    diesel::sql_query("SELECT 1").execute(conn),
                )
                .await
                .map_err(|_| anyhow::anyhow!("the connection stopped answering"))??;
            }
        }
    }
}

#[derive(diesel::QueryableByName)]
struct Position {
    #[diesel(sql_type = Nullable<Text>)]
    lsn: Option<String>,
    #[diesel(sql_type = Bool)]
    recovery: bool,
}

const PRIMARY_POSITION: &str =
    "SELECT pg_current_wal_lsn()::text AS lsn, pg_is_in_recovery() AS recovery";
/// The replayed position; NULL with `recovery` false once promoted.
const REPLICA_POSITION: &str =
    "SELECT pg_last_wal_replay_lsn()::text AS lsn, pg_is_in_recovery() AS recovery";

/// The check's own connections: the primary's and each replica's.
struct Probes {
    primary: Option<AsyncPgConnection>,
    replicas: Vec<Option<AsyncPgConnection>>,
}

/// Runs `sql` on the probe connection (made from `pool`'s settings when
/// there is none), within `CHECK_TIMEOUT`; a failure drops the connection.
async fn ask(
    probe: &mut Option<AsyncPgConnection>,
    pool: &DbPool,
    sql: &'static str,
) -> anyhow::Result<Position> {
    use deadpool::managed::Manager as _;
    use diesel_async::RunQueryDsl;
    let asked = tokio::time::timeout(CHECK_TIMEOUT, async {
        if probe.is_none() {
            *probe = Some(pool.manager().create().await?);
        }
        let conn = probe.as_mut().expect("made above");
        anyhow::Ok(diesel::sql_query(sql).get_result::<Position>(conn).await?)
    })
    .await
    .unwrap_or_else(|_| Err(anyhow::anyhow!("no answer in {CHECK_TIMEOUT:?}")));
    if asked.is_err() {
        *probe = None;
    }
    asked
}

/// `16/B374D848` as a byte position.
fn parse_lsn(text: &str) -> anyhow::Result<u64> {
    let (hi, lo) = text
        .split_once('/')
        .ok_or_else(|| anyhow::anyhow!("`{text}` is not an LSN"))?;
    let hi = u64::from_str_radix(hi, 16)?;
    let lo = u64::from_str_radix(lo, 16)?;
    Ok((hi << 32) | lo)
}

fn round_ms(d: Duration) -> f64 {
    (d.as_secs_f64() * 1000.0).round() / 1000.0
}

/// `host:port/database` of a URL, for status and logs.
fn name_of(url: &str) -> String {
    let redacted = redact(url);
    let rest = redacted.split_once("://").map_or(&*redacted, |(_, r)| r);
    let rest = rest.rsplit_once('@').map_or(rest, |(_, r)| r);
    rest.split('?').next().unwrap_or(rest).to_owned()
}

/// The primary's recent positions: (when, LSN, writes counted before).
#[derive(Default)]
struct LsnHistory {
    samples: VecDeque<(Instant, u64, u64)>,
}

impl LsnHistory {
    fn record(&mut self, at: Instant, lsn: u64, writes: u64) {
        self.samples.push_back((at, lsn, writes));
        while self
            .samples
            .front()
            .is_some_and(|(t, _, _)| at.duration_since(*t) > HISTORY)
            && self.samples.len() > 1
        {
            self.samples.pop_front();
        }
    }

    /// How old a replica that has replayed up to `replayed` may be: the
    /// age of the newest sample it has (0 when it has the latest), or of
    /// the oldest sample kept when it has none of them.
    fn lag(&self, replayed: u64, now: Instant) -> Duration {
        match self
            .samples
            .iter()
            .rev()
            .find(|(_, lsn, _)| *lsn <= replayed)
        {
            Some((at, _, _)) if Some(at) == self.samples.back().map(|s| &s.0) => Duration::ZERO,
            Some((at, _, _)) => now.saturating_duration_since(*at),
            None => self.samples.front().map_or(Duration::ZERO, |(at, _, _)| {
                now.saturating_duration_since(*at)
            }),
        }
    }

    /// The write count of the newest sample a replica at `replayed` has.
    fn writes_replayed(&self, replayed: u64) -> Option<u64> {
        self.samples
            .iter()
            .rev()
            .find(|(_, lsn, _)| *lsn <= replayed)
            .map(|(_, _, writes)| *writes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lsns_parse_as_byte_positions() {
        assert_eq!(parse_lsn("0/0").unwrap(), 0);
        assert_eq!(
            parse_lsn("16/B374D848").unwrap(),
            (0x16 << 32) | 0xB374_D848
        );
        assert!(parse_lsn("nonsense").is_err());
    }

    #[test]
    fn an_idle_pair_has_no_lag() {
        let t0 = Instant::now();
        let mut h = LsnHistory::default();
        // The primary writes nothing for a minute: its LSN stays put.
        for s in 0..60 {
            h.record(t0 + Duration::from_secs(s), 100, 0);
        }
        assert_eq!(h.lag(100, t0 + Duration::from_secs(60)), Duration::ZERO);
    }

    #[test]
    fn a_replica_cut_off_from_a_busy_primary_ages() {
        let t0 = Instant::now();
        let mut h = LsnHistory::default();
        for s in 0..10 {
            h.record(t0 + Duration::from_secs(s), 100 + s * 10, s);
        }
        // It replayed up to what the primary had at second 3.
        let lag = h.lag(130, t0 + Duration::from_secs(9));
        assert_eq!(lag, Duration::from_secs(6));
        assert!(lag > Duration::from_secs(5), "past a 5 s limit: skipped");
        // It has every write counted up to the sample at second 3.
        assert_eq!(h.writes_replayed(130), Some(3));
        // Older than every sample kept: at least as old as the oldest.
        assert_eq!(
            h.lag(50, t0 + Duration::from_secs(9)),
            Duration::from_secs(9)
        );
        assert_eq!(h.writes_replayed(50), None);
    }

    #[test]
    fn a_write_fences_replicas_until_they_replay_past_it() {
        let replicas = Replicas {
            inner: Arc::new(Inner {
                replicas: vec![Replica {
                    name: "r".into(),
                    pool: super::super::pool("postgres://u:p@127.0.0.1:1/db", 1).unwrap(),
                    usable: AtomicBool::new(true),
                    caught_up: AtomicU64::new(0),
                    status: Mutex::new(ReplicaStatus {
                        name: "r".into(),
                        state: ReplicaState::InUse,
                        lag_seconds: Some(0.0),
                        lag_bytes: Some(0),
                        detail: None,
                    }),
                }],
                max_lag: Duration::from_secs(5),
                primary_up: AtomicBool::new(true),
                listening: AtomicBool::new(true),
                ..Inner::default()
            }),
        };
        assert!(replicas.pick().is_some());
        replicas.wrote();
        assert!(replicas.pick().is_none(), "fenced until it has the write");
        replicas.inner.replicas[0]
            .caught_up
            .store(1, Ordering::Release);
        assert!(replicas.pick().is_some());
        // Deaf to other instances: the primary serves.
        replicas.inner.listening.store(false, Ordering::Release);
        assert!(replicas.pick().is_none());
        // The primary gone: the replica serves what it has.
        replicas.inner.primary_up.store(false, Ordering::Release);
        replicas.wrote();
        assert!(replicas.pick().is_some());
    }

    #[test]
    fn names_leave_out_credentials() {
        assert_eq!(
            name_of("postgres://app:secret@replica-1:5432/newsroom?sslmode=require"),
            "replica-1:5432/newsroom"
        );
    }
}
