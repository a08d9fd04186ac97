-- Webhook subscriptions and their deliveries.
--
-- Conventions as in 00001. A delivery belongs to its subscription through (tenant_id, subscription_id), so
-- it can never name another tenant's, and goes with it (ON DELETE CASCADE). (subscription_id, event_id) is
-- unique: an event is queued once per subscription, however often it is reported, and AddDeliveries skips
-- the repeats with ON CONFLICT DO NOTHING. event_types is the JSON list of the types subscribed to; a
-- tenant has few subscriptions, so ActiveSubscriptionsFor reads its active ones and matches the type in Go.
-- A delivery's lease (lease_id, lease_until) is taken by ClaimDueDeliveries, which locks the rows it leases
-- FOR UPDATE SKIP LOCKED, so that racing claims lease disjoint deliveries without waiting for each other.

-- +goose Up
CREATE TABLE webhook_subscriptions (
    id                     text        COLLATE "C" NOT NULL PRIMARY KEY,
    tenant_id              text        NOT NULL CONSTRAINT webhook_subscriptions_tenant_fkey REFERENCES tenants (id),
    url                    text        NOT NULL,
    description            text        NOT NULL,
    event_types            jsonb       NOT NULL,
    sealed_secret          bytea       NOT NULL,
    previous_sealed_secret bytea,
    previous_secret_until  timestamptz,
    status                 text        NOT NULL CHECK (status IN ('active', 'paused')),
    paused_at              timestamptz,
    pause_reason           text        NOT NULL,
    pause_detail           text        NOT NULL,
    created_by             text        NOT NULL,
    version                bigint      NOT NULL,
    created_at             timestamptz NOT NULL,
    updated_at             timestamptz NOT NULL,
    CONSTRAINT webhook_subscriptions_tenant_id_key UNIQUE (tenant_id, id)
);
-- ListSubscriptions by creation; ActiveSubscriptionsFor reads the active ones.
CREATE INDEX webhook_subscriptions_created_idx ON webhook_subscriptions (tenant_id, created_at, id);
CREATE INDEX webhook_subscriptions_status_idx ON webhook_subscriptions (tenant_id, status);

CREATE TABLE webhook_deliveries (
    id               text        COLLATE "C" NOT NULL PRIMARY KEY,
    tenant_id        text        NOT NULL,
    subscription_id  text        COLLATE "C" NOT NULL,
    event_id         text        NOT NULL,
    event_type       text        NOT NULL,
    body             bytea       NOT NULL,
    status           text        NOT NULL CHECK (status IN ('pending', 'succeeded', 'failed')),
    attempts         integer     NOT NULL CHECK (attempts >= 0),
    last_status_code integer     NOT NULL,
    last_error       text        NOT NULL,
    last_attempt_at  timestamptz,
    next_attempt_at  timestamptz NOT NULL,
    completed_at     timestamptz,
    lease_id         text        NOT NULL,
    lease_until      timestamptz,
    created_at       timestamptz NOT NULL,
    CONSTRAINT webhook_deliveries_event_key UNIQUE (subscription_id, event_id),
    CONSTRAINT webhook_deliveries_subscription_fkey FOREIGN KEY (tenant_id, subscription_id)
        REFERENCES webhook_subscriptions (tenant_id, id) ON DELETE CASCADE
);
-- ListDeliveries: a subscription's log, newest first, in keyset pages.
CREATE INDEX webhook_deliveries_log_idx ON webhook_deliveries (tenant_id, subscription_id, created_at, id);
-- ClaimDueDeliveries: only the pending deliveries are indexed, by when they are due.
CREATE INDEX webhook_deliveries_due_idx ON webhook_deliveries (next_attempt_at, id) WHERE status = 'pending';

-- +goose Down
DROP TABLE webhook_deliveries;
DROP TABLE webhook_subscriptions;
