//! Requests per key per day, counted in memory and written in batches, as
//! article views are (`crate::counter`): a request costs a hash-map
//! increment; every few seconds (and on a clean shutdown) the counts go to
//! `api_key_daily_usage` in one statement.

use std::collections::HashMap;
use std::sync::Mutex;

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use diesel::sql_types::{Array, BigInt, Date};
use diesel_async::{AsyncPgConnection, RunQueryDsl};

/// (requests, of which refused with 429) per (key, day).
type Counts = HashMap<(i64, NaiveDate), (i64, i64)>;

pub struct UsageCounter {
    pending: Mutex<Counts>,
    timezone: Tz,
}

impl UsageCounter {
    pub fn new(timezone: Tz) -> Self {
        Self {
            pending: Mutex::new(HashMap::new()),
            timezone,
        }
    }

    /// Counts one request with key `id` on the site's day of `at`.
    pub fn record(&self, id: i64, limited: bool, at: DateTime<Utc>) {
        let day = at.with_timezone(&self.timezone).date_naive();
        let mut pending = self.pending.lock().unwrap_or_else(|e| e.into_inner());
        let entry = pending.entry((id, day)).or_insert((0, 0));
        entry.0 += 1;
        entry.1 += i64::from(limited);
    }

    /// Requests waiting to be written.
    pub fn pending(&self) -> i64 {
        let pending = self.pending.lock().unwrap_or_else(|e| e.into_inner());
        pending.values().map(|(n, _)| n).sum()
    }

    /// Writes the buffered counts in one statement; on failure they are
    /// put back for the next attempt. Returns how many requests were
    /// written.
    pub async fn flush(&self, conn: &mut AsyncPgConnection) -> diesel::QueryResult<i64> {
        let batch = {
            let mut pending = self.pending.lock().unwrap_or_else(|e| e.into_inner());
            std::mem::take(&mut *pending)
        };
        if batch.is_empty() {
            return Ok(0);
        }
        let mut ids = Vec::with_capacity(batch.len());
        let mut days = Vec::with_capacity(batch.len());
        let mut requests = Vec::with_capacity(batch.len());
        let mut limited = Vec::with_capacity(batch.len());
        for ((id, day), (n, refused)) in &batch {
            ids.push(*id);
            days.push(*day);
            requests.push(*n);
            limited.push(*refused);
        }
        // Keys deleted meanwhile are skipped by the join.
        let written = diesel::sql_query(
            "INSERT INTO api_key_daily_usage (key_id, day, requests, limited) \
             SELECT u.key_id, u.day, u.requests, u.limited \
             FROM unnest($1::int8[], $2::date[], $3::int8[], $4::int8[]) \
                  AS u(key_id, day, requests, limited) \
             JOIN api_keys k ON k.id = u.key_id \
             ON CONFLICT (key_id, day) DO UPDATE SET \
               requests = api_key_daily_usage.requests + EXCLUDED.requests, \
               limited = api_key_daily_usage.limited + EXCLUDED.limited",
        )
        .bind::<Array<BigInt>, _>(ids)
        .bind::<Array<Date>, _>(days)
        .bind::<Array<BigInt>, _>(requests)
        .bind::<Array<BigInt>, _>(limited)
        .execute(conn)
        .await;
        match written {
            Ok(_) => Ok(batch.values().map(|(n, _)| n).sum()),
            Err(e) => {
                let mut pending = self.pending.lock().unwrap_or_else(|e| e.into_inner());
                for (key, (n, refused)) in batch {
                    let entry = pending.entry(key).or_insert((0, 0));
                    entry.0 += n;
                    entry.1 += refused;
                }
                Err(e)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_follow_the_site() {
        let counter = UsageCounter::new(chrono_tz::Asia::Ho_Chi_Minh);
        let at = DateTime::parse_from_rfc3339("2023-11-15T17:30:00Z")
            .unwrap()
            .with_timezone(&Utc);
        counter.record(1, false, at);
        counter.record(1, true, at);
        counter.record(2, false, at);
        assert_eq!(counter.pending(), 3);
        let pending = counter.pending.lock().unwrap();
        let day = NaiveDate::from_ymd_opt(2023, 11, 16).unwrap();
        assert_eq!(pending.get(&(1, day)), Some(&(2, 1)));
    }
}
