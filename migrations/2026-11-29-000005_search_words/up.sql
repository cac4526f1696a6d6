-- The folded words of every title and summary, for typo correction: a
-- query word that is not among them is replaced by the closest one
-- (trigram-similar candidates over a few thousand words, not over the
-- articles, ranked by edit distance).

CREATE EXTENSION IF NOT EXISTS fuzzystrmatch WITH SCHEMA public;

CREATE TABLE search_words (
    word TEXT PRIMARY KEY
);
CREATE INDEX search_words_trgm ON search_words USING gin (word gin_trgm_ops);

CREATE FUNCTION newsroom_remember_words() RETURNS trigger
    LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO search_words (word)
    SELECT DISTINCT w
    FROM unnest(tsvector_to_array(
        to_tsvector('public.newsroom_fold'::regconfig, translate(NEW.title || ' ' || NEW.summary, 'đĐ', 'dD'))
    )) AS w
    WHERE length(w) BETWEEN 2 AND 40
    ON CONFLICT (word) DO NOTHING;
    RETURN NULL;
END
$$;

CREATE TRIGGER articles_remember_words
    AFTER INSERT OR UPDATE OF title, summary ON articles
    FOR EACH ROW EXECUTE FUNCTION newsroom_remember_words();

INSERT INTO search_words (word)
SELECT DISTINCT w
FROM articles, unnest(tsvector_to_array(
    to_tsvector('public.newsroom_fold'::regconfig, translate(title || ' ' || summary, 'đĐ', 'dD'))
)) AS w
WHERE length(w) BETWEEN 2 AND 40
ON CONFLICT (word) DO NOTHING;

-- Typos are now corrected word by word against search_words; the trigram
-- index over every title is no longer read.
DROP INDEX articles_title_trgm;
