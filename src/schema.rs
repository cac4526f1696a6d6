// @generated automatically by Diesel CLI.

pub mod sql_types {
    #[derive(diesel::query_builder::QueryId, Clone, diesel::sql_types::SqlType)]
    #[diesel(postgres_type(name = "tsvector", schema = "pg_catalog"))]
    pub struct Tsvector;
}

diesel::table! {
    api_key_daily_usage (key_id, day) {
        key_id -> Int8,
        day -> Date,
        requests -> Int8,
        limited -> Int8,
    }
}

diesel::table! {
    api_keys (id) {
        id -> Int8,
        name -> Text,
        contact -> Text,
        scopes -> Array<Nullable<Text>>,
        per_minute -> Int4,
        burst -> Int4,
        prefix -> Text,
        secret_hash -> Bytea,
        expires_at -> Nullable<Timestamptz>,
        revoked_at -> Nullable<Timestamptz>,
        created_at -> Timestamptz,
        created_by -> Nullable<Int8>,
        updated_at -> Timestamptz,
        rotated_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    article_authors (article_id, author_id) {
        article_id -> Int8,
        author_id -> Int8,
        position -> Int4,
    }
}

diesel::table! {
    article_changes (seq) {
        seq -> Int8,
        txid -> Int8,
        article_id -> Int8,
        categories -> Array<Nullable<Int8>>,
        tags -> Array<Nullable<Int8>>,
        authors -> Array<Nullable<Int8>>,
        changed_at -> Timestamptz,
    }
}

diesel::table! {
    article_daily_views (day, article_id) {
        day -> Date,
        article_id -> Int8,
        views -> Int8,
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
    article_revisions (id) {
        id -> Int8,
        article_id -> Int8,
        number -> Int4,
        created_by -> Nullable<Int8>,
        created_at -> Timestamptz,
        content -> Jsonb,
    }
}

diesel::table! {
    article_slugs (slug) {
        slug -> Text,
        article_id -> Int8,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    article_tags (article_id, tag_id) {
        article_id -> Int8,
        tag_id -> Int8,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use super::sql_types::Tsvector;

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
        created_by -> Nullable<Int8>,
        search_head -> Nullable<Tsvector>,
        search_all -> Nullable<Tsvector>,
    }
}

diesel::table! {
    audit_log (id) {
        id -> Int8,
        at -> Timestamptz,
        actor_id -> Nullable<Int8>,
        action -> Text,
        object_type -> Text,
        object_id -> Nullable<Int8>,
        details -> Jsonb,
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
        updated_at -> Timestamptz,
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
    gone_articles (article_id) {
        article_id -> Int8,
        slug -> Text,
        gone_at -> Timestamptz,
    }
}

diesel::table! {
    login_throttle (key) {
        key -> Text,
        attempts -> Int4,
        window_started_at -> Timestamptz,
        next_allowed_at -> Timestamptz,
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
        updated_at -> Timestamptz,
        storage_key -> Nullable<Text>,
        content_hash -> Nullable<Text>,
        byte_size -> Nullable<Int8>,
        placeholder -> Nullable<Text>,
        focal_x -> Float8,
        focal_y -> Float8,
    }
}

diesel::table! {
    refresh_tokens (id) {
        id -> Int8,
        user_id -> Int8,
        family -> Text,
        token_hash -> Text,
        created_at -> Timestamptz,
        expires_at -> Timestamptz,
        rotated_at -> Nullable<Timestamptz>,
        revoked_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    related_auto (article_id) {
        article_id -> Int8,
        ids -> Array<Nullable<Int8>>,
        computed_at -> Timestamptz,
    }
}

diesel::table! {
    search_words (word) {
        word -> Text,
    }
}

diesel::table! {
    staff_sessions (id) {
        id -> Text,
        user_id -> Int8,
        created_at -> Timestamptz,
        revoked_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    staff_users (id) {
        id -> Int8,
        email -> Text,
        display_name -> Text,
        role -> Text,
        author_id -> Nullable<Int8>,
        password_hash -> Text,
        active -> Bool,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        password_changed_at -> Timestamptz,
    }
}

diesel::table! {
    tags (id) {
        id -> Int8,
        slug -> Text,
        name -> Text,
        description -> Text,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    webhook_deliveries (id) {
        id -> Int8,
        endpoint_id -> Int8,
        event_id -> Text,
        event_type -> Text,
        payload -> Jsonb,
        status -> Text,
        attempts -> Int4,
        next_attempt_at -> Timestamptz,
        last_status_code -> Nullable<Int4>,
        last_latency_ms -> Nullable<Int4>,
        last_response_excerpt -> Nullable<Text>,
        created_at -> Timestamptz,
        delivered_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    webhook_endpoints (id) {
        id -> Int8,
        url -> Text,
        description -> Text,
        events -> Array<Nullable<Text>>,
        secret -> Text,
        active -> Bool,
        disabled_reason -> Nullable<Text>,
        failure_count -> Int4,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    webhook_schedule_cursor (id) {
        id -> Int4,
        due_until -> Timestamptz,
    }
}

diesel::joinable!(api_key_daily_usage -> api_keys (key_id));
diesel::joinable!(api_keys -> staff_users (created_by));
diesel::joinable!(article_authors -> articles (article_id));
diesel::joinable!(article_authors -> authors (author_id));
diesel::joinable!(article_daily_views -> articles (article_id));
diesel::joinable!(article_revisions -> articles (article_id));
diesel::joinable!(article_revisions -> staff_users (created_by));
diesel::joinable!(article_slugs -> articles (article_id));
diesel::joinable!(article_tags -> articles (article_id));
diesel::joinable!(article_tags -> tags (tag_id));
diesel::joinable!(articles -> categories (category_id));
diesel::joinable!(articles -> staff_users (created_by));
diesel::joinable!(audit_log -> staff_users (actor_id));
diesel::joinable!(refresh_tokens -> staff_users (user_id));
diesel::joinable!(related_auto -> articles (article_id));
diesel::joinable!(staff_sessions -> staff_users (user_id));
diesel::joinable!(staff_users -> authors (author_id));
diesel::joinable!(webhook_deliveries -> webhook_endpoints (endpoint_id));

diesel::allow_tables_to_appear_in_same_query!(
    api_key_daily_usage,
    api_keys,
    article_authors,
    article_changes,
    article_daily_views,
    article_related,
    article_revisions,
    article_slugs,
    article_tags,
    articles,
    audit_log,
    authors,
    categories,
    gone_articles,
    login_throttle,
    media,
    refresh_tokens,
    related_auto,
    search_words,
    staff_sessions,
    staff_users,
    tags,
    webhook_deliveries,
    webhook_endpoints,
    webhook_schedule_cursor,
);
