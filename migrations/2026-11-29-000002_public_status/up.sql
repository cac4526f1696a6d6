-- Whether an article's status is one the public may see (published, or
-- scheduled and due). A stored column lets queries say `WHERE public_status`
-- without literals, so their prepared statements are cached and still match
-- the partial indexes below.
ALTER TABLE articles
    ADD COLUMN public_status BOOLEAN NOT NULL
    GENERATED ALWAYS AS (status IN ('published', 'scheduled')) STORED;

DROP INDEX articles_public_published;
DROP INDEX articles_public_category;
DROP INDEX articles_public_updated;
DROP INDEX articles_public_featured;
CREATE INDEX articles_public_published ON articles (published_at DESC, id DESC) WHERE public_status;
CREATE INDEX articles_public_category ON articles (category_id, published_at DESC, id DESC) WHERE public_status;
CREATE INDEX articles_public_updated ON articles (updated_at DESC, id DESC) WHERE public_status;
CREATE INDEX articles_public_featured ON articles (published_at DESC, id DESC) WHERE public_status AND featured;
