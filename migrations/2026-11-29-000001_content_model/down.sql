DROP TABLE article_related;
DROP TABLE article_authors;
DROP TABLE article_tags;
DROP TABLE articles;
DROP TABLE media;
DROP TABLE authors;
DROP TABLE tags;
DROP TABLE categories;
