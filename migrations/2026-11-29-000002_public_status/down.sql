DROP INDEX articles_public_published;
DROP INDEX articles_public_category;
DROP INDEX articles_public_updated;
DROP INDEX articles_public_featured;
ALTER TABLE articles DROP COLUMN public_status;
CREATE INDEX articles_public_published ON articles (published_at DESC, id DESC)
    WHERE status IN ('published', 'scheduled');
CREATE INDEX articles_public_category ON articles (category_id, published_at DESC, id DESC)
    WHERE status IN ('published', 'scheduled');
CREATE INDEX articles_public_updated ON articles (updated_at DESC, id DESC)
    WHERE status IN ('published', 'scheduled');
CREATE INDEX articles_public_featured ON articles (published_at DESC, id DESC)
    WHERE status IN ('published', 'scheduled') AND featured;
