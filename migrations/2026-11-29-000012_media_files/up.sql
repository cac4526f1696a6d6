-- Uploaded files: where the clean original is stored, what it holds, and
-- the point crops keep in frame. Records without a storage key point at an
-- external URL, as before.
ALTER TABLE media
    ADD COLUMN storage_key text,
    ADD COLUMN content_hash text,
    ADD COLUMN byte_size bigint,
    ADD COLUMN placeholder text,
    ADD COLUMN focal_x double precision NOT NULL DEFAULT 0.5,
    ADD COLUMN focal_y double precision NOT NULL DEFAULT 0.5,
    ADD CONSTRAINT media_focal_point_range
        CHECK (focal_x BETWEEN 0 AND 1 AND focal_y BETWEEN 0 AND 1),
    ADD CONSTRAINT media_stored_file_complete
        CHECK ((storage_key IS NULL) = (content_hash IS NULL));

-- Whether another record still uses a file before it is deleted, and which
-- records a rendition's key (which names the content hash) belongs to.
CREATE INDEX media_storage_key ON media (storage_key) WHERE storage_key IS NOT NULL;
CREATE INDEX media_content_hash ON media (content_hash) WHERE content_hash IS NOT NULL;
