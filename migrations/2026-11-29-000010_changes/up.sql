-- The change feed: one row for every write that changed how the public
-- sees an article (it became visible, changed, or stopped being visible),
-- with the transaction that wrote it. Readers page by (txid, seq) and only
-- up to the oldest transaction still running, so a change that commits
-- after a later one is never skipped.
CREATE TABLE article_changes (
    seq bigserial PRIMARY KEY,
    txid bigint NOT NULL DEFAULT (pg_current_xact_id()::text::bigint),
    article_id bigint NOT NULL,
    -- Where the article was before and after the change: its categories
    -- with their ancestors, its tags and its authors (filters match either).
    categories bigint[] NOT NULL DEFAULT '{}',
    tags bigint[] NOT NULL DEFAULT '{}',
    authors bigint[] NOT NULL DEFAULT '{}',
    changed_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX article_changes_position ON article_changes (txid, seq);
CREATE INDEX article_changes_changed_at ON article_changes (changed_at);

-- Articles that were public and are not any more: answered 410 Gone.
CREATE TABLE gone_articles (
    article_id bigint PRIMARY KEY,
    slug text NOT NULL,
    gone_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX gone_articles_slug ON gone_articles (slug);
CREATE INDEX gone_articles_gone_at ON gone_articles (gone_at);
