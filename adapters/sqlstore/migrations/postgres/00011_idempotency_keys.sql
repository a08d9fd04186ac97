-- Idempotency-Key records of the API's POST requests, shared by every instance. A key belongs to one
-- principal (an account's sessions, or one API token) of one tenant ('' for operators); no foreign key, as
-- a record lives a day at most. claim names the request that holds the key; status is 0 while it runs,
-- then the answer's status, with the headers a replay repeats and the body sealed by the domain (it holds
-- personal data). ClaimIdempotencyKey takes the key with one upsert guarded by expires_at, so of
-- concurrent requests exactly one runs; the periodic cleanup deletes expired records by expires_at.

-- +goose Up
CREATE TABLE idempotency_keys (
    tenant_id   text COLLATE "C" NOT NULL,
    principal   text COLLATE "C" NOT NULL,
    key         text COLLATE "C" NOT NULL,
    claim       text        NOT NULL,
    fingerprint text        NOT NULL,
    status      integer     NOT NULL CHECK (status = 0 OR status BETWEEN 100 AND 599),
    header      jsonb       NOT NULL,
    body        bytea,
    created_at  timestamptz NOT NULL,
    expires_at  timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, principal, key)
);
CREATE INDEX idempotency_keys_expires_idx ON idempotency_keys (expires_at);

-- +goose Down
DROP TABLE idempotency_keys;
