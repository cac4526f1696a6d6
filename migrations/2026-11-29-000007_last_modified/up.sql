-- When each record an article page shows last changed, so the page's
-- Last-Modified covers its tags, authors and media too (categories and
-- articles have this already).
ALTER TABLE tags ADD COLUMN updated_at timestamptz NOT NULL DEFAULT now();
ALTER TABLE authors ADD COLUMN updated_at timestamptz NOT NULL DEFAULT now();
ALTER TABLE media ADD COLUMN updated_at timestamptz NOT NULL DEFAULT now();
