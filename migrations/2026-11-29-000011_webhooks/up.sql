-- Webhooks: endpoints partners register, and the outbox of deliveries,
-- written in the same transaction as the change that causes them.
CREATE TABLE webhook_endpoints (
    id bigserial PRIMARY KEY,
    url text NOT NULL,
    description text NOT NULL DEFAULT '',
    -- Event types wanted (`article.published`, …) or `*` for all.
    events text[] NOT NULL,
    -- `whsec_<base64>`: the HMAC key is the decoded part.
    secret text NOT NULL,
    active boolean NOT NULL DEFAULT true,
    -- Why the endpoint was disabled automatically (NULL when it was not).
    disabled_reason text,
    -- Deliveries that failed in a row (reset by a success).
    failure_count integer NOT NULL DEFAULT 0,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE webhook_deliveries (
    id bigserial PRIMARY KEY,
    endpoint_id bigint NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
    -- The Standard Webhooks `webhook-id` (`msg_…`): one per event, the same
    -- for every endpoint and every attempt (and for replays).
    event_id text NOT NULL,
    event_type text NOT NULL,
    payload jsonb NOT NULL,
    status text NOT NULL DEFAULT 'pending'
        CHECK (status IN ('pending', 'delivered', 'failed')),
    attempts integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    last_status_code integer,
    last_latency_ms integer,
    -- The first 500 bytes of the last answer, or why there was none.
    last_response_excerpt text,
    created_at timestamptz NOT NULL DEFAULT now(),
    delivered_at timestamptz
);
-- The worker's queue: pending deliveries by due time.
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at)
    WHERE status = 'pending';
-- The delivery log of an endpoint, newest first.
CREATE INDEX webhook_deliveries_endpoint ON webhook_deliveries (endpoint_id, id);
-- Replays by time.
CREATE INDEX webhook_deliveries_endpoint_created ON webhook_deliveries (endpoint_id, created_at);

-- How far scheduled articles coming due have been turned into
-- `article.published` events: advanced in the transaction that writes
-- them, by one instance only.
CREATE TABLE webhook_schedule_cursor (
    id integer PRIMARY KEY CHECK (id = 1),
    due_until timestamptz NOT NULL
);
INSERT INTO webhook_schedule_cursor (id, due_until) VALUES (1, now());
