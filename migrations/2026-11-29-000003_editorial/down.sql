DROP TABLE audit_log;
DROP TABLE article_revisions;
DROP TABLE article_slugs;
DROP INDEX articles_all_updated;
ALTER TABLE articles DROP COLUMN created_by;
DROP TABLE login_failures;
DROP TABLE refresh_tokens;
DROP TABLE staff_users;
