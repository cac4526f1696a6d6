-- Search that understands Vietnamese: accent folding, stored tsvectors, GIN
-- and trigram indexes; per-day view counters for "most read".

CREATE EXTENSION IF NOT EXISTS unaccent WITH SCHEMA public;
CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA public;

-- Folds text the way readers type it: lower case, no diacritics. `đ`/`Đ`
-- have no Unicode decomposition, so they are replaced explicitly before
-- `unaccent` (whose rules also cover them).
CREATE FUNCTION newsroom_fold(text) RETURNS text
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    AS $$ SELECT lower(public.unaccent('public.unaccent'::regdictionary, translate($1, 'đĐ', 'dD'))) $$;

-- A text search configuration whose words go through `unaccent`: folded
-- lexemes in the vectors, and folded queries (`to_tsquery('newsroom_fold',
-- 'quang & ninh')`).
CREATE TEXT SEARCH CONFIGURATION newsroom_fold (COPY = pg_catalog.simple);
ALTER TEXT SEARCH CONFIGURATION newsroom_fold
    ALTER MAPPING FOR asciiword, asciihword, hword_asciipart, word, hword, hword_part, numword, numhword, hword_numpart
    WITH public.unaccent, pg_catalog.simple;

-- Both the folded lexemes (`quang`, `ninh`) and the exact ones (`quảng`,
-- `ninh`) of a text, so one vector answers accent-free queries and tells
-- exact-diacritic matches apart.
CREATE FUNCTION newsroom_search_vector(text) RETURNS tsvector
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$ SELECT to_tsvector('public.newsroom_fold'::regconfig, translate(coalesce($1, ''), 'đĐ', 'dD'))
              || to_tsvector('pg_catalog.simple'::regconfig, coalesce($1, '')) $$;

-- Title (weight A) and summary (B): small, for title ranking and suggest.
ALTER TABLE articles ADD COLUMN search_head tsvector GENERATED ALWAYS AS (
    setweight(newsroom_search_vector(title), 'A') || setweight(newsroom_search_vector(summary), 'B')
) STORED;
-- Everything, with the body as C.
ALTER TABLE articles ADD COLUMN search_all tsvector GENERATED ALWAYS AS (
    setweight(newsroom_search_vector(title), 'A') || setweight(newsroom_search_vector(summary), 'B')
    || setweight(newsroom_search_vector(body_text), 'C')
) STORED;

CREATE INDEX articles_search_head ON articles USING gin (search_head) WHERE public_status;
CREATE INDEX articles_search_all ON articles USING gin (search_all) WHERE public_status;
-- Typo-tolerant fallback on titles.
CREATE INDEX articles_title_trgm ON articles USING gin (newsroom_fold(title) gin_trgm_ops) WHERE public_status;

CREATE TABLE article_daily_views (
    day        DATE NOT NULL,
    article_id BIGINT NOT NULL REFERENCES articles (id) ON DELETE CASCADE,
    views      BIGINT NOT NULL CHECK (views > 0),
    PRIMARY KEY (day, article_id)
);
CREATE INDEX article_daily_views_article ON article_daily_views (article_id);
