DROP TABLE login_throttle;
CREATE TABLE login_failures (
    key              TEXT PRIMARY KEY,
    failures         INTEGER NOT NULL DEFAULT 0,
    window_started_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    locked_until     TIMESTAMPTZ
);
ALTER TABLE staff_users DROP COLUMN password_changed_at;
DROP TABLE staff_sessions;
