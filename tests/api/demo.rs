//! The demo site: the seed article exactly as published, and its section.

use crate::harness::TestApp;

pub const SEED_SLUG: &str = "quang-ninh-huong-ung-thang-hanh-dong-vi-binh-dang-gioi-va-phong-ngua-ung-pho-voi-bao-luc-tren-co-so";

#[actix_web::test]
async fn the_seed_article_is_served_as_written() {
    let app = TestApp::with_demo().await;
    let r = app.get(&format!("/api/v1/articles/{SEED_SLUG}")).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let a = &r.json;
    assert_eq!(
        a["title"],
        "Quảng Ninh hưởng ứng Tháng hành động vì bình đẳng giới và phòng ngừa ứng phó với bạo lực trên cơ sở giới"
    );
    assert_eq!(a["published_at"], "2023-11-15T13:59:00+07:00");
    assert!(
        a["summary"]
            .as_str()
            .unwrap()
            .starts_with("Ngày 10/11, tại KCN Đông Mai (TX Quảng Yên)")
    );
    assert_eq!(a["authors"][0]["name"], "Trần Thanh Mai");
    assert_eq!(a["category"]["slug"], "dan-so");
    let crumbs: Vec<&str> = a["breadcrumbs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["slug"].as_str().unwrap())
        .collect();
    assert_eq!(crumbs, ["xa-hoi", "dan-so"]);
    // The image block carries its media and caption; the body renders to HTML and text.
    let image = a["body"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["type"] == "image")
        .expect("an image block");
    assert!(image["caption"].as_str().unwrap().contains("KCN Đông Mai"));
    assert!(
        image["media"]["url"]
            .as_str()
            .unwrap()
            .ends_with("2147034_dsc_0597_11282810.jpg")
    );
    assert!(
        a["body_html"]
            .as_str()
            .unwrap()
            .contains("<figure><img src=")
    );
    assert!(
        a["body_text"]
            .as_str()
            .unwrap()
            .contains("Đội cổ động tuyên truyền của tỉnh")
    );
    assert!(
        a["cover"]["media"]["url"]
            .as_str()
            .unwrap()
            .starts_with("http://news.test/media/")
    );
    assert!(a["word_count"].as_i64().unwrap() > 200);
    assert_eq!(
        a["seo"]["canonical_url"],
        format!("http://news.test/{SEED_SLUG}")
    );
    assert_eq!(a["url"], a["seo"]["canonical_url"]);
    let excerpt = a["excerpt"].as_str().unwrap();
    assert!(
        excerpt.ends_with('…') && excerpt.chars().count() <= 160,
        "{excerpt}"
    );
}

#[actix_web::test]
async fn the_seed_articles_same_section_list_is_its_three_neighbours() {
    let app = TestApp::with_demo().await;
    let related = app
        .slugs(&format!(
            "/api/v1/articles/{SEED_SLUG}/related?strategy=category"
        ))
        .await;
    assert_eq!(
        related,
        [
            "vinh-phuc-to-chuc-hoi-nghi-cung-cap-kien-thuc-ve-benh-thalassemia-cho-can-bo-y-te-dan-so-cac-cap-nam",
            "hoi-thao-khoa-hoc-gia-hoa-dan-so-o-viet-nam-thuc-trang-xu-huong-va-khuyen-nghi-chinh-sach",
            "ra-quan-dieu-tra-dan-so-va-nha-o-giua-ky-nam-2024",
        ]
    );
    // The scheduled 2030 article in the same section is not among them.
    let r = app
        .get(&format!(
            "/api/v1/articles/{SEED_SLUG}/related?strategy=category&limit=20"
        ))
        .await;
    assert_eq!(r.json["items"].as_array().unwrap().len(), 3);
}

#[actix_web::test]
async fn drafts_scheduled_and_archived_demo_articles_are_hidden() {
    let app = TestApp::with_demo().await;
    let r = app
        .get("/api/v1/articles?limit=100&include_total=true")
        .await;
    assert_eq!(r.json["total"], 22);
    let slugs = crate::harness::slugs(&r.json);
    for hidden in [
        "nang-nong-keo-dai-nguoi-cao-tuoi-can-lam-gi-de-bao-ve-suc-khoe",
        "hoi-an-gin-giu-khong-gian-pho-co-truoc-ap-luc-cua-du-lich",
        "nam-2030-chang-duong-cuoi-cua-chien-luoc-dan-so-viet-nam",
        "dak-lak-cong-bo-lich-nghi-tet-nguyen-dan-giap-thin-2024-cho-hoc-sinh",
    ] {
        assert!(!slugs.iter().any(|s| s == hidden), "{hidden} is listed");
        app.get(&format!("/api/v1/articles/{hidden}"))
            .await
            .assert_problem(404, "not_found");
    }
}
