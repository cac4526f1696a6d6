//! Synthetic Vietnamese articles for benchmarks: realistic sizes and
//! spreads (a category tree, tags, authors, three years of publishing),
//! reproducible for a given N, written with `COPY` (see [`load_with`]).

use std::collections::HashSet;
use std::io::Write;
use std::sync::Arc;

use bytes::Bytes;
use chrono::{DateTime, Duration, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use futures_util::SinkExt;
use rand::rngs::StdRng;
use rand::seq::{IndexedRandom, SliceRandom};
use rand::{Rng, SeedableRng};
use tokio_postgres::Client;

use crate::domain::body::Block;
use crate::domain::text::slugify;
use crate::models::author::NewAuthor;
use crate::models::category::NewCategory;
use crate::models::tag::NewTag;
use crate::schema::{authors, categories, tags};
use crate::seed::Derived;
use crate::seed::bulk::{self, Progress, SetAside};

const SECTIONS: &[(&str, &[&str])] = &[
    (
        "Thời sự",
        &["Chính trị", "Quốc phòng", "Đối ngoại", "Giao thông"],
    ),
    (
        "Kinh tế",
        &["Tài chính", "Bất động sản", "Doanh nghiệp", "Nông nghiệp"],
    ),
    (
        "Xã hội",
        &["Dân số", "Bình đẳng giới", "Lao động", "Môi trường"],
    ),
    ("Giáo dục", &["Tuyển sinh", "Du học", "Khoa học"]),
    ("Sức khỏe", &["Y tế", "Dinh dưỡng", "Phòng bệnh"]),
    ("Thể thao", &["Bóng đá", "Quần vợt", "Điền kinh"]),
    ("Văn hóa", &["Âm nhạc", "Điện ảnh", "Du lịch", "Ẩm thực"]),
    ("Pháp luật", &["Hình sự", "Dân sự"]),
];

const PLACES: &[&str] = &[
    "Hà Nội",
    "TP Hồ Chí Minh",
    "Đà Nẵng",
    "Hải Phòng",
    "Cần Thơ",
    "Quảng Ninh",
    "Thừa Thiên Huế",
    "Đắk Lắk",
    "Nghệ An",
    "Thanh Hóa",
    "Bình Dương",
    "Đồng Nai",
    "Khánh Hòa",
    "Lâm Đồng",
    "Vĩnh Phúc",
    "Ninh Bình",
    "Quảng Nam",
    "An Giang",
    "Sóc Trăng",
    "Lào Cai",
];

const SUBJECTS: &[&str] = &[
    "Sở Y tế",
    "UBND tỉnh",
    "Bộ Giáo dục và Đào tạo",
    "Hội Liên hiệp Phụ nữ",
    "Ban Quản lý Khu kinh tế",
    "Chi cục Dân số",
    "Sở Lao động - Thương binh và Xã hội",
    "Trung tâm Kiểm soát bệnh tật",
    "Liên đoàn Lao động",
    "Hội Nông dân",
    "Công an thành phố",
    "Sở Tài nguyên và Môi trường",
];

const ACTIONS: &[&str] = &[
    "tổ chức hội nghị triển khai",
    "phát động phong trào",
    "ký kết chương trình phối hợp về",
    "tổng kết công tác",
    "khởi công dự án",
    "ra quân thực hiện",
    "tập huấn nâng cao năng lực về",
    "kiểm tra tình hình thực hiện",
    "trao quà hỗ trợ trong chương trình",
    "công bố kết quả",
];

const TOPICS: &[&str] = &[
    "bình đẳng giới",
    "phòng chống bạo lực gia đình",
    "chăm sóc sức khỏe sinh sản",
    "chuyển đổi số",
    "phát triển du lịch bền vững",
    "bảo vệ môi trường",
    "an toàn giao thông",
    "giảm nghèo bền vững",
    "xây dựng nông thôn mới",
    "già hóa dân số",
    "tiêm chủng mở rộng",
    "đào tạo nghề cho lao động nông thôn",
    "phòng chống dịch sốt xuất huyết",
    "cải cách hành chính",
    "khởi nghiệp đổi mới sáng tạo",
    "an toàn thực phẩm",
    "điều tra dân số và nhà ở",
    "hỗ trợ học sinh khó khăn",
    "phát triển kinh tế biển",
    "nước sạch nông thôn",
];

const FILLERS: &[&str] = &[
    "Theo báo cáo, trong năm qua đã có nhiều chuyển biến tích cực, nhận thức của người dân được nâng lên rõ rệt.",
    "Phát biểu tại buổi lễ, đại diện lãnh đạo địa phương đề nghị các cấp, ngành tiếp tục quan tâm, phối hợp chặt chẽ.",
    "Bên cạnh đó, công tác tuyên truyền được đẩy mạnh với nhiều hình thức phong phú, phù hợp với từng đối tượng.",
    "Nhân dịp này, ban tổ chức đã trao tặng nhiều phần quà cho các gia đình có hoàn cảnh khó khăn trên địa bàn.",
    "Các đại biểu đã thảo luận, chia sẻ kinh nghiệm và đề xuất nhiều giải pháp thiết thực trong thời gian tới.",
    "Mục tiêu đến năm 2030 là hoàn thành các chỉ tiêu đề ra, góp phần nâng cao chất lượng cuộc sống của nhân dân.",
    "Đặc biệt, chương trình chú trọng hỗ trợ phụ nữ, trẻ em và người cao tuổi ở vùng sâu, vùng xa.",
    "Ông Nguyễn Văn Hùng, Phó Chủ tịch UBND huyện, cho biết địa phương sẽ bố trí nguồn lực để triển khai hiệu quả.",
    "Kết quả khảo sát cho thấy tỷ lệ hộ dân hài lòng với chất lượng dịch vụ công đạt trên 90%.",
    "Nhiều mô hình hay, cách làm sáng tạo đã được nhân rộng, mang lại hiệu quả kinh tế - xã hội rõ nét.",
    "Trong khuôn khổ sự kiện, các hoạt động văn hóa, thể thao được tổ chức sôi nổi, thu hút đông đảo người dân tham gia.",
    "Đây là hoạt động thiết thực nhằm cụ thể hóa nghị quyết của Tỉnh ủy về phát triển bền vững.",
];

const FAMILY: &[&str] = &[
    "Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng", "Bùi", "Đỗ",
    "Hồ", "Ngô", "Dương",
];
const MIDDLE: &[&str] = &[
    "Văn", "Thị", "Thanh", "Minh", "Ngọc", "Hữu", "Đức", "Thu", "Quang", "Bảo",
];
const GIVEN: &[&str] = &[
    "Mai", "Hùng", "Lan", "Dũng", "Hương", "Tuấn", "Hà", "Sơn", "Linh", "Phương", "Đạt", "Yến",
    "Khánh", "Trang", "Nam",
];

/// Articles generated, and sent to PostgreSQL, together.
const CHUNK: u64 = 1000;

/// Loads at least this large set aside the secondary indexes, foreign keys
/// and words trigger of the article tables, write on several connections
/// at once, and build what they set aside once at the end.
pub const BULK: u64 = 20_000;

/// Publishing dates spread over the three years before the load.
const SPAN_SECS: i64 = 3 * 365 * 24 * 3600;

const ARTICLES_COPY: &str = "COPY articles (id, slug, title, summary, body, body_html, \
    body_text, excerpt, word_count, reading_time_minutes, category_id, status, published_at, \
    first_published_at, created_at, updated_at, language, featured) FROM STDIN";
const TAGS_COPY: &str = "COPY article_tags (article_id, tag_id) FROM STDIN";
const AUTHORS_COPY: &str = "COPY article_authors (article_id, author_id, position) FROM STDIN";
const CHANGES_COPY: &str =
    "COPY article_changes (article_id, categories, tags, authors) FROM STDIN";

/// Inserts `count` synthetic articles (plus the categories, tags and authors
/// they need, created once) into the database at `url`, the bulk way from
/// [`BULK`] articles on. Returns how many articles were inserted.
pub async fn load(url: &str, count: u64) -> anyhow::Result<u64> {
    load_with(url, count, count >= BULK, true).await
}

/// [`load`], choosing the way: `bulk` sets the secondary indexes, foreign
/// keys and the words trigger aside and writes on one connection per core
/// (each its own transaction: a failed load deletes what it wrote); else
/// one transaction writes everything with them in place. `progress` shows
/// a progress bar on a terminal.
///
/// Either way the rows are those the staff API would have written: the
/// articles (their search vectors computed by PostgreSQL), their tags and
/// bylines, the words of their titles and summaries, and one change-feed
/// row for each article public at the time of the load.
pub async fn load_with(url: &str, count: u64, bulk: bool, progress: bool) -> anyhow::Result<u64> {
    if count == 0 {
        return Ok(0);
    }
    let refs = {
        let mut conn = AsyncPgConnection::establish(url).await?;
        let mut rng = StdRng::seed_from_u64(count);
        let categories = ensure_categories(&mut conn).await?;
        let tags = ensure_tags(&mut conn).await?;
        let authors = ensure_authors(&mut conn, &mut rng).await?;
        Refs {
            categories,
            tags,
            authors,
        }
    };
    let main = bulk::connect(url).await?;
    let first = bulk::reserve_ids(&main, count).await?;
    let last = first + count as i64 - 1;
    let now = Utc::now();
    let plan = Arc::new(Plan {
        count,
        first,
        now,
        refs,
    });
    let progress = Progress::new(count, progress);
    let writers = if bulk {
        std::thread::available_parallelism().map_or(2, |n| n.get().clamp(1, 4))
    } else {
        1
    };
    let set_aside = if bulk {
        Some(SetAside::take(&main).await?)
    } else {
        None
    };
    log::info!(
        "writing {count} synthetic articles (ids {first}..={last}) on {writers} connection(s)"
    );
    let outcome = if bulk {
        // Stopped with Ctrl-C, a bulk load still puts its indexes back.
        tokio::select! {
            written = write(url, &plan, writers, &progress) => written,
            _ = tokio::signal::ctrl_c() => Err(anyhow::anyhow!("interrupted")),
        }
    } else {
        write(url, &plan, writers, &progress).await
    };
    let words = match &outcome {
        Ok(words) => words
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>()
            .join(" "),
        Err(_) => String::new(),
    };
    if let Err(error) = &outcome {
        progress.phase("deleting what the failed load wrote");
        log::error!("synthetic load failed: {error:#}");
        if let Err(error) = delete_range(&main, first, last).await {
            log::error!("deleting articles {first}..={last}: {error:#}");
        }
    }
    let restored = match set_aside {
        Some(set_aside) => {
            set_aside
                .restore(url, &main, &words, writers, &progress)
                .await
        }
        None => Ok(()),
    };
    outcome?;
    restored?;
    progress.phase("analyzing");
    main.batch_execute(
        "ANALYZE articles, article_tags, article_authors, article_changes, search_words",
    )
    .await?;
    progress.finish();
    Ok(count)
}

/// Categories (with the ids of each one's chain up to the root, sorted),
/// tags and authors the articles are placed in.
struct Refs {
    categories: Vec<(i64, Vec<i64>)>,
    tags: Vec<i64>,
    authors: Vec<i64>,
}

/// Everything a chunk of articles is made from: the same for a given
/// `count` (but for the load's time), whatever the number of writers.
struct Plan {
    count: u64,
    /// The id of the first article; the others follow.
    first: i64,
    now: DateTime<Utc>,
    refs: Refs,
}

/// A chunk's rows, in COPY's text format.
struct Chunk {
    articles: usize,
    article_rows: Bytes,
    tags: Bytes,
    authors: Bytes,
    changes: Bytes,
    /// The distinct whitespace-separated pieces of the titles and summaries.
    words: HashSet<String>,
}

impl Plan {
    fn chunks(&self) -> u64 {
        self.count.div_ceil(CHUNK)
    }

    /// Chunk `c`: articles `c * CHUNK` on, each from its own random stream
    /// so that chunks can be made in any order on any thread.
    fn chunk(&self, c: u64) -> Chunk {
        let mut rng = StdRng::seed_from_u64(self.count.rotate_left(32) ^ c);
        let start = c * CHUNK;
        let end = (start + CHUNK).min(self.count);
        let n = (end - start) as usize;
        let mut rows = Vec::with_capacity(n * 9 * 1024);
        let mut tags = Vec::with_capacity(n * 3 * 16);
        let mut authors = Vec::with_capacity(n * 20);
        let mut changes = Vec::with_capacity(n * 48);
        let mut words = HashSet::new();
        for seq in start..end {
            let id = self.first + seq as i64;
            let d = Draft::random(&mut rng, id, self.refs.categories.len(), self.now);
            let (category_id, chain) = &self.refs.categories[d.category];
            let x = Derived::new(&d.summary, &d.blocks);
            for piece in d
                .title
                .split_whitespace()
                .chain(d.summary.split_whitespace())
            {
                if !words.contains(piece) {
                    words.insert(piece.to_owned());
                }
            }
            let body = serde_json::to_string(&x.body).expect("blocks serialise");
            let created = d.published_at.unwrap_or(self.now);
            let first_published = d.published_at.filter(|_| d.status != "draft");
            write!(rows, "{id}\t").expect("to a Vec");
            for field in [
                &d.slug, &d.title, &d.summary, &body, &x.html, &x.text, &x.excerpt,
            ] {
                bulk::text(&mut rows, field);
                rows.push(b'\t');
            }
            write!(
                rows,
                "{}\t{}\t{category_id}\t{}\t",
                x.word_count, x.reading_time_minutes, d.status
            )
            .expect("to a Vec");
            for t in [
                d.published_at,
                first_published,
                Some(created),
                Some(created),
            ] {
                bulk::timestamp(&mut rows, t);
                rows.push(b'\t');
            }
            rows.extend_from_slice(if d.featured { b"vi\tt\n" } else { b"vi\tf\n" });

            let k = rng.random_range(1..=4);
            let mut placed_tags: Vec<i64> = self
                .refs
                .tags
                .choose_multiple(&mut rng, k)
                .copied()
                .collect();
            for tag_id in &placed_tags {
                writeln!(tags, "{id}\t{tag_id}").expect("to a Vec");
            }
            let k = if rng.random_bool(0.15) { 2 } else { 1 };
            let mut bylines: Vec<i64> = self
                .refs
                .authors
                .choose_multiple(&mut rng, k)
                .copied()
                .collect();
            for (position, author_id) in bylines.iter().enumerate() {
                writeln!(authors, "{id}\t{author_id}\t{position}").expect("to a Vec");
            }
            // Public now: the change feed names it, as a staff save would.
            if d.status == "published" && d.published_at.is_some_and(|t| t <= self.now) {
                placed_tags.sort_unstable();
                bylines.sort_unstable();
                write!(changes, "{id}\t").expect("to a Vec");
                bulk::ids(&mut changes, chain);
                changes.push(b'\t');
                bulk::ids(&mut changes, &placed_tags);
                changes.push(b'\t');
                bulk::ids(&mut changes, &bylines);
                changes.push(b'\n');
            }
        }
        Chunk {
            articles: n,
            article_rows: rows.into(),
            tags: tags.into(),
            authors: authors.into(),
            changes: changes.into(),
            words,
        }
    }
}

/// Writes every chunk on `writers` connections, writer `w` taking chunks
/// `w`, `w + writers`, …, each made on a thread of its own. Returns the
/// distinct pieces of the titles and summaries.
async fn write(
    url: &str,
    plan: &Arc<Plan>,
    writers: usize,
    progress: &Progress,
) -> anyhow::Result<HashSet<String>> {
    let mut tasks = Vec::with_capacity(writers);
    for w in 0..writers as u64 {
        let (tx, rx) = tokio::sync::mpsc::channel::<Chunk>(2);
        let mine: Vec<u64> = (w..plan.chunks()).step_by(writers).collect();
        let expected: u64 = mine
            .iter()
            .map(|&c| (c * CHUNK + CHUNK).min(plan.count) - c * CHUNK)
            .sum();
        let plan = Arc::clone(plan);
        std::thread::Builder::new()
            .name(format!("seed-{w}"))
            .spawn(move || {
                for c in mine {
                    if tx.blocking_send(plan.chunk(c)).is_err() {
                        break;
                    }
                }
            })?;
        tasks.push(write_one(url, rx, expected, progress));
    }
    let mut words = HashSet::new();
    for mine in futures_util::future::try_join_all(tasks).await? {
        words.extend(mine);
    }
    Ok(words)
}

/// One writer: the articles streamed as they are made, then their tags,
/// bylines and change rows, in one transaction.
async fn write_one(
    url: &str,
    mut chunks: tokio::sync::mpsc::Receiver<Chunk>,
    expected: u64,
    progress: &Progress,
) -> anyhow::Result<HashSet<String>> {
    let client = bulk::connect(url).await?;
    client.batch_execute("BEGIN").await?;
    let (mut tags, mut authors, mut changes) = (Vec::new(), Vec::new(), Vec::new());
    let mut words = HashSet::new();
    let sink = client.copy_in::<_, Bytes>(ARTICLES_COPY).await?;
    futures_util::pin_mut!(sink);
    let mut sent = 0u64;
    while let Some(chunk) = chunks.recv().await {
        sink.send(chunk.article_rows).await?;
        tags.push(chunk.tags);
        authors.push(chunk.authors);
        changes.push(chunk.changes);
        words.extend(chunk.words);
        sent += chunk.articles as u64;
        progress.inc(chunk.articles as u64);
    }
    let written = sink.as_mut().finish().await?;
    anyhow::ensure!(
        written == expected && sent == expected,
        "wrote {written} of {expected} articles (the generator stopped)"
    );
    bulk::copy_in(&client, TAGS_COPY, tags).await?;
    bulk::copy_in(&client, AUTHORS_COPY, authors).await?;
    bulk::copy_in(&client, CHANGES_COPY, changes).await?;
    client.batch_execute("COMMIT").await?;
    Ok(words)
}

/// What a failed load wrote (writers that had committed).
async fn delete_range(client: &Client, first: i64, last: i64) -> anyhow::Result<()> {
    client
        .execute(
            "DELETE FROM article_changes WHERE article_id BETWEEN $1 AND $2",
            &[&first, &last],
        )
        .await?;
    for table in ["article_tags", "article_authors"] {
        client
            .execute(
                &format!("DELETE FROM {table} WHERE article_id BETWEEN $1 AND $2"),
                &[&first, &last],
            )
            .await?;
    }
    client
        .execute(
            "DELETE FROM articles WHERE id BETWEEN $1 AND $2",
            &[&first, &last],
        )
        .await?;
    Ok(())
}

struct Draft {
    slug: String,
    title: String,
    summary: String,
    blocks: Vec<Block>,
    /// An index into the load's categories.
    category: usize,
    status: &'static str,
    published_at: Option<DateTime<Utc>>,
    featured: bool,
}

impl Draft {
    fn random(rng: &mut StdRng, id: i64, categories: usize, now: DateTime<Utc>) -> Self {
        let place = *PLACES.choose(rng).expect("non-empty");
        let subject = *SUBJECTS.choose(rng).expect("non-empty");
        let action = *ACTIONS.choose(rng).expect("non-empty");
        let topic = *TOPICS.choose(rng).expect("non-empty");
        let title = format!("{place}: {subject} {action} {topic}");
        let summary = format!(
            "Ngày {}/{}, tại {place}, {subject} đã {action} {topic} năm {}, thu hút sự tham gia của đông đảo cán bộ và người dân.",
            rng.random_range(1..=28),
            rng.random_range(1..=12),
            rng.random_range(2022..=2025)
        );
        let mut blocks = Vec::new();
        let paragraphs = rng.random_range(4..=9);
        for p in 0..paragraphs {
            if p == 2 && rng.random_bool(0.3) {
                blocks.push(Block::Heading {
                    level: 2,
                    text: format!("Đẩy mạnh {topic}"),
                });
            }
            let mut sentences: Vec<&str> = FILLERS.choose_multiple(rng, 3).copied().collect();
            sentences.shuffle(rng);
            blocks.push(Block::Paragraph {
                text: sentences.join(" "),
            });
        }
        // A byline-like sentence: 2,250 names, so a full name is a rare term
        // (about 45 articles in 100,000) made of common words.
        blocks.push(Block::Paragraph {
            text: format!(
                "Phóng viên {} {} {} ghi nhận tại {place}.",
                FAMILY.choose(rng).expect("non-empty"),
                MIDDLE.choose(rng).expect("non-empty"),
                GIVEN.choose(rng).expect("non-empty"),
            ),
        });
        if rng.random_bool(0.2) {
            blocks.push(Block::Quote {
                text: format!("Chúng tôi sẽ tiếp tục đồng hành cùng người dân {place}."),
                citation: Some(subject.to_owned()),
            });
        }
        let roll: f64 = rng.random();
        let (status, published_at) = if roll < 0.02 {
            ("draft", None)
        } else if roll < 0.03 {
            let ahead = Duration::seconds(rng.random_range(3600..30 * 24 * 3600));
            ("scheduled", Some(now + ahead))
        } else {
            let back = Duration::seconds(rng.random_range(0..SPAN_SECS));
            ("published", Some(now - back))
        };
        // Whole seconds, like an editor's clock.
        let published_at =
            published_at.map(|t| t - Duration::nanoseconds(t.timestamp_subsec_nanos() as i64));
        Self {
            // The id makes it unique, whatever was loaded before.
            slug: format!("{}-{id}", slugify(&title)),
            title,
            summary,
            blocks,
            category: rng.random_range(0..categories),
            status,
            published_at,
            featured: rng.random_bool(0.02),
        }
    }
}

/// The categories of the synthetic tree, created if missing, each with the
/// sorted ids of itself and the categories above it (as they are in the
/// database, which may have had them before).
async fn ensure_categories(conn: &mut AsyncPgConnection) -> anyhow::Result<Vec<(i64, Vec<i64>)>> {
    let mut ids = Vec::new();
    for (position, (section, children)) in SECTIONS.iter().enumerate() {
        let parent = upsert_category(conn, None, position as i32, section).await?;
        ids.push(parent);
        for (position, child) in children.iter().enumerate() {
            ids.push(upsert_category(conn, Some(parent), position as i32, child).await?);
        }
    }
    let parents: std::collections::HashMap<i64, Option<i64>> = categories::table
        .select((categories::id, categories::parent_id))
        .load(conn)
        .await?
        .into_iter()
        .collect();
    Ok(ids
        .into_iter()
        .map(|id| {
            let mut chain = vec![id];
            let mut at = id;
            while let Some(&Some(up)) = parents.get(&at) {
                if chain.contains(&up) {
                    break;
                }
                chain.push(up);
                at = up;
            }
            chain.sort_unstable();
            (id, chain)
        })
        .collect())
}

async fn upsert_category(
    conn: &mut AsyncPgConnection,
    parent_id: Option<i64>,
    position: i32,
    name: &str,
) -> anyhow::Result<i64> {
    let slug = slugify(name);
    let existing: Option<i64> = categories::table
        .filter(categories::slug.eq(&slug))
        .select(categories::id)
        .first(conn)
        .await
        .optional()?;
    if let Some(id) = existing {
        return Ok(id);
    }
    Ok(diesel::insert_into(categories::table)
        .values(NewCategory {
            parent_id,
            position,
            slug: &slug,
            name,
            description: "",
        })
        .returning(categories::id)
        .get_result(conn)
        .await?)
}

async fn ensure_tags(conn: &mut AsyncPgConnection) -> anyhow::Result<Vec<i64>> {
    let mut names: Vec<String> = TOPICS.iter().map(|t| capitalise(t)).collect();
    names.extend(PLACES.iter().map(|p| p.to_string()));
    for i in 1..=160 {
        names.push(format!("Chủ đề {i}"));
    }
    let rows: Vec<(String, &str)> = names.iter().map(|n| (slugify(n), n.as_str())).collect();
    let new: Vec<NewTag> = rows
        .iter()
        .map(|(slug, name)| NewTag {
            slug,
            name,
            description: "",
        })
        .collect();
    diesel::insert_into(tags::table)
        .values(&new)
        .on_conflict(tags::slug)
        .do_nothing()
        .execute(conn)
        .await?;
    let slugs: Vec<&String> = rows.iter().map(|(s, _)| s).collect();
    Ok(tags::table
        .filter(tags::slug.eq_any(slugs))
        .select(tags::id)
        .order(tags::id)
        .load(conn)
        .await?)
}

async fn ensure_authors(
    conn: &mut AsyncPgConnection,
    rng: &mut StdRng,
) -> anyhow::Result<Vec<i64>> {
    let mut names: Vec<String> = Vec::new();
    while names.len() < 60 {
        let name = format!(
            "{} {} {}",
            FAMILY.choose(rng).expect("non-empty"),
            MIDDLE.choose(rng).expect("non-empty"),
            GIVEN.choose(rng).expect("non-empty")
        );
        if !names.contains(&name) {
            names.push(name);
        }
    }
    let rows: Vec<(String, &str)> = names.iter().map(|n| (slugify(n), n.as_str())).collect();
    let new: Vec<NewAuthor> = rows
        .iter()
        .map(|(slug, name)| NewAuthor {
            slug,
            name,
            bio: "Phóng viên.",
            avatar_url: None,
        })
        .collect();
    diesel::insert_into(authors::table)
        .values(&new)
        .on_conflict(authors::slug)
        .do_nothing()
        .execute(conn)
        .await?;
    let slugs: Vec<&String> = rows.iter().map(|(s, _)| s).collect();
    Ok(authors::table
        .filter(authors::slug.eq_any(slugs))
        .select(authors::id)
        .order(authors::id)
        .load(conn)
        .await?)
}

fn capitalise(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}
