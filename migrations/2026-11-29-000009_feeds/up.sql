-- The sitemap index lists one sitemap per 10,000 article ids (`id / 10000`)
-- with the time its newest change: one index seek per sitemap, whatever
-- the size of the archive. The divisor is `models::sitemap::PAGE_IDS`.
CREATE INDEX articles_sitemap_pages ON articles ((id / 10000), updated_at DESC) WHERE public_status;
