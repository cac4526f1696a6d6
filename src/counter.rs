//! Article views, counted in memory and written in batches.
//!
//! A view is a hash-map increment under a mutex; every few seconds (and on
//! a clean shutdown) the buffered counts go to `article_daily_views` in one
//! statement, whatever the number of views behind them. Repeated views of
//! an article by one client within the window count once.

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use diesel::sql_types::{Array, BigInt, Date};
use diesel_async::{AsyncPgConnection, RunQueryDsl};

pub struct ViewCounter {
    pending: Mutex<HashMap<(NaiveDate, i64), i64>>,
    /// (article, client fingerprint) seen within the window.
    seen: moka::sync::Cache<(i64, u64), ()>,
    /// Views counted per (article, client address) within the window.
    per_address: moka::sync::Cache<(i64, u64), Arc<AtomicU32>>,
    address_cap: u32,
    /// Slugs of public articles recently viewed, so a burst of views costs
    /// no database reads either.
    ids: moka::sync::Cache<String, i64>,
    timezone: Tz,
}

impl ViewCounter {
    pub fn new(window: Duration, address_cap: u32, timezone: Tz) -> Self {
        let window = window.max(Duration::from_millis(1));
        Self {
            pending: Mutex::new(HashMap::new()),
            seen: moka::sync::Cache::builder()
                .time_to_live(window)
                // About 170 bytes an entry: at most ~85 MB, however many
                // client ids arrive (past it, the oldest are forgotten).
                .max_capacity(500_000)
                .build(),
            per_address: moka::sync::Cache::builder()
                .time_to_live(window)
                .max_capacity(200_000)
                .build(),
            address_cap,
            ids: moka::sync::Cache::builder()
                .time_to_live(Duration::from_secs(60))
                .max_capacity(100_000)
                .build(),
            timezone,
        }
    }

    /// Counts a view of `article_id` by `client` (any stable description
    /// of the client) from `address` on the site's calendar day of `at`,
    /// unless the same client viewed it within the window or the address
    /// has already counted its cap of views of it. Whether it counted.
    pub fn record(&self, article_id: i64, client: &str, address: &str, at: DateTime<Utc>) -> bool {
        let key = (article_id, fingerprint(client));
        let entry = self.seen.entry(key).or_insert(());
        if !entry.is_fresh() {
            return false;
        }
        let from_address = self
            .per_address
            .get_with((article_id, fingerprint(address)), Arc::default);
        if from_address.fetch_add(1, Ordering::Relaxed) >= self.address_cap {
            return false;
        }
        let day = at.with_timezone(&self.timezone).date_naive();
        let mut pending = self.pending.lock().unwrap_or_else(|e| e.into_inner());
        *pending.entry((day, article_id)).or_insert(0) += 1;
        true
    }

    /// The id of the public article `slug` names, if it was looked up in
    /// the last minute.
    pub fn known_id(&self, slug: &str) -> Option<i64> {
        self.ids.get(slug)
    }

    pub fn remember_id(&self, slug: &str, id: i64) {
        self.ids.insert(slug.to_owned(), id);
    }

    /// Views waiting to be written.
    pub fn pending(&self) -> i64 {
        let pending = self.pending.lock().unwrap_or_else(|e| e.into_inner());
        pending.values().sum()
    }

    /// Writes the buffered counts in one statement; on failure they are
    /// put back for the next attempt. Returns how many views were written.
    pub async fn flush(&self, conn: &mut AsyncPgConnection) -> diesel::QueryResult<i64> {
        let batch = {
            let mut pending = self.pending.lock().unwrap_or_else(|e| e.into_inner());
            std::mem::take(&mut *pending)
        };
        if batch.is_empty() {
            return Ok(0);
        }
        let mut days = Vec::with_capacity(batch.len());
        let mut ids = Vec::with_capacity(batch.len());
        let mut counts = Vec::with_capacity(batch.len());
        for ((day, id), n) in &batch {
            days.push(*day);
            ids.push(*id);
            counts.push(*n);
        }
        // Articles deleted meanwhile are skipped by the join.
        let written = diesel::sql_query(
            "INSERT INTO article_daily_views (day, article_id, views) \
             SELECT v.day, v.article_id, v.views \
             FROM unnest($1::date[], $2::int8[], $3::int8[]) AS v(day, article_id, views) \
             JOIN articles a ON a.id = v.article_id \
             ON CONFLICT (day, article_id) \
             DO UPDATE SET views = article_daily_views.views + EXCLUDED.views",
        )
        .bind::<Array<Date>, _>(days)
        .bind::<Array<BigInt>, _>(ids)
        .bind::<Array<BigInt>, _>(counts)
        .execute(conn)
        .await;
        match written {
            Ok(_) => Ok(batch.values().sum()),
            Err(e) => {
                let mut pending = self.pending.lock().unwrap_or_else(|e| e.into_inner());
                for (key, n) in batch {
                    *pending.entry(key).or_insert(0) += n;
                }
                Err(e)
            }
        }
    }
}

fn fingerprint(text: &str) -> u64 {
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    text.hash(&mut hasher);
    hasher.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_client_counts_once_per_window_and_days_follow_the_site() {
        let counter = ViewCounter::new(Duration::from_secs(60), 2, chrono_tz::Asia::Ho_Chi_Minh);
        let at = DateTime::parse_from_rfc3339("2023-11-15T17:30:00Z")
            .unwrap()
            .with_timezone(&Utc);
        assert!(counter.record(1, "a", "x", at));
        assert!(!counter.record(1, "a", "x", at));
        assert!(counter.record(1, "b", "x", at));
        assert!(counter.record(2, "a", "x", at));
        // The address "x" has counted its two views of article 1.
        assert!(!counter.record(1, "c", "x", at));
        assert!(counter.record(1, "d", "y", at));
        assert_eq!(counter.pending(), 4);
        let pending = counter.pending.lock().unwrap();
        // 17:30 UTC is 00:30 the next day in Hà Nội.
        let day = NaiveDate::from_ymd_opt(2023, 11, 16).unwrap();
        assert_eq!(pending.get(&(day, 1)), Some(&3));
    }
}
