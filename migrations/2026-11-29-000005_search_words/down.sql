CREATE INDEX articles_title_trgm ON articles USING gin (newsroom_fold(title) gin_trgm_ops) WHERE public_status;
DROP TRIGGER articles_remember_words ON articles;
DROP FUNCTION newsroom_remember_words();
DROP TABLE search_words;
DROP EXTENSION IF EXISTS fuzzystrmatch;
