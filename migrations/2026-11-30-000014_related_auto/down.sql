DROP TRIGGER related_auto_forget_deleted_tags ON article_tags;
DROP TRIGGER related_auto_forget_inserted_tags ON article_tags;
DROP FUNCTION related_auto_forget_new_tags();
DROP TRIGGER related_auto_forget_article ON articles;
DROP FUNCTION related_auto_forget_article();
DROP TABLE related_auto;
