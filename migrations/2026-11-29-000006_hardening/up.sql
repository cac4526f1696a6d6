-- Sign-ins as rows of their own, so an access token dies with its sign-in
-- (logout, refresh-token reuse, a password reset, a disabled account).
CREATE TABLE staff_sessions (
    -- Also the family of the sign-in's refresh tokens.
    id         TEXT PRIMARY KEY,
    user_id    BIGINT NOT NULL REFERENCES staff_users (id) ON DELETE CASCADE,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    revoked_at TIMESTAMPTZ
);
CREATE INDEX staff_sessions_user ON staff_sessions (user_id);

INSERT INTO staff_sessions (id, user_id, created_at, revoked_at)
SELECT family, min(user_id), min(created_at), max(revoked_at)
FROM refresh_tokens
GROUP BY family;

-- Tokens issued before this moment are refused.
ALTER TABLE staff_users ADD COLUMN password_changed_at TIMESTAMPTZ NOT NULL DEFAULT now();

-- The login throttle counts attempts (not failures) atomically before the
-- password is checked, per account, per address and per pair, and answers
-- with a growing delay rather than a lock.
DROP TABLE login_failures;
CREATE TABLE login_throttle (
    key               TEXT PRIMARY KEY,
    attempts          INTEGER NOT NULL,
    window_started_at TIMESTAMPTZ NOT NULL,
    next_allowed_at   TIMESTAMPTZ NOT NULL
);
