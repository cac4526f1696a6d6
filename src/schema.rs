// @generated automatically by Diesel CLI.

diesel::table! {
    article_authors (article_id, author_id) {
        article_id -> Int8,
        author_id -> Int8,
        position -> Int4,
    }
}

diesel::table! {
    article_related (article_id, related_article_id) {
        article_id -> Int8,
        related_article_id -> Int8,
        position -> Int4,
    }
}

diesel::table! {
    article_tags (article_id, tag_id) {
        article_id -> Int8,
        tag_id -> Int8,
    }
}

diesel::table! {
    articles (id) {
        id -> Int8,
        slug -> Text,
        title -> Text,
        summary -> Text,
        body -> Jsonb,
        body_html -> Text,
        body_text -> Text,
        excerpt -> Text,
        word_count -> Int4,
        reading_time_minutes -> Int4,
        cover_media_id -> Nullable<Int8>,
        cover_caption -> Nullable<Text>,
        category_id -> Int8,
        status -> Text,
        published_at -> Nullable<Timestamptz>,
        first_published_at -> Nullable<Timestamptz>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        meta_title -> Nullable<Text>,
        meta_description -> Nullable<Text>,
        canonical_url -> Nullable<Text>,
        social_image_id -> Nullable<Int8>,
        language -> Text,
        featured -> Bool,
        source -> Nullable<Text>,
        version -> Int4,
        public_status -> Bool,
    }
}

diesel::table! {
    authors (id) {
        id -> Int8,
        slug -> Text,
        name -> Text,
        bio -> Text,
        avatar_url -> Nullable<Text>,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    categories (id) {
        id -> Int8,
        parent_id -> Nullable<Int8>,
        position -> Int4,
        slug -> Text,
        name -> Text,
        description -> Text,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    media (id) {
        id -> Int8,
        url -> Text,
        alt -> Text,
        caption -> Nullable<Text>,
        credit -> Nullable<Text>,
        width -> Nullable<Int4>,
        height -> Nullable<Int4>,
        mime_type -> Text,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    tags (id) {
        id -> Int8,
        slug -> Text,
        name -> Text,
        description -> Text,
        created_at -> Timestamptz,
    }
}

diesel::joinable!(article_authors -> articles (article_id));
diesel::joinable!(article_authors -> authors (author_id));
diesel::joinable!(article_tags -> articles (article_id));
diesel::joinable!(article_tags -> tags (tag_id));
diesel::joinable!(articles -> categories (category_id));

diesel::allow_tables_to_appear_in_same_query!(
    article_authors,
    article_related,
    article_tags,
    articles,
    authors,
    categories,
    media,
    tags,
);
