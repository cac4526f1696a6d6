DROP TABLE gone_articles;
DROP TABLE article_changes;
