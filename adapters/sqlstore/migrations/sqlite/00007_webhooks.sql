-- Webhook subscriptions and their deliveries.
--
-- Conventions as in 00001. A delivery belongs to its subscription through (tenant_id, subscription_id), so
-- it can never name another tenant's, and goes with it (ON DELETE CASCADE). (subscription_id, event_id) is
-- unique: an event is queued once per subscription, however often it is reported, and AddDeliveries skips
-- the repeats with ON CONFLICT DO NOTHING. event_types is the JSON list of the types subscribed to; a
-- tenant has few subscriptions, so ActiveSubscriptionsFor reads its active ones and matches the type in Go.
-- ClaimDueDeliveries leases in one UPDATE; the single writer (an immediate transaction) keeps racing claims
-- apart.

-- +goose Up
CREATE TABLE webhook_subscriptions (
    id                     TEXT    NOT NULL PRIMARY KEY,
    tenant_id              TEXT    NOT NULL CONSTRAINT webhook_subscriptions_tenant_fkey REFERENCES tenants (id),
    url                    TEXT    NOT NULL,
    description            TEXT    NOT NULL,
    event_types            TEXT    NOT NULL CHECK (json_valid(event_types)),
    sealed_secret          BLOB    NOT NULL,
    previous_sealed_secret BLOB,
    previous_secret_until  TEXT,
    status                 TEXT    NOT NULL CHECK (status IN ('active', 'paused')),
    paused_at              TEXT,
    pause_reason           TEXT    NOT NULL,
    pause_detail           TEXT    NOT NULL,
    created_by             TEXT    NOT NULL,
    version                INTEGER NOT NULL,
    created_at             TEXT    NOT NULL,
    updated_at             TEXT    NOT NULL,
    CONSTRAINT webhook_subscriptions_tenant_id_key UNIQUE (tenant_id, id)
) STRICT;
-- ListSubscriptions by creation; ActiveSubscriptionsFor reads the active ones.
CREATE INDEX webhook_subscriptions_created_idx ON webhook_subscriptions (tenant_id, created_at, id);
CREATE INDEX webhook_subscriptions_status_idx ON webhook_subscriptions (tenant_id, status);

CREATE TABLE webhook_deliveries (
    id               TEXT    NOT NULL PRIMARY KEY,
    tenant_id        TEXT    NOT NULL,
    subscription_id  TEXT    NOT NULL,
    event_id         TEXT    NOT NULL,
    event_type       TEXT    NOT NULL,
    body             BLOB    NOT NULL,
    status           TEXT    NOT NULL CHECK (status IN ('pending', 'succeeded', 'failed')),
    attempts         INTEGER NOT NULL CHECK (attempts >= 0),
    last_status_code INTEGER NOT NULL,
    last_error       TEXT    NOT NULL,
    last_attempt_at  TEXT,
    next_attempt_at  TEXT    NOT NULL,
    completed_at     TEXT,
    lease_id         TEXT    NOT NULL,
    lease_until      TEXT,
    created_at       TEXT    NOT NULL,
    CONSTRAINT webhook_deliveries_event_key UNIQUE (subscription_id, event_id),
    CONSTRAINT webhook_deliveries_subscription_fkey FOREIGN KEY (tenant_id, subscription_id)
        REFERENCES webhook_subscriptions (tenant_id, id) ON DELETE CASCADE
) STRICT;
-- ListDeliveries: a subscription's log, newest first, in keyset pages.
CREATE INDEX webhook_deliveries_log_idx ON webhook_deliveries (tenant_id, subscription_id, created_at, id);
-- ClaimDueDeliveries: only the pending deliveries are indexed, by when they are due.
CREATE INDEX webhook_deliveries_due_idx ON webhook_deliveries (next_attempt_at, id) WHERE status = 'pending';

-- +goose Down
DROP TABLE webhook_deliveries;
DROP TABLE webhook_subscriptions;
