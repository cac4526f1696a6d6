-- Partner API keys. The secret (`nr_live_<prefix>_<random>`, 256 random
-- bits) is shown once; only its SHA-256 is kept, found through the short
-- public prefix. A high-entropy secret needs no slow hash (argon2 is for
-- passwords people choose).
CREATE TABLE api_keys (
    id          BIGSERIAL PRIMARY KEY,
    name        TEXT NOT NULL CHECK (char_length(name) BETWEEN 1 AND 200),
    contact     TEXT NOT NULL DEFAULT '' CHECK (char_length(contact) <= 320),
    -- `read` (every key), `full_text` (full bodies in feeds and lists).
    scopes      TEXT[] NOT NULL DEFAULT '{read}'
                CHECK (scopes <@ ARRAY['read', 'full_text'] AND 'read' = ANY (scopes)),
    -- GCRA: a steady rate per minute and a burst on top of it.
    per_minute  INTEGER NOT NULL CHECK (per_minute BETWEEN 1 AND 1000000),
    burst       INTEGER NOT NULL CHECK (burst BETWEEN 1 AND 100000),
    prefix      TEXT NOT NULL UNIQUE,
    secret_hash BYTEA NOT NULL CHECK (octet_length(secret_hash) = 32),
    expires_at  TIMESTAMPTZ,
    revoked_at  TIMESTAMPTZ,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    created_by  BIGINT REFERENCES staff_users (id) ON DELETE SET NULL,
    updated_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    rotated_at  TIMESTAMPTZ
);

-- Requests per key per day (the site's calendar), written in batches like
-- article views; `limited` counts the ones refused with 429.
CREATE TABLE api_key_daily_usage (
    key_id   BIGINT NOT NULL REFERENCES api_keys (id) ON DELETE CASCADE,
    day      DATE NOT NULL,
    requests BIGINT NOT NULL DEFAULT 0,
    limited  BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (key_id, day)
);
