-- Related articles (`strategy=auto`), as scored last: the ids in order,
-- more than a page needs so that pinned ones and takedowns can be left out
-- when it is read. A list is used until it is NEWSROOM_RELATED_MAX_AGE old,
-- then scored again; what makes a list wrong at once deletes it:
-- a change of the article's title, summary, category or publication time,
-- or of its tags. Articles taken down are left out when a list is read.
CREATE TABLE related_auto (
    article_id bigint PRIMARY KEY REFERENCES articles (id) ON DELETE CASCADE,
    ids bigint[] NOT NULL,
    computed_at timestamptz NOT NULL DEFAULT now()
);

CREATE FUNCTION related_auto_forget_article() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM related_auto WHERE article_id = NEW.id;
    RETURN NULL;
END $$;

CREATE TRIGGER related_auto_forget_article
    AFTER UPDATE OF title, summary, category_id, published_at, public_status ON articles
    FOR EACH ROW
    WHEN (OLD.title IS DISTINCT FROM NEW.title
          OR OLD.summary IS DISTINCT FROM NEW.summary
          OR OLD.category_id IS DISTINCT FROM NEW.category_id
          OR OLD.published_at IS DISTINCT FROM NEW.published_at
          OR OLD.public_status IS DISTINCT FROM NEW.public_status)
    EXECUTE FUNCTION related_auto_forget_article();

-- Tags: one statement-level trigger per kind of change (a bulk load of
-- tags costs one join against this table per statement, not per row).
CREATE FUNCTION related_auto_forget_new_tags() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM related_auto r USING changed c WHERE r.article_id = c.article_id;
    RETURN NULL;
END $$;

CREATE TRIGGER related_auto_forget_inserted_tags
    AFTER INSERT ON article_tags REFERENCING NEW TABLE AS changed
    FOR EACH STATEMENT EXECUTE FUNCTION related_auto_forget_new_tags();

CREATE TRIGGER related_auto_forget_deleted_tags
    AFTER DELETE ON article_tags REFERENCING OLD TABLE AS changed
    FOR EACH STATEMENT EXECUTE FUNCTION related_auto_forget_new_tags();
