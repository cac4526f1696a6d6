//! Bulk loading with `COPY … FROM STDIN`: a plain tokio-postgres
//! connection (diesel-async has no COPY), rows in COPY's text format, ids
//! reserved from a table's sequence, and the secondary indexes, foreign
//! keys and the words trigger of the article tables set aside during a
//! large load and rebuilt afterwards.

use std::collections::VecDeque;
use std::io::IsTerminal;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use anyhow::Context;
use bytes::Bytes;
use chrono::{DateTime, Utc};
use futures_util::SinkExt;
use indicatif::{ProgressBar, ProgressStyle};
use tokio_postgres::{Client, NoTls};

/// The tables a load writes and whose secondary structures it sets aside.
const TABLES: &str = "ARRAY['articles', 'article_tags', 'article_authors']::regclass[]";

/// The trigger that keeps `search_words` (see the search_words migration);
/// a bulk load disables it and adds the words of its articles in one go.
const WORDS_TRIGGER: &str = "articles_remember_words";

/// A connection of its own, its I/O driven by a spawned task.
pub async fn connect(url: &str) -> anyhow::Result<Client> {
    let (client, connection) = tokio_postgres::connect(url, NoTls)
        .await
        .context("connecting for the bulk load")?;
    tokio::spawn(async move {
        if let Err(error) = connection.await {
            log::warn!("bulk load connection: {error}");
        }
    });
    Ok(client)
}

/// `count` consecutive ids from the sequence of `articles.id`: the first.
/// Inserts into `articles` wait meanwhile, so no one else takes one of them.
pub async fn reserve_ids(client: &Client, count: u64) -> anyhow::Result<i64> {
    let count = i64::try_from(count).context("too many articles")?;
    client
        .batch_execute("BEGIN; LOCK TABLE articles IN SHARE ROW EXCLUSIVE MODE")
        .await?;
    let first: i64 = client
        .query_one(
            "SELECT nextval(pg_get_serial_sequence('articles', 'id'))",
            &[],
        )
        .await?
        .get(0);
    client
        .execute(
            "SELECT setval(pg_get_serial_sequence('articles', 'id'), $1)",
            &[&(first + count - 1)],
        )
        .await?;
    client.batch_execute("COMMIT").await?;
    Ok(first)
}

/// Sends `parts` as the data of `copy` (a `COPY … FROM STDIN` statement);
/// returns the rows written.
pub async fn copy_in(
    client: &Client,
    copy: &str,
    parts: impl IntoIterator<Item = Bytes>,
) -> anyhow::Result<u64> {
    let sink = client.copy_in::<_, Bytes>(copy).await?;
    futures_util::pin_mut!(sink);
    for part in parts {
        sink.send(part).await?;
    }
    Ok(sink.as_mut().finish().await?)
}

/// A text field in COPY's text format.
pub fn text(out: &mut Vec<u8>, value: &str) {
    for &b in value.as_bytes() {
        match b {
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'\t' => out.extend_from_slice(b"\\t"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            _ => out.push(b),
        }
    }
}

/// A timestamptz field (or NULL) in COPY's text format.
pub fn timestamp(out: &mut Vec<u8>, value: Option<DateTime<Utc>>) {
    use std::io::Write;
    match value {
        Some(t) => write!(out, "{}", t.format("%Y-%m-%d %H:%M:%S%.6f+00")).expect("to a Vec"),
        None => out.extend_from_slice(b"\\N"),
    }
}

/// A bigint[] field in COPY's text format.
pub fn ids(out: &mut Vec<u8>, values: &[i64]) {
    use std::io::Write;
    out.push(b'{');
    for (i, v) in values.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        write!(out, "{v}").expect("to a Vec");
    }
    out.push(b'}');
}

/// What a bulk load set aside, to be put back by [`SetAside::restore`].
pub struct SetAside {
    /// Name and `CREATE INDEX` statement, as PostgreSQL writes them.
    indexes: Vec<(String, String)>,
    /// Table, name and definition of each foreign key.
    foreign_keys: Vec<(String, String, String)>,
    /// Whether the words trigger was disabled.
    words_trigger: bool,
}

impl SetAside {
    /// Drops the secondary indexes (those that back no constraint) and the
    /// foreign keys of the article tables and disables the words trigger,
    /// in one committed transaction.
    pub async fn take(client: &Client) -> anyhow::Result<Self> {
        client.batch_execute("BEGIN").await?;
        let indexes: Vec<(String, String)> = client
            .query(
                &format!(
                    "SELECT quote_ident(c.relname), pg_get_indexdef(i.indexrelid) \
                     FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid \
                     WHERE i.indrelid = ANY ({TABLES}) \
                       AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid) \
                     ORDER BY c.relname"
                ),
                &[],
            )
            .await?
            .iter()
            .map(|r| (r.get(0), r.get(1)))
            .collect();
        let foreign_keys: Vec<(String, String, String)> = client
            .query(
                &format!(
                    "SELECT k.conrelid::regclass::text, quote_ident(k.conname), \
                            pg_get_constraintdef(k.oid) \
                     FROM pg_constraint k \
                     WHERE k.contype = 'f' AND k.conrelid = ANY ({TABLES}) \
                     ORDER BY 1, 2"
                ),
                &[],
            )
            .await?
            .iter()
            .map(|r| (r.get(0), r.get(1), r.get(2)))
            .collect();
        let words_trigger = !client
            .query(
                "SELECT 1 FROM pg_trigger WHERE tgrelid = 'articles'::regclass \
                 AND tgname = $1 AND tgenabled <> 'D'",
                &[&WORDS_TRIGGER],
            )
            .await?
            .is_empty();
        let mut drop = String::new();
        for (name, _) in &indexes {
            drop.push_str(&format!("DROP INDEX {name};"));
        }
        for (table, name, _) in &foreign_keys {
            drop.push_str(&format!("ALTER TABLE {table} DROP CONSTRAINT {name};"));
        }
        if words_trigger {
            drop.push_str(&format!(
                "ALTER TABLE articles DISABLE TRIGGER {WORDS_TRIGGER};"
            ));
        }
        drop.push_str("COMMIT");
        if let Err(error) = client.batch_execute(&drop).await {
            let _ = client.batch_execute("ROLLBACK").await;
            return Err(error.into());
        }
        log::info!(
            "set aside {} index(es), {} foreign key(s){} for the load",
            indexes.len(),
            foreign_keys.len(),
            if words_trigger {
                " and the words trigger"
            } else {
                ""
            }
        );
        Ok(Self {
            indexes,
            foreign_keys,
            words_trigger,
        })
    }

    /// Builds the indexes again (the biggest first, on `workers` connections
    /// at once), adds the words of `words` (the loaded titles and summaries,
    /// or their distinct pieces) to `search_words` when the trigger was
    /// off, then restores the foreign
    /// keys (checking every row) and the trigger. Goes on after a failed
    /// step, so that as much as possible is back; returns the first error.
    pub async fn restore(
        self,
        url: &str,
        client: &Client,
        words: &str,
        workers: usize,
        progress: &Progress,
    ) -> anyhow::Result<()> {
        let mut work: Vec<(String, String)> = self
            .indexes
            .iter()
            .map(|(name, sql)| (format!("index {name}"), sql.clone()))
            .collect();
        // GIN builds take longest: start them first so that the others fill
        // in beside them.
        work.sort_by_key(|(_, sql)| !sql.contains(" USING gin "));
        if self.words_trigger {
            // What the trigger would have added, one row at a time: the
            // folded words of the titles and summaries. `words` holds their
            // distinct whitespace-separated pieces, which the parser splits
            // into the same words as the whole texts, in a fraction of the
            // time.
            work.insert(
                1.min(work.len()),
                (
                    "search words".to_owned(),
                    format!(
                        "INSERT INTO search_words (word) \
                         SELECT DISTINCT w FROM unnest(tsvector_to_array( \
                             to_tsvector('public.newsroom_fold'::regconfig, \
                                 translate('{}', 'đĐ', 'dD')))) AS w \
                         WHERE length(w) BETWEEN 2 AND 40 \
                         ON CONFLICT (word) DO NOTHING",
                        words.replace('\'', "''")
                    ),
                ),
            );
        }
        progress.phase(&format!(
            "building {} index(es) on {workers} connection(s)",
            self.indexes.len()
        ));
        let total = work.len() as u64;
        let queue = Mutex::new(VecDeque::from(work));
        let done = AtomicU64::new(0);
        let worker = |_: usize| async {
            let client = connect(url).await?;
            client
                .batch_execute("SET maintenance_work_mem = '768MB'")
                .await?;
            let mut failed: Option<anyhow::Error> = None;
            loop {
                let next = queue.lock().expect("not poisoned").pop_front();
                let Some((what, sql)) = next else { break };
                let started = std::time::Instant::now();
                match client.batch_execute(&sql).await {
                    Ok(()) => {
                        progress.note(&format!("{what}: {:.1}s", started.elapsed().as_secs_f64()))
                    }
                    Err(error) => {
                        log::error!("{what}: {error}");
                        failed.get_or_insert(anyhow::Error::from(error).context(what));
                    }
                }
                let n = done.fetch_add(1, Ordering::Relaxed) + 1;
                progress.message(&format!("{n}/{total} index(es) and words built"));
            }
            failed.map_or(Ok(()), Err)
        };
        let results = futures_util::future::join_all((0..workers.max(1)).map(worker)).await;
        let mut first_error = results.into_iter().find_map(Result::err);

        progress.phase(&format!(
            "checking {} foreign key(s)",
            self.foreign_keys.len()
        ));
        for (table, name, definition) in &self.foreign_keys {
            let sql = format!("ALTER TABLE {table} ADD CONSTRAINT {name} {definition}");
            if let Err(error) = client.batch_execute(&sql).await {
                log::error!("{sql}: {error}");
                first_error.get_or_insert(anyhow::Error::from(error).context(sql));
            }
        }
        if self.words_trigger {
            let sql = format!("ALTER TABLE articles ENABLE TRIGGER {WORDS_TRIGGER}");
            if let Err(error) = client.batch_execute(&sql).await {
                first_error.get_or_insert(anyhow::Error::from(error).context(sql));
            }
        }
        first_error.map_or(Ok(()), Err)
    }
}

/// A progress bar on a terminal, log lines (every tenth) otherwise.
pub struct Progress {
    bar: Mutex<Option<ProgressBar>>,
    tty: bool,
    total: u64,
    done: AtomicU64,
}

impl Progress {
    pub fn new(total: u64, visible: bool) -> Self {
        let tty = visible && std::io::stderr().is_terminal();
        let bar = tty.then(|| {
            let bar = ProgressBar::new(total);
            bar.set_style(bar_style());
            bar
        });
        Self {
            bar: Mutex::new(bar),
            tty,
            total,
            done: AtomicU64::new(0),
        }
    }

    /// `n` more articles written.
    pub fn inc(&self, n: u64) {
        let before = self.done.fetch_add(n, Ordering::Relaxed);
        let after = before + n;
        if let Some(bar) = self.bar.lock().expect("not poisoned").as_ref() {
            bar.inc(n);
            return;
        }
        let tenth = self.total.div_ceil(10).max(1);
        if before / tenth != after / tenth || after == self.total {
            log::info!("synthetic articles: {after}/{}", self.total);
        }
    }

    /// A new step after the rows: a spinner with `what` on a terminal.
    pub fn phase(&self, what: &str) {
        let mut bar = self.bar.lock().expect("not poisoned");
        if let Some(old) = bar.take() {
            old.finish();
        }
        log::info!("{what}");
        if self.tty {
            let spinner = ProgressBar::new_spinner();
            spinner.set_style(spinner_style());
            spinner.set_prefix(what.to_owned());
            spinner.enable_steady_tick(Duration::from_millis(200));
            *bar = Some(spinner);
        }
    }

    /// A line that stays: above the bar on a terminal, logged otherwise.
    pub fn note(&self, line: &str) {
        match self.bar.lock().expect("not poisoned").as_ref() {
            Some(bar) => bar.println(line),
            None => log::info!("{line}"),
        }
    }

    /// Detail of the current step.
    pub fn message(&self, what: &str) {
        if let Some(bar) = self.bar.lock().expect("not poisoned").as_ref() {
            bar.set_message(what.to_owned());
        }
    }

    pub fn finish(&self) {
        if let Some(bar) = self.bar.lock().expect("not poisoned").take() {
            bar.finish_and_clear();
        }
    }
}

fn bar_style() -> ProgressStyle {
    ProgressStyle::with_template(
        "{elapsed_precise} [{bar:40.cyan/blue}] {human_pos}/{human_len} articles \
         ({rate}, {eta} left)",
    )
    .expect("a valid template")
    .with_key(
        "rate",
        |state: &indicatif::ProgressState, w: &mut dyn std::fmt::Write| {
            let _ = write!(w, "{:.0}/s", state.per_sec());
        },
    )
    .progress_chars("=> ")
}

fn spinner_style() -> ProgressStyle {
    ProgressStyle::with_template("{elapsed_precise} {spinner} {prefix}: {msg}")
        .expect("a valid template")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copy_text_fields_escape_what_copy_reads_as_syntax() {
        let mut out = Vec::new();
        text(&mut out, "a\tb\\c\nd\re");
        assert_eq!(out, b"a\\tb\\\\c\\nd\\re");
        let mut out = Vec::new();
        ids(&mut out, &[3, 1, 2]);
        timestamp(&mut out, None);
        assert_eq!(out, b"{3,1,2}\\N");
    }

    #[test]
    fn the_progress_templates_are_valid() {
        let _ = bar_style();
        let _ = spinner_style();
    }
}
