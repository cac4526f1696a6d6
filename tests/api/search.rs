//! Search, suggest, related strategies, views and most-read, through HTTP
//! against PostgreSQL.

use chrono::{Duration, Utc};
use serde_json::Value;

use crate::fixtures::{self, Article};
use crate::harness::{self, TestApp, slugs};

fn enc(q: &str) -> String {
    let mut out = String::new();
    for b in q.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

async fn search(app: &TestApp, q: &str, rest: &str) -> Value {
    let r = app.get(&format!("/api/v1/search?q={}{rest}", enc(q))).await;
    assert_eq!(r.status, 200, "{q}: {}", r.text);
    r.json
}

async fn found(app: &TestApp, q: &str) -> Vec<String> {
    slugs(&search(app, q, "&limit=50").await)
}

/// A small newsroom: a section tree, two tags, one author.
pub(crate) struct Site {
    pub(crate) xa_hoi: i64,
    pub(crate) dan_so: i64,
    pub(crate) kinh_te: i64,
    pub(crate) tag: i64,
    pub(crate) author: i64,
}

pub(crate) async fn site(app: &TestApp) -> Site {
    let mut conn = app.conn().await;
    let xa_hoi = fixtures::category(&mut conn, "Xã hội", None).await;
    let dan_so = fixtures::category(&mut conn, "Dân số", Some(xa_hoi)).await;
    let kinh_te = fixtures::category(&mut conn, "Kinh tế", None).await;
    let tag = fixtures::tag(&mut conn, "Bình đẳng giới").await;
    fixtures::tag(&mut conn, "Y tế").await;
    let author = fixtures::author(&mut conn, "Trần Thanh Mai").await;
    Site {
        xa_hoi,
        dan_so,
        kinh_te,
        tag,
        author,
    }
}

fn paragraph(text: &str) -> Vec<newsroom::domain::body::Block> {
    vec![newsroom::domain::body::Block::Paragraph { text: text.into() }]
}

#[actix_web::test]
async fn folds_vietnamese_diacritics_both_ways() {
    let app = TestApp::spawn().await;
    let s = site(&app).await;
    let mut conn = app.conn().await;
    let mut a = Article::new(
        "Quảng Ninh hưởng ứng Tháng hành động vì bình đẳng giới",
        s.dan_so,
    );
    a.summary = "Lễ phát động tại KCN Đông Mai, thị xã Quảng Yên.".into();
    a.insert(&mut conn).await;
    Article::new("Giá vàng hôm nay", s.kinh_te)
        .insert(&mut conn)
        .await;
    let seed = "quang-ninh-huong-ung-thang-hanh-dong-vi-binh-dang-gioi";
    for q in [
        "binh dang gioi",
        "bình đẳng giới",
        "BINH DANG GIOI",
        "BÌNH ĐẲNG GIỚI",
        "quang ninh",
        "Quảng Ninh",
        "dong mai",
        "Đông Mai",
        "DONG MAI",
        "đông mai",
        "binh đẳng gioi",
    ] {
        assert_eq!(found(&app, q).await, [seed], "{q}");
    }
    // A wrong tone mark still folds to the same letters: found.
    assert_eq!(found(&app, "bình đẳng giói").await, [seed]);
}

/// Every Vietnamese vowel with every tone mark, lower and upper case, is
/// found without diacritics and with its own.
#[actix_web::test]
async fn every_vowel_with_every_tone_in_both_cases() {
    const VOWELS: [(&str, &str); 12] = [
        ("a", "aàáảãạ"),
        ("a", "ăằắẳẵặ"),
        ("a", "âầấẩẫậ"),
        ("e", "eèéẻẽẹ"),
        ("e", "êềếểễệ"),
        ("i", "iìíỉĩị"),
        ("o", "oòóỏõọ"),
        ("o", "ôồốổỗộ"),
        ("o", "ơờớởỡợ"),
        ("u", "uùúủũụ"),
        ("u", "ưừứửữự"),
        ("y", "yỳýỷỹỵ"),
    ];
    let app = TestApp::spawn().await;
    let s = site(&app).await;
    let mut conn = app.conn().await;
    let mut cases = Vec::new();
    let mut n = 0;
    for (base, forms) in VOWELS {
        for form in forms.chars() {
            for upper in [false, true] {
                n += 1;
                let syllable = if upper {
                    format!("Đ{}N", form.to_uppercase())
                } else {
                    format!("đ{form}n")
                };
                let code = format!("ma{n}");
                let mut a = Article::new(&format!("{code} {syllable}"), s.xa_hoi);
                a.slug = format!("nguyen-am-{n}");
                a.insert(&mut conn).await;
                cases.push((a_slug(n), code, syllable, format!("d{base}n")));
            }
        }
    }
    assert_eq!(cases.len(), 144);
    for (slug, code, exact, folded) in &cases {
        assert_eq!(
            found(&app, &format!("{code} {folded}")).await,
            [slug.as_str()],
            "{exact} by {folded}"
        );
        assert_eq!(
            found(&app, &format!("{code} {exact}")).await,
            [slug.as_str()],
            "{exact}"
        );
        let lower = exact.to_lowercase();
        assert_eq!(
            found(&app, &format!("{code} {lower}")).await,
            [slug.as_str()],
            "{lower}"
        );
    }
}

fn a_slug(n: usize) -> String {
    format!("nguyen-am-{n}")
}

#[actix_web::test]
async fn phrases_exclusions_and_prefixes() {
    let app = TestApp::spawn().await;
    let s = site(&app).await;
    let mut conn = app.conn().await;
    let mut a = Article::new("Phòng chống bạo lực gia đình ở Huế", s.xa_hoi);
    a.slug = "phrase".into();
    a.insert(&mut conn).await;
    let mut b = Article::new("Gia đình trẻ và bạo lực học đường", s.xa_hoi);
    b.slug = "scattered".into();
    b.insert(&mut conn).await;
    let mut c = Article::new("Bạo lực gia đình thời covid", s.xa_hoi);
    c.slug = "covid".into();
    c.insert(&mut conn).await;

    let mut both = found(&app, "bạo lực gia đình").await;
    both.sort();
    assert_eq!(both, ["covid", "phrase", "scattered"]);
    let mut phrase = found(&app, "\"bao luc gia dinh\"").await;
    phrase.sort();
    assert_eq!(phrase, ["covid", "phrase"]);
    assert_eq!(found(&app, "\"bạo lực gia đình\" -covid").await, ["phrase"]);
    assert_eq!(
        found(&app, "bao luc -\"gia dinh tre\" -Covid").await,
        ["phrase"]
    );

    let r = app
        .get(&format!("/api/v1/search/suggest?q={}", enc("bao lu")))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json["items"].as_array().unwrap().len(), 3);
    let r = app
        .get(&format!(
            "/api/v1/search/suggest?q={}&limit=5",
            enc("phong cho")
        ))
        .await;
    assert_eq!(slugs(&r.json), ["phrase"]);
    assert_eq!(
        r.json["items"][0]["title_html"],
        "<mark>Phòng</mark> <mark>chống</mark> bạo lực gia đình ở Huế"
    );
    // The last word is a prefix, the others whole words.
    let r = app
        .get(&format!("/api/v1/search/suggest?q={}", enc("pho chong")))
        .await;
    assert!(slugs(&r.json).is_empty(), "{}", r.text);
}

#[actix_web::test]
async fn title_beats_summary_beats_body_then_newest_and_exact_diacritics_first() {
    let app = TestApp::spawn().await;
    let s = site(&app).await;
    let mut conn = app.conn().await;
    let now = Utc::now();
    let make = |slug: &str, title: &str, summary: &str, body: &str, hours: i64| {
        let mut a = Article::new(title, s.xa_hoi).at(now - Duration::hours(hours));
        a.slug = slug.into();
        a.summary = summary.into();
        a.body = paragraph(body);
        a
    };
    for a in [
        make(
            "body-new",
            "Tin một",
            "Tóm tắt một.",
            "Có chữ lúa gạo ở đây.",
            1,
        ),
        make(
            "summary-old",
            "Tin hai",
            "Giá lúa gạo tăng.",
            "Thân bài.",
            30,
        ),
        make(
            "title-old",
            "Lúa gạo mùa nổi",
            "Tóm tắt ba.",
            "Thân bài.",
            50,
        ),
        make(
            "title-new",
            "Xuất khẩu lúa gạo",
            "Tóm tắt bốn.",
            "Thân bài.",
            5,
        ),
        make(
            "summary-new",
            "Tin năm",
            "Lúa gạo được mùa.",
            "Thân bài.",
            2,
        ),
        make(
            "title-folded",
            "Lua gao khong dau",
            "Tóm tắt sáu.",
            "Thân bài.",
            3,
        ),
        make("nothing", "Tin bảy", "Tóm tắt bảy.", "Thân bài.", 1),
    ] {
        a.insert(&mut conn).await;
    }
    assert_eq!(
        found(&app, "lúa gạo").await,
        [
            "title-new",
            "title-old",
            "title-folded",
            "summary-new",
            "summary-old",
            "body-new"
        ]
    );
    // Without diacritics there is nothing to prefer: field, then newest.
    assert_eq!(
        found(&app, "lua gao").await,
        [
            "title-folded",
            "title-new",
            "title-old",
            "summary-new",
            "summary-old",
            "body-new"
        ]
    );
    assert_eq!(
        slugs(&search(&app, "lúa gạo", "&sort=-published_at").await),
        [
            "body-new",
            "summary-new",
            "title-folded",
            "title-new",
            "summary-old",
            "title-old"
        ]
    );
    // Cursor pages walk the same order without repeats, in both sorts.
    for sort in ["relevance", "-published_at"] {
        let all = slugs(&search(&app, "lúa gạo", &format!("&sort={sort}&limit=50")).await);
        let mut walked = Vec::new();
        let mut cursor = String::new();
        loop {
            let page = search(&app, "lúa gạo", &format!("&sort={sort}&limit=2{cursor}")).await;
            walked.extend(slugs(&page));
            match page["next_cursor"].as_str() {
                Some(c) => cursor = format!("&cursor={c}"),
                None => break,
            }
        }
        assert_eq!(walked, all, "{sort}");
    }
    // A cursor belongs to its query and its sort.
    let page = search(&app, "lúa gạo", "&limit=2").await;
    let cursor = page["next_cursor"].as_str().unwrap();
    app.get(&format!("/api/v1/search?q=lua&cursor={cursor}"))
        .await
        .assert_problem(400, "invalid_cursor");
    app.get(&format!(
        "/api/v1/search?q={}&sort=-published_at&cursor={cursor}",
        enc("lúa gạo")
    ))
    .await
    .assert_problem(400, "invalid_cursor");
}

#[actix_web::test]
async fn snippets_mark_matches_in_the_original_text_and_never_pass_html_through() {
    let app = TestApp::spawn().await;
    let s = site(&app).await;
    let mut conn = app.conn().await;
    let mut a = Article::new("Cảnh báo lừa đảo qua mạng", s.xa_hoi);
    a.summary = "Kẻ gian gửi <script>alert('x')</script> và <img src=x onerror=alert(1)> để lừa đảo người dùng ở Quảng Ninh.".into();
    a.insert(&mut conn).await;
    let r = search(&app, "lua dao quang ninh", "").await;
    let hit = &r["items"][0];
    assert_eq!(hit["title"], "Cảnh báo lừa đảo qua mạng");
    assert_eq!(
        hit["highlight"]["title"],
        "Cảnh báo <mark>lừa</mark> <mark>đảo</mark> qua mạng"
    );
    let snippet = hit["highlight"]["snippet"].as_str().unwrap();
    assert!(
        snippet.contains("<mark>Quảng</mark> <mark>Ninh</mark>"),
        "{snippet}"
    );
    // Tags the text search parser recognises are dropped, the rest escaped.
    assert!(!snippet.contains("<script"), "{snippet}");
    assert!(
        snippet.contains("&lt;img src=x") && !snippet.contains("<img"),
        "{snippet}"
    );
    let stripped = snippet.replace("<mark>", "").replace("</mark>", "");
    assert!(!stripped.contains('<'), "{snippet}");
    // The whole summary is there too, as list items carry it.
    assert!(hit["summary"].as_str().unwrap().contains("Kẻ gian"));
    assert_eq!(hit["category"]["slug"], "xa-hoi");
}

#[actix_web::test]
async fn search_combines_with_list_filters_and_hides_unpublished() {
    let app = TestApp::spawn().await;
    let s = site(&app).await;
    let mut conn = app.conn().await;
    let now = Utc::now();
    let mut tagged = Article::new("Dân số già hóa nhanh", s.dan_so).at(now - Duration::days(2));
    tagged.tags = vec![s.tag];
    tagged.authors = vec![s.author];
    tagged.insert(&mut conn).await;
    Article::new("Dân số và kinh tế", s.kinh_te)
        .at(now - Duration::days(40))
        .insert(&mut conn)
        .await;
    Article::new("Dân số bản nháp", s.dan_so)
        .status("draft")
        .insert(&mut conn)
        .await;
    Article::new("Dân số hẹn giờ", s.dan_so)
        .at(now + Duration::days(1))
        .insert(&mut conn)
        .await;
    Article::new("Dân số lưu trữ", s.dan_so)
        .status("archived")
        .insert(&mut conn)
        .await;
    assert_eq!(found(&app, "dan so").await.len(), 2);
    let only = |r: Value| slugs(&r);
    assert_eq!(
        only(search(&app, "dan so", "&category=xa-hoi").await),
        ["dan-so-gia-hoa-nhanh"]
    );
    assert_eq!(
        only(search(&app, "dan so", "&tag=binh-dang-gioi").await),
        ["dan-so-gia-hoa-nhanh"]
    );
    assert_eq!(
        only(search(&app, "dan so", "&author=tran-thanh-mai").await),
        ["dan-so-gia-hoa-nhanh"]
    );
    let week_ago = (now - Duration::days(7)).to_rfc3339().replace('+', "%2B");
    assert_eq!(
        only(search(&app, "dan so", &format!("&published_before={week_ago}")).await),
        ["dan-so-va-kinh-te"]
    );
    app.get("/api/v1/search?q=dan&category=khong-co")
        .await
        .assert_problem(404, "not_found");
    // Suggest never offers unpublished titles either.
    let r = app.get("/api/v1/search/suggest?q=dan%20s").await;
    assert_eq!(r.json["items"].as_array().unwrap().len(), 2, "{}", r.text);
}

#[actix_web::test]
async fn misspelt_words_are_corrected_and_the_response_says_so() {
    let app = TestApp::spawn().await;
    let s = site(&app).await;
    let mut conn = app.conn().await;
    Article::new("Quảng Ninh đặt mục tiêu tăng trưởng hai con số", s.kinh_te)
        .insert(&mut conn)
        .await;
    Article::new("Giá vàng hôm nay", s.kinh_te)
        .insert(&mut conn)
        .await;
    // `niềm` and `niên` are as trigram-similar to `nimh` as `ninh` is; the
    // edit distance decides.
    Article::new("Niềm vui niên học mới", s.kinh_te)
        .insert(&mut conn)
        .await;
    let exact = search(&app, "quang ninh", "").await;
    assert_eq!(exact["fuzzy"], false);
    assert!(exact["corrected_query"].is_null());
    for (typo, meant) in [
        ("quang nimh", "quang ninh"),
        ("Quảngg ninh", "quang ninh"),
        ("\"tang truog\" -vang", "\"tang truong\" -vang"),
    ] {
        let r = search(&app, typo, "").await;
        assert_eq!(r["fuzzy"], true, "{typo}: {r}");
        assert_eq!(r["corrected_query"], meant, "{typo}");
        assert_eq!(
            slugs(&r),
            ["quang-ninh-dat-muc-tieu-tang-truong-hai-con-so"],
            "{typo}"
        );
        assert!(r["next_cursor"].is_null());
        assert!(
            r["items"][0]["highlight"]["title"]
                .as_str()
                .unwrap()
                .contains("<mark>"),
            "{r}"
        );
    }
    // Words written later are known at once (a trigger keeps the list).
    Article::new("Lễ hội Yên Tử khai mạc", s.kinh_te)
        .insert(&mut conn)
        .await;
    let r = search(&app, "yen tuu", "").await;
    assert_eq!(r["corrected_query"], "yen tu", "{r}");
    assert_eq!(slugs(&r), ["le-hoi-yen-tu-khai-mac"]);
    let none = search(&app, "xyzzy plugh", "").await;
    assert_eq!(
        (
            none["fuzzy"].as_bool(),
            none["items"].as_array().unwrap().len()
        ),
        (Some(false), 0)
    );
}

#[actix_web::test]
async fn hostile_or_empty_queries_are_400_or_empty_never_500() {
    let app = TestApp::spawn().await;
    let s = site(&app).await;
    let mut conn = app.conn().await;
    Article::new("Bình đẳng giới", s.xa_hoi)
        .insert(&mut conn)
        .await;
    let long = "a".repeat(1000);
    for (path, code) in [
        ("/api/v1/search".to_owned(), "invalid_parameter"),
        ("/api/v1/search?q=".to_owned(), "invalid_parameter"),
        ("/api/v1/search?q=%20%20".to_owned(), "invalid_parameter"),
        (format!("/api/v1/search?q={long}"), "invalid_parameter"),
        (
            format!("/api/v1/search?q={}", enc("!!! ??? ...")),
            "invalid_parameter",
        ),
        (
            format!("/api/v1/search?q={}", enc("-covid")),
            "invalid_parameter",
        ),
        (
            format!(
                "/api/v1/search?q={}",
                enc(&(0..25).map(|i| format!("từ{i} ")).collect::<String>())
            ),
            "invalid_parameter",
        ),
        (
            "/api/v1/search?q=a&sort=rank".to_owned(),
            "invalid_parameter",
        ),
        (
            "/api/v1/search?q=a&limit=51".to_owned(),
            "invalid_parameter",
        ),
        (
            "/api/v1/search?q=a&cursor=abc!".to_owned(),
            "invalid_cursor",
        ),
        ("/api/v1/search?q=a&page=2".to_owned(), "invalid_parameter"),
        ("/api/v1/search/suggest".to_owned(), "invalid_parameter"),
        (
            "/api/v1/search/suggest?q=%22%22".to_owned(),
            "invalid_parameter",
        ),
        (
            "/api/v1/search/suggest?q=a&limit=0".to_owned(),
            "invalid_parameter",
        ),
    ] {
        app.get(&path).await.assert_problem(400, code);
    }
    for q in [
        "a & | !b",
        "\"bình đẳng",
        "bình\" đẳng\"\"",
        "'; DROP TABLE articles; --",
        "x:* | y:A & !(z)",
        "\\ \u{0} \u{E000}giới\u{E001}",
        "((((",
        "<script>alert(1)</script>",
        "bình <-> đẳng",
    ] {
        let r = app.get(&format!("/api/v1/search?q={}", enc(q))).await;
        assert!(
            r.status == 200 || r.status == 400,
            "{q}: {} {}",
            r.status,
            r.text
        );
        let r = app
            .get(&format!("/api/v1/search/suggest?q={}", enc(q)))
            .await;
        assert!(r.status == 200 || r.status == 400, "{q}: {}", r.text);
    }
    // Still there, and the unbalanced quote still finds the phrase.
    assert_eq!(found(&app, "\"bình đẳng").await, ["binh-dang-gioi"]);
}

/// "chinh": the article whose related lists the tests read.
fn related_main(s: &Site) -> Article {
    Article::new("Bình đẳng giới trong gia đình trẻ", s.dan_so)
        .at(Utc::now() - Duration::days(1))
        .slug("chinh")
        .tagged(&[s.tag])
}

/// "cung-the": shares the main article's tag and word pairs.
fn same_tag(s: &Site) -> Article {
    Article::new("Tháng hành động vì bình đẳng giới", s.kinh_te)
        .at(Utc::now() - Duration::days(2))
        .slug("cung-the")
        .tagged(&[s.tag])
}

/// "cung-muc": only the main article's category.
fn same_category(s: &Site) -> Article {
    Article::new("Điều tra dân số giữa kỳ", s.dan_so)
        .at(Utc::now() - Duration::days(4))
        .slug("cung-muc")
}

#[actix_web::test]
async fn related_strategies_never_return_the_article_drafts_or_duplicates() {
    let app = TestApp::spawn().await;
    let s = site(&app).await;
    let mut conn = app.conn().await;
    let now = Utc::now();
    let main = related_main(&s).insert(&mut conn).await;
    same_tag(&s).insert(&mut conn).await;
    Article::new("Gia đình trẻ ở thành phố", s.kinh_te)
        .at(now - Duration::days(3))
        .slug("giong-tieu-de")
        .insert(&mut conn)
        .await;
    same_category(&s).insert(&mut conn).await;
    Article::new("Giá vàng hôm nay", s.kinh_te)
        .at(now - Duration::hours(1))
        .slug("khong-lien-quan")
        .insert(&mut conn)
        .await;
    let draft = Article::new("Bình đẳng giới bản nháp", s.dan_so)
        .status("draft")
        .slug("nhap")
        .tagged(&[s.tag])
        .insert(&mut conn)
        .await;
    let pinned = Article::new("Bài được ghim", s.kinh_te)
        .at(now - Duration::days(9))
        .slug("ghim")
        .insert(&mut conn)
        .await;
    fixtures::pin_related(&mut conn, main, &[pinned, draft]).await;

    let related = |q: &'static str| {
        let app = &app;
        async move {
            let r = app
                .get(&format!("/api/v1/articles/chinh/related?{q}"))
                .await;
            assert_eq!(r.status, 200, "{q}: {}", r.text);
            r.json
        }
    };
    let auto = related("limit=20").await;
    let got = slugs(&auto);
    assert_eq!(got[0], "ghim");
    assert_eq!(auto["items"][0]["pinned"], true);
    assert!(!got.contains(&"chinh".to_owned()) && !got.contains(&"nhap".to_owned()));
    let mut unique = got.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), got.len(), "{got:?}");
    // Shared tag and shared word pairs outrank the merely recent.
    let position = |slug: &str| got.iter().position(|s| s == slug);
    assert!(
        position("cung-the") < position("khong-lien-quan").or(Some(usize::MAX)),
        "{got:?}"
    );
    assert!(position("giong-tieu-de").is_some(), "{got:?}");
    assert!(position("cung-muc").is_some(), "{got:?}");
    assert_eq!(
        slugs(&related("strategy=auto&limit=2").await),
        ["ghim", got[1].as_str()]
    );

    assert_eq!(slugs(&related("strategy=manual").await), ["ghim"]);
    assert_eq!(
        slugs(&related("strategy=category").await),
        ["ghim", "cung-muc"]
    );
    assert_eq!(slugs(&related("strategy=tags").await), ["ghim", "cung-the"]);
    for bad in ["strategy=best", "limit=0", "limit=21", "limit=x"] {
        app.get(&format!("/api/v1/articles/chinh/related?{bad}"))
            .await
            .assert_problem(400, "invalid_parameter");
    }
    app.get("/api/v1/articles/nhap/related")
        .await
        .assert_problem(404, "not_found");
}

#[actix_web::test]
async fn concurrent_views_add_up_after_a_flush_and_most_read_ranks_them() {
    // Readers come through a trusted proxy, each from an address of its own.
    let app = TestApp::spawn_with(newsroom::config::Settings {
        trusted_proxies: vec!["127.0.0.0/8".parse().unwrap()],
        ..harness::settings()
    })
    .await;
    let s = site(&app).await;
    let mut conn = app.conn().await;
    let popular = Article::new("Bài đọc nhiều", s.dan_so)
        .insert(&mut conn)
        .await;
    Article::new("Bài ít đọc", s.kinh_te)
        .insert(&mut conn)
        .await;
    Article::new("Bài nháp", s.dan_so)
        .status("draft")
        .insert(&mut conn)
        .await;
    let post = |slug: &'static str, reader: usize| {
        let app = &app;
        async move {
            app.client
                .post(format!("{}/api/v1/articles/{slug}/views", app.base))
                .header(
                    "x-forwarded-for",
                    format!("10.0.{}.{}", reader / 250, reader % 250),
                )
                .header("x-client-id", format!("reader-{reader}"))
                .send()
                .await
                .unwrap()
        }
    };
    // 300 distinct readers at once, each posting twice: 300 views.
    let mut tasks = Vec::new();
    for i in 0..300 {
        tasks.push(post("bai-doc-nhieu", i));
        tasks.push(post("bai-doc-nhieu", i));
    }
    let responses = futures_util::future::join_all(tasks).await;
    let mut counted = 0;
    for r in responses {
        assert_eq!(r.status(), 202);
        if r.json::<Value>().await.unwrap()["counted"] == true {
            counted += 1;
        }
    }
    assert_eq!(counted, 300);
    for i in 0..7 {
        let r = post("bai-it-doc", i).await;
        assert_eq!(r.status(), 202);
    }
    assert_eq!(post("bai-nhap", 0).await.status(), 404);
    assert_eq!(post("khong-co", 0).await.status(), 404);

    // Nothing is written until the flush; then exactly what was counted.
    let r = app.get("/api/v1/articles/most-read?period=day").await;
    assert_eq!(r.json["items"].as_array().unwrap().len(), 0, "{}", r.text);
    assert_eq!(app.flush_views().await, 307);
    assert_eq!(app.flush_views().await, 0);
    let r = app.get("/api/v1/articles/most-read?period=week").await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(slugs(&r.json), ["bai-doc-nhieu", "bai-it-doc"]);
    assert_eq!(r.json["items"][0]["views"], 300);
    assert_eq!(r.json["items"][0]["id"], popular);
    assert_eq!(r.json["items"][1]["views"], 7);
    assert_eq!(r.json["period"], "week");
    let r = app
        .get("/api/v1/articles/most-read?category=kinh-te&limit=5")
        .await;
    assert_eq!(slugs(&r.json), ["bai-it-doc"]);
    // Older counts fall out of the shorter periods.
    {
        use diesel_async::RunQueryDsl;
        diesel::sql_query(
            "INSERT INTO article_daily_views (day, article_id, views) \
             SELECT current_date - 20, id, 1000 FROM articles WHERE slug = 'bai-it-doc'",
        )
        .execute(&mut conn)
        .await
        .unwrap();
    }
    let r = app.get("/api/v1/articles/most-read?period=month").await;
    assert_eq!(slugs(&r.json), ["bai-it-doc", "bai-doc-nhieu"]);
    assert_eq!(r.json["items"][0]["views"], 1007);
    let r = app.get("/api/v1/articles/most-read?period=week").await;
    assert_eq!(slugs(&r.json), ["bai-doc-nhieu", "bai-it-doc"]);
    for bad in ["period=year", "limit=51", "category=Xã"] {
        app.get(&format!("/api/v1/articles/most-read?{bad}"))
            .await
            .assert_problem(400, "invalid_parameter");
    }
    app.get("/api/v1/articles/most-read?category=khong-co")
        .await
        .assert_problem(404, "not_found");
}

#[actix_web::test]
async fn a_clean_shutdown_writes_the_buffered_views() {
    let app = TestApp::spawn().await;
    let s = site(&app).await;
    let mut conn = app.conn().await;
    Article::new("Bài cuối", s.xa_hoi).insert(&mut conn).await;
    for i in 0..5 {
        let r = app
            .client
            .post(format!("{}/api/v1/articles/bai-cuoi/views", app.base))
            .header("x-client-id", format!("c{i}"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 202);
    }
    assert_eq!(app.stop().await, 5);
    use diesel::prelude::*;
    use diesel_async::RunQueryDsl;
    let views: Vec<i64> = newsroom::schema::article_daily_views::table
        .select(newsroom::schema::article_daily_views::views)
        .load(&mut conn)
        .await
        .unwrap();
    assert_eq!(views, [5]);
}

/// Runs one SQL statement behind the API's back.
async fn run_sql(conn: &mut diesel_async::AsyncPgConnection, sql: &str) {
    use diesel_async::RunQueryDsl;
    diesel::sql_query(sql).execute(conn).await.unwrap();
}

/// The kept list of `article`, once the write after a scoring has landed.
async fn kept_related(app: &TestApp, article: i64) -> Option<Vec<i64>> {
    use diesel::prelude::*;
    use diesel_async::RunQueryDsl;
    use newsroom::schema::related_auto;
    let mut conn = app.conn().await;
    related_auto::table
        .filter(related_auto::article_id.eq(article))
        .select(related_auto::ids)
        .first::<Vec<Option<i64>>>(&mut conn)
        .await
        .optional()
        .unwrap()
        .map(|ids| ids.into_iter().flatten().collect())
}

async fn until_kept(app: &TestApp, article: i64) -> Vec<i64> {
    for _ in 0..100 {
        if let Some(ids) = kept_related(app, article).await {
            return ids;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("no related list was kept for article {article} within 5 s");
}

#[actix_web::test]
async fn scored_related_lists_are_kept_used_and_dropped_when_the_article_changes() {
    let app = TestApp::spawn().await;
    let s = site(&app).await;
    let mut conn = app.conn().await;
    let main = related_main(&s).insert(&mut conn).await;
    let same_tag = same_tag(&s).insert(&mut conn).await;
    let other = same_category(&s).insert(&mut conn).await;
    let related = || async {
        slugs(
            &app.get("/api/v1/articles/chinh/related?limit=20")
                .await
                .json,
        )
    };

    let scored = related().await;
    assert_eq!(scored, ["cung-the", "cung-muc"]);
    assert_eq!(until_kept(&app, main).await, [same_tag, other]);

    // The kept list is what answers: changed behind the API's back, the
    // answer follows it.
    run_sql(
        &mut conn,
        &format!("UPDATE related_auto SET ids = ARRAY[{other}, {same_tag}]"),
    )
    .await;
    assert_eq!(related().await, ["cung-muc", "cung-the"]);
    // Pinned first, and not twice; a takedown is left out at once.
    fixtures::pin_related(&mut conn, main, &[same_tag]).await;
    assert_eq!(related().await, ["cung-the", "cung-muc"]);
    run_sql(
        &mut conn,
        &format!("UPDATE articles SET status = 'draft' WHERE id = {other}"),
    )
    .await;
    assert_eq!(related().await, ["cung-the"]);
    run_sql(
        &mut conn,
        &format!("UPDATE articles SET status = 'published' WHERE id = {other}"),
    )
    .await;
    run_sql(&mut conn, "DELETE FROM article_related").await;

    // What makes the list wrong drops it: a tag added or removed, a new
    // title; then the next read scores again and keeps the new list.
    run_sql(
        &mut conn,
        &format!("DELETE FROM article_tags WHERE article_id = {main}"),
    )
    .await;
    assert_eq!(
        kept_related(&app, main).await,
        None,
        "a removed tag drops the list"
    );
    assert_eq!(
        related().await,
        ["cung-muc", "cung-the"],
        "scored again without the tag"
    );
    until_kept(&app, main).await;
    run_sql(
        &mut conn,
        &format!(
            "INSERT INTO article_tags (article_id, tag_id) VALUES ({main}, {})",
            s.tag
        ),
    )
    .await;
    assert_eq!(
        kept_related(&app, main).await,
        None,
        "an added tag drops the list"
    );
    assert_eq!(related().await, ["cung-the", "cung-muc"]);
    until_kept(&app, main).await;
    run_sql(
        &mut conn,
        &format!(
            "UPDATE articles SET title = 'Gia đình trẻ', updated_at = now() WHERE id = {main}"
        ),
    )
    .await;
    assert_eq!(
        kept_related(&app, main).await,
        None,
        "a new title drops the list"
    );
    // A view count or any other column leaves it.
    related().await;
    until_kept(&app, main).await;
    run_sql(
        &mut conn,
        &format!("UPDATE articles SET featured = true WHERE id = {main}"),
    )
    .await;
    assert!(kept_related(&app, main).await.is_some());

    // NEWSROOM_RELATED_MAX_AGE=0: scored on every request, nothing kept.
    run_sql(&mut conn, "DELETE FROM related_auto").await;
    let uncached = app
        .another_instance(newsroom::config::Settings {
            related_max_age: std::time::Duration::ZERO,
            ..harness::settings()
        })
        .await;
    let r = uncached.get("/api/v1/articles/chinh/related").await;
    let mut got = slugs(&r.json);
    got.sort();
    assert_eq!(got, ["cung-muc", "cung-the"]);
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(kept_related(&app, main).await, None);
}
