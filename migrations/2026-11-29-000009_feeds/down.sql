DROP INDEX articles_sitemap_pages;
