//! Synthetic Vietnamese articles for benchmarks: realistic sizes and
//! spreads (a category tree, tags, authors, three years of publishing),
//! reproducible for a given N, inserted in batches.

use chrono::{Duration, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use rand::rngs::StdRng;
use rand::seq::{IndexedRandom, SliceRandom};
use rand::{Rng, SeedableRng};

use crate::domain::body::Block;
use crate::domain::text::slugify;
use crate::models::article::{NewArticleAuthor, NewArticleTag};
use crate::models::author::NewAuthor;
use crate::models::category::NewCategory;
use crate::models::tag::NewTag;
use crate::schema::{article_authors, article_tags, articles, authors, categories, tags};
use crate::seed::Derived;

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

const BATCH: usize = 1000;

/// Inserts `count` synthetic articles (plus the categories, tags and authors
/// they need, created once). Returns how many articles were inserted.
pub async fn load(conn: &mut AsyncPgConnection, count: u64) -> anyhow::Result<u64> {
    let mut rng = StdRng::seed_from_u64(count);
    let run = Utc::now().timestamp();
    let category_ids = ensure_categories(conn).await?;
    let tag_ids = ensure_tags(conn).await?;
    let author_ids = ensure_authors(conn, &mut rng).await?;
    let now = Utc::now();
    let span_secs = 3 * 365 * 24 * 3600;
    // Keeping the text search indexes up to date row by row costs more than
    // building them once at the end: set them aside for a large load.
    let set_aside = if count >= BULK {
        set_aside_search_indexes(conn).await?
    } else {
        Vec::new()
    };

    // The indexes are rebuilt even when the load fails half-way.
    let outcome: anyhow::Result<u64> = async {
        let mut done = 0u64;
        while done < count {
            let n = BATCH.min((count - done) as usize);
            let mut drafts = Vec::with_capacity(n);
            for i in 0..n {
                let seq = done + i as u64;
                drafts.push(Draft::random(
                    &mut rng,
                    seq,
                    run,
                    &category_ids,
                    now,
                    span_secs,
                ));
            }
            let derived: Vec<Derived> = drafts
                .iter()
                .map(|d| Derived::new(&d.summary, &d.blocks))
                .collect();
            let rows: Vec<_> = drafts
                .iter()
                .zip(&derived)
                .map(|(d, x)| {
                    let mut row = x.new_article(
                        &d.slug,
                        &d.title,
                        &d.summary,
                        d.category_id,
                        d.status,
                        d.published_at,
                    );
                    row.featured = d.featured;
                    row
                })
                .collect();
            let ids: Vec<i64> = diesel::insert_into(articles::table)
                .values(&rows)
                .returning(articles::id)
                .get_results(conn)
                .await?;
            let mut links = Vec::with_capacity(ids.len() * 3);
            let mut bylines = Vec::with_capacity(ids.len());
            for &article_id in &ids {
                let k = rng.random_range(1..=4);
                for &tag_id in tag_ids.choose_multiple(&mut rng, k) {
                    links.push(NewArticleTag { article_id, tag_id });
                }
                let k = if rng.random_bool(0.15) { 2 } else { 1 };
                for (position, &author_id) in author_ids.choose_multiple(&mut rng, k).enumerate() {
                    bylines.push(NewArticleAuthor {
                        article_id,
                        author_id,
                        position: position as i32,
                    });
                }
            }
            diesel::insert_into(article_tags::table)
                .values(&links)
                .execute(conn)
                .await?;
            diesel::insert_into(article_authors::table)
                .values(&bylines)
                .execute(conn)
                .await?;
            done += n as u64;
            if done.is_multiple_of(10_000) || done == count {
                log::info!("synthetic articles: {done}/{count}");
            }
        }
        Ok(done)
    }
    .await;
    for definition in &set_aside {
        log::info!("rebuilding: {definition}");
        diesel::sql_query("SET maintenance_work_mem = '512MB'")
            .execute(conn)
            .await?;
        diesel::sql_query(definition.as_str()).execute(conn).await?;
    }
    let done = outcome?;
    diesel::sql_query("ANALYZE").execute(conn).await?;
    Ok(done)
}

/// Loads at least this large drop the GIN indexes and build them afterwards.
const BULK: u64 = 20_000;

#[derive(QueryableByName)]
struct IndexDefinition {
    #[diesel(sql_type = diesel::sql_types::Text)]
    indexdef: String,
}

/// Drops the GIN indexes on `articles` (the text search ones) and returns
/// their `CREATE INDEX` statements, as PostgreSQL itself writes them.
async fn set_aside_search_indexes(conn: &mut AsyncPgConnection) -> anyhow::Result<Vec<String>> {
    let found: Vec<IndexDefinition> = diesel::sql_query(
        "SELECT indexdef FROM pg_indexes WHERE schemaname = current_schema() \
         AND tablename = 'articles' AND indexdef LIKE '% USING gin %' ORDER BY indexname",
    )
    .load(conn)
    .await?;
    let names: Vec<String> = diesel::sql_query(
        "SELECT indexname AS indexdef FROM pg_indexes WHERE schemaname = current_schema() \
         AND tablename = 'articles' AND indexdef LIKE '% USING gin %' ORDER BY indexname",
    )
    .load::<IndexDefinition>(conn)
    .await?
    .into_iter()
    .map(|d| d.indexdef)
    .collect();
    for name in &names {
        diesel::sql_query(format!("DROP INDEX \"{name}\""))
            .execute(conn)
            .await?;
    }
    Ok(found.into_iter().map(|d| d.indexdef).collect())
}

struct Draft {
    slug: String,
    title: String,
    summary: String,
    blocks: Vec<Block>,
    category_id: i64,
    status: &'static str,
    published_at: Option<chrono::DateTime<Utc>>,
    featured: bool,
}

impl Draft {
    fn random(
        rng: &mut StdRng,
        seq: u64,
        run: i64,
        category_ids: &[i64],
        now: chrono::DateTime<Utc>,
        span_secs: i64,
    ) -> Self {
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
            let back = Duration::seconds(rng.random_range(0..span_secs));
            ("published", Some(now - back))
        };
        // Whole seconds, like an editor's clock.
        let published_at =
            published_at.map(|t| t - Duration::nanoseconds(t.timestamp_subsec_nanos() as i64));
        Self {
            slug: format!("{}-{run}-{seq}", slugify(&title)),
            title,
            summary,
            blocks,
            category_id: *category_ids.choose(rng).expect("non-empty"),
            status,
            published_at,
            featured: rng.random_bool(0.02),
        }
    }
}

/// The leaf categories of the synthetic tree, created if missing.
async fn ensure_categories(conn: &mut AsyncPgConnection) -> anyhow::Result<Vec<i64>> {
    let mut leaves = Vec::new();
    for (position, (section, children)) in SECTIONS.iter().enumerate() {
        let parent = upsert_category(conn, None, position as i32, section).await?;
        leaves.push(parent);
        for (position, child) in children.iter().enumerate() {
            leaves.push(upsert_category(conn, Some(parent), position as i32, child).await?);
        }
    }
    Ok(leaves)
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
