ALTER TABLE media DROP COLUMN updated_at;
ALTER TABLE authors DROP COLUMN updated_at;
ALTER TABLE tags DROP COLUMN updated_at;
